-- name: int_call_links
-- grain: one row per stored record (event_id) made with temporary credentials, and per session it is attributed to (session_id NULL: none)
-- Every call made with credentials a session can have issued (a key or a sessionContext
-- creationDate in its identity, and the other account's copies of such a call), with the
-- session it was attributed to; int_session_links is its attributed rows. A call no session
-- accounts for is kept once, with session_id, link_rule and confidence NULL, when it was made
-- with temporary credentials (an ASIA key or a creationDate; not a keyless copy):
-- int_sessions_seen reads those rows instead of matching every call of the lake against the
-- links again (at 1M events 0.7 s of the step's 0.9 s, for nothing when every call is attributed).
-- How each call was attributed to the session whose credentials made it
-- (cloudtrail-semantics.md §4.1):
--   * creation_date: userIdentity.arn = the session's ARN and
--     sessionContext.attributes.creationDate = the issuing call's time. This holds for every
--     call made with temporary credentials, including console and Identity Center calls signed
--     with other keys than the issued one (EX#1 -> EX#4, EX#14 -> EX#15);
--     `access_key+creation_date` when the call also used the issued key.
--   * access_key: for calls without a matching creationDate, userIdentity.accessKeyId = the
--     issued key, the call inside [issue time, expiration] and userIdentity.arn = the session's
--     ARN. Temporary key IDs are recycled (§2.2): the window and the ARN keep two sessions with
--     one key apart.
--   * shared_event_id: the other account's copy of a call, which carries no key or
--     creationDate, is attributed with the identity of the copy that has them (§4.3).
-- When several sessions share the ARN and creation second (parallel invocations of one role
-- and session name), the key decides. A call no key decides (a console call signed with keys
-- of its own, a service-linked role's call without a key) goes to one of them only when one
-- caller issued them all: to the second's one console session if it was signed with console
-- credentials and there is one (`creation_date+console`: a user's console sign-in and
-- GetSessionToken in one second, one person's SAML sessions on the console and on the CLI),
-- else to the one session started from the call's address if there is one
-- (`creation_date+source_ip`: one user's sign-ins from two browsers in one second; a
-- SwitchRole's own AssumeRole, which the console makes through its proxy, has the address of
-- the SwitchRole record, so the switch's parent is its browser's sign-in), else to any
-- of them (a service assuming its role in parallel; calls through the console's proxy, whose
-- address is `AWS Internal`): with several callers,
-- picking one let a caller who names a session after another user, in the same role and
-- second, take that user's calls or lend them its own (and its chain, through int_sessions'
-- parents), so the call is not attributed. `confidence` is high when the ARN agrees, medium
-- when the session's ARN is unknown (Cognito GetCredentialsForIdentity does not log it) and
-- only key + window matched, when a CLI or SDK call not signed with console credentials
-- matched only a console or SwitchRole sign-in (the lake may lack the issuance of the session
-- that made it: an IAM user's GetSessionToken in the second of a console sign-in), or one
-- caller's sessions shared the creation second and the console flag did not decide, or
-- decided for an STS session a federated sign-in was paired with (which of the second's
-- sessions signed in, the sign-in does not say).
-- Carries what int_sessions counts (source, API, account, IP, error, onBehalfOf, the call's
-- sessionContext mfaAuthenticated), and for the
-- records of credential-issuing services their record_hash (which of a conflict's records
-- int_sessions takes the parent from); the caller's ARN and key stay in the lake, one join on
-- event_id away. Records an UPDATED_DATA correction replaces (int_corrections) neither link
-- nor lend their identity to a copy. Not ordered: this is the large intermediate table
-- (rpt_session_links is the public, narrower one).
-- The sessions per ARN and creation second, and whether one caller started them all, are
-- int_creation_keys'.
-- calls made with temporary credentials: attributed by their own identity
with activity as (
    select
        e.event_id,
        e.shared_event_id,
        e.event_time,
        e.event_source,
        e.event_name,
        e.recipient_account_id,
        e.source_ip_address,
        e.error_code,
        e.on_behalf_of_user_id,
        e.record_hash,
        e.user_arn as match_arn,
        e.user_access_key_id as match_key,
        e.session_creation_date as match_creation_date,
        e.console_call as match_console,
        e.sdk_call as match_sdk,
        e.call_mfa_authenticated as mfa_authenticated,
        0 as is_copy
    from int_events as e
    -- not a record its UPDATED_DATA correction replaces (int_corrections, §4.4); an outer
    -- join, not `not exists`, which DuckDB plans by first copying the calls' int_events columns
    left join int_corrections as r on r.event_id = e.event_id
    where (e.user_access_key_id is not null or e.session_creation_date is not null)
      and r.event_id is null
),

-- the other account's copy of a call (sharedEventID) shows no key or creationDate (the role
-- owner's AWSAccount copy, §4.3): it is attributed by the identity of the copy that has one
twins as (
    select
        e.shared_event_id,
        min(e.user_arn) as user_arn,
        min(e.user_access_key_id) as user_access_key_id,
        min(e.session_creation_date) as session_creation_date,
        max(case when e.console_call then 1 else 0 end) = 1 as console_call,
        max(case when e.sdk_call then 1 else 0 end) = 1 as sdk_call
    from int_events as e
    left join int_corrections as r on r.event_id = e.event_id
    where e.shared_event_id is not null
      and (e.user_access_key_id is not null or e.session_creation_date is not null)
      and r.event_id is null
    group by e.shared_event_id
),

copies as (
    select
        c.event_id,
        c.shared_event_id,
        c.event_time,
        c.event_source,
        c.event_name,
        c.recipient_account_id,
        c.source_ip_address,
        c.error_code,
        c.on_behalf_of_user_id,
        c.record_hash,
        t.user_arn as match_arn,
        t.user_access_key_id as match_key,
        t.session_creation_date as match_creation_date,
        t.console_call as match_console,
        t.sdk_call as match_sdk,
        cast(null as boolean) as mfa_authenticated,
        1 as is_copy
    from int_events as c
    inner join twins as t on t.shared_event_id = c.shared_event_id
    left join int_corrections as r on r.event_id = c.event_id
    where c.shared_event_id is not null
      and c.user_access_key_id is null
      and c.session_creation_date is null
      and r.event_id is null
),

calls as (
    select
        event_id, shared_event_id, event_time, event_source, event_name, recipient_account_id,
        source_ip_address, error_code, on_behalf_of_user_id, record_hash,
        match_arn, match_key, match_creation_date, match_console, match_sdk,
        mfa_authenticated, is_copy
    from activity
    union all
    select
        event_id, shared_event_id, event_time, event_source, event_name, recipient_account_id,
        source_ip_address, error_code, on_behalf_of_user_id, record_hash,
        match_arn, match_key, match_creation_date, match_console, match_sdk,
        mfa_authenticated, is_copy
    from copies
),

-- the sessions of the seconds one caller's sessions share (an ARN and creation second of
-- several sessions, all one caller's): what the console and address rules choose among
shared_seconds as (
    select
        s.principal_arn,
        s.creation_time,
        s.session_id,
        s.kind,
        s.signin_event_id,
        s.source_ip
    from int_session_starts as s
    inner join int_creation_keys as c
        on c.principal_arn = s.principal_arn
        and c.creation_time = s.creation_time
    where c.sessions > 1 and c.one_caller
),

-- the one console session (a console or SwitchRole sign-in, or an STS session paired with its
-- federated sign-in) of such a second, where there is one. `own_signin`: the session is the
-- sign-in itself. A federated sign-in names only the ARN, so of several STS sessions of one ARN
-- and second int_session_starts pairs it with the least id: which one signed in is a guess
creation_consoles as (
    select
        principal_arn,
        creation_time,
        max(session_id) as session_id,
        max(case when kind in ('ConsoleLogin', 'SwitchRole') then 1 else 0 end) as own_signin
    from shared_seconds
    where signin_event_id is not null
    group by principal_arn, creation_time
    having count(*) = 1
),

-- such seconds whose every session started from an address of its own (not the console
-- proxy's, which every call through it shows): a session with none may have made a call from
-- any address
addressed_seconds as (
    select
        principal_arn,
        creation_time
    from shared_seconds
    group by principal_arn, creation_time
    having count(case when source_ip is null or source_ip = 'AWS Internal' then 1 end) = 0
),

-- the sessions of such a second by the address each started from: the one session started
-- from an address, where only one was
creation_ips as (
    select
        s.principal_arn,
        s.creation_time,
        s.source_ip,
        count(*) as sessions,
        max(s.session_id) as session_id
    from shared_seconds as s
    inner join addressed_seconds as a
        on a.principal_arn = s.principal_arn
        and a.creation_time = s.creation_time
    group by s.principal_arn, s.creation_time, s.source_ip
),

-- the console's own AssumeRole for a SwitchRole goes through its proxy (address
-- `AWS Internal`); the SwitchRole record carries the browser's address, the call's for the
-- address rule
switch_addresses as (
    select
        issue_event_id,
        source_ip
    from int_session_starts
    where kind = 'SwitchRole'
      and issue_event_id <> session_id
      and source_ip is not null
      and source_ip <> 'AWS Internal'
),

-- the sessions a call's key can name. The join below keeps sessions of one key apart by their
-- window and ARN (a recycled id, §2.2: another principal's, even at the same time), but two
-- sessions of one key and one ARN valid at once (5 s of skew each side), which AWS never
-- issues, are records no key decides between (forged, or a set of test records): their calls
-- are not attributed by key, rather than to all of them (each call then counted once per
-- session, and the links growing with the square of the sessions: 4,000 forged issuances of
-- one key took 57 s and 6 GB). `shared`: another session of the key, of any ARN, is valid at
-- the same time, so only a call that names this session's ARN is its (a call without an ARN,
-- or a session whose ARN is unknown, as Cognito's can be, matches by key alone). Windows over
-- the key's sessions in time order, not a join of them: linear in a key's sessions.
key_windows as (
    select
        session_id,
        issued_key,
        creation_time,
        expiration,
        principal_arn,
        max(expiration) over (
            partition by issued_key, coalesce(principal_arn, '')
            order by creation_time, session_id
            rows between unbounded preceding and 1 preceding
        ) as earlier_end,
        lead(creation_time) over (
            partition by issued_key, coalesce(principal_arn, '')
            order by creation_time, session_id
        ) as next_start,
        max(expiration) over (
            partition by issued_key
            order by creation_time, session_id
            rows between unbounded preceding and 1 preceding
        ) as key_earlier_end,
        lead(creation_time) over (
            partition by issued_key
            order by creation_time, session_id
        ) as key_next_start
    from int_session_starts
    where issued_key is not null
),

key_sessions as (
    select
        session_id,
        issued_key,
        creation_time,
        expiration,
        principal_arn,
        coalesce(key_earlier_end + interval '10' second >= creation_time, false)
            or coalesce(key_next_start <= expiration + interval '10' second, false) as shared
    from key_windows
    where (earlier_end is null or earlier_end + interval '10' second < creation_time)
      and (next_start is null or expiration + interval '10' second < next_start)
),

-- the creationDate rule first; the key is tried only for calls it did not attribute
by_creation as (
    select
        a.event_id,
        a.shared_event_id,
        a.is_copy,
        case when c.sessions = 1 then c.session_id end as creation_session_id,
        case when c.sessions = 1 then c.issued_key end as creation_issued_key,
        c.sessions = 1 and c.console_signins as creation_signin,
        case when a.match_console then o.session_id end as console_session_id,
        o.own_signin as console_own_signin,
        case when p.sessions = 1 then p.session_id end as address_session_id,
        case
            when c.sessions > 1 and c.one_caller then c.session_id
        end as one_caller_session_id,
        case
            when c.sessions is null or c.sessions > 1 then a.match_key
        end as fallback_key,
        a.match_arn,
        a.match_key,
        a.match_creation_date,
        a.match_console,
        a.match_sdk,
        a.event_time,
        a.event_source,
        a.event_name,
        a.recipient_account_id,
        a.source_ip_address,
        a.error_code,
        a.on_behalf_of_user_id,
        a.mfa_authenticated,
        a.record_hash
    from calls as a
    left join int_creation_keys as c
        on c.principal_arn = a.match_arn
        and c.creation_time = a.match_creation_date
    left join creation_consoles as o
        on o.principal_arn = a.match_arn
        and o.creation_time = a.match_creation_date
    left join switch_addresses as w on w.issue_event_id = a.event_id
    left join creation_ips as p
        on p.principal_arn = a.match_arn
        and p.creation_time = a.match_creation_date
        and p.source_ip = coalesce(w.source_ip, a.source_ip_address)
),

linked as (
    select
        b.event_id,
        coalesce(b.shared_event_id, b.event_id) as logical_event_id,
        coalesce(
            b.creation_session_id, k.session_id, b.console_session_id, b.address_session_id,
            b.one_caller_session_id
        ) as session_id,
        case
            when b.is_copy = 1 then 'shared_event_id'
            when b.creation_session_id is not null and b.match_key = b.creation_issued_key
                then 'access_key+creation_date'
            when b.creation_session_id is not null then 'creation_date'
            when k.session_id is not null and b.match_creation_date = k.creation_time
                then 'access_key+creation_date'
            when k.session_id is not null then 'access_key'
            when b.console_session_id is not null then 'creation_date+console'
            when b.address_session_id is not null then 'creation_date+source_ip'
            else 'creation_date'
        end as link_rule,
        case
            -- a console or SwitchRole sign-in, the only session of its ARN and second, and a
            -- call of the CLI or an SDK not signed with console credentials: what the calls of
            -- a session whose issuance the lake lacks look like (an IAM user's GetSessionToken
            -- in the second of a console sign-in), unless it used the session's issued key
            -- (a SwitchRole's). A browser's own calls carry no console flag on real records,
            -- and stay high
            when b.creation_session_id is not null and b.creation_signin
                and b.match_sdk and not b.match_console
                and coalesce(b.match_key <> b.creation_issued_key, true) then 'medium'
            when b.creation_session_id is not null then 'high'
            when k.session_id is not null and b.match_arn = k.principal_arn then 'high'
            -- the one console session of the second, for a call signed with console
            -- credentials, when that session is a sign-in (not an STS session a federated
            -- sign-in was paired with among others of its second)
            when k.session_id is null and b.console_session_id is not null
                and b.console_own_signin = 1 then 'high'
            -- the key and its window alone (the session's ARN, Cognito's, or the call's is
            -- unknown), or one of a caller's sessions that share the creation second
            else 'medium'
        end as confidence,
        b.event_time,
        b.event_source,
        b.event_name,
        b.recipient_account_id,
        b.source_ip_address,
        b.error_code,
        b.on_behalf_of_user_id,
        b.mfa_authenticated,
        b.record_hash,
        b.is_copy,
        b.match_key,
        b.match_creation_date
    from by_creation as b
    left join key_sessions as k
        on k.issued_key = b.fallback_key
        and b.event_time >= k.creation_time - interval '5' second
        and b.event_time <= k.expiration + interval '5' second
        and (
            b.match_arn = k.principal_arn
            or ((k.principal_arn is null or b.match_arn is null) and not k.shared)
        )
)

select
    event_id,
    logical_event_id,
    session_id,
    case when session_id is not null then link_rule end as link_rule,
    case when session_id is not null then confidence end as confidence,
    event_time,
    event_source,
    event_name,
    recipient_account_id,
    source_ip_address,
    error_code,
    on_behalf_of_user_id,
    mfa_authenticated,
    record_hash
from linked
-- the attributed calls, and the temporary-credential calls no session accounts for
where session_id is not null
   or (is_copy = 0 and (match_key like 'ASIA%' or match_creation_date is not null))
