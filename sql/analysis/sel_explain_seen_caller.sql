-- name: sel_explain_seen_caller
-- grain: at most one row: the session seen only through its calls that issued $session_id
-- `sts-audit explain` of a chain whose origin's caller is a session the lake holds calls of but
-- no issuance for (the sessions table's `caller_seen`): that session as `sts-audit seen` lists
-- it, matched as int_sessions matches it (ARN and creation second; without a creationDate, ARN,
-- key and the span of its calls, which a recycled key makes several of).
select x.*
from rpt_sessions as s
inner join int_sessions_seen as x
    on x.principal_arn = s.caller_arn
    and (
        x.creation_time = date_trunc('second', s.caller_creation_date)
        or (
            x.creation_time is null
            and s.caller_creation_date is null
            and x.access_key = s.caller_key
            -- a recycled key makes several such sessions: the one the issuing call is in
            and s.issue_time >= x.first_use
            and s.issue_time <= x.last_use
        )
    )
where s.session_id = $session_id
  and s.caller_seen
order by x.first_use, x.principal_arn
