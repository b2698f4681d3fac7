-- name: int_session_links
-- grain: one row per stored record (event_id) made with temporary credentials and attributed to a session
-- How each call was attributed to the session whose credentials made it: the attributed rows of
-- int_call_links, where the rules are (link_rule, confidence). A record linked to two sessions
-- (two sessions of one key whose windows overlap, with an ARN unknown) has a row for each.
-- Not ordered: a view over the large intermediate table.
select
    event_id,
    logical_event_id,
    session_id,
    link_rule,
    confidence,
    event_time,
    event_source,
    event_name,
    recipient_account_id,
    source_ip_address,
    error_code,
    on_behalf_of_user_id,
    mfa_authenticated,
    record_hash
from int_call_links
where session_id is not null
