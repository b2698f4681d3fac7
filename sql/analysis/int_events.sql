-- name: int_events
-- grain: one row per stored record (event_id), CloudTrail Insights records excluded
-- The columns of `events` the analysis reads. Built as a view, not a table: each later step
-- then scans only the lake columns and rows it uses (a materialized copy of every record cost
-- more than all those scans together, and grew with the lake). Columns every call needs for its
-- attribution (identity, key, creationDate, what and where) are kept for all records; the
-- caller details read only from STS, sign-in, Identity Center and Cognito identity-pool records
-- are kept for those records alone (NULL elsewhere), and the STS request/response columns are
-- NULL elsewhere already. `call_user_agent`, `call_mfa_authenticated` and `call_invoked_by` are
-- the user agent, sessionContext mfaAuthenticated and invokedBy of every record, read for the
-- calls the links carry or no session in the lake accounts for (int_session_links,
-- int_sessions_seen; a view's column costs nothing where it is not read).
-- `console_call`: the record was signed with console credentials (int_session_links tells a
-- console session from an API session of the same ARN and creation second by it).
-- `sdk_call`: the record's user agent is the AWS CLI's or an AWS SDK's (not a console page's,
-- not CloudShell's CLI): a call the console did not make (int_session_links lowers its
-- confidence when its only session is a console sign-in). The user agent is the caller's to
-- choose: it only weighs one link's confidence, never which session a call goes to.
-- `org_trail` is true when the record came from an organization-trail object key
-- (`AWSLogs/o-ORGID/ACCOUNT/...`, §1.1): its recipient account is then in the organization.
-- Not ordered: one row per record.
select
    event_id,
    shared_event_id,
    event_time,
    event_source,
    event_name,
    recipient_account_id,
    source_ip_address,
    error_code,
    user_type,
    user_arn,
    user_access_key_id,
    session_creation_date,
    session_issuer_arn,
    on_behalf_of_user_id,
    case when issuing_source then aws_region end as aws_region,
    case when issuing_source then user_agent end as user_agent,
    case when issuing_source then user_principal_id end as user_principal_id,
    case when issuing_source then user_account_id end as user_account_id,
    case when issuing_source then user_name end as user_name,
    case when issuing_source then user_invoked_by end as user_invoked_by,
    case when issuing_source then user_identity_provider end as user_identity_provider,
    case when issuing_source then session_mfa_authenticated end as session_mfa_authenticated,
    case when issuing_source then session_source_identity end as session_source_identity,
    case when issuing_source then record_hash end as record_hash,
    user_agent as call_user_agent,
    session_mfa_authenticated as call_mfa_authenticated,
    user_invoked_by as call_invoked_by,
    console_call,
    sdk_call,
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
    cognito_identity_id,
    console_login_result,
    switch_role_result,
    console_mfa_used,
    saml_provider_arn,
    switch_from,
    sso_account_id,
    sso_role_name,
    org_trail,
    org_trail_id
from (
    select
        event_id,
        shared_event_id,
        event_time,
        event_source,
        event_name,
        recipient_account_id,
        source_ip_address,
        error_code,
        user_type,
        user_arn,
        user_access_key_id,
        session_creation_date,
        session_issuer_arn,
        on_behalf_of_user_id,
        event_source in (
            'sts.amazonaws.com', 'signin.amazonaws.com', 'sso.amazonaws.com',
            'cognito-identity.amazonaws.com'
        ) as issuing_source,
        -- a call signed with console credentials (§4.1 item 3): the flag (eventVersion 1.08+),
        -- the sign-in service or the console proxy invoking it (`AWS Internal`: the console's
        -- own AssumeRole for a SwitchRole carries no flag), or the console's user agent; or a
        -- console page's backend calling through an AWS SDK on nobody else's behalf: real 1.08
        -- records of the S3 and RDS consoles' pages carry no flag, no invokedBy and a
        -- user agent like `[S3Console/0.4, aws-internal/3 aws-sdk-java/...]`
        coalesce(session_credential_from_console, false)
        or coalesce(user_invoked_by in ('signin.amazonaws.com', 'AWS Internal'), false)
        or coalesce(user_agent = 'console.amazonaws.com', false)
        or coalesce(user_invoked_by is null and user_agent like '%Console%aws-internal/%', false)
            as console_call,
        -- anywhere in the agent: S3 records bracket it (`[aws-cli/1.11.10 ...]`), Terraform's
        -- names its SDK last (`[APN/1.0 HashiCorp/1.0 Terraform/... aws-sdk-go/...]`). Not a
        -- console page's backend (`[S3Console/0.4, aws-internal/3 aws-sdk-java/...]`,
        -- `EC2ConsoleBackend, aws-sdk-java/...`), nor CloudShell's CLI, which signs with the
        -- console session's credentials (§4.1 item 3)
        coalesce(
            (user_agent like '%aws-cli/%' or user_agent like '%Boto3/%'
                or user_agent like '%Botocore/%' or user_agent like '%aws-sdk-%')
            and user_agent not like '%aws-internal/%'
            and user_agent not like '%Console%'
            and user_agent not like '%exec-env/CloudShell%',
            false
        ) as sdk_call,
        aws_region,
        user_agent,
        user_principal_id,
        user_account_id,
        user_name,
        user_invoked_by,
        user_identity_provider,
        session_mfa_authenticated,
        session_source_identity,
        record_hash,
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
        cognito_identity_id,
        console_login_result,
        switch_role_result,
        console_mfa_used,
        saml_provider_arn,
        switch_from,
        sso_account_id,
        sso_role_name,
        source_uri like '%AWSLogs/o-%' as org_trail,
        case
            when source_uri like '%AWSLogs/o-%'
                then regexp_extract(source_uri, 'AWSLogs/(o-[a-z0-9]+)/', 1)
        end as org_trail_id
    from events
    -- ingest already skips Insights records; this keeps the step right on any `events` input
    where coalesce(event_type, '') <> 'AwsCloudTrailInsight'
) as scanned
