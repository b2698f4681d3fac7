"""The simulator against cloudtrail-semantics.md: layout, identities, copies, formats, truth."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import ConfigError
from pipeline.simulate import simulate
from pipeline.simulate.ids import parse_java_medium

SEED, DAYS, EVENTS = 7, 2, 2500
LOG_RE = re.compile(
    r"^AWSLogs/o-exampleorgid/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/"
    r"\1_CloudTrail_\2_(\d{8}T\d{4}Z)_[0-9A-Za-z]{16}\.json\.gz$"
)
DIGEST_RE = re.compile(
    r"^AWSLogs/o-exampleorgid/(\d{12})/CloudTrail-Digest/([a-z0-9-]+)/\d{4}/\d{2}/\d{2}/"
    r"\1_CloudTrail-Digest_\2_org-trail_us-east-1_\d{8}T\d{6}Z\.json\.gz$"
)
JAVA_FORMATS = ("%b %d, %Y, %I:%M:%S %p", "%b %d, %Y %I:%M:%S %p")
ORG_ACCOUNTS = {"111122223333", "444455556666", "777788889999", "210987654321", "123456789012"}
ALLOWED_IP = re.compile(r"^(203\.0\.113|198\.51\.100|192\.0\.2)\.\d{1,3}$")


class Corpus:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[tuple[str, list[dict[str, Any]]]] = []
        self.digests: list[tuple[str, dict[str, Any]]] = []
        for path in sorted(root.glob("AWSLogs/**/*.json.gz")):
            rel = path.relative_to(root).as_posix()
            body = json.loads(gzip.decompress(path.read_bytes()))
            if "/CloudTrail-Digest/" in rel:
                self.digests.append((rel, body))
            else:
                self.files.append((rel, body["Records"]))
        self.records = [r for _, recs in self.files for r in recs]
        self.by_id: dict[str, dict[str, Any]] = {}
        for r in self.records:
            self.by_id.setdefault(r["eventID"], r)
        self.sessions = [
            json.loads(line) for line in (root / "truth/sessions.jsonl").read_text().splitlines()
        ]
        self.scenarios = json.loads((root / "truth/scenarios.json").read_text())
        self.summary = json.loads((root / "truth/summary.json").read_text())


SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
# Keep in step with the command in sample_data/README.md.
SAMPLE_ARGS = {"days": 3, "seed": 42, "events": 1000}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    out = tmp_path_factory.mktemp("sim")
    simulate(out, days=DAYS, seed=SEED, events=EVENTS, workers=1)
    return Corpus(out)


@pytest.fixture(scope="module", params=["generated", "sample_data"])
def corpus(request: pytest.FixtureRequest, generated: Corpus) -> Corpus:
    """Every check runs on a fresh corpus and on the committed sample_data/."""
    return Corpus(SAMPLE_DATA) if request.param == "sample_data" else generated


def _t(text: str) -> datetime:
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y%m%dT%H%M%SZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    raise AssertionError(f"not an ISO time: {text}")


def _java(text: str) -> datetime:
    for fmt in JAVA_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    raise AssertionError(f"not a Java medium date: {text}")


def _issuing(corpus: Corpus) -> list[dict[str, Any]]:
    return [
        r
        for r in corpus.records
        if (r.get("responseElements") or {}).get("credentials") is not None
    ]


# --- layout -------------------------------------------------------------------------------


def test_log_files_follow_the_org_trail_layout_and_folder_matches_recipient(corpus: Corpus) -> None:
    assert len(corpus.files) > 100
    regions = set()
    for rel, records in corpus.files:
        m = LOG_RE.match(rel)
        assert m, rel
        account, region = m.group(1), m.group(2)
        regions.add(region)
        assert records
        for r in records:
            assert r["recipientAccountId"] == account
            assert r["awsRegion"] == region
            assert account in ORG_ACCOUNTS
    assert regions == {"us-east-1", "us-west-2", "eu-west-1"}


def test_file_stamp_is_delivery_time_so_some_records_land_in_the_next_day(corpus: Corpus) -> None:
    next_day = 0
    for rel, records in corpus.files:
        m = LOG_RE.match(rel)
        assert m
        delivered = datetime.strptime(m.group(6), "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
        folder = f"{m.group(3)}-{m.group(4)}-{m.group(5)}"
        assert delivered.strftime("%Y-%m-%d") == folder
        for r in records:
            assert _t(r["eventTime"]) <= delivered
            next_day += r["eventTime"][:10] < folder
    assert next_day > 0


def test_records_inside_some_file_are_not_time_ordered(corpus: Corpus) -> None:
    unordered = sum(
        1
        for _, recs in corpus.files
        if [r["eventTime"] for r in recs] != sorted(r["eventTime"] for r in recs)
    )
    assert unordered > 0


def test_duplicate_deliveries_repeat_the_same_record_in_another_file(corpus: Corpus) -> None:
    where: dict[str, list[str]] = defaultdict(list)
    bodies: dict[str, set[str]] = defaultdict(set)
    for rel, recs in corpus.files:
        for r in recs:
            where[r["eventID"]].append(rel)
            bodies[r["eventID"]].add(json.dumps(r, sort_keys=True))
    dups = [e for e, files in where.items() if len(files) > 1]
    assert len(dups) == corpus.summary["duplicates"] > 0
    for e in dups:
        assert len(set(where[e])) == 2
        assert len(bodies[e]) == 1


def test_digests_have_no_records_and_hash_the_files_they_list(corpus: Corpus) -> None:
    hours: Counter[tuple[str, str]] = Counter()
    listed = 0
    for rel, body in corpus.digests:
        m = DIGEST_RE.match(rel)
        assert m, rel
        assert "Records" not in body
        assert body["digestS3Object"] == rel
        hours[(m.group(1), m.group(2))] += 1
        for f in body["logFiles"]:
            data = (corpus.root / f["s3Object"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f["hashValue"]
            listed += 1
    assert listed == len(corpus.files)
    assert len(set(hours.values())) == 1  # one digest per hour for every account and region
    assert len(hours) == len(ORG_ACCOUNTS) * 3
    firsts = [b for _, b in corpus.digests if b["previousDigestS3Object"] is None]
    assert len(firsts) == len(hours)


def test_only_documentation_addresses_and_placeholder_keys(corpus: Corpus) -> None:
    for r in corpus.records:
        ip = r["sourceIPAddress"]
        assert ALLOWED_IP.match(ip) or ip == "AWS Internal" or ip.endswith(".amazonaws.com"), ip
        key = r["userIdentity"].get("accessKeyId")
        if key:
            assert re.fullmatch(r"(ASIA[A-Z2-7]{16}|AKIA[A-Z2-7]{9}EXAMPLE)", key), key


# --- identities and STS shapes ---------------------------------------------------------------

REQUIRED = {
    "IAMUser": {"type", "principalId", "arn", "accountId", "userName"},
    "AssumedRole": {"type", "principalId", "arn", "accountId"},
    "FederatedUser": {"type", "principalId", "arn", "accountId", "accessKeyId", "sessionContext"},
    "Root": {"type", "principalId", "arn", "accountId"},
    "SAMLUser": {"type", "principalId", "userName", "identityProvider"},
    "WebIdentityUser": {"type", "principalId", "userName", "identityProvider"},
    "AWSAccount": {"type", "principalId", "accountId"},
    "AWSService": {"type", "invokedBy"},
    "IdentityCenterUser": {"type", "accountId", "onBehalfOf", "credentialId"},
    # Cognito identity-pool calls (semantics §3.8): the caller is not an AWS principal
    "Unknown": {"type"},
}


def test_identity_shapes_per_caller_type(corpus: Corpus) -> None:
    seen = Counter(r["userIdentity"]["type"] for r in corpus.records)
    assert set(seen) == set(REQUIRED)
    for r in corpus.records:
        ui = r["userIdentity"]
        if r.get("errorMessage") == "Failed authentication":
            assert "arn" not in ui and ui["accessKeyId"] == ""
            continue
        assert REQUIRED[ui["type"]] <= set(ui), ui
        if ui["type"] in ("SAMLUser", "WebIdentityUser"):
            assert "arn" not in ui and "accountId" not in ui
        if ui["type"] in ("AWSAccount", "AWSService"):
            assert set(ui) == REQUIRED[ui["type"]]
        context = ui.get("sessionContext")
        if context is not None:
            attrs = context["attributes"]
            assert attrs["mfaAuthenticated"] in ("true", "false")
            _t(attrs["creationDate"])
            assert ui["accessKeyId"].startswith("ASIA")
        if ui["type"] == "AssumedRole" and "accessKeyId" in ui:
            issuer = context["sessionIssuer"]
            role_name = issuer["arn"].rsplit("/", 1)[-1]
            assert issuer["type"] == "Role" and issuer["userName"] == role_name
            assert ui["arn"].startswith(f"arn:aws:sts::{ui['accountId']}:assumed-role/{role_name}/")
            assert ui["principalId"].startswith(issuer["principalId"] + ":")
        if ui["type"] == "IAMUser" and context is not None:
            assert context["sessionIssuer"] == {}
        if ui["type"] == "FederatedUser":
            assert context["sessionIssuer"]["type"] == "IAMUser"
        if ui["type"] == "Unknown":
            assert r["eventSource"] == "cognito-identity.amazonaws.com"
            assert r["eventCategory"] == "Data" and r["managementEvent"] is False


def test_cross_account_assume_role_has_two_copies(corpus: Corpus) -> None:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in {r["eventID"]: r for r in corpus.records}.values():
        if r["eventName"] == "AssumeRole" and "sharedEventID" in r:
            groups[r["sharedEventID"]].append(r)
    pairs = [g for g in groups.values() if len(g) == 2]
    assert len(pairs) > 20
    for pair in pairs:
        caller, owner = sorted(pair, key=lambda r: r["userIdentity"]["type"] == "AWSAccount")
        for field in (
            "eventTime",
            "requestID",
            "requestParameters",
            "responseElements",
            "awsRegion",
            "sharedEventID",
        ):
            assert caller[field] == owner[field], field
        assert caller["eventID"] != owner["eventID"]
        assert caller["recipientAccountId"] != owner["recipientAccountId"]
        assert owner["recipientAccountId"] == caller["requestParameters"]["roleArn"].split(":")[4]
        assert caller["userIdentity"]["type"] in ("IAMUser", "AssumedRole")
        assert owner["userIdentity"] == {
            "type": "AWSAccount",
            "principalId": caller["userIdentity"]["principalId"],
            "accountId": caller["recipientAccountId"],
        }
    inbound = 0
    for g in groups.values():
        # one copy: service-issued calls (twin in an AWS account), hops out of the organization,
        # and a partner's calls into it (only the role owner's AWSAccount copy is delivered)
        if len(g) == 1:
            ui = g[0]["userIdentity"]
            role_account = g[0]["requestParameters"]["roleArn"].split(":")[4]
            if ui["type"] == "AWSAccount":
                assert ui["accountId"] not in ORG_ACCOUNTS and role_account in ORG_ACCOUNTS
                assert g[0]["recipientAccountId"] == role_account
                inbound += 1
            else:
                assert ui["type"] == "AWSService" or role_account not in ORG_ACCOUNTS
    assert inbound > 0


def test_same_account_assume_role_is_one_record_without_shared_event_id(corpus: Corpus) -> None:
    same = [
        r
        for r in corpus.records
        if r["eventName"] == "AssumeRole"
        and r["userIdentity"].get("accountId") == r["requestParameters"]["roleArn"].split(":")[4]
        and r["userIdentity"]["type"] in ("IAMUser", "AssumedRole")
    ]
    assert same
    assert all("sharedEventID" not in r for r in same)


def test_service_issued_sessions(corpus: Corpus) -> None:
    svc = [r for r in corpus.records if r["userIdentity"]["type"] == "AWSService"]
    invokers = {r["userIdentity"]["invokedBy"] for r in svc}
    assert invokers == {"ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com"}
    for r in svc:
        assert r["sourceIPAddress"] == r["userAgent"] == r["userIdentity"]["invokedBy"]
        assert "sharedEventID" in r
    ec2_use = [
        r
        for r in corpus.records
        if r["userIdentity"].get("sessionContext", {}).get("ec2RoleDelivery")
    ]
    assert ec2_use and all(
        r["userIdentity"]["sessionContext"]["ec2RoleDelivery"] == "2.0" for r in ec2_use
    )
    lambda_use = [r for r in corpus.records if "inScopeOf" in r["userIdentity"]]
    assert {r["userIdentity"]["inScopeOf"]["issuerType"] for r in lambda_use} == {
        "AWS::Lambda::Function",
        "AWS::ECS::Task",
    }


def test_expiration_is_java_medium_text_in_both_variants(corpus: Corpus) -> None:
    comma = plain = 0
    for r in _issuing(corpus):
        text = r["responseElements"]["credentials"]["expiration"]
        parsed = _java(text)
        assert parsed.timestamp() == parse_java_medium(text)
        life = (parsed - _t(r["eventTime"])).total_seconds()
        assert 0 < life <= 129600
        if re.search(r"\d{4},", text):
            comma += 1
        else:
            plain += 1
    assert comma > 0 and plain > 0


def test_creation_date_in_both_iso_forms(corpus: Corpus) -> None:
    forms = Counter(
        "basic" if "-" not in ui["sessionContext"]["attributes"]["creationDate"] else "extended"
        for r in corpus.records
        if "sessionContext" in (ui := r["userIdentity"])
    )
    assert forms["basic"] > 0 and forms["extended"] > 0


def test_role_chaining_never_exceeds_one_hour(corpus: Corpus) -> None:
    chained = [
        r
        for r in _issuing(corpus)
        if r["eventName"] == "AssumeRole" and r["userIdentity"]["type"] == "AssumedRole"
    ]
    assert len(chained) > 10
    for r in chained:
        life = _java(r["responseElements"]["credentials"]["expiration"]) - _t(r["eventTime"])
        assert life.total_seconds() <= 3600
        assert r["requestParameters"].get("durationSeconds", 3600) <= 3600


def test_failed_calls_have_null_response_and_stay_in_the_caller_account(corpus: Corpus) -> None:
    denied = [r for r in corpus.records if r.get("errorCode") == "AccessDenied"]
    assert len(denied) >= 40
    for r in denied:
        assert r["responseElements"] is None
        assert r["recipientAccountId"] == r["userIdentity"]["accountId"]
        assert "sharedEventID" not in r


def test_console_calls_use_other_keys_and_aws_internal(corpus: Corpus) -> None:
    issued = {r["responseElements"]["credentials"]["accessKeyId"] for r in _issuing(corpus)}
    console = [r for r in corpus.records if r.get("sessionCredentialFromConsole") == "true"]
    assert console
    for r in console:
        assert r["userIdentity"]["accessKeyId"] not in issued
    internal = [
        r
        for r in corpus.records
        if r["eventName"] == "AssumeRole" and r["sourceIPAddress"] == "AWS Internal"
    ]
    assert internal
    for r in internal:
        if r["userIdentity"]["type"] != "AWSAccount":
            assert r["userIdentity"]["invokedBy"] == "AWS Internal"
            assert r["userAgent"] == "AWS Internal"


def test_identity_center_path(corpus: Corpus) -> None:
    grc = [r for r in corpus.records if r["eventName"] == "GetRoleCredentials"]
    assert grc
    for r in grc:
        assert r["eventType"] == "AwsServiceEvent"
        assert r["requestParameters"] is None and r["responseElements"] is None
        assert set(r["serviceEventDetails"]) == {"account_id", "role_name"}
        assert r["recipientAccountId"] == r["userIdentity"]["accountId"] == "111122223333"
    idc = [s for s in corpus.sessions if s["kind"] == "IdentityCenter"]
    assert idc
    for s in idc:
        assert "/aws-reserved/sso.amazonaws.com/" in s["role_arn"]
        assert "AWSReservedSSO_" in s["role_arn"]
        issue = corpus.by_id[s["session_id"]]
        assert issue["eventName"] == "AssumeRoleWithSAML"
        assert corpus.by_id[s["related_event_ids"][0]]["eventName"] == "GetRoleCredentials"
    users = {s["origin_id"].removeprefix("idc:") for s in idc}
    on_behalf = [
        r
        for r in corpus.records
        if "onBehalfOf" in r["userIdentity"] and r["userIdentity"]["type"] == "AssumedRole"
    ]
    assert on_behalf
    assert {r["userIdentity"]["onBehalfOf"]["userId"] for r in on_behalf} <= users


def test_console_login_flags(corpus: Corpus) -> None:
    logins = [r for r in corpus.records if r["eventName"] == "ConsoleLogin"]
    used = Counter(r["additionalEventData"]["MFAUsed"] for r in logins)
    assert used["Yes"] and used["No"]
    saml = [r for r in logins if "SamlProviderArn" in r["additionalEventData"]]
    assert saml and all(r["additionalEventData"]["MFAUsed"] == "No" for r in saml)
    assert any(r["userIdentity"]["type"] == "Root" for r in logins)
    for r in logins:
        assert r["requestParameters"] is None
        assert r["eventType"] == "AwsConsoleSignIn"


# --- truth ------------------------------------------------------------------------------------


def _activity_index(corpus: Corpus) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Logical calls per session identity (arn + creationDate); one copy of each event."""
    index: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in {r["eventID"]: r for r in corpus.records}.values():
        ui = r["userIdentity"]
        if "sessionContext" in ui:
            created = _t(ui["sessionContext"]["attributes"]["creationDate"]).isoformat()
            index[(ui["arn"], created)].append(r)
    return index


def _session_arn(s: dict[str, Any], corpus: Corpus) -> str:
    if s["kind"] in ("ConsoleLogin",):
        ui = corpus.by_id[s["session_id"]]["userIdentity"]
        return str(ui["arn"])
    if s["kind"] == "GetSessionToken":
        return str(s["origin_id"])
    if s["kind"] == "GetFederationToken":
        return f"arn:aws:sts::{s['target_account']}:federated-user/{s['session_name']}"
    if s["kind"] == "AssumeRoot":
        return f"arn:aws:iam::{s['target_account']}:root"
    role = s["role_arn"].rsplit("/", 1)[-1]
    return f"arn:aws:sts::{s['target_account']}:assumed-role/{role}/{s['session_name']}"


def test_truth_counts_match_the_logs(corpus: Corpus) -> None:
    index = _activity_index(corpus)
    checked = 0
    for s in corpus.sessions:
        if s["left_org"]:
            continue  # activity is logged in an account outside the trail
        calls = index.get((_session_arn(s, corpus), _t(s["issue_time"]).isoformat()), [])
        assert len(calls) == s["events"], s
        if calls:
            times = sorted(r["eventTime"] for r in calls)
            assert (times[0], times[-1]) == (s["first_use"], s["last_use"])
        checked += 1
    assert checked > 100


def test_truth_issued_key_is_in_an_issuing_record(corpus: Corpus) -> None:
    kinds = Counter(s["kind"] for s in corpus.sessions)
    assert set(kinds) == {
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "GetSessionToken",
        "GetFederationToken",
        "AssumeRoot",
        "IdentityCenter",
        "ConsoleLogin",
        "SwitchRole",
        "EC2",
        "Lambda",
        "ECS",
        "GetCredentialsForIdentity",
    }
    assert kinds == Counter(corpus.summary["sessions_by_kind"])
    for s in corpus.sessions:
        assert s["issue_event_ids"][0] == s["session_id"]
        assert all(e in corpus.by_id for e in s["issue_event_ids"])
        if s["issued_key"] is None:
            assert s["kind"] == "ConsoleLogin"
            continue
        keys = {
            corpus.by_id[e]["responseElements"]["credentials"]["accessKeyId"]
            for e in s["issue_event_ids"]
            if "credentials" in (corpus.by_id[e]["responseElements"] or {})
        }
        assert keys == {s["issued_key"]}


def test_truth_chain_fields(corpus: Corpus) -> None:
    by_id = {s["session_id"]: s for s in corpus.sessions}
    for s in corpus.sessions:
        parent = by_id.get(s["parent_session_id"]) if s["parent_session_id"] else None
        if parent is None:
            # an origin; a partner's role session, issued where the trail cannot see, counts
            # as a level above the session it issues
            unseen = s["origin_type"] == "AWSAccount" and ":" in s["origin_id"].split("|")[1]
            assert s["parent_session_id"] is None and s["depth"] == (2 if unseen else 1)
        else:
            assert s["depth"] == parent["depth"] + 1
            assert s["origin_id"] == parent["origin_id"]
            assert s["accounts"][: len(parent["accounts"])] == parent["accounts"]
        assert s["cross_account_hops"] == len(s["accounts"]) - 1
        assert s["accounts"][-1] == s["target_account"]
        assert s["left_org"] == any(a not in ORG_ACCOUNTS for a in s["accounts"])
        if s["origin_type"] in ("SAML", "OIDC", "IdentityCenter", "Cognito"):
            assert s["mfa"] == "idp_asserted"
    assert max(s["depth"] for s in corpus.sessions) >= 8  # the role-juggling scenario


def test_federated_sessions_always_show_mfa_false(corpus: Corpus) -> None:
    index = _activity_index(corpus)
    seen = 0
    for s in corpus.sessions:
        if s["origin_type"] in ("SAML", "OIDC", "IdentityCenter", "Cognito") and s["depth"] == 1:
            for r in index.get((_session_arn(s, corpus), _t(s["issue_time"]).isoformat()), []):
                assert (
                    r["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"
                )
                seen += 1
    assert seen > 50


def test_recycled_keys_belong_to_sessions_that_do_not_overlap(corpus: Corpus) -> None:
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in corpus.sessions:
        if s["issued_key"]:
            by_key[s["issued_key"]].append(s)
    reused = [v for v in by_key.values() if len(v) > 1]
    assert reused
    for group in reused:
        group.sort(key=lambda s: s["issue_time"])
        for a, b in zip(group, group[1:], strict=False):
            assert a["expiration"] < b["issue_time"]


def test_scenarios_point_at_real_events_and_sessions(corpus: Corpus) -> None:
    ids = {s["session_id"] for s in corpus.sessions}
    names = {s["id"] for s in corpus.scenarios}
    assert len(names) == 13
    start = _t(corpus.summary["start"])
    last_day = (start + timedelta(days=corpus.summary["days"] - 1)).strftime("%Y-%m-%d")
    for sc in corpus.scenarios:
        assert sc["event_ids"] and sc["expected_detections"]
        assert set(sc["event_ids"]) <= set(corpus.by_id), sc["id"]
        assert set(sc["session_ids"]) <= ids
        first = min(corpus.by_id[e]["eventTime"] for e in sc["event_ids"])
        assert first[:10] == last_day, sc["id"]  # planted on the last day (may run past midnight)


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for sub in ("AWSLogs", "truth")
        for p in (root / sub).rglob("*")
        if p.is_file()
    }


def test_determinism_same_seed_same_bytes(tmp_path: Path, generated: Corpus) -> None:
    simulate(tmp_path, days=DAYS, seed=SEED, events=EVENTS, workers=2)  # worker count is irrelevant
    assert _tree(tmp_path) == _tree(generated.root)


def test_another_seed_gives_other_bytes(tmp_path: Path) -> None:
    for seed in (1, 2):
        simulate(tmp_path / str(seed), days=1, seed=seed, events=100, workers=1)
    first, second = (_tree(tmp_path / str(seed)) for seed in (1, 2))
    assert first["truth/sessions.jsonl"] != second["truth/sessions.jsonl"]
    logs = {name for name in first if "/CloudTrail/" in name}
    assert logs and logs.isdisjoint(second)  # the 16-character UNIQUE differs too


def test_sample_data_matches_its_seed(tmp_path: Path) -> None:
    """sample_data/ never drifts from the simulator: regenerate it and compare every byte."""
    simulate(tmp_path, workers=2, **SAMPLE_ARGS)
    assert _tree(tmp_path) == _tree(SAMPLE_DATA)
    command = "sts-audit simulate --out sample_data --days 3 --seed 42 --events 1000 --overwrite"
    assert command in (SAMPLE_DATA / "README.md").read_text()


def test_existing_output_needs_overwrite(tmp_path: Path) -> None:
    simulate(tmp_path, days=1, seed=1, events=0, workers=1)
    with pytest.raises(ConfigError):
        simulate(tmp_path, days=1, seed=1, events=0, workers=1)
    simulate(tmp_path, days=1, seed=1, events=0, workers=1, overwrite=True)
    with pytest.raises(ConfigError):
        simulate(tmp_path / "x", days=0, seed=1, events=10)
