-- name: int_creation_keys
-- grain: one row per (principal_arn, creation_time) that some session starts with
-- Sessions per session ARN and creation second, the key a call's creationDate names
-- (cloudtrail-semantics.md §4.1): two sessions of one role and session name can start in the
-- same second (parallel Lambda invocations); then only a call's access key tells them apart.
-- `one_caller`: every session of the second was started by one caller, all known (a service
-- assuming its role in parallel). When it is false and there are several sessions, a call no
-- key decides is attributed to none of them (int_session_links), and the sessions are marked
-- `contested_creation` (int_sessions): a caller naming its session after another's, in the
-- same role and second, looks like this.
-- Plain aggregates: a count of distinct callers per group did not spill and cost the 5M-event
-- analysis its 2GB memory limit (bench/LIMITS.md).
-- Not ordered: an intermediate table.
select
    principal_arn,
    creation_time,
    count(*) as sessions,
    max(session_id) as session_id,
    max(issued_key) as issued_key,
    count(coalesce(caller_arn, caller_invoked_by, caller_principal_id)) = count(*)
    and min(coalesce(caller_arn, caller_invoked_by, caller_principal_id))
        = max(coalesce(caller_arn, caller_invoked_by, caller_principal_id)) as one_caller
from int_session_starts
where principal_arn is not null
group by principal_arn, creation_time
