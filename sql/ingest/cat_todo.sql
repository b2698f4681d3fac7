-- name: cat_todo
-- grain: one row per new events object of the run's catalog, numbered in uri order (n from 1)
-- What the run reads. Neighbours in uri order share folders, so batches planned in this
-- order share partitions. Materialized as table source_todo and read a page at a time
-- (cat_todo_page): a query left open while the batches run would hold its transaction, and
-- DuckDB could free none of the tables the batches replace (ingest memory grew by 400 MB
-- over the 5M benchmark's 133 batches).
select
    row_number() over (order by uri) as n,
    uri,
    size,
    version,
    kind,
    account_hint,
    org_id_hint,
    compressed
from source_catalog
where not unchanged and kind = 'events'
