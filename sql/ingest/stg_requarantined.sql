-- name: stg_requarantined
-- grain: one row per rejected record of the batch that the lake's quarantine already holds
-- A file read again (touched, appended to, renamed back) yields its rejected records again:
-- the same file, place, reason and text as a quarantined row of an earlier run. They count as
-- duplicates, as a stored record read again does, and are not quarantined a second time.
-- DuckDB-only (runs at ingest).
-- reads: staged (the batch), quarantine (the lake's, pipeline.lake.attach_quarantine),
-- batch_files
select distinct s.staged_row as row_id
from staged as s
inner join quarantine as q
    on q.source_uri = s.source_uri
    and q.source_line is not distinct from s.source_line
    and q.source_position is not distinct from s.source_position
    and q.reason = s.reject_reason
    and q.raw is not distinct from s.raw
where s.reject_reason is not null
  and s.reject_reason not like 'skip:%'
  and q.source_uri in (select source_uri from batch_files)
