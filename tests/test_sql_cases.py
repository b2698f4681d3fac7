"""SQL tests as data: every `tests/sql/test_<query>.yaml` case loads rows into `events`,
builds the analysis tables and compares the query's table with the expected rows.

Case keys:
- name: a sentence; inputs.events: rows (omitted columns are NULL);
- config (optional): org_accounts, org_id, max_chain_depth, window_start (the first day an
  analysis.window_days reads, a date), org_folders (the manifest's organization-trail folders,
  `{org_id, account_id}` each);
- where (optional): a column -> value filter on the table;
- sort_by (optional): columns to sort by, for the unordered intermediate tables;
- warns (optional): the UserWarning building the tables must raise (a regex);
- expect.rows: in the table's order; expect.partial (default true): compare only the given
  columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from analysis_support import assert_grains, events_connection, fetch_dicts, norm

from pipeline import analysis, queries

CASE_DIR = Path(__file__).parent / "sql"


def _cases() -> list[Any]:
    params = []
    for path in sorted(CASE_DIR.glob("test_*.yaml")):
        query = path.stem.removeprefix("test_")
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            params.append(pytest.param(query, case, id=f"{query}: {case['name']}"))
    return params


def test_every_case_file_names_a_build_step() -> None:
    steps = set(analysis.STEPS)
    bad = [p.name for p in CASE_DIR.glob("test_*.yaml") if p.stem[5:] not in steps]
    assert not bad, f"YAML cases for unknown queries: {bad}"


def test_every_analysis_step_has_cases() -> None:
    missing = [s for s in analysis.STEPS if not (CASE_DIR / f"test_{s}.yaml").is_file()]
    assert not missing, f"analysis steps without YAML cases: {missing}"


@pytest.mark.parametrize(("query", "case"), _cases())
def test_sql_case(query: str, case: dict[str, Any]) -> None:
    assert f"analysis/{query}" in queries.names("analysis")
    con = events_connection(case.get("inputs", {}).get("events", []))
    config = case.get("config", {})
    settings = analysis.Settings(
        org_accounts=tuple(str(a) for a in config.get("org_accounts", [])),
        org_id=config.get("org_id"),
        max_chain_depth=int(config.get("max_chain_depth", 10)),
        window_start=config.get("window_start"),
        org_folders=tuple(
            (str(f["org_id"]), str(f["account_id"])) for f in config.get("org_folders", [])
        ),
    )
    if case.get("warns"):  # a truncated chain must be reported loudly, not only flagged
        with pytest.warns(UserWarning, match=case["warns"]):
            analysis.build(con, settings)
    else:
        analysis.build(con, settings)
    assert_grains(con)
    rows = fetch_dicts(con, f"select * from {query}")
    where = case.get("where") or {}
    rows = [r for r in rows if all(norm(r.get(k)) == norm(v) for k, v in where.items())]
    if case.get("sort_by"):  # for the unordered intermediate tables
        rows.sort(key=lambda r: tuple(str(norm(r.get(k))) for k in case["sort_by"]))
    expect = case["expect"]
    partial = expect.get("partial", True)
    wanted = expect.get("rows", [])
    if partial:
        for exp in wanted:
            missing_cols = [k for k in exp if rows and k not in rows[0]]
            assert not missing_cols, f"{query} has no columns {missing_cols}"
        got = [{k: norm(r.get(k)) for k in exp} for r, exp in zip(rows, wanted, strict=False)]
    else:
        got = [{k: norm(v) for k, v in r.items()} for r in rows]
    want = [{k: norm(v) for k, v in exp.items()} for exp in wanted]
    assert len(rows) == len(wanted), f"{len(rows)} rows, expected {len(wanted)}:\n" + "\n".join(
        str({k: norm(v) for k, v in r.items()}) for r in rows
    )
    assert got == want


def test_attribution_counts_a_corrected_call_once() -> None:
    # sel_attribution (analyze's summary line): calls made with temporary credentials, and
    # those a session accounts for; a call an UPDATED_DATA record replaces counts as its
    # correction only
    issued = {
        "event_time": "2024-01-15T10:00:00Z",
        "event_source": "sts.amazonaws.com",
        "event_name": "AssumeRole",
        "user_type": "IAMUser",
        "user_arn": "arn:aws:iam::111122223333:user/alice",
        "req_role_arn": "arn:aws:iam::111122223333:role/Ops",
        "req_role_session_name": "alice",
        "issued_access_key_id": "ASIAOPSEXAMPLE",
        "expiration": "2024-01-15T11:00:00Z",
        "assumed_role_arn": "arn:aws:sts::111122223333:assumed-role/Ops/alice",
    }
    call = {
        "event_time": "2024-01-15T10:05:00Z",
        "event_source": "s3.amazonaws.com",
        "event_name": "ListBuckets",
        "user_type": "AssumedRole",
        "user_arn": "arn:aws:sts::111122223333:assumed-role/Ops/alice",
        "user_access_key_id": "ASIAOPSEXAMPLE",
        "session_creation_date": "2024-01-15T10:00:00Z",
    }
    stranger = call | {
        "user_arn": "arn:aws:sts::111122223333:assumed-role/Ops/carol",
        "user_access_key_id": "ASIAUNKNOWNEXAMPLE",
        "session_creation_date": "2024-01-14T09:00:00Z",
    }
    con = events_connection(
        [
            issued | {"event_id": "s1"},
            call | {"event_id": "c1"},
            call
            | {
                "event_id": "c1-fixed",
                "addendum_reason": "UPDATED_DATA",
                "addendum_original_event_id": "c1",
            },
            stranger | {"event_id": "u1"},
        ]
    )
    analysis.build(con)
    row = con.execute(queries.load("analysis/sel_attribution")).fetchall()
    # c1-fixed and u1 were made; c1-fixed is attributed; u1 is the one call left, in the one
    # session sessions_seen lists: calls_temporary = calls_attributed + calls_unattributed
    assert row == [(2, 1, 1, 1)]
