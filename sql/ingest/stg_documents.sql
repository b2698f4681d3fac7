-- name: stg_documents
-- grain: one row per JSON document of a batch of single-document files
-- The one parallel scan of a batch's delivery files, bare arrays, LookupEvents pages and
-- EventBridge envelopes (a file is one document; `stg_raw_records` splits it into records).
-- DuckDB-only (runs at ingest, not in the portable analysis layer).
-- params: $files (local paths as globs that match only themselves), $max_object_size (bytes: the largest document)
select
    filename,
    json as doc,
    0 as doc_index
from read_json_objects(
    $files,
    format = 'unstructured',
    filename = true,
    -- a folder named like json=1 or filename=x is part of the path, not a column
    hive_partitioning = false,
    maximum_object_size = $max_object_size
)
