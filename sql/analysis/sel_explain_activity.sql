-- name: sel_explain_activity
-- grain: one row per record attributed to session $session_id (event_id)
-- What the session did, with the rule that attributed each call to it.
select
    event_time,
    event_id,
    event_source,
    event_name,
    recipient_account_id,
    source_ip_address,
    error_code,
    user_access_key_id,
    link_rule,
    confidence
from int_session_links
where session_id = $session_id
order by event_time, event_id
