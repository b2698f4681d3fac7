-- name: int_sessions_seen
-- grain: one row per session seen only through its calls: (principal_arn, creation_time), or (principal_arn, access_key) for calls without a creationDate
-- Who used temporary credentials the lake holds no issuance for. Reads the calls made with
-- temporary credentials as sel_attribution counts them (an ASIA key or a sessionContext
-- creationDate; not a record an UPDATED_DATA correction replaces, int_corrections; the other
-- account's keyless copies carry neither and are not read) whose event_id int_call_links
-- attributed to no session, and groups them by session ARN and creation second (cloudtrail-semantics.md
-- §4.1), the key a creationDate names; a call without a creationDate (rare) is grouped by its
-- ASIA key instead (creation_time NULL). So sel_attribution's calls_temporary =
-- calls_attributed + the sum of `records` here. Typically a session issued before the lake's
-- first record, or in an account whose trail is not collected, used with stolen credentials
-- (an instance's role credentials used from outside) as well as by its owner; or a contested
-- one (int_creation_keys: several callers started a session of that ARN in that second, and no
-- key tells which one made the call). `why` says which, as far as the lake can tell; under
-- analysis.window_days (cfg_window), the lake's first record is the window's.
-- Activity counts like int_sessions': `events` counts logical calls (copies of a call that both
-- carry the identity collapse on sharedEventID), `records` the stored records. Each distinct
-- count is a plain count over its own grouping (a distinct aggregate per group does not spill,
-- bench/LIMITS.md). `source_ip` and `user_agent` are those of the earliest call (of calls in
-- one second, the least IP), `access_key` the least key of `keys`, `mfa_authenticated` true when
-- a call's sessionContext says so. `distinct_accounts` counts the accounts of the records
-- read: the other account's keyless copies are not among them.
-- In order of first use.
-- calls made with temporary credentials that no session accounts for: their event_ids first,
-- from int_call_links' rows without a session (the calls sel_attribution counts: an ASIA key or
-- a creationDate, no record an UPDATED_DATA correction replaces, no keyless copy). An eventID
-- another of its records was linked by (a conflict) is not unattributed: those are looked up
-- among the links by the few unattributed ids, so the millions of links are only probed. With
-- every call attributed, no id is left and the lake is not read again below.
with unlinked_ids as (
    select distinct event_id
    from int_call_links
    where session_id is null
),

unattributed_ids as (
    select u.event_id
    from unlinked_ids as u
    left join (
        select distinct l.event_id
        from int_session_links as l
        where l.event_id in (select event_id from unlinked_ids)
    ) as linked on linked.event_id = u.event_id
    where linked.event_id is null
),

-- the records of those event_ids (a conflict's records share theirs: none of them is linked)
unattributed as (
    select
        e.event_id,
        coalesce(e.shared_event_id, e.event_id) as logical_event_id,
        e.event_time,
        e.event_source,
        e.event_name,
        e.recipient_account_id,
        e.source_ip_address,
        e.error_code,
        e.user_type,
        e.user_arn,
        e.user_access_key_id,
        date_trunc('second', e.session_creation_date) as creation_time,
        e.session_issuer_arn,
        e.call_user_agent,
        e.call_mfa_authenticated,
        e.call_invoked_by
    from int_events as e
    where (e.user_access_key_id like 'ASIA%' or e.session_creation_date is not null)
      and e.event_id in (select event_id from unattributed_ids)
),

-- the accounts whose records the lake holds, from their first record on: a session of any other
-- account was issued where the lake cannot see. Only the accounts of the sessions listed (the
-- account in their ARN, as the join below reads it): none, and the lake is not read
logged_accounts as (
    select
        recipient_account_id as account_id,
        min(event_time) as first_event_time
    from int_events
    where recipient_account_id in (
        select regexp_extract(user_arn, '^arn:[^:]*:[^:]*:[^:]*:([^:]*):', 1)
        from unattributed
        where user_arn is not null
    )
    group by recipient_account_id
),

-- a call without an ARN is its own account's and key's: never merged with another principal's
identified as (
    select
        coalesce(
            user_arn,
            'no-arn:' || coalesce(recipient_account_id, '') || ':'
            || coalesce(user_access_key_id, '')
        ) as principal_key,
        event_id,
        logical_event_id,
        event_time,
        event_source,
        event_name,
        recipient_account_id,
        source_ip_address,
        error_code,
        user_type,
        user_arn,
        user_access_key_id,
        creation_time,
        session_issuer_arn,
        call_user_agent,
        call_mfa_authenticated,
        call_invoked_by
    from unattributed
),

-- Calls without a creationDate are told apart by ARN and key alone, and temporary key ids are
-- recycled (§2.2). No temporary credential lives longer than 36 hours (GetSessionToken's and
-- GetFederationToken's longest), so a call more than 36 hours after the previous call of its
-- ARN and key starts another session: `segment` numbers them. A key reused sooner still merges.
keyless_breaks as (
    select
        event_id,
        principal_key,
        user_access_key_id,
        event_time,
        case
            when event_time > lag(event_time) over (
                partition by principal_key, user_access_key_id order by event_time, event_id
            ) + interval '36' hour then 1
            else 0
        end as starts_segment
    from identified
    where creation_time is null
),

keyless_segments as (
    select
        event_id,
        principal_key,
        user_access_key_id,
        event_time,
        -- a record's segment, by its eventID, ARN, key and time (the lake has no other id for a
        -- record): a conflict's records (one eventID, other content) with another key or at
        -- another time keep their own
        min(segment) as segment
    from (
        select
            event_id,
            principal_key,
            user_access_key_id,
            event_time,
            sum(starts_segment) over (
                partition by principal_key, user_access_key_id
                order by event_time, event_id
                rows between unbounded preceding and current row
            ) as segment
        from keyless_breaks
    ) as numbered
    group by event_id, principal_key, user_access_key_id, event_time
),

-- one non-null key per session: joins below need no NULL-safe equality
calls as (
    select
        i.principal_key || '|' || coalesce(
            cast(i.creation_time as varchar),
            'key:' || coalesce(i.user_access_key_id, '') || '#' || cast(k.segment as varchar)
        ) as seen_key,
        i.event_id,
        i.logical_event_id,
        i.event_time,
        i.event_source,
        i.event_name,
        i.recipient_account_id,
        i.source_ip_address,
        i.error_code,
        i.user_type,
        i.user_arn,
        i.user_access_key_id,
        i.creation_time,
        i.session_issuer_arn,
        i.call_user_agent,
        i.call_mfa_authenticated,
        i.call_invoked_by
    from identified as i
    left join keyless_segments as k
        on k.event_id = i.event_id
        and k.principal_key = i.principal_key
        and k.user_access_key_id = i.user_access_key_id
        and k.event_time = i.event_time
),

seen as (
    select
        seen_key,
        max(user_arn) as principal_arn,
        max(user_type) as user_type,
        max(session_issuer_arn) as role_arn,
        max(creation_time) as creation_time,
        min(user_access_key_id) as access_key,
        min(event_time) as first_use,
        max(event_time) as last_use,
        count(*) as records,
        max(
            case when call_mfa_authenticated then 1 when not call_mfa_authenticated then 0 end
        ) as mfa_flag,
        -- every call made by an AWS service on the principal's behalf (invokedBy)
        count(call_invoked_by) = count(*) as service_invoked,
        min(call_invoked_by) as invoked_by
    from calls
    group by seen_key
),

logical_calls as (
    select
        seen_key,
        logical_event_id,
        max(case when error_code is not null then 1 else 0 end) as failed
    from calls
    group by seen_key, logical_event_id
),

seen_calls as (
    select
        seen_key,
        count(*) as events,
        count(case when failed = 1 then logical_event_id end) as errors
    from logical_calls
    group by seen_key
),

apis as (
    select
        seen_key,
        event_source,
        event_name
    from calls
    where event_source is not null and event_name is not null
    group by seen_key, event_source, event_name
),

seen_apis as (
    select
        seen_key,
        count(*) as distinct_apis
    from apis
    group by seen_key
),

accounts as (
    select
        seen_key,
        recipient_account_id
    from calls
    where recipient_account_id is not null
    group by seen_key, recipient_account_id
),

seen_accounts as (
    select
        seen_key,
        count(*) as distinct_accounts
    from accounts
    group by seen_key
),

access_keys as (
    select
        seen_key,
        user_access_key_id
    from calls
    where user_access_key_id is not null
    group by seen_key, user_access_key_id
),

seen_keys as (
    select
        seen_key,
        count(*) as keys,
        -- every key, so `seen --principal` and explain find a console session by any of the
        -- keys it rotates through
        array_to_string(array_sort(array_agg(user_access_key_id)), ' ') as access_keys
    from access_keys
    group by seen_key
),

-- the IP addresses the session was used from (not `AWS Internal` or a service's host name,
-- as int_sessions counts them)
ips as (
    select
        seen_key,
        source_ip_address
    from calls
    where regexp_extract(source_ip_address, '^[0-9A-Fa-f.:]+$', 0) <> ''
    group by seen_key, source_ip_address
),

seen_ips as (
    select
        seen_key,
        count(*) as distinct_ips
    from ips
    group by seen_key
),

-- the IP and user agent of the earliest call, both from one call (of calls in one second, the
-- least IP, then user agent): each (IP, user agent) pair with its first call, then the earliest
-- pair. Grouped first, so the window ranks a session's few pairs: a window over every call
-- sorts them all (every call of the 5M lake unattributed: 20-25 s against 11 s for the step)
pairs as (
    select
        seen_key,
        source_ip_address,
        call_user_agent,
        row_number() over (
            partition by seen_key
            order by
                min(event_time), coalesce(source_ip_address, ''), coalesce(call_user_agent, '')
        ) as pick
    from calls
    group by seen_key, source_ip_address, call_user_agent
),

first_calls as (
    select
        seen_key,
        source_ip_address as source_ip,
        call_user_agent as user_agent
    from pairs
    where pick = 1
),

-- several sessions of this ARN and second, started by more than one caller: the key decided
-- nothing (int_session_links)
contested as (
    select
        principal_arn,
        creation_time
    from int_creation_keys
    where sessions > 1
)

select
    s.principal_arn,
    s.user_type,
    nullif(regexp_extract(s.principal_arn, '^arn:[^:]*:[^:]*:[^:]*:([^:]*):', 1), '') as account,
    s.role_arn,
    nullif(regexp_extract(s.principal_arn, '/([^/]*)$', 1), '') as session_name,
    s.creation_time,
    s.access_key,
    coalesce(k.keys, 0) as keys,
    k.access_keys,
    s.first_use,
    s.last_use,
    c.events,
    s.records,
    coalesce(a.distinct_apis, 0) as distinct_apis,
    coalesce(ac.distinct_accounts, 0) as distinct_accounts,
    coalesce(i.distinct_ips, 0) as distinct_ips,
    c.errors,
    case s.mfa_flag when 1 then true when 0 then false end as mfa_authenticated,
    f.source_ip,
    f.user_agent,
    case
        when s.principal_arn is null then 'no ARN in its calls: its account is unknown'
        when x.principal_arn is not null then 'contested: no key tells the sessions apart'
        when s.creation_time is null
            then 'no creationDate, and no issuance the lake holds matches its key, ARN and time'
        -- the issuance is logged in the session's own account (for a role session, the role
        -- owner's copy of its AssumeRole, §4.3)
        when la.account_id is null
            then 'issuing call not in the lake: its account''s trail is not collected'
        -- CloudTrail's times are whole seconds: an issuance in the lake's first second of the
        -- account, not in the lake, is as likely to lie before it
        when s.creation_time <= la.first_event_time
            then coalesce(
                'issued before its account''s first record in the analysis window (from '
                || cast((select max(w.first_day) from cfg_window as w) as varchar)
                || ', analysis.window_days)',
                'issued before the lake''s first record of its account'
            )
        -- an IAM user's or root's calls that a service made for it (forward access: Secrets
        -- Manager decrypting with KMS for the user who called it) carry a session of the
        -- service's, which no call a trail logs issued (a role session's calls carry the role
        -- session's own creationDate, whose issuance a trail does log)
        when s.service_invoked and s.user_type in ('IAMUser', 'Root')
            then 'calls an AWS service made on its principal''s behalf (invokedBy '
                || s.invoked_by || '): their credentials are the service''s, issued by no call '
                || 'a trail logs'
        else 'issuing call not in the lake, though its account''s trail is '
            || '(a day or region not collected?)'
    end as why
from seen as s
inner join seen_calls as c on c.seen_key = s.seen_key
left join seen_apis as a on a.seen_key = s.seen_key
left join seen_accounts as ac on ac.seen_key = s.seen_key
left join seen_keys as k on k.seen_key = s.seen_key
left join seen_ips as i on i.seen_key = s.seen_key
left join first_calls as f on f.seen_key = s.seen_key
left join contested as x
    on x.principal_arn = s.principal_arn
    and x.creation_time = s.creation_time
left join logged_accounts as la
    on la.account_id = nullif(
        regexp_extract(s.principal_arn, '^arn:[^:]*:[^:]*:[^:]*:([^:]*):', 1), ''
    )
order by s.first_use, s.principal_arn, s.creation_time, s.access_key
