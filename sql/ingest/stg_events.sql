-- name: stg_events
-- grain: one row per candidate record of the batch (table raw_records joined to batch_files)
-- Turns raw record text into the lake's typed columns (pipeline/schema.py) plus a reject
-- reason. The issued sessionToken is replaced by a salted SHA-256 before anything is stored.
-- Expiration is Java medium text in UTC ("Sep 17, 2020 8:04:10 PM", "Jul 1, 2026, 12:08:19 PM");
-- creationDate is basic (20131102T010628Z) or extended ISO; booleans arrive as strings.
-- DuckDB-only (runs at ingest, not in the portable analysis layer).
-- params: $salt, $run
with sources as (
    select
        r.filename,
        r.shape,
        r.line,
        r.position,
        r.raw_text,
        r.read_problem,
        f.source_uri,
        f.account_hint
    from raw_records as r
    inner join batch_files as f on r.filename = f.local_path
),

normalized as (
    -- delivery-file, array and EventBridge values come out of json_extract already minified;
    -- whole documents (NDJSON lines, single-record files) keep their spacing, LookupEvents
    -- CloudTrailEvent strings are text, and the compiled splitter (pipeline/scan.py) leaves as
    -- written a record with blanks, escapes or numbers DuckDB may write otherwise (`scanned`):
    -- minify those here, or `"sessionToken": "..."` with a space escapes the redaction below
    -- and the same event hashes differently per shape. A document that is a JSON string
    -- (`scalar`: rejected, not an object) is rewritten too: `\u0022` becomes `\"`, the form
    -- the redaction of a record inside a string knows
    select
        * exclude (raw_text),
        case
            when shape = 'unreadable' then null
            when shape not in ('lookup_events', 'record', 'scanned', 'scalar') then raw_text
            when json_valid(raw_text) then cast(json(raw_text) as varchar)
        end as raw_text,
        shape = 'unreadable' or (shape = 'lookup_events' and not json_valid(raw_text))
            as invalid_text,
        raw_text as original_text
    from sources
),

valid as (
    select
        *,
        case
            when shape = 'digest' then null
            when invalid_text then 'invalid'
            when left(raw_text, 1) <> '{' then 'not_object'
        end as text_problem
    from normalized
),

redacted as (
    select
        * exclude (raw_text, original_text),
        case
            when invalid_text then regexp_replace(
                -- a line cut inside the token has no closing quote: redact to the end; an
                -- escaped quote (\") does not end the token
                original_text,
                '"sessionToken"\s*:\s*"(?:[^"\\]|\\.?)*"?',
                '"sessionToken":"REDACTED"',
                'g'
            )
            -- each token hashed with its own value: a key of the caller's choosing earlier in
            -- the record (a transitive session tag named sessionToken, in requestParameters)
            -- must not set the hash stored for the credentials' token
            when contains(raw_text, '"sessionToken":"') then array_to_string(
                list_transform(
                    regexp_split_to_array(raw_text, '"sessionToken":"(?:[^"\\]|\\.)*"'),
                    lambda piece, i: case
                        when i = 1 then ''
                        else '"sessionToken":"sha256:' || sha256($salt || regexp_extract_all(
                            raw_text, '"sessionToken":"((?:[^"\\]|\\.)*)"', 1
                        )[i - 1]) || '"'
                    end || piece
                ),
                ''
            )
            else raw_text
        end as raw,
        -- the identity of the content (dedupe key, generated eventID) must not depend on the
        -- lake's random salt, or the same record would differ between two lakes: hash the
        -- record with its token blanked instead
        case
            when contains(raw_text, '"sessionToken":"') then md5(regexp_replace(
                raw_text, '"sessionToken":"(?:[^"\\]|\\.)*"', '"sessionToken":""', 'g'
            ))
            else md5(coalesce(raw_text, original_text))
        end as content_md5
    from valid
),

scrubbed as (
    -- a record inside a string (a LookupEvents event, or a CloudWatch Logs message, kept as a
    -- string: rejected as not an object; or a string field of a record) spells the token's key
    -- with escaped quotes, \"sessionToken\":\"...\": redact that form too, up to the quote
    -- that ends the token, keeping the backslashes that escape that quote (\2): a token cut
    -- short in a string (`"sessionToken":"abc` in a user agent, which anyone can send) ends at
    -- the string's own quote, which must stay unescaped or the record stops being JSON. A
    -- pretty-printed record kept in a string has escaped blanks around the colon (\n, \t)
    select
        * exclude (raw),
        case
            when contains(raw, 'sessionToken\') then regexp_replace(
                raw,
                '(\\+)"sessionToken\\+"(?:\s|\\+[nrt])*:(?:\s|\\+[nrt])*\\+"(?:[^"\\]|\\+[^"\\])*(\\*)',
                '\1"sessionToken\1":\1"REDACTED\2',
                'g'
            )
            else raw
        end as raw
    from redacted
),

-- a text that is no record (not JSON, not an object) goes to the quarantine as it was read, and
-- its token may be spelled in ways no rule above knows (a Python repr, `sessionToken=...`, a
-- `session\u0054oken` key, a token that is not a string): when anything like the key is left
-- once the redacted forms are taken out, the text is not kept, only its file and position
guarded as (
    select
        * exclude (raw),
        case when withheld then null else raw end as raw
    from (
        select
            *,
            coalesce(text_problem is not null and regexp_matches(
                regexp_replace(
                    raw,
                    '\\*"sessionToken\\*"(?:\s|\\+[nrt])*:(?:\s|\\+[nrt])*\\*"(?:REDACTED|sha256:[0-9a-f]{64})',
                    '',
                    'g'
                ),
                '(?i)session[_-]?(?:t|\\+u00[57]4)oken'
            ), false) as withheld
        from scrubbed
    )
),

parsed as (
    -- one full parse of the record: top-level scalars, userIdentity, and the four blobs as text.
    -- try(): a record the redaction left unparseable (a defect, never seen) is rejected alone,
    -- with its reason, instead of failing the batch and quarantining its whole file
    select
        *,
        try(json_transform(
            case when text_problem is null then raw end,
            '{
              "eventID": "VARCHAR", "eventTime": "VARCHAR", "eventVersion": "VARCHAR",
              "eventSource": "VARCHAR", "eventName": "VARCHAR", "eventType": "VARCHAR",
              "eventCategory": "VARCHAR", "awsRegion": "VARCHAR", "sourceIPAddress": "VARCHAR",
              "userAgent": "VARCHAR", "errorCode": "VARCHAR", "errorMessage": "VARCHAR",
              "requestID": "VARCHAR", "sharedEventID": "VARCHAR", "readOnly": "VARCHAR",
              "managementEvent": "VARCHAR", "vpcEndpointId": "VARCHAR",
              "sessionCredentialFromConsole": "VARCHAR", "recipientAccountId": "VARCHAR",
              "addendum": {"reason": "VARCHAR", "originalEventID": "VARCHAR"},
              "userIdentity": {
                "type": "VARCHAR", "principalId": "VARCHAR", "arn": "VARCHAR",
                "accountId": "VARCHAR", "accessKeyId": "VARCHAR", "userName": "VARCHAR",
                "invokedBy": "VARCHAR", "credentialId": "VARCHAR", "identityProvider": "VARCHAR",
                "onBehalfOf": {"userId": "VARCHAR", "identityStoreArn": "VARCHAR"},
                "inScopeOf": "JSON",
                "sessionContext": {
                  "sessionIssuer": {
                    "type": "VARCHAR", "principalId": "VARCHAR", "arn": "VARCHAR",
                    "accountId": "VARCHAR", "userName": "VARCHAR"
                  },
                  "webIdFederationData": {"federatedProvider": "VARCHAR", "attributes": "JSON"},
                  "attributes": {"creationDate": "VARCHAR", "mfaAuthenticated": "VARCHAR"},
                  "sourceIdentity": "VARCHAR", "ec2RoleDelivery": "VARCHAR",
                  "assumedRoot": "VARCHAR"
                }
              },
              "requestParameters": "JSON", "responseElements": "JSON",
              "additionalEventData": "JSON", "serviceEventDetails": "JSON", "resources": "JSON"
            }'
        )) as s
    from guarded
),

detailed as (
    -- the STS, sign-in and Identity Center fields live in the (small) blobs; parse them only
    -- for the services that issue credentials, not for every activity event
    select
        *,
        case when s.eventSource in (
            'sts.amazonaws.com', 'signin.amazonaws.com', 'sso.amazonaws.com',
            'cognito-identity.amazonaws.com'
        ) then json_transform(
            s.requestParameters,
            '{
              "roleArn": "VARCHAR", "roleSessionName": "VARCHAR", "durationSeconds": "VARCHAR",
              "serialNumber": "VARCHAR", "externalId": "VARCHAR", "sourceIdentity": "VARCHAR",
              "principalArn": "VARCHAR", "providerId": "VARCHAR", "name": "VARCHAR",
              "targetPrincipal": "VARCHAR", "taskPolicyArn": {"arn": "VARCHAR"},
              "customRoleArn": "VARCHAR", "identityId": "VARCHAR"
            }'
        ) end as rq,
        case when s.eventSource in (
            'sts.amazonaws.com', 'signin.amazonaws.com', 'sso.amazonaws.com',
            'cognito-identity.amazonaws.com'
        ) then json_transform(
            s.responseElements,
            '{
              "credentials": {"accessKeyId": "VARCHAR", "expiration": "VARCHAR"},
              "assumedRoleUser": {"arn": "VARCHAR", "assumedRoleId": "VARCHAR"},
              "sourceIdentity": "VARCHAR", "subject": "VARCHAR", "subjectType": "VARCHAR",
              "issuer": "VARCHAR", "audience": "VARCHAR", "nameQualifier": "VARCHAR",
              "subjectFromWebIdentityToken": "VARCHAR", "provider": "VARCHAR",
              "federatedUser": {"arn": "VARCHAR", "federatedUserId": "VARCHAR"},
              "ConsoleLogin": "VARCHAR", "SwitchRole": "VARCHAR", "identityId": "VARCHAR"
            }'
        ) end as rs,
        case when s.eventSource in ('signin.amazonaws.com', 'sso.amazonaws.com')
            then json_transform(
                s.additionalEventData,
                '{"MFAUsed": "VARCHAR", "SamlProviderArn": "VARCHAR", "SwitchFrom": "VARCHAR",
                  "LoginTo": "VARCHAR"}'
            ) end as ad,
        case when s.eventSource = 'sso.amazonaws.com'
            then json_transform(
                s.serviceEventDetails, '{"account_id": "VARCHAR", "role_name": "VARCHAR"}'
            ) end as sd
    from parsed
),

typed as (
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
    from detailed
)

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
    try_cast(s.readOnly as boolean) as read_only,
    try_cast(s.managementEvent as boolean) as management_event,
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
    try_cast(s.userIdentity.sessionContext.attributes.mfaAuthenticated as boolean)
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
        when s.eventType = 'AwsCloudTrailInsight' or s.eventCategory = 'Insight' then 'skip:insight'
        when text_problem is not null then
            case text_problem
                when 'invalid' then coalesce(read_problem, 'not valid JSON')
                else 'not a JSON object'
            end
            || case when withheld then ' (its text is not kept: it may hold a session token)'
                else '' end
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
