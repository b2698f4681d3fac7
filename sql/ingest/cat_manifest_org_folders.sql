-- name: cat_manifest_org_folders
-- grain: one row per (org_id, account_id) folder of an organization trail that a manifest entry sits in
-- The organization-trail folders of the objects already ingested (table `manifest_uris`: the
-- manifest entries' uris under an organization folder), once, for a lake whose ingests did not
-- keep them in LAKE/_state/org_folders.json (catalog.record_org_folders): a `--since` run
-- lists only recent day folders, and would otherwise leave the older members out. The same folders as
-- cat_org_folders (the innermost `AWSLogs/o-ORGID/ACCOUNT/`).
-- DuckDB-only (runs at ingest).
select distinct
    regexp_extract(uri, '.*AWSLogs/(o-[a-z0-9]+)/([0-9]{12})/', 1) as org_id,
    regexp_extract(uri, '.*AWSLogs/(o-[a-z0-9]+)/([0-9]{12})/', 2) as account_id
from manifest_uris
where regexp_matches(uri, 'AWSLogs/o-[a-z0-9]+/[0-9]{12}/')
order by org_id, account_id
