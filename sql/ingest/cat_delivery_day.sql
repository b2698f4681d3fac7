-- name: cat_delivery_day
-- grain: macros, not a table: delivery_day(uri) is the date of the trail day folder that
-- holds the object (`.../CloudTrail[-Digest|-Insight]/REGION/YYYY/MM/DD/NAME`, the folder
-- --since lists or leaves out: pipeline.layout.delivered_before), NULL for an object outside
-- one, a folder that is not a date, or a year before 1 (DuckDB reads 0000 as 1 BC).
-- Used by the manifest's Parquet parts (cat_manifest_part) and by a --since run to find the
-- first day of its listing (cat_listed_first_day), so the two agree by construction.
-- DuckDB-only (runs at ingest).
create or replace temp macro delivery_folder_date(uri) as try_cast(
    replace(
        regexp_extract(
            uri,
            '/CloudTrail(?:-Digest|-Insight)?/[a-z]{2}(?:-[a-z]+)+-\d/(\d{4}/\d{2}/\d{2})/[^/]+$',
            1
        ),
        '/',
        '-'
    ) as date
);

create or replace temp macro delivery_day(uri) as (
    case
        when delivery_folder_date(uri) >= date '0001-01-01' then delivery_folder_date(uri)
    end
);
