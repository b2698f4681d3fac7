"""Atomic commits into the lake: staging, a journal, moves, then the manifest.

A batch is written under `LAKE/_state/staging/<batch>/`, then a journal listing the final
paths is written, the files are moved into `events/` and `quarantine/` (each move is an atomic
rename on one file system), the batch's manifest file is written, and the journal is removed.
If a run dies anywhere in between, `recover()` at the start of the next run removes the moved
files of every uncommitted batch, so the lake returns to its last committed state and the rerun
ingests those sources again. Readers only ever see whole Parquet files: staging lives under a
`_`-prefixed folder that DuckDB's glob, Spark and Athena all skip. sts-audit's own readers also
leave out the files of a journal whose batch is not committed (`lake.uncommitted_files`), so
between a killed run and the next one they read the last committed state; an engine that
globs the folders itself (Spark, Athena) sees such a batch's moved files until that next run.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

from pipeline import manifest
from pipeline.errors import LakeError
from pipeline.lake import (
    EVENTS_DIR,
    JOURNAL_DIR,
    QUARANTINE_DIR,
    SPILL_DIR,
    STATE_DIR,
    journal_moves,
    sweep_spill,
)

STAGING_DIR = "staging"
SALT_FILE = "token_salt"
LOCK_FILE = "lock"
ANALYZE_LOCK_FILE = "analyze.lock"


def state_dir(lake: Path) -> Path:
    """`LAKE/_state`: manifest, journal, staging, salt."""
    return lake / STATE_DIR


def init_lake(lake: Path) -> None:
    """Create the lake's folders if needed."""
    for sub in (EVENTS_DIR, QUARANTINE_DIR, f"{STATE_DIR}/{JOURNAL_DIR}"):
        (lake / sub).mkdir(parents=True, exist_ok=True)


@contextmanager
def lock(lake: Path, name: str = LOCK_FILE, holder: str = "ingest") -> Iterator[None]:
    """Hold one of the lake's writer locks (`name`): one ingest at a time, or recover() of one
    run would undo the batch another is committing (and two runs would store the same new
    records twice); one analyze at a time, or two would write the same tables' files. The OS
    releases it when the process dies, so a killed run never leaves it held."""
    path = state_dir(lake) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LakeError(
                f"another {holder} is writing to lake {lake}",
                fix="wait for it to finish, then run this one again",
            ) from None
        yield
    finally:
        os.close(fd)


def is_locked(lake: Path, name: str = LOCK_FILE) -> bool:
    """Whether a process holds the writer lock `name` of `lake` now (an ingest running)."""
    path = state_dir(lake) / name
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock taken here
    return False


def token_salt(lake: Path) -> str:
    """The lake's secret salt for session-token hashes, created on first use."""
    path = state_dir(lake) / SALT_FILE
    if not path.is_file():
        manifest.write_atomic(path, secrets.token_hex(32).encode())
        path.chmod(0o600)
    return path.read_text().strip()


def staging_dir(lake: Path, batch: str) -> Path:
    """A fresh staging folder for one batch."""
    path = state_dir(lake) / STAGING_DIR / batch
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _planned_moves(lake: Path, staged: Path) -> list[tuple[Path, Path]]:
    moves = []
    for src in sorted(staged.rglob("*.parquet")):
        rel = src.relative_to(staged)
        moves.append((src, lake / rel))
    return moves


def commit_batch(
    lake: Path, batch: str, staged: Path, entries: list[manifest.ManifestEntry]
) -> list[Path]:
    """Move a staged batch into the lake and record it in the manifest, atomically."""
    moves = _planned_moves(lake, staged)
    journal = state_dir(lake) / JOURNAL_DIR / f"{batch}.json"
    # paths relative to the lake: readers compare them whatever spelling of the lake they use
    relative = [dst.relative_to(lake).as_posix() for _, dst in moves]
    manifest.write_atomic(journal, orjson.dumps({"relative": relative}))
    for src, dst in moves:
        dst.parent.mkdir(parents=True, exist_ok=True)
        _move(src, dst)
    manifest.commit(state_dir(lake), batch, entries)
    journal.unlink()
    shutil.rmtree(staged, ignore_errors=True)
    return [dst for _, dst in moves]


def _move(src: Path, dst: Path) -> None:
    """Rename a staged file into place. Across file systems (`events/` or `quarantine/` a link
    to another disk) a rename fails with EXDEV: the file is copied to a hidden name beside its
    place (`_crossing`), then renamed, so readers still only ever see whole files."""
    try:
        src.replace(dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        tmp = _crossing(dst)
        shutil.copyfile(src, tmp)
        tmp.replace(dst)
        src.unlink()


def _crossing(dst: Path) -> Path:
    """The hidden name a data file is copied to before its rename into `dst` (see `_move`)."""
    return dst.with_name(f".{dst.name}.tmp")


def recover(lake: Path) -> int:
    """Undo every batch a killed run left uncommitted; returns how many were rolled back."""
    journals = state_dir(lake) / JOURNAL_DIR
    rolled_back = 0
    if journals.is_dir():
        for journal in sorted(journals.glob("*.json")):
            batch = journal.stem
            if not manifest.is_committed(state_dir(lake), batch):
                for name in journal_moves(journal):
                    (lake / name).unlink(missing_ok=True)
                    _crossing(lake / name).unlink(missing_ok=True)
                rolled_back += 1
            journal.unlink()
    # half-written state files of a killed run (publish: a hidden name beside the file)
    for folder in (journals, state_dir(lake) / manifest.MANIFEST_DIR, state_dir(lake)):
        for tmp in folder.glob(".*.tmp") if folder.is_dir() else ():
            tmp.unlink(missing_ok=True)
    # a killed run's scratch space: staged batches, S3 downloads; DuckDB spill files of
    # processes that are gone (an analyze or a query may be spilling now)
    for scratch in (STAGING_DIR, "downloads"):
        shutil.rmtree(state_dir(lake) / scratch, ignore_errors=True)
    sweep_spill(lake)
    # copies of source files (S3 downloads, slices of a large export, mended and gunzipped
    # copies) and DuckDB's spill files hold session tokens in clear while a run reads them, as
    # the sources do: only the lake's owner may read them
    for scratch in ("downloads", SPILL_DIR):
        (state_dir(lake) / scratch).mkdir(mode=0o700, parents=True, exist_ok=True)
    return rolled_back
