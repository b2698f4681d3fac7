-- name: chk_truth_mismatches
-- grain: one row per (session_id, field) where the analysis differs from the simulator's truth
-- The analysis against the simulator's ground truth (truth/sessions.jsonl, one line per
-- issuance; pipeline/simulate/truth.py names the fields): every session whose issuing event
-- reached the lake must be in `rpt_sessions` (`missing` otherwise), every `rpt_sessions` row
-- must be a truth session (`extra`), and each compared field must be equal. Times are compared
-- to the second, as the truth writes them; `accounts` is the truth's list of accounts against
-- the account path. What a session did in an account outside the organization is never
-- delivered to the organization's trail, so first/last use and the call count are compared
-- only for sessions into a member account (`$org_accounts`). `shared_second`: the session,
-- or its parent in the truth or in the analysis, shares its ARN and second with another session
-- of the analysis: a call names only ARN and creationDate, so where no key, console flag or
-- address tells such sessions apart the data cannot (one person's two sign-ins in one second,
-- called through the console's proxy); a mismatch outside such seconds is a defect to explain.
-- Such a tie can move calls (first/last use, events), the issuing call and so the parent and
-- all the chain inherits, which of the second's console AssumeRoles a switch absorbs (its
-- records, key, expiration and requested duration) and which of one user's Identity Center
-- grants of the second an issuance takes (`related_events`); it cannot make or lose a session
-- or change what the issuing record itself says (kind, issue time, accounts, role, session
-- name): those mismatches, and `missing` and `extra`, are never put down to a shared second.
-- `issue_events`: the issuance's records (the truth's issue_event_ids: the caller's and the
-- role owner's copies, a switch's sign-in). `related_events`: the records that started a
-- session besides its issuing call (the truth's related_event_ids): its Identity Center grant,
-- the console sign-in a federated session made.
-- DuckDB-only (a check of the simulator's corpus, not part of the portable analysis).
-- reads: truth (stg_truth), rpt_sessions
-- params: $org_accounts (the truth summary's org_accounts)
with visible as (
    select *
    from truth
    where delivered
),

-- sessions that share their ARN and second with another session of the analysis
shared_second as (
    select s.session_id
    from rpt_sessions as s
    inner join (
        select principal_arn, date_trunc('second', issue_time) as second
        from rpt_sessions
        where principal_arn is not null
        group by principal_arn, date_trunc('second', issue_time)
        having count(*) > 1
    ) as g
        on g.principal_arn = s.principal_arn
        and g.second = date_trunc('second', s.issue_time)
),

ours as (
    select
        session_id,
        kind,
        strftime(issue_time, '%Y-%m-%dT%H:%M:%SZ') as issue_time,
        issued_key,
        caller_account,
        target_account,
        role_arn,
        session_name,
        requested_duration,
        parent_session_id,
        origin_type,
        origin_id,
        depth,
        account_path,
        cross_account_hops,
        left_org,
        mfa,
        strftime(expiration, '%Y-%m-%dT%H:%M:%SZ') as expiration,
        strftime(first_use, '%Y-%m-%dT%H:%M:%SZ') as first_use,
        strftime(last_use, '%Y-%m-%dT%H:%M:%SZ') as last_use,
        events,
        -- every record of the issuance: the caller's copy, the role owner's copy, the sign-in
        array_to_string(
            list_sort(list_distinct(list_filter(
                [session_id, issue_event_id, owner_copy_event_id], lambda x: x is not null
            ))),
            ','
        ) as issue_events,
        -- the records that started the session besides its issuing call: the Identity Center
        -- grant (GetRoleCredentials) whose user, IP and user agent it takes, the console
        -- sign-in a federated session made
        array_to_string(
            list_sort(list_filter(
                [grant_event_id, case when signin_event_id <> session_id then signin_event_id end],
                lambda x: x is not null
            )),
            ','
        ) as related_events
    from rpt_sessions
),

paired as (
    select
        t.session_id,
        t.kind as truth_kind,
        o.session_id is not null as found,
        coalesce(
            t.session_id in (select session_id from shared_second)
            or t.parent_session_id in (select session_id from shared_second)
            or o.parent_session_id in (select session_id from shared_second),
            false
        ) as shared_second,
        list_contains($org_accounts, t.target_account) as in_org,
        [
            {'field': 'kind', 'truth': t.kind, 'ours': o.kind},
            {'field': 'issue_time', 'truth': t.issue_time, 'ours': o.issue_time},
            {'field': 'issue_events',
             'truth': array_to_string(list_sort(list_distinct(t.issue_event_ids)), ','),
             'ours': o.issue_events},
            {'field': 'issued_key', 'truth': t.issued_key, 'ours': o.issued_key},
            {'field': 'caller_account', 'truth': t.caller_account, 'ours': o.caller_account},
            {'field': 'target_account', 'truth': t.target_account, 'ours': o.target_account},
            {'field': 'role_arn', 'truth': t.role_arn, 'ours': o.role_arn},
            {'field': 'session_name', 'truth': t.session_name, 'ours': o.session_name},
            {'field': 'requested_duration', 'truth': cast(t.requested_duration as varchar),
             'ours': cast(o.requested_duration as varchar)},
            {'field': 'parent_session_id', 'truth': t.parent_session_id,
             'ours': o.parent_session_id},
            {'field': 'origin_type', 'truth': t.origin_type, 'ours': o.origin_type},
            {'field': 'origin_id', 'truth': t.origin_id, 'ours': o.origin_id},
            {'field': 'depth', 'truth': cast(t.depth as varchar), 'ours': cast(o.depth as varchar)},
            {'field': 'accounts', 'truth': array_to_string(t.accounts, ' > '),
             'ours': o.account_path},
            {'field': 'cross_account_hops', 'truth': cast(t.cross_account_hops as varchar),
             'ours': cast(o.cross_account_hops as varchar)},
            {'field': 'left_org', 'truth': cast(t.left_org as varchar),
             'ours': cast(o.left_org as varchar)},
            {'field': 'mfa', 'truth': t.mfa, 'ours': o.mfa},
            {'field': 'expiration', 'truth': t.expiration, 'ours': o.expiration},
            {'field': 'first_use', 'truth': t.first_use, 'ours': o.first_use},
            {'field': 'last_use', 'truth': t.last_use, 'ours': o.last_use},
            {'field': 'events', 'truth': cast(t.events as varchar),
             'ours': cast(o.events as varchar)},
            {'field': 'related_events',
             'truth': array_to_string(list_sort(coalesce(t.related_event_ids, [])), ','),
             'ours': o.related_events}
        ] as fields
    from visible as t
    left join ours as o on o.session_id = t.session_id
),

compared as (
    select
        session_id,
        truth_kind,
        in_org,
        shared_second,
        unnest(fields) as f
    from paired
    where found
)

select
    session_id, truth_kind as kind, f.field as field, f.truth as truth, f.ours as ours,
    shared_second and f.field in (
        'first_use', 'last_use', 'events', 'parent_session_id', 'origin_type', 'origin_id',
        'depth', 'accounts', 'cross_account_hops', 'left_org', 'mfa', 'issued_key',
        'expiration', 'requested_duration', 'issue_events', 'related_events'
    ) as shared_second
from compared
where f.truth is distinct from f.ours
  and (in_org or f.field not in ('first_use', 'last_use', 'events'))
union all
select
    session_id, truth_kind as kind, 'missing' as field, null as truth, null as ours,
    false as shared_second
from paired
where not found
union all
select
    o.session_id, o.kind, 'extra' as field, null as truth, null as ours,
    false as shared_second
from ours as o
anti join truth as t on t.session_id = o.session_id
