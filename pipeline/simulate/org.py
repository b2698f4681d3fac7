"""The simulated AWS Organization: accounts, regions, IAM users, roles and identity providers.

Every identifier is an AWS documentation placeholder or is drawn from a seeded RNG, so the same
seed always describes the same organization.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pipeline.simulate.ids import Ids

ORG_ID = "o-exampleorgid"
TRAIL_NAME = "org-trail"
HOME_REGION = "us-east-1"
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
LOG_BUCKET = "aws-controltower-logs-210987654321-us-east-1"

# Address plan (documentation blocks only): people, AWS-hosted workloads, outsiders.
OFFICE_NET = "198.51.100"
CLOUD_NET = "192.0.2"
OUTSIDE_NET = "203.0.113"

CORP_SAML_ISSUER = "https://idp.example.com/saml2"
ROGUE_SAML_ISSUER = "https://sso.example.net/idp/metadata"
GITHUB_ISSUER = "token.actions.githubusercontent.com"
COGNITO_PROVIDER = "cognito-identity.amazonaws.com"


@dataclass(frozen=True)
class Account:
    """One AWS account, in or outside the organization."""

    id: str
    name: str
    in_org: bool


@dataclass(frozen=True)
class Role:
    """An IAM role; `path` is kept in the role ARN but dropped from session ARNs."""

    name: str
    account: str
    role_id: str
    path: str = "/"
    max_session: int = 3600
    privileged: bool = False

    @property
    def arn(self) -> str:
        """The role ARN, path included."""
        return f"arn:aws:iam::{self.account}:role{self.path}{self.name}"

    def session_arn(self, session_name: str) -> str:
        """The assumed-role ARN of a session (no path)."""
        return f"arn:aws:sts::{self.account}:assumed-role/{self.name}/{session_name}"


@dataclass(frozen=True)
class User:
    """An IAM user with one long-term access key and, maybe, an MFA device."""

    name: str
    account: str
    user_id: str
    access_key: str
    has_mfa: bool

    @property
    def arn(self) -> str:
        """The user ARN."""
        return f"arn:aws:iam::{self.account}:user/{self.name}"

    @property
    def mfa_serial(self) -> str:
        """The virtual MFA device ARN."""
        return f"arn:aws:iam::{self.account}:mfa/{self.name}"


@dataclass(frozen=True)
class IdcUser:
    """An IAM Identity Center user."""

    user_name: str
    user_id: str


@dataclass(frozen=True)
class Workload:
    """An EC2 instance, Lambda function or ECS service that gets role credentials."""

    kind: str  # EC2 | Lambda | ECS
    name: str
    role: Role
    region: str
    ip: str


@dataclass
class Org:
    """The whole simulated estate; build it with `build_org(seed)`."""

    accounts: dict[str, Account]
    roles: dict[str, Role]
    users: dict[str, User]
    idc_users: list[IdcUser]
    workloads: list[Workload]
    identity_store_id: str
    idc_issuer: str
    eks_issuer: str
    cognito_pool: str
    saml_name_qualifier: str
    github_subjects: list[str] = field(default_factory=list)
    eks_subjects: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)

    @property
    def org_account_ids(self) -> list[str]:
        """Accounts whose logs the organization trail delivers."""
        return [a.id for a in ACCOUNTS if a.in_org]

    def in_org(self, account_id: str) -> bool:
        """Whether the organization trail delivers this account's logs."""
        return account_id in self.org_account_ids

    def acct(self, name: str) -> str:
        """Account id by short name (`identity`, `prod`, ...)."""
        return self.accounts[name].id

    def role(self, account_name: str, role_name: str) -> Role:
        """A role by account short name and role name."""
        return self.roles[f"{account_name}/{role_name}"]

    @property
    def identity_store_arn(self) -> str:
        """The Identity Center identity store ARN (in the identity account)."""
        return (
            f"arn:aws:identitystore::{self.acct('identity')}:identitystore/{self.identity_store_id}"
        )

    def saml_provider_arn(self, account: str, name: str = "CorpIdP") -> str:
        """A SAML provider ARN in `account`."""
        return f"arn:aws:iam::{account}:saml-provider/{name}"

    def oidc_provider_arn(self, account: str, issuer: str) -> str:
        """An OIDC provider ARN in `account`."""
        return f"arn:aws:iam::{account}:oidc-provider/{issuer}"


ACCOUNTS = (
    Account("111122223333", "identity", True),  # management account: users, IdC, SAML
    Account("444455556666", "prod", True),
    Account("777788889999", "dev", True),
    Account("210987654321", "security", True),  # log archive: the trail bucket lives here
    Account("123456789012", "shared", True),  # shared services
    Account("999988887777", "vendor", False),  # a third party outside the organization
    Account("888899990000", "partner", False),
)

PERMISSION_SETS = ("AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess")
PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank", "example-user")


def build_org(seed: int) -> Org:
    """Describe the organization; identical for identical seeds."""
    ids = Ids(random.Random(f"org:{seed}"))
    accounts = {a.name: a for a in ACCOUNTS}
    roles: dict[str, Role] = {}

    def add(acct: str, name: str, **kw: object) -> Role:
        role = Role(name=name, account=accounts[acct].id, role_id=ids.unique_id("AROA"), **kw)  # type: ignore[arg-type]
        roles[f"{acct}/{name}"] = role
        return role

    for acct in ("prod", "dev", "shared", "security"):
        add(acct, "AdminRole", max_session=43200, privileged=True)
        add(acct, "ReadOnlyRole")
        add(acct, "OrganizationAccountAccessRole", privileged=True)
        add(acct, "SecurityAuditRole", max_session=7200)
        add(acct, "DeveloperRole", max_session=14400)
        add(acct, "SAMLEngineer", path="/federated/", max_session=28800)
        add(acct, "SAMLAdmin", path="/federated/", max_session=28800, privileged=True)
        for ps in PERMISSION_SETS:
            add(
                acct,
                f"AWSReservedSSO_{ps}_{ids.hex(16)}",
                path=f"/aws-reserved/sso.amazonaws.com/{HOME_REGION}/",
                max_session=43200,
                privileged=ps == "AdministratorAccess",
            )
    add("identity", "OrgAdminRole", max_session=3600, privileged=True)
    add("identity", "ReadOnlyRole")
    add("security", "AuditRole", max_session=3600)
    add("prod", "S3ReaderRole")
    for acct in ("prod", "dev"):
        add(acct, "DeployRole")
        add(acct, "EC2AppRole", path="/service-role/")
        add(acct, "LambdaExecRole", path="/service-role/")
        add(acct, "EksPodRole")
    add("shared", "EcsTaskRole", path="/service-role/")
    add("prod", "EcsTaskRole", path="/service-role/")
    add("prod", "CognitoAuthRole", path="/service-role/")
    add("vendor", "VendorIntegrationRole")
    add("partner", "PartnerAccessRole")
    add("prod", "PartnerAuditRole")  # assumed from the partner's account (inbound)

    users = {}
    for name in (*PEOPLE, "ci-deployer", "backup-svc"):
        users[name] = User(
            name=name,
            account=accounts["identity"].id,
            user_id=ids.unique_id("AIDA"),
            access_key=ids.long_term_key(),
            has_mfa=name in PEOPLE,
        )
    idc_users = [IdcUser(f"{p}@example.com", f"{ids.hex(10)}-{ids.uuid()}") for p in PEOPLE]
    workloads: list[Workload] = []
    for acct, count in (("prod", 4), ("dev", 2)):
        for _ in range(count):
            workloads.append(
                Workload(
                    "EC2",
                    f"i-{ids.hex(17)}",
                    roles[f"{acct}/EC2AppRole"],
                    ids.rng.choice(REGIONS),
                    ids.ip(CLOUD_NET),
                )
            )
    for acct, fn in (
        ("dev", "report-builder"),
        ("prod", "image-resizer"),
        ("prod", "audit-export"),
    ):
        workloads.append(
            Workload("Lambda", fn, roles[f"{acct}/LambdaExecRole"], "us-west-2", ids.ip(CLOUD_NET))
        )
    for acct in ("shared", "prod"):
        workloads.append(
            Workload(
                "ECS", f"{acct}-api", roles[f"{acct}/EcsTaskRole"], "eu-west-1", ids.ip(CLOUD_NET)
            )
        )
    store = f"d-{ids.hex(10)}"
    return Org(
        accounts=accounts,
        roles=roles,
        users=users,
        idc_users=idc_users,
        workloads=workloads,
        identity_store_id=store,
        idc_issuer=f"https://portal.sso.{HOME_REGION}.amazonaws.com/saml/assertion/{ids.b62(40)}",
        eks_issuer=f"oidc.eks.us-west-2.amazonaws.com/id/{ids.hex(32).upper()}",
        cognito_pool=f"us-east-1:{ids.uuid()}",
        saml_name_qualifier=ids.b62(27) + "=",
        github_subjects=[
            "repo:example-org/web-app:ref:refs/heads/main",
            "repo:example-org/infra:environment:production",
            "repo:example-org/api:ref:refs/heads/main",
        ],
        eks_subjects=[
            "system:serviceaccount:payments:api",
            "system:serviceaccount:kube-system:aws-load-balancer-controller",
        ],
        people=list(PEOPLE),
    )
