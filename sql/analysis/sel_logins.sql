-- name: sel_logins
-- grain: one row per federated entry session (session_id), filtered
-- `sts-audit logins`: SAML, OIDC, Cognito and Identity Center entries in [$since, $until)
-- into $account, for the $principal (origin id, subject, session name, session ARN or role ARN).
select
    session_id,
    kind,
    issue_time,
    expiration,
    origin_type,
    origin_id,
    provider,
    issuer,
    subject,
    role_arn,
    principal_arn,
    target_account,
    session_name,
    source_identity,
    source_ip,
    user_agent,
    console_signin_event_id,
    lifetime_seconds,
    mfa,
    events,
    chained_sessions,
    chain_events,
    max_depth,
    accounts_reached,
    first_use,
    last_use
from rpt_federated_logins
where ($account is null or target_account = $account)
  and ($since is null or issue_time >= $since)
  and ($until is null or issue_time < $until)
  and (
      $principal is null
      or origin_id = $principal
      or subject = $principal
      or session_name = $principal
      or principal_arn = $principal
      or role_arn = $principal
  )
order by issue_time, session_id
