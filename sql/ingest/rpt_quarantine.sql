-- name: rpt_quarantine
-- grain: one row per quarantined file or record
-- What ingest could not store, newest run first, with the file, the position and the reason.
-- The raw text is cut to 200 characters for display; the full text stays in the Parquet file.
-- A file quarantined whole (no line or position: a truncated gzip, a file half uploaded) that a
-- later run read again (`manifest_runs`, catalog.load_runs: a new version) is left out, as a
-- run over the files as they are now would not list it; its row stays in the lake. A
-- record's row stays: a file read again does not quarantine a record it already holds.
select
    q.ingest_run,
    q.source_uri,
    q.source_line,
    q.source_position,
    q.reason,
    left(q.raw, 200) as raw_preview
from quarantine as q
where not (
    q.source_line is null
    and q.source_position is null
    and exists (
        select 1
        from manifest_runs as m
        where m.uri = q.source_uri
          and m.run > q.ingest_run
          and m.status = 'ingested'
    )
)
order by q.ingest_run desc, q.source_uri, q.source_line nulls first, q.source_position nulls first
