-- name: stg_quarantine
-- grain: one row per rejected record of the batch, plus one per file that could not be read
-- What could not be stored, with the file, the position (NULL for a whole file) and the reason.
-- reads: staged, requarantined (stg_requarantined), bad_files, batch_files
-- params: $run
select
    source_uri,
    source_position,
    source_line,
    reject_reason as reason,
    raw,
    ingest_run
from staged
where reject_reason is not null and reject_reason not like 'skip:%'
  -- not again what an earlier run quarantined (stg_requarantined)
  and staged_row not in (select row_id from requarantined)

union all

select
    f.source_uri,
    cast(null as integer) as source_position,
    cast(null as integer) as source_line,
    b.reason,
    cast(null as varchar) as raw,
    $run as ingest_run
from bad_files as b
inner join batch_files as f on b.local_path = f.local_path
