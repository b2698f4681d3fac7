-- name: rpt_session_links
-- grain: one row per stored record (event_id) made with temporary credentials and attributed to a session
-- The session_links table: which session each call was made with, by which rule
-- (int_session_links) and how sure. Kept narrow, since it has a row per call: what the call
-- itself was (caller ARN and key, sharedEventID, account, IP, error) is in the lake, one join on
-- event_id away.
-- Not ordered, unlike the other rpt_ tables: sorting a row per call would cost more than the
-- rest of its write; order when reading it.
select
    event_id,
    session_id,
    link_rule,
    confidence,
    event_time,
    event_source,
    event_name
from int_session_links
