-- name: cat_org_folders
-- grain: one row per (org_id, account_id) folder of an organization trail that a listed object sits in
-- The members an organization trail vouches for (cloudtrail-semantics.md §1.1), from the run's
-- listing (table source_catalog, `cat_objects`): every object under `AWSLogs/o-ORGID/ACCOUNT/`,
-- whatever becomes of its records (catalog.record_org_folders keeps them in
-- LAKE/_state/org_folders.json for the analysis). The stored records alone do not say it: a member delivered by the organization
-- trail and by its own account trail keeps one copy of each record, the account trail's when
-- that one was read first (in the same run, or a night earlier). Not the landing-zone prefix
-- form `o-ORGID/AWSLogs/ACCOUNT/`, which the stored records' folders do not count either.
-- DuckDB-only (runs at ingest).
select distinct
    org_id_hint as org_id,
    account_hint as account_id
from source_catalog
where org_id_hint is not null
  and account_hint is not null
  and contains(uri, 'AWSLogs/' || org_id_hint || '/' || account_hint || '/')
order by org_id, account_id
