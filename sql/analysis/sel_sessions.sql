-- name: sel_sessions
-- grain: one row per credential issuance (session_id), filtered
-- `sts-audit sessions`: sessions issued in [$since, $until) whose caller or target account is
-- $account and whose session ARN, role ARN, caller ARN, origin id or session name is $principal
-- (each filter skipped when its parameter is null).
select
    session_id,
    kind,
    issue_time,
    expiration,
    lifetime_seconds,
    origin_type,
    origin_id,
    depth,
    mfa,
    caller_account,
    caller_arn,
    target_account,
    role_arn,
    session_name,
    principal_arn,
    issued_key,
    source_identity,
    requested_duration,
    source_ip,
    user_agent,
    parent_session_id,
    cross_account_hops,
    left_org,
    first_use,
    last_use,
    events,
    distinct_apis,
    distinct_accounts,
    distinct_ips,
    errors,
    active_at_end,
    issue_event_id,
    owner_copy_event_id
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
  )
order by issue_time, session_id
