-- name: cat_objects
-- grain: one row per source object (uri) an ingest run's sources listed
-- The run's catalog: each uri once (the first source that listed it wins, as `discover`
-- does: a file named directly is read whatever its suffix) and whether the manifest already
-- holds this version of it (same uri, size and ETag/mtime), so a rerun reads nothing again.
-- reads: discovered (every listed object, with its listing order `seq`; a uri under two
-- sources comes twice) and committed (the (uri, size, version, kind) of every manifest entry).
-- DuckDB-only (runs at ingest). Spills to the temp directory: an archive's millions of files
-- cost disk, not memory.
with firsts as (
    -- a hash aggregate, not a sort of the whole listing (half the time at 400,000 files)
    select
        uri,
        min(seq) as seq
    from discovered
    group by uri
),

listed as (
    select
        d.uri,
        d.size,
        d.version,
        d.kind,
        d.account_hint,
        d.org_id_hint,
        d.compressed
    from discovered as d
    inner join firsts as f on f.uri = d.uri and f.seq = d.seq
)

select
    l.uri,
    l.size,
    l.version,
    l.kind,
    l.account_hint,
    l.org_id_hint,
    l.compressed,
    exists (
        select 1
        from committed as c
        where c.uri = l.uri and c.size = l.size and c.version = l.version
          -- a file a walk skipped for its name (kind other) is read once named as a source
          and (c.kind <> 'other' or l.kind = 'other')
    ) as unchanged
from listed as l
