"""Sessions (one per credential issuance), the per-shard context, and the activity that follows."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.simulate.ids import Ids, iso
from pipeline.simulate.org import OFFICE_NET, Org
from pipeline.simulate.records import AWS_INTERNAL, JSON, record
from pipeline.simulate.writer import TrailWriter

CONSOLE_KEY_ROTATION = 900  # the console re-mints its signing keys (semantics §4.1 item 3)


@dataclass(eq=False)
class Session:
    """One credential issuance: its ground truth and how its activity looks."""

    session_id: str
    kind: str
    issued_key: str | None
    issue_time: int
    expiration: int | None
    parent: Session | None
    origin_type: str
    origin_id: str
    depth: int
    accounts: list[str]
    mfa: str
    requested_duration: int | None
    role_arn: str | None
    session_name: str | None
    caller_account: str | None
    target_account: str
    issue_event_ids: list[str]
    identity: Callable[[str], JSON]
    principal_id: str  # what the role owner's AWSAccount copy names when this session calls
    mfa_flag: str = "false"
    role_session: bool = False  # an AssumedRole identity: its AssumeRole calls are chaining
    console: bool = False  # activity carries sessionCredentialFromConsole "true"
    rotate: bool = False  # activity is signed with other keys than the issued one (console, IdC)
    ip: str = ""
    ua: str = ""
    region: str = "us-east-1"
    source_identity: str | None = None
    related_event_ids: list[str] = field(default_factory=list)
    left_org: bool = False
    first_use: int | None = None
    last_use: int | None = None
    events: int = 0
    _keys: dict[int, str] = field(default_factory=dict)
    _idents: dict[str, JSON] = field(default_factory=dict)

    @property
    def cross_account_hops(self) -> int:
        """Account changes along the path from the origin to this session."""
        return len(self.accounts) - 1

    @property
    def end(self) -> int:
        """When the credentials stop working."""
        return self.expiration if self.expiration is not None else self.issue_time + 3600

    def key_at(self, t: int, ids: Ids) -> str:
        """The access key that signs a call at `t` (console sessions rotate theirs)."""
        if not self.rotate and self.issued_key is not None:
            return self.issued_key
        slot = (t - self.issue_time) // CONSOLE_KEY_ROTATION
        key = self._keys.get(slot)
        if key is None:
            key = self._keys[slot] = ids.temp_key()
        return key

    def ident(self, key: str) -> JSON:
        """The userIdentity of a call signed with `key` (cached per key)."""
        found = self._idents.get(key)
        if found is None:
            found = self._idents[key] = self.identity(key)
        return found

    def used(self, t: int) -> None:
        """Count one logical call made with these credentials."""
        self.events += 1
        if self.first_use is None or t < self.first_use:
            self.first_use = t
        if self.last_use is None or t > self.last_use:
            self.last_use = t


class Ctx:
    """Everything one shard of the simulation writes through."""

    def __init__(self, org: Org, ids: Ids, writer: TrailWriter) -> None:
        self.org = org
        self.ids = ids
        self.rng = ids.rng
        self.writer = writer
        self.sessions: list[Session] = []
        self.kinds: Counter[str] = Counter()
        self.expired_keys: list[tuple[int, str]] = []  # (expiry, key) for ASIA key recycling
        self._pending: list[tuple[int, int, _Batch]] = []
        self._seq = 0
        self.unwritten = 0  # planned calls not written yet

    def schedule(self, batch: _Batch) -> None:
        """Queue planned calls; `drain` writes them in time order."""
        heapq.heappush(self._pending, (batch.times[batch.idx], self._seq, batch))
        self._seq += 1

    def drain(self, until: int | None = None) -> None:
        """Write every planned call at or before `until` (all of them when None)."""
        pending = self._pending
        limit = until if until is not None else 1 << 62
        while pending and pending[0][0] <= limit:
            _, seq, batch = heapq.heappop(pending)
            # Emit this batch up to the next batch's first call, then requeue it.
            nxt = pending[0][0] if pending else limit
            before = batch.idx
            emit_batch(self, batch, min(nxt, limit))
            self.unwritten -= batch.idx - before
            if batch.idx < len(batch.times):
                heapq.heappush(pending, (batch.times[batch.idx], seq, batch))

    def emit(self, rec: JSON, account: str, region: str, t: int) -> bool:
        """Deliver a record to `account`'s folder (dropped if the account is outside the org)."""
        return self.writer.emit(rec, account, region, t)

    def add(self, session: Session) -> Session:
        """Register a new session for the truth file."""
        self.sessions.append(session)
        self.kinds[session.kind] += 1
        if session.issued_key is not None and session.expiration is not None:
            self.expired_keys.append((session.expiration, session.issued_key))
            if len(self.expired_keys) > 64:
                del self.expired_keys[:32]
        return session

    def office_ip(self) -> str:
        """An address of the corporate network."""
        return self.ids.ip(OFFICE_NET)


def _host(source: str, region: str) -> str:
    service = source.split(".", 1)[0]
    if service in ("iam", "s3") and region == "us-east-1":
        return f"{service}.amazonaws.com"
    return f"{service}.{region}.amazonaws.com"


# (eventSource, eventName, readOnly, eventCategory, requestParameters, served in us-east-1 only)
Op = tuple[str, str, bool, str, JSON | None, bool]
READ_OPS: tuple[Op, ...] = (
    ("sts.amazonaws.com", "GetCallerIdentity", True, "Management", None, False),
    ("s3.amazonaws.com", "ListBuckets", True, "Management", {"Host": "s3.amazonaws.com"}, True),
    (
        "s3.amazonaws.com",
        "GetObject",
        True,
        "Data",
        {
            "bucketName": "example-app-data",
            "Host": "example-app-data.s3.amazonaws.com",
            "key": "reports/daily.csv",
        },
        False,
    ),
    (
        "ec2.amazonaws.com",
        "DescribeInstances",
        True,
        "Management",
        {"instancesSet": {}, "filterSet": {}},
        False,
    ),
    (
        "ec2.amazonaws.com",
        "DescribeSecurityGroups",
        True,
        "Management",
        {"securityGroupSet": {}, "filterSet": {}},
        False,
    ),
    ("ec2.amazonaws.com", "DescribeRegions", True, "Management", {"regionSet": {}}, False),
    ("iam.amazonaws.com", "ListRoles", True, "Management", None, True),
    ("iam.amazonaws.com", "ListUsers", True, "Management", None, True),
    ("iam.amazonaws.com", "GetRole", True, "Management", {"roleName": "ReadOnlyRole"}, True),
    ("logs.amazonaws.com", "DescribeLogGroups", True, "Management", None, False),
    (
        "kms.amazonaws.com",
        "Decrypt",
        True,
        "Management",
        {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
        False,
    ),
    (
        "dynamodb.amazonaws.com",
        "DescribeTable",
        True,
        "Management",
        {"tableName": "example-orders"},
        False,
    ),
    ("cloudformation.amazonaws.com", "DescribeStacks", True, "Management", None, False),
)
S3_OPS: tuple[Op, ...] = (
    READ_OPS[2],
    (
        "s3.amazonaws.com",
        "ListObjects",
        True,
        "Data",
        {
            "bucketName": "example-app-data",
            "Host": "example-app-data.s3.amazonaws.com",
            "prefix": "reports/",
        },
        False,
    ),
    READ_OPS[0],
)
ADMIN_OPS: tuple[Op, ...] = (
    ("iam.amazonaws.com", "CreateUser", False, "Management", {"userName": "temp-maint"}, True),
    (
        "iam.amazonaws.com",
        "AttachRolePolicy",
        False,
        "Management",
        {"roleName": "DeveloperRole", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        True,
    ),
    ("iam.amazonaws.com", "CreateAccessKey", False, "Management", {"userName": "temp-maint"}, True),
    (
        "s3.amazonaws.com",
        "PutBucketPolicy",
        False,
        "Management",
        {
            "bucketName": "example-app-data",
            "Host": "example-app-data.s3.amazonaws.com",
            "bucketPolicy": {"Version": "2012-10-17"},
        },
        False,
    ),
    (
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        False,
        "Management",
        {"groupId": "sg-0123456789abcdef0"},
        False,
    ),
    *READ_OPS[:4],
)


def call(
    ctx: Ctx,
    s: Session,
    t: int,
    op: Op,
    *,
    ip: str | None = None,
    ua: str | None = None,
    region: str | None = None,
    error: tuple[str, str] | None = None,
) -> str:
    """Emit one API call made with session `s` at `t`; returns its eventID."""
    source, name, read_only, category, request, global_only = op
    reg = "us-east-1" if global_only else (region or s.region)
    ident = s.ident(s.key_at(t, ctx.ids))
    console = s.console
    src_ip = ip or s.ip
    agent = ua or s.ua
    if console and ip is None and ctx.rng.random() < 0.3:
        src_ip = agent = AWS_INTERNAL  # console-proxied calls (semantics §2.1)
    event_id = ctx.ids.uuid()
    rec = record(
        ident=ident,
        time=iso(t),
        source=source,
        name=name,
        region=reg,
        ip=src_ip,
        ua=agent,
        request=request,
        response=None,
        request_id=ctx.ids.uuid(),
        event_id=event_id,
        recipient=s.target_account,
        read_only=read_only,
        error=error,
        category=category,
        from_console=console,
        tls_host=None if console or src_ip == AWS_INTERNAL else _host(source, reg),
    )
    ctx.emit(rec, s.target_account, reg, t)
    s.used(t)
    return event_id


_TLS: dict[tuple[str, str], JSON] = {}


def _tls(source: str, region: str) -> JSON:
    found = _TLS.get((source, region))
    if found is None:
        found = _TLS[(source, region)] = {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": _host(source, region),
        }
    return found


class _Batch:
    """Planned calls of one session, materialized in time order by `Ctx.drain`."""

    __slots__ = ("idx", "ids", "ip", "ops", "session", "times", "ua")

    def __init__(
        self,
        session: Session,
        times: list[int],
        ops: list[Op],
        ip: str | None,
        ua: str | None,
        ids: list[tuple[str, str]] | None,
    ) -> None:
        self.session, self.times, self.ops, self.ip, self.ua, self.ids = (
            session,
            times,
            ops,
            ip,
            ua,
            ids,
        )
        self.idx = 0


def activity(
    ctx: Ctx,
    s: Session,
    n: int,
    *,
    start: int | None = None,
    end: int | None = None,
    ops: tuple[Op, ...] = READ_OPS,
    ip: str | None = None,
    ua: str | None = None,
    want_ids: bool = False,
) -> list[str]:
    """Plan `n` calls made with `s`, spread over [start, end] inside the session's lifetime.

    The truth counters are updated now; the records are written when the shard's clock reaches
    them (`Ctx.drain`), so only a few minutes of records are ever held in memory. The eventIDs
    are drawn now, and returned, only when `want_ids` (scenarios need them).
    """
    if n <= 0:
        return []
    lo = (start if start is not None else s.issue_time) + 1
    hi = min(end if end is not None else s.end, s.end) - 1
    hi = max(hi, lo)
    rand = ctx.rng.random
    span, count = hi - lo + 1, len(ops)
    times = sorted(lo + int(rand() * span) for _ in range(n))
    chosen = [ops[int(rand() * count)] for _ in range(n)]
    pairs = [ctx.ids.uuid_pair() for _ in range(n)] if want_ids else None
    ctx.schedule(_Batch(s, times, chosen, ip, ua, pairs))
    ctx.unwritten += n
    s.events += n - 2
    s.used(times[0])
    s.used(times[-1])
    return [event_id for event_id, _ in pairs] if pairs is not None else []


def traced(
    ctx: Ctx,
    s: Session,
    n: int,
    *,
    start: int | None = None,
    end: int | None = None,
    ops: tuple[Op, ...] = READ_OPS,
    ip: str | None = None,
    ua: str | None = None,
) -> list[str]:
    """`activity` that returns the planned eventIDs."""
    return activity(ctx, s, n, start=start, end=end, ops=ops, ip=ip, ua=ua, want_ids=True)


def emit_batch(ctx: Ctx, b: _Batch, until: int) -> None:
    """Write the calls of `b` up to time `until` (the hot loop of large runs)."""
    s = b.session
    ids = ctx.ids
    rand, uuids, emit = ctx.rng.random, ids.uuid_pair, ctx.writer.emit
    account, console, home = s.target_account, s.console, s.region
    fixed = s.ident(s.issued_key) if not s.rotate and s.issued_key is not None else None
    base_ip, base_ua = b.ip or s.ip, b.ua or s.ua
    times, ops, pairs = b.times, b.ops, b.ids
    i, n = b.idx, len(times)
    while i < n and times[i] <= until:
        t = times[i]
        source, name, read_only, category, request, global_only = ops[i]
        region = "us-east-1" if global_only else home
        src_ip, agent = base_ip, base_ua
        if console and b.ip is None and rand() < 0.3:
            src_ip = agent = AWS_INTERNAL  # console-proxied calls (semantics §2.1)
        event_id, request_id = pairs[i] if pairs is not None else uuids()
        rec: JSON = {
            "eventVersion": "1.09",
            "userIdentity": fixed if fixed is not None else s.ident(s.key_at(t, ids)),
            "eventTime": iso(t),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": src_ip,
            "userAgent": agent,
            "requestParameters": request,
            "responseElements": None,
            "requestID": request_id,
            "eventID": event_id,
            "readOnly": read_only,
            "eventType": "AwsApiCall",
            "managementEvent": category == "Management",
            "recipientAccountId": account,
            "eventCategory": category,
        }
        if console:
            rec["sessionCredentialFromConsole"] = "true"
        elif src_ip != AWS_INTERNAL:
            rec["tlsDetails"] = _tls(source, region)
        emit(rec, account, region, t)
        i += 1
    b.idx = i
