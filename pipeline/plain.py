"""The plain records of a batch typed with pyarrow, beside DuckDB's typing of the others.

Most records of a trail are plain. The splitter typed them from their fields (`scan.py`, route
0), they come from a service that issues no credentials, their event time and creation date
are CloudTrail's own `2026-11-01T10:00:00Z` (or `20261101T100000Z`) on a day the calendar has,
their booleans are `true` or `false`, and they name their recipient account: the splitter
decides it and parses both times (`plain_record` in `_scan.c`). For those, every column
`stg_events` computes is a field as the splitter gave it, one of those two times, or a
conversion that leaves no room for interpretation; the credential services' columns are null.
Building them here from the splitter's Arrow columns saves DuckDB's typing statement, which
copied every row's 100 columns and its text into a new Arrow table.

Anything else stays with `stg_scanned_records` / `stg_events`: a record that is not plain is
typed by DuckDB exactly as before, so being plain decides only where the work is done, never
what it gives. `tests/test_plain.py` holds the two to the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# the sources whose blobs stg_records_detailed parses (and stg_events reads for Cognito): their
# records are never plain (`_scan.c` holds the same list; tests/test_plain.py reads the SQL's
# against this)
CREDENTIAL_SOURCES = (
    "sts.amazonaws.com",
    "signin.amazonaws.com",
    "sso.amazonaws.com",
    "cognito-identity.amazonaws.com",
)

# the lake's columns that are one of the record's fields as the splitter gave it
PASSTHROUGH = {
    "event_version": "eventVersion",
    "event_source": "eventSource",
    "event_name": "eventName",
    "event_type": "eventType",
    "event_category": "eventCategory",
    "aws_region": "awsRegion",
    "source_ip_address": "sourceIPAddress",
    "user_agent": "userAgent",
    "error_code": "errorCode",
    "error_message": "errorMessage",
    "request_id": "requestID",
    "shared_event_id": "sharedEventID",
    "vpc_endpoint_id": "vpcEndpointId",
    "addendum_reason": "addendum.reason",
    "addendum_original_event_id": "addendum.originalEventID",
    "user_type": "userIdentity.type",
    "user_principal_id": "userIdentity.principalId",
    "user_arn": "userIdentity.arn",
    "user_account_id": "userIdentity.accountId",
    "user_name": "userIdentity.userName",
    "user_invoked_by": "userIdentity.invokedBy",
    "user_credential_id": "userIdentity.credentialId",
    "user_identity_provider": "userIdentity.identityProvider",
    "on_behalf_of_user_id": "userIdentity.onBehalfOf.userId",
    "on_behalf_of_identity_store_arn": "userIdentity.onBehalfOf.identityStoreArn",
    "session_issuer_type": "userIdentity.sessionContext.sessionIssuer.type",
    "session_issuer_principal_id": "userIdentity.sessionContext.sessionIssuer.principalId",
    "session_issuer_arn": "userIdentity.sessionContext.sessionIssuer.arn",
    "session_issuer_account_id": "userIdentity.sessionContext.sessionIssuer.accountId",
    "session_issuer_user_name": "userIdentity.sessionContext.sessionIssuer.userName",
    "session_source_identity": "userIdentity.sessionContext.sourceIdentity",
    "web_id_federated_provider": (
        "userIdentity.sessionContext.webIdFederationData.federatedProvider"
    ),
    "web_id_attributes": "userIdentity.sessionContext.webIdFederationData.attributes",
    "ec2_role_delivery": "userIdentity.sessionContext.ec2RoleDelivery",
    "in_scope_of": "userIdentity.inScopeOf",
    "request_parameters": "requestParameters",
    "response_elements": "responseElements",
    "additional_event_data": "additionalEventData",
    "service_event_details": "serviceEventDetails",
    "resources": "resources",
    "raw": "raw",
    "record_hash": "content_md5",
    "recipient_account_id": "recipientAccountId",
}
# fields typed as booleans by try_cast: in a plain record absent, `true` or `false`
_BOOLEANS = {
    "read_only": "readOnly",
    "management_event": "managementEvent",
    "session_mfa_authenticated": "userIdentity.sessionContext.attributes.mfaAuthenticated",
}
# fields that are true when they say `true` in any case (lower(x) = 'true')
_SAYS_TRUE = {
    "session_credential_from_console": "sessionCredentialFromConsole",
    "assumed_root": "userIdentity.sessionContext.assumedRoot",
}
# the columns a plain record has null: the credential services' fields, its line (a delivery
# file is read as a document), and its reject reason
NULLS = frozenset(
    {
        "req_role_arn",
        "req_role_session_name",
        "req_duration_seconds",
        "req_serial_number",
        "req_external_id",
        "req_source_identity",
        "req_principal_arn",
        "req_provider_id",
        "req_federation_name",
        "req_target_principal",
        "req_task_policy_arn",
        "req_custom_role_arn",
        "issued_access_key_id",
        "expiration_raw",
        "expiration",
        "assumed_role_arn",
        "assumed_role_id",
        "resp_source_identity",
        "saml_subject",
        "saml_subject_type",
        "saml_issuer",
        "saml_audience",
        "saml_name_qualifier",
        "oidc_subject",
        "oidc_provider",
        "federated_user_arn",
        "federated_user_id",
        "cognito_identity_id",
        "console_login_result",
        "switch_role_result",
        "console_mfa_used",
        "saml_provider_arn",
        "switch_from",
        "login_to",
        "sso_account_id",
        "sso_role_name",
        "source_line",
        "reject_reason",
    }
)


def typed(records: Any, uris: Mapping[str, str], run: str, schema: Any) -> Any:
    """The plain `records` (`scan._table`'s rows whose `plain` is true) as the rows
    `stg_events` gives, in its `schema`; `uris`: each local file's source URI."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = records.num_rows
    event_id = records["eventID"]
    has_id = pc.fill_null(pc.not_equal(event_id, ""), False)
    event_time = records["plain_event_time"]
    access_key = records["userIdentity.accessKeyId"]
    filename = records["filename"].combine_chunks()
    local = filename.dictionary.to_pylist()
    columns: dict[str, Any] = {
        "event_id": pc.if_else(
            has_id, event_id, pc.binary_join_element_wise("gen-", records["content_md5"], "")
        ),
        "event_id_generated": pc.invert(has_id),
        "event_time": event_time,
        "session_creation_date": records["plain_creation_date"],
        "source_uri": pa.DictionaryArray.from_arrays(
            filename.indices, pa.array([uris[path] for path in local], pa.string())
        ),
        "source_position": records["position"],
        "user_access_key_id": pc.if_else(
            pc.fill_null(pc.equal(access_key, ""), False),
            pa.scalar(None, access_key.type),
            access_key,
        ),
        "ingest_run": pa.repeat(run, n),
        "event_date": pc.cast(event_time, pa.date32()),
        "recipient_guessed": pa.repeat(False, n),
    }
    for column, field in _BOOLEANS.items():
        columns[column] = pc.equal(records[field], "true")
    for column, field in _SAYS_TRUE.items():
        columns[column] = pc.equal(pc.utf8_lower(records[field]), "true")
    for column, field in PASSTHROUGH.items():
        columns[column] = records[field]
    arrays = []
    for target in schema:
        if target.name in columns:
            arrays.append(pc.cast(columns[target.name], target.type))
        elif target.name in NULLS:
            arrays.append(pa.nulls(n, target.type))
        else:  # a column stg_events gained: the builder must say what a plain record has
            raise LookupError(f"plain.typed does not build the column {target.name}")
    return pa.Table.from_arrays(arrays, schema=schema)
