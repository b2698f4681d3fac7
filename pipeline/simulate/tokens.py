"""Credentials an IAM user mints from its long-term key: GetSessionToken, GetFederationToken."""

from __future__ import annotations

from pipeline.simulate.context import Ctx, Session
from pipeline.simulate.ids import iso, java_medium
from pipeline.simulate.issue import _creation, _sts_region
from pipeline.simulate.org import User
from pipeline.simulate.records import (
    JSON,
    credentials,
    federated_identity,
    iam_user_identity,
    record,
    user_session_context,
)


def _user_token(
    ctx: Ctx,
    user: User,
    t: int,
    *,
    name: str,
    request: JSON,
    extra: JSON,
    lifetime: int,
    ip: str,
    ua: str,
    region: str,
) -> tuple[str, str, int]:
    ids = ctx.ids
    issued, expiry, event_id = ids.temp_key(), t + lifetime, ids.uuid()
    response: JSON = {
        "credentials": credentials(
            issued, ids.session_token(), java_medium(expiry, comma=ctx.rng.random() < 0.5)
        ),
        **extra,
    }
    aws_region, details, host = _sts_region(ctx, region)
    rec = record(
        ident=iam_user_identity(user, user.access_key),
        time=iso(t),
        source="sts.amazonaws.com",
        name=name,
        region=aws_region,
        ip=ip,
        ua=ua,
        request=request,
        response=response,
        additional={"RequestDetails": details},
        request_id=ids.uuid(),
        event_id=event_id,
        recipient=user.account,
        read_only=False,
        tls_host=host,
    )
    ctx.emit(rec, user.account, aws_region, t)
    return event_id, issued, expiry


def get_session_token(
    ctx: Ctx,
    user: User,
    t: int,
    *,
    duration: int,
    mfa: bool,
    ip: str,
    ua: str,
    region: str = "us-east-1",
) -> Session:
    """GetSessionToken with long-term keys ("Enable MFA for temporary access")."""
    request: JSON = {"durationSeconds": duration}
    if mfa:
        request["serialNumber"] = user.mfa_serial
    event_id, issued, expiry = _user_token(
        ctx,
        user,
        t,
        name="GetSessionToken",
        request=request,
        extra={},
        lifetime=duration,
        ip=ip,
        ua=ua,
        region=region,
    )
    flag = "true" if mfa else "false"
    creation = _creation(ctx, t)

    def identity(k: str) -> JSON:
        return iam_user_identity(user, k, user_session_context(creation, flag))

    return ctx.add(
        Session(
            session_id=event_id,
            kind="GetSessionToken",
            issued_key=issued,
            issue_time=t,
            expiration=expiry,
            parent=None,
            origin_type="IAMUser",
            origin_id=user.arn,
            depth=1,
            accounts=[user.account],
            mfa="mfa" if mfa else "no_mfa",
            requested_duration=duration,
            role_arn=None,
            session_name=None,
            caller_account=user.account,
            target_account=user.account,
            issue_event_ids=[event_id],
            identity=identity,
            principal_id=user.user_id,
            mfa_flag=flag,
            ip=ip,
            ua=ua,
            region=region,
        )
    )


def get_federation_token(
    ctx: Ctx,
    user: User,
    t: int,
    *,
    name: str,
    duration: int,
    policy_arn: str,
    ip: str,
    ua: str,
    region: str = "us-east-1",
) -> Session:
    """GetFederationToken: a FederatedUser session issued by an IAM user's long-term key."""
    request: JSON = {"name": name, "durationSeconds": duration, "policyArns": [{"arn": policy_arn}]}
    fed_arn = f"arn:aws:sts::{user.account}:federated-user/{name}"
    extra: JSON = {
        "federatedUser": {"federatedUserId": f"{user.account}:{name}", "arn": fed_arn},
        "packedPolicySize": 6,
    }
    event_id, issued, expiry = _user_token(
        ctx,
        user,
        t,
        name="GetFederationToken",
        request=request,
        extra=extra,
        lifetime=duration,
        ip=ip,
        ua=ua,
        region=region,
    )
    creation = _creation(ctx, t)

    def identity(k: str) -> JSON:
        return federated_identity(user, name, k, creation)

    return ctx.add(
        Session(
            session_id=event_id,
            kind="GetFederationToken",
            issued_key=issued,
            issue_time=t,
            expiration=expiry,
            parent=None,
            origin_type="IAMUser",
            origin_id=user.arn,
            depth=1,
            accounts=[user.account],
            mfa="no_mfa",
            requested_duration=duration,
            role_arn=None,
            session_name=name,
            caller_account=user.account,
            target_account=user.account,
            issue_event_ids=[event_id],
            identity=identity,
            principal_id=f"{user.account}:{name}",
            ip=ip,
            ua=ua,
            region=region,
        )
    )
