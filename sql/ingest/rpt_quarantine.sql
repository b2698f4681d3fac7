-- name: rpt_quarantine
-- grain: one row per quarantined file or record
-- What ingest could not store, newest run first, with the file, the position and the reason.
-- The raw text is cut to 200 characters for display; the full text stays in the Parquet file.
select
    ingest_run,
    source_uri,
    source_line,
    source_position,
    reason,
    left(raw, 200) as raw_preview
from quarantine
order by ingest_run desc, source_uri, source_line nulls first, source_position nulls first
