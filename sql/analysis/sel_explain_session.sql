-- name: sel_explain_session
-- grain: one row (session_id = $session_id)
-- One session as `sts-audit explain` shows it, a step of its chain.
select
    session_id,
    parent_session_id,
    parent_link_rule,
    kind,
    depth,
    issue_time,
    expiration,
    lifetime_seconds,
    caller_type,
    caller_arn,
    caller_account,
    role_arn,
    target_account,
    principal_arn,
    session_name,
    issued_key,
    source_identity,
    mfa,
    origin_type,
    origin_id,
    source_ip,
    user_agent,
    first_use,
    last_use,
    events,
    errors,
    contested_creation,
    caller_seen
from rpt_sessions
where session_id = $session_id
order by session_id
