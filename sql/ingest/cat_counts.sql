-- name: cat_counts
-- grain: one row: what an ingest run's catalog (table source_catalog, see cat_objects) holds
-- Files seen, unchanged since a previous run, to read, and set aside by kind; the run's
-- summary reports them.
select
    count(*) as seen,
    count(*) filter (where unchanged) as unchanged,
    count(*) filter (where not unchanged and kind = 'events') as todo,
    count(*) filter (where not unchanged and kind = 'digest') as digest,
    count(*) filter (where not unchanged and kind = 'insight') as insight,
    count(*) filter (where not unchanged and kind = 'other') as other
from source_catalog
