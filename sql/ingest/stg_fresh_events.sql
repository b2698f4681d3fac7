-- name: stg_fresh_events
-- grain: one row per stored-to-be record of the batch: the `staged` row (staged_row) of each
-- (event_id, record_hash) that the lake does not hold yet, first copy in source order
-- The same event delivered twice (redelivery, org trail plus account trail, a file ingested
-- twice) has the same eventID and the same content: keep the first copy in source order.
-- Records that share an eventID but differ in content are both kept (counted as conflicts);
-- cross-account copies have different eventIDs and are both kept. Works on narrow key
-- columns only, so the wide rows are read once, by the Parquet writer.
with candidates as (
    select
        event_id,
        record_hash,
        source_uri,
        source_line,
        source_position,
        -- the row itself: JSON documents written one after the other (not one a line) have no
        -- line, so two of their records can share file, line and position
        staged_row,
        row_number() over (
            partition by event_id, record_hash
            order by source_uri, source_line nulls first, source_position, staged_row
        ) as copy_rank
    from staged
    where reject_reason is null
)

select
    c.source_uri,
    c.source_line,
    c.source_position,
    c.staged_row,
    c.event_id,
    c.record_hash
from candidates as c
where
    c.copy_rank = 1
    and not exists (
        select 1 from lake_keys as k
        where k.event_id = c.event_id and k.record_hash = c.record_hash
    )
