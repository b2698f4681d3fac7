"""The ingest manifest: which source objects are already in the lake.

One small JSON file per committed batch under `LAKE/_state/manifest/`, written atomically
(temp file + rename), so a crash never leaves a half-written manifest and reruns skip exactly
what was committed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

MANIFEST_DIR = "manifest"


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

    @property
    def key(self) -> tuple[str, int, str]:
        """Identity of the object: a changed size or ETag/mtime means new content."""
        return (self.uri, self.size, self.version)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers see the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def load(state_dir: Path) -> dict[tuple[str, int, str], ManifestEntry]:
    """Every committed entry, by object identity."""
    entries: dict[tuple[str, int, str], ManifestEntry] = {}
    folder = state_dir / MANIFEST_DIR
    if not folder.is_dir():
        return entries
    for path in sorted(folder.glob("*.json")):
        for item in orjson.loads(path.read_bytes()):
            entry = ManifestEntry(**item)
            entries[entry.key] = entry
    return entries


def commit(state_dir: Path, name: str, entries: Iterable[ManifestEntry]) -> Path:
    """Record a batch's objects as ingested; the batch is committed once this returns."""
    path = state_dir / MANIFEST_DIR / f"{name}.json"
    write_atomic(path, orjson.dumps([asdict(e) for e in entries]))
    return path


def is_committed(state_dir: Path, name: str) -> bool:
    """True when the manifest file of batch `name` exists."""
    return (state_dir / MANIFEST_DIR / f"{name}.json").is_file()
