-- name: cat_org_folders
-- grain: one row per (org_id, account_id) folder of an organization trail that an ingested object sat in
-- The members an organization trail vouches for (cloudtrail-semantics.md §1.1), from the
-- manifest's objects (table `committed`, catalog.load_committed): every object listed under
-- `AWSLogs/o-ORGID/ACCOUNT/`, whatever became of its records. The stored records alone do not
-- say it: a member delivered by the organization trail and by its own account trail keeps one
-- copy of each record, the account trail's when that one was read first (in the same run, or
-- a night earlier), so the records would put the member outside the organization.
-- DuckDB-only (runs before the analysis; its rows are the analysis's cfg_org_folders).
select distinct
    regexp_extract(uri, 'AWSLogs/(o-[a-z0-9]+)/([0-9]{12})/', 1) as org_id,
    regexp_extract(uri, 'AWSLogs/(o-[a-z0-9]+)/([0-9]{12})/', 2) as account_id
from committed
where regexp_matches(uri, 'AWSLogs/o-[a-z0-9]+/[0-9]{12}/')
order by org_id, account_id
