-- name: sel_explain_evidence
-- grain: one row per stored record proving session $session_id (event_id, record_hash)
-- The records behind one session: its issuing call (both account copies), the sign-in event,
-- the Identity Center grant, read back from the lake. They all fall between $first_day and
-- $last_day (the day before the session's issue and the day after its expiration): only those
-- partitions of the lake are read. Records that share an event id with them (a conflicting
-- delivery, a data set with made-up ids) are shown only when they are records of that part's
-- API and, for the issuing call and its owner copy, issued the session's key (or no key).
with wanted as (
    -- no id ties a console sign-in to the STS call it used (a SwitchRole to the console's
    -- AssumeRole, a SAML console sign-in to the sign-in service's AssumeRoleWithSAML): say how
    -- they were paired (int_session_starts)
    select
        issue_event_id as event_id,
        case
            when kind = 'SwitchRole' and signin_event_id <> issue_event_id
                then 'issuing call (the console''s AssumeRole for the switch; no shared id: '
                    || 'paired by session ARN and time within 10 s, of two switches in one '
                    || 'second by the address the caller signed in from)'
            else 'issuing call'
        end as role,
        'issue' as part,
        issued_key as expected_key
    from rpt_sessions where session_id = $session_id
    union all
    select owner_copy_event_id, 'role owner copy (sharedEventID)', 'issue', issued_key
    from rpt_sessions where session_id = $session_id and owner_copy_event_id is not null
    union all
    select
        signin_event_id,
        case
            when kind = 'SwitchRole' then 'SwitchRole (the console''s record of the switch)'
            else 'console sign-in (no shared id: paired by session ARN and time: the issuance '
                || 'the sign-in service made just before it, else one from the sign-in''s own '
                || 'address in the minute before it, else the latest one still valid)'
        end,
        'signin',
        cast(null as varchar)
    from rpt_sessions
    where session_id = $session_id
      and signin_event_id is not null
      and signin_event_id <> issue_event_id
    union all
    -- no id ties the grant to the issuance (§4.1.5): say how it was paired
    select
        grant_event_id,
        'Identity Center GetRoleCredentials (no shared id: paired by account, permission set '
        || 'and nearest time within 60 s; of equal times, by the user name its id was seen with)',
        'grant',
        cast(null as varchar)
    from rpt_sessions where session_id = $session_id and grant_event_id is not null
)

select
    w.role,
    e.event_id,
    e.event_time,
    e.event_source,
    e.event_name,
    e.recipient_account_id,
    e.user_type,
    e.user_arn,
    e.user_access_key_id,
    e.session_creation_date,
    e.source_ip_address,
    e.issued_access_key_id,
    e.shared_event_id,
    e.record_hash,
    -- where the record was read: copies that share an event id (a conflicting delivery, the AWS
    -- documentation's examples) look alike in the other columns shown. The line too where the
    -- position is an index on it (a Firehose object's payload, documents on one line)
    regexp_extract(e.source_uri, '([^/]+)$', 1)
        || case
            when e.source_line is not null and e.source_line <> e.source_position
                then ' line ' || cast(e.source_line as varchar)
            else ''
        end
        || ' #' || cast(e.source_position as varchar) as source,
    e.source_uri,
    e.source_position,
    e.source_line
from wanted as w
inner join events as e on e.event_id = w.event_id
where e.event_date between $first_day and $last_day
  and case w.part
      when 'signin' then e.event_name in ('ConsoleLogin', 'SwitchRole')
      when 'grant' then e.event_name = 'GetRoleCredentials'
      else e.event_name in (
          'AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity', 'GetSessionToken',
          'GetFederationToken', 'AssumeRoot', 'GetCredentialsForIdentity', 'ConsoleLogin'
      )
  end
  and (
      w.expected_key is null
      or e.issued_access_key_id is null
      or e.issued_access_key_id = w.expected_key
  )
-- records that share an event id (copies, conflicting deliveries) in a fixed order
order by
    e.event_time, w.role, e.event_id, e.recipient_account_id, e.source_uri,
    e.source_line nulls first, e.source_position, e.record_hash
