-- name: stg_events
-- grain: one row per candidate record of the batch (parsed_records: stg_records_parsed or
-- stg_scanned_records)
-- Turns parsed record fields into the lake's typed columns (pipeline/schema.py) plus a reject
-- reason. Expiration is Java medium text in UTC ("Sep 17, 2020 8:04:10 PM", "Jul 1, 2026,
-- 12:08:19 PM"); creationDate is basic (20131102T010628Z) or extended ISO; booleans arrive as
-- strings (`true` or `false`, in any case; anything else, `yes` or `1`, is NULL: not what
-- CloudTrail writes, so not a guess at it). The fields' values are text (VARCHAR; the blobs as
-- JSON text): `s` the record, `rq`/`rs`/`ad`/`sd` the credential services' request, response,
-- additional data and service details.
-- DuckDB-only (runs at ingest, not in the portable analysis layer).
-- params: $run
with typed as (
    select
        *,
        -- CloudTrail writes 2026-11-01T10:00:00Z; other exports may add a fraction or write an
        -- offset or UTC (Athena and Trino print `2026-11-01 10:00:00.000 UTC`). Anything else DuckDB's cast would accept (a date alone, `epoch`, a zone name,
        -- 24:00:00) is not an event time: the record is rejected, not placed on a guessed day
        -- (DuckDB's strptime too reads `epoch` and `infinity`, and skips blanks)
        case when regexp_full_match(
            s.eventTime,
            '[0-9]{4,}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]'
            || '([.][0-9]{1,9})?(Z| ?UTC|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?'
        ) then coalesce(
            try_strptime(s.eventTime, '%Y-%m-%dT%H:%M:%SZ'),
            try_cast(s.eventTime as timestamptz)
        ) end as parsed_event_time
    from parsed_records
),

judged as (
    select
        coalesce(nullif(s.eventID, ''), 'gen-' || content_md5) as event_id,
        nullif(s.eventID, '') is null as event_id_generated,
        content_md5 as record_hash,
        cast(parsed_event_time as timestamptz) as event_time,
        s.eventVersion as event_version,
        s.eventSource as event_source,
        s.eventName as event_name,
        s.eventType as event_type,
        s.eventCategory as event_category,
        s.awsRegion as aws_region,
        s.sourceIPAddress as source_ip_address,
        s.userAgent as user_agent,
        s.errorCode as error_code,
        s.errorMessage as error_message,
        s.requestID as request_id,
        s.sharedEventID as shared_event_id,
        case lower(s.readOnly) when 'true' then true when 'false' then false end as read_only,
        case lower(s.managementEvent) when 'true' then true when 'false' then false end
            as management_event,
        s.vpcEndpointId as vpc_endpoint_id,
        lower(s.sessionCredentialFromConsole) = 'true' as session_credential_from_console,
        s.addendum.reason as addendum_reason,
        s.addendum.originalEventID as addendum_original_event_id,
        s.userIdentity.type as user_type,
        s.userIdentity.principalId as user_principal_id,
        s.userIdentity.arn as user_arn,
        s.userIdentity.accountId as user_account_id,
        nullif(s.userIdentity.accessKeyId, '') as user_access_key_id,
        s.userIdentity.userName as user_name,
        s.userIdentity.invokedBy as user_invoked_by,
        s.userIdentity.credentialId as user_credential_id,
        s.userIdentity.identityProvider as user_identity_provider,
        s.userIdentity.onBehalfOf.userId as on_behalf_of_user_id,
        s.userIdentity.onBehalfOf.identityStoreArn as on_behalf_of_identity_store_arn,
        s.userIdentity.sessionContext.sessionIssuer.type as session_issuer_type,
        s.userIdentity.sessionContext.sessionIssuer.principalId as session_issuer_principal_id,
        s.userIdentity.sessionContext.sessionIssuer.arn as session_issuer_arn,
        s.userIdentity.sessionContext.sessionIssuer.accountId as session_issuer_account_id,
        s.userIdentity.sessionContext.sessionIssuer.userName as session_issuer_user_name,
        case lower(s.userIdentity.sessionContext.attributes.mfaAuthenticated)
            when 'true' then true when 'false' then false end
            as session_mfa_authenticated,
        cast(coalesce(
            try_strptime(s.userIdentity.sessionContext.attributes.creationDate, '%Y-%m-%dT%H:%M:%SZ'),
            try_strptime(s.userIdentity.sessionContext.attributes.creationDate, '%Y%m%dT%H%M%SZ'),
            try_cast(s.userIdentity.sessionContext.attributes.creationDate as timestamptz)
        ) as timestamptz) as session_creation_date,
        s.userIdentity.sessionContext.sourceIdentity as session_source_identity,
        s.userIdentity.sessionContext.webIdFederationData.federatedProvider as web_id_federated_provider,
        cast(s.userIdentity.sessionContext.webIdFederationData.attributes as varchar) as web_id_attributes,
        s.userIdentity.sessionContext.ec2RoleDelivery as ec2_role_delivery,
        lower(s.userIdentity.sessionContext.assumedRoot) = 'true' as assumed_root,
        cast(s.userIdentity.inScopeOf as varchar) as in_scope_of,
        rq.roleArn as req_role_arn,
        rq.roleSessionName as req_role_session_name,
        try_cast(rq.durationSeconds as integer) as req_duration_seconds,
        rq.serialNumber as req_serial_number,
        rq.externalId as req_external_id,
        rq.sourceIdentity as req_source_identity,
        rq.principalArn as req_principal_arn,
        rq.providerId as req_provider_id,
        rq.name as req_federation_name,
        rq.targetPrincipal as req_target_principal,
        rq.taskPolicyArn.arn as req_task_policy_arn,
        rq.customRoleArn as req_custom_role_arn,
        rs.credentials.accessKeyId as issued_access_key_id,
        rs.credentials.expiration as expiration_raw,
        cast(coalesce(
            try_strptime(
                regexp_replace(rs.credentials.expiration, '[\x{00A0}\x{202F}]', ' ', 'g'),
                ['%b %d, %Y, %I:%M:%S %p', '%b %d, %Y %I:%M:%S %p', '%Y-%m-%dT%H:%M:%SZ']
            ),
            try_cast(rs.credentials.expiration as timestamptz)
        ) as timestamptz) as expiration,
        rs.assumedRoleUser.arn as assumed_role_arn,
        rs.assumedRoleUser.assumedRoleId as assumed_role_id,
        rs.sourceIdentity as resp_source_identity,
        rs.subject as saml_subject,
        rs.subjectType as saml_subject_type,
        rs.issuer as saml_issuer,
        rs.audience as saml_audience,
        rs.nameQualifier as saml_name_qualifier,
        rs.subjectFromWebIdentityToken as oidc_subject,
        rs.provider as oidc_provider,
        rs.federatedUser.arn as federated_user_arn,
        rs.federatedUser.federatedUserId as federated_user_id,
        -- Cognito identity pools (GetId, GetCredentialsForIdentity, GetOpenIdToken): the identity
        -- the call was for; the response names it even when the request did not (GetId)
        case when s.eventSource = 'cognito-identity.amazonaws.com'
            then coalesce(rs.identityId, rq.identityId) end as cognito_identity_id,
        rs.ConsoleLogin as console_login_result,
        rs.SwitchRole as switch_role_result,
        case lower(ad.MFAUsed) when 'yes' then true when 'no' then false end
            as console_mfa_used,
        ad.SamlProviderArn as saml_provider_arn,
        ad.SwitchFrom as switch_from,
        ad.LoginTo as login_to,
        sd.account_id as sso_account_id,
        sd.role_name as sso_role_name,
        cast(s.requestParameters as varchar) as request_parameters,
        cast(s.responseElements as varchar) as response_elements,
        cast(s.additionalEventData as varchar) as additional_event_data,
        cast(s.serviceEventDetails as varchar) as service_event_details,
        cast(s.resources as varchar) as resources,
        raw,
        source_uri,
        cast(position as integer) as source_position,
        cast(line as integer) as source_line,
        $run as ingest_run,
        cast(parsed_event_time as date) as event_date,
        -- a partition folder name: only a safe token (an account ID, or 'unknown'/'invalid'; not
        -- the name Hive-style readers take for NULL); the logged value stays in raw
        case
            when regexp_full_match(coalesce(
                nullif(s.recipientAccountId, ''), account_hint, nullif(s.userIdentity.accountId, ''),
                'unknown'
            ), '[A-Za-z0-9_-]{1,64}') and coalesce(
                nullif(s.recipientAccountId, ''), account_hint, nullif(s.userIdentity.accountId, ''),
                'unknown'
            ) <> '__HIVE_DEFAULT_PARTITION__' then coalesce(
                nullif(s.recipientAccountId, ''), account_hint, nullif(s.userIdentity.accountId, ''),
                'unknown'
            )
            else 'invalid'
        end as recipient_account_id,
        -- the partition's account was not the record's own (taken from the path or the caller):
        -- another copy of the record can sit under another account (stg_lake_keys)
        nullif(s.recipientAccountId, '') is null as recipient_guessed,
        case
            when shape = 'digest' then 'skip:digest'
            when shape = 'cloudwatch_control' then 'skip:control'
            when shape = 'cloudwatch_other' then 'skip:other_stream'
            when s.eventType = 'AwsCloudTrailInsight' or s.eventCategory = 'Insight' then 'skip:insight'
            when text_problem is not null then
                case text_problem
                    when 'invalid' then coalesce(read_problem, 'not valid JSON')
                    when 'two_lists' then 'a document with two record lists (Records or Events '
                        || 'twice, or both): its records are not told apart; write each list '
                        || 'as a document of its own'
                    else 'not a JSON object'
                end
            when s is null
                then 'not valid JSON once its session token was redacted (please report it)'
            when s.eventVersion is null and s.eventSource is null and s.eventName is null
                and s.eventID is null then 'not a CloudTrail record: no eventVersion, eventSource, eventName or eventID'
            when s.eventTime is null then 'no eventTime: the record cannot be placed in time'
            when parsed_event_time is null then 'eventTime is not a timestamp: ' || left(s.eventTime, 40)
            -- `infinity`, a year past 9999 or before 1 parse, but name no day a partition can hold
            when not isfinite(parsed_event_time)
                or parsed_event_time < timestamptz '0001-01-01 00:00:00+00'
                or parsed_event_time >= timestamptz '10000-01-01 00:00:00+00'
                then 'eventTime is outside the years 1-9999: ' || left(s.eventTime, 40)
            when s.eventName is null and s.eventSource is null
                then 'not a CloudTrail record: no eventName or eventSource'
        end as reject_reason
    from typed
),

-- A rejected record goes to the quarantine as its text, and its token may be spelled in ways
-- the redaction of stg_records_parsed does not know: a text that is no record (a Python repr,
-- `sessionToken=...`, a `session\u0054oken` key, a token that is not a string), or a record
-- rejected for what it holds (no eventTime, not CloudTrail's: a CloudTrail Lake row, whose
-- `responseelements` flattens the credentials to `{accessKeyId=..., sessionToken=...}`; a
-- `SessionToken` key). When anything like the key is left once the redacted forms are taken
-- out, the text is not kept, only its file and position. Nor is a token no key names in the
-- text (the rest of an NDJSON line a log shipper cut in two: the key ends the line before) or
-- whose key is escaped some other way (`\u0073essionToken`): every run of 100 or more base64
-- characters (a slash also as JSON's `\/`) is kept as REDACTED. Such a run is a credential or
-- an opaque blob, of no use for finding the record, which the file and position name.
-- A stored record is held to the same where it can hold a token the hash missed: CloudTrail
-- writes `"sessionToken":"..."`, which the splitter and stg_records_parsed hash, but a record
-- another tool re-serialized may name the key otherwise (`SessionToken`, `session_token`; the
-- splitter sends such a record here rather than type it as plain). Its text and blobs then keep
-- no token: each such key's string value is REDACTED, and so is every run of 100 or more base64
-- characters. (A key with an escaped letter is CloudTrail's once stg_records_parsed minifies
-- the text, and hashed there.)
token_checked as (
    select
        *,
        case
            when reject_reason like 'skip:%' then false
            when reject_reason is not null then coalesce(regexp_matches(
                regexp_replace(
                    raw,
                    '\\*"sessionToken\\*"(?:\s|\\+[nrt])*:(?:\s|\\+[nrt])*\\*"(?:REDACTED|sha256:[0-9a-f]{64})',
                    '',
                    'g'
                ),
                '(?i)session[_-]?(?:t|\\+u00[57]4)oken'
            ), false)
            -- most stored records name no token at all: two substring searches decide those
            when not (contains(raw, 'oken') or contains(raw, 'OKEN')) then false
            -- a key other than CloudTrail's: what the splitter types as plain has none
            else coalesce(regexp_matches(
                replace(raw, '"sessionToken":', ''),
                '(?i)"session[_-]?token"\s*:'
            ), false)
        end as token_left
    from judged
),

guarded as (
    select
        *,
        token_left and reject_reason is not null as withheld,
        -- a stored record's text and blobs, each such key's value and each base64 run REDACTED
        case when token_left and reject_reason is null then list_transform(
            [raw, request_parameters, response_elements, additional_event_data,
                service_event_details],
            lambda t: regexp_replace(
                regexp_replace(
                    t,
                    '(?i)("session[_-]?token"\s*:\s*")(?:[^"\\]|\\.)*',
                    '\1REDACTED',
                    'g'
                ),
                '(?:[A-Za-z0-9+/]|\\/){100,}=*',
                'REDACTED',
                'g'
            )
        ) end as scrubbed
    from token_checked
)

select
    * exclude (token_left, withheld, scrubbed) replace (
        case
            when withheld then cast(null as varchar)
            when reject_reason is not null and reject_reason not like 'skip:%'
                then regexp_replace(raw, '(?:[A-Za-z0-9+/]|\\/){100,}=*', 'REDACTED', 'g')
            when scrubbed is not null then scrubbed[1]
            else raw
        end as raw,
        case when scrubbed is not null then scrubbed[2] else request_parameters end
            as request_parameters,
        case when scrubbed is not null then scrubbed[3] else response_elements end
            as response_elements,
        case when scrubbed is not null then scrubbed[4] else additional_event_data end
            as additional_event_data,
        case when scrubbed is not null then scrubbed[5] else service_event_details end
            as service_event_details,
        reject_reason
        || case when withheld then ' (its text is not kept: it may hold a session token)'
            else '' end as reject_reason
    )
from guarded
