-- name: cat_skipped
-- grain: one manifest entry per new object the run skips (digest, Insight and other files)
-- Recorded in the manifest like ingested files, so a rerun does not count them again.
-- Columns and order are those of pipeline.manifest.ManifestEntry.
-- params: $run (the run id)
select
    uri,
    size,
    version,
    kind,
    $run as run,
    0 as records,
    0 as rejected,
    'skipped' as status
from source_catalog
where not unchanged and kind <> 'events'
order by uri
