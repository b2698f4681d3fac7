"""`pipeline.manifest`: committed entries are found by identity, the latest batch's entry wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import manifest


def _entry(uri: str, *, records: int, run: str = "r1", size: int = 10) -> manifest.ManifestEntry:
    return manifest.ManifestEntry(
        uri=uri, size=size, version="v1", kind="events", run=run, records=records
    )


def test_load_finds_committed_keys_and_reads_entries_back(tmp_path: Path) -> None:
    manifest.commit(tmp_path, "b00000", [_entry("/a", records=1), _entry("/b", records=2)])
    manifest.commit(tmp_path, "b00001", [_entry("/a", records=5, run="r2")])
    manifest.commit(tmp_path, "b00002", [_entry("/a", records=7, size=11)])

    done = manifest.load(tmp_path)

    assert len(done) == 3
    assert set(done) == {("/a", 10, "v1"), ("/b", 10, "v1"), ("/a", 11, "v1")}
    assert ("/a", 10, "v1") in done and ("/c", 10, "v1") not in done
    assert done[("/a", 10, "v1")] == _entry("/a", records=5, run="r2")
    assert done[("/b", 10, "v1")].records == 2
    with pytest.raises(KeyError):
        done[("/c", 10, "v1")]


def test_load_of_a_lake_without_manifest_is_empty(tmp_path: Path) -> None:
    done = manifest.load(tmp_path)
    assert len(done) == 0 and ("/a", 1, "v") not in done
    with pytest.raises(KeyError):
        done[("/a", 1, "v")]
