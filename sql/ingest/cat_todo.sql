-- name: cat_todo
-- grain: one row per new events object of the run's catalog, in uri order
-- What the run reads. Neighbours in uri order share folders, so batches planned in this
-- order share partitions. Columns are those of pipeline.layout.SourceObject.
select
    uri,
    size,
    version,
    kind,
    account_hint,
    org_id_hint,
    compressed
from source_catalog
where not unchanged and kind = 'events'
order by uri
