-- name: stg_conflicts
-- grain: one row (a count) per batch
-- New records whose eventID is already used by a record with other content, in the lake or
-- earlier in the same batch (source order). Both are stored; the count tells the operator to
-- look. Counting only the later copy makes the total the same however files are batched:
-- per eventID, the number of distinct contents minus one.
-- Counted per eventID rather than per record: `fresh` holds one row per (eventID, content)
-- and none whose content the lake holds, so of an eventID's n fresh rows the n - 1 after the
-- first in source order conflict with an earlier one, and the first does when the lake holds
-- the eventID at all (with other content, then). A self-join per record cost as much as the
-- dedupe itself.
with ids as (
    select
        event_id,
        count(*) as contents
    from fresh
    where event_id is not null
    group by event_id
)

select
    coalesce(sum(i.contents - 1), 0)
    + (select count(*) from ids as d where d.event_id in (select event_id from lake_keys))
        as conflicts
from ids as i
