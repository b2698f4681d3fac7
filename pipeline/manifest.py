"""The ingest manifest: which source objects are already in the lake.

One small JSON file per committed batch under `LAKE/_state/manifest/`, written atomically
(temp file + rename), so a crash never leaves a half-written manifest and reruns skip exactly
what was committed. A run that ends with `COMPACT_AT` such files or more folds them into one
Parquet part (`part-RUN.parquet`, ordered by delivery day), so a nightly run with --since
reads the entries of its recent days only, not a year of files; parts are merged as they
accumulate (`MERGE_PARTS_AT`). An ingest run compares its
sources with these files in DuckDB (`pipeline.catalog`); nothing holds the whole manifest in
memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson

MANIFEST_DIR = "manifest"
PART_PREFIX = "part-"
# A run that ends with this many batch files folds them into one Parquet part: a nightly job
# commits about 130 batch files a night at 5M events, and reading a year of them (49k files,
# 54M entries) would cost minutes a run.
COMPACT_AT = 64
# A fold that leaves this many parts merges the smaller half of them into one: a run without
# --since reads every part, and a nightly job that folds every night would leave one a night.
# Merging the smaller half keeps fewer than this many parts and rewrites a night's entries
# about log2(nights) times, not every night.
MERGE_PARTS_AT = 32


@dataclass(frozen=True)
class ManifestEntry:
    """One ingested source object and what it held."""

    uri: str
    size: int
    version: str
    kind: str
    run: str
    records: int = 0
    rejected: int = 0
    status: str = "ingested"  # ingested | skipped | quarantined


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers see the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
        publish(tmp, path)
    except OSError as exc:
        # a full disk: the half-written copy would hold the very space that is short, run
        # after run; and a failed write names no file, so the error names the one meant
        tmp.unlink(missing_ok=True)
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise


def temp_path(path: Path) -> Path:
    """Where to write `path`'s next content before `publish` (a hidden name beside it)."""
    return path.with_name(f".{path.name}.tmp")


def publish(tmp: Path, path: Path) -> None:
    """Make the fully written file `tmp` durable and atomically put it in place as `path`."""
    with tmp.open("rb+") as handle:
        os.fsync(handle.fileno())
    tmp.replace(path)


def files(state_dir: Path) -> list[Path]:
    """Every committed manifest file (a JSON array of entries each), in commit-name order."""
    folder = state_dir / MANIFEST_DIR
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def parts(state_dir: Path) -> list[Path]:
    """The Parquet parts of the manifest: the entries of many batches' files, folded
    (`pipeline.catalog.compact`)."""
    folder = state_dir / MANIFEST_DIR
    return sorted(folder.glob(f"{PART_PREFIX}*.parquet")) if folder.is_dir() else []


def part_path(state_dir: Path, name: str) -> Path:
    """The Parquet part named `name` (a run id)."""
    return state_dir / MANIFEST_DIR / f"{PART_PREFIX}{name}.parquet"


def entry_path(state_dir: Path, name: str) -> Path:
    """The manifest file of batch `name`; it exists once the batch is committed."""
    return state_dir / MANIFEST_DIR / f"{name}.json"


def commit(state_dir: Path, name: str, entries: Iterable[ManifestEntry]) -> Path:
    """Record a batch's objects as ingested; the batch is committed once this returns."""
    path = entry_path(state_dir, name)
    # orjson writes dataclasses itself, field by field, as asdict would (10x faster)
    write_atomic(path, orjson.dumps(list(entries)))
    return path


def is_committed(state_dir: Path, name: str) -> bool:
    """True when the manifest file of batch `name` exists."""
    return entry_path(state_dir, name).is_file()
