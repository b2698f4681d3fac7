-- name: stg_conflicts
-- grain: one row (a count) per batch
-- New records whose eventID is already used by a record with other content, in the lake or
-- earlier in the same batch (source order). Both are stored; the count tells the operator to
-- look. Counting only the later copy makes the total the same however files are batched:
-- per eventID, the number of distinct contents minus one.
select count(*) as conflicts
from fresh as f
where
    exists (
        select 1 from lake_keys as k
        where k.event_id = f.event_id and k.record_hash <> f.record_hash
    )
    or exists (
        select 1 from fresh as g
        where
            g.event_id = f.event_id
            and g.record_hash <> f.record_hash
            and (g.source_uri, coalesce(g.source_line, -1), g.source_position, g.staged_row)
                < (f.source_uri, coalesce(f.source_line, -1), f.source_position, f.staged_row)
    )
