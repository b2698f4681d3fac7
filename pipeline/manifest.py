"""The ingest manifest: which source objects are already in the lake.

One small JSON file per committed batch under `LAKE/_state/manifest/`, written atomically
(temp file + rename), so a crash never leaves a half-written manifest and reruns skip exactly
what was committed.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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


Key = tuple[str, int, str]


class Manifest(Mapping[Key, ManifestEntry]):
    """The committed entries by object identity; an entry is read back only when looked up.

    A rerun over a big archive only asks `key in manifest` for each of its objects, so only the
    keys are held: keeping each entry's parsed dict cost about 1 KiB an entry (145 MiB for
    141,000 files), memory that grew with the lake on every later ingest. Looking an entry up
    reads the manifest files again.
    """

    __slots__ = ("_folder", "_keys")

    def __init__(self, keys: set[Key], folder: Path | None = None) -> None:
        self._keys = keys
        self._folder = folder

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __getitem__(self, key: Key) -> ManifestEntry:
        if key not in self._keys or self._folder is None:
            raise KeyError(key)
        found: dict[str, Any] | None = None
        for path in sorted(self._folder.glob("*.json")):
            for item in orjson.loads(path.read_bytes()):
                if (item["uri"], item["size"], item["version"]) == key:
                    found = item  # a later batch's entry wins
        if found is None:
            raise KeyError(key)
        return ManifestEntry(**found)

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def load(state_dir: Path) -> Manifest:
    """Every committed entry, by object identity (a later batch's entry wins)."""
    keys: set[Key] = set()
    folder = state_dir / MANIFEST_DIR
    if not folder.is_dir():
        return Manifest(keys)
    # Hundreds of thousands of new objects and no cycles among them: the cycle collector
    # would only walk them over and over (it took 40% of the load of a 150k-entry manifest).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for path in sorted(folder.glob("*.json")):
            keys.update(
                (item["uri"], item["size"], item["version"])
                for item in orjson.loads(path.read_bytes())
            )
    finally:
        if gc_was_enabled:
            gc.enable()
    return Manifest(keys, folder)


def commit(state_dir: Path, name: str, entries: Iterable[ManifestEntry]) -> Path:
    """Record a batch's objects as ingested; the batch is committed once this returns."""
    path = state_dir / MANIFEST_DIR / f"{name}.json"
    write_atomic(path, orjson.dumps([asdict(e) for e in entries]))
    return path


def is_committed(state_dir: Path, name: str) -> bool:
    """True when the manifest file of batch `name` exists."""
    return (state_dir / MANIFEST_DIR / f"{name}.json").is_file()
