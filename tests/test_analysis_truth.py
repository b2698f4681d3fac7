"""The analysis against the simulator's ground truth: simulate several days, ingest, build, and
require every session, parent, origin, depth, account path, first/last use and MFA state to be
exactly right. Mismatches are printed before the assertion fails."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipeline import analysis, lake
from pipeline.ingest import ingest
from pipeline.simulate import verify

pytestmark = pytest.mark.slow

simulate_mod = pytest.importorskip("pipeline.simulate")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("truth")
    out, target = root / "corpus", root / "lake"
    simulate_mod.simulate(out, days=4, seed=11, events=20_000, workers=2)
    ingest([str(out)], target)
    con = lake.connect(target)
    analysis.build(con)
    return out, con


def test_every_session_matches_the_truth(
    corpus: tuple[Path, duckdb.DuckDBPyConnection],
) -> None:
    out, con = corpus
    result = verify.check(con, out)
    print(
        f"{result.delivered} of {result.sessions} sessions delivered; "
        f"mismatches: {dict(result.by_field())}"
    )
    for mismatch in result.mismatches[:60]:
        print(mismatch)
    assert result.delivered > 500
    assert not result.mismatches, f"{dict(result.by_field())}; first: {result.mismatches[:5]}"


def _copy_to_mutate(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A connection of its own with a copy of the sessions (`kept` is the original) and the
    lake's event ids, for a test to break the copy and see what the check says."""
    other = duckdb.connect()
    other.register("kept", con.sql("select * from rpt_sessions").to_arrow_table())
    other.execute("create table rpt_sessions as select * from kept")
    other.register("ids", con.sql("select event_id from events").to_arrow_table())
    other.execute("create table events as select * from ids")
    return other


def test_the_truth_check_names_a_wrong_parent_a_lost_session_and_an_invented_one(
    corpus: tuple[Path, duckdb.DuckDBPyConnection],
) -> None:
    out, con = corpus
    # a child; a session alone in its ARN and second, with no parent and no child; another
    # session with no parent, moved into the child's ARN and second
    child = con.execute(
        "select min(session_id) from rpt_sessions where parent_session_id is not null"
    ).fetchall()[0][0]
    alone = """
        select session_id from rpt_sessions as r
        where parent_session_id is null and session_id <> ?
          and session_id not in (
              select parent_session_id from rpt_sessions where parent_session_id is not null
          )
          and not exists (
              select 1 from rpt_sessions as o
              where o.session_id <> r.session_id and o.principal_arn = r.principal_arn
                and date_trunc('second', o.issue_time) = date_trunc('second', r.issue_time)
          )
        order by session_id
    """
    lost, twin = (row[0] for row in con.execute(alone, [child]).fetchall()[:2])
    other = _copy_to_mutate(con)
    other.execute(
        "update rpt_sessions set parent_session_id = 'not-its-parent' where session_id = ?",
        [child],
    )
    other.execute("update rpt_sessions set session_id = 'invented' where session_id = ?", [lost])
    other.execute(
        "update rpt_sessions set principal_arn = k.principal_arn, issue_time = k.issue_time"
        " from kept as k where k.session_id = ? and rpt_sessions.session_id = ?",
        [child, twin],
    )
    result = verify.check(other, out)
    other.close()
    found = {(m.session_id, m.field): (m.ours, m.shared_second) for m in result.mismatches}
    # the child and the session moved into its second share it: the data could not tell which
    # of them a call (the child's issuing call) came from; but no tie moves an issue time, and
    # the lost and the invented session are no such tie
    assert found[(child, "parent_session_id")] == ("not-its-parent", True)
    assert found[(twin, "issue_time")][1] is False
    assert found[(lost, "missing")] == (None, False)
    assert found[("invented", "extra")] == (None, False)
    assert {session for session, _ in found} == {child, twin, lost, "invented"}
    assert result.sessions_wrong == 4
    assert result.sessions_unexplained == 3


def test_the_truth_check_names_a_session_given_another_users_grant_or_sign_in(
    corpus: tuple[Path, duckdb.DuckDBPyConnection],
) -> None:
    out, con = corpus
    # two Identity Center sessions of two users, alone in their ARN and second, that swap their
    # grants (GetRoleCredentials: the user, IP and user agent), and a federated session that
    # loses the console sign-in it made: no shared second excuses either
    first, second = (
        row[0]
        for row in con.execute(
            """
            select min(session_id) from rpt_sessions as r
            where kind = 'IdentityCenter' and grant_event_id is not null
              and not exists (
                  select 1 from rpt_sessions as o
                  where o.session_id <> r.session_id and o.principal_arn = r.principal_arn
                    and date_trunc('second', o.issue_time) = date_trunc('second', r.issue_time)
              )
            group by on_behalf_of_user_id
            order by 1
            limit 2
            """
        ).fetchall()
    )
    signed_in = con.execute(
        "select min(session_id) from rpt_sessions"
        " where kind = 'AssumeRoleWithSAML' and signin_event_id is not null"
    ).fetchall()[0][0]
    other = _copy_to_mutate(con)
    other.execute(
        "update rpt_sessions set grant_event_id = k.grant_event_id from kept as k"
        " where (k.session_id, rpt_sessions.session_id) in ((?, ?), (?, ?))",
        [first, second, second, first],
    )
    other.execute(
        "update rpt_sessions set signin_event_id = null where session_id = ?", [signed_in]
    )
    result = verify.check(other, out)
    other.close()
    found = {(m.session_id, m.field): m.shared_second for m in result.mismatches}
    assert found == {
        (first, "related_events"): False,
        (second, "related_events"): False,
        (signed_in, "related_events"): False,
    }
    assert result.sessions_unexplained == 3


def test_a_shared_second_explains_moved_calls_not_a_session_made_or_lost(tmp_path: Path) -> None:
    # Two sessions of one ARN and second in the truth. The analysis moved a call from one to
    # the other (what the records cannot tell apart), but also lost the second one's role and
    # made a third session of that ARN and second: a SwitchRole left without the console's
    # AssumeRole, and that AssumeRole as a session of its own. Those are defects any tie leaves
    # unexplained; counting them as ties hid one from the benchmark's "outside" figure.
    arn = "arn:aws:sts::123456789012:assumed-role/Admin/bob"
    role = "arn:aws:iam::123456789012:role/Admin"
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "summary.json").write_text(json.dumps({"org_accounts": ["123456789012"]}))
    base = {
        "kind": "SwitchRole",
        "issued_key": None,
        "issue_time": "2024-01-15T19:04:10Z",
        "expiration": None,
        "parent_session_id": None,
        "origin_type": "IAMUser",
        "origin_id": "arn:aws:iam::123456789012:user/bob",
        "depth": 0,
        "accounts": ["123456789012"],
        "cross_account_hops": 0,
        "left_org": False,
        "mfa": "mfa",
        "requested_duration": None,
        "role_arn": role,
        "session_name": "bob",
        "caller_account": "123456789012",
        "target_account": "123456789012",
        "first_use": "2024-01-15T19:05:00Z",
        "last_use": "2024-01-15T19:05:00Z",
        "events": 1,
    }
    lines = [
        {**base, "session_id": "sw-1", "issue_event_ids": ["sw-1", "ar-1"]},
        {**base, "session_id": "sw-2", "issue_event_ids": ["sw-2", "ar-2"]},
    ]
    (truth / "sessions.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    ids = "['sw-1', 'ar-1', 'sw-2', 'ar-2']"
    con.execute(f"create table events as select unnest({ids}) as event_id")
    con.execute(
        """
        create table rpt_sessions as
        select
            s.session_id, s.kind, timestamptz '2024-01-15 19:04:10+00' as issue_time,
            cast(null as varchar) as issued_key, '123456789012' as caller_account,
            '123456789012' as target_account, s.role_arn, s.session_name,
            cast(null as integer) as requested_duration,
            cast(null as varchar) as parent_session_id, 'IAMUser' as origin_type,
            'arn:aws:iam::123456789012:user/bob' as origin_id, 0 as depth,
            '123456789012' as account_path, 0 as cross_account_hops, false as left_org,
            'mfa' as mfa, cast(null as timestamptz) as expiration,
            case when s.events > 0 then timestamptz '2024-01-15 19:05:00+00' end as first_use,
            case when s.events > 0 then timestamptz '2024-01-15 19:05:00+00' end as last_use,
            s.events, $arn as principal_arn, s.issue_event_id,
            cast(null as varchar) as owner_copy_event_id, cast(null as varchar) as grant_event_id,
            case when s.kind = 'SwitchRole' then s.session_id end as signin_event_id
        from (
            values
                ('sw-1', 'SwitchRole', $role, 'bob', 2, 'ar-1'),
                ('sw-2', 'SwitchRole', null, null, 0, null),
                ('ar-2', 'AssumeRole', $role, 'bob', 0, 'ar-2')
        ) as s (session_id, kind, role_arn, session_name, events, issue_event_id)
        """,
        {"arn": arn, "role": role},
    )
    result = verify.check(con, tmp_path)
    found = {(m.session_id, m.field): m.shared_second for m in result.mismatches}
    assert found == {
        ("sw-1", "events"): True,
        ("sw-2", "events"): True,
        ("sw-2", "first_use"): True,
        ("sw-2", "last_use"): True,
        ("sw-2", "issue_events"): True,
        ("sw-2", "role_arn"): False,
        ("sw-2", "session_name"): False,
        ("ar-2", "extra"): False,
    }
    assert result.sessions_wrong == 3
    assert result.sessions_unexplained == 2


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
