"""Console sign-in: ConsoleLogin of IAM users and root, failures, and SAML console federation.

Console sessions sign their calls with other, rotating keys and carry
sessionCredentialFromConsole "true" (semantics §3, §4.1; EX#9/EX#10).
"""

from __future__ import annotations

from pipeline.simulate.context import Ctx, Session
from pipeline.simulate.ids import iso
from pipeline.simulate.org import User
from pipeline.simulate.records import (
    JSON,
    LOGIN_TO,
    iam_user_identity,
    record,
    root_identity,
    user_session_context,
)

CONSOLE_LIFETIME = 12 * 3600


def console_login(
    ctx: Ctx,
    user: User | None,
    account: str,
    t: int,
    *,
    mfa: bool,
    ip: str,
    ua: str,
    region: str = "us-east-1",
) -> Session:
    """ConsoleLogin of an IAM user (or root when `user` is None) and its console session."""
    ids = ctx.ids
    additional: JSON = {"LoginTo": LOGIN_TO, "MobileVersion": "No"}
    if user is not None:
        login_ident: JSON = {
            "type": "IAMUser",
            "principalId": user.user_id,
            "arn": user.arn,
            "accountId": account,
            "userName": user.name,
        }
        if mfa:
            additional["MFAIdentifier"] = user.mfa_serial
        origin_type, origin_id = "IAMUser", user.arn
    else:
        login_ident = root_identity(account, "")
        origin_type, origin_id = "Root", f"arn:aws:iam::{account}:root"
    additional["MFAUsed"] = "Yes" if mfa else "No"
    event_id = ids.uuid()
    rec = record(
        ident=login_ident,
        time=iso(t),
        source="signin.amazonaws.com",
        name="ConsoleLogin",
        region=region,
        ip=ip,
        ua=ua,
        request=None,
        response={"ConsoleLogin": "Success"},
        additional=additional,
        request_id=None,
        event_id=event_id,
        recipient=account,
        read_only=None,
        event_type="AwsConsoleSignIn",
    )
    ctx.emit(rec, account, region, t)
    flag = "true" if mfa else "false"
    creation = iso(t)

    def identity(k: str) -> JSON:
        context = user_session_context(creation, flag)
        return iam_user_identity(user, k, context) if user else root_identity(account, k, context)

    return ctx.add(
        Session(
            session_id=event_id,
            kind="ConsoleLogin",
            issued_key=None,
            issue_time=t,
            expiration=t + CONSOLE_LIFETIME,
            parent=None,
            origin_type=origin_type,
            origin_id=origin_id,
            depth=1,
            accounts=[account],
            mfa="mfa" if mfa else "no_mfa",
            requested_duration=None,
            role_arn=None,
            session_name=None,
            caller_account=account,
            target_account=account,
            issue_event_ids=[event_id],
            identity=identity,
            principal_id=user.user_id if user else account,
            mfa_flag=flag,
            console=True,
            rotate=True,
            ip=ip,
            ua="console.amazonaws.com",
            region=region,
        )
    )


def console_login_failed(ctx: Ctx, user: User, t: int, *, ip: str, ua: str) -> str:
    """A failed ConsoleLogin (wrong password): no session."""
    event_id = ctx.ids.uuid()
    rec = record(
        ident={
            "type": "IAMUser",
            "principalId": user.user_id,
            "accountId": user.account,
            "accessKeyId": "",
            "userName": user.name,
        },
        time=iso(t),
        source="signin.amazonaws.com",
        name="ConsoleLogin",
        region="us-east-1",
        ip=ip,
        ua=ua,
        error=None,
        request=None,
        response={"ConsoleLogin": "Failure"},
        additional={"LoginTo": LOGIN_TO, "MobileVersion": "No", "MFAUsed": "No"},
        request_id=None,
        event_id=event_id,
        recipient=user.account,
        read_only=None,
        event_type="AwsConsoleSignIn",
    )
    rec["errorMessage"] = "Failed authentication"
    ctx.emit(rec, user.account, "us-east-1", t)
    return event_id


def saml_console_login(
    ctx: Ctx, session: Session, provider_arn: str, t: int, *, ip: str, ua: str
) -> str:
    """The ConsoleLogin that follows a SAML console federation (MFAUsed always "No")."""
    role_arn = session.role_arn or ""
    role_name = role_arn.rsplit("/", 1)[-1]
    rec = record(
        ident={
            "type": "AssumedRole",
            "principalId": session.principal_id,
            "arn": f"arn:aws:sts::{session.target_account}:assumed-role/{role_name}/"
            f"{session.session_name}",
            "accountId": session.target_account,
        },
        time=iso(t),
        source="signin.amazonaws.com",
        name="ConsoleLogin",
        region="us-east-1",
        ip=ip,
        ua=ua,
        request=None,
        response={"ConsoleLogin": "Success"},
        additional={
            "LoginTo": LOGIN_TO,
            "MobileVersion": "No",
            "MFAUsed": "No",
            "SamlProviderArn": provider_arn,
        },
        request_id=None,
        event_id=ctx.ids.uuid(),
        recipient=session.target_account,
        read_only=None,
        event_type="AwsConsoleSignIn",
    )
    ctx.emit(rec, session.target_account, "us-east-1", t)
    session.related_event_ids.append(str(rec["eventID"]))
    session.console = session.rotate = True
    session.ua = "console.amazonaws.com"
    return str(rec["eventID"])
