"""Normal days: every way credentials are born, each followed by ordinary activity.

A story starts at one instant and writes everything it causes (issuance, chained hops, activity).
Baseline stories never use the pairs, subjects, issuers or networks the scenarios plant, so
"first seen" detections stay quiet on normal days.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.simulate.console import console_login, console_login_failed, saml_console_login
from pipeline.simulate.context import ADMIN_OPS, READ_OPS, S3_OPS, Ctx, Session, activity
from pipeline.simulate.federation import cognito_credentials, identity_center, saml, web_identity
from pipeline.simulate.issue import (
    assume_role,
    assume_role_denied,
    assume_root,
    service_session,
    session_caller,
    switch_role,
    user_caller,
)
from pipeline.simulate.org import (
    CLOUD_NET,
    CORP_SAML_ISSUER,
    GITHUB_ISSUER,
    PERMISSION_SETS,
    REGIONS,
)
from pipeline.simulate.partner import partner_audit
from pipeline.simulate.records import (
    AWS_INTERNAL,
    UA_AWS_INTERNAL,
    UA_BOTO,
    UA_BROWSER,
    UA_CLI,
    UA_GHA,
    UA_GO,
)
from pipeline.simulate.tokens import get_federation_token, get_session_token

UA_IOS = "aws-sdk-iOS/2.33.4 iOS/17.2 en_US"

MEMBERS = ("prod", "dev", "shared", "security")
# Baseline chained hops only ever land on these roles (scenarios use others).
CHAIN_TARGETS = ("ReadOnlyRole", "SecurityAuditRole")
Story = Callable[[Ctx, int], None]


def _person(ctx: Ctx) -> str:
    return ctx.rng.choice(ctx.org.people)


def _n(ctx: Ctx, lo: int, hi: int) -> int:
    return ctx.rng.randint(lo, hi)


def iam_user_assume_role(ctx: Ctx, t: int) -> None:
    """An IAM user's CLI assumes a member-account role, with or without MFA; maybe chains on."""
    org, rng = ctx.org, ctx.rng
    user = org.users[_person(ctx)]
    acct = rng.choice((*MEMBERS, "identity"))
    name = rng.choice(("ReadOnlyRole", "DeveloperRole", "SecurityAuditRole"))
    role = org.role(acct, "ReadOnlyRole" if acct == "identity" else name)
    duration = rng.choice((None, 3600, 900, min(7200, role.max_session)))
    serial = user.mfa_serial if rng.random() < 0.75 else None
    region = rng.choice(REGIONS)
    s = assume_role(
        ctx,
        user_caller(user, ctx.office_ip(), UA_CLI),
        role,
        t,
        session_name=f"{user.name}-cli",
        duration=duration,
        serial=serial,
        region=region,
    )
    activity(ctx, s, _n(ctx, 3, 14))
    if rng.random() < 0.3:
        _chain_on(ctx, s, t + rng.randint(60, 900))


def _chain_on(ctx: Ctx, parent_session: Session, t: int) -> None:
    rng = ctx.rng
    acct = rng.choice(MEMBERS)
    role = ctx.org.role(acct, rng.choice(CHAIN_TARGETS))
    if t >= parent_session.end:
        return
    child = assume_role(
        ctx,
        session_caller(ctx, parent_session, t),
        role,
        t,
        session_name=f"chain-{ctx.ids.hex(6)}",
        duration=rng.choice((None, 3600)),
        region=parent_session.region,
    )
    activity(ctx, child, _n(ctx, 2, 10))


def temp_admin(ctx: Ctx, t: int) -> None:
    """Temporary admin access: a developer assumes AdminRole with MFA for one hour."""
    user = ctx.org.users[ctx.rng.choice(("bob", "carol", "dave"))]
    s = assume_role(
        ctx,
        user_caller(user, ctx.office_ip(), UA_CLI),
        ctx.org.role("prod", "AdminRole"),
        t,
        session_name=user.name,
        duration=3600,
        serial=user.mfa_serial,
    )
    activity(ctx, s, _n(ctx, 3, 10), ops=ADMIN_OPS)


def console_session(ctx: Ctx, t: int) -> None:
    """An IAM user signs in to the console with MFA, browses, and maybe switches role."""
    org, rng = ctx.org, ctx.rng
    user = org.users[_person(ctx)]
    ip = ctx.office_ip()
    s = console_login(
        ctx,
        user,
        user.account,
        t,
        mfa=True,
        ip=ip,
        ua=UA_BROWSER,
        region=rng.choice(("us-east-1", "us-east-1", "eu-west-1")),
    )
    activity(ctx, s, _n(ctx, 2, 8), end=t + 3 * 3600)
    for hop in range(rng.choice((0, 1, 1, 2))):
        at = t + 120 + hop * 1800 + rng.randint(0, 600)
        role = org.role(rng.choice(MEMBERS), rng.choice(("ReadOnlyRole", "DeveloperRole")))
        switched = switch_role(ctx, s, user, role, at)
        activity(ctx, switched, _n(ctx, 2, 10))


def gst_mfa(ctx: Ctx, t: int) -> None:
    """GetSessionToken with MFA, then use of the session and maybe an AssumeRole (depth 2)."""
    rng = ctx.rng
    user = ctx.org.users[_person(ctx)]
    s = get_session_token(
        ctx,
        user,
        t,
        duration=rng.choice((3600, 43200, 129600)),
        mfa=True,
        ip=ctx.office_ip(),
        ua=UA_CLI,
        region=rng.choice(REGIONS),
    )
    activity(ctx, s, _n(ctx, 2, 8), end=t + 4 * 3600)
    if rng.random() < 0.5:
        at = t + rng.randint(60, 1800)
        role = ctx.org.role(rng.choice(MEMBERS), "DeveloperRole")
        child = assume_role(
            ctx,
            session_caller(ctx, s, at),
            role,
            at,
            session_name=f"{user.name}-mfa",
            duration=rng.choice((None, 7200)),
        )
        activity(ctx, child, _n(ctx, 2, 10))


def saml_cli(ctx: Ctx, t: int) -> None:
    """Corporate SAML federation from a CLI helper; sourceIdentity set; maybe chains on."""
    org, rng = ctx.org, ctx.rng
    person = _person(ctx)
    acct = rng.choice(("prod", "dev", "shared"))
    role = org.role(acct, "SAMLEngineer")
    s = saml(
        ctx,
        role,
        t,
        f"{person}@example.com",
        issuer=CORP_SAML_ISSUER,
        provider_arn=org.saml_provider_arn(role.account),
        name_qualifier=org.saml_name_qualifier,
        ip=ctx.office_ip(),
        ua=UA_BOTO,
        duration=rng.choice((3600, 28800, None)),
        source_identity=person,
        region=rng.choice(REGIONS),
    )
    activity(ctx, s, _n(ctx, 3, 12))
    if rng.random() < 0.25:
        _chain_on(ctx, s, t + rng.randint(60, 900))


def saml_console_session(ctx: Ctx, t: int) -> None:
    """SAML console federation: the sign-in service's AssumeRoleWithSAML, then ConsoleLogin with
    SamlProviderArn from the browser."""
    org, rng = ctx.org, ctx.rng
    person = _person(ctx)
    role = org.role(rng.choice(("prod", "dev")), rng.choice(("SAMLEngineer", "SAMLAdmin")))
    ip = ctx.office_ip()
    provider = org.saml_provider_arn(role.account)
    s = saml(
        ctx,
        role,
        t,
        f"{person}@example.com",
        issuer=CORP_SAML_ISSUER,
        provider_arn=provider,
        name_qualifier=org.saml_name_qualifier,
        # the sign-in service assumes the role with the browser's assertion (EX#6); the
        # browser then signs in and works from its own address
        ip=AWS_INTERNAL,
        ua=UA_AWS_INTERNAL,
        activity_ip=ip,
        activity_ua=UA_BROWSER,
        duration=28800,
    )
    saml_console_login(ctx, s, provider, t + 1, ip=ip, ua=UA_BROWSER)
    activity(ctx, s, _n(ctx, 2, 10), end=t + 2 * 3600)


def idc_session(ctx: Ctx, t: int) -> None:
    """IAM Identity Center: GetRoleCredentials, AssumeRoleWithSAML, activity with onBehalfOf."""
    org, rng = ctx.org, ctx.rng
    user = rng.choice(org.idc_users)
    ps = rng.choice(PERMISSION_SETS)
    acct = rng.choice(MEMBERS)
    role = next(r for k, r in org.roles.items() if k.startswith(f"{acct}/AWSReservedSSO_{ps}_"))
    console = rng.random() < 0.5
    s = identity_center(
        ctx,
        user,
        role,
        ps,
        t,
        ip=ctx.office_ip(),
        ua=UA_BROWSER if console else UA_CLI,
        console=console,
    )
    if console:
        s.ua = "console.amazonaws.com"
    activity(ctx, s, _n(ctx, 2, 12), end=t + 3 * 3600)


def github_oidc(ctx: Ctx, t: int) -> None:
    """A GitHub Actions workflow deploys with OIDC federation."""
    org, rng = ctx.org, ctx.rng
    role = org.role(rng.choice(("prod", "dev")), "DeployRole")
    s = web_identity(
        ctx,
        role,
        t,
        provider=GITHUB_ISSUER,
        subject=rng.choice(org.github_subjects),
        audience="sts.amazonaws.com",
        session_name="GitHubActions",
        origin="OIDC",
        ip=ctx.ids.ip(CLOUD_NET),
        ua=UA_GHA,
        region=rng.choice(REGIONS),
    )
    activity(ctx, s, _n(ctx, 4, 15), end=t + 900)


def eks_oidc(ctx: Ctx, t: int) -> None:
    """An EKS pod's service account gets role credentials (IRSA)."""
    org, rng = ctx.org, ctx.rng
    role = org.role(rng.choice(("prod", "dev")), "EksPodRole")
    s = web_identity(
        ctx,
        role,
        t,
        provider=org.eks_issuer,
        subject=rng.choice(org.eks_subjects),
        audience="sts.amazonaws.com",
        session_name=f"botocore-session-{t}",
        origin="OIDC",
        ip=ctx.ids.ip(CLOUD_NET),
        ua=UA_BOTO,
        region="us-west-2",
    )
    activity(ctx, s, _n(ctx, 4, 15))


def cognito(ctx: Ctx, t: int) -> None:
    """A mobile app user's Cognito identity-pool credentials: the classic flow (the app calls
    AssumeRoleWithWebIdentity) or the enhanced flow (GetCredentialsForIdentity, which names
    the role only when the app asked for a custom one)."""
    org, rng = ctx.org, ctx.rng
    identity_id = f"us-east-1:{ctx.ids.uuid()}" if rng.random() < 0.5 else org.cognito_pool
    role, ip, ua = org.role("prod", "CognitoAuthRole"), ctx.office_ip(), UA_IOS
    if rng.random() < 0.5:
        s = cognito_credentials(
            ctx,
            role,
            t,
            identity_id=identity_id,
            pool=org.cognito_pool,
            ip=ip,
            ua=ua,
            custom_role=rng.random() < 0.25,
        )
    else:
        s = web_identity(
            ctx,
            role,
            t,
            provider="cognito",
            subject=identity_id,
            audience=org.cognito_pool,
            session_name="CognitoIdentityCredentials",
            origin="Cognito",
            ip=ip,
            ua=ua,
            duration=None,
        )
    activity(ctx, s, _n(ctx, 1, 6), ops=S3_OPS)


def _workload(ctx: Ctx, kind: str, t: int, lo: int, hi: int) -> None:
    w = ctx.rng.choice([w for w in ctx.org.workloads if w.kind == kind])
    s = service_session(ctx, w, t)
    activity(ctx, s, _n(ctx, lo, hi), end=t + 2 * 3600)
    if w.name == "report-builder":
        # The headline: a Lambda reads another account's bucket through a role (chaining).
        at = t + ctx.rng.randint(5, 600)
        reader = assume_role(
            ctx,
            session_caller(ctx, s, at),
            ctx.org.role("prod", "S3ReaderRole"),
            at,
            session_name="report-builder",
            duration=3600,
            region=w.region,
        )
        activity(ctx, reader, _n(ctx, 3, 12), ops=S3_OPS, end=at + 900)


def ec2(ctx: Ctx, t: int) -> None:
    """Instance-profile credentials (ec2RoleDelivery) and a busy instance."""
    _workload(ctx, "EC2", t, 10, 40)


def lambda_fn(ctx: Ctx, t: int) -> None:
    """A Lambda execution-role session."""
    _workload(ctx, "Lambda", t, 3, 12)


def ecs(ctx: Ctx, t: int) -> None:
    """An ECS task-role session."""
    _workload(ctx, "ECS", t, 5, 20)


def gft_backup(ctx: Ctx, t: int) -> None:
    """A backup job mints a federation token from its IAM user key."""
    user = ctx.org.users["backup-svc"]
    s = get_federation_token(
        ctx,
        user,
        t,
        name="backup-job",
        duration=ctx.rng.choice((3600, 14400)),
        policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess",
        ip=ctx.ids.ip(CLOUD_NET),
        ua=UA_GO,
    )
    activity(ctx, s, _n(ctx, 2, 8), ops=S3_OPS)


def root_task(ctx: Ctx, t: int) -> None:
    """An admin in the management account uses AssumeRoot for a privileged task."""
    org = ctx.org
    user = org.users["alice"]
    admin = assume_role(
        ctx,
        user_caller(user, ctx.office_ip(), UA_CLI),
        org.role("identity", "OrgAdminRole"),
        t,
        session_name="alice",
        duration=3600,
        serial=user.mfa_serial,
    )
    at = t + 60
    target = org.acct(ctx.rng.choice(("dev", "shared")))
    root = assume_root(
        ctx,
        session_caller(ctx, admin, at),
        target,
        at,
        task="S3UnlockBucketPolicy",
        region="us-east-1",
    )
    activity(
        ctx,
        root,
        _n(ctx, 1, 3),
        ops=(
            (
                "s3.amazonaws.com",
                "DeleteBucketPolicy",
                False,
                "Management",
                {
                    "bucketName": "example-locked-bucket",
                    "Host": "example-locked-bucket.s3.amazonaws.com",
                },
                False,
            ),
            READ_OPS[0],
        ),
    )


def denied_noise(ctx: Ctx, t: int) -> None:
    """A user tries a role they are not trusted for (one AccessDenied)."""
    user = ctx.org.users[_person(ctx)]
    role = ctx.org.role(ctx.rng.choice(MEMBERS), "SecurityAuditRole")
    assume_role_denied(
        ctx, user_caller(user, ctx.office_ip(), UA_CLI), role, t, session_name=user.name
    )


def failed_login(ctx: Ctx, t: int) -> None:
    """A mistyped console password."""
    user = ctx.org.users[_person(ctx)]
    console_login_failed(ctx, user, t, ip=ctx.office_ip(), ua=UA_BROWSER)


def recycled_key(ctx: Ctx, t: int) -> None:
    """A new, unrelated session whose issued ASIA key id repeats an expired one (§2.2)."""
    old = [k for exp, k in ctx.expired_keys if exp < t - 600]
    key = old[0] if old else None
    if key is not None:
        ctx.expired_keys = [(e, k) for e, k in ctx.expired_keys if k != key]
    user = ctx.org.users[_person(ctx)]
    s = assume_role(
        ctx,
        user_caller(user, ctx.office_ip(), UA_CLI),
        ctx.org.role(ctx.rng.choice(MEMBERS), "ReadOnlyRole"),
        t,
        session_name=f"{user.name}-cli",
        serial=user.mfa_serial,
        key=key,
    )
    activity(ctx, s, _n(ctx, 2, 8))


STORIES: dict[str, tuple[Story, float]] = {
    "iam_user_assume_role": (iam_user_assume_role, 12),
    "temp_admin": (temp_admin, 2),
    "console_session": (console_session, 7),
    "gst_mfa": (gst_mfa, 4),
    "saml_cli": (saml_cli, 8),
    "saml_console": (saml_console_session, 4),
    "idc": (idc_session, 8),
    "github_oidc": (github_oidc, 6),
    "eks_oidc": (eks_oidc, 4),
    "cognito": (cognito, 3),
    "ec2": (ec2, 10),
    "lambda": (lambda_fn, 6),
    "ecs": (ecs, 5),
    "gft_backup": (gft_backup, 1),
    "root_task": (root_task, 0.3),
    "denied_noise": (denied_noise, 2),
    "failed_login": (failed_login, 1),
    "recycled_key": (recycled_key, 1),
    "partner_audit": (partner_audit, 1),
}
STORY_NAMES = tuple(STORIES)
STORY_WEIGHTS = tuple(w for _, w in STORIES.values())
