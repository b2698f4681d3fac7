"""The lake on disk: where things live, and a DuckDB connection with the `events` view."""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import fcntl
import os
import secrets
import shlex
import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import orjson

from pipeline import manifest
from pipeline.errors import LakeError
from pipeline.schema import EVENT_COLUMNS, HIVE_TYPES, PARTITION_COLUMNS, QUARANTINE_COLUMNS

if TYPE_CHECKING:
    import duckdb

EVENTS_DIR = "events"
QUARANTINE_DIR = "quarantine"
STATE_DIR = "_state"  # manifest, journal, salt: '_' keeps Spark/Athena from reading it as data
ANALYSIS_DIR = "analysis"
# under STATE_DIR: the AWSLogs/o-ORGID/ACCOUNT/ folders ingest listed (catalog.record_org_folders)
ORG_FOLDERS_FILE = "org_folders.json"


# DuckDB expands these in every path it reads, even the path of a file that exists: `/x[1]/f`
# read `/x1/f` and `q?.json` read `qa.json` too
_GLOB_CHARS: Final = frozenset("[*?{}")


def glob_escape(path: str) -> str:
    """`path` as a DuckDB glob that matches only itself (each glob character as a class).

    A path with a backslash is left as it is: DuckDB reads such a path as the one file it names
    and never expands it (a class after a backslash, `logs\\[[]1]`, matched nothing)."""
    if _GLOB_CHARS.isdisjoint(path) or "\\" in path:
        return path
    return "".join(f"[{c}]" if c in _GLOB_CHARS else c for c in path)


JOURNAL_DIR: Final = "journal"
# under STATE_DIR: DuckDB's spill files, in one folder per process (spill_dir)
SPILL_DIR: Final = "tmp"
_HELD: Final = ".held"
_spills: dict[Path, Path] = {}


def spill_dir(lake: Path) -> Path:
    """This process's folder for DuckDB's spill files, `LAKE/_state/tmp/<pid>-<random>/`.

    Spill files hold records in clear, session tokens too, so the folders are the lake owner's
    alone (0700). Each is held, for the life of its process, by a shared lock on the file
    `<name>.held` beside it, made before the folder: an ingest's recovery sweeps what killed
    runs left (`sweep_spill`) but never the folder of a live analyze or query, whose spill
    files it used to delete mid-query. Removed at exit. OSError when it cannot be made (a
    read-only lake)."""
    folder = _spills.get(lake)
    if folder is not None and folder.is_dir():
        return folder
    root = lake / STATE_DIR / SPILL_DIR
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    while True:
        name = f"{os.getpid()}-{secrets.token_hex(4)}"
        held = root / f"{name}{_HELD}"
        fd = os.open(held, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)
        # a sweep may have taken the file between its creation and this lock, and removed it
        with contextlib.suppress(FileNotFoundError):
            if held.stat().st_ino == os.fstat(fd).st_ino:
                break
        os.close(fd)
    folder = root / name
    folder.mkdir(mode=0o700)
    _spills[lake] = folder
    atexit.register(_drop_spill, folder, held, fd, os.getpid())
    return folder


def _drop_spill(folder: Path, held: Path, fd: int, owner: int) -> None:
    if os.getpid() != owner:
        return  # a forked child's exit: the folder is its parent's
    shutil.rmtree(folder, ignore_errors=True)
    held.unlink(missing_ok=True)
    os.close(fd)


def sweep_spill(lake: Path) -> None:
    """Remove the spill folders of processes that are gone (killed: `spill_dir` removes its
    own at exit), and loose spill files of earlier versions; a live process's folder stays."""
    root = lake / STATE_DIR / SPILL_DIR
    if not root.is_dir():
        return
    for entry in root.iterdir():
        if entry.name.endswith(_HELD):
            with contextlib.suppress(FileNotFoundError):
                fd = os.open(entry, os.O_RDWR)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live process's
                finally:
                    os.close(fd)
                shutil.rmtree(root / entry.name.removesuffix(_HELD), ignore_errors=True)
                entry.unlink(missing_ok=True)
        elif entry.is_dir():
            # its held file is made before it and removed after it: without one, it is dead
            if not (root / f"{entry.name}{_HELD}").exists():
                shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def uncommitted_files(lake: Path) -> frozenset[str]:
    """The data files (paths relative to `lake`) that a commit has moved into `events/` or
    `quarantine/` but not yet recorded: a run killed between its moves and its manifest, until
    the next run's recovery removes them, or a batch committing now. Readers leave them out, so
    they see the last committed state (pipeline.lakewriter writes the journals)."""
    state = lake / STATE_DIR
    journals = state / JOURNAL_DIR
    if not journals.is_dir():
        return frozenset()
    pending: set[str] = set()
    for journal in journals.glob("*.json"):
        if manifest.is_committed(state, journal.stem):
            continue
        try:
            pending.update(journal_moves(journal))
        except (OSError, orjson.JSONDecodeError):
            continue  # removed meanwhile (committed): nothing of it is pending
    return frozenset(pending)


def journal_moves(journal: Path) -> list[str]:
    """The data files a batch's journal names, relative to the lake (a journal of an earlier
    sts-audit lists them as that run spelled them: matched from `events/` or `quarantine/`)."""
    moves = orjson.loads(journal.read_bytes())
    if isinstance(moves, dict):
        return [str(name) for name in moves.get("relative", ())]
    return [rel for rel in map(_lake_relative, moves) if rel is not None]


def _lake_relative(path: str) -> str | None:
    """The part of a data file's path from the lake's `events/` or `quarantine/` on (its last
    such folder: nothing below them is named so), whatever the lake's spelling."""
    parts = Path(path).parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in (EVENTS_DIR, QUARANTINE_DIR):
            return "/".join(parts[i:])
    return None


def committed_files(lake: Path, folder: str, pattern: str) -> list[Path]:
    """The committed data files of `lake/folder` matching `pattern`, sorted."""
    pending = uncommitted_files(lake)
    files = sorted((lake / folder).glob(pattern))
    if not pending:
        return files
    return [f for f in files if f.relative_to(lake).as_posix() not in pending]


def files_source(lake: Path, folder: str, pattern: str) -> str:
    """The SQL list of the committed files that `pattern` matches under `lake/folder`, for a
    DuckDB reader: the glob itself, or the files one literal each when some are not committed
    (`uncommitted_files`) or the folder's path has a backslash (which DuckDB never expands,
    `glob_escape`)."""
    root = lake / folder
    if "\\" not in str(root) and not uncommitted_files(lake):
        return sql_literal(glob_escape(str(root)) + "/" + pattern)
    files = committed_files(lake, folder, pattern)
    return "[" + ", ".join(sql_literal(glob_escape(str(f))) for f in files) + "]"


def has_events(lake: Path) -> bool:
    """True when at least one committed data file exists."""
    if not uncommitted_files(lake):
        return any((lake / EVENTS_DIR).glob("*/*/*.parquet"))
    return bool(committed_files(lake, EVENTS_DIR, "*/*/*.parquet"))


def sql_literal(value: str) -> str:
    """A single-quoted SQL string literal. Only for operator-given paths in DDL, where DuckDB
    cannot bind parameters (CREATE VIEW); never for log data."""
    return "'" + value.replace("'", "''") + "'"


def _empty_events_select() -> str:
    cols = [f"CAST(NULL AS {typ}) AS {name}" for name, typ, _ in EVENT_COLUMNS]
    cols += [f"CAST(NULL AS {typ}) AS {name}" for name, typ, _ in PARTITION_COLUMNS]
    return "SELECT " + ", ".join(cols) + " WHERE false"


def configure(con: duckdb.DuckDBPyConnection, *, memory_limit: str | None = None) -> None:
    """Session settings every sts-audit connection uses (UTC, bounded memory)."""
    import duckdb  # imported when used: the CLI starts without it

    con.execute("SET TimeZone = 'UTC'")
    # DuckDB's own progress bar writes to the terminal: it would corrupt --json output. Inside
    # Jupyter DuckDB refuses to change the setting without ipywidgets; nothing to protect there.
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute("SET enable_progress_bar = false")
    if memory_limit:
        con.execute(f"SET memory_limit = {sql_literal(memory_limit)}")


@contextlib.contextmanager
def memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """Run the block under DuckDB memory limit `limit`, then restore the connection's own."""
    [(previous,)] = con.execute("SELECT current_setting('memory_limit')").fetchall()
    con.execute(f"SET memory_limit = {sql_literal(limit)}")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = {sql_literal(str(previous))}")


def partition_dir(events_root: Path, event_date: dt.date, account: str) -> Path:
    """The Hive folder of one partition under an `events` folder (the writer's and the
    readers' one spelling of the layout)."""
    return events_root / f"event_date={event_date.isoformat()}" / f"recipient_account_id={account}"


def partition_files(
    lake: Path, first: dt.date, last: dt.date, accounts: Iterable[str] | None = None
) -> list[str]:
    """The data files of the partitions dated `first`..`last` of `accounts` (None: of every
    account), found with one listing of the date folders (no data file is opened)."""
    root = lake / EVENTS_DIR
    files: list[str] = []
    wanted = sorted(set(accounts)) if accounts is not None else None
    for day_dir in sorted(root.glob("event_date=*")):
        try:
            day = dt.date.fromisoformat(day_dir.name.partition("=")[2])
        except ValueError:
            continue
        if first <= day <= last:
            if wanted is None:
                files.extend(
                    sorted(str(f) for f in day_dir.glob("recipient_account_id=*/*.parquet"))
                )
                continue
            for account in wanted:
                folder = partition_dir(root, day, account)
                files.extend(sorted(str(f) for f in folder.glob("*.parquet")))
    pending = uncommitted_files(lake)
    if pending:
        return [f for f in files if Path(f).relative_to(lake).as_posix() not in pending]
    return files


def event_count(lake: Path, first: dt.date | None = None) -> int:
    """The events the lake holds (dated `first` or later), from its data files' footers: a
    read that grows with the number of files, for a message, not for every command."""
    files = [glob_escape(f) for f in partition_files(lake, first or dt.date.min, dt.date.max)]
    if not files:
        return 0
    import duckdb  # imported when used: the CLI starts without it

    with duckdb.connect() as con:
        rows = con.execute("select count(*) from read_parquet($files)", {"files": files})
        return int(rows.fetchall()[0][0])


def committed_days(lake: Path) -> list[dt.date]:
    """The event dates of the lake's partitions that hold a committed data file, in order
    (one listing of the date folders; no data file is opened)."""
    root = lake / EVENTS_DIR
    pending = uncommitted_files(lake)
    days = []
    for day_dir in root.glob("event_date=*"):
        try:
            day = dt.date.fromisoformat(day_dir.name.partition("=")[2])
        except ValueError:
            continue
        files = day_dir.glob("recipient_account_id=*/*.parquet")
        if any(f.relative_to(lake).as_posix() not in pending for f in files):
            days.append(day)
    return sorted(days)


def attach_events(
    con: duckdb.DuckDBPyConnection, lake: Path, *, files: Sequence[str] | None = None
) -> None:
    """Create (or replace) the `events` view over the lake's Parquet files, or over only
    `files` (ingest's dedupe reads just the partitions a batch can touch: binding the whole
    lake reads every data file's footer, work and memory that grow with the lake).

    Partition types are pinned: Hive inference would turn account IDs into integers and drop
    leading zeros.
    """
    if files is None:
        source = files_source(lake, EVENTS_DIR, "*/*/*.parquet") if has_events(lake) else None
    else:
        literals = ", ".join(sql_literal(glob_escape(f)) for f in files)
        source = f"[{literals}]" if files else None
    if source is not None:
        hive_types = ", ".join(f"{sql_literal(k)}: {v}" for k, v in HIVE_TYPES.items())
        scan = (
            f"read_parquet({source}, hive_partitioning = true, "
            f"hive_types = {{{hive_types}}}, union_by_name = true)"
        )
        columns = [(name, typ) for name, typ, _ in (*EVENT_COLUMNS, *PARTITION_COLUMNS)]
        _view_of_columns(con, "events", scan, columns)
    else:
        con.execute(f"CREATE OR REPLACE VIEW events AS {_empty_events_select()}")


def attach_quarantine(con: duckdb.DuckDBPyConnection, lake: Path) -> bool:
    """Create the `quarantine` view; False when nothing was ever quarantined."""
    if not committed_files(lake, QUARANTINE_DIR, "*/*.parquet"):
        return False
    glob = files_source(lake, QUARANTINE_DIR, "*/*.parquet")
    scan = (
        f"read_parquet({glob}, hive_partitioning = true, hive_types = {{'ingest_run': VARCHAR}},"
        " union_by_name = true)"
    )
    _view_of_columns(con, "quarantine", scan, QUARANTINE_COLUMNS)
    return True


def _view_of_columns(
    con: duckdb.DuckDBPyConnection, view: str, scan: str, columns: Sequence[tuple[str, str]]
) -> None:
    """Create `view` over `scan` with exactly `columns` (name, type). union_by_name fills a
    column some files lack; one that no file has (files written before it was added, e.g.
    cognito_identity_id or source_line) reads as NULL. A column the scan adds beyond them, from
    a folder above the lake named like a Hive partition (`/data/year=2026/lake`), is left out."""
    con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {scan}")
    present = {str(row[0]).lower() for row in con.execute(f"DESCRIBE {view}").fetchall()}
    listed = [n if n.lower() in present else f"CAST(NULL AS {t}) AS {n}" for n, t in columns]
    con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT {', '.join(listed)} FROM {scan}")


def connect(
    lake: Path, *, require_events: bool = True, attach: bool = True
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the lake's `events` view (unless `attach` is false:
    binding it reads every data file's footer, a cost that grows with the lake, and a caller
    that reads only a few days binds those with `attach_events(files=partition_files(...))`)."""
    if require_events and not has_events(lake):
        quoted = shlex.quote(str(lake))
        from pipeline import lakewriter  # it imports this module

        if lakewriter.is_locked(lake):  # a first ingest that has not committed a batch yet
            raise LakeError(
                f"no events in lake {lake} yet: an ingest is writing its first batches",
                fix="run this again when it has committed one, or when it ends",
            )
        recorded = lake / STATE_DIR / manifest.MANIFEST_DIR
        if (lake / STATE_DIR).is_dir() and not any(recorded.glob("[!.]*")):
            # the first ingest made the lake and committed nothing: stopped, or failed
            raise LakeError(
                f"no events in lake {lake}: its first ingest did not finish (it was stopped, "
                "or it failed with an error that said why)",
                fix=f"run it again: `sts-audit ingest SOURCE --lake {quoted}` completes it",
            )
        if (lake / STATE_DIR).is_dir():  # ingested into, and nothing stored
            raise LakeError(
                f"no events in lake {lake}: its ingest runs stored no CloudTrail record",
                fix=f"see what they rejected with `sts-audit quarantine --lake {quoted}`; "
                "digest and insight files hold no records: ingest the trail's folder or prefix",
            )
        raise LakeError(
            f"no events in lake {lake}",
            fix=f"run `sts-audit ingest SOURCE --lake {quoted}` first, or pass the right --lake",
        )
    import duckdb

    con = duckdb.connect()
    configure(con)
    # spill under the lake, not into the working directory
    with contextlib.suppress(OSError):  # a read-only lake: DuckDB's default spill location
        con.execute(f"SET temp_directory = {sql_literal(str(spill_dir(lake)))}")
    if attach:
        attach_events(con, lake)
    return con
