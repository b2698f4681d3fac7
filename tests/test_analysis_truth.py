"""The analysis against the simulator's ground truth: simulate several days, ingest, build, and
require every session, parent, origin, depth, account path, first/last use and MFA state to be
exactly right. Mismatches are printed before the assertion fails."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline import analysis, lake
from pipeline.ingest import ingest

pytestmark = pytest.mark.slow

simulate_mod = pytest.importorskip("pipeline.simulate")

# Compared for every session whose issuing event reached the lake.
EXACT = (
    "kind",
    "issue_time",
    "issued_key",
    "caller_account",
    "target_account",
    "role_arn",
    "session_name",
    "requested_duration",
    "parent_session_id",
    "origin_type",
    "origin_id",
    "depth",
    "accounts",
    "cross_account_hops",
    "left_org",
    "mfa",
    "expiration",
    "first_use",
    "last_use",
    "events",
)
# Activity in an account outside the organization is never delivered to the org trail, so what
# a session did there cannot be observed (truth still counts it).
ACTIVITY = ("first_use", "last_use", "events")


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("truth")
    out, target = root / "corpus", root / "lake"
    simulate_mod.simulate(out, days=4, seed=11, events=20_000, workers=2)
    ingest([str(out)], target)
    con = lake.connect(target)
    analysis.build(con)
    return out, con


def _compare(out: Path, con: duckdb.DuckDBPyConnection) -> tuple[int, Counter[str], list[str]]:
    truth = [json.loads(line) for line in (out / "truth" / "sessions.jsonl").open()]
    cur = con.execute("select * from rpt_sessions")
    names = [d[0] for d in cur.description]
    mine = {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}
    stored = {r[0] for r in con.execute("select event_id from int_events").fetchall()}
    org = {r[0] for r in con.execute("select account_id from int_org_accounts").fetchall()}
    counts: Counter[str] = Counter()
    lines: list[str] = []
    visible = 0
    for want in truth:
        if not any(e in stored for e in want["issue_event_ids"]):
            counts["not delivered (issued outside the organization)"] += 1
            continue
        visible += 1
        got = mine.get(want["session_id"])
        if got is None:
            counts["missing"] += 1
            lines.append(f"missing {want['kind']} {want['session_id']}")
            continue
        got = {
            **got,
            "accounts": got["account_path"].split(" > ") if got["account_path"] else None,
        }
        for field in EXACT:
            if field in ACTIVITY and want["target_account"] not in org:
                continue
            expected, actual = want[field], _iso(got[field])
            if field == "parent_session_id":
                expected = want["parent_session_id"]
            if expected != actual:
                counts[field] += 1
                lines.append(
                    f"{field}: {want['kind']} {want['session_id']}: truth {expected!r} "
                    f"!= ours {actual!r}"
                )
    extra = set(mine) - {t["session_id"] for t in truth}
    for session_id in sorted(extra):
        counts["extra"] += 1
        lines.append(f"extra {mine[session_id]['kind']} {session_id}")
    return visible, counts, lines


def test_every_session_matches_the_truth(
    corpus: tuple[Path, duckdb.DuckDBPyConnection],
) -> None:
    out, con = corpus
    visible, counts, lines = _compare(out, con)
    print(f"{visible} visible sessions; mismatches: {dict(counts)}")
    for line in lines[:60]:
        print(line)
    assert visible > 500
    mismatched = {k: v for k, v in counts.items() if not k.startswith("not delivered")}
    assert not mismatched, f"{mismatched}; first: {lines[:5]}"


def test_every_kind_of_issuance_is_exercised(
    corpus: tuple[Path, duckdb.DuckDBPyConnection],
) -> None:
    _, con = corpus
    kinds = {r[0] for r in con.execute("select distinct kind from rpt_sessions").fetchall()}
    assert kinds >= {
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


def test_no_chain_is_truncated_and_links_are_unique(
    corpus: tuple[Path, duckdb.DuckDBPyConnection],
) -> None:
    _, con = corpus
    assert con.execute("select count(*) from int_chains where chain_truncated").fetchall() == [(0,)]
    dupes = con.execute(
        "select event_id from int_session_links group by event_id having count(*) > 1"
    ).fetchall()
    assert not dupes
