"""AssumeRole-family issuance: IAM users, role chaining, console switch, services, AssumeRoot.

Cross-account calls are delivered to both accounts with one sharedEventID; the role owner's copy
shows `userIdentity.type = AWSAccount` (semantics §4.3, EX#1/EX#2). Same-account calls produce
one record without sharedEventID. Denied cross-account calls are logged only for the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.simulate.context import Ctx, Session
from pipeline.simulate.ids import iso, iso_basic, java_medium
from pipeline.simulate.org import Role, User, Workload
from pipeline.simulate.records import (
    AWS_INTERNAL,
    JSON,
    UA_BOTO,
    UA_BROWSER,
    UA_GO,
    UA_JAVA,
    aws_account_identity,
    aws_service_identity,
    credentials,
    iam_user_identity,
    record,
    role_identity,
    role_resource,
    root_identity,
)

CHAIN_CAP = 3600  # role chaining: at most one hour (semantics §4.2, §4.5)
SERVICE_HOSTS = {
    "EC2": "ec2.amazonaws.com",
    "Lambda": "lambda.amazonaws.com",
    "ECS": "ecs-tasks.amazonaws.com",
}
SERVICE_LIFETIME = {"EC2": 6 * 3600 + 136, "Lambda": 12 * 3600, "ECS": 6 * 3600}


@dataclass
class Caller:
    """Who makes an STS call, as the caller's copy of the record shows it."""

    ident: JSON
    account: str | None
    principal_id: str
    arn: str
    origin_type: str
    origin_id: str
    ip: str
    ua: str
    parent: Session | None = None
    depth: int = 0
    accounts: list[str] = field(default_factory=list)
    mfa: str = "no_mfa"
    mfa_flag: str = "false"
    source_identity: str | None = None
    chaining: bool = False
    service: str | None = None


def user_caller(user: User, ip: str, ua: str) -> Caller:
    """An IAM user signing with its long-term AKIA key."""
    return Caller(
        ident=iam_user_identity(user, user.access_key),
        account=user.account,
        principal_id=user.user_id,
        arn=user.arn,
        origin_type="IAMUser",
        origin_id=user.arn,
        ip=ip,
        ua=ua,
        accounts=[user.account],
    )


def session_caller(
    ctx: Ctx, s: Session, t: int, *, ip: str | None = None, ua: str | None = None
) -> Caller:
    """A temporary-credential session making the call (chaining when it is a role session)."""
    ident = s.ident(s.key_at(t, ctx.ids))
    caller_ip, caller_ua = ip or s.ip, ua or s.ua
    if s.console:
        # Console-initiated STS calls: invokedBy, IP and agent all "AWS Internal" (EX#1).
        ident = {**ident, "invokedBy": AWS_INTERNAL}
        caller_ip = caller_ua = AWS_INTERNAL
    return Caller(
        ident=ident,
        account=s.target_account,
        principal_id=s.principal_id,
        arn=str(ident.get("arn", "")),
        origin_type=s.origin_type,
        origin_id=s.origin_id,
        ip=caller_ip,
        ua=caller_ua,
        parent=s,
        depth=s.depth,
        accounts=list(s.accounts),
        mfa=s.mfa,
        mfa_flag=s.mfa_flag,
        source_identity=s.source_identity,
        chaining=s.role_session,
    )


def service_caller(kind: str) -> Caller:
    """An AWS service fetching role credentials for a workload (EX#11)."""
    host = SERVICE_HOSTS[kind]
    return Caller(
        ident=aws_service_identity(host),
        account=None,
        principal_id=host,
        arn="",
        origin_type="AWSService",
        origin_id=f"service:{host}",
        ip=host,
        ua=host,
        mfa="unknown",
        service=host,
    )


def _path(accounts: list[str], target: str) -> list[str]:
    return accounts + [target] if not accounts or accounts[-1] != target else list(accounts)


def _creation(ctx: Ctx, t: int) -> str:
    # Documented as ISO basic; real events use the extended form (semantics §2.2). Emit both.
    return iso_basic(t) if ctx.rng.random() < 0.2 else iso(t)


def _sts_region(ctx: Ctx, region: str) -> tuple[str, JSON, str]:
    """(awsRegion, RequestDetails, TLS host): the global endpoint logs in us-east-1 (§1.1)."""
    if ctx.rng.random() < 0.6:
        return (
            "us-east-1",
            {"endpointType": "global", "awsServingRegion": region},
            "sts.amazonaws.com",
        )
    return (
        region,
        {"endpointType": "regional", "awsServingRegion": region},
        f"sts.{region}.amazonaws.com",
    )


def assume_role_denied(
    ctx: Ctx, caller: Caller, role: Role, t: int, *, session_name: str, region: str = "us-east-1"
) -> str:
    """A failed AssumeRole: AccessDenied, responseElements null, caller's account only."""
    aws_region, details, host = _sts_region(ctx, region)
    event_id = ctx.ids.uuid()
    rec = record(
        ident=caller.ident,
        time=iso(t),
        source="sts.amazonaws.com",
        name="AssumeRole",
        region=aws_region,
        ip=caller.ip,
        ua=caller.ua,
        error=(
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: "
            f"sts:AssumeRole on resource: {role.arn}",
        ),
        request={"roleArn": role.arn, "roleSessionName": session_name},
        response=None,
        additional={"RequestDetails": details},
        request_id=ctx.ids.uuid(),
        event_id=event_id,
        recipient=caller.account or role.account,
        resources=role_resource(role),
        tls_host=host,
    )
    ctx.emit(rec, caller.account or role.account, aws_region, t)
    if caller.parent is not None:
        caller.parent.used(t)
    return event_id


def assume_role(
    ctx: Ctx,
    caller: Caller,
    role: Role,
    t: int,
    *,
    session_name: str,
    duration: int | None = None,
    serial: str | None = None,
    region: str = "us-east-1",
    kind: str = "AssumeRole",
    key: str | None = None,
    activity_ip: str | None = None,
    activity_ua: str | None = None,
    tags: list[JSON] | None = None,
    workload: Workload | None = None,
) -> Session:
    """A successful AssumeRole; returns the new session (registered in `ctx`)."""
    ids = ctx.ids
    if caller.chaining and (duration or 3600) > CHAIN_CAP:
        duration = CHAIN_CAP  # longer requests fail with ValidationError; callers retry at 1 h
    lifetime = duration or 3600
    if caller.service is not None and workload is not None:
        lifetime = SERVICE_LIFETIME[workload.kind]
    request: JSON = {"roleArn": role.arn, "roleSessionName": session_name}
    if duration is not None:
        request["durationSeconds"] = duration
    if serial is not None:
        request["serialNumber"] = serial
    if caller.source_identity is not None:
        request["sourceIdentity"] = caller.source_identity
    if tags is not None:
        request["tags"] = tags
        request["transitiveTagKeys"] = [tag["key"] for tag in tags]
    issued = key or ids.temp_key()
    expiry = t + lifetime
    comma = caller.service is None and ctx.rng.random() < 0.7
    response: JSON = {
        "credentials": credentials(issued, ids.session_token(), java_medium(expiry, comma=comma)),
        "assumedRoleUser": {
            "assumedRoleId": f"{role.role_id}:{session_name}",
            "arn": role.session_arn(session_name),
        },
    }
    if caller.source_identity is not None:
        response["sourceIdentity"] = caller.source_identity
    if tags is not None:
        response["packedPolicySize"] = 4
    if caller.service is not None:
        aws_region, additional, host = region, None, None
    else:
        aws_region, details, host_s = _sts_region(ctx, region)
        additional, host = {"RequestDetails": details}, host_s
    request_id, event_id = ids.uuid(), ids.uuid()
    cross = caller.account is not None and caller.account != role.account
    shared = ids.uuid() if cross or caller.service is not None else None
    common: JSON = {
        "time": iso(t),
        "source": "sts.amazonaws.com",
        "name": "AssumeRole",
        "region": aws_region,
        "ip": caller.ip,
        "ua": caller.ua,
        "request": request,
        "response": response,
        "additional": additional,
        "request_id": request_id,
        "resources": role_resource(role),
        "shared_event_id": shared,
    }
    caller_account = caller.account or role.account
    rec = record(
        ident=caller.ident,
        event_id=event_id,
        recipient=caller_account,
        tls_host=host if caller.ip != AWS_INTERNAL else None,
        version="1.08" if caller.service else "1.09",
        **common,
    )
    delivered = [event_id] if ctx.emit(rec, caller_account, aws_region, t) else []
    if cross:
        owner_id = ids.uuid()
        owner = record(
            ident=aws_account_identity(caller.principal_id, caller_account),
            event_id=owner_id,
            recipient=role.account,
            **common,
        )
        if ctx.emit(owner, role.account, aws_region, t):
            delivered.append(owner_id)
    if caller.parent is not None:
        caller.parent.used(t)
    mfa_flag = "true" if serial is not None or caller.mfa_flag == "true" else "false"
    if caller.service is not None:
        mfa = "unknown"
    elif serial is not None:
        mfa = "mfa"
    elif caller.parent is not None or caller.origin_type == "AWSAccount":
        mfa = caller.mfa  # inherited, or not visible (a foreign principal: partner.py)
    else:
        mfa = "no_mfa"
    creation = _creation(ctx, t)
    web = workload
    in_scope = None
    if web is not None and web.kind == "Lambda":
        fn = f"arn:aws:lambda:{web.region}:{role.account}:function:{web.name}"
        in_scope = {
            "issuerType": "AWS::Lambda::Function",
            "credentialsIssuedTo": fn,
            "credentialsIssuedToVersion": "$LATEST",
        }
    elif web is not None and web.kind == "ECS":
        task = f"arn:aws:ecs:{web.region}:{role.account}:task/{web.name}/{session_name}"
        in_scope = {"issuerType": "AWS::ECS::Task", "credentialsIssuedTo": task}
    delivery = "2.0" if web is not None and web.kind == "EC2" else None
    source_identity = caller.source_identity

    def identity(k: str) -> JSON:
        return role_identity(
            role,
            session_name,
            k,
            creation,
            mfa_flag,
            source_identity=source_identity,
            ec2_delivery=delivery,
            in_scope_of=in_scope,
        )

    accounts = _path(caller.accounts, role.account)
    session = Session(
        # the copy the analysis keys a call by: the caller's, unless only the owner's was delivered
        session_id=delivered[0] if delivered else event_id,
        kind=kind,
        issued_key=issued,
        issue_time=t,
        expiration=expiry,
        parent=caller.parent,
        origin_type=caller.origin_type,
        origin_id=caller.origin_id,
        depth=caller.depth + 1,
        accounts=accounts,
        mfa=mfa,
        requested_duration=duration,
        role_arn=role.arn,
        session_name=session_name,
        caller_account=caller.account,
        target_account=role.account,
        issue_event_ids=delivered,
        identity=identity,
        principal_id=f"{role.role_id}:{session_name}",
        mfa_flag=mfa_flag,
        role_session=True,
        ip=activity_ip or caller.ip,
        ua=activity_ua or caller.ua,
        region=region,
        source_identity=source_identity,
        left_org=any(not ctx.org.in_org(a) for a in accounts),
    )
    return ctx.add(session)


def switch_role(ctx: Ctx, console: Session, user: User, role: Role, t: int) -> Session:
    """Console SwitchRole: an AssumeRole by the console (AWS Internal) plus the sign-in event."""
    session = assume_role(
        ctx,
        session_caller(ctx, console, t),
        role,
        t,
        session_name=user.name,
        kind="SwitchRole",
        activity_ip=console.ip,
        activity_ua=console.ua,
    )
    switch_id = ctx.ids.uuid()
    rec = record(
        ident={
            "type": "AssumedRole",
            "principalId": f"{role.role_id}:{user.name}",
            "arn": role.session_arn(user.name),
            "accountId": role.account,
        },
        time=iso(t),
        source="signin.amazonaws.com",
        name="SwitchRole",
        region="us-east-1",
        ip=console.ip,
        ua=UA_BROWSER,
        request=None,
        response={"SwitchRole": "Success"},
        additional={
            "SwitchFrom": user.arn,
            "RedirectTo": "https://console.aws.amazon.com/console/home",
        },
        request_id=None,
        event_id=switch_id,
        recipient=role.account,
        read_only=None,
        event_type="AwsConsoleSignIn",
    )
    ctx.emit(rec, role.account, "us-east-1", t)
    session.session_id = switch_id
    session.issue_event_ids = [switch_id, *session.issue_event_ids]
    session.console = session.rotate = True
    session.role_session = False  # the console switches with the original credentials
    return session


def service_session(ctx: Ctx, workload: Workload, t: int) -> Session:
    """EC2 instance profile, Lambda execution role or ECS task role credentials."""
    # Session name: the instance id (EC2), the function name (Lambda), the task id (ECS).
    name = ctx.ids.hex(32) if workload.kind == "ECS" else workload.name
    ua = {"EC2": UA_BOTO, "Lambda": UA_JAVA, "ECS": UA_GO}[workload.kind]
    return assume_role(
        ctx,
        service_caller(workload.kind),
        workload.role,
        t,
        session_name=name,
        region=workload.region,
        kind=workload.kind,
        activity_ip=workload.ip,
        activity_ua=ua,
        workload=workload,
    )


def assume_root(
    ctx: Ctx, caller: Caller, target: str, t: int, *, task: str, region: str = "us-east-1"
) -> Session:
    """AssumeRoot from the management account (regional endpoint only, at most 900 s)."""
    ids = ctx.ids
    issued, expiry = ids.temp_key(), t + 900
    event_id = ids.uuid()
    policy = f"arn:aws:iam::aws:policy/root-task/{task}"
    rec = record(
        ident=caller.ident,
        time=iso(t),
        source="sts.amazonaws.com",
        name="AssumeRoot",
        region=region,
        ip=caller.ip,
        ua=caller.ua,
        request={
            "targetPrincipal": target,
            "taskPolicyArn": {"arn": policy},
            "durationSeconds": 900,
        },
        response={
            "credentials": credentials(issued, ids.session_token(), java_medium(expiry, comma=True))
        },
        additional={"RequestDetails": {"endpointType": "regional", "awsServingRegion": region}},
        request_id=ids.uuid(),
        event_id=event_id,
        recipient=caller.account or target,
        read_only=False,
        tls_host=f"sts.{region}.amazonaws.com",
    )
    ctx.emit(rec, caller.account or target, region, t)
    if caller.parent is not None:
        caller.parent.used(t)
    creation = iso(t)

    def identity(k: str) -> JSON:
        context = {
            "attributes": {"creationDate": creation, "mfaAuthenticated": "false"},
            "assumedRoot": "true",
        }
        return root_identity(target, k, context)

    accounts = _path(caller.accounts, target)
    return ctx.add(
        Session(
            session_id=event_id,
            kind="AssumeRoot",
            issued_key=issued,
            issue_time=t,
            expiration=expiry,
            parent=caller.parent,
            origin_type=caller.origin_type,
            origin_id=caller.origin_id,
            depth=caller.depth + 1,
            accounts=accounts,
            mfa=caller.mfa,
            requested_duration=900,
            role_arn=None,
            session_name=None,
            caller_account=caller.account,
            target_account=target,
            issue_event_ids=[event_id],
            identity=identity,
            principal_id=target,
            mfa_flag="false",
            ip=caller.ip,
            ua=caller.ua,
            region=region,
            left_org=any(not ctx.org.in_org(a) for a in accounts),
        )
    )
