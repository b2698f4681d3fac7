"""The analysis on real, public CloudTrail records (`../shared/fixtures/real/`) and on the real
pairs of `../shared/reference/sts-examples.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from analysis_support import assert_grains

from pipeline import analysis, lake, queries, reads
from pipeline.ingest import ingest

pytestmark = pytest.mark.slow

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL = SHARED / "fixtures" / "real"
EXAMPLES = SHARED / "reference" / "sts-examples.json"


def _built(sources: list[str], target: Path) -> duckdb.DuckDBPyConnection:
    ingest(sources, target)
    con = lake.connect(target)
    analysis.build(con)
    return con


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent")
    return _built([str(REAL)], tmp_path_factory.mktemp("real") / "lake")


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    if not EXAMPLES.is_file():
        pytest.skip(f"{EXAMPLES} is absent")
    return _built([str(EXAMPLES)], tmp_path_factory.mktemp("examples") / "lake")


@pytest.mark.parametrize("corpus", ["real", "examples"])
def test_every_table_keeps_its_grain_on_real_records(
    corpus: str, request: pytest.FixtureRequest
) -> None:
    # real samples hold conflicts (one eventID, other content: 331 of them), copies and
    # recycled keys: no session may come out twice
    assert_grains(request.getfixturevalue(corpus))


def test_every_used_sts_key_is_linked_to_its_issuing_event(
    real: duckdb.DuckDBPyConnection,
) -> None:
    # "Later used": a call signed with the issued key inside [issue, expiration] by the issued
    # principal. The same placeholder keys recur across unrelated documentation examples, so
    # a call outside the window or under another ARN is a different session (§2.2).
    uses = real.sql(
        """
        select s.session_id, s.issue_event_id, s.issued_key, e.event_id, l.session_id, l.link_rule
        from int_session_starts as s
        inner join int_events as e
            on e.user_access_key_id = s.issued_key
            and e.event_time >= s.creation_time
            and e.event_time <= s.expiration
            and (e.user_arn = s.principal_arn or e.user_arn is null)
        left join int_session_links as l on l.event_id = e.event_id
        order by s.session_id, e.event_id
        """
    ).fetchall()
    assert len({u[0] for u in uses}) >= 10, "the real corpus should hold used STS keys"
    wrong = [u for u in uses if u[4] != u[0]]
    assert not wrong, f"{len(wrong)} of {len(uses)} uses not linked to their issuer: {wrong[:10]}"


def test_every_successful_console_sign_in_is_a_session_or_its_sign_in(
    real: duckdb.DuckDBPyConnection,
) -> None:
    # a role's console sign-in whose issuance the samples lack (two Identity Center sign-ins,
    # their AssumeRoleWithSAML logged elsewhere) vanished: neither a session nor a login
    signins = real.sql(
        """
        select e.event_id, e.user_type, s.session_id, l.origin_type, l.subject
        from int_events as e
        left join rpt_sessions as s on e.event_id in (s.session_id, s.signin_event_id)
        left join rpt_federated_logins as l on l.session_id = s.session_id
        where e.event_source = 'signin.amazonaws.com' and e.event_name = 'ConsoleLogin'
          and e.console_login_result = 'Success' and e.user_arn is not null
        order by e.event_id
        """
    ).fetchall()
    assert signins, "the real samples hold successful console sign-ins"
    assert not [s for s in signins if s[2] is None]
    # eventID "1" is shared by 128 sample records, a root sign-in's session among them: the
    # role sign-in of that id is left to it (one session per id)
    idc = {s[0]: (s[3], s[4]) for s in signins if s[1] == "AssumedRole" and s[0] != "1"}
    assert idc == {
        "1111111111": ("IdentityCenter", "foo@bar.com"),
        "364ad368-42bf-4e05-a500-971ddfe8ebff": ("IdentityCenter", "nicholas.hakmiller"),
    }


def test_real_sessions_have_consistent_chains(real: duckdb.DuckDBPyConnection) -> None:
    bad = real.sql(
        """
        select s.session_id, s.depth, s.origin_type, s.chain_truncated
        from rpt_sessions as s
        left join rpt_sessions as p on p.session_id = s.parent_session_id
        where s.depth < 1 or s.origin_type is null or s.chain_truncated
           or (s.parent_session_id is not null and s.depth <> p.depth + 1)
           or (s.parent_session_id is null and s.depth not in (1, 2))
           -- an origin at depth 2 counts its caller's session, whose issuance is not in the
           -- lake: never a federated identity's or a service's
           or (s.parent_session_id is null and s.depth = 2
               and s.origin_type not in ('IAMUser', 'Root', 'Unresolved', 'AWSAccount'))
        """
    ).fetchall()
    assert not bad


def _event_id(n: int) -> str:
    records = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    return str(records[n - 1]["eventID"])


def _link(con: duckdb.DuckDBPyConnection, event_id: str) -> tuple[str, str, str]:
    rows = con.execute(
        "select session_id, link_rule, confidence from int_session_links where event_id = $e",
        {"e": event_id},
    ).fetchall()
    assert len(rows) == 1, f"{event_id} linked {len(rows)} times"
    return rows[0]


def test_ex1_console_switch_links_ex4_by_creation_date(
    examples: duckdb.DuckDBPyConnection,
) -> None:
    # EX#4 is signed with another key than the one EX#1 returned: ARN + creationDate link it.
    session = examples.execute(
        "select session_id, kind, issue_event_id, owner_copy_event_id, signin_event_id, mfa "
        "from rpt_sessions where issue_event_id = $e",
        {"e": _event_id(1)},
    ).fetchall()
    assert len(session) == 1
    session_id, kind, _, owner_copy, signin, mfa = session[0]
    assert (kind, owner_copy, signin, mfa) == ("SwitchRole", _event_id(2), _event_id(3), "mfa")
    assert _link(examples, _event_id(4)) == (session_id, "creation_date", "high")


def test_ex14_identity_center_saml_links_ex15_by_creation_date(
    examples: duckdb.DuckDBPyConnection,
) -> None:
    row = examples.execute(
        "select kind, origin_type, origin_id, mfa, grant_event_id from rpt_sessions "
        "where session_id = $e",
        {"e": _event_id(14)},
    ).fetchall()
    assert row == [
        (
            "IdentityCenter",
            "IdentityCenter",
            "idc:976710cc5d-9d976f61-3b89-4b98-88db-2ea3bbc1f3fa",
            "idp_asserted",
            _event_id(13),
        )
    ]
    assert _link(examples, _event_id(15)) == (_event_id(14), "creation_date", "high")


def test_the_cross_account_pair_is_one_session(examples: duckdb.DuckDBPyConnection) -> None:
    ids = (_event_id(1), _event_id(2))
    count = examples.execute(
        "select count(*) from rpt_sessions where issue_event_id in ($a, $b) "
        "or session_id in ($a, $b)",
        {"a": ids[0], "b": ids[1]},
    ).fetchall()
    assert count == [(1,)]


def test_explain_lists_records_that_share_an_event_id_in_a_fixed_order(
    real: duckdb.DuckDBPyConnection,
) -> None:
    # the real samples hold the issuing event of this session seven times (copies and
    # conflicting deliveries of one eventID, same time): explain lists them in one order,
    # run after run, in the order they were read, each record told by its hash and by where
    # it was read (`source`, a column of the terminal table: the other columns shown look alike)
    result = reads.explain(real, "dEXAMPLE-ac7f-466c-a608-4ac8dEXAMPLE")
    evidence = result.evidence.select(
        "event_time",
        "role",
        "event_id",
        "recipient_account_id",
        "source_uri",
        "source_position",
        "record_hash",
    ).rows()
    assert len(evidence) == 7
    assert len({row[-1] for row in evidence}) == 7  # seven distinct records
    sources = result.evidence["source"].to_list()
    assert len(set(sources)) == 7
    assert sources == [f"{Path(row[4]).name} #{row[5]}" for row in evidence]

    def key(row: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
        # NULLs last, each column compared as its own type (positions as numbers)
        return tuple((value is None, "" if value is None else value) for value in row)

    assert evidence == sorted(evidence, key=key)


def test_explain_shows_no_unrelated_record_that_shares_the_event_id(
    real: duckdb.DuckDBPyConnection,
) -> None:
    # a public data set gives 33 records of every kind the eventID "1111"; explain listed all
    # of them (DeleteTrail, PutBucketPolicy, ...) as the issuing call of session 1111
    rows = real.execute(
        "select count(*), count(distinct event_name) from events where event_id = '1111'"
    ).fetchall()
    assert rows[0][0] > 10 and rows[0][1] > 5
    result = reads.explain(real, "1111")
    evidence = result.evidence.select("role", "event_name", "issued_access_key_id").rows()
    assert evidence
    assert {(role, name) for role, name, _ in evidence} == {("issuing call", "AssumeRole")}
    assert {key for _, _, key in evidence} == {"1111"}


def test_a_conflict_of_caller_and_owner_records_keeps_the_caller(
    real: duckdb.DuckDBPyConnection,
) -> None:
    # the IAM user guide's AssumeRole sample: seven records of one eventID, the IAM user's and
    # the role owner's AWSAccount-shaped ones; the session's caller is the user, whichever
    # record hashes least, and its chain starts at that user
    row = real.execute(
        "select caller_type, caller_arn, origin_type, origin_id from rpt_sessions "
        "where session_id = $id",
        {"id": "dEXAMPLE-ac7f-466c-a608-4ac8dEXAMPLE"},
    ).fetchall()
    user = "arn:aws:iam::777788889999:user/JohnDoe"
    assert row == [("IAMUser", user, "IAMUser", user)]


def test_analyze_counts_what_the_sessions_cover_of_the_calls(tmp_path: Path) -> None:
    # the real samples hold many calls made with sessions issued before the samples start: the
    # summary said nothing of them, as if the sessions table covered every call
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent")
    target = tmp_path / "lake"
    ingest([str(REAL)], target)
    result = analysis.analyze(target)
    con = duckdb.connect()
    glob = str(target / "events" / "*" / "*" / "*.parquet")
    (temporary,) = con.execute(
        "select count(*) from read_parquet($glob, union_by_name = true) "
        "where user_access_key_id like 'ASIA%' or session_creation_date is not null",
        {"glob": glob},
    ).fetchone() or (0,)
    corrections = con.execute(
        "select count(*) from read_parquet($glob, union_by_name = true) "
        "where addendum_reason = 'UPDATED_DATA'",
        {"glob": glob},
    ).fetchall()
    assert corrections == [(0,)]  # none in the samples: no call is replaced by another
    links = str(target / "analysis" / "session_links.parquet")
    (attributed,) = con.execute(
        "select count(*) from read_parquet($links) where link_rule <> 'shared_event_id'",
        {"links": links},
    ).fetchone() or (0,)
    assert (result.calls_temporary, result.calls_attributed) == (temporary, attributed)
    assert 0 < attributed < temporary
    line = result.attribution_line()
    # the samples number their records ("1", "1111"): records that share a linked record's
    # eventID are in neither count, and the line says how many, so `seen` is not short
    shared = temporary - attributed - result.calls_unattributed
    assert shared > 0 and result.as_dict()["calls_sharing_an_event_id"] == shared
    # the line names what each number is, and they add up ("989/989 attributed", or "the other
    # 707" of which 105 were not, left the reader to guess)
    assert (temporary, attributed, result.calls_unattributed, shared) == (1051, 348, 598, 105)
    assert line == (
        "1,051 calls made with temporary credentials: 348 attributed to a session, 598 "
        f"unattributed ({result.sessions_seen} sessions seen only through their calls, which "
        "`sts-audit seen` lists: issued before the lake's first day, in an account whose trail "
        "is not collected, or that no key tells apart), 105 sharing an eventID with an "
        "attributed call (counted as that call)"
    )
    # README quotes this very line
    assert line in (Path(__file__).resolve().parents[1] / "README.md").read_text().splitlines()


def test_every_call_no_session_accounts_for_is_in_a_seen_session(
    real: duckdb.DuckDBPyConnection,
) -> None:
    # 711 of the samples' 1,052 calls made with temporary credentials were in no table: among
    # them Stratus' stolen instance credentials used from outside (ec2-steal-instance-credentials)
    temporary, attributed, unattributed, seen = real.execute(
        queries.load("analysis/sel_attribution")
    ).fetchall()[0]
    # the one exception sel_attribution names: records that share a linked record's eventID
    # (a conflict; here, data sets that number their records "1", "2", ...) are the same call
    # to int_sessions_seen. Every other call is linked or seen, exactly once.
    (hidden,) = real.execute(
        "with records as (select event_id, count(*) as n from int_events "
        "where user_access_key_id like 'ASIA%' or session_creation_date is not null "
        "group by event_id), "
        "links as (select event_id, count(*) as n from int_session_links "
        "where link_rule <> 'shared_event_id' group by event_id) "
        "select coalesce(sum(r.n - l.n), 0) from records as r join links as l using (event_id)"
    ).fetchone() or (0,)
    assert temporary == attributed + unattributed + hidden
    assert (unattributed, seen) == real.execute(
        "select sum(records), count(*) from int_sessions_seen"
    ).fetchall()[0]
    assert unattributed == temporary - attributed - hidden > 0 and seen > 0
    stolen = real.execute(
        "select access_key, keys, source_ip, events, distinct_ips, why from int_sessions_seen "
        "where principal_arn like '%/i-786a3A8B5C0d92eF4'"
    ).fetchall()
    assert stolen == [
        (
            "ASIAP5CT9NN8EYVU1FXV",
            1,
            "18.236.253.47",
            2,
            1,
            "issued before the lake's first record of its account",
        )
    ]
