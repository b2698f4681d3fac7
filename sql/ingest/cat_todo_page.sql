-- name: cat_todo_page
-- grain: one row per new events object numbered $after + 1 .. $after + $size (table
-- source_todo, see cat_todo), in uri order. Columns are those of pipeline.layout.SourceObject.
-- params: $after, $size
select
    uri,
    size,
    version,
    kind,
    account_hint,
    org_id_hint,
    compressed
from source_todo
where n > $after and n <= $after + $size
order by n
