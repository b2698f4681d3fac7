-- name: stg_records_detailed
-- grain: one row per candidate record of the batch (parsed_fields: stg_records_parsed or
-- stg_scanned_records)
-- The STS, sign-in and Identity Center fields live in the (small) blobs: parse them only for
-- the services that issue credentials, not for every activity event (`rq` request, `rs`
-- response, `ad` additional data, `sd` service details).
-- DuckDB-only (runs at ingest, not in the portable analysis layer).
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
from parsed_fields
