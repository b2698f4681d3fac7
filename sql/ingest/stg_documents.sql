-- name: stg_documents
-- grain: one row per JSON value read from a batch's files (a whole document for single-document
-- files, a line's value for NDJSON)
-- The scan of a batch's files: one parallel read of its delivery files, bare arrays, LookupEvents
-- pages and EventBridge envelopes (a file is one document; `stg_raw_records` splits it into
-- records; `doc_index` is NULL: a file that is one document has no line), and the read of its
-- NDJSON files, whose values `stg_document_lines` numbers by line from `ordinality`.
-- DuckDB-only (runs at ingest, not in the portable analysis layer).
-- params: $files (local paths as globs that match only themselves), $max_object_size (bytes: the
-- largest document, or the longest line)
select
    filename,
    json as doc,
    cast(null as bigint) as doc_index,
    ordinality
from read_json_objects(
    $files,
    format = 'unstructured',
    filename = true,
    -- a folder named like json=1 or filename=x is part of the path, not a column
    hive_partitioning = false,
    maximum_object_size = $max_object_size
) with ordinality
