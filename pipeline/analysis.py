"""Build the analysis tables (sessions, links, chains, logins, account graph) from the lake.

Every step is one query in `sql/analysis/`, run in `STEPS` order as a DuckDB table of the same
name in the connection's in-memory database, or a view for `VIEW_STEPS`. `int_events` is a
view over `events`, so each step reads only the lake columns and rows it needs (DuckDB pushes
projections and filters into the Parquet scan) and no wide per-event copy of the lake is
materialized. `analyze()` also writes the public
tables to `LAKE/analysis/<table>.parquet` with a stamp of the lake's files, the SQL and the
settings, so later commands reuse them while they are current (`open_analysis`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import duckdb

from pipeline import lake as lake_mod
from pipeline import queries
from pipeline.chainsql import DEFAULT_DEPTH, chain_sql
from pipeline.config import DEFAULT_ANALYSIS_MEMORY, Config, check_account_id
from pipeline.errors import ConfigError

# Build order: each step reads only `events`, `cfg_org_accounts`, `cfg_org`, `cfg_org_folders`,
# `cfg_window` and earlier steps.
STEPS: Final[tuple[str, ...]] = (
    "int_corrections",
    "int_events",
    "int_org_accounts",
    "int_sts_issuances",
    "int_session_starts",
    "int_creation_keys",
    "int_call_links",
    "int_session_links",
    "rpt_session_links",
    "int_sessions_seen",
    "int_sessions",
    "int_chains",
    "rpt_sessions",
    "rpt_federated_logins",
    "rpt_account_graph",
)
# Steps that stay views. `int_events` names what the analysis reads from `events`; as a view
# each reader scans only its own columns and rows (a materialized copy of the lake's 50 columns
# cost more than every later step's scans together). `int_session_links` is the attributed
# rows of `int_call_links`, which also keeps the calls no session accounts for (the input of
# `int_sessions_seen`): a filter, not a copy. The rpt_ steps are a join or a small
# aggregate over earlier steps: materializing them would copy every row once more for nothing
# (the Parquet export reads them once).
VIEW_STEPS: Final[frozenset[str]] = frozenset(
    {
        "int_events",
        "int_session_links",
        "rpt_sessions",
        "rpt_federated_logins",
        "rpt_account_graph",
        "rpt_session_links",
    }
)
# Public tables: name in LAKE/analysis/ and in the README -> the step that builds it.
TABLES: Final[dict[str, str]] = {
    "sessions": "rpt_sessions",
    "session_links": "rpt_session_links",
    "chains": "int_chains",
    "federated_logins": "rpt_federated_logins",
    "account_graph": "rpt_account_graph",
    "sessions_seen": "int_sessions_seen",
}
STAMP_FILE: Final = "_stamp.json"
STAMP_VERSION: Final = 1


@dataclass(frozen=True)
class Settings:
    """What the analysis depends on besides the events, and the memory it may use (which
    changes how DuckDB runs it, not what it builds: it is not part of the stamp)."""

    org_accounts: tuple[str, ...] = ()
    org_id: str | None = None
    max_chain_depth: int = DEFAULT_DEPTH
    memory_limit: str = DEFAULT_ANALYSIS_MEMORY
    # analysis.window_days: read only the lake's last days (None: all of it); `window_start`,
    # the first of them, is resolved from the lake (`windowed`) by every entry point
    window_days: int | None = None
    window_start: dt.date | None = None
    # the (org_id, account_id) folders of organization trails ingest listed, resolved from the
    # lake (`with_org_folders`) by the entry points that build; the stamp follows their file
    # (`lake_state`)
    org_folders: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        """The analysis settings of a loaded configuration."""
        return cls(
            org_accounts=config.org_accounts,
            org_id=config.org_id,
            max_chain_depth=config.max_chain_depth,
            memory_limit=config.analysis_memory_limit,
            window_days=config.analysis_window_days,
        )


def windowed(lake: Path, settings: Settings, today: dt.date | None = None) -> Settings:
    """`settings` with `window_start` (set here only: a value given is replaced): the first of
    the last `window_days` days of the lake, counted back from its latest event date not after
    tomorrow (UTC). Every partition from that day on is read, later-dated ones included.
    None, the whole lake, without a window, when the window reaches back to the lake's first
    day (a new lake under `window_days = 90`), or when every date is after tomorrow (this
    machine's clock is behind the data's: no day to count back from)."""
    if settings.window_days is None:
        return replace(settings, window_start=None)
    days = lake_mod.committed_days(lake)
    tomorrow = (today or dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=1)
    latest = max((d for d in days if d <= tomorrow), default=None)
    if latest is None:
        return replace(settings, window_start=None)
    try:
        start = latest - dt.timedelta(days=settings.window_days - 1)
    except OverflowError:  # a record dated in the first years: the window holds the lake
        return replace(settings, window_start=None)
    return replace(settings, window_start=start if start > days[0] else None)


def _connect(lake: Path, settings: Settings, *, attach: bool = True) -> duckdb.DuckDBPyConnection:
    """A lake connection whose DuckDB memory stays under the configured limit (by default
    half the machine's, `config.default_analysis_memory`): past it, the hash tables and
    intermediate tables spill to LAKE/_state/tmp (5M events: 3.7 GiB peak without a limit;
    under 2GB, 2.2 GiB and 40% slower; bench/LIMITS.md). `attach`: bind `events` over the
    lake (of the window's days when `settings` has one)."""
    con = lake_mod.connect(lake, attach=attach and settings.window_start is None)
    if attach and settings.window_start is not None:
        files = lake_mod.partition_files(lake, settings.window_start, dt.date.max)
        lake_mod.attach_events(con, lake, files=files)
    try:
        con.execute(f"SET memory_limit = {lake_mod.sql_literal(settings.memory_limit)}")
    except duckdb.Error as exc:
        raise ConfigError(
            f"analysis.memory_limit={settings.memory_limit!r}: DuckDB refuses it "
            f"({str(exc).strip().splitlines()[0]})",
            fix='write a size with its unit, e.g. "4GB" or "512MB"',
        ) from None
    return con


def step_sql(name: str, settings: Settings) -> str:
    """The SQL of one build step (the chain walk is rendered for the configured depth)."""
    if name == "int_chains" and settings.max_chain_depth != DEFAULT_DEPTH:
        return chain_sql(settings.max_chain_depth)
    return queries.load(f"analysis/{name}")


def _bind_inputs(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    con.execute("create or replace table cfg_org_accounts (account_id varchar)")
    for account in settings.org_accounts:
        con.execute(
            "insert into cfg_org_accounts values ($account)",
            {"account": check_account_id(account)},
        )
    # the organization's id, when configured: only its trail's folders vouch for membership
    con.execute("create or replace table cfg_org (org_id varchar)")
    if settings.org_id is not None:
        con.execute("insert into cfg_org values ($id)", {"id": settings.org_id})
    con.execute("create or replace table cfg_org_folders (org_id varchar, account_id varchar)")
    if settings.org_folders:
        con.executemany("insert into cfg_org_folders values (?, ?)", list(settings.org_folders))
    _bind_window(con, settings)


def _bind_window(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """`cfg_window`: the first day analyzed, when analysis.window_days leaves the lake's
    earlier days out (no row otherwise)."""
    con.execute("create or replace table cfg_window (first_day date)")
    if settings.window_start is not None:
        con.execute("insert into cfg_window values ($day)", {"day": settings.window_start})


def window_start(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The first day of the analysis window the connection's tables were built under."""
    try:
        rows = con.execute("select max(first_day) from cfg_window").fetchall()
    except duckdb.CatalogException:
        return None
    return rows[0][0] if rows else None


def window_note(con: duckdb.DuckDBPyConnection) -> str:
    """` (... analysis.window_days)` naming the window's first day when the connection's
    tables were built under one; empty otherwise. Said wherever nothing was found: the lake
    may hold it before the window."""
    day = window_start(con)
    if day is None:
        return ""
    return f" (the analysis reads the lake's days from {day.isoformat()} on: analysis.window_days)"


# Intermediate tables no later step reads once the given step is built; dropped then unless
# the caller keeps them (tests and notebooks inspect them), to bound memory on large lakes.
RELEASE_AFTER: Final[dict[str, tuple[str, ...]]] = {
    "int_sessions": ("int_sts_issuances", "int_session_starts", "int_creation_keys"),
}


def build(
    con: duckdb.DuckDBPyConnection,
    settings: Settings | None = None,
    *,
    keep_intermediate: bool = True,
    on_step: Callable[[str], object] | None = None,
    warn: bool = True,
) -> int:
    """Run every step on `con` (which must have an `events` view or table) as tables and views;
    returns the number of chains cut at `max_chain_depth` (and, with `warn`, warns when there
    are any; `analyze` returns them for its caller to print instead).

    `on_step(name)` is called as each step is built. Not TEMP: temporary objects are private to
    one connection, and `analyze` writes the public tables from other cursors meanwhile."""
    settings = settings or Settings()
    _bind_inputs(con, settings)
    # Every query orders its own output; keeping insertion order while materializing the wide
    # intermediate tables costs about twice the time.
    con.execute("SET preserve_insertion_order = false")
    # Several steps scan the same lake files: read each file's footer once.
    con.execute("SET parquet_metadata_cache = true")
    for name in STEPS:
        kind = "view" if name in VIEW_STEPS else "table"
        con.execute(f"create or replace {kind} {name} as {step_sql(name, settings)}")
        if on_step is not None:
            on_step(name)
        if not keep_intermediate:
            for done in RELEASE_AFTER.get(name, ()):
                con.execute(f"drop table if exists {done}")
    rows = con.execute("select count(*) from int_chains where chain_truncated").fetchall()
    truncated = int(rows[0][0])
    if truncated and warn:
        # Loud by design (distributed.md §6.1): a truncated chain has no origin and its depth
        # is a lower bound.
        warnings.warn(truncation_warning(truncated, settings.max_chain_depth), stacklevel=2)
    unmatched = org_id_warning(settings)
    if unmatched and warn:
        warnings.warn(unmatched, stacklevel=2)
    return truncated


def org_id_warning(settings: Settings) -> str | None:
    """The line that says `[organization] id` names none of the organization trails' folders
    ingest listed, which the lake's membership then leaves out: a typo turned membership off
    without a word (`from_in_org`, `to_in_org`, `left_org` all empty)."""
    listed = sorted({org for org, _ in settings.org_folders})
    if settings.org_id is None or not listed or settings.org_id in listed:
        return None
    return (
        f"[organization] id {settings.org_id} names no organization trail folder of the lake "
        f"(AWSLogs/{', '.join(listed)}/...): membership comes from [organization] accounts "
        "alone; check the id"
    )


def truncation_warning(chains: int, max_depth: int) -> str:
    """The one line that says chains were cut, and what to change."""
    return (
        f"{chains} chain(s) are deeper than max_chain_depth={max_depth}: their origin is unknown "
        f"and their depth shows as >{max_depth}; raise [analysis] max_chain_depth"
    )


@dataclass(frozen=True)
class Analyzed:
    """What `analyze` wrote: rows per public table, and how many chains it cut at
    `max_chain_depth` (`--strict` fails on those: their origin is unknown)."""

    tables: dict[str, int]
    chains_truncated: int
    max_chain_depth: int
    calls_temporary: int = 0
    calls_attributed: int = 0
    # the calls no session in the lake accounts for, and the sessions_seen rows they make
    calls_unattributed: int = 0
    sessions_seen: int = 0
    # the first day analyzed, under analysis.window_days (None: the whole lake)
    window_start: dt.date | None = None
    # org_id_warning's line, when [organization] id names none of the lake's trail folders
    org_id_unmatched: str | None = None

    @property
    def warnings(self) -> list[str]:
        """The run's warnings, as the CLI prints them."""
        lines = [self.org_id_unmatched] if self.org_id_unmatched else []
        if self.chains_truncated:
            lines.append(truncation_warning(self.chains_truncated, self.max_chain_depth))
        return lines

    def as_dict(self) -> dict[str, Any]:
        """The `--json` form."""
        return {
            "tables": dict(self.tables),
            "chains_truncated": self.chains_truncated,
            "max_chain_depth": self.max_chain_depth,
            "calls_temporary": self.calls_temporary,
            "calls_attributed": self.calls_attributed,
            "calls_unattributed": self.calls_unattributed,
            "calls_sharing_an_event_id": self.calls_sharing_an_event_id,
            "sessions_seen": self.sessions_seen,
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "warnings": self.warnings,
        }

    @property
    def calls_sharing_an_event_id(self) -> int:
        """Calls in neither count: records that share a linked record's eventID (a conflict,
        or a data set that numbers its records) count as that call (sel_attribution)."""
        return max(self.calls_temporary - self.calls_attributed - self.calls_unattributed, 0)

    def attribution_line(self) -> str:
        """The calls made with temporary credentials, and what each of their parts is: attributed
        to a session, unattributed (the sessions `seen` lists), sharing an eventID with an
        attributed call. The parts add up to the calls but for the cases sel_attribution names."""
        window = (
            f"analyzed the lake's events from {self.window_start.isoformat()} on "
            "(analysis.window_days); "
            if self.window_start
            else ""
        )
        unattributed = f"{self.calls_unattributed:,} unattributed"
        if self.calls_unattributed or self.sessions_seen:
            before = (
                f"the analysis window (from {self.window_start.isoformat()})"
                if self.window_start
                else "the lake's first day"
            )
            unattributed += (
                f" ({self.sessions_seen:,} sessions seen only through their calls, which "
                f"`sts-audit seen` lists: issued before {before}, in an account whose trail is "
                "not collected, or that no key tells apart)"
            )
        parts = [f"{self.calls_attributed:,} attributed to a session", unattributed]
        if self.calls_sharing_an_event_id:
            parts.append(
                f"{self.calls_sharing_an_event_id:,} sharing an eventID with an attributed call "
                "(counted as that call)"
            )
        line = (
            f"{window}{self.calls_temporary:,} calls made with temporary credentials: "
            + ", ".join(parts)
        )
        excess = self.calls_attributed + self.calls_unattributed - self.calls_temporary
        if excess > 0:
            # the parts exceed the calls: say so rather than print a sum that does not add up
            line += (
                f"; {excess:,} more than the calls: a record linked to two sessions, or a call "
                "made with a long-term key linked (sel_attribution)"
            )
        return line


# --- materialization -------------------------------------------------------------------------


def lake_state(lake: Path) -> str:
    """A digest of the lake's data files and of the organization-trail folders ingest listed
    (path, size, mtime): changes whenever ingest writes, and when a run whose records were all
    duplicates listed a new member's folder (`with_org_folders`)."""
    digest = hashlib.sha256()
    paths = [
        *lake_mod.committed_files(lake, lake_mod.EVENTS_DIR, "*/*/*.parquet"),
        lake / lake_mod.STATE_DIR / lake_mod.ORG_FOLDERS_FILE,
    ]
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:  # no organization folder listed yet
            continue
        digest.update(f"{path.relative_to(lake)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def with_org_folders(lake: Path, settings: Settings) -> Settings:
    """`settings` with the organization-trail folders ingest listed into the lake."""
    from pipeline import catalog  # polars: only where a build needs it

    return replace(settings, org_folders=catalog.org_folders(lake / lake_mod.STATE_DIR))


def _stamp(lake: Path, settings: Settings) -> dict[str, Any]:
    sql = hashlib.sha256()
    for name in STEPS:
        sql.update(step_sql(name, settings).encode())
    return {
        "version": STAMP_VERSION,
        "lake_state": lake_state(lake),
        "sql": sql.hexdigest(),
        "org_accounts": sorted(settings.org_accounts),
        "org_id": settings.org_id,
        "max_chain_depth": settings.max_chain_depth,
        "window_days": settings.window_days,
        "window_start": settings.window_start.isoformat() if settings.window_start else None,
    }


def analysis_dir(lake: Path) -> Path:
    """Where `analyze` writes its Parquet tables."""
    return lake / lake_mod.ANALYSIS_DIR


def is_current(lake: Path, settings: Settings) -> bool:
    """True when LAKE/analysis holds every table, built from the lake as it is now."""
    return stale_reason(lake, settings) is None


# the stamp's keys that are settings (the rest: the lake's state, and this version's SQL)
_SETTINGS_KEYS: Final = ("org_accounts", "org_id", "max_chain_depth", "window_days")


def stale_reason(lake: Path, settings: Settings) -> str | None:
    """Why LAKE/analysis's tables cannot be read as they are, in words that end "the analysis
    tables ..." (None: every table is there, built from the lake as it is now, under these
    settings, by this version)."""
    folder = analysis_dir(lake)
    present = [(folder / f"{t}.parquet").is_file() for t in TABLES]
    if not any(present):
        return "have not been built"
    stamp_path = folder / STAMP_FILE
    try:
        stored = json.loads(stamp_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = None
    if not all(present) or not isinstance(stored, dict):
        # analyze removes the stamp first and writes it last
        return "were not all written: the last analyze did not finish"
    now = _stamp(lake, windowed(lake, settings))
    if stored == now:
        return None
    if stored.get("version") != now["version"] or stored.get("sql") != now["sql"]:
        return "were built by another version of sts-audit"
    if any(stored.get(key) != now[key] for key in _SETTINGS_KEYS):
        return "were built under other settings (another config file?)"
    return "are older than the lake (an ingest since, or another analysis window)"


def analyze(lake: Path, settings: Settings | None = None) -> Analyzed:
    """Build every table and write the public ones to LAKE/analysis/; returns row counts.
    One at a time per lake (a nightly `run` and an analyst's `analyze` would write the same
    files): a second one fails at once, naming the lock."""
    from pipeline import lakewriter

    if not lake_mod.has_events(lake):  # no lake here: fail as every reader does, creating nothing
        return _analyze(lake, settings or Settings())
    with lakewriter.lock(lake, lakewriter.ANALYZE_LOCK_FILE, "analyze"):
        return _analyze(lake, settings or Settings())


def _analyze(lake: Path, settings: Settings) -> Analyzed:
    settings = windowed(lake, settings)
    # The stamp of the lake as read: files an ingest adds meanwhile make the tables stale.
    stamp = _stamp(lake, settings)
    con = _connect(lake, settings)
    folder = analysis_dir(lake)
    folder.mkdir(parents=True, exist_ok=True)
    # A killed analyze leaves its half-written tables behind (they can be most of the disk the
    # lake takes): this one, holding the lock, is the only writer of the folder.
    for leftover in folder.glob(".*.parquet.tmp"):
        if leftover.is_file():
            leftover.unlink(missing_ok=True)
    # No stamp while the tables are being replaced: a crash half-way must not leave a mix of
    # old and new tables that looks current.
    (folder / STAMP_FILE).unlink(missing_ok=True)
    # Each public table is written from a cursor of its own as soon as its step is built, beside
    # the later steps: a write (a sort, then one Parquet writer) mostly keeps one core busy, and
    # the build steps leave the other one idle much of the time.
    steps_to_tables = {step: table for table, step in TABLES.items()}
    futures: dict[str, Future[int]] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:

        def write_when_built(step: str) -> None:
            table = steps_to_tables.get(step)
            if table is not None:
                # the cursor is made here, in the thread that owns `con`; only its COPY runs
                # in the pool
                cur = con.cursor()
                lake_mod.configure(cur)
                cur.execute("SET preserve_insertion_order = false")
                futures[table] = pool.submit(_write_table, cur, folder, table, step)

        settings = with_org_folders(lake, settings)
        truncated = build(
            con,
            settings,
            keep_intermediate=False,
            on_step=write_when_built,
            warn=False,
        )
        # beside the last writes: what the sessions cover of the calls, for the summary
        attribution = con.execute(queries.load("analysis/sel_attribution")).fetchall()[0]
        counts = {table: futures[table].result() for table in TABLES}
    (folder / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n")
    return Analyzed(
        counts,
        truncated,
        settings.max_chain_depth,
        calls_temporary=int(attribution[0]),
        calls_attributed=int(attribution[1]),
        calls_unattributed=int(attribution[2]),
        sessions_seen=int(attribution[3]),
        window_start=settings.window_start,
        org_id_unmatched=org_id_warning(settings),
    )


def _write_table(cur: duckdb.DuckDBPyConnection, folder: Path, table: str, step: str) -> int:
    """Write one public table to `folder/<table>.parquet` (atomically) from its own cursor, then
    close the cursor; returns the rows written."""
    target = folder / f"{table}.parquet"
    tmp = folder / f".{table}.parquet.tmp"
    try:
        written = cur.execute(
            f"copy (select * from {step}) to {lake_mod.sql_literal(str(tmp))} "
            # zstd level 1: as small as the default level here, a third less CPU
            "(format parquet, compression zstd, compression_level 1)"
        ).fetchall()
    except BaseException:
        if tmp.is_file():  # a full disk: give back what the half-written table took
            tmp.unlink(missing_ok=True)
        raise
    finally:
        cur.close()
    tmp.replace(target)
    return int(written[0][0])  # COPY returns the number of rows written


def open_analysis(
    lake: Path,
    settings: Settings | None = None,
    *,
    on_build: Callable[[str], object] | None = None,
    events: bool = True,
) -> duckdb.DuckDBPyConnection:
    """A connection where the public tables can be read under their step names: the
    materialized Parquet when current, else built in memory now, after calling
    `on_build(why)` (`stale_reason`: why LAKE/analysis's tables cannot be read). With `events` false
    and the tables current, the lake's `events` view is not bound (the query commands read
    only the tables; `explain` binds the days it reads): binding it reads every data file's
    footer, 0.8 s for the 453 files of 5M events, minutes for a year of an organization."""
    settings = windowed(lake, settings or Settings())
    why = stale_reason(lake, settings)
    current = why is None
    con = _connect(lake, settings, attach=events or not current)
    if current:
        _bind_window(con, settings)
        folder = analysis_dir(lake)
        for table, step in TABLES.items():
            path = lake_mod.sql_literal(lake_mod.glob_escape(str(folder / f"{table}.parquet")))
            con.execute(f"create or replace view {step} as select * from read_parquet({path})")
    else:
        if on_build is not None and why is not None:
            on_build(why)
        build(con, with_org_folders(lake, settings), keep_intermediate=False)
    return con


def step_names() -> Sequence[str]:
    """The build steps, in order (for tests and the benchmark)."""
    return STEPS
