-- name: stg_scanned_records
-- grain: one row per record of the batch the compiled splitter typed from its fields and that is
-- not plain (table scanned_records, not route, not plain, joined to batch_files)
-- The records of delivery files whose text is as DuckDB writes it (pipeline/scan.py), in the
-- columns stg_records_parsed gives: the text stored as it is (its session tokens hashed by the
-- splitter as stg_records_parsed hashes them), its MD5 with the tokens blanked (the content's
-- identity, computed by the splitter), and `s`, the fields the lake types, as text, built from the
-- splitter's columns (a string's contents, another value's text; JSON fields keep a string's
-- quotes), as json_transform builds them from the text.
-- DuckDB-only (runs at ingest, not in the portable analysis layer).
select
    f.filename,
    'records' as shape,
    cast(null as bigint) as line,
    f.position,
    cast(null as varchar) as read_problem,
    b.source_uri,
    b.account_hint,
    false as invalid_text,
    cast(null as varchar) as text_problem,
    -- the content's identity does not depend on the lake's salt: the splitter's MD5 of the
    -- text as written, its tokens' contents left out (as md5() of the text with each
    -- `"sessionToken":"..."` blanked)
    f.content_md5,
    f.raw,
    struct_pack(
        eventID := f."eventID",
        eventTime := f."eventTime",
        eventVersion := f."eventVersion",
        eventSource := f."eventSource",
        eventName := f."eventName",
        eventType := f."eventType",
        eventCategory := f."eventCategory",
        awsRegion := f."awsRegion",
        sourceIPAddress := f."sourceIPAddress",
        userAgent := f."userAgent",
        errorCode := f."errorCode",
        errorMessage := f."errorMessage",
        requestID := f."requestID",
        sharedEventID := f."sharedEventID",
        readOnly := f."readOnly",
        managementEvent := f."managementEvent",
        vpcEndpointId := f."vpcEndpointId",
        sessionCredentialFromConsole := f."sessionCredentialFromConsole",
        recipientAccountId := f."recipientAccountId",
        addendum := struct_pack(
            reason := f."addendum.reason",
            originalEventID := f."addendum.originalEventID"
        ),
        userIdentity := struct_pack(
            type := f."userIdentity.type",
            principalId := f."userIdentity.principalId",
            arn := f."userIdentity.arn",
            accountId := f."userIdentity.accountId",
            accessKeyId := f."userIdentity.accessKeyId",
            userName := f."userIdentity.userName",
            invokedBy := f."userIdentity.invokedBy",
            credentialId := f."userIdentity.credentialId",
            identityProvider := f."userIdentity.identityProvider",
            onBehalfOf := struct_pack(
                userId := f."userIdentity.onBehalfOf.userId",
                identityStoreArn := f."userIdentity.onBehalfOf.identityStoreArn"
            ),
            inScopeOf := f."userIdentity.inScopeOf",
            sessionContext := struct_pack(
                sessionIssuer := struct_pack(
                    type := f."userIdentity.sessionContext.sessionIssuer.type",
                    principalId := f."userIdentity.sessionContext.sessionIssuer.principalId",
                    arn := f."userIdentity.sessionContext.sessionIssuer.arn",
                    accountId := f."userIdentity.sessionContext.sessionIssuer.accountId",
                    userName := f."userIdentity.sessionContext.sessionIssuer.userName"
                ),
                webIdFederationData := struct_pack(
                    federatedProvider := f."userIdentity.sessionContext.webIdFederationData.federatedProvider",
                    attributes := f."userIdentity.sessionContext.webIdFederationData.attributes"
                ),
                attributes := struct_pack(
                    creationDate := f."userIdentity.sessionContext.attributes.creationDate",
                    mfaAuthenticated := f."userIdentity.sessionContext.attributes.mfaAuthenticated"
                ),
                sourceIdentity := f."userIdentity.sessionContext.sourceIdentity",
                ec2RoleDelivery := f."userIdentity.sessionContext.ec2RoleDelivery",
                assumedRoot := f."userIdentity.sessionContext.assumedRoot"
            )
        ),
        requestParameters := f."requestParameters",
        responseElements := f."responseElements",
        additionalEventData := f."additionalEventData",
        serviceEventDetails := f."serviceEventDetails",
        resources := f."resources"
    ) as s
from scanned_records as f
inner join batch_files as b on f.filename = b.local_path
-- the plain records are typed by pipeline/plain.py
where not f.route and not f.plain
