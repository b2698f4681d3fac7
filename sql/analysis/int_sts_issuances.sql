-- name: int_sts_issuances
-- grain: one row per successful credential-issuing STS call (logical_event_id)
-- The STS calls that returned credentials: AssumeRole, AssumeRoleWithSAML,
-- AssumeRoleWithWebIdentity, GetSessionToken, GetFederationToken, AssumeRoot; and Cognito
-- identity pools' GetCredentialsForIdentity (the enhanced flow, a data event, §3.8), whose
-- identity id is kept as `oidc_subject` with `oidc_provider` cognito-identity.amazonaws.com, as
-- the basic flow's AssumeRoleWithWebIdentity logs them. Its role is `customRoleArn` when the
-- request named one; otherwise the issuance does not log it (NULL here, so the calls made with
-- the credentials are linked by key and window alone, int_session_links). A cross-account
-- call is delivered to both accounts with one sharedEventID (cloudtrail-semantics.md §4.3): the
-- copies collapse into one row whose identity comes from the caller-side copy (userIdentity not
-- AWSAccount); the role owner's copy is kept as `owner_copy_event_id`. When only the owner copy
-- was collected, the caller is what it shows (type AWSAccount, principalId, accountId).
-- `kind` refines the API: service-issued sessions (EC2, Lambda, ECS, by invokedBy) and IAM Identity
-- Center role credentials (AWSReservedSSO_ roles reached through the AWSSSO_ SAML provider).
-- Not ordered: an intermediate table.
with issuing as (
    -- the one read of the issuing calls from the lake: the copy choice below reads it three
    -- times and the primary copies' columns come from it, so it is kept as one small set
    select
        e.event_id,
        coalesce(shared_event_id, e.event_id) as logical_event_id,
        case when user_type = 'AWSAccount' then 1 else 0 end as owner_copy,
        -- an expiration no STS call can give (none, before the call, or past 36 hours, the
        -- longest lifetime STS issues): of a conflict's records, one that has not is picked
        case
            when expiration >= event_time
                and date_diff('second', event_time, expiration) <= 129600 then 0
            else 1
        end as implausible,
        coalesce(record_hash, '') as record_hash,
        shared_event_id,
        event_time,
        event_name,
        aws_region,
        source_ip_address,
        user_agent,
        recipient_account_id,
        user_type,
        user_principal_id,
        user_arn,
        user_account_id,
        user_access_key_id,
        user_name,
        user_invoked_by,
        user_identity_provider,
        session_mfa_authenticated,
        session_source_identity,
        session_creation_date,
        req_role_arn,
        req_role_session_name,
        req_duration_seconds,
        req_serial_number,
        req_source_identity,
        req_principal_arn,
        req_federation_name,
        req_target_principal,
        req_custom_role_arn,
        issued_access_key_id,
        expiration,
        assumed_role_arn,
        assumed_role_id,
        resp_source_identity,
        saml_subject,
        saml_issuer,
        oidc_subject,
        oidc_provider,
        federated_user_arn,
        federated_user_id,
        cognito_identity_id
    from int_events as e
    -- not a record its UPDATED_DATA correction replaces (int_corrections, §4.4): an outer join,
    -- not `not exists`, which DuckDB plans by first copying the calls' int_events columns
    left join int_corrections as r on r.event_id = e.event_id
    -- two IN lists the Parquet scan can filter on, then the exact source of each API
    where event_source in ('sts.amazonaws.com', 'cognito-identity.amazonaws.com')
      and event_name in (
          'AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity',
          'GetSessionToken', 'GetFederationToken', 'AssumeRoot', 'GetCredentialsForIdentity'
      )
      and (event_source = 'sts.amazonaws.com') = (event_name <> 'GetCredentialsForIdentity')
      and error_code is null
      and issued_access_key_id is not null
      and r.event_id is null
),

-- the copy that speaks for the call: the least eventID among the caller-side copies (else among
-- all); grouped, not ranked: a window over this many tiny partitions costs several times more
copy_picks as (
    select
        logical_event_id,
        coalesce(
            min(case when owner_copy = 0 then event_id end), min(event_id)
        ) as primary_event_id,
        count(distinct event_id) as copies
    from issuing
    group by logical_event_id
),

-- a record redelivered with other content keeps its eventID (a conflict): one record per
-- eventID, a caller-side record before the role owner's AWSAccount one (documentation samples
-- give both copies of a call one eventID: the owner's would make the caller an account), then
-- one whose expiration an STS call can give (a documentation sample's typo made a nine-year
-- session), then the least record_hash. The pick is one string, the flags before the hash, so
-- a plain min() makes it. Only eventIDs with several records are kept, so the join below
-- builds on a handful of rows instead of every issuance.
conflicts as (
    select
        event_id,
        min(cast(owner_copy as varchar) || cast(implausible as varchar) || record_hash) as pick
    from issuing
    group by event_id
    having count(*) > 1
),

-- the role owner's copy: another eventID of the same call
owner_copies as (
    select
        p.logical_event_id,
        min(i.event_id) as owner_copy_event_id
    from issuing as i
    inner join copy_picks as p on p.logical_event_id = i.logical_event_id
    where i.event_id <> p.primary_event_id
    group by p.logical_event_id
),

-- the primary copy of each call, one record per eventID
primary_copy as (
    select
        i.event_id,
        coalesce(i.shared_event_id, i.event_id) as logical_event_id,
        c.copies,
        o.owner_copy_event_id,
        i.event_time,
        i.event_name,
        i.aws_region,
        i.source_ip_address,
        i.user_agent,
        i.recipient_account_id,
        i.user_type,
        i.user_principal_id,
        i.user_arn,
        i.user_account_id,
        i.user_access_key_id,
        i.user_name,
        i.user_invoked_by,
        i.user_identity_provider,
        i.session_mfa_authenticated,
        i.session_source_identity,
        i.session_creation_date,
        i.req_role_arn,
        i.req_role_session_name,
        i.req_duration_seconds,
        i.req_serial_number,
        i.req_source_identity,
        i.req_principal_arn,
        i.req_federation_name,
        i.req_target_principal,
        i.req_custom_role_arn,
        i.issued_access_key_id,
        i.expiration,
        i.assumed_role_arn,
        i.assumed_role_id,
        i.resp_source_identity,
        i.saml_subject,
        i.saml_issuer,
        i.oidc_subject,
        i.oidc_provider,
        i.federated_user_arn,
        i.federated_user_id,
        i.cognito_identity_id
    from issuing as i
    inner join copy_picks as c on c.primary_event_id = i.event_id
    left join conflicts as r on r.event_id = i.event_id
    left join owner_copies as o on o.logical_event_id = c.logical_event_id
    -- a record of no conflict belongs to the one call whose pick it is; a conflict's records
    -- can name two calls (one carries a sharedEventID, the other not) whose picks are one
    -- eventID: the kept record joins only its own call's pick. Inside the conflict branch, not
    -- a join key: as one, DuckDB planned the join otherwise (5M events: 1.9 -> 2.6 s)
    where r.event_id is null
       or (
           r.pick = cast(i.owner_copy as varchar) || cast(i.implausible as varchar)
               || i.record_hash
           and c.logical_event_id = i.logical_event_id
       )
),

classified as (
    select
        event_id,
        logical_event_id,
        copies,
        owner_copy_event_id,
        case
            when event_name = 'AssumeRole' and user_type = 'AWSService'
                and user_invoked_by = 'ec2.amazonaws.com' then 'EC2'
            when event_name = 'AssumeRole' and user_type = 'AWSService'
                and user_invoked_by = 'lambda.amazonaws.com' then 'Lambda'
            when event_name = 'AssumeRole' and user_type = 'AWSService'
                and user_invoked_by = 'ecs-tasks.amazonaws.com' then 'ECS'
            when event_name = 'AssumeRoleWithSAML'
                and (req_role_arn like '%:role/aws-reserved/sso.amazonaws.com/%'
                    or req_principal_arn like '%:saml-provider/AWSSSO_%')
                then 'IdentityCenter'
            else event_name
        end as kind,
        event_time,
        event_name,
        aws_region,
        source_ip_address,
        user_agent,
        recipient_account_id,
        user_type,
        user_principal_id,
        user_arn,
        user_account_id,
        user_access_key_id,
        user_name,
        user_invoked_by,
        user_identity_provider,
        session_mfa_authenticated,
        session_creation_date,
        coalesce(req_role_arn, req_custom_role_arn) as req_role_arn,
        req_role_session_name,
        req_duration_seconds,
        req_serial_number,
        -- set once, it persists across chained hops (§4.2): a chained call that repeats it in
        -- neither its request nor its response carries it in the caller's sessionContext
        coalesce(resp_source_identity, req_source_identity, session_source_identity)
            as source_identity,
        req_principal_arn,
        req_federation_name,
        req_target_principal,
        issued_access_key_id,
        expiration,
        assumed_role_arn,
        assumed_role_id,
        saml_subject,
        saml_issuer,
        coalesce(oidc_subject, cognito_identity_id) as oidc_subject,
        case
            when event_name = 'GetCredentialsForIdentity' then 'cognito-identity.amazonaws.com'
            else oidc_provider
        end as oidc_provider,
        federated_user_arn,
        federated_user_id,
        -- the account that owns the credentials' principal
        case
            when event_name in ('GetSessionToken', 'GetFederationToken')
                then coalesce(user_account_id, recipient_account_id)
            when event_name = 'AssumeRoot'
                then regexp_extract(req_target_principal, '[0-9]{12}')
            -- the identity pool's account, which receives the data event
            when event_name = 'GetCredentialsForIdentity' then recipient_account_id
            -- trimmed: a request can carry a roleArn with a space after `iam::` (a real sample)
            else coalesce(nullif(trim(split_part(req_role_arn, ':', 5)), ''), recipient_account_id)
        end as target_account,
        -- the ARN later calls made with these credentials show as userIdentity.arn
        case
            when assumed_role_arn is not null then assumed_role_arn
            when federated_user_arn is not null then federated_user_arn
            when event_name = 'GetSessionToken' then user_arn
            when event_name = 'AssumeRoot'
                then 'arn:' || split_part(coalesce(user_arn, 'arn:aws'), ':', 2) || ':iam::'
                    || regexp_extract(req_target_principal, '[0-9]{12}') || ':root'
            when req_role_arn is not null and req_role_session_name is not null
                then 'arn:' || split_part(req_role_arn, ':', 2) || ':sts::'
                    || split_part(req_role_arn, ':', 5) || ':assumed-role/'
                    || regexp_extract(req_role_arn, '[^/]+$') || '/' || req_role_session_name
        end as principal_arn,
        coalesce(assumed_role_id, federated_user_id) as principal_id
    from primary_copy
)

select
    event_id as issue_event_id,
    logical_event_id,
    owner_copy_event_id,
    copies,
    kind,
    event_name,
    event_time as issue_time,
    expiration,
    issued_access_key_id as issued_key,
    principal_arn,
    principal_id,
    user_type as caller_type,
    user_arn as caller_arn,
    user_principal_id as caller_principal_id,
    -- federated and service callers have no AWS account of their own; a Cognito identity's
    -- credentials are issued to the identity, whoever signed the call
    case
        when user_type in ('SAMLUser', 'WebIdentityUser', 'AWSService')
            or event_name = 'GetCredentialsForIdentity' then cast(null as varchar)
        else coalesce(user_account_id, recipient_account_id)
    end as caller_account,
    user_access_key_id as caller_key,
    session_creation_date as caller_creation_date,
    session_mfa_authenticated as caller_mfa_authenticated,
    user_invoked_by as caller_invoked_by,
    user_identity_provider as identity_provider,
    user_name as caller_user_name,
    req_role_arn as role_arn,
    target_account,
    coalesce(req_role_session_name, req_federation_name) as session_name,
    source_identity,
    req_duration_seconds as requested_duration,
    req_serial_number as serial_number,
    req_principal_arn as saml_provider_arn,
    req_target_principal as target_principal,
    saml_subject,
    saml_issuer,
    oidc_subject,
    oidc_provider,
    source_ip_address as source_ip,
    user_agent,
    -- AWS's own call for a user (address `AWS Internal`, user agent `aws-internal/...`): the
    -- sign-in service's AssumeRoleWithSAML for a console federation (EX#6), the console's
    -- AssumeRole for a SwitchRole; its address and agent are not the user's
    coalesce(
        source_ip_address = 'AWS Internal' or user_agent like 'aws-internal/%', false
    ) as aws_internal_call,
    aws_region,
    recipient_account_id
from classified
