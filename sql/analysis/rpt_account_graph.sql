-- name: rpt_account_graph
-- grain: one row per account hop (from_account, to_account)
-- Account -> account edges: a session issued in `to_account` to a caller from `from_account`
-- (the caller's identity account, or the AWSAccount copy's accountId, §4.2), with how often,
-- when first and last, the roles involved and whether each side is known to be in the
-- organization (configuration or organization-trail layout, int_org_accounts).
with hops as (
    select
        s.caller_account as from_account,
        s.target_account as to_account,
        s.session_id,
        s.issue_time,
        -- the role entered; for AssumeRoot the member account's root
        coalesce(s.role_arn, s.principal_arn) as role_arn
    from int_sessions as s
    where s.caller_account is not null
      and s.target_account is not null
      and s.caller_account <> s.target_account
),

org_known as (
    select count(*) as org_accounts
    from int_org_accounts
),

edges as (
    select
        from_account,
        to_account,
        count(*) as sessions,
        min(issue_time) as first_seen,
        max(issue_time) as last_seen,
        count(distinct role_arn) as distinct_roles,
        array_sort(array_agg(distinct role_arn)) as roles
    from hops
    group by from_account, to_account
)

select
    e.from_account,
    e.to_account,
    e.sessions,
    e.first_seen,
    e.last_seen,
    e.distinct_roles,
    e.roles,
    case when k.org_accounts = 0 then cast(null as boolean) else f.account_id is not null end
        as from_in_org,
    case when k.org_accounts = 0 then cast(null as boolean) else t.account_id is not null end
        as to_in_org
from edges as e
cross join org_known as k
left join int_org_accounts as f on f.account_id = e.from_account
left join int_org_accounts as t on t.account_id = e.to_account
order by e.from_account, e.to_account
