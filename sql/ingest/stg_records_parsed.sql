-- name: stg_records_parsed
-- grain: one row per candidate record of the batch (table raw_records joined to batch_files)
-- Record text to parsed fields: normalizes the text, hashes or redacts every session token
-- (a salted SHA-256) before anything is stored, and parses the record once (`s`, a struct of
-- its fields as text). stg_records_detailed parses the credential services' blobs and
-- stg_events types the fields; stg_scanned_records gives them the same `s` from the compiled
-- splitter's fields.
-- DuckDB-only (runs at ingest, not in the portable analysis layer).
-- params: $salt
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
    -- CloudTrailEvent strings and CloudWatch Logs messages are text, and the compiled splitter
    -- (pipeline/scan.py) leaves as written a record with blanks, escapes or numbers DuckDB may
    -- write otherwise (`scanned`):
    -- minify those here, or `"sessionToken": "..."` with a space escapes the redaction below
    -- and the same event hashes differently per shape. A document that is a JSON string
    -- (`scalar`: rejected, not an object) is rewritten too: `\u0022` becomes `\"`, the form
    -- the redaction of a record inside a string knows
    select
        * exclude (raw_text),
        case
            when shape = 'unreadable' then null
            when shape not in (
                'lookup_events', 'cloudwatch_logs', 'record', 'scanned', 'scalar', 'two_lists'
            ) then raw_text
            when json_valid(raw_text) then cast(json(raw_text) as varchar)
        end as raw_text,
        shape = 'unreadable'
            or (shape in ('lookup_events', 'cloudwatch_logs') and not json_valid(raw_text))
            as invalid_text,
        raw_text as original_text
    from sources
),

valid as (
    select
        *,
        case
            when shape in ('digest', 'cloudwatch_control', 'cloudwatch_other') then null
            when invalid_text then 'invalid'
            when shape = 'two_lists' then 'two_lists'
            when left(raw_text, 1) <> '{' then 'not_object'
        end as text_problem
    from normalized
),

-- the session tokens of a record, each one's own value (one regex pass, read by `redacted`)
tokened as (
    select
        *,
        case when contains(raw_text, '"sessionToken":"') then regexp_extract_all(
            raw_text, '"sessionToken":"((?:[^"\\]|\\.)*)"', 1
        ) end as tokens
    from valid
),

redacted as (
    select
        * exclude (raw_text, original_text, tokens),
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
            when tokens is not null then array_to_string(
                list_transform(
                    regexp_split_to_array(raw_text, '"sessionToken":"(?:[^"\\]|\\.)*"'),
                    lambda piece, i: case
                        when i = 1 then ''
                        else '"sessionToken":"sha256:' || sha256($salt || tokens[i - 1]) || '"'
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
            when tokens is not null then md5(regexp_replace(
                raw_text, '"sessionToken":"(?:[^"\\]|\\.)*"', '"sessionToken":""', 'g'
            ))
            else md5(coalesce(raw_text, original_text))
        end as content_md5
    from tokened
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
    from scrubbed
)

select * from parsed
