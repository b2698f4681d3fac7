-- name: sel_account_graph
-- grain: one row per account hop (from_account, to_account), filtered
-- Account hops touching $account (either side), or all when it is null.
select
    from_account,
    to_account,
    sessions,
    first_seen,
    last_seen,
    distinct_roles,
    roles,
    from_in_org,
    to_in_org
from rpt_account_graph
where $account is null or from_account = $account or to_account = $account
order by from_account, to_account
