-- name: cat_manifest_part
-- grain: one row per entry of the JSON manifest files a Parquet part of the manifest folds
-- The entries of many committed batches in one file, ordered by the delivery day of the trail
-- day folder that holds the object (`.../CloudTrail/REGION/YYYY/MM/DD/`, the folder --since
-- reads; NULL for an object outside one or a folder that is not a date), so a run with --since
-- reads only the entries of the days it lists (Parquet statistics of `day`). Columns as in
-- pipeline.manifest.ManifestEntry, plus `day`.
-- reads: the delivery_day macro (cat_delivery_day). DuckDB-only (runs at ingest).
-- params: $files (the JSON manifest files), $columns (their columns and types)
select
    uri,
    size,
    version,
    kind,
    run,
    records,
    rejected,
    status,
    delivery_day(uri) as day
from read_json($files, format = 'array', columns = $columns)
order by day, uri
