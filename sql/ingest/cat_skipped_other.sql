-- name: cat_skipped_other
-- grain: one row per new object of kind `other` the run skips (not a name the ingest reads:
-- `.json.zst`, `.txt`, ...), the first $limit in uri order
-- The summary names them, so a user whose exports are compressed otherwise sees which files
-- were not read rather than only how many.
-- params: $limit
select uri
from source_catalog
where not unchanged and kind = 'other'
order by uri
limit $limit
