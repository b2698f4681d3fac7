"""A simulated organization ingests with nothing lost, checked against the simulator's truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import lake as lakefs
from pipeline.ingest import ingest
from pipeline.simulate.run import simulate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("org")
    simulate(out, days=2, seed=11, events=6000)
    lake = tmp_path_factory.mktemp("lake") / "lake"
    summary = ingest([str(out / "AWSLogs")], lake)
    return out, lake, summary.as_dict()


def test_every_record_is_stored_or_a_counted_duplicate(
    simulated: tuple[Path, Path, dict[str, object]],
) -> None:
    out, _, summary = simulated
    truth = json.loads((out / "truth" / "summary.json").read_text())
    assert summary["reconciles"] is True
    assert summary["records_rejected"] == 0 and summary["files_quarantined"] == 0
    assert summary["records_read"] == truth["events"]
    assert summary["records_duplicate"] == truth["duplicates"]
    assert summary["records_stored"] == truth["events"] - truth["duplicates"]
    assert summary["files_skipped_digest"] == truth["digest_files"]
    assert summary["files_read"] == truth["files"]


def test_every_issued_key_is_in_the_lake_with_its_issuing_event(
    simulated: tuple[Path, Path, dict[str, object]],
) -> None:
    out, lake, _ = simulated
    con = lakefs.connect(lake)
    issuing = {
        event_id: key
        for event_id, key in con.execute(
            "select event_id, issued_access_key_id from events"
            " where issued_access_key_id is not null"
        ).fetchall()
    }
    stored_ids = {row[0] for row in con.execute("select event_id from events").fetchall()}
    sessions = [json.loads(line) for line in (out / "truth" / "sessions.jsonl").open()]
    missing_events = []
    wrong_keys = []
    for session in sessions:
        missing_events += [e for e in session["issue_event_ids"] if e not in stored_ids]
        key = session["issued_key"]
        # the key is in the issuing call's response: for SwitchRole that is the console's
        # AssumeRole behind the sign-in event, so look at every copy of the issuance
        found = {issuing.get(e) for e in session["issue_event_ids"]}
        if key is not None and key not in found:
            wrong_keys.append((session["session_id"], key, found))
    assert not missing_events, missing_events[:10]
    assert not wrong_keys, wrong_keys[:10]
    assert sum(1 for s in sessions if s["issued_key"]) > 100
