"""Named scenarios planted on the last day, each with the identifiers a detection should name.

Ids here are the contract with `sample_data/scenarios/<id>.yaml` and `truth/scenarios.json`.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.simulate.console import console_login
from pipeline.simulate.context import (
    ADMIN_OPS,
    READ_OPS,
    S3_OPS,
    Ctx,
    Op,
    Session,
    activity,
    call,
    traced,
)
from pipeline.simulate.federation import saml, web_identity
from pipeline.simulate.issue import (
    assume_role,
    assume_role_denied,
    service_session,
    session_caller,
    user_caller,
)
from pipeline.simulate.org import GITHUB_ISSUER, OUTSIDE_NET, ROGUE_SAML_ISSUER, Role
from pipeline.simulate.records import UA_BROWSER, UA_CLI, UA_GHA, UA_OUTSIDE
from pipeline.simulate.tokens import get_federation_token
from pipeline.simulate.truth import Scenario

Plant = Callable[[Ctx, int], Scenario]


def _ids(*sessions: Session) -> list[str]:
    return [s.session_id for s in sessions]


def _issue(*sessions: Session) -> list[str]:
    return [e for s in sessions for e in s.issue_event_ids]


def mfa_less_privileged(ctx: Ctx, t: int) -> Scenario:
    """bob assumes prod AdminRole with his access key and no MFA, then makes IAM changes."""
    org = ctx.org
    user, role = org.users["bob"], org.role("prod", "AdminRole")
    s = assume_role(
        ctx, user_caller(user, ctx.office_ip(), UA_CLI), role, t, session_name="bob", duration=3600
    )
    events = traced(ctx, s, 6, ops=ADMIN_OPS[:3], end=t + 1800)
    return Scenario(
        "mfa-less-privileged-session",
        "Privileged role assumed without MFA",
        "An IAM user's long-term key assumes AdminRole without serialNumber; the session's "
        'calls carry mfaAuthenticated "false" and change IAM.',
        ["sts_privileged_role_without_mfa"],
        _ids(s),
        _issue(s) + events,
        {
            "role_arn": role.arn,
            "user_arn": user.arn,
            "access_key": s.issued_key,
            "account": role.account,
        },
    )


def console_no_mfa(ctx: Ctx, t: int) -> Scenario:
    """carol signs in to the console without MFA from an outside address."""
    user = ctx.org.users["carol"]
    ip = ctx.ids.ip(OUTSIDE_NET)
    s = console_login(ctx, user, user.account, t, mfa=False, ip=ip, ua=UA_BROWSER)
    events = traced(ctx, s, 4, end=t + 1200)
    return Scenario(
        "console-login-without-mfa",
        "Console sign-in without MFA",
        'An IAM user\'s ConsoleLogin with additionalEventData.MFAUsed "No" from 203.0.113.0/24.',
        ["console_login_without_mfa"],
        _ids(s),
        _issue(s) + events,
        {"user_arn": user.arn, "ip": ip, "account": user.account},
    )


def first_seen_hop(ctx: Ctx, t: int) -> Scenario:
    """A dev role session hops into the security account's AuditRole for the first time."""
    org = ctx.org
    user = org.users["dave"]
    first = assume_role(
        ctx,
        user_caller(user, ctx.office_ip(), UA_CLI),
        org.role("dev", "DeveloperRole"),
        t,
        session_name="dave",
        serial=user.mfa_serial,
    )
    at = t + 300
    target = org.role("security", "AuditRole")
    hop = assume_role(ctx, session_caller(ctx, first, at), target, at, session_name="dave-audit")
    events = traced(ctx, hop, 5, end=at + 1800)
    return Scenario(
        "first-seen-cross-account-hop",
        "First-seen cross-account role hop",
        "A role session in dev assumes security/AuditRole; that (source role, target role) pair "
        "never occurs on the baseline days.",
        ["sts_first_seen_cross_account_hop"],
        _ids(hop),
        _issue(hop) + events,
        {
            "source_role_arn": org.role("dev", "DeveloperRole").arn,
            "role_arn": target.arn,
            "source_account": org.acct("dev"),
            "account": org.acct("security"),
        },
    )


def hop_outside_org(ctx: Ctx, t: int) -> Scenario:
    """A prod SAML session assumes a role in a third-party account outside the organization."""
    org = ctx.org
    role = org.role("prod", "SAMLEngineer")
    s = saml(
        ctx,
        role,
        t,
        "erin@example.com",
        issuer="https://idp.example.com/saml2",
        provider_arn=org.saml_provider_arn(role.account),
        name_qualifier=org.saml_name_qualifier,
        ip=ctx.office_ip(),
        ua=UA_CLI,
        source_identity="erin",
    )
    at = t + 240
    vendor = org.role("vendor", "VendorIntegrationRole")
    hop = assume_role(ctx, session_caller(ctx, s, at), vendor, at, session_name="erin-vendor")
    activity(ctx, hop, 3)  # logged in the vendor's account: never delivered to our trail
    return Scenario(
        "hop-outside-org",
        "Role hop into an account outside the organization",
        "A session in prod assumes a role in 999988887777, which is not an organization member. "
        "Only the caller's copy of the AssumeRole is delivered.",
        ["sts_assume_role_outside_org"],
        _ids(hop),
        _issue(hop),
        {"role_arn": vendor.arn, "account": vendor.account, "source_account": role.account},
    )


def deep_chain(ctx: Ctx, t: int) -> Scenario:
    """erin chains four role hops across four member accounts."""
    org = ctx.org
    user = org.users["erin"]
    s = assume_role(
        ctx,
        user_caller(user, ctx.office_ip(), UA_CLI),
        org.role("dev", "DeveloperRole"),
        t,
        session_name="erin",
        serial=user.mfa_serial,
    )
    chain = [s]
    for i, acct in enumerate(("shared", "prod", "security"), start=1):
        at = t + 180 * i
        chain.append(
            assume_role(
                ctx,
                session_caller(ctx, chain[-1], at),
                org.role(acct, "OrganizationAccountAccessRole"),
                at,
                session_name=f"erin-hop{i}",
                duration=3600,
            )
        )
    events = traced(ctx, chain[-1], 5, end=t + 1800)
    return Scenario(
        "deep-chain-four-accounts",
        "Role chain four hops deep across four accounts",
        "identity user -> dev DeveloperRole -> shared -> prod -> security "
        "OrganizationAccountAccessRole: depth 4, every hop cross-account.",
        ["sts_deep_role_chain"],
        _ids(*chain),
        _issue(*chain) + events,
        {
            "accounts": chain[-1].accounts,
            "role_arn": chain[-1].role_arn,
            "depth": 4,
            "user_arn": user.arn,
        },
    )


def role_juggling(ctx: Ctx, t: int) -> Scenario:
    """frank refreshes access past the 1-hour chaining cap by hopping between two roles."""
    org = ctx.org
    user = org.users["frank"]
    roles = (org.role("dev", "DeveloperRole"), org.role("shared", "DeveloperRole"))
    s = assume_role(
        ctx,
        user_caller(user, ctx.office_ip(), UA_CLI),
        roles[0],
        t,
        session_name="frank",
        serial=user.mfa_serial,
        duration=3600,
    )
    chain = [s]
    events = traced(ctx, s, 2, end=t + 3000)
    for i in range(1, 8):
        at = t + 3000 * i
        nxt = assume_role(
            ctx,
            session_caller(ctx, chain[-1], at),
            roles[i % 2],
            at,
            session_name=f"frank-{i}",
            duration=3600,
        )
        chain.append(nxt)
        events += traced(ctx, nxt, 2, end=at + 2900)
    return Scenario(
        "role-juggling-past-cap",
        "Role juggling refreshes credentials past the 1-hour cap",
        "Two roles assume each other every 50 minutes for over 6 hours; each hop restarts the "
        "chained 1-hour clock.",
        ["sts_role_juggling"],
        _ids(*chain[1:]),
        _issue(*chain[1:]) + events,
        {"role_arns": [r.arn for r in roles], "user_arn": user.arn, "hops": len(chain) - 1},
    )


def instance_outside(ctx: Ctx, t: int) -> Scenario:
    """Instance-profile credentials are replayed from an outside network."""
    w = next(
        w for w in ctx.org.workloads if w.kind == "EC2" and w.role.account == ctx.org.acct("prod")
    )
    s = service_session(ctx, w, t)
    activity(ctx, s, 6, end=t + 3600)
    ip = ctx.ids.ip(OUTSIDE_NET)
    events = traced(ctx, s, 5, start=t + 4000, end=t + 5000, ip=ip, ua=UA_OUTSIDE)
    return Scenario(
        "instance-credentials-outside",
        "Instance credentials used from an outside network",
        "An EC2 instance-profile key (session name = instance id) signs calls from "
        "203.0.113.0/24 with a non-AWS user agent.",
        ["sts_instance_credentials_external_use"],
        _ids(s),
        events,
        {"instance_id": w.name, "access_key": s.issued_key, "ip": ip, "role_arn": w.role.arn},
    )


def enumeration(ctx: Ctx, t: int) -> Scenario:
    """A stolen user key guesses role names: a burst of AccessDenied AssumeRole."""
    org = ctx.org
    user = org.users["example-user"]
    ip = ctx.ids.ip(OUTSIDE_NET)
    caller = user_caller(user, ip, UA_OUTSIDE)
    names = (
        "Admin",
        "Administrator",
        "admin-role",
        "PowerUser",
        "Deploy",
        "Jenkins",
        "Terraform",
        "OrganizationAccountAccessRole",
        "ReadOnly",
        "SecurityAudit",
    )
    accounts = [org.acct(a) for a in ("prod", "dev", "shared")] + ["999988887777"]
    events = [
        assume_role_denied(ctx, caller, Role(name, acct, ""), t + 4 * i, session_name="probe")
        for i, (name, acct) in enumerate((n, a) for a in accounts for n in names)
    ]
    return Scenario(
        "assume-role-enumeration",
        "AssumeRole AccessDenied burst (role enumeration)",
        "40 denied AssumeRole calls in under 3 minutes from one key and address, guessing role "
        "names across accounts; denied cross-account calls appear only in the caller account.",
        ["sts_assume_role_denied_burst"],
        [],
        events,
        {"user_arn": user.arn, "access_key": user.access_key, "ip": ip, "account": user.account},
    )


def gft_persistence(ctx: Ctx, t: int) -> Scenario:
    """A federation token outlives the deactivation of the key that minted it."""
    org = ctx.org
    user = org.users["ci-deployer"]
    ip = ctx.ids.ip(OUTSIDE_NET)
    s = get_federation_token(
        ctx,
        user,
        t,
        name="maint",
        duration=129600,
        policy_arn="arn:aws:iam::aws:policy/AdministratorAccess",
        ip=ip,
        ua=UA_OUTSIDE,
    )
    admin = console_login(
        ctx, org.users["alice"], user.account, t + 1200, mfa=True, ip=ctx.office_ip(), ua=UA_BROWSER
    )
    deactivate: Op = (
        "iam.amazonaws.com",
        "UpdateAccessKey",
        False,
        "Management",
        {"userName": user.name, "accessKeyId": user.access_key, "status": "Inactive"},
        True,
    )
    off = call(ctx, admin, t + 1500, deactivate)
    events = traced(
        ctx,
        s,
        8,
        start=t + 1800,
        end=t + 5 * 3600,
        ip=ip,
        ua=UA_OUTSIDE,
        ops=(*S3_OPS, READ_OPS[6]),
    )
    return Scenario(
        "gft-persistence-after-key-deactivation",
        "GetFederationToken persistence after key deactivation",
        "A ci-deployer key mints a 36-hour federation token with AdministratorAccess from an "
        "outside address; alice deactivates the key, and the FederatedUser keeps working.",
        ["sts_get_federation_token_persistence"],
        _ids(s),
        _issue(s) + [off] + events,
        {
            "user_arn": user.arn,
            "access_key": user.access_key,
            "federated_user": f"arn:aws:sts::{user.account}:federated-user/maint",
            "ip": ip,
        },
    )


def root_console(ctx: Ctx, t: int) -> Scenario:
    """Root signs in to a member account's console without MFA."""
    acct = ctx.org.acct("prod")
    ip = ctx.ids.ip(OUTSIDE_NET)
    s = console_login(ctx, None, acct, t, mfa=False, ip=ip, ua=UA_BROWSER)
    events = traced(ctx, s, 3, end=t + 900, ops=READ_OPS[6:8])
    return Scenario(
        "root-console-login",
        "Root console sign-in",
        'ConsoleLogin by Root in prod, MFAUsed "No", from 203.0.113.0/24.',
        ["root_console_login"],
        _ids(s),
        _issue(s) + events,
        {"account": acct, "ip": ip, "arn": f"arn:aws:iam::{acct}:root"},
    )


def new_oidc_subject(ctx: Ctx, t: int) -> Scenario:
    """The prod deploy role is assumed by a GitHub subject never seen before."""
    org = ctx.org
    role = org.role("prod", "DeployRole")
    subject = "repo:example-org/web-app-fork:pull_request"
    s = web_identity(
        ctx,
        role,
        t,
        provider=GITHUB_ISSUER,
        subject=subject,
        audience="sts.amazonaws.com",
        session_name="GitHubActions",
        origin="OIDC",
        ip=ctx.ids.ip("192.0.2"),
        ua=UA_GHA,
    )
    events = traced(ctx, s, 4, end=t + 600)
    return Scenario(
        "new-oidc-subject",
        "New OIDC subject for the deploy role",
        "AssumeRoleWithWebIdentity into prod DeployRole with a pull_request subject from a fork.",
        ["sts_new_oidc_subject_for_role"],
        _ids(s),
        _issue(s) + events,
        {"role_arn": role.arn, "subject": subject, "provider": GITHUB_ISSUER},
    )


def new_saml_issuer(ctx: Ctx, t: int) -> Scenario:
    """A SAML assertion from an issuer never seen before lands on SAMLAdmin."""
    org = ctx.org
    role = org.role("prod", "SAMLAdmin")
    provider = org.saml_provider_arn(role.account, "BackupIdP")
    s = saml(
        ctx,
        role,
        t,
        "svc-admin@example.net",
        issuer=ROGUE_SAML_ISSUER,
        provider_arn=provider,
        name_qualifier=ctx.ids.b62(27) + "=",
        ip=ctx.ids.ip(OUTSIDE_NET),
        ua=UA_CLI,
        duration=3600,
    )
    events = traced(ctx, s, 4, ops=ADMIN_OPS, end=t + 1800)
    return Scenario(
        "new-saml-issuer",
        "New SAML issuer",
        "AssumeRoleWithSAML whose responseElements.issuer and principalArn were never seen.",
        ["sts_new_saml_issuer"],
        _ids(s),
        _issue(s) + events,
        {
            "issuer": ROGUE_SAML_ISSUER,
            "provider_arn": provider,
            "role_arn": role.arn,
            "subject": "svc-admin@example.net",
        },
    )


def admin_12h(ctx: Ctx, t: int) -> Scenario:
    """dave holds a 12-hour AdminRole session."""
    org = ctx.org
    user, role = org.users["dave"], org.role("prod", "AdminRole")
    s = assume_role(
        ctx,
        user_caller(user, ctx.office_ip(), UA_CLI),
        role,
        t,
        session_name="dave-admin",
        duration=43200,
        serial=user.mfa_serial,
    )
    events = traced(ctx, s, 8, end=t + 10 * 3600, ops=ADMIN_OPS)
    return Scenario(
        "admin-12h-session",
        "12-hour admin session",
        "AssumeRole into prod AdminRole with durationSeconds 43200, used for ten hours.",
        ["sts_long_privileged_session"],
        _ids(s),
        _issue(s) + events,
        {"role_arn": role.arn, "user_arn": user.arn, "duration": 43200},
    )


PLANTS: tuple[Plant, ...] = (
    mfa_less_privileged,
    console_no_mfa,
    first_seen_hop,
    hop_outside_org,
    deep_chain,
    role_juggling,
    instance_outside,
    enumeration,
    gft_persistence,
    root_console,
    new_oidc_subject,
    new_saml_issuer,
    admin_12h,
)
