-- name: stg_file_counts
-- grain: one row per source file of the batch that yielded records
-- Records read and rejected per file, for the manifest.
select
    source_uri,
    count(*) filter (where reject_reason is null or reject_reason not like 'skip:%') as records,
    count(*) filter (where reject_reason not like 'skip:%') as rejected
from staged
group by source_uri
