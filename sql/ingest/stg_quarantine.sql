-- name: stg_quarantine
-- grain: one row per rejected record of the batch
-- Records that could not be stored, with the file, the position and the reason.
select
    source_uri,
    source_position,
    reject_reason as reason,
    raw,
    ingest_run
from staged
where reject_reason is not null and reject_reason not like 'skip:%'
