-- name: int_session_starts
-- grain: one row per credential issuance (session_id)
-- Every way temporary credentials are born, as one row each, with the identity later calls
-- made with them carry (`principal_arn`, `creation_time`: the issue time to the second, as
-- sessionContext.attributes.creationDate), so int_session_links can find them:
--   * STS issuances and Cognito GetCredentialsForIdentity (int_sts_issuances), session_id = the
--     caller-side copy's eventID;
--   * console sign-ins: IAM user and root ConsoleLogin, and SwitchRole; session_id = the sign-in
--     eventID. A SwitchRole is paired with the AssumeRole the console made for it: same session
--     ARN, same second (EX#1/EX#3). That call gives the issued key, expiration and caller, and is
--     not a session of its own. A ConsoleLogin with role credentials (SAML console federation)
--     is not a session either: it is recorded as `signin_event_id` of the STS session it used.
--     When the lake lacks that STS session (a trail without us-east-1, §5.12), the sign-in is
--     the session (kind ConsoleLogin): its caller a SAML identity when it names SamlProviderArn
--     or its role is Identity Center's, else unknown; its creationDate learned from its calls
--     (the sign-in record's own sessionContext among them), with the role; its session name from
--     its ARN.
--     A console session without a logged expiration (an IAM user's or root's, such a federated
--     one) is assumed to last 12 hours (the console's sign-out limit), so its lifetime and
--     `active_at_end` are upper bounds.
--   * Cognito's GetCredentialsForIdentity logs the role only when the app sent customRoleArn,
--     and never the session ARN: both, the session name and the creationDate are learned from
--     the calls made with the issued key inside its window (they all carry the one session's
--     identity; the least value is taken so a stray record cannot make the result arbitrary).
--   * IAM Identity Center: the AWSReservedSSO_ AssumeRoleWithSAML is paired with the
--     sso GetRoleCredentials (same account and permission set, within a minute, §4.1 item 5),
--     whose onBehalfOf.userId names the human and whose IP and user agent are the session's (the
--     AssumeRoleWithSAML is Identity Center's own call); one grant pairs with one issuance.
-- Not ordered: an intermediate table (rpt_sessions is the ordered public one).
with signin_rows as (
    select
        event_id,
        event_name,
        event_time,
        aws_region,
        source_ip_address,
        user_agent,
        recipient_account_id,
        user_type,
        user_arn,
        user_principal_id,
        user_account_id,
        console_mfa_used,
        saml_provider_arn,
        switch_from,
        -- records that share an eventID (a conflict: same id, other content) make one session:
        -- the earliest, and among equal times the least record_hash, so every run picks the same.
        -- Picked among the records of its part only: a federated sign-in (a sign-in event of
        -- an STS session) picked over an IAM user's or root's sign-in (a session of its own)
        -- left that session out (data sets that number their records "1", "2", ...)
        row_number() over (
            partition by
                event_id,
                case
                    when event_name = 'SwitchRole' or user_type in ('IAMUser', 'Root') then 1
                    else 0
                end
            order by event_time, record_hash
        ) as duplicate_rank
    from int_events as e
    where event_source = 'signin.amazonaws.com'
      and error_code is null
      and (
          (event_name = 'ConsoleLogin' and console_login_result = 'Success')
          or (event_name = 'SwitchRole' and switch_role_result = 'Success')
      )
      and user_arn is not null
      -- not a record its UPDATED_DATA correction replaces (int_corrections, §4.4)
      and not exists (select 1 from int_corrections as c where c.event_id = e.event_id)
),

signins as (
    select
        event_id,
        event_name,
        event_time,
        aws_region,
        source_ip_address,
        user_agent,
        recipient_account_id,
        user_type,
        user_arn,
        user_principal_id,
        user_account_id,
        console_mfa_used,
        saml_provider_arn,
        switch_from
    from signin_rows
    where duplicate_rank = 1
),

-- Time-window joins match on equal keys first: the minute of one side against each minute the
-- other side's window can reach. On the principal or the account and role alone they compared
-- every pair of one key: 20 days of a large organization gave 120M candidate pairs for
-- Identity Center, growing with the square of the days analyzed. Each pair is still found
-- once: its time falls in one minute only. (Console federation, whose window is a session's
-- whole lifetime, uses a running window instead: federated_console.)
minute_offsets as (
    select minutes from (values (-1), (0), (1)) as o (minutes)
),

-- a SwitchRole, once for each minute its +-10 s window can reach
switch_minutes as (
    select
        g.event_id,
        g.event_time,
        g.user_arn,
        g.switch_from,
        g.source_ip_address,
        date_trunc('minute', g.event_time) + o.minutes * interval '1' minute as bucket
    from signins as g
    cross join minute_offsets as o
    where g.event_name = 'SwitchRole'
),

-- where each IAM user's or root's console session was signed in from (ARN, creation second,
-- address; distinct, so a join on all three never repeats a row): the console's AssumeRole for
-- a switch names its caller's console session by ARN and creationDate, and the switch comes
-- from that session's browser
console_addresses as (
    select distinct
        user_arn,
        date_trunc('second', event_time) as creation_time,
        source_ip_address
    from signins
    where event_name = 'ConsoleLogin'
      and source_ip_address is not null
),

-- the STS call behind a role-session sign-in: same session ARN within a few seconds, made by
-- the console for the principal the switch came from (caller = SwitchFrom; the role owner's
-- AWSAccount copy names only the caller's account, which must be SwitchFrom's). The session name is
-- the caller's to choose: anyone allowed to assume the role can name a session after the
-- user who switches into it, in the same second, and would otherwise take the switch's place
-- (its sign-in, MFA and origin). Of AssumeRoles equally near, one whose caller's console
-- session was signed in from the switch's address ranks first (`address_rank` 0): one user's
-- two switches into one role in one second, from two browsers signed in at other times, each
-- take the AssumeRole their own console session made. Paired in pair_candidates.
signin_sts_candidates as (
    select
        g.event_id as signin_event_id,
        i.issue_event_id,
        abs(date_diff('second', i.issue_time, g.event_time)) as gap_seconds,
        case when a.user_arn is null then 1 else 0 end as address_rank
    from switch_minutes as g
    inner join int_sts_issuances as i
        on i.principal_arn = g.user_arn
        and date_trunc('minute', i.issue_time) = g.bucket
        and i.issue_time >= g.event_time - interval '10' second
        and i.issue_time <= g.event_time + interval '10' second
    left join console_addresses as a
        on a.user_arn = i.caller_arn
        and a.creation_time = date_trunc('second', i.caller_creation_date)
        and a.source_ip_address = g.source_ip_address
    where i.caller_arn = g.switch_from
       or (i.caller_arn is null and i.caller_account = split_part(g.switch_from, ':', 5))
),

-- a console sign-in with role credentials (SAML console federation, SamlProviderArn; or a
-- federation endpoint's sign-in with earlier credentials): not a session of its own but a
-- sign-in event of the STS session of its ARN it used (federated_console says which)
console_signins as (
    select
        event_id,
        event_time,
        user_arn,
        source_ip_address,
        user_agent
    from signins
    where event_name = 'ConsoleLogin' and user_type in ('AssumedRole', 'FederatedUser')
),

-- SAML console federation: the sign-in service assumes the role (address `AWS Internal`, user
-- agent `aws-internal/...`: EX#6) and signs the browser in with it within seconds; the same
-- person's other sessions of that ARN (the CLI's, another browser's) can be issued between
-- the two, so the latest issuance alone took theirs. Each sign-in, once for each minute its
-- -60 s .. +10 s window can reach
console_signin_minutes as (
    select
        g.event_id,
        g.event_time,
        g.user_arn,
        g.source_ip_address,
        date_trunc('minute', g.event_time) + o.minutes * interval '1' minute as bucket
    from console_signins as g
    cross join minute_offsets as o
    where g.source_ip_address is not null
),

-- the issuance of the sign-in's ARN in that window made by the sign-in service, else one from
-- the sign-in's own address (a broker or federation page on the user's machine); of several,
-- one at or before the sign-in, the nearest, the least event id
console_near as (
    select
        signin_event_id,
        issue_event_id
    from (
        select
            g.event_id as signin_event_id,
            i.issue_event_id,
            row_number() over (
                partition by g.event_id
                order by
                    case when i.aws_internal_call then 0 else 1 end,
                    case when i.issue_time <= g.event_time then 0 else 1 end,
                    abs(date_diff('second', i.issue_time, g.event_time)),
                    i.issue_event_id
            ) as rank_for_signin
        from console_signin_minutes as g
        inner join int_sts_issuances as i
            on i.principal_arn = g.user_arn
            and date_trunc('minute', i.issue_time) = g.bucket
            and i.issue_time >= g.event_time - interval '60' second
            and i.issue_time <= g.event_time + interval '10' second
        where i.aws_internal_call or i.source_ip = g.source_ip_address
    ) as ranked
    where rank_for_signin = 1
),

-- The sign-in service's issuances of an ARN and its console sign-ins, in time order, in bursts
-- that no gap of over a minute splits. The service assumes the role, then signs the browser in
-- a second or so later, so one person's federations a second apart interleave (issue, issue,
-- sign-in, sign-in) and the nearest issuance gave both sign-ins the second one: in a burst with
-- as many issuances as sign-ins, each within 5 s before its sign-in, the n-th sign-in takes the
-- n-th issuance (of one second, the issuance first, then event id order: a tie either way).
console_federation_points as (
    select
        principal_arn,
        issue_time as point_time,
        0 as point_kind,
        issue_event_id as point_id
    from int_sts_issuances
    where aws_internal_call
      and principal_arn in (select user_arn from console_signins)
    union all
    select
        user_arn as principal_arn,
        event_time as point_time,
        1 as point_kind,
        event_id as point_id
    from console_signins
),

console_federation_gaps as (
    select
        principal_arn,
        point_time,
        point_kind,
        point_id,
        case
            when point_time - interval '60' second <= lag(point_time) over (
                partition by principal_arn order by point_time, point_kind, point_id
            ) then 0
            else 1
        end as starts_burst
    from console_federation_points
),

console_federation_bursts as (
    select
        principal_arn,
        point_time,
        point_kind,
        point_id,
        sum(starts_burst) over (
            partition by principal_arn
            order by point_time, point_kind, point_id
            rows between unbounded preceding and current row
        ) as burst
    from console_federation_gaps
),

console_federation_ranked as (
    select
        principal_arn,
        point_time,
        point_kind,
        point_id,
        burst,
        row_number() over (
            partition by principal_arn, burst, point_kind order by point_time, point_id
        ) as burst_rank,
        sum(point_kind) over (partition by principal_arn, burst) as burst_signins,
        count(*) over (partition by principal_arn, burst) as burst_points
    from console_federation_bursts
),

-- the n-th sign-in and the n-th issuance of each burst with as many of each; EX#6's shape is
-- an issuance at most a few seconds before its sign-in, never after
console_in_order_pairs as (
    select
        g.principal_arn,
        g.burst,
        g.point_id as signin_event_id,
        i.point_id as issue_event_id,
        case
            when i.point_time <= g.point_time
                and i.point_time >= g.point_time - interval '5' second then 1
            else 0
        end as fits
    from console_federation_ranked as g
    inner join console_federation_ranked as i
        on i.principal_arn = g.principal_arn
        and i.burst = g.burst
        and i.burst_rank = g.burst_rank
        and i.point_kind = 0
    where g.point_kind = 1
      and g.burst_signins * 2 = g.burst_points
),

-- kept only where every pair of the burst fits: an issuance whose sign-in the lake lacks and a
-- sign-in from elsewhere (a federation endpoint's, with the CLI's credentials) balance the
-- counts but shift the pairs, which then do not all fit; such a burst keeps the nearest rule
console_in_order as (
    select
        signin_event_id,
        issue_event_id
    from (
        select
            signin_event_id,
            issue_event_id,
            min(fits) over (partition by principal_arn, burst) as burst_fits
        from console_in_order_pairs
    ) as checked
    where burst_fits = 1
),

-- the issuances such a sign-in can have used (same session ARN, valid from 10 s before the call,
-- as a sign-in may precede it), numbered in issue order and in expiration order
console_issuances as (
    select
        issue_event_id,
        principal_arn,
        issue_time,
        expiration,
        row_number() over (
            partition by principal_arn order by issue_time, issue_event_id desc
        ) as issue_order,
        row_number() over (
            partition by principal_arn order by expiration, issue_time, issue_event_id desc
        ) as expiration_order
    from int_sts_issuances
    where principal_arn in (select user_arn from console_signins)
      and expiration >= issue_time - interval '10' second
),

-- Pairing each sign-in with every valid issuance of its ARN and keeping the latest compared
-- N x M pairs for a session name assumed N times and signed in with M times (anyone allowed
-- sts:AssumeRole can repeat one). The issuances and sign-ins of an ARN in time order instead
-- (a sign-in at its time + 10 s) carry the latest issuance so far and the one that expires last.
console_points as (
    select
        principal_arn,
        issue_time as point_time,
        issue_order,
        expiration_order,
        cast(null as varchar) as signin_event_id
    from console_issuances
    union all
    select
        user_arn as principal_arn,
        event_time + interval '10' second as point_time,
        cast(null as bigint) as issue_order,
        cast(null as bigint) as expiration_order,
        event_id as signin_event_id
    from console_signins
),

console_reach as (
    select
        principal_arn,
        point_time - interval '10' second as signin_time,
        signin_event_id,
        max(issue_order) over (
            partition by principal_arn
            order by point_time
            range between unbounded preceding and current row
        ) as latest_issue,
        max(expiration_order) over (
            partition by principal_arn
            order by point_time
            range between unbounded preceding and current row
        ) as longest_issue
    from console_points
),

-- the sign-in service's issuance in burst order (console_in_order), else the nearest such or
-- one to the sign-in's address just before it (console_near), else the latest
-- issuance (of one second, the least event id) if still valid at the sign-in, else the one
-- that expires last if it is: the latest valid one, unless the latest has expired and of
-- several still valid a later one expires first (then the earlier, longer one)
federated_console as (
    select
        coalesce(o.issue_event_id, n.issue_event_id, l.issue_event_id, x.issue_event_id)
            as issue_event_id,
        r.signin_event_id
    from console_reach as r
    left join console_in_order as o on o.signin_event_id = r.signin_event_id
    left join console_near as n on n.signin_event_id = r.signin_event_id
    left join console_issuances as l
        on l.principal_arn = r.principal_arn
        and l.issue_order = r.latest_issue
        and l.expiration >= r.signin_time
    left join console_issuances as x
        on x.principal_arn = r.principal_arn
        and x.expiration_order = r.longest_issue
        and x.expiration >= r.signin_time
    where r.signin_event_id is not null
),

-- one sign-in per session (the least id), with where it came from: the browser's address and
-- agent, which the session takes when the sign-in service made the issuance (int_sessions)
federated_console_first as (
    select
        f.issue_event_id,
        f.signin_event_id,
        g.source_ip_address as signin_source_ip,
        g.user_agent as signin_user_agent
    from (
        select
            issue_event_id,
            min(signin_event_id) as signin_event_id
        from federated_console
        where issue_event_id is not null
        group by issue_event_id
    ) as f
    inner join console_signins as g on g.event_id = f.signin_event_id
),

-- A console sign-in with role credentials whose issuance the lake lacks (a trail without
-- us-east-1, where the global STS endpoint logs AssumeRoleWithSAML while the sign-in is logged
-- in its own region, §5.12; an issuance before the data starts): a session of its own, keyed by
-- the sign-in, so a SAML sign-in is still a federated login and its calls still link.
console_unpaired as (
    select
        g.event_id,
        g.event_time,
        g.user_arn
    from console_signins as g
    where not exists (
        select 1
        from federated_console as f
        where f.signin_event_id = g.event_id and f.issue_event_id is not null
    )
      -- an eventID another session is keyed by (data sets that number their records "1",
      -- "2", ...) stays that session's
      and not exists (
          select 1
          from signins as o
          where o.event_id = g.event_id
            and (o.event_name = 'SwitchRole' or o.user_type in ('IAMUser', 'Root'))
      )
      and not exists (select 1 from int_sts_issuances as i where i.issue_event_id = g.event_id)
),

-- the creationDate its calls carry, the issuance's time: of the creationDates its ARN's calls
-- name from 60 s before to 10 s after the sign-in (the sign-in service assumes the role
-- seconds before, EX#6), one at or before the sign-in, the nearest; and the role they name
console_unpaired_created as (
    select
        signin_event_id,
        creation_time,
        role_arn
    from (
        select
            u.event_id as signin_event_id,
            c.creation_time,
            c.role_arn,
            row_number() over (
                partition by u.event_id
                order by
                    case when c.creation_time <= u.event_time then 0 else 1 end,
                    abs(date_diff('second', c.creation_time, u.event_time)),
                    c.creation_time,
                    c.role_arn
            ) as rank_for_signin
        from console_unpaired as u
        inner join (
            select distinct
                user_arn,
                date_trunc('second', session_creation_date) as creation_time,
                session_issuer_arn as role_arn
            from int_events
            where user_arn in (select user_arn from console_unpaired)
              and session_creation_date is not null
        ) as c
            on c.user_arn = u.user_arn
            and c.creation_time >= u.event_time - interval '60' second
            and c.creation_time <= u.event_time + interval '10' second
    ) as ranked
    where rank_for_signin = 1
),

sso_grants as (
    -- the user: onBehalfOf.userId; Identity Center records before July 2025 have a userIdentity
    -- of type `Unknown` whose principalId is the user (§2.2). The grant is the user's own
    -- request, so its IP and user agent are the user's (EX#13, the IP EX#15 is called from).
    select
        event_id,
        event_time,
        sso_account_id,
        sso_role_name,
        on_behalf_of_user_id,
        user_account_id,
        source_ip_address,
        user_agent
    from (
        select
            event_id,
            event_time,
            sso_account_id,
            sso_role_name,
            coalesce(
                on_behalf_of_user_id,
                case when user_type = 'Unknown' then user_principal_id end
            ) as on_behalf_of_user_id,
            user_account_id,
            source_ip_address,
            user_agent
        from int_events as e
        where event_source = 'sso.amazonaws.com'
          and event_name = 'GetRoleCredentials'
          and error_code is null
          -- not a record its UPDATED_DATA correction replaces (int_corrections, §4.4)
          and not exists (select 1 from int_corrections as c where c.event_id = e.event_id)
    ) as g
    where on_behalf_of_user_id is not null
),

-- an Identity Center issuance, once for each minute its +-60 s window can reach
idc_minutes as (
    select
        i.issue_event_id,
        i.issue_time,
        i.target_account,
        i.session_name,
        regexp_extract(i.role_arn, 'AWSReservedSSO_(.+)_[0-9a-f]+$', 1) as sso_role_name,
        date_trunc('minute', i.issue_time) + o.minutes * interval '1' minute as bucket
    from int_sts_issuances as i
    cross join minute_offsets as o
    where i.kind = 'IdentityCenter'
),

-- every grant an Identity Center issuance can pair with: same account and permission set,
-- within a minute
idc_candidates as (
    select
        i.issue_event_id,
        s.event_id as grant_event_id,
        s.on_behalf_of_user_id,
        s.user_account_id as idc_account,
        s.source_ip_address as grant_source_ip,
        s.user_agent as grant_user_agent,
        i.session_name,
        abs(date_diff('second', s.event_time, i.issue_time)) as gap_seconds
    from idc_minutes as i
    inner join sso_grants as s
        on s.sso_account_id = i.target_account
        and s.sso_role_name = i.sso_role_name
        and date_trunc('minute', s.event_time) = i.bucket
        and s.event_time >= i.issue_time - interval '60' second
        and s.event_time <= i.issue_time + interval '60' second
),

-- A grant serves one issuance (pair_candidates pairs them with the switches' AssumeRoles).
-- Which user is which session name: a grant names the user by id, Identity Center's
-- AssumeRoleWithSAML by user name (the session name), and nothing in either record joins them.
-- Every pair that is the only candidate of both its sides says it once (per Identity Center
-- instance account: user ids are its identity store's). Two users of one permission set in
-- one account in one second (a team at nine in the morning) have equal gaps; of those, a pair
-- seen so elsewhere in the lake ranks first (`name_rank` 0). Positive evidence only: a user
-- renamed, or deleted and provisioned again with a new id, is not held against the pair.
idc_alone as (
    select
        idc_account,
        on_behalf_of_user_id,
        session_name,
        count(*) over (partition by issue_event_id) as grants_for_issue,
        count(*) over (partition by grant_event_id) as issues_for_grant
    from idc_candidates
    where session_name is not null
),

idc_known as (
    select distinct
        idc_account,
        on_behalf_of_user_id,
        session_name
    from idc_alone
    where grants_for_issue = 1 and issues_for_grant = 1
),

idc_named as (
    select
        c.issue_event_id,
        c.grant_event_id,
        c.on_behalf_of_user_id,
        c.idc_account,
        c.grant_source_ip,
        c.grant_user_agent,
        c.gap_seconds,
        case when k.on_behalf_of_user_id is not null then 0 else 1 end as name_rank
    from idc_candidates as c
    left join idc_known as k
        on coalesce(k.idc_account, '') = coalesce(c.idc_account, '')
        and k.on_behalf_of_user_id = c.on_behalf_of_user_id
        and k.session_name = c.session_name
),

-- One matching serves both pairings no shared id decides: a SwitchRole with the console's
-- AssumeRole (left: the switch, right: the issuance; of equal gaps, `address_rank`) and an
-- Identity Center issuance with its grant (left: the issuance, right: the grant; of equal
-- gaps, `name_rank`). A pair is kept when each side is the other's best (the nearest; of equal
-- gaps, the lower tie rank, then the least event id), then a second round among those the first
-- left unpaired. Ranking one side only let several issuances take one grant, and so one user's
-- identity. Two users of one permission set in one account within seconds can interleave (X's
-- grant, Y's grant and issuance, X's issuance): the first round pairs Y, the second X. One
-- user's two switches into one role in one second (two browsers) have two AssumeRoles of one
-- ARN and time, and when no address tells them apart (two sign-ins from one address, a caller
-- that is no console sign-in) both switches rank the same one first; that each switch has one
-- the records do say. With one round, the second switch kept no key, expiration or role, and
-- its AssumeRole became a session of its own (from `AWS Internal`, so the address rule of
-- int_session_links gave it every call through the console's proxy). An Identity Center
-- issuance unpaired after both rounds keeps its SAML subject or session name as its origin
-- (int_sessions) rather than take another user's grant.
pair_candidates as (
    select
        'switch' as pairing,
        signin_event_id as left_id,
        issue_event_id as right_id,
        gap_seconds,
        address_rank as tie_rank
    from signin_sts_candidates
    union all
    select
        'idc' as pairing,
        issue_event_id as left_id,
        grant_event_id as right_id,
        gap_seconds,
        name_rank as tie_rank
    from idc_named
),

pair_ranked as (
    select
        pairing,
        left_id,
        right_id,
        row_number() over (
            partition by pairing, left_id order by gap_seconds, tie_rank, right_id
        ) as rank_for_left,
        row_number() over (
            partition by pairing, right_id order by gap_seconds, tie_rank, left_id
        ) as rank_for_right
    from pair_candidates
),

pair_first as (
    select pairing, left_id, right_id
    from pair_ranked
    where rank_for_left = 1 and rank_for_right = 1
),

pair_second as (
    select
        c.pairing,
        c.left_id,
        c.right_id,
        row_number() over (
            partition by c.pairing, c.left_id order by c.gap_seconds, c.tie_rank, c.right_id
        ) as rank_for_left,
        row_number() over (
            partition by c.pairing, c.right_id order by c.gap_seconds, c.tie_rank, c.left_id
        ) as rank_for_right
    from pair_candidates as c
    where not exists (
        select 1 from pair_first as f where f.pairing = c.pairing and f.left_id = c.left_id
    )
      and not exists (
          select 1 from pair_first as f where f.pairing = c.pairing and f.right_id = c.right_id
      )
),

pairs as (
    select pairing, left_id, right_id
    from pair_first
    union all
    select pairing, left_id, right_id
    from pair_second
    where rank_for_left = 1 and rank_for_right = 1
),

signin_sts as (
    select
        left_id as signin_event_id,
        right_id as issue_event_id
    from pairs
    where pairing = 'switch'
),

idc_pairs as (
    select
        n.issue_event_id,
        n.grant_event_id,
        n.on_behalf_of_user_id,
        n.idc_account,
        n.grant_source_ip,
        n.grant_user_agent
    from pairs as p
    inner join idc_named as n
        on n.issue_event_id = p.left_id
        and n.grant_event_id = p.right_id
    where p.pairing = 'idc'
),

-- Cognito GetCredentialsForIdentity sessions whose ARN the issuance did not log, and what the
-- calls signed with the issued key inside the credentials' window say about them
cognito_unlogged as (
    select
        issue_event_id,
        issued_key,
        issue_time,
        expiration
    from int_sts_issuances
    where kind = 'GetCredentialsForIdentity' and principal_arn is null
),

cognito_learned as (
    select
        u.issue_event_id,
        min(e.user_arn) as principal_arn,
        min(e.session_issuer_arn) as role_arn,
        min(e.session_creation_date) as creation_time
    from cognito_unlogged as u
    inner join int_events as e
        on e.user_access_key_id = u.issued_key
        and e.event_time >= u.issue_time - interval '5' second
        and e.event_time <= u.expiration + interval '5' second
    where e.user_type = 'AssumedRole'
    group by u.issue_event_id
),

sts_sessions as (
    select
        i.issue_event_id as session_id,
        i.kind,
        i.issue_event_id,
        i.owner_copy_event_id,
        fc.signin_event_id,
        p.grant_event_id,
        i.issue_time,
        -- what calls carry as creationDate, which has whole seconds: an eventTime can have a
        -- fraction (a re-export), and the link on ARN + creationDate must still match
        date_trunc('second', coalesce(cl.creation_time, i.issue_time)) as creation_time,
        i.expiration,
        i.issued_key,
        coalesce(i.principal_arn, cl.principal_arn) as principal_arn,
        i.principal_id,
        i.caller_type,
        i.caller_arn,
        i.caller_principal_id,
        i.caller_account,
        i.caller_key,
        i.caller_creation_date,
        i.caller_mfa_authenticated,
        i.caller_invoked_by,
        i.identity_provider,
        coalesce(i.role_arn, cl.role_arn) as role_arn,
        i.target_account,
        coalesce(i.session_name, regexp_extract(cl.principal_arn, '[^/]+$')) as session_name,
        i.source_identity,
        i.requested_duration,
        i.serial_number,
        cast(null as boolean) as console_mfa_used,
        i.saml_provider_arn,
        cast(null as varchar) as switch_from,
        i.saml_subject,
        i.saml_issuer,
        i.oidc_subject,
        i.oidc_provider,
        p.on_behalf_of_user_id,
        -- Identity Center's AssumeRoleWithSAML is Identity Center's own call (an AWS address,
        -- its SDK): the user's IP and agent are those of the paired grant; a console
        -- federation's is the sign-in service's (`AWS Internal`, EX#6): the browser's are those
        -- of the sign-in
        coalesce(
            p.grant_source_ip,
            case when i.aws_internal_call then fc.signin_source_ip end,
            i.source_ip
        ) as source_ip,
        coalesce(
            p.grant_user_agent,
            case when i.aws_internal_call then fc.signin_user_agent end,
            i.user_agent
        ) as user_agent,
        i.aws_region
    from int_sts_issuances as i
    left join signin_sts as m on m.issue_event_id = i.issue_event_id
    left join idc_pairs as p on p.issue_event_id = i.issue_event_id
    left join federated_console_first as fc on fc.issue_event_id = i.issue_event_id
    left join cognito_learned as cl on cl.issue_event_id = i.issue_event_id
    where m.signin_event_id is null
),

signin_sessions as (
    select
        g.event_id as session_id,
        g.event_name as kind,
        coalesce(i.issue_event_id, g.event_id) as issue_event_id,
        i.owner_copy_event_id,
        g.event_id as signin_event_id,
        cast(null as varchar) as grant_event_id,
        g.event_time as issue_time,
        -- whole seconds, as creationDate (sts_sessions); a federated sign-in's is learned from
        -- its calls (console_unpaired_created)
        date_trunc('second', coalesce(i.issue_time, uc.creation_time, g.event_time))
            as creation_time,
        -- a console session lasts at most 12 hours (an IAM user's or root's; a federated one's
        -- SessionDuration is at most that)
        case
            when i.expiration is not null then i.expiration
            when g.event_name = 'ConsoleLogin' then g.event_time + interval '12' hour
        end as expiration,
        i.issued_key,
        g.user_arn as principal_arn,
        coalesce(i.principal_id, g.user_principal_id) as principal_id,
        -- a switch whose AssumeRole is not in the lake: its caller is the principal SwitchFrom
        -- names (§3), known by that ARN alone, not the switched session the record is about
        coalesce(i.caller_type, case
            -- a federated sign-in whose issuance is not in the lake: a SAML identity when the
            -- sign-in names its provider or is Identity Center's (an AWSReservedSSO_ role), else
            -- a caller the lake does not show
            when g.event_name = 'ConsoleLogin' and g.user_type not in ('IAMUser', 'Root') then
                case
                    when g.saml_provider_arn is not null
                        or g.user_arn like '%:assumed-role/AWSReservedSSO_%'
                        then 'SAMLUser'
                end
            when g.switch_from is null then g.user_type
            when g.switch_from like 'arn:%:iam::%:user/%' then 'IAMUser'
            when g.switch_from like 'arn:%:iam::%:root' then 'Root'
            when g.switch_from like 'arn:%:sts::%:assumed-role/%' then 'AssumedRole'
            when g.switch_from like 'arn:%:sts::%:federated-user/%' then 'FederatedUser'
        end) as caller_type,
        coalesce(
            i.caller_arn,
            g.switch_from,
            case when g.user_type in ('IAMUser', 'Root') then g.user_arn end
        ) as caller_arn,
        coalesce(
            i.caller_principal_id,
            case when g.switch_from is null and g.user_type in ('IAMUser', 'Root')
                then g.user_principal_id end
        ) as caller_principal_id,
        coalesce(
            i.caller_account,
            split_part(g.switch_from, ':', 5),
            case when g.user_type in ('IAMUser', 'Root') then g.user_account_id end
        ) as caller_account,
        i.caller_key,
        i.caller_creation_date,
        i.caller_mfa_authenticated,
        i.caller_invoked_by,
        i.identity_provider,
        coalesce(i.role_arn, uc.role_arn) as role_arn,
        coalesce(i.target_account, g.user_account_id, g.recipient_account_id) as target_account,
        coalesce(
            i.session_name,
            case
                when g.event_name = 'ConsoleLogin' and g.user_type not in ('IAMUser', 'Root')
                    then regexp_extract(g.user_arn, '[^/]+$')
            end
        ) as session_name,
        i.source_identity,
        i.requested_duration,
        i.serial_number,
        g.console_mfa_used,
        coalesce(g.saml_provider_arn, i.saml_provider_arn) as saml_provider_arn,
        g.switch_from,
        i.saml_subject,
        i.saml_issuer,
        i.oidc_subject,
        i.oidc_provider,
        cast(null as varchar) as on_behalf_of_user_id,
        g.source_ip_address as source_ip,
        g.user_agent,
        g.aws_region
    from signins as g
    left join signin_sts as m on m.signin_event_id = g.event_id
    left join int_sts_issuances as i on i.issue_event_id = m.issue_event_id
    left join console_unpaired_created as uc on uc.signin_event_id = g.event_id
    where g.event_name = 'SwitchRole' or g.user_type in ('IAMUser', 'Root')
       or g.event_id in (select event_id from console_unpaired)
),

all_sessions as (
    select
        session_id, kind, issue_event_id, owner_copy_event_id, signin_event_id, grant_event_id,
        issue_time, creation_time, expiration, issued_key, principal_arn, principal_id,
        caller_type, caller_arn, caller_principal_id, caller_account, caller_key,
        caller_creation_date, caller_mfa_authenticated, caller_invoked_by, identity_provider,
        role_arn, target_account, session_name, source_identity, requested_duration,
        serial_number, console_mfa_used, saml_provider_arn, switch_from, saml_subject,
        saml_issuer, oidc_subject, oidc_provider, on_behalf_of_user_id, source_ip, user_agent,
        aws_region
    from sts_sessions
    union all
    select
        session_id, kind, issue_event_id, owner_copy_event_id, signin_event_id, grant_event_id,
        issue_time, creation_time, expiration, issued_key, principal_arn, principal_id,
        caller_type, caller_arn, caller_principal_id, caller_account, caller_key,
        caller_creation_date, caller_mfa_authenticated, caller_invoked_by, identity_provider,
        role_arn, target_account, session_name, source_identity, requested_duration,
        serial_number, console_mfa_used, saml_provider_arn, switch_from, saml_subject,
        saml_issuer, oidc_subject, oidc_provider, on_behalf_of_user_id, source_ip, user_agent,
        aws_region
    from signin_sessions
)

select
    session_id,
    kind,
    issue_event_id,
    owner_copy_event_id,
    signin_event_id,
    grant_event_id,
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
    aws_region
from all_sessions
