-- name: int_org_accounts
-- grain: one row per account known to be in the organization (account_id)
-- Organization membership, from two sources: the configuration (`cfg_org_accounts`, bound by
-- the runner from `[organization] accounts`) and the lake itself, where an organization trail
-- delivers each member's records under `AWSLogs/o-ORGID/ACCOUNT/` (cloudtrail-semantics.md §1.1):
-- any organization's folder, or only the configured organization's (`cfg_org`, bound from
-- `[organization] id`) when the lake also holds another organization's trail. The folders are
-- those of the objects ingest listed (`cfg_org_folders`, bound from the lake's
-- _state/org_folders.json), and those of the stored records: a member whose records both its
-- own trail and the organization's delivered keeps one copy of each, often the account trail's.
with from_config as (
    select account_id, 'config' as source
    from cfg_org_accounts
),

from_layout as (
    select distinct recipient_account_id as account_id, 'org_trail' as source
    from int_events
    where org_trail
      and recipient_account_id is not null
      and (
          not exists (select 1 from cfg_org)
          or org_trail_id in (select org_id from cfg_org)
      )
),

from_folders as (
    select distinct account_id, 'org_trail' as source
    from cfg_org_folders
    where account_id is not null
      and (
          not exists (select 1 from cfg_org)
          or org_id in (select org_id from cfg_org)
      )
),

both_sources as (
    select account_id, source from from_config
    union all
    select account_id, source from from_layout
    union all
    select account_id, source from from_folders
)

select
    account_id,
    max(case when source = 'config' then 1 else 0 end) = 1 as in_config,
    max(case when source = 'org_trail' then 1 else 0 end) = 1 as in_org_trail
from both_sources
group by account_id
order by account_id
