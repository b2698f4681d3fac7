-- name: sel_chains
-- grain: one row per credential issuance (session_id), filtered
-- `sts-audit chains`: each session's chain summary (origin, depth, role and account paths,
-- hops, left_org, inherited MFA, cycles), with the same filters as sel_sessions; $principal
-- also matches the origin id, so one human's whole tree can be listed.
select
    session_id,
    kind,
    issue_time,
    origin_type,
    origin_id,
    origin_account,
    depth,
    mfa,
    role_path,
    account_path,
    cross_account_hops,
    left_org,
    cycle,
    chain_truncated,
    parent_session_id,
    root_session_id,
    principal_arn,
    lifetime_seconds,
    events
from rpt_sessions
where ($account is null or caller_account = $account or target_account = $account)
  and ($since is null or issue_time >= $since)
  and ($until is null or issue_time < $until)
  and (
      $principal is null
      or principal_arn = $principal
      or role_arn = $principal
      or caller_arn = $principal
      or origin_id = $principal
      or session_name = $principal
      or session_id = $principal
      or issued_key = $principal
  )
order by origin_id nulls last, issue_time, session_id
