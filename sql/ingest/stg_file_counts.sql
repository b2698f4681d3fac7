-- name: stg_file_counts
-- grain: one row per source file of the batch that yielded records
-- Records read and rejected per file, for the manifest; `digest` marks a file whose body is a
-- CloudTrail digest although its name is not a digest's (it holds no records).
select
    source_uri,
    count(*) filter (where reject_reason is null or reject_reason not like 'skip:%') as records,
    count(*) filter (where reject_reason not like 'skip:%') as rejected,
    bool_and(reject_reason = 'skip:digest') as digest
from staged
group by source_uri
