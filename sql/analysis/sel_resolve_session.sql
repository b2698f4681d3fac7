-- name: sel_resolve_session
-- grain: one row per matching session (session_id), best first
-- The session a user means by $needle: a session id, one of its issuing / sign-in / Identity
-- Center grant event ids, or its issued key (a recycled key names several sessions: the latest
-- first; `explain` names the others).
select
    session_id,
    issue_time
from rpt_sessions
where session_id = $needle
   or issue_event_id = $needle
   or owner_copy_event_id = $needle
   or signin_event_id = $needle
   or grant_event_id = $needle
   or issued_key = $needle
order by case when session_id = $needle then 0 else 1 end, issue_time desc, session_id
