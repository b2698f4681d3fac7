"""CloudTrail record and userIdentity builders, shaped after sts-examples.json (EX#n).

Pure functions: they take already-chosen values and return dicts in CloudTrail's key order.
"""

from __future__ import annotations

from typing import Any

from pipeline.simulate.org import Role, User

JSON = dict[str, Any]

UA_CLI = "aws-cli/2.15.33 Python/3.11.8 Linux/6.1.79 exe/x86_64.amzn.2023 prompt/off"
UA_BOTO = (
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.79 md/arch#x86_64 lang/python#3.11.8 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69"
)
UA_GO = "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.22.4 md/GOOS#linux md/GOARCH#amd64 m/E"
UA_JAVA = (
    "aws-sdk-java/2.25.16 Linux/6.1.79 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 "
    "vendor/Amazon.com_Inc. md/internal io/sync http/Apache cfg/retry-mode/legacy"
)
UA_GHA = (
    "aws-sdk-nodejs/2.1620.0 linux/v20.12.2 configure-aws-credentials-for-github-actions promise"
)
UA_BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
UA_CONSOLE = "console.amazonaws.com"
# the sign-in service's own STS calls (the IAM guide's SAML example, sts-examples EX#6)
UA_AWS_INTERNAL = (
    "aws-internal/3 aws-sdk-java/1.12.479 Linux/5.10.186-157.751.amzn2int.x86_64"
    " OpenJDK_64-Bit_Server_VM/17.0.7+11 java/17.0.7 vendor/Amazon.com_Inc."
)
UA_OUTSIDE = "aws-cli/1.16.312 Python/3.8.10 Linux/5.15.0-kali3-amd64 botocore/1.13.48"
AWS_INTERNAL = "AWS Internal"
LOGIN_TO = "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true"


def record(
    *,
    ident: JSON | None,
    time: str,
    source: str,
    name: str,
    region: str,
    ip: str,
    ua: str,
    request: JSON | None,
    response: JSON | None,
    request_id: str | None,
    event_id: str,
    recipient: str,
    read_only: bool | None = True,
    error: tuple[str, str] | None = None,
    additional: JSON | None = None,
    resources: list[JSON] | None = None,
    event_type: str = "AwsApiCall",
    shared_event_id: str | None = None,
    service_details: JSON | None = None,
    category: str = "Management",
    from_console: bool = False,
    tls_host: str | None = None,
    version: str = "1.09",
) -> JSON:
    """One CloudTrail record; optional fields are left out when None."""
    rec: JSON = {"eventVersion": version}
    if ident is not None:
        rec["userIdentity"] = ident
    rec["eventTime"] = time
    rec["eventSource"] = source
    rec["eventName"] = name
    rec["awsRegion"] = region
    rec["sourceIPAddress"] = ip
    rec["userAgent"] = ua
    if error is not None:
        rec["errorCode"], rec["errorMessage"] = error
    rec["requestParameters"] = request
    rec["responseElements"] = response
    if additional is not None:
        rec["additionalEventData"] = additional
    if request_id is not None:
        rec["requestID"] = request_id
    rec["eventID"] = event_id
    if read_only is not None:
        rec["readOnly"] = read_only
    if resources is not None:
        rec["resources"] = resources
    rec["eventType"] = event_type
    rec["managementEvent"] = category == "Management"
    rec["recipientAccountId"] = recipient
    if shared_event_id is not None:
        rec["sharedEventID"] = shared_event_id
    if service_details is not None:
        rec["serviceEventDetails"] = service_details
    rec["eventCategory"] = category
    if from_console:
        rec["sessionCredentialFromConsole"] = "true"
    if tls_host is not None:
        rec["tlsDetails"] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": tls_host,
        }
    return rec


def attributes(creation: str, mfa: str) -> JSON:
    """`sessionContext.attributes`: both values are strings (mfaAuthenticated "true"/"false")."""
    return {"creationDate": creation, "mfaAuthenticated": mfa}


def iam_user_identity(user: User, key: str, context: JSON | None = None) -> JSON:
    """IAMUser: long-term key (no sessionContext) or temporary key (GetSessionToken, console)."""
    ident: JSON = {
        "type": "IAMUser",
        "principalId": user.user_id,
        "arn": user.arn,
        "accountId": user.account,
        "accessKeyId": key,
        "userName": user.name,
    }
    if context is not None:
        ident["sessionContext"] = context
    return ident


def user_session_context(creation: str, mfa: str) -> JSON:
    """The sessionContext of an IAM user's temporary credentials: empty issuer (EX#1)."""
    return {"sessionIssuer": {}, "webIdFederationData": {}, "attributes": attributes(creation, mfa)}


def role_identity(
    role: Role,
    session_name: str,
    key: str,
    creation: str,
    mfa: str,
    *,
    web_id: JSON | None = None,
    source_identity: str | None = None,
    ec2_delivery: str | None = None,
    on_behalf_of: JSON | None = None,
    in_scope_of: JSON | None = None,
) -> JSON:
    """AssumedRole: role session activity (EX#4, EX#8, EX#15)."""
    context: JSON = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": role.role_id,
            "arn": role.arn,
            "accountId": role.account,
            "userName": role.name,
        },
        "webIdFederationData": web_id if web_id is not None else {},
        "attributes": attributes(creation, mfa),
    }
    if source_identity is not None:
        context["sourceIdentity"] = source_identity
    if ec2_delivery is not None:
        context["ec2RoleDelivery"] = ec2_delivery
    ident: JSON = {
        "type": "AssumedRole",
        "principalId": f"{role.role_id}:{session_name}",
        "arn": role.session_arn(session_name),
        "accountId": role.account,
        "accessKeyId": key,
        "sessionContext": context,
    }
    if on_behalf_of is not None:
        ident["onBehalfOf"] = on_behalf_of
    if in_scope_of is not None:
        ident["inScopeOf"] = in_scope_of
    return ident


def federated_identity(user: User, name: str, key: str, creation: str) -> JSON:
    """FederatedUser: GetFederationToken credentials; the issuer is the IAM user."""
    return {
        "type": "FederatedUser",
        "principalId": f"{user.account}:{name}",
        "arn": f"arn:aws:sts::{user.account}:federated-user/{name}",
        "accountId": user.account,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "IAMUser",
                "principalId": user.user_id,
                "arn": user.arn,
                "accountId": user.account,
                "userName": user.name,
            },
            "webIdFederationData": {},
            "attributes": attributes(creation, "false"),
        },
    }


def root_identity(account: str, key: str, context: JSON | None = None) -> JSON:
    """Root: console sign-in (no key, no context) or an AssumeRoot session."""
    ident: JSON = {
        "type": "Root",
        "principalId": account,
        "arn": f"arn:aws:iam::{account}:root",
        "accountId": account,
        "accessKeyId": key,
    }
    if context is not None:
        ident["sessionContext"] = context
    return ident


def aws_account_identity(principal_id: str, caller_account: str) -> JSON:
    """The role owner's copy of a cross-account STS call (EX#2)."""
    return {"type": "AWSAccount", "principalId": principal_id, "accountId": caller_account}


def aws_service_identity(service: str) -> JSON:
    """A service-issued session's AssumeRole caller (EX#11)."""
    return {"type": "AWSService", "invokedBy": service}


def credentials(key: str, token: str, expiration: str) -> JSON:
    """`responseElements.credentials` (the secret is never logged)."""
    return {"accessKeyId": key, "sessionToken": token, "expiration": expiration}


def role_resource(role: Role) -> list[JSON]:
    """`resources` of an AssumeRole* call."""
    return [{"accountId": role.account, "type": "AWS::IAM::Role", "ARN": role.arn}]
