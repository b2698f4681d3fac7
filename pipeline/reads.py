"""Typed reads of the analysis tables: the listings the query commands and notebooks show
(sessions, chains, logins, sessions seen only through their calls, the account graph), one
session's explanation, and the error an empty listing raises. Every value is a bound parameter
of a `sql/analysis/sel_*.sql` query, over a connection from `analysis.open_analysis`.
"""

from __future__ import annotations

import datetime as dt
import shlex
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipeline import lake as lake_mod
from pipeline import queries
from pipeline.analysis import window_note, window_start
from pipeline.config import check_account_id
from pipeline.errors import NoEventsFound, NotFound

if TYPE_CHECKING:
    import polars as pl


def _day_start(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _filters(
    account: str | None, since: dt.date | None, until: dt.date | None, principal: str | None
) -> dict[str, object]:
    return {
        "account": check_account_id(account) if account is not None else None,
        "since": _day_start(since),
        # --until is inclusive: everything before the next day's midnight (none after 9999)
        "until": _day_start(until + dt.timedelta(days=1))
        if until is not None and until < dt.date.max
        else None,
        "principal": principal,
    }


def _frame(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object]) -> pl.DataFrame:
    import polars as pl  # imported when used: `analyze` never needs it

    with warnings.catch_warnings():
        # DuckDB 2 warns that DB-API results copy once into Arrow; these results are small
        warnings.simplefilter("ignore", UserWarning)
        table = queries.run(con, name, params).to_arrow_table()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def sessions(
    con: duckdb.DuckDBPyConnection,
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    principal: str | None = None,
) -> pl.DataFrame:
    """Sessions issued in the window, for an account (caller or target) and a principal
    (session ARN, caller ARN, origin id or session name)."""
    return _frame(con, "analysis/sel_sessions", _filters(account, since, until, principal))


def chains(
    con: duckdb.DuckDBPyConnection,
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    principal: str | None = None,
) -> pl.DataFrame:
    """One row per session with its chain: origin, depth, role and account paths."""
    return _frame(con, "analysis/sel_chains", _filters(account, since, until, principal))


def logins(
    con: duckdb.DuckDBPyConnection,
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    principal: str | None = None,
) -> pl.DataFrame:
    """Federated entries (SAML, OIDC, Cognito, Identity Center) and what followed them."""
    return _frame(con, "analysis/sel_logins", _filters(account, since, until, principal))


def sessions_seen(
    con: duckdb.DuckDBPyConnection,
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    principal: str | None = None,
) -> pl.DataFrame:
    """Sessions whose issuing call is not in the lake, first used in the window, of an account
    (the session ARN's) and a principal (session ARN, role ARN, session name or access key)."""
    return _frame(con, "analysis/sel_sessions_seen", _filters(account, since, until, principal))


def account_graph(con: duckdb.DuckDBPyConnection, *, account: str | None = None) -> pl.DataFrame:
    """Account-to-account hops."""
    return _frame(con, "analysis/sel_account_graph", _filters(account, None, None, None))


@dataclass(frozen=True)
class Explanation:
    """One session's chain from its origin, and the events that prove each link."""

    chain: pl.DataFrame  # one row per session, origin first
    evidence: pl.DataFrame  # issuing events and links of every session in the chain
    activity: pl.DataFrame  # the calls made by the session asked about
    # other sessions the same key names (temporary key ids are recycled): (id, issue time)
    others: tuple[tuple[str, dt.datetime], ...] = ()
    # the session seen only through its calls (sessions_seen) that issued the origin: its
    # issuance is not in the lake, and `why` says why; None when the origin's caller is not one
    seen_caller: pl.DataFrame | None = None
    # sessions seen only through their calls that the same key (or ARN, name) names too: a
    # recycled key id whose other session was issued before the lake, or outside it
    seen_also: pl.DataFrame | None = None
    # an origin seen only through the role owner's AWSAccount copy: the sessions the lake holds
    # of the principal id it names, valid at the call (candidates, never the parent)
    candidate_callers: pl.DataFrame | None = None


def resolve_sessions(
    con: duckdb.DuckDBPyConnection, session_or_key: str
) -> list[tuple[str, dt.datetime]]:
    """The sessions (id, issue time) a session id, an issuing/sign-in/grant event id or an
    issued key names, best first: a recycled key names several, the latest first."""
    rows = queries.run(con, "analysis/sel_resolve_session", {"needle": session_or_key}).fetchall()
    if not rows:
        _raise_if_seen(con, session_or_key)
        window = window_note(con)
        raise NotFound(
            f"no session, issuing event or issued key {session_or_key!r} in the lake{window}",
            fix="list sessions with `sts-audit sessions` and pass a session_id or issued_key"
            + (", or widen analysis.window_days" if window else ""),
        )
    return [(str(session_id), issued) for session_id, issued in rows]


def _raise_if_seen(con: duckdb.DuckDBPyConnection, needle: str) -> None:
    """NotFound naming `sts-audit seen` when `needle` (a session ARN, role ARN, session name or
    access key) names sessions the lake sees only through their calls: there is no issuance
    to explain, but there is activity, and saying "nothing in the lake" would hide it."""
    seen = sessions_seen(con, principal=needle)
    if seen.is_empty():
        return
    first = seen.row(0, named=True)
    raise NotFound(
        f"{needle!r} names no session issued in the lake, but {seen.height} session(s) it sees "
        f"only through their calls: {first['events']} call(s) of "
        f"{first['principal_arn'] or 'an unknown ARN'} from "
        f"{first['first_use'].astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ} ({first['why']})",
        fix=f"list them with `sts-audit seen --principal {shlex.quote(needle)}`",
    )


def explain(
    con: duckdb.DuckDBPyConnection,
    session_or_key: str,
    *,
    lake: Path | None = None,
    max_depth: int = 64,
) -> Explanation:
    """The chain of one session from its origin to its last action, with evidence. Given the
    `lake`, `events` is bound to the days each query reads, not to the whole lake, and stays
    bound to the last of them afterwards (rebind it with `lake.attach_events` to query more)."""
    import polars as pl

    def events_of(days: dict[str, dt.date]) -> dict[str, dt.date]:
        if lake is not None:
            files = lake_mod.partition_files(lake, days["first_day"], days["last_day"])
            lake_mod.attach_events(con, lake, files=files)
        return days

    named = resolve_sessions(con, session_or_key)
    session_id: str | None = named[0][0]
    steps: list[pl.DataFrame] = []
    evidence: list[pl.DataFrame] = []
    seen: set[str] = set()
    while session_id is not None and session_id not in seen and len(seen) < max_depth:
        seen.add(session_id)
        row = _frame(con, "analysis/sel_explain_session", {"session_id": session_id})
        if row.is_empty():
            break
        steps.append(row)
        # the issuing call, its copies, sign-in and grant lie within a day of the session
        issued = row["issue_time"][0]
        ends = row["expiration"][0] or issued
        days = {"first_day": _day(issued, -1), "last_day": _day(max(issued, ends), 1)}
        evidence.append(
            _frame(
                con, "analysis/sel_explain_evidence", {"session_id": session_id, **events_of(days)}
            ).with_columns(pl.lit(session_id).alias("session_id"))
        )
        parent = row["parent_session_id"][0]
        session_id = str(parent) if parent is not None else None
    first = steps[0]
    origin = steps[-1]
    seen_caller = None
    if origin["caller_seen"][0]:
        seen_caller = _frame(
            con, "analysis/sel_explain_seen_caller", {"session_id": origin["session_id"][0]}
        )
    candidates = None
    if origin["origin_type"][0] == "AWSAccount":
        candidates = _frame(
            con, "analysis/sel_explain_candidate_callers", {"session_id": origin["session_id"][0]}
        )
    used = {
        "first_day": _day(first["first_use"][0] or first["issue_time"][0], 0),
        "last_day": _day(first["last_use"][0] or first["issue_time"][0], 0),
    }
    return Explanation(
        chain=pl.concat(list(reversed(steps)), how="vertical_relaxed"),
        evidence=pl.concat(list(reversed(evidence)), how="vertical_relaxed"),
        activity=_frame(
            con,
            "analysis/sel_explain_activity",
            {"session_id": first["session_id"][0], **events_of(used)},
        ),
        others=tuple(named[1:]),
        seen_caller=seen_caller,
        seen_also=sessions_seen(con, principal=session_or_key),
        candidate_callers=candidates,
    )


def _day(moment: dt.datetime, shift: int) -> dt.date:
    """The UTC day of `moment`, moved by `shift` days (the lake's `event_date` partition),
    within the years 1-9999 (a logged time can be at either end)."""
    day = moment.astimezone(dt.UTC).date()
    try:
        return day + dt.timedelta(days=shift)
    except OverflowError:
        return dt.date.max if shift > 0 else dt.date.min


def _session_count(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select count(*) from rpt_sessions").fetchall()[0][0])


def has_sessions(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the analysis tables `con` reads hold a session (in the window, if any)."""
    return _session_count(con) > 0


def require_rows(
    frame: pl.DataFrame,
    what: str,
    con: duckdb.DuckDBPyConnection | None = None,
    *,
    filters: Mapping[str, str] | None = None,
    lake: Path | None = None,
) -> pl.DataFrame:
    """Raise NoEventsFound when a listing is empty (the CLI prints the fix): naming `filters`
    (the options given and their values, e.g. `--account`: `123456789012`), else saying what
    `lake` holds; `con`, the connection it was read from, names the analysis window if there
    is one."""
    if not frame.is_empty():
        return frame
    start = window_start(con) if con is not None else None
    widen = ", or widen analysis.window_days" if start is not None else ""
    if filters:
        raise NoEventsFound(
            f"no {what} match the filters: {' '.join(f'{k} {v}' for k, v in filters.items())}"
            + (window_note(con) if con is not None else ""),
            fix=f"widen or drop {', '.join(filters)}, or ingest more logs" + widen,
        )
    sessions = _session_count(con) if con else 0
    if sessions:
        holds = f"{sessions:,} session{'s' if sessions > 1 else ''}"
    else:  # read from the data files' footers: only when the lake holds no session at all
        events = lake_mod.event_count(lake, start) if lake is not None else 0
        holds = f"{events:,} events, none of them issuing credentials"
    raise NoEventsFound(
        f"no {what} in the lake (it holds {holds})"
        if start is None
        else f"no {what} in the lake's days from {start} on (analysis.window_days), which "
        f"hold {holds}",
        fix="ingest more logs: the trails of more accounts, regions or days" + widen,
    )
