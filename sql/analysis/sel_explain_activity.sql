-- name: sel_explain_activity
-- grain: one row per record attributed to session $session_id (event_id)
-- What the session did, with the rule that attributed each call to it; the call's own details
-- (account, IP, error, key, user agent) are read back from the lake, from the partitions of the days
-- between its first and last use ($first_day, $last_day) only.
select distinct
    l.event_time,
    l.event_id,
    l.event_source,
    l.event_name,
    e.recipient_account_id,
    e.source_ip_address,
    e.error_code,
    e.user_access_key_id,
    l.link_rule,
    l.confidence,
    e.user_agent,
    -- the session the call is attributed to (json and csv rows carry it, as the other sections do)
    l.session_id
from rpt_session_links as l
inner join events as e on e.event_id = l.event_id and e.event_time = l.event_time
where l.session_id = $session_id
  and e.event_date between $first_day and $last_day
-- records that share an event id and time (copies, conflicting deliveries) in a fixed order:
-- by time, id, then every column of the call and its link (positions in the select list)
order by 1, 2, 5, 6, 7, 8, 9, 10, 11
