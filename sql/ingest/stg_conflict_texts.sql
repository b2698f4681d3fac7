-- name: stg_conflict_texts
-- grain: one row per record of an eventID the batch holds new content for while the lake or the batch holds other content of it (a conflict): the batch's new records (`fresh`) and the lake's
-- The texts pipeline/batch.py compares with their keys in order: the same event written again
-- by another tool (re-serialized through a map, `jq -S`: its keys sorted) hashes as other
-- content, and would be stored twice, counted as a conflict. Read only when the batch has
-- conflicts (stg_conflicts), and from the lake only the records of those eventIDs, in the
-- partitions the batch touches (as stg_lake_keys). Batch records in source order, as
-- stg_fresh_events ranks copies.
-- reads: fresh (stg_fresh_events), staged, lake_keys (stg_lake_keys), events
-- params: $min_date, $max_date, $accounts
with ids as (
    select event_id
    from fresh
    group by event_id
    having count(*) > 1 or event_id in (select k.event_id from lake_keys as k)
)

select
    f.event_id,
    f.staged_row,
    s.raw,
    f.source_uri,
    f.source_line,
    f.source_position
from fresh as f
inner join staged as s on s.staged_row = f.staged_row
where f.event_id in (select event_id from ids)

union all

select
    e.event_id,
    cast(null as bigint) as staged_row,
    e.raw,
    cast(null as varchar) as source_uri,
    cast(null as integer) as source_line,
    cast(null as integer) as source_position
from events as e
where
    e.event_date between $min_date and $max_date
    and ($accounts is null or list_contains($accounts, e.recipient_account_id))
    and e.event_id in (select event_id from ids)

-- the lake's first, then the batch's in source order
order by event_id, staged_row is not null, source_uri, source_line nulls first, source_position,
    staged_row
