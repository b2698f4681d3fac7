-- name: stg_scanned_texts
-- grain: one row per record of the batch the compiled splitter left to be read as text (table scanned_records, route)
-- In the shape of stg_raw_records, for stg_records_parsed: records with a key repeated on a
-- field's path, more session tokens than the splitter hashes, or a text DuckDB rewrites (shape
-- `scanned`: blanks, escapes, numbers other than short integers; pipeline/scan.py).
-- DuckDB-only (runs at ingest, not in the portable analysis layer).
select
    filename,
    cast(null as bigint) as doc_index,
    cast(shape as varchar) as shape,
    raw as raw_text,
    cast(null as varchar) as read_problem,
    cast(null as bigint) as line,
    position
from scanned_records
where route
