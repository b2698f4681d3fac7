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
-- A caller that is itself a role or federated session is known by its session, its ARN and
-- creationDate (else its key): a session ARN is anyone's who may assume the role (or call
-- GetFederationToken) and picks that name, so a caller who names its own session after
-- another user's caller session, then its next session after that user's next one in the
-- same second, would otherwise count as that user, and the console and address tie-breaks
-- of int_session_links would hand it the user's session's calls or lend it its own. Seen only
-- through the role owner's AWSAccount copy, such a caller is not known at all.
-- `console_signins`: every session of the second is a console or SwitchRole sign-in (whose
-- calls are signed with console credentials, int_session_links).
-- Plain aggregates: a count of distinct callers per group did not spill and cost the 5M-event
-- analysis its 2GB memory limit (bench/LIMITS.md).
-- Not ordered: an intermediate table.
with callers as (
    select
        principal_arn,
        creation_time,
        session_id,
        issued_key,
        kind,
        case
            -- only the role owner's AWSAccount copy (§4.3): a role or federated session's
            -- principalId (`AROA...:name`, `ACCOUNT:name`) names no session, so not a known caller
            when caller_type = 'AWSAccount' and caller_arn is null
                and caller_principal_id like '%:%' then cast(null as varchar)
            else coalesce(caller_arn, caller_invoked_by, caller_principal_id) || case
                when caller_type in ('AssumedRole', 'FederatedUser')
                    then '@' || coalesce(cast(caller_creation_date as varchar), caller_key, '')
                else ''
            end
        end as caller
    from int_session_starts
    where principal_arn is not null
)

select
    principal_arn,
    creation_time,
    count(*) as sessions,
    max(session_id) as session_id,
    max(issued_key) as issued_key,
    count(caller) = count(*) and min(caller) = max(caller) as one_caller,
    min(case when kind in ('ConsoleLogin', 'SwitchRole') then 1 else 0 end) = 1
        as console_signins
from callers
group by principal_arn, creation_time
