-- name: int_sessions
-- grain: one row per credential issuance (session_id)
-- Each session with its parent and what was done with it. The parent is the session whose
-- credentials made the issuing call: the issuing event is itself a call attributed by
-- int_session_links (§4.2). A console SwitchRole is authorized by the original console
-- session, never by an earlier switched role, so a SwitchRole whose STS call was not collected
-- falls back to the latest sign-in of its SwitchFrom principal, if that sign-in lasts until
-- the switch (12 hours). A session with no parent is an origin: a long-term principal (IAM
-- user, root), a federated identity (SAML, OIDC, Cognito, Identity Center) or an AWS service
-- (a Cognito GetCredentialsForIdentity is always one, even when a session signed the call),
-- a foreign principal seen only through the role owner's AWSAccount copy (`AWSAccount`), or,
-- for a caller whose own issuance is not in the lake (issued before the data starts, or in an
-- account whose trail is not collected; a SwitchRole seen only through the role owner's
-- copy), `Unresolved`, known by its ARN; `own_mfa` is its MFA state (§4.6), and for a child
-- only an MFA device in its own request overrides what it inherits from the chain (int_chains).
-- Activity counts each logical call once (cross-account copies collapse on sharedEventID).
-- `caller_seen`: the caller's own session is one the lake sees only through its calls
-- (int_sessions_seen: its issuance is not in the lake, `why` says why), matched by the key its
-- identity names: ARN and creation second, or ARN and key for a call without a creationDate.
-- Only a session without a parent: its origin is `Unresolved`, known by that ARN (a
-- contested ARN and second has a seen row even when a key links the issuing call to a parent).
-- Not ordered: an intermediate table (rpt_sessions is the ordered public one).
with data_end as (
    select max(event_time) as last_event_time
    from int_events
),

-- the issuing record's own link; an eventID stored as several records (a conflict: same id,
-- other content, §4.4) has a link per record, and the session takes its parent from the one
-- with the least record_hash (int_sts_issuances prefers a caller-side record for the caller;
-- the owner's AWSAccount record of that eventID is linked by that caller's identity, §4.3)
issue_link_rows as (
    select
        s.session_id,
        l.session_id as linked_parent_id,
        l.link_rule as parent_link_rule,
        row_number() over (
            partition by s.session_id
            order by l.record_hash, l.session_id, l.link_rule
        ) as pick
    from int_session_starts as s
    inner join int_session_links as l on l.event_id = s.issue_event_id
    where l.session_id <> s.session_id
      -- a record of the issuing API: another call that shares the eventID (data sets that
      -- number their records "1", "2", ...) says nothing of who made the issuing call
      and l.event_name in (
          'AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetSessionToken',
          'GetFederationToken', 'AssumeRoot'
      )
      -- Cognito credentials belong to the identity, not to a session that signed the call
      -- (developer-authenticated identities): the identity is the origin
      and s.kind <> 'GetCredentialsForIdentity'
),

issue_links as (
    select
        session_id,
        linked_parent_id,
        parent_link_rule
    from issue_link_rows
    where pick = 1
),

-- SwitchRole without its STS call: the latest sign-in of the principal it switched from, at or
-- before the switch (of several in that second, the least id). The sign-ins and switches of a
-- principal are put in one time order and each switch takes the latest sign-in time before it
-- (a running max), then that sign-in: linear in a principal's sign-ins, where pairing every
-- switch with every earlier sign-in grew with the square of the days kept.
switch_points as (
    select
        switch_from as principal_arn,
        issue_time,
        session_id,
        0 as is_signin
    from int_session_starts
    where kind = 'SwitchRole' and issue_event_id = signin_event_id and switch_from is not null
      and issue_time is not null
    union all
    select
        principal_arn,
        issue_time,
        cast(null as varchar) as session_id,
        1 as is_signin
    from int_session_starts
    where kind = 'ConsoleLogin' and principal_arn is not null and issue_time is not null
),

latest_signin as (
    select
        session_id,
        principal_arn,
        issue_time,
        max(case when is_signin = 1 then issue_time end) over (
            partition by principal_arn
            order by issue_time
            range between unbounded preceding and current row
        ) as signin_time
    from switch_points
),

switch_fallback as (
    select
        l.session_id,
        min(p.session_id) as fallback_parent_id
    from latest_signin as l
    inner join int_session_starts as p
        on p.principal_arn = l.principal_arn
        and p.issue_time = l.signin_time
        and p.kind = 'ConsoleLogin'
        -- still signed in at the switch (a console session lasts 12 hours): an earlier
        -- sign-in ended earlier still, so the switch has no parent rather than an expired one
        and p.expiration >= l.issue_time
    where l.session_id is not null
    group by l.session_id
),

-- what was done with each session. Calls are counted from one row per (session, logical call),
-- so the copies of a cross-account call made with one session count once; each other distinct
-- count is its own aggregate, because several distinct aggregates in one pass cost more than
-- separate passes over the links.
session_calls as (
    select
        session_id,
        logical_event_id,
        max(case when error_code is not null then 1 else 0 end) as failed
    from int_session_links
    group by session_id, logical_event_id
),

activity_calls as (
    select
        session_id,
        count(logical_event_id) as events,
        count(case when failed = 1 then logical_event_id end) as errors
    from session_calls
    group by session_id
),

activity as (
    select
        session_id,
        min(event_time) as first_use,
        max(event_time) as last_use,
        -- the last call AWS accepted (one refused for an expired token is no use)
        max(case when error_code is null then event_time end) as last_success,
        max(on_behalf_of_user_id) as on_behalf_of_user_id,
        -- a call linked by its own identity that says the session was created with MFA
        -- (§4.6): what an origin known only by its principal shows of its MFA
        max(
            case when mfa_authenticated and confidence = 'high' then 1 else 0 end
        ) as calls_mfa
    from int_session_links
    group by session_id
),

session_apis as (
    select
        session_id,
        event_source,
        event_name
    from int_session_links
    where event_source is not null and event_name is not null
    group by session_id, event_source, event_name
),

activity_apis as (
    select
        session_id,
        count(*) as distinct_apis
    from session_apis
    group by session_id
),

activity_accounts as (
    select
        session_id,
        count(distinct recipient_account_id) as distinct_accounts
    from int_session_links
    group by session_id
),

-- the IP addresses the session was used from: not `AWS Internal` or a service's host name
-- (`cloudformation.amazonaws.com`), which sourceIPAddress holds for a call an AWS service made
-- for the session (§2.1, §5.15): IPv4 and IPv6 are written with hex digits, dots and colons only
activity_ips as (
    select
        session_id,
        count(distinct case
            when regexp_extract(source_ip_address, '^[0-9A-Fa-f.:]+$', 0) <> ''
                then source_ip_address
        end) as distinct_ips
    from int_session_links
    group by session_id
),

-- the accounts whose records the lake holds: a session into any other (outside the
-- organization, or a member whose trail is not collected) made calls the lake cannot show
logged_accounts as (
    select distinct recipient_account_id as account_id
    from int_events
    where recipient_account_id is not null
),

-- the sessions seen only through their calls, by the keys a caller's identity can name: ARN
-- and creation second (one seen session each), or, for calls without a creationDate, ARN and
-- key (one seen session per span of calls). Two joins, not one on the ARN with either match
-- as its condition: that compared every session of a caller ARN with every seen session of
-- it (a role session name reused by every invocation: 57 s of a 5M-event analysis whose
-- calls were all unattributed).
seen_callers as (
    select
        principal_arn,
        creation_time
    from int_sessions_seen
    where principal_arn is not null and creation_time is not null
),

seen_keyed_callers as (
    select
        principal_arn,
        access_key,
        first_use,
        last_use
    from int_sessions_seen
    where principal_arn is not null and creation_time is null
),

joined as (
    select
        s.session_id,
        s.kind,
        s.issue_event_id,
        s.owner_copy_event_id,
        s.signin_event_id,
        s.grant_event_id,
        coalesce(il.linked_parent_id, sf.fallback_parent_id) as parent_session_id,
        case
            when il.linked_parent_id is not null then il.parent_link_rule
            when sf.fallback_parent_id is not null then 'switch_from'
        end as parent_link_rule,
        s.issue_time,
        s.creation_time,
        s.expiration,
        s.issued_key,
        s.principal_arn,
        s.principal_id,
        s.caller_type,
        s.caller_arn,
        s.caller_principal_id,
        s.caller_account,
        s.caller_key,
        s.caller_creation_date,
        s.caller_mfa_authenticated,
        s.caller_invoked_by,
        s.identity_provider,
        s.role_arn,
        s.target_account,
        s.session_name,
        s.source_identity,
        s.requested_duration,
        s.serial_number,
        s.console_mfa_used,
        s.saml_provider_arn,
        s.switch_from,
        s.saml_subject,
        s.saml_issuer,
        s.oidc_subject,
        s.oidc_provider,
        -- the Identity Center user the calls themselves carry (onBehalfOf), else the one of the
        -- GetRoleCredentials paired by account, permission set and time
        coalesce(a.on_behalf_of_user_id, s.on_behalf_of_user_id) as on_behalf_of_user_id,
        s.source_ip,
        s.user_agent,
        s.aws_region,
        a.first_use,
        a.last_use,
        a.last_success,
        coalesce(a.calls_mfa, 0) as calls_mfa,
        coalesce(ac.events, 0) as events,
        coalesce(aa.distinct_apis, 0) as distinct_apis,
        coalesce(ad.distinct_accounts, 0) as distinct_accounts,
        coalesce(ai.distinct_ips, 0) as distinct_ips,
        coalesce(ac.errors, 0) as errors,
        -- several sessions of this ARN and second, not all one known caller's
        coalesce(ck.sessions > 1 and not ck.one_caller, false) as contested_creation,
        la.account_id is not null as target_logged,
        -- only for a session whose issuing call no session accounts for: a contested ARN and
        -- second (or a recycled key's span) has a seen row of the calls no key decides, while
        -- the issuing call, made with the issued key, is linked to its parent
        (sc.principal_arn is not null or sk.principal_arn is not null)
            and il.linked_parent_id is null
            and sf.fallback_parent_id is null as caller_seen,
        d.last_event_time
    from int_session_starts as s
    cross join data_end as d
    left join int_creation_keys as ck
        on ck.principal_arn = s.principal_arn
        and ck.creation_time = s.creation_time
    left join logged_accounts as la on la.account_id = s.target_account
    -- at most one seen session matches: one per ARN and creation second, and one per ARN, key
    -- and span of calls among those without a creationDate
    left join seen_callers as sc
        on sc.principal_arn = s.caller_arn
        and sc.creation_time = date_trunc('second', s.caller_creation_date)
    left join seen_keyed_callers as sk
        on sk.principal_arn = s.caller_arn
        and sk.access_key = s.caller_key
        and s.caller_creation_date is null
        -- a recycled key makes several such sessions: the one the issuing call is in
        and s.issue_time >= sk.first_use
        and s.issue_time <= sk.last_use
    left join issue_links as il on il.session_id = s.session_id
    left join switch_fallback as sf on sf.session_id = s.session_id
    left join activity as a on a.session_id = s.session_id
    left join activity_calls as ac on ac.session_id = s.session_id
    left join activity_apis as aa on aa.session_id = s.session_id
    left join activity_accounts as ad on ad.session_id = s.session_id
    left join activity_ips as ai on ai.session_id = s.session_id
),

classified as (
    select
        session_id,
        kind,
        issue_event_id,
        owner_copy_event_id,
        signin_event_id,
        grant_event_id,
        parent_session_id,
        parent_link_rule,
        case
            when parent_session_id is not null then cast(null as varchar)
            when kind = 'IdentityCenter' then 'IdentityCenter'
            -- an Identity Center console sign-in whose issuance is not in the lake
            when kind = 'ConsoleLogin' and caller_type = 'SAMLUser'
                and (role_arn like '%:role/aws-reserved/sso.amazonaws.com/%'
                    or principal_arn like '%:assumed-role/AWSReservedSSO_%')
                then 'IdentityCenter'
            when kind in ('EC2', 'Lambda', 'ECS') or caller_type = 'AWSService' then 'AWSService'
            -- a console switch of which only the role owner's AWSAccount copy of its
            -- AssumeRole was collected: the console session of the principal SwitchFrom names,
            -- whose sign-in is not in the lake
            when kind = 'SwitchRole' and switch_from is not null and caller_type = 'AWSAccount'
                then 'Unresolved'
            -- only the role owner's copy was collected: a principal of an account whose own trail
            -- is not in the lake (typically outside the organization), known by its principalId
            when caller_type = 'AWSAccount' then 'AWSAccount'
            -- both Cognito flows: GetCredentialsForIdentity (enhanced) and the basic flow's
            -- AssumeRoleWithWebIdentity; the identity id is `oidc_subject` in both
            when kind = 'GetCredentialsForIdentity' then 'Cognito'
            when kind = 'AssumeRoleWithWebIdentity'
                and coalesce(oidc_provider, identity_provider, '')
                    like '%cognito-identity.amazonaws.com%' then 'Cognito'
            when kind = 'AssumeRoleWithWebIdentity' then 'OIDC'
            when kind = 'AssumeRoleWithSAML' or caller_type = 'SAMLUser'
                or saml_provider_arn is not null then 'SAML'
            when caller_type = 'Root' then 'Root'
            when caller_type = 'IAMUser' then 'IAMUser'
            else 'Unresolved'
        end as own_origin_type,
        issue_time,
        creation_time,
        expiration,
        issued_key,
        principal_arn,
        principal_id,
        caller_type,
        caller_arn,
        caller_principal_id,
        caller_account,
        caller_key,
        caller_creation_date,
        caller_mfa_authenticated,
        caller_invoked_by,
        identity_provider,
        role_arn,
        target_account,
        session_name,
        source_identity,
        requested_duration,
        serial_number,
        console_mfa_used,
        saml_provider_arn,
        switch_from,
        saml_subject,
        saml_issuer,
        oidc_subject,
        oidc_provider,
        on_behalf_of_user_id,
        source_ip,
        user_agent,
        aws_region,
        first_use,
        last_use,
        last_success,
        calls_mfa,
        events,
        distinct_apis,
        distinct_accounts,
        distinct_ips,
        errors,
        contested_creation,
        target_logged,
        caller_seen,
        last_event_time
    from joined
)

select
    session_id,
    kind,
    issue_event_id,
    owner_copy_event_id,
    signin_event_id,
    grant_event_id,
    parent_session_id,
    parent_link_rule,
    own_origin_type,
    case own_origin_type
        when 'IAMUser' then caller_arn
        when 'Root' then coalesce(caller_arn, 'arn:aws:iam::' || caller_account || ':root')
        -- without the assertion (a console sign-in whose AssumeRoleWithSAML is not in the
        -- lake), the session name the IdP gave (its RoleSessionName attribute)
        when 'SAML' then 'saml:' || coalesce(saml_issuer, saml_provider_arn, identity_provider, '')
            || '|' || coalesce(saml_subject, session_name, '')
        -- the provider as its issuer host: the part after `oidc-provider/` of the provider ARN
        when 'OIDC' then 'oidc:' || coalesce(
            nullif(regexp_extract(coalesce(oidc_provider, identity_provider), 'oidc-provider/(.+)$', 1), ''),
            oidc_provider, identity_provider, ''
        ) || '|' || coalesce(oidc_subject, '')
        when 'Cognito' then 'cognito:' || coalesce(oidc_subject, '')
        -- the user id; without one (no GetRoleCredentials paired, and no call carrying
        -- onBehalfOf), the user name the SAML assertion gave, not one origin for everybody
        when 'IdentityCenter' then 'idc:' || coalesce(on_behalf_of_user_id, saml_subject, session_name, '')
        when 'AWSService' then 'service:' || coalesce(caller_invoked_by, '')
        when 'AWSAccount' then 'account:' || coalesce(caller_account, '') || '|'
            || coalesce(caller_principal_id, '')
        -- a federated console sign-in whose issuance and caller the lake lacks: the session
        when 'Unresolved' then coalesce(caller_arn, caller_principal_id, principal_arn)
    end as own_origin_id,
    case
        when serial_number is not null then 'mfa'
        when own_origin_type in ('SAML', 'OIDC', 'Cognito', 'IdentityCenter') then 'idp_asserted'
        when parent_session_id is not null then cast(null as varchar)
        -- an IAM user's or root's sign-in; a federated sign-in's MFAUsed is always No (§4.6)
        when kind = 'ConsoleLogin' and caller_type in ('IAMUser', 'Root') and console_mfa_used
            then 'mfa'
        when kind = 'ConsoleLogin' and caller_type in ('IAMUser', 'Root') and not console_mfa_used
            then 'no_mfa'
        -- a sign-in without MFAUsed says nothing: a missing flag is not a false one (§4.6)
        when kind = 'ConsoleLogin' and caller_type in ('IAMUser', 'Root') then 'unknown'
        -- a console session of an IAM user or root calling (sessionContext present)
        when own_origin_type in ('IAMUser', 'Root') and caller_mfa_authenticated then 'mfa'
        when own_origin_type in ('IAMUser', 'Root') then 'no_mfa'
        when own_origin_type = 'Unresolved' and caller_mfa_authenticated then 'mfa'
        -- an origin known only by its principal: its own calls say it was created with MFA
        -- (an AWSAccount copy or a caller not in the lake shows nothing of the caller's MFA)
        when own_origin_type in ('Unresolved', 'AWSAccount') and calls_mfa = 1 then 'mfa'
        else 'unknown'
    end as own_mfa,
    issue_time,
    creation_time,
    expiration,
    -- an expiration before the issue is an inconsistent record (documentation samples have
    -- them), not a lifetime
    case
        when expiration >= issue_time then date_diff('second', issue_time, expiration)
    end as lifetime_seconds,
    issued_key,
    principal_arn,
    principal_id,
    caller_type,
    caller_arn,
    caller_principal_id,
    caller_account,
    caller_key,
    caller_creation_date,
    caller_mfa_authenticated,
    caller_invoked_by,
    identity_provider,
    role_arn,
    target_account,
    session_name,
    source_identity,
    requested_duration,
    serial_number,
    console_mfa_used,
    saml_provider_arn,
    switch_from,
    saml_subject,
    saml_issuer,
    oidc_subject,
    oidc_provider,
    on_behalf_of_user_id,
    source_ip,
    user_agent,
    aws_region,
    first_use,
    last_use,
    events,
    distinct_apis,
    distinct_accounts,
    distinct_ips,
    errors,
    contested_creation,
    target_logged,
    caller_seen,
    -- a call AWS accepted after the credentials expired (beyond 5 s of clock skew), linked by
    -- the session's ARN and creationDate: a console session opened with them (GetSigninToken,
    -- CloudShell) outlives them by up to 12 hours (cloudtrail-semantics.md §4.1); otherwise the
    -- record times, or the records, are suspect
    coalesce(last_success > expiration + interval '5' second, false) as used_after_expiration,
    coalesce(expiration > last_event_time, false) as active_at_end
from classified
