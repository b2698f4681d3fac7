"""A third party's role session reaching into the organization (a vendor's auditing or
monitoring integration). The caller's copy of its AssumeRole goes to the partner's own account,
which is outside the organization, so the trail holds only the role owner's copy, whose
userIdentity is `{type: AWSAccount, principalId, accountId}` (cloudtrail-semantics.md §4.3):
the origin is that foreign principal, and whether it used MFA cannot be seen."""

from __future__ import annotations

from pipeline.simulate.context import READ_OPS, Ctx, activity
from pipeline.simulate.issue import Caller, _creation, assume_role
from pipeline.simulate.org import CLOUD_NET
from pipeline.simulate.records import UA_BOTO, role_identity


def partner_caller(ctx: Ctx, t: int) -> Caller:
    """The partner's own role session, as the (undelivered) caller's copy would show it."""
    role = ctx.org.role("partner", "PartnerAccessRole")
    session_name = f"sync-{t}"
    principal_id = f"{role.role_id}:{session_name}"
    ident = role_identity(role, session_name, ctx.ids.temp_key(), _creation(ctx, t - 60), "false")
    return Caller(
        ident=ident,
        account=role.account,
        principal_id=principal_id,
        arn=role.session_arn(session_name),
        origin_type="AWSAccount",
        origin_id=f"account:{role.account}|{principal_id}",
        ip=ctx.ids.ip(CLOUD_NET),
        ua=UA_BOTO,
        accounts=[role.account],
        mfa="unknown",
        # a role session: issued in the partner's account, one level the trail cannot see
        # (its own parents are the partner's), so the session it issues is at depth 2
        depth=1,
    )


def partner_audit(ctx: Ctx, t: int) -> None:
    """The partner's integration assumes its audit role in prod and reads configuration."""
    caller = partner_caller(ctx, t)
    role = ctx.org.role("prod", "PartnerAuditRole")
    s = assume_role(ctx, caller, role, t, session_name="partner-audit")
    activity(ctx, s, ctx.rng.randint(2, 8), ops=READ_OPS)
