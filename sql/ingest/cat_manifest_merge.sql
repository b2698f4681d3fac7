-- name: cat_manifest_merge
-- grain: one row per distinct manifest entry of the Parquet parts merged into one
-- The entries of several parts of the manifest (cat_manifest_part) in one part, in the same
-- order (delivery day, then uri), so a run with --since still skips the days it does not list.
-- A merge or fold killed after publishing its part and before removing what it folded leaves
-- entries twice: `distinct` keeps one. DuckDB-only (runs at ingest).
-- params: $parts (the part files)
select distinct
    uri,
    size,
    version,
    kind,
    run,
    records,
    rejected,
    status,
    day
from read_parquet($parts)
order by day, uri
