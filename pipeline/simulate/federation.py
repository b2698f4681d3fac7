"""Federated issuance: SAML, OIDC (GitHub Actions, EKS), Cognito and IAM Identity Center
(semantics §3, EX#6/7/13/14/15).

SAML, OIDC, Cognito and Identity Center sessions always carry mfaAuthenticated "false" (§4.6).
"""

from __future__ import annotations

from pipeline.simulate.context import Ctx, Session
from pipeline.simulate.ids import iso, java_medium
from pipeline.simulate.issue import _creation, _sts_region
from pipeline.simulate.org import COGNITO_PROVIDER, HOME_REGION, IdcUser, Role
from pipeline.simulate.records import (
    JSON,
    UA_JAVA,
    credentials,
    record,
    role_identity,
    role_resource,
)


def saml(
    ctx: Ctx,
    role: Role,
    t: int,
    subject: str,
    *,
    issuer: str,
    provider_arn: str,
    name_qualifier: str,
    ip: str,
    ua: str,
    duration: int | None = 3600,
    source_identity: str | None = None,
    subject_type: str = "transient",
    kind: str = "AssumeRoleWithSAML",
    idc: IdcUser | None = None,
    region: str = "us-east-1",
    activity_ip: str | None = None,
    activity_ua: str | None = None,
) -> Session:
    """AssumeRoleWithSAML (corporate IdP, or Identity Center acting for a user)."""
    ids = ctx.ids
    issued = ids.temp_key()
    lifetime = duration or 3600
    expiry = t + lifetime - (1 if idc is not None else 0)  # EX#14: eventTime + duration - 1 s
    request: JSON = {
        "sAMLAssertionID": f"_{ids.uuid()}",
        "roleSessionName": subject,
        "roleArn": role.arn,
        "principalArn": provider_arn,
    }
    if duration is not None:
        request["durationSeconds"] = duration
    if source_identity is not None:
        request["sourceIdentity"] = source_identity
    response: JSON = {
        "credentials": credentials(
            issued, ids.session_token(), java_medium(expiry, comma=ctx.rng.random() < 0.8)
        ),
        "assumedRoleUser": {
            "assumedRoleId": f"{role.role_id}:{subject}",
            "arn": role.session_arn(subject),
        },
        "packedPolicySize": 1,
        "subject": subject,
        "subjectType": subject_type,
        "issuer": issuer,
        "audience": "https://signin.aws.amazon.com/saml",
        "nameQualifier": name_qualifier,
    }
    if source_identity is not None:
        response["sourceIdentity"] = source_identity
    aws_region, details, host = (
        _sts_region(ctx, region)
        if idc is None
        else (
            region,
            {"endpointType": "regional", "awsServingRegion": region},
            f"sts.{region}.amazonaws.com",
        )
    )
    event_id = ids.uuid()
    rec = record(
        ident={
            "type": "SAMLUser",
            "principalId": f"{name_qualifier}:{subject}",
            "userName": subject,
            "identityProvider": name_qualifier,
        },
        time=iso(t),
        source="sts.amazonaws.com",
        name="AssumeRoleWithSAML",
        region=aws_region,
        ip=ip,
        ua=ua,
        request=request,
        response=response,
        additional={"RequestDetails": details},
        request_id=ids.uuid(),
        event_id=event_id,
        resources=[
            *role_resource(role),
            {"accountId": role.account, "type": "AWS::IAM::SAMLProvider", "ARN": provider_arn},
        ],
        recipient=role.account,
        tls_host=host,
        version="1.11" if idc else "1.08",
    )
    ctx.emit(rec, role.account, aws_region, t)
    creation = _creation(ctx, t)
    behalf = (
        {"userId": idc.user_id, "identityStoreArn": ctx.org.identity_store_arn}
        if idc is not None
        else None
    )

    def identity(k: str) -> JSON:
        return role_identity(
            role,
            subject,
            k,
            creation,
            "false",
            source_identity=source_identity,
            on_behalf_of=behalf,
        )

    origin_type, origin_id = (
        ("IdentityCenter", f"idc:{idc.user_id}")
        if idc is not None
        else ("SAML", f"saml:{issuer}|{subject}")
    )
    return ctx.add(
        Session(
            session_id=event_id,
            kind=kind,
            issued_key=issued,
            issue_time=t,
            expiration=expiry,
            parent=None,
            origin_type=origin_type,
            origin_id=origin_id,
            depth=1,
            accounts=[role.account],
            mfa="idp_asserted",
            requested_duration=duration,
            role_arn=role.arn,
            session_name=subject,
            caller_account=None,
            target_account=role.account,
            issue_event_ids=[event_id],
            identity=identity,
            principal_id=f"{role.role_id}:{subject}",
            mfa_flag="false",
            role_session=True,
            rotate=idc is not None,
            ip=activity_ip or ip,
            ua=activity_ua or ua,
            region=region,
            source_identity=source_identity,
        )
    )


def identity_center(
    ctx: Ctx,
    user: IdcUser,
    role: Role,
    permission_set: str,
    t: int,
    *,
    ip: str,
    ua: str,
    console: bool,
) -> Session:
    """sso GetRoleCredentials in the identity account, then AssumeRoleWithSAML in the member."""
    org, ids = ctx.org, ctx.ids
    grc_id = ids.uuid()
    grc = record(
        ident={
            "type": "IdentityCenterUser",
            "accountId": org.acct("identity"),
            "onBehalfOf": {"userId": user.user_id, "identityStoreArn": org.identity_store_arn},
            "credentialId": ids.b62(86),
        },
        time=iso(t),
        source="sso.amazonaws.com",
        name="GetRoleCredentials",
        region=HOME_REGION,
        ip=ip,
        ua=ua,
        request=None,
        response=None,
        request_id=ids.uuid(),
        event_id=grc_id,
        recipient=org.acct("identity"),
        event_type="AwsServiceEvent",
        service_details={"role_name": permission_set, "account_id": role.account},
        version="1.11",
    )
    ctx.emit(grc, org.acct("identity"), HOME_REGION, t)
    provider = org.saml_provider_arn(
        role.account, f"AWSSSO_{role.role_id[-16:].lower()}_DO_NOT_DELETE"
    )
    session = saml(
        ctx,
        role,
        t,
        user.user_name,
        issuer=org.idc_issuer,
        provider_arn=provider,
        name_qualifier=org.saml_name_qualifier[::-1],
        ip=ids.ip("192.0.2"),
        ua=UA_JAVA,
        duration=43200,
        subject_type="persistent",
        kind="IdentityCenter",
        idc=user,
        region=HOME_REGION,
        activity_ip=ip,
        activity_ua=ua,
    )
    session.related_event_ids.append(grc_id)
    session.console = console
    return session


def web_identity(
    ctx: Ctx,
    role: Role,
    t: int,
    *,
    provider: str,
    subject: str,
    audience: str,
    session_name: str,
    origin: str,
    ip: str,
    ua: str,
    duration: int | None = 3600,
    region: str = "us-east-1",
) -> Session:
    """AssumeRoleWithWebIdentity: GitHub Actions / EKS (OIDC) or a Cognito identity pool."""
    ids = ctx.ids
    cognito = origin == "Cognito"
    issued = ids.temp_key()
    expiry = t + (duration or 3600)
    provider_field = (
        COGNITO_PROVIDER if cognito else ctx.org.oidc_provider_arn(role.account, provider)
    )
    request: JSON = {"roleArn": role.arn, "roleSessionName": session_name}
    if duration is not None:
        request["durationSeconds"] = duration
    response: JSON = {
        "credentials": credentials(issued, ids.session_token(), java_medium(expiry, comma=True)),
        "subjectFromWebIdentityToken": subject,
        "assumedRoleUser": {
            "assumedRoleId": f"{role.role_id}:{session_name}",
            "arn": role.session_arn(session_name),
        },
        "provider": provider_field,
        "audience": audience,
    }
    aws_region, details, host = _sts_region(ctx, region)
    additional: JSON = {"RequestDetails": details}
    if not cognito:
        additional["identityProviderConnectionVerificationMethod"] = "IAMTrustStore"
    event_id = ids.uuid()
    rec = record(
        ident={
            "type": "WebIdentityUser",
            "principalId": f"{provider_field}:{audience}:{subject}",
            "userName": subject,
            "identityProvider": provider_field,
        },
        time=iso(t),
        source="sts.amazonaws.com",
        name="AssumeRoleWithWebIdentity",
        region=aws_region,
        ip=ip,
        ua=ua,
        request=request,
        response=response,
        additional=additional,
        request_id=ids.uuid(),
        event_id=event_id,
        resources=role_resource(role),
        recipient=role.account,
        tls_host=host,
    )
    ctx.emit(rec, role.account, aws_region, t)
    creation = _creation(ctx, t)
    if cognito:
        web: JSON = cognito_web_identity(audience, subject)
        origin_id = f"cognito:{subject}"
    else:
        web = {"federatedProvider": provider_field, "attributes": {}}
        origin_id = f"oidc:{provider}|{subject}"

    def identity(k: str) -> JSON:
        return role_identity(role, session_name, k, creation, "false", web_id=web)

    return ctx.add(
        Session(
            session_id=event_id,
            kind="AssumeRoleWithWebIdentity",
            issued_key=issued,
            issue_time=t,
            expiration=expiry,
            parent=None,
            origin_type=origin,
            origin_id=origin_id,
            depth=1,
            accounts=[role.account],
            mfa="idp_asserted",
            requested_duration=duration,
            role_arn=role.arn,
            session_name=session_name,
            caller_account=None,
            target_account=role.account,
            issue_event_ids=[event_id],
            identity=identity,
            principal_id=f"{role.role_id}:{session_name}",
            role_session=True,
            ip=ip,
            ua=ua,
            region=region,
        )
    )


def cognito_web_identity(pool: str, identity_id: str) -> JSON:
    """`sessionContext.webIdFederationData` of calls made with Cognito identity-pool credentials
    (both flows)."""
    return {
        "federatedProvider": COGNITO_PROVIDER,
        "attributes": {
            "cognito-identity.amazonaws.com:aud": pool,
            "cognito-identity.amazonaws.com:sub": identity_id,
            "cognito-identity.amazonaws.com:amr": '["authenticated"]',
        },
    }


HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"  # how Cognito events log tokens and logins (§3)
USER_POOL = "us-east-1_EXAMPLE"


def cognito_credentials(
    ctx: Ctx,
    role: Role,
    t: int,
    *,
    identity_id: str,
    pool: str,
    ip: str,
    ua: str,
    custom_role: bool,
) -> Session:
    """Cognito identity pools' enhanced flow: GetCredentialsForIdentity, a data event (§3.8)
    with an `Unknown` caller. The role is logged only as `customRoleArn`, when the app asked for
    one; otherwise the pool's default role shows only in the calls made with the credentials."""
    ids = ctx.ids
    issued = ids.temp_key()
    expiry = t + 3600
    request: JSON = {
        "identityId": identity_id,
        "logins": {f"cognito-idp.us-east-1.amazonaws.com/{USER_POOL}": HIDDEN},
    }
    if custom_role:
        request["customRoleArn"] = role.arn
    response: JSON = {
        "identityId": identity_id,
        "credentials": credentials(issued, HIDDEN, java_medium(expiry, comma=False)),
    }
    event_id = ids.uuid()
    rec = record(
        ident={"type": "Unknown"},
        time=iso(t),
        source="cognito-identity.amazonaws.com",
        name="GetCredentialsForIdentity",
        region="us-east-1",
        ip=ip,
        ua=ua,
        request=request,
        response=response,
        request_id=ids.uuid(),
        event_id=event_id,
        recipient=role.account,
        read_only=False,
        category="Data",
    )
    ctx.emit(rec, role.account, "us-east-1", t)
    session_name = "CognitoIdentityCredentials"
    creation = _creation(ctx, t)
    web = cognito_web_identity(pool, identity_id)

    def identity(k: str) -> JSON:
        return role_identity(role, session_name, k, creation, "false", web_id=web)

    return ctx.add(
        Session(
            session_id=event_id,
            kind="GetCredentialsForIdentity",
            issued_key=issued,
            issue_time=t,
            expiration=expiry,
            parent=None,
            origin_type="Cognito",
            origin_id=f"cognito:{identity_id}",
            depth=1,
            accounts=[role.account],
            mfa="idp_asserted",
            requested_duration=None,
            role_arn=role.arn,
            session_name=session_name,
            caller_account=None,
            target_account=role.account,
            issue_event_ids=[event_id],
            identity=identity,
            principal_id=f"{role.role_id}:{session_name}",
            role_session=True,
            ip=ip,
            ua=ua,
            region="us-east-1",
        )
    )
