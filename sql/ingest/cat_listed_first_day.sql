-- name: cat_listed_first_day
-- grain: one row: the first delivery day whose folded manifest entries a run with --since reads
-- $since, or the earlier day folder of an object the run listed although it is older (a file
-- or an S3 key named as a source, a symlink whose target lies in an old day folder): its
-- folded entry must be read, or the object is read and quarantined again on every run.
-- reads: discovered (the run's listing), the delivery_day macro (cat_delivery_day).
-- DuckDB-only (runs at ingest).
-- params: $since
with listed as (
    select
        min(delivery_day(uri)) as first_day
    from discovered
)

select
    least(cast($since as date), coalesce(first_day, cast($since as date))) as first_day
from listed
