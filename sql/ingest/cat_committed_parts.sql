-- name: cat_committed_parts
-- grain: one row per manifest entry of the Parquet parts that a run's listing can hold
-- The (uri, size, version, kind) of the folded manifest entries (cat_manifest_part) whose object the
-- run can have listed: with --since, no entry of a day folder delivered before it (the listing
-- leaves those folders out, and Parquet statistics of `day` let the scan skip them); entries
-- outside a day folder always. Two simple filters rather than one OR, so each reaches the scan.
-- DuckDB-only (runs at ingest).
-- params: $parts (the part files), $since (the first day listed: --since, or the day of an
-- older object listed anyway, cat_listed_first_day)
select
    uri,
    size,
    version,
    kind
from read_parquet($parts)
where day >= $since
union all
select
    uri,
    size,
    version,
    kind
from read_parquet($parts)
where day is null
