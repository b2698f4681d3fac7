"""The analysis commands end to end on a small lake (the reference STS examples)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline import analysis
from pipeline.cli import app
from pipeline.errors import ConfigError, LakeError
from pipeline.ingest import ingest

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sts-examples.json"
runner = CliRunner()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not EXAMPLES.is_file():
        pytest.skip(f"{EXAMPLES} is absent")
    target = tmp_path_factory.mktemp("cli") / "lake"
    ingest([str(EXAMPLES)], target)
    return target


@pytest.fixture(scope="module")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sample_data/ after `sts-audit run` (ingested, analysis tables written); read only."""
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "AWSLogs"
    target = tmp_path_factory.mktemp("sample") / "lake"
    proc = _main("run", str(sample), "--lake", str(target), "--quiet")
    assert proc.returncode == 0, proc.stderr
    return target


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_sessions_as_json_lines(lake: Path) -> None:
    result = runner.invoke(app, ["sessions", "--lake", str(lake), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = _json_lines(result.stdout)
    assert {r["kind"] for r in rows} >= {"SwitchRole", "IdentityCenter", "EC2", "ConsoleLogin"}


def test_sessions_as_json_carry_every_column_of_the_table(lake: Path, tmp_path: Path) -> None:
    # README promises every column; the listing carried 33 of 59 (no chain columns)
    result = runner.invoke(app, ["sessions", "--lake", str(lake), "--format", "json"])
    assert result.exit_code == 0, result.output
    con = analysis.open_analysis(lake, analysis.Settings(), events=False)
    table = [d[0] for d in con.execute("select * from rpt_sessions limit 0").description]
    con.close()
    assert list(_json_lines(result.stdout)[0]) == table
    assert {"root_session_id", "account_path", "cycle", "chain_truncated"} <= set(table)


def test_account_filter_is_bound_and_validated(lake: Path) -> None:
    result = runner.invoke(
        app, ["sessions", "--lake", str(lake), "--account", "776613361644", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    assert [r["kind"] for r in _json_lines(result.stdout)] == ["SwitchRole"]
    bad = runner.invoke(app, ["sessions", "--lake", str(lake), "--account", "1' or '1'='1"])
    assert bad.exit_code == 2
    assert "not an AWS account ID" in bad.output


def test_since_until_and_principal(lake: Path) -> None:
    result = runner.invoke(
        app,
        [
            "chains",
            "--lake",
            str(lake),
            "--since",
            "2026-07-01",
            "--until",
            "2026-07-01",
            "--principal",
            "idc:976710cc5d-9d976f61-3b89-4b98-88db-2ea3bbc1f3fa",
            "-f",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 2  # header + the Identity Center session


@pytest.mark.parametrize("command", ["sessions", "chains", "logins"])
def test_principal_can_be_a_role_arn(lake: Path, command: str) -> None:
    # "who got credentials for this role?": every session of the role, whatever its session name
    every = _json_lines(runner.invoke(app, ["sessions", "--lake", str(lake), "-f", "json"]).stdout)
    role = next(
        str(r["role_arn"])
        for r in every
        if r["role_arn"] and (command != "logins" or r["origin_type"] == "IdentityCenter")
    )
    result = runner.invoke(app, [command, "--lake", str(lake), "--principal", role, "-f", "json"])
    assert result.exit_code == 0, result.output
    want = {r["session_id"] for r in every if r["role_arn"] == role}
    got = {r["session_id"] for r in _json_lines(result.stdout)}
    assert got and got <= want
    if command != "logins":  # logins lists only the federated entries among them
        assert got == want


@pytest.mark.parametrize("command", ["sessions", "chains", "logins"])
def test_since_after_until_is_a_usage_error_naming_both(lake: Path, command: str) -> None:
    result = runner.invoke(
        app, [command, "--lake", str(lake), "--since", "2026-07-02", "--until", "2026-07-01"]
    )
    assert result.exit_code == 2
    assert "--since 2026-07-02 is after --until 2026-07-01" in result.output
    # one day is a valid range
    same = runner.invoke(
        app, [command, "--lake", str(lake), "--since", "2026-07-01", "--until", "2026-07-01"]
    )
    assert same.exit_code == 0, same.output


@pytest.mark.parametrize("command", ["sessions", "chains", "logins"])
def test_relative_days_name_the_same_rows(
    lake: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    from pipeline import days

    monkeypatch.setattr(days, "utc_today", lambda: dt.date(2026, 7, 3))
    base = [command, "--lake", str(lake), "-f", "csv"]
    dated = runner.invoke(app, [*base, "--since", "2026-07-01", "--until", "2026-07-02"])
    relative = runner.invoke(app, [*base, "--since", "2d", "--until", "yesterday"])
    assert dated.exit_code == 0, dated.output
    assert relative.exit_code == 0, relative.output
    assert relative.stdout == dated.stdout and dated.stdout.count("\n") > 1
    # today is 2026-07-03: nothing from then on
    later = runner.invoke(app, [*base, "--since", "today"])
    assert later.exit_code != 0 and "match the filters" in str(later.exception or later.output)


LISTINGS = {
    "sessions": "sessions",
    "chains": "chains",
    "logins": "federated logins",
    "accounts": "account hops",
    "seen": "sessions seen only through their calls",
}


@pytest.fixture(scope="module")
def lake_without_sessions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake of three S3 calls by an IAM user: events, and no credentials issued."""
    from conftest import records, write_delivery_file

    root = tmp_path_factory.mktemp("no-sessions")
    calls = records(3, eventSource="s3.amazonaws.com", eventName="ListBuckets")
    write_delivery_file(root / "src" / "a.json", calls, gz=False)
    ingest([str(root / "src")], root / "lake")
    return root / "lake"


@pytest.mark.parametrize("command", LISTINGS)
def test_a_listing_of_a_lake_without_sessions_says_so_not_that_filters_matched_nothing(
    lake_without_sessions: Path, command: str
) -> None:
    # it said "no sessions match the filters" when no filter was given, sending the user
    # after filters instead of at the lake
    proc = _main(command, "--lake", str(lake_without_sessions))
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("note: ")]
    assert lines == [
        f"error: no {LISTINGS[command]} in the lake (it holds 3 events, none of them issuing "
        "credentials) (fix: ingest more logs: the trails of more accounts, regions or days)"
    ]


def test_an_empty_listing_of_a_lake_with_sessions_counts_them(tmp_path: Path) -> None:
    # one AssumeRole by an IAM user: a session, and no federated login
    from conftest import record, write_delivery_file

    write_delivery_file(tmp_path / "src" / "a.json", [record()], gz=False)
    ingest([str(tmp_path / "src")], tmp_path / "lake")
    proc = _main("logins", "--lake", str(tmp_path / "lake"))
    assert proc.returncode == 1, proc.stderr
    [error] = [line for line in proc.stderr.splitlines() if not line.startswith("note: ")]
    assert error.startswith("error: no federated logins in the lake (it holds 1 session)")
    assert "filters" not in proc.stderr


def test_no_session_seen_only_through_its_calls_is_the_healthy_answer(sample_lake: Path) -> None:
    # the sample organization: every call made with temporary credentials has its session.
    # `seen` said so as an error (exit 1) and advised to ingest more logs, so a nightly
    # check of it failed on the good outcome
    proc = _main("seen", "--lake", str(sample_lake))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == (
        "note: no sessions seen only through their calls: every call made with temporary "
        "credentials went to a session whose issuance the lake holds\n"
    )
    as_json = _main("seen", "--lake", str(sample_lake), "--format", "json")
    assert (as_json.returncode, as_json.stdout) == (0, "")
    # filters that match nothing stay an error: they may be mistyped
    filtered = _main("seen", "--lake", str(sample_lake), "--account", "123456789012")
    assert filtered.returncode == 1
    assert "no sessions seen only through their calls match the filters" in filtered.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["sessions", "--account", "135792468013", "--principal", "bob o'neil"],
            "no sessions match the filters: --account 135792468013 --principal 'bob o'\"'\"'neil' "
            "(fix: widen or drop --account, --principal, or ingest more logs)",
        ),
        (  # a relative day, named as the day it stood for
            ["chains", "--since", "today"],
            "no chains match the filters: --since 2030-01-02 (fix: widen or drop --since, or "
            "ingest more logs)",
        ),
        (
            ["accounts", "--account", "135792468013"],
            "no account hops match the filters: --account 135792468013 (fix: widen or drop "
            "--account, or ingest more logs)",
        ),
    ],
    ids=["account and principal", "a relative day", "accounts"],
)
def test_a_listing_that_matches_nothing_names_the_filters(
    sample_lake: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    says: str,
) -> None:
    from conftest import main_in_process

    from pipeline import days

    monkeypatch.setattr(days, "utc_today", lambda: dt.date(2030, 1, 2))
    code, err = main_in_process(monkeypatch, capsys, *args, "--lake", str(sample_lake))
    assert (code, err) == (1, f"error: {says}\n")


def test_logins_and_accounts(lake: Path) -> None:
    logins = runner.invoke(app, ["logins", "--lake", str(lake), "-f", "json"])
    assert logins.exit_code == 0, logins.output
    assert {r["origin_type"] for r in _json_lines(logins.stdout)} == {
        "SAML",
        "OIDC",
        "IdentityCenter",
    }
    accounts = runner.invoke(app, ["accounts", "--lake", str(lake), "-f", "json"])
    assert accounts.exit_code == 0, accounts.output
    hops = {(r["from_account"], r["to_account"]) for r in _json_lines(accounts.stdout)}
    assert ("203016562928", "776613361644") in hops


def test_logins_and_chains_as_json_carry_every_column_of_their_table(sample_lake: Path) -> None:
    # the json, csv and parquet formats carry every column (README); `logins` left out four of
    # federated_logins' (expiration, principal_arn, user_agent, console_signin_event_id) and
    # `chains` the origin's account
    target = sample_lake
    rows, columns = {}, {}
    for command, table in (("logins", "federated_logins"), ("chains", "chains")):
        columns[command] = set(pq.read_schema(target / "analysis" / f"{table}.parquet").names)
        result = runner.invoke(app, [command, "--lake", str(target), "-f", "json"])
        assert result.exit_code == 0, result.output
        rows[command] = _json_lines(result.stdout)
        assert rows[command], command
        assert all(columns[command] <= set(r) for r in rows[command]), command
    # and nothing else for logins: it is that table (chains adds the session's own fields)
    assert all(set(r) == columns["logins"] for r in rows["logins"])
    # the SAML console federations name the sign-in each was paired with
    assert any(
        r["console_signin_event_id"] for r in rows["logins"] if r["kind"] == "AssumeRoleWithSAML"
    )
    assert all(r["origin_account"] for r in rows["chains"] if r["origin_type"] == "IAMUser")


def test_explain_a_key_shows_chain_evidence_and_activity(lake: Path) -> None:
    result = runner.invoke(
        app, ["explain", "ASIA3JUODO7WTIO2PI64", "--lake", str(lake), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = _json_lines(result.stdout)
    sections = [r["section"] for r in rows]
    assert sections.count("chain") == 1
    assert sections.count("evidence") == 3  # the two account copies and the SwitchRole
    assert sections.count("activity") == 1  # EX#4 CreateUser
    # what an analyst acts on: where each step and call came from, and with which agent
    [step] = [r for r in rows if r["section"] == "chain"]
    [call] = [r for r in rows if r["section"] == "activity"]
    assert (call["source_ip_address"], call["user_agent"]) == (
        "75.15.154.15",
        "console.amazonaws.com",
    )
    assert {"source_ip", "user_agent", "expiration"} <= set(step)
    # each row names its session: a json or csv reader filtering by session keeps the calls
    assert call["session_id"] == step["session_id"] and call["session_id"]


def test_explain_reads_each_session_s_days_across_midnight(tmp_path: Path) -> None:
    # explain reads only the lake's days around each session: a parent issued before midnight,
    # its child the next morning, the child's calls on the two days after
    from conftest import ACCOUNT, record, session_identity, write_delivery_file

    role = f"arn:aws:sts::{ACCOUNT}:assumed-role/example-role/example-session"
    parent = record(eventTime="2026-11-01T23:59:59Z")
    parent["responseElements"]["credentials"].update(
        accessKeyId="ASIAPARENTEXAMPLE", expiration="Nov 2, 2026, 11:59:59 AM"
    )
    as_parent = session_identity(role, "ASIAPARENTEXAMPLE", "2026-11-01T23:59:59Z")
    child = record(eventTime="2026-11-02T10:00:00Z", userIdentity=as_parent)
    child["responseElements"]["credentials"].update(
        accessKeyId="ASIACHILDEXAMPLE", expiration="Nov 4, 2026, 10:00:00 PM"
    )
    child["responseElements"]["assumedRoleUser"]["arn"] = role.replace("example-session", "child")
    child["requestParameters"]["roleSessionName"] = "child"
    as_child = as_parent | {
        "arn": role.replace("example-session", "child"),
        "accessKeyId": "ASIACHILDEXAMPLE",
        "sessionContext": {"attributes": {"creationDate": "2026-11-02T10:00:00Z"}},
    }
    calls = [
        record(eventTime=t, eventName="GetCallerIdentity", userIdentity=as_child)
        for t in ("2026-11-03T00:00:01Z", "2026-11-04T21:59:59Z")
    ]
    for call in calls:
        call["responseElements"] = None
    # a console sign-in with the parent's credentials, after midnight: evidence of the parent
    login = record(
        eventTime="2026-11-02T01:00:00Z",
        eventSource="signin.amazonaws.com",
        eventName="ConsoleLogin",
        userIdentity={"type": "AssumedRole", "arn": role, "accountId": ACCOUNT},
        requestParameters=None,
        responseElements={"ConsoleLogin": "Success"},
        additionalEventData={"MFAUsed": "No"},
    )
    later = record(eventTime="2026-11-20T10:00:00Z")  # another day of the lake
    events = [parent, login, child, *calls, later]
    write_delivery_file(tmp_path / "src" / "a.json", events, gz=False)
    lake = tmp_path / "lake"
    ingest([str(tmp_path / "src")], lake)

    result = runner.invoke(app, ["explain", "ASIACHILDEXAMPLE", "--lake", str(lake), "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = _json_lines(result.stdout)
    assert [r["session_id"] for r in rows if r["section"] == "chain"] == [
        parent["eventID"],
        child["eventID"],
    ]
    assert {r["event_id"] for r in rows if r["section"] == "evidence"} == {
        parent["eventID"],
        login["eventID"],
        child["eventID"],
    }
    assert [r["event_id"] for r in rows if r["section"] == "activity"] == [
        c["eventID"] for c in calls
    ]


@pytest.mark.parametrize(
    ("event_time", "expiration"),
    [
        ("0001-01-01T00:00:00Z", "Jan 1, 0001, 1:00:00 AM"),
        ("2026-11-02T10:00:00Z", "Dec 31, 9999, 11:00:00 PM"),
        ("9999-12-31T23:00:00Z", "Dec 31, 9999, 11:30:00 PM"),
    ],
)
def test_sessions_at_the_ends_of_the_calendar(
    tmp_path: Path, event_time: str, expiration: str
) -> None:
    # a logged time or expiration in year 1 or 9999 (attacker-controlled log values) made
    # explain and `--until 9999-12-31` end in an OverflowError traceback
    from conftest import record, write_delivery_file

    issued = record(eventTime=event_time)
    issued["responseElements"]["credentials"].update(
        accessKeyId="ASIAFAREXAMPLE", expiration=expiration
    )
    write_delivery_file(tmp_path / "src" / "a.json", [issued], gz=False)
    lake = tmp_path / "lake"
    ingest([str(tmp_path / "src")], lake)

    explained = runner.invoke(app, ["explain", "ASIAFAREXAMPLE", "--lake", str(lake), "-f", "json"])
    assert explained.exit_code == 0, explained.output
    chain = [r for r in _json_lines(explained.stdout) if r["section"] == "chain"]
    assert [r["session_id"] for r in chain] == [issued["eventID"]]
    listed = runner.invoke(
        app, ["sessions", "--lake", str(lake), "--until", "9999-12-31", "-f", "json"]
    )
    assert listed.exit_code == 0, listed.output
    assert [r["session_id"] for r in _json_lines(listed.stdout)] == [issued["eventID"]]


def test_a_session_another_caller_started_in_its_arn_and_second_is_shown_contested(
    tmp_path: Path,
) -> None:
    # mallory names her session after alice's, in alice's role and second: the console call no
    # key decides is attributed to neither, and nothing told the analyst why alice's session
    # showed fewer calls than she made
    from conftest import ACCOUNT, record, session_identity, write_delivery_file

    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/example-role/example-session"
    alice = record(eventTime="2026-11-01T10:00:00Z")
    mallory = record(eventTime="2026-11-01T10:00:00Z")
    mallory["userIdentity"] = alice["userIdentity"] | {
        "arn": f"arn:aws:iam::{ACCOUNT}:user/mallory",
        "principalId": "AIDAI44QH8DHBEXAMPLE",
        "accessKeyId": "AKIAI44QH8DHBEXAMPLE",
    }
    console = record(
        eventTime="2026-11-01T10:05:00Z",
        eventName="GetCallerIdentity",
        responseElements=None,
        userIdentity=session_identity(arn, "ASIAROTATINGEXAMPLE", "2026-11-01T10:00:00Z"),
    )
    write_delivery_file(tmp_path / "src" / "a.json", [alice, mallory, console], gz=False)
    lake = tmp_path / "lake"
    ingest([str(tmp_path / "src")], lake)

    result = runner.invoke(app, ["sessions", "--lake", str(lake), "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["session_id"]: r for r in _json_lines(result.stdout)}
    assert {k: (r["contested_creation"], r["events"]) for k, r in rows.items()} == {
        alice["eventID"]: (True, 0),
        mallory["eventID"]: (True, 0),
    }
    key = alice["responseElements"]["credentials"]["accessKeyId"]
    proc = _main("explain", key, "--lake", str(lake))
    assert proc.returncode == 0, proc.stderr
    assert (
        f"note: session {alice['eventID']} shares its ARN {arn} and creation second with a "
        "session another (or an unknown) caller started: calls no key tells apart are "
        "attributed to neither "
        f"(list them with `sts-audit sessions --principal {arn}`)"
    ) in proc.stderr.splitlines(), proc.stderr


def test_explain_of_a_recycled_key_names_every_session_it_names(tmp_path: Path) -> None:
    # temporary key ids are recycled: explain showed the latest session, silently, to an
    # analyst whose alert was about the earlier one
    from conftest import record, write_delivery_file

    early = record(eventTime="2026-11-01T09:00:00Z")
    late = record(eventTime="2026-11-01T15:00:00Z")
    for issuance, ends in ((early, "10:00:00 AM"), (late, "4:00:00 PM")):
        issuance["responseElements"]["credentials"].update(
            accessKeyId="ASIARECYCLEDEXAMPLE", expiration=f"Nov 1, 2026, {ends}"
        )
    write_delivery_file(tmp_path / "src" / "a.json", [early, late], gz=False)
    lake = tmp_path / "lake"
    ingest([str(tmp_path / "src")], lake)

    proc = _main("explain", "ASIARECYCLEDEXAMPLE", "--lake", str(lake), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    chain = [r for r in _json_lines(proc.stdout) if r["section"] == "chain"]
    assert [r["session_id"] for r in chain] == [late["eventID"]]
    assert (
        f"note: ASIARECYCLEDEXAMPLE names 2 sessions (a recycled key id): this is the latest, "
        f"{late['eventID']} issued 2026-11-01T15:00:00Z; also {early['eventID']} issued "
        "2026-11-01T09:00:00Z (explain one by its session id)"
    ) in proc.stderr.splitlines(), proc.stderr
    proc = _main("explain", str(early["eventID"]), "--lake", str(lake))
    assert proc.returncode == 0 and "recycled key id" not in proc.stderr, proc.stderr


def test_a_member_its_own_trail_delivers_too_is_in_the_organization_night_after_night(
    tmp_path: Path,
) -> None:
    # the organization trail and the account's own trail deliver the same records: dedupe
    # keeps the copy read first, and membership came from the kept copies' folders, so the
    # one-shot lake put the member outside the organization, and the nightly lake did or did
    # not depending on which trail delivered first
    from conftest import ACCOUNT, ORG, delivery_key, record, write_delivery_file

    recs = [record(eventTime="2026-11-01T10:00:00Z")]
    org_key = delivery_key(ACCOUNT)
    own_key = org_key.replace(f"AWSLogs/{ORG}/", "AWSLogs/")
    write_delivery_file(tmp_path / "night1" / own_key, recs)
    lake = tmp_path / "lake"
    ingest([str(tmp_path / "night1")], lake)
    analysis.analyze(lake)

    def left_org() -> list[Any]:
        chains = str(lake / "analysis" / "chains.parquet")
        return duckdb.execute("select left_org from read_parquet($p)", {"p": chains}).fetchall()

    assert left_org() == [(None,)]  # no organization known yet

    # the next night the organization trail's copy arrives: every record a duplicate
    write_delivery_file(tmp_path / "night2" / org_key, recs)
    summary = ingest([str(tmp_path / "night2")], lake)
    assert (summary.records_stored, summary.records_duplicate) == (0, 1)
    assert not analysis.is_current(lake, analysis.Settings())  # a member's folder was listed
    assert json.loads((lake / "_state" / "org_folders.json").read_text()) == [[ORG, ACCOUNT]]
    analysis.analyze(lake)
    assert left_org() == [(False,)]

    # one run over both folders: the account trail's copy is kept, the same answer
    one_shot = tmp_path / "one-shot"
    ingest([str(tmp_path / "night1"), str(tmp_path / "night2")], one_shot)
    sources = duckdb.execute(
        "select source_uri from read_parquet($p)",
        {"p": str(one_shot / "events" / "*" / "*" / "*.parquet")},
    ).fetchall()
    assert [f"AWSLogs/{ORG}/" in uri for (uri,) in sources] == [False]
    analysis.analyze(one_shot)
    lake = one_shot
    assert left_org() == [(False,)]


def test_a_lake_without_its_org_folders_file_starts_it_from_the_manifest(tmp_path: Path) -> None:
    # a lake last ingested before ingest kept its organization folders: the first nightly
    # `--since` run listed only the new day's folders, and the member read earlier went
    # outside the organization
    from conftest import ACCOUNT, ORG, OTHER_ACCOUNT, delivery_key, record, write_delivery_file

    src = tmp_path / "src"
    early = [record(eventTime="2026-10-01T10:00:00Z")]
    org_key = delivery_key(ACCOUNT, "2026/10/01")
    write_delivery_file(src / org_key.replace(f"AWSLogs/{ORG}/", "AWSLogs/"), early)
    write_delivery_file(src / org_key, early)
    lake = tmp_path / "lake"
    ingest([str(src)], lake)
    folders = lake / "_state" / "org_folders.json"
    folders.unlink()  # as an earlier version left the lake

    late = [record(eventTime="2026-11-01T10:00:00Z", recipientAccountId=OTHER_ACCOUNT)]
    write_delivery_file(src / delivery_key(OTHER_ACCOUNT, "2026/11/01"), late)
    ingest([str(src)], lake, since=dt.date(2026, 11, 1))

    assert json.loads(folders.read_text()) == sorted([[ORG, ACCOUNT], [ORG, OTHER_ACCOUNT]])
    analysis.analyze(lake)
    chains = str(lake / "analysis" / "chains.parquet")
    assert duckdb.execute("select left_org from read_parquet($p)", {"p": chains}).fetchall() == [
        (False,),
        (False,),
    ]


def test_explain_names_the_sessions_an_aws_account_origin_s_principal_id_could_be(
    tmp_path: Path,
) -> None:
    # the lake holds a partner role session's issuance (from a collected account) and, of the
    # AssumeRole made with that session, only the role owner's AWSAccount copy: the chain
    # stops at the account (anyone who may assume Partner can name a session alice), and
    # explain names the session the lake holds as a candidate
    from conftest import record, write_delivery_file

    partner = record(eventTime="2026-11-01T10:00:00Z")
    partner["requestParameters"]["roleArn"] = "arn:aws:iam::444455556666:role/Partner"
    partner["responseElements"]["assumedRoleUser"] = {
        "assumedRoleId": "AROAPARTNEREXAMPLE:alice",
        "arn": "arn:aws:sts::444455556666:assumed-role/Partner/alice",
    }
    owner_copy = record(
        eventTime="2026-11-01T10:20:00Z",
        recipientAccountId="123456789012",
        userIdentity={
            "type": "AWSAccount",
            "principalId": "AROAPARTNEREXAMPLE:alice",
            "accountId": "444455556666",
        },
    )
    owner_copy["requestParameters"]["roleArn"] = "arn:aws:iam::123456789012:role/Deploy"
    owner_copy["responseElements"]["credentials"].update(
        accessKeyId="ASIADEPLOYEXAMPLE1", expiration="Nov 1, 2026, 11:20:00 AM"
    )
    # expired before the call: not a candidate
    stale = record(eventTime="2026-11-01T08:00:00Z")
    stale["requestParameters"]["roleArn"] = "arn:aws:iam::444455556666:role/Partner"
    stale["responseElements"]["assumedRoleUser"] = dict(
        partner["responseElements"]["assumedRoleUser"]
    )
    stale["responseElements"]["credentials"]["expiration"] = "Nov 1, 2026, 9:00:00 AM"
    write_delivery_file(tmp_path / "src" / "a.json", [stale, partner, owner_copy], gz=False)
    lake = tmp_path / "lake"
    ingest([str(tmp_path / "src")], lake)

    proc = _main("explain", "ASIADEPLOYEXAMPLE1", "--lake", str(lake), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = _json_lines(proc.stdout)
    chain = [r for r in rows if r["section"] == "chain"]
    assert [(r["session_id"], r["origin_type"]) for r in chain] == [
        (owner_copy["eventID"], "AWSAccount")
    ]
    candidates = [r for r in rows if r["section"] == "candidate_callers"]
    assert [(r["session_id"], r["origin_id"]) for r in candidates] == [
        (partner["eventID"], "arn:aws:iam::123456789012:user/example-user")
    ]
    assert "the lake holds 1 session(s) of that principal id valid at the call" in proc.stderr
    assert "A candidate, not proof" in proc.stderr


def test_explain_names_the_seen_session_that_issued_the_origin(tmp_path: Path) -> None:
    # an instance's role credentials, issued before the lake's first record, used from
    # elsewhere to assume a role: the chain starts at an Unresolved ARN, and explain says which
    # session that is, that the lake holds its calls only, and why
    from conftest import ACCOUNT, record, write_delivery_file

    stolen = f"arn:aws:sts::{ACCOUNT}:assumed-role/web-instance/i-0123456789abcdef0"
    identity = {
        "type": "AssumedRole",
        "principalId": "AROACKCEVSQ6C2EXAMPLE:i-0123456789abcdef0",
        "arn": stolen,
        "accountId": ACCOUNT,
        "accessKeyId": "ASIASTOLENKEYEXAMPLE",
        "sessionContext": {
            "attributes": {"creationDate": "2026-11-01T06:00:00Z", "mfaAuthenticated": "false"},
            "sessionIssuer": {
                "type": "Role",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/web-instance",
                "accountId": ACCOUNT,
            },
        },
    }
    first = record(eventTime="2026-11-01T09:00:00Z")  # the account's first record: a user's
    assume = record(eventTime="2026-11-01T10:00:00Z", userIdentity=identity)
    write_delivery_file(tmp_path / "src" / "a.json", [first, assume], gz=False)
    lake = tmp_path / "lake"
    ingest([str(tmp_path / "src")], lake)

    proc = _main("explain", str(assume["eventID"]), "--lake", str(lake), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    rows = _json_lines(proc.stdout)
    [origin] = [r for r in rows if r["section"] == "chain"]
    assert (origin["origin_type"], origin["origin_id"], origin["caller_seen"]) == (
        "Unresolved",
        stolen,
        True,
    )
    [seen] = [r for r in rows if r["section"] == "seen_caller"]
    assert (seen["principal_arn"], seen["creation_time"], seen["events"]) == (
        stolen,
        "2026-11-01T06:00:00Z",
        1,
    )
    assert seen["why"] == "issued before the lake's first record of its account"
    assert (
        f"note: session {assume['eventID']} was issued with the credentials of a session of "
        f"{stolen} created 2026-11-01T06:00:00Z, which the lake sees only through its 1 call(s) "
        "from 2026-11-01T10:00:00Z to 2026-11-01T10:00:00Z: issued before the lake's first "
        f"record of its account (list it with `sts-audit seen --principal {stolen}`)"
    ) in proc.stderr.splitlines(), proc.stderr

    # a chain whose origin is a long-term principal says nothing of the kind
    proc = _main("explain", str(first["eventID"]), "--lake", str(lake))
    assert proc.returncode == 0, proc.stderr
    assert "chain from IAMUser" in proc.stdout
    assert "sees only through" not in proc.stderr, proc.stderr


def test_explain_names_the_one_seen_session_of_a_recycled_key_without_creation_date(
    tmp_path: Path,
) -> None:
    from conftest import ACCOUNT, record, write_delivery_file

    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/batch/job-7"
    identity = {
        "type": "AssumedRole",
        "principalId": "AROACKCEVSQ6C2EXAMPLE:job-7",
        "arn": arn,
        "accountId": ACCOUNT,
        "accessKeyId": "ASIABATCHKEYEXAMPLE",
    }
    day1 = record(eventTime="2026-11-01T10:00:00Z", userIdentity=identity)
    day3 = record(eventTime="2026-11-03T10:00:00Z", userIdentity=identity)
    day3["responseElements"]["credentials"]["expiration"] = "Nov 3, 2026, 11:00:00 AM"
    write_delivery_file(tmp_path / "src" / "a.json", [day1, day3], gz=False)
    lake = tmp_path / "lake"
    ingest([str(tmp_path / "src")], lake)

    proc = _main("explain", str(day3["eventID"]), "--lake", str(lake), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    seen = [r for r in _json_lines(proc.stdout) if r["section"] == "seen_caller"]
    assert [(r["first_use"], r["creation_time"]) for r in seen] == [("2026-11-03T10:00:00Z", None)]


@pytest.mark.parametrize("command", ["sessions", "chains"])
def test_principal_takes_a_session_id_or_an_issued_key(lake: Path, command: str) -> None:
    # explain took both, the listings neither: "no sessions match" for the key in an alert
    result = runner.invoke(app, ["sessions", "--lake", str(lake), "--format", "json"])
    some = next(r for r in _json_lines(result.stdout) if r["issued_key"] is not None)
    for needle in (some["session_id"], some["issued_key"]):
        result = runner.invoke(
            app, [command, "--lake", str(lake), "--principal", str(needle), "-f", "json"]
        )
        assert result.exit_code == 0, result.output
        rows = _json_lines(result.stdout)
        assert some["session_id"] in {r["session_id"] for r in rows}
        if needle == some["session_id"]:
            assert len(rows) == 1


def test_explain_takes_an_identity_center_grant_event_id(lake: Path) -> None:
    result = runner.invoke(app, ["sessions", "--lake", str(lake), "--format", "json"])
    [idc] = [r for r in _json_lines(result.stdout) if r["grant_event_id"] is not None]
    result = runner.invoke(
        app, ["explain", str(idc["grant_event_id"]), "--lake", str(lake), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = _json_lines(result.stdout)
    chain = [r for r in rows if r["section"] == "chain"]
    assert chain[-1]["session_id"] == idc["session_id"]
    # no id ties the grant to the issuance: the evidence says how they were paired
    [grant] = [r for r in rows if r.get("event_id") == idc["grant_event_id"]]
    assert grant["role"] == (
        "Identity Center GetRoleCredentials (no shared id: paired by account, permission set "
        "and nearest time within 60 s; of equal times, by the user name its id was seen with)"
    )


def test_explain_says_how_a_console_sign_in_and_a_switch_were_paired(sample_lake: Path) -> None:
    # only the Identity Center grant said so; a SAML console sign-in and a SwitchRole's
    # AssumeRole are paired with no shared id either
    target = sample_lake
    result = runner.invoke(app, ["sessions", "--lake", str(target), "--format", "json"])
    sessions = _json_lines(result.stdout)
    saml = next(r for r in sessions if r["kind"] == "AssumeRoleWithSAML" and r["signin_event_id"])
    switch = next(
        r for r in sessions if r["kind"] == "SwitchRole" and r["issue_event_id"] != r["session_id"]
    )
    for session, expected in (
        (
            saml,
            {
                saml["issue_event_id"]: "issuing call",
                saml["signin_event_id"]: "console sign-in (no shared id: paired by session ARN "
                "and time: the issuance the sign-in service made just before it, else one "
                "from the sign-in's own address in the minute before it, else the latest one "
                "still valid)",
            },
        ),
        (
            switch,
            {
                switch["issue_event_id"]: "issuing call (the console's AssumeRole for the "
                "switch; no shared id: paired by session ARN and time within 10 s, of two "
                "switches in one second by the address the caller signed in from)",
                switch["session_id"]: "SwitchRole (the console's record of the switch)",
            },
        ),
    ):
        result = runner.invoke(
            app, ["explain", str(session["session_id"]), "--lake", str(target), "-f", "json"]
        )
        assert result.exit_code == 0, result.output
        evidence = {
            r["event_id"]: r["role"]
            for r in _json_lines(result.stdout)
            if r["section"] == "evidence" and r["session_id"] == session["session_id"]
        }
        assert {k: evidence.get(k) for k in expected} == expected


def test_explain_table_names_the_origin_first(lake: Path) -> None:
    result = runner.invoke(app, ["explain", "ASIA3JUODO7WTIO2PI64", "--lake", str(lake)])
    assert result.exit_code == 0, result.output
    title = result.stdout.splitlines()[0].strip()
    assert (
        title == "chain from IAMUser arn:aws:iam::203016562928:user/bob@example.com, origin first"
    )


def test_explain_unknown_names_the_fix(lake: Path) -> None:
    result = runner.invoke(app, ["explain", "ASIANOTTHEREEXAMPLE", "--lake", str(lake)])
    assert result.exit_code != 0


def test_parquet_needs_an_output_file(lake: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["sessions", "--lake", str(lake), "-f", "parquet"]).exit_code != 0
    target = tmp_path / "s.parquet"
    result = runner.invoke(
        app, ["sessions", "--lake", str(lake), "-f", "parquet", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0


@pytest.mark.parametrize("command", ["sessions", "accounts"])
def test_an_output_file_without_format_is_written_as_its_name_says(
    lake: Path, tmp_path: Path, command: str
) -> None:
    # `--output sessions.csv` wrote the terminal's box-drawing table into the file
    import polars as pl

    written = {}
    for suffix in (".csv", ".json", ".parquet", ".txt"):
        target = tmp_path / f"{command}{suffix}"
        result = runner.invoke(app, [command, "--lake", str(lake), "--output", str(target)])
        assert result.exit_code == 0, result.output
        written[suffix] = target
    csv = pl.read_csv(written[".csv"], infer_schema=False)
    lines = written[".json"].read_text().splitlines()
    parquet = pl.read_parquet(written[".parquet"])
    assert len(csv) == len(lines) == len(parquet) > 0
    assert [json.loads(line) for line in lines][0].keys() == set(csv.columns)
    assert "┃" in written[".txt"].read_text()  # a name no format has: the table
    # an explicit --format wins over the name
    table = tmp_path / f"{command}-table.csv"
    result = runner.invoke(
        app, [command, "--lake", str(lake), "--format", "table", "--output", str(table)]
    )
    assert result.exit_code == 0, result.output
    assert "┃" in table.read_text()


def test_a_config_path_that_is_a_folder_says_so(tmp_path: Path) -> None:
    # it said the folder "does not exist"
    proc = _main("sessions", "--lake", str(tmp_path), config=tmp_path)
    assert proc.returncode == 1
    assert f"points at {tmp_path}, which is a folder, not a file" in proc.stderr
    proc = _main("sessions", "--lake", str(tmp_path), "--config", str(tmp_path))
    assert f"config file {tmp_path} is a folder, not a file" in proc.stderr


def test_analyze_materializes_and_later_commands_reuse_it(lake: Path) -> None:
    result = runner.invoke(app, ["analyze", "--lake", str(lake)])
    assert result.exit_code == 0, result.output
    settings = analysis.Settings()
    assert analysis.is_current(lake, settings)
    for table in analysis.TABLES:
        assert (lake / "analysis" / f"{table}.parquet").is_file()
    con = analysis.open_analysis(lake, settings)
    # reading from the Parquet views, not a rebuild: the step tables were never created
    kinds = con.execute(
        "select table_type from information_schema.tables where table_name = 'rpt_sessions'"
    ).fetchall()
    assert kinds == [("VIEW",)]
    assert not analysis.is_current(lake, analysis.Settings(max_chain_depth=5))


def _config(folder: Path, **analysis_settings: str) -> Path:
    """An sts-audit.toml with these [analysis] settings."""
    path = folder / "sts-audit.toml"
    lines = "".join(f'{k} = "{v}"\n' for k, v in analysis_settings.items())
    path.write_text(f"[analysis]\n{lines}")
    return path


def _main(*args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The console script in a process of its own (errors are translated in `cli.main`)."""
    env = os.environ | ({"STS_AUDIT_CONFIG": str(config)} if config else {})
    return subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_analysis_memory_limit_comes_from_the_config_file(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.config import load_config

    monkeypatch.setenv("STS_AUDIT_CONFIG", str(_config(tmp_path, memory_limit="300MB")))
    settings = analysis.Settings.from_config(load_config())
    assert settings.memory_limit == "300MB"
    con = analysis.open_analysis(lake, settings)
    [(limit,)] = con.execute("select current_setting('memory_limit')").fetchall()
    assert limit == "286.1 MiB"  # DuckDB's spelling of 300 MB
    # how much memory the build may use does not change what it builds: no rebuild for it
    assert runner.invoke(app, ["analyze", "--lake", str(lake)]).exit_code == 0
    assert analysis.is_current(lake, settings)
    assert analysis.is_current(lake, analysis.Settings())


def test_the_default_memory_limit_is_half_the_machine_at_least_2gb() -> None:
    from pipeline import config

    assert config.default_analysis_memory(16 * 10**9) == "8000MB"
    assert config.default_analysis_memory(3 * 10**9) == "2000MB"
    assert config.default_analysis_memory(0) == "2000MB"
    # the analysis and the config file share it
    assert analysis.Settings().memory_limit == config.DEFAULT_ANALYSIS_MEMORY
    assert config.Config().analysis_memory_limit == config.DEFAULT_ANALYSIS_MEMORY


@pytest.mark.parametrize("value", ["lots", "2", "0GB", "20000000TB", "1PB"])
def test_a_memory_limit_that_is_not_a_size_is_a_config_error(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("STS_AUDIT_CONFIG", str(_config(tmp_path, memory_limit=value)))
    result = runner.invoke(app, ["sessions", "--lake", str(lake)])
    assert result.exit_code == 1
    assert f"analysis.memory_limit={value!r} is not a size from 1MB to 1PB" in str(result.exception)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'[analysis]\nmax_chain_depth = "abc"\n', "analysis.max_chain_depth='abc' is not a depth"),
        (b"[analysis]\nmax_chain_depth = 1\n", "analysis.max_chain_depth=1 is not a depth"),
        (b"[analysis]\nmax_chain_depth = 10.5\n", "analysis.max_chain_depth=10.5 is not a depth"),
        (b'lake = "caf\xe9"\n', "cannot read config file"),  # Latin-1, not UTF-8
        (b"[organization]\naccounts = 123456789012\n", "organization.accounts=123456789012 is"),
        (b'[organization]\naccounts = "123456789012"\n', "is not a list"),
        (b'[organization]\nid = "123456789012"\n', "is not an AWS Organizations ID"),
        (b'[analysis]\nwindow_days = "90"\n', "analysis.window_days='90' is not a number of days"),
        (b"[analysis]\nwindow_days = 0\n", "analysis.window_days=0 is not a number of days"),
        (b"[analysis]\nwindow_days = true\n", "analysis.window_days=True is not a number of"),
        (b"[analysis]\nwindow_days = 1.5\n", "analysis.window_days=1.5 is not a number of"),
        # a number was taken as the folder ./5
        (b"lake = 5\n", "lake=5 is not a folder path"),
        (b'lake = ""\n', "lake='' is not a folder path"),
    ],
)
def test_a_config_value_of_the_wrong_kind_is_one_line(
    lake: Path, tmp_path: Path, text: bytes, message: str
) -> None:
    # a depth in quotes and a file that is not UTF-8 were tracebacks (ValueError, UnicodeDecode)
    config = tmp_path / "sts-audit.toml"
    config.write_bytes(text)
    proc = _main("sessions", "--lake", str(lake), config=config)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_a_misspelt_setting_is_one_warning_line(lake: Path, tmp_path: Path) -> None:
    # `max_depth = 3` (for max_chain_depth) was silently the default depth 10
    config = tmp_path / "sts-audit.toml"
    config.write_text('[analysis]\nmax_depth = 3\n[organisation]\nid = "o-exampleorgid"\n')
    proc = _main("accounts", "--lake", str(lake), "--format", "json", config=config)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: {config}: unknown key 'max_depth' in [analysis] is ignored (see the "
        "configuration section of README.md)",
        f"warning: {config}: unknown key 'id' in [organisation] is ignored; it belongs in "
        "[organization]",
    ]


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        # written before the [analysis] header: the default memory limit, without a word of why
        (
            'memory_limit = "4GB"\n[analysis]\nmax_chain_depth = 12\n',
            "unknown key 'memory_limit' at the top of the file is ignored; it belongs in "
            "[analysis]",
        ),
        (
            '[analysis]\nid = "o-exampleorgid"\n',
            "unknown key 'id' in [analysis] is ignored; it belongs in [organization]",
        ),
        (
            '[analysis]\nlake = "/data/lake"\n',
            "unknown key 'lake' in [analysis] is ignored; it belongs at the top of the file, "
            "before any [table]",
        ),
        ("[analysis]\n[extra]\n", "unknown table [extra] is ignored"),
    ],
    ids=["at the top", "organization's in analysis", "the lake in analysis", "a table"],
)
def test_a_key_in_the_wrong_table_names_the_table_it_belongs_in(
    lake: Path, tmp_path: Path, text: str, warning: str
) -> None:
    # `unknown setting memory_limit is ignored` named neither where the file had it nor
    # where it goes: the user looked for a typo in a key spelt right
    config = tmp_path / "sts-audit.toml"
    config.write_text(text)
    proc = _main("accounts", "--lake", str(lake), "--format", "json", config=config)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [f"warning: {config}: {warning}"]


def test_a_lake_table_names_its_keys_and_where_they_belong(lake: Path, tmp_path: Path) -> None:
    # `[lake]` holding the analysis's settings was `lake={'memory_limit': '4GB'} is not a
    # folder path`
    config = tmp_path / "sts-audit.toml"
    config.write_text('[lake]\nmemory_limit = "4GB"\npath = "/data/lake"\n')
    proc = _main("sessions", "--lake", str(lake), config=config)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == (
        f"error: {config}: unknown key 'memory_limit' in [lake]; it belongs in [analysis]; "
        "unknown key 'path' in [lake] (fix: lake is the lake folder, not a table: write lake = "
        '"/data/sts-audit-lake" at the top of the file, before any [table])\n'
    )


@pytest.mark.parametrize("value", ["1' or '1'='1", "١٢٣٤٥٦٧٨٩٠١٢", "123456789012\n", "12345678901"])
def test_an_account_that_is_not_12_ascii_digits_is_a_usage_error(lake: Path, value: str) -> None:
    # Arabic-Indic digits and a trailing newline passed the check (\\d, $)
    result = runner.invoke(app, ["sessions", "--lake", str(lake), "--account", value])
    assert result.exit_code == 2, result.output
    assert "is not an AWS account ID" in result.output


def test_a_memory_limit_duckdb_refuses_is_a_config_error(lake: Path) -> None:
    with pytest.raises(ConfigError, match="DuckDB refuses it"):
        analysis.open_analysis(lake, analysis.Settings(memory_limit="2 parsecs"))


def test_running_out_of_memory_is_one_line_naming_the_setting(lake: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, memory_limit="1MB")
    proc = _main("sessions", "--lake", str(lake), config=config)
    assert proc.returncode == 1, proc.stderr
    # before it, the note that the tables are being built, when no earlier test of this
    # worker built them (the module's lake is shared)
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1 and lines[0].startswith("error: DuckDB ran out of memory ("), lines
    assert "raise `memory_limit` under [analysis]" in lines[0]
    assert "Traceback" not in proc.stderr


def test_a_command_says_when_it_builds_the_analysis_and_how_to_keep_it(tmp_path: Path) -> None:
    from conftest import record, write_delivery_file

    if not EXAMPLES.is_file():
        pytest.skip(f"{EXAMPLES} is absent")
    target = tmp_path / "lake"
    ingest([str(EXAMPLES)], target)
    keep = f"`sts-audit analyze --lake {target}` keeps them"

    first = runner.invoke(app, ["sessions", "--lake", str(target), "-f", "json"])
    assert first.exit_code == 0, first.output
    assert "have not been built: building them for this command" in first.stderr
    assert keep in first.stderr
    assert _json_lines(first.stdout)  # the rows, on stdout as always

    assert runner.invoke(app, ["analyze", "--lake", str(target)]).exit_code == 0
    current = runner.invoke(app, ["chains", "--lake", str(target), "-f", "json"])
    assert current.exit_code == 0 and current.stderr == ""

    # the nightly ingest adds to the lake: the tables no longer describe it
    ingest([str(write_delivery_file(tmp_path / "new.json", [record()]))], target)
    stale = runner.invoke(app, ["logins", "--lake", str(target), "-f", "json"])
    assert stale.exit_code == 0, stale.output
    # each reason its own words: "older than the lake, the settings or this sts-audit" sent
    # users after an ingest when only the config file differed, or the last analyze was killed
    assert "are older than the lake (an ingest since" in stale.stderr and keep in stale.stderr

    # other settings: the command to keep them names the same config file, or it would build
    # tables for the defaults and every later command would build its own again
    config = tmp_path / "org.toml"
    config.write_text('[organization]\naccounts = ["123456789012"]\n')
    other = runner.invoke(app, ["chains", "--lake", str(target), "--config", str(config)])
    assert other.exit_code == 0, other.output
    suggested = f"`sts-audit analyze --lake {target} --config {config}` keeps them"
    assert suggested in other.stderr
    assert "were built under other settings (another config file?)" in other.stderr
    kept = ["analyze", "--lake", str(target), "--config", str(config)]
    assert runner.invoke(app, kept).exit_code == 0
    again = runner.invoke(app, ["chains", "--lake", str(target), "--config", str(config)])
    assert again.exit_code == 0 and again.stderr == ""

    # an analyze killed half-way: some tables written, no stamp (it goes first, comes last)
    (target / "analysis" / analysis.STAMP_FILE).unlink()
    (target / "analysis" / "chains.parquet").unlink()
    killed = runner.invoke(app, ["chains", "--lake", str(target), "--config", str(config)])
    assert killed.exit_code == 0, killed.output
    assert "were not all written: the last analyze did not finish" in killed.stderr

    # tables of an earlier release: the stamp's version or SQL differs
    assert runner.invoke(app, kept).exit_code == 0
    stamp = target / "analysis" / analysis.STAMP_FILE
    stamp.write_text(json.dumps(json.loads(stamp.read_text()) | {"sql": "0" * 64}))
    older = runner.invoke(app, ["chains", "--lake", str(target), "--config", str(config)])
    assert "were built by another version of sts-audit" in older.stderr


def test_with_current_tables_only_the_days_a_command_reads_are_opened(tmp_path: Path) -> None:
    # binding the whole lake reads every data file's footer (minutes for a year of an
    # organization): with the tables current, the listings read none and explain only its
    # session's days. A data file of another day, made unreadable (same size and mtime, so the
    # tables stay current), shows which files each command opens.
    import os

    from conftest import record, write_delivery_file

    if not EXAMPLES.is_file():
        pytest.skip(f"{EXAMPLES} is absent")
    target = tmp_path / "lake"
    ingest([str(EXAMPLES)], target)
    ingest(
        [
            str(
                write_delivery_file(
                    tmp_path / "old.json", [record(eventTime="2020-01-01T10:00:00Z")]
                )
            )
        ],
        target,
    )
    assert runner.invoke(app, ["analyze", "--lake", str(target)]).exit_code == 0
    [old] = (target / "events").glob("event_date=2020-01-01/*/*.parquet")
    stat = old.stat()
    old.write_bytes(b"\0" * stat.st_size)
    os.utime(old, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert analysis.is_current(target, analysis.Settings())
    with pytest.raises(duckdb.Error):  # the whole lake can no longer be bound
        analysis.open_analysis(target)

    for command in (["sessions"], ["chains"], ["logins"], ["accounts"]):
        result = runner.invoke(app, [*command, "--lake", str(target), "-f", "json"])
        assert result.exit_code == 0, (command, result.output)
        assert _json_lines(result.stdout)
    result = runner.invoke(
        app, ["explain", "ASIA3JUODO7WTIO2PI64", "--lake", str(target), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    sections = [r["section"] for r in _json_lines(result.stdout)]
    assert (sections.count("evidence"), sections.count("activity")) == (3, 1)


@pytest.mark.parametrize("command", ["sessions", "analyze", "explain", "quarantine"])
def test_a_damaged_lake_file_is_one_line_naming_it(
    lake: Path, tmp_path: Path, command: str
) -> None:
    # a data file cut short (a full disk, a half copy) was a DuckDB traceback in every command
    import shutil

    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    folder = "quarantine" if command == "quarantine" else "events"
    if command == "quarantine":
        (tmp_path / "bad.json").write_text("not json")
        ingest([str(tmp_path / "bad.json")], copy)
    damaged = sorted((copy / folder).rglob("*.parquet"))[0]
    damaged.write_bytes(b"PAR1 not a whole file")
    key = ["ASIA3JUODO7WTIO2PI64"] if command == "explain" else []
    args = [command, "--lake", str(copy), *key]
    proc = _main(*args)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("error: a file of the lake cannot be read (")
    assert damaged.name in proc.stderr and "restore the file named from a backup" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_a_damaged_analysis_table_names_analyze_as_the_fix(lake: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    assert _main("analyze", "--lake", str(copy)).returncode == 0
    for table in (copy / "analysis").glob("*.parquet"):
        table.write_bytes(table.read_bytes()[:-100])  # same files, cut short
    proc = _main("explain", "ASIA3JUODO7WTIO2PI64", "--lake", str(copy))
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("error: a file of the lake cannot be read (")
    assert f"run `sts-audit analyze --lake {copy}`" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_truncated_chains_are_one_warning_line_not_python_s_format(tmp_path: Path) -> None:
    # `run --quiet` printed "analysis.py:243: UserWarning: ..." and the source line after it
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "AWSLogs"
    target = tmp_path / "lake"
    ingest([str(sample)], target)
    config = tmp_path / "sts-audit.toml"
    config.write_text("[analysis]\nmax_chain_depth = 2\n")
    proc = _main("analyze", "--lake", str(target), config=config)
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, proc.stderr
    assert re.fullmatch(
        r"warning: [1-9][0-9]* chain\(s\) are deeper than max_chain_depth=2: their origin is "
        r"unknown and their depth shows as >2; raise \[analysis\] max_chain_depth",
        warnings[0],
    ), proc.stderr
    assert "UserWarning" not in proc.stderr


def test_truncated_chains_reach_the_json_summary_strict_and_the_table(tmp_path: Path) -> None:
    # the nightly job's `run --json --strict` said nothing of chains whose origin is unknown,
    # and the table showed such a chain's depth as the walk's, as if it were exact
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "AWSLogs"
    target = tmp_path / "lake"
    config = tmp_path / "sts-audit.toml"
    config.write_text("[analysis]\nmax_chain_depth = 2\n")
    proc = _main("run", str(sample), "--lake", str(target), "--json", "--strict", config=config)
    assert proc.returncode == 1, proc.stderr
    payload = json.loads(proc.stdout)
    truncated = payload["analysis"]["chains_truncated"]
    assert truncated > 0 and payload["analysis"]["max_chain_depth"] == 2
    assert payload["analysis"]["tables"]["chains"] == 125
    assert payload["analysis"]["warnings"] == [
        f"{truncated} chain(s) are deeper than max_chain_depth=2: their origin is unknown and "
        "their depth shows as >2; raise [analysis] max_chain_depth"
    ]
    assert proc.stderr.splitlines()[-1] == (
        f"error: {truncated} chain(s) are deeper than max_chain_depth=2: their origin is "
        "unknown (fix: raise [analysis] max_chain_depth in the configuration file, or drop "
        "--strict)"
    ), proc.stderr
    proc = _main("analyze", "--lake", str(target), "--strict", "--json", config=config)
    assert proc.returncode == 1 and json.loads(proc.stdout)["chains_truncated"] == truncated
    # the default depth walks every chain of the sample: --strict passes, nothing to warn
    proc = _main("run", str(sample), "--lake", str(target), "--json", "--strict")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["analysis"]["chains_truncated"] == 0
    assert "warning" not in proc.stderr
    # the terminal table shows a cut chain's depth as a bound; json keeps the number
    proc = _main("chains", "--lake", str(target), "--format", "csv", config=config)
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    cut = [r for r in rows if r["chain_truncated"] == "true"]
    assert len(cut) == truncated and {r["depth"] for r in cut} == {"2"}
    proc = _main("chains", "--lake", str(target), config=config)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(">2") >= truncated, proc.stdout
    # the nightly job's own summary says both, without --json
    proc = _main("run", str(sample), "--lake", str(target), config=config)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert f"warning: {truncated} chain(s) are deeper than max_chain_depth=2: their origin is " in (
        "\n".join(lines)
    )
    assert any(" calls made with temporary credentials: " in line for line in lines)


@pytest.mark.parametrize("limit", ["-1", "0", "100000000000000000000"])
def test_a_quarantine_limit_out_of_range_is_a_usage_error(lake: Path, limit: str) -> None:
    result = runner.invoke(app, ["quarantine", "--lake", str(lake), "--limit", limit])
    assert result.exit_code == 2, result.output
    assert "--limit" in result.output


@pytest.mark.parametrize("command", ["sessions", "seen", "chains", "logins", "accounts"])
def test_parquet_without_output_is_a_usage_error(lake: Path, command: str) -> None:
    # it exited 1 after building the tables, as a failure of the run, not of the command line
    result = runner.invoke(app, [command, "--lake", str(lake), "--format", "parquet"])
    assert result.exit_code == 2, result.output
    assert "add --output FILE.parquet" in result.output


def test_every_call_of_the_simulated_sample_is_attributed(tmp_path: Path) -> None:
    # the simulator issues every session it uses inside the corpus: a call left out of the
    # sessions would show as the difference
    copy = tmp_path / "lake"
    ingest([str(Path(__file__).resolve().parents[1] / "sample_data" / "AWSLogs")], copy)
    proc = _main("analyze", "--lake", str(copy), "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["calls_temporary"] == payload["calls_attributed"] > 900
    proc = _main("analyze", "--lake", str(copy))
    # each number named: "calls made with temporary credentials: 989, attributed to a session:
    # 989" read as two counts of one thing
    line = (
        f"{payload['calls_temporary']:,} calls made with temporary credentials: "
        f"{payload['calls_attributed']:,} attributed to a session, 0 unattributed"
    )
    assert line in proc.stderr.splitlines(), proc.stderr
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text().split())
    assert f"On the demo lake: `{line}`." in readme


def test_the_attribution_line_names_each_part_of_the_calls_and_they_add_up(
    tmp_path: Path,
) -> None:
    # sample_data from its third day on: the sessions issued the day before and used after
    # midnight are seen only through their calls. The line said "calls made with temporary
    # credentials: 410, attributed to a session: 405; the other 5 used sessions ...", and a
    # reader had to guess what the other numbers counted
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "AWSLogs"
    target = tmp_path / "lake"
    proc = _main("run", str(sample), "--lake", str(target), "--since", "2026-11-03")
    assert proc.returncode == 0, proc.stderr
    proc = _main("analyze", "--lake", str(target), "--json")
    payload = json.loads(proc.stdout)
    parts = (
        payload["calls_attributed"],
        payload["calls_unattributed"],
        payload["calls_sharing_an_event_id"],
    )
    assert (payload["calls_temporary"], *parts, payload["sessions_seen"]) == (410, 405, 5, 0, 2)
    assert sum(parts) == payload["calls_temporary"]
    line = (
        "410 calls made with temporary credentials: 405 attributed to a session, 5 unattributed "
        "(2 sessions seen only through their calls, which `sts-audit seen` lists: issued before "
        "the lake's first day, in an account whose trail is not collected, or that no key tells "
        "apart)"
    )
    for args in (["analyze"], ["run", str(sample), "--since", "2026-11-03"]):
        proc = _main(*args, "--lake", str(target))
        assert proc.returncode == 0, proc.stderr
        assert line in proc.stderr.splitlines(), proc.stderr


def test_a_second_analyze_of_one_lake_fails_at_once_naming_the_first(
    lake: Path, tmp_path: Path
) -> None:
    # two at once (the nightly run and an analyst) wrote the same temporary files: one failed
    # at random with a misleading disk-space fix
    from pipeline import lakewriter

    held = lakewriter.lock(lake, lakewriter.ANALYZE_LOCK_FILE, "analyze")
    with held, pytest.raises(LakeError, match="another analyze is writing to lake"):
        analysis.analyze(lake)
    assert analysis.analyze(lake).tables["sessions"] > 0
    missing = tmp_path / "no-such-lake"
    with pytest.raises(LakeError, match="no events in lake"):
        analysis.analyze(missing)
    assert not missing.exists()


def test_a_lake_ingested_into_with_nothing_stored_does_not_say_to_ingest_first(
    tmp_path: Path,
) -> None:
    # ingesting a folder of digest files, then `sessions`, said to run ingest first
    import gzip

    digest = {"awsAccountId": "123456789012", "digestStartTime": "2026-11-01T00:00:00Z"}
    folder = tmp_path / "AWSLogs" / "123456789012" / "CloudTrail-Digest" / "us-east-1"
    folder = folder / "2026" / "11" / "01"
    folder.mkdir(parents=True)
    name = "123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20261101T000000Z.json.gz"
    (folder / name).write_bytes(gzip.compress(json.dumps(digest).encode()))
    lake = tmp_path / "lake"
    assert _main("ingest", str(tmp_path / "AWSLogs"), "--lake", str(lake)).returncode == 0
    proc = _main("sessions", "--lake", str(lake))
    assert proc.returncode == 1
    assert "its ingest runs stored no CloudTrail record" in proc.stderr
    assert f"sts-audit quarantine --lake {lake}" in proc.stderr
    assert "first" not in proc.stderr


def test_a_query_during_a_first_ingest_says_the_ingest_is_running(tmp_path: Path) -> None:
    # it said the ingest runs had stored nothing, and to look at the quarantine
    from pipeline import lake as lake_mod
    from pipeline import lakewriter

    lake = tmp_path / "lake"
    lakewriter.init_lake(lake)
    with lakewriter.lock(lake), pytest.raises(LakeError, match="an ingest is writing its first"):
        lake_mod.connect(lake)
    # once the lock is gone with nothing committed, the first ingest was stopped or failed: it
    # said the runs had stored nothing and to look at the quarantine, which held nothing
    with pytest.raises(LakeError, match="its first ingest did not finish") as err:
        lake_mod.connect(lake)
    assert "completes it" in err.value.fix
    assert not lakewriter.is_locked(lake)


def test_explain_of_a_key_names_a_seen_session_that_used_it_too(tmp_path: Path) -> None:
    # an instance's role key (issued before the lake) used from outside, then the same key id
    # issued to someone else: explain showed only the issued session, without a word of the
    # calls an analyst tracing the key is after
    key = "ASIAPRELAKEEXAMPLE1"
    instance = "arn:aws:sts::111122223333:assumed-role/WebInstance/i-0123456789abcdef0"
    used = {
        "eventVersion": "1.08",
        "eventTime": "2026-11-01T00:10:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "sourceIPAddress": "198.51.100.7",
        "eventID": "00000000-0000-4000-8000-000000000011",
        "recipientAccountId": "111122223333",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAWEBEXAMPLE:i-0123456789abcdef0",
            "arn": instance,
            "accountId": "111122223333",
            "accessKeyId": key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": "arn:aws:iam::111122223333:role/WebInstance",
                    "accountId": "111122223333",
                },
                "attributes": {"creationDate": "2026-10-31T20:00:00Z", "mfaAuthenticated": "false"},
                "ec2RoleDelivery": "2.0",
            },
        },
    }
    issued = {
        "eventVersion": "1.08",
        "eventTime": "2026-11-03T12:00:00Z",
        "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole",
        "sourceIPAddress": "203.0.113.10",
        "eventID": "00000000-0000-4000-8000-000000000012",
        "recipientAccountId": "111122223333",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDACKCEVSQ6C2EXAMPLE",
            "arn": "arn:aws:iam::111122223333:user/jane",
            "accountId": "111122223333",
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        },
        "requestParameters": {"roleArn": "arn:aws:iam::111122223333:role/Reports"},
        "responseElements": {
            "credentials": {"accessKeyId": key, "expiration": "Nov 3, 2026, 1:00:00 PM"},
            "assumedRoleUser": {"arn": "arn:aws:sts::111122223333:assumed-role/Reports/jane"},
        },
    }
    src = tmp_path / "src" / "a.json"
    src.parent.mkdir()
    src.write_text(json.dumps({"Records": [used, issued]}))
    lake = tmp_path / "lake"
    assert _main("run", str(src.parent), "--lake", str(lake), "--quiet").returncode == 0

    table = _main("explain", key, "--lake", str(lake))
    assert table.returncode == 0, table.stderr
    assert f"note: {key} also names 1 session(s) the lake sees only through their calls: " in (
        table.stderr
    )
    assert f"1 call(s) of {instance} from 2026-11-01T00:10:00Z" in table.stderr
    assert f"`sts-audit seen --principal {key}`" in table.stderr
    lines = _main("explain", key, "--lake", str(lake), "--format", "csv").stdout.splitlines()
    assert sum(line.startswith("seen_also,") for line in lines) == 1


def test_quarantine_of_a_folder_that_is_not_a_lake_is_an_error(lake: Path, tmp_path: Path) -> None:
    # a mistyped --lake printed "nothing quarantined" and exit 0: a monitoring job looked clean
    for target in (tmp_path / "no-such-lake", tmp_path):
        result = runner.invoke(app, ["quarantine", "--lake", str(target)])
        assert isinstance(result.exception, LakeError), result.output
        assert str(result.exception).startswith(f"{target} is not an sts-audit lake")
    result = runner.invoke(app, ["quarantine", "--lake", str(lake)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "command",
    ["ingest", "quarantine", "analyze", "sessions", "seen", "chains", "logins", "accounts"],
)
def test_every_lake_command_takes_the_config_file(lake: Path, tmp_path: Path, command: str) -> None:
    # only `run` took --config: the other commands read ./sts-audit.toml, so after
    # `run --config F` a `sessions` rebuilt the tables in memory with other settings
    import shutil

    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    config = tmp_path / "elsewhere.toml"
    config.write_text(f'lake = "{copy}"\n[analysis]\nmax_chain_depth = 3\n')
    assert runner.invoke(app, ["analyze", "--config", str(config)]).exit_code == 0
    args = [command, "--config", str(config)]
    if command == "ingest":
        args.append(str(EXAMPLES))
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "building them for this command" not in result.stderr
    if command == "ingest":
        assert "into " + str(copy) in result.stderr


def test_explain_as_csv_is_one_table_and_parquet_is_a_usage_error(lake: Path) -> None:
    # csv printed three tables with three headers one after the other; parquet printed JSON
    import csv
    import io

    result = runner.invoke(
        app, ["explain", "ASIA3JUODO7WTIO2PI64", "--lake", str(lake), "-f", "csv"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    # the origin, bob's console switch, was made with a console session whose sign-in the
    # sample does not hold: the session it sees only through its calls is a section too
    assert {r["section"] for r in rows} == {"chain", "evidence", "activity", "seen_caller"}
    assert len({len(r) for r in rows}) == 1 and None not in rows[0]
    parquet = runner.invoke(
        app, ["explain", "ASIA3JUODO7WTIO2PI64", "--lake", str(lake), "-f", "parquet"]
    )
    assert parquet.exit_code == 2 and "'table', 'json', 'csv'" in parquet.output


def test_a_damaged_data_file_of_a_lake_under_an_analysis_folder_is_not_an_analysis_table(
    lake: Path, tmp_path: Path
) -> None:
    # the fix was chosen by "/analysis/" anywhere in the message, the lake's own path included
    import shutil

    copy = tmp_path / "analysis" / "lake"
    shutil.copytree(lake, copy)
    damaged = sorted((copy / "events").rglob("*.parquet"))[0]
    damaged.write_bytes(b"PAR1 not a whole file")
    proc = _main("sessions", "--lake", str(copy))
    assert proc.returncode == 1
    assert damaged.name in proc.stderr and "restore the file named from a backup" in proc.stderr


def test_an_analysis_table_that_cannot_be_written_is_one_line_not_a_read_error(
    lake: Path, tmp_path: Path
) -> None:
    # a failed write (here: its temp path taken by a folder; a full disk alike) was reported
    # as a damaged file to restore, or as a traceback
    import shutil

    copy = tmp_path / "lake"
    shutil.copytree(lake, copy)
    (copy / "analysis" / ".sessions.parquet.tmp").mkdir(parents=True)
    proc = _main("analyze", "--lake", str(copy))
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("error: IO Error: ") and ".sessions.parquet.tmp" in proc.stderr
    assert "that this user may read and write there" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "cannot be read" not in proc.stderr


def test_a_failed_table_write_gives_its_space_back_and_the_next_analyze_sweeps_leftovers(
    sample_lake: Path, tmp_path: Path
) -> None:
    # a table write that fails half-way (a full disk, here a file-size limit) left its partial
    # Parquet in analysis/, and a killed analyze's partial tables stayed there for good
    import resource
    import shutil
    import signal

    copy = tmp_path / "lake"
    shutil.copytree(sample_lake, copy)
    folder = copy / "analysis"
    leftover = folder / ".a_table_of_a_killed_run.parquet.tmp"
    leftover.write_bytes(b"PAR1" + b"\0" * 100_000)
    limit = 16 * 1024  # below the session_links table's size

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import main; main()", "analyze"]
        + ["--lake", str(copy)],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=small_files,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not leftover.exists()
    assert sorted(p.name for p in folder.glob(".*")) == []
    # and with room again the tables are written whole
    assert _main("analyze", "--lake", str(copy)).returncode == 0
    assert sorted(p.name for p in folder.glob(".*")) == []


def test_seen_lists_who_used_credentials_the_lake_holds_no_issuance_for(tmp_path: Path) -> None:
    # an instance's role credentials used from outside, issued before the lake starts: the
    # calls appeared in no command, and explain of the key said there was nothing in the lake
    from conftest import ACCOUNT, record, session_identity, write_delivery_file

    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/ec2-role/i-0123456789abcdef0"
    issued = record(eventTime="2026-11-01T10:00:00Z")
    calls = [
        record(
            eventTime=f"2026-11-01T10:0{minute}:00Z",
            eventSource="ec2.amazonaws.com",
            eventName="DescribeInstances",
            sourceIPAddress="198.51.100.7",
            requestParameters=None,
            responseElements=None,
            userIdentity=session_identity(arn, key, "2026-11-01T09:00:00Z"),
        )
        # a console session rotates its keys: the second is not the session's least
        for minute, key in ((1, "ASIASTOLENEXAMPLE"), (2, "ASIAZROTATEDEXAMPLE"))
    ]
    write_delivery_file(tmp_path / "src" / "a.json", [issued, *calls], gz=False)
    lake = tmp_path / "lake"
    ingest([str(tmp_path / "src")], lake)

    result = runner.invoke(app, ["seen", "--lake", str(lake), "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = _json_lines(result.stdout)
    assert [
        (r["principal_arn"], r["access_key"], r["events"], r["source_ip"], r["why"]) for r in rows
    ] == [
        (
            arn,
            "ASIASTOLENEXAMPLE",
            2,
            "198.51.100.7",
            "issued before the lake's first record of its account",
        )
    ]
    # the filters: the session ARN's account, the day of first use, a principal
    for args, listed in [
        (["--account", ACCOUNT, "--since", "2026-11-01", "--until", "2026-11-01"], 1),
        (["--principal", "i-0123456789abcdef0"], 1),
        (["--principal", "ASIAZROTATEDEXAMPLE"], 1),
        (["--principal", "ASIAZROTATED"], 0),  # a whole key, not a part of one
        (["--principal", "arn:aws:iam::123456789012:role/ec2-role"], 0),  # no sessionIssuer
        (["--account", "111122223333"], 0),
        (["--since", "2026-11-02"], 0),
    ]:
        result = runner.invoke(app, ["seen", "--lake", str(lake), "-f", "json", *args])
        assert len(_json_lines(result.stdout)) == listed, (args, result.output)
        if not listed:
            assert result.exit_code == 1
            assert "no sessions seen only through their calls match the filters" in str(
                result.exception
            )
    result = runner.invoke(app, ["seen", "--lake", str(lake)])
    assert result.exit_code == 0, result.output
    assert "why" in result.stdout and "session_name" not in result.stdout
    # explain points to the listing instead of saying the lake holds nothing
    for needle in ("ASIASTOLENEXAMPLE", "ASIAZROTATEDEXAMPLE", arn):
        proc = _main("explain", needle, "--lake", str(lake))
        assert proc.returncode == 1
        assert (
            f"error: {needle!r} names no session issued in the lake, but 1 session(s) it sees "
            f"only through their calls: 2 call(s) of {arn} from 2026-11-01T10:01:00Z"
        ) in proc.stderr, proc.stderr
        assert f"(fix: list them with `sts-audit seen --principal {needle}`)" in proc.stderr
    proc = _main("analyze", "--lake", str(lake), "--json")
    payload = json.loads(proc.stdout)
    counts = (
        "calls_temporary",
        "calls_attributed",
        "calls_unattributed",
        "calls_sharing_an_event_id",
        "sessions_seen",
    )
    assert [payload[k] for k in counts] == [2, 0, 2, 0, 1]
    assert payload["tables"]["sessions_seen"] == 1


# --- analysis.window_days: the lake's last days only ------------------------------------------


def _touch_partition(lake: Path, day: str, *, name: str = "part-0.parquet") -> Path:
    path = lake / "events" / f"event_date={day}" / "recipient_account_id=123456789012" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_the_window_counts_back_from_the_latest_day_not_after_tomorrow(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    for day in ("2024-01-10", "2024-01-12", "2999-01-01"):
        _touch_partition(lake, day)
    settings = analysis.Settings(window_days=2)
    today = dt.date(2024, 1, 12)
    # a record dated in the far future does not move the window off the data
    assert analysis.windowed(lake, settings, today).window_start == dt.date(2024, 1, 11)
    # tomorrow counts (a day ahead of UTC is a time zone, not an error)
    assert analysis.windowed(lake, settings, dt.date(2024, 1, 11)).window_start == dt.date(
        2024, 1, 11
    )
    # a window that reaches the lake's first day is the whole lake: no start to name
    for days in (3, 90, 36_600):
        wide = analysis.Settings(window_days=days)
        assert analysis.windowed(lake, wide, today).window_start is None
    # a clock behind every date: no day to count back from, the whole lake
    assert analysis.windowed(lake, settings, dt.date(2020, 1, 1)).window_start is None
    assert analysis.windowed(lake, analysis.Settings(), today).window_start is None


def test_a_window_from_a_record_of_the_first_years_is_the_whole_lake(tmp_path: Path) -> None:
    # counting back from the year 1 overflowed the date: a traceback
    lake = tmp_path / "lake"
    _touch_partition(lake, "0001-01-05")
    settings = analysis.Settings(window_days=30)
    assert analysis.windowed(lake, settings, dt.date(2026, 1, 1)).window_start is None


def test_the_window_ignores_a_day_whose_files_are_not_committed(tmp_path: Path) -> None:
    from pipeline import lakewriter
    from pipeline.lake import JOURNAL_DIR

    lake = tmp_path / "lake"
    _touch_partition(lake, "2024-01-09")
    _touch_partition(lake, "2024-01-10")
    late = _touch_partition(lake, "2024-01-12")
    # a batch killed between its moves and its manifest file: its files are not the lake's
    journal = lakewriter.state_dir(lake) / JOURNAL_DIR / "batch-1.json"
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text(json.dumps({"relative": [late.relative_to(lake).as_posix()]}))
    assert analysis.windowed(
        lake, analysis.Settings(window_days=1), dt.date(2024, 1, 12)
    ).window_start == dt.date(2024, 1, 10)


@pytest.fixture(scope="module")
def windowed_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """sample_data/ ingested (four days, 2026-11-01 to 04) and a config of window_days = 2."""
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "AWSLogs"
    folder = tmp_path_factory.mktemp("window")
    target = folder / "lake"
    ingest([str(sample)], target)
    config = folder / "sts-audit.toml"
    config.write_text("[analysis]\nwindow_days = 2\n")
    return target, config


def test_analyze_under_a_window_reads_only_its_days_and_says_so(
    windowed_lake: tuple[Path, Path],
) -> None:
    lake, config = windowed_lake
    proc = _main("analyze", "--lake", str(lake), "--json", config=config)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["window_start"] == "2026-11-03"
    start = dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
    sessions = pq.read_table(lake / "analysis" / "sessions.parquet").to_pylist()
    assert sessions and all(s["issue_time"] >= start for s in sessions)
    links = pq.read_table(lake / "analysis" / "session_links.parquet").to_pylist()
    assert links and all(r["event_time"] >= start for r in links)
    # the sessions issued before the window and used in it are seen, and say why
    seen = pq.read_table(lake / "analysis" / "sessions_seen.parquet").to_pylist()
    assert seen and all(s["first_use"] >= start for s in seen)
    before = [s for s in seen if s["creation_time"] is not None and s["creation_time"] < start]
    assert before and all(
        s["why"] == "issued before its account's first record in the analysis window "
        "(from 2026-11-03, analysis.window_days)"
        for s in before
    )
    # the whole lake has sessions before the window, and attributes every call
    whole = _main("analyze", "--lake", str(lake), "--json")
    assert whole.returncode == 0, whole.stderr
    assert json.loads(whole.stdout)["window_start"] is None
    assert json.loads(whole.stdout)["sessions_seen"] == 0
    everything = pq.read_table(lake / "analysis" / "sessions.parquet").to_pylist()
    assert min(s["issue_time"] for s in everything) < start
    assert {s["session_id"] for s in sessions} < {s["session_id"] for s in everything}


def test_the_tables_of_a_window_are_reused_only_under_the_same_window(
    windowed_lake: tuple[Path, Path],
) -> None:
    lake, config = windowed_lake
    proc = _main("analyze", "--lake", str(lake), config=config)
    assert proc.returncode == 0, proc.stderr
    assert "analyzed the lake's events from 2026-11-03 on (analysis.window_days)" in proc.stderr
    assert analysis.is_current(lake, analysis.Settings(window_days=2))
    assert not analysis.is_current(lake, analysis.Settings())
    assert not analysis.is_current(lake, analysis.Settings(window_days=3))
    reused = _main("sessions", "--lake", str(lake), "--format", "csv", config=config)
    assert reused.returncode == 0 and "note:" not in reused.stderr, reused.stderr
    rebuilt = _main("sessions", "--lake", str(lake), "--format", "csv")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "building them for this command" in rebuilt.stderr
    assert len(rebuilt.stdout.splitlines()) > len(reused.stdout.splitlines())


def test_a_query_command_built_in_memory_reads_only_the_window(
    windowed_lake: tuple[Path, Path], tmp_path: Path
) -> None:
    # without materialized tables, the command builds them itself: from the window's days too
    lake, config = windowed_lake
    import shutil

    shutil.rmtree(lake / "analysis", ignore_errors=True)
    proc = _main("sessions", "--lake", str(lake), "--format", "json", config=config)
    assert proc.returncode == 0, proc.stderr
    assert "building them for this command" in proc.stderr
    issued = [str(r["issue_time"]) for r in _json_lines(proc.stdout)]
    assert issued and min(issued) >= "2026-11-03"


def test_nothing_found_under_a_window_names_it(windowed_lake: tuple[Path, Path]) -> None:
    lake, config = windowed_lake
    # the lake holds these days, the window does not
    empty = _main("sessions", "--lake", str(lake), "--until", "2026-11-02", config=config)
    assert empty.returncode == 1, empty.stderr
    assert (
        "no sessions match the filters: --until 2026-11-02 (the analysis reads the lake's days "
        "from 2026-11-03 on" in (empty.stderr)
    )
    assert "widen analysis.window_days" in empty.stderr
    whole = _main("sessions", "--lake", str(lake), "--until", "2026-11-02", "-f", "csv")
    assert whole.returncode == 0, whole.stderr
    first = whole.stdout.splitlines()[1].split(",")[0]  # a session of 2026-11-01 or 02
    missing = _main("explain", first, "--lake", str(lake), config=config)
    assert missing.returncode == 1, missing.stderr
    assert "from 2026-11-03 on: analysis.window_days" in missing.stderr


def test_an_empty_window_says_what_its_days_hold(
    windowed_lake: tuple[Path, Path], tmp_path: Path
) -> None:
    # the window of one day, 2026-11-04, holds late deliveries of the day before, no issuance
    lake, _ = windowed_lake
    config = tmp_path / "sts-audit.toml"
    config.write_text("[analysis]\nwindow_days = 1\n")
    proc = _main("sessions", "--lake", str(lake), config=config)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "error: no sessions in the lake's days from 2026-11-04 on (analysis.window_days), which "
        "hold 48 events, none of them issuing credentials (fix: ingest more logs: the trails of "
        "more accounts, regions or days, or widen analysis.window_days)"
    )


def test_an_organization_id_that_names_none_of_the_lakes_trail_folders_is_warned_of(
    sample_lake: Path, tmp_path: Path
) -> None:
    # a typo in [organization] id turned membership off without a word: from_in_org, to_in_org
    # and left_org were empty for every row, and analyze --json said "warnings": []
    config = tmp_path / "config.toml"
    config.write_text('[organization]\nid = "o-doesnotmatch"\n')

    proc = _main("chains", "--lake", str(sample_lake), "-f", "json", config=config)

    assert proc.returncode == 0, proc.stderr
    warned = [line for line in proc.stderr.splitlines() if line.startswith("warning: ")]
    assert warned == [
        "warning: [organization] id o-doesnotmatch names no organization trail folder of the "
        "lake (AWSLogs/o-exampleorgid/...): membership comes from [organization] accounts "
        "alone; check the id"
    ]
    config.write_text('[organization]\nid = "o-exampleorgid"\n')
    right = _main("chains", "--lake", str(sample_lake), "-f", "json", config=config)
    assert right.returncode == 0 and "warning: " not in right.stderr
    assert any(row["left_org"] is not None for row in _json_lines(right.stdout))


def test_analyze_reports_the_organization_id_warning_in_its_json() -> None:
    settings = analysis.Settings(org_id="o-doesnotmatch", org_folders=(("o-a1b2c3d4e5", "1"),))
    line = analysis.org_id_warning(settings)
    assert line is not None and "o-doesnotmatch" in line and "AWSLogs/o-a1b2c3d4e5/" in line
    done = analysis.Analyzed({}, 0, 10, org_id_unmatched=line)
    assert done.as_dict()["warnings"] == [line]
    assert analysis.org_id_warning(replace(settings, org_id="o-a1b2c3d4e5")) is None
    assert analysis.org_id_warning(replace(settings, org_folders=())) is None
