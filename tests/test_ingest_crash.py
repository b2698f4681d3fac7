"""A killed ingest leaves the lake readable, and a rerun completes it exactly.

The child process is killed with SIGKILL (no cleanup, no `finally`) at chosen points of the
commit protocol (before or after the n-th atomic rename: journal, data-file moves, manifest) and
at arbitrary times; after each kill the lake must read whole, and the final lake must equal a
lake built by one clean run.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq
import pytest
from conftest import (
    ACCOUNT,
    OTHER_ACCOUNT,
    delivery_key,
    event_keys,
    quarantine_rows,
    records,
    write_bytes,
    write_delivery_file,
)

from pipeline import lakewriter
from pipeline.errors import LakeError
from pipeline.ingest import ingest

FILES = 4
# One file per batch: every batch commits two data files (two accounts) plus its manifest.
BATCH_BYTES = 1

CHILD = r"""
import os, signal, sys
from pathlib import Path

lake, source, mode, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if mode in ("before", "after", "pause"):
    real_replace = os.replace
    calls = 0

    def replace(src, dst, *args, **kwargs):
        global calls
        calls += 1
        if mode == "before" and calls == n:
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst, *args, **kwargs)
        if mode == "after" and calls == n:
            os.kill(os.getpid(), signal.SIGKILL)
        if mode == "pause" and calls == n:
            # hold the run mid-commit until the test says go on
            print("paused", flush=True)
            sys.stdin.readline()

    os.replace = replace

from pipeline.ingest import ingest

print("started", flush=True)
ingest([source], Path(lake), batch_bytes=int(sys.argv[5]))
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash-src") / "trail"
    for i in range(FILES):
        recs = records(100) + records(30, recipientAccountId=OTHER_ACCOUNT)
        write_delivery_file(root / delivery_key(ACCOUNT, unique=f"EXAMPLE{i:010d}"), recs)
    # a quarantined file and a rejected record take part in the commits too
    write_bytes(root / "zz-not-json.json", b"not json")
    write_delivery_file(root / "zz-bad-time.json.gz", records(1, eventTime="noon"))
    return root


@pytest.fixture(scope="module")
def clean_lake(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("clean") / "lake"
    summary = ingest([str(source)], lake, batch_bytes=BATCH_BYTES)
    assert summary.batches == FILES + 2 and summary.records_stored == FILES * 130
    return lake


def _quarantine_multiset(lake: Path) -> Counter[tuple[Any, ...]]:
    return Counter(
        (q["source_uri"], q["source_position"], q["reason"]) for q in quarantine_rows(lake)
    )


def _assert_readable(lake: Path) -> None:
    """Whole files only, readable by DuckDB, and no record stored twice."""
    for path in list((lake / "events").rglob("*")) + list((lake / "quarantine").rglob("*")):
        if path.is_file():
            assert not path.name.startswith((".", "_")), path
            pq.ParquetFile(path).read()
    keys = event_keys(lake)
    assert len(keys) == len(set(keys)), "a record is stored twice"


def _kill_run(lake: Path, source: Path, mode: str, n: int = 0, delay: float = 0.0) -> str:
    args = [sys.executable, "-c", CHILD, str(lake), str(source), mode, str(n), str(BATCH_BYTES)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if mode == "time":
        assert process.stdout is not None
        process.stdout.readline()  # imported: the run starts now
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=120)
    assert process.returncode in (0, -signal.SIGKILL), err
    return "finished" if process.returncode == 0 else "killed"


def test_kills_at_every_commit_step_leave_a_readable_lake_and_rerun_completes(
    source: Path, clean_lake: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    # os.replace calls of a run: the salt (first run only), then per batch the journal, two
    # data files and the manifest. Each kill resumes the lake the previous kill left:
    # before the first move, between the moves, before the manifest, after the manifest but
    # before the journal is removed, after the next journal, before the next first move.
    points = [("before", 3), ("after", 3), ("before", 4), ("after", 4), ("after", 5), ("before", 6)]
    outcomes = []
    for mode, n in points:
        outcomes.append(_kill_run(lake, source, mode, n))
        _assert_readable(lake)
    for delay in (0.05, 0.5):
        outcomes.append(_kill_run(lake, source, "time", delay=delay))
        _assert_readable(lake)
    assert outcomes[: len(points)] == ["killed"] * len(points)

    final = ingest([str(source)], lake, batch_bytes=BATCH_BYTES)

    assert final.reconciles
    assert event_keys(lake) == event_keys(clean_lake)
    assert _quarantine_multiset(lake) == _quarantine_multiset(clean_lake)
    assert not list((lake / "_state" / "journal").glob("*"))
    assert not (lake / "_state" / "staging").exists() or not any(
        p.is_file() for p in (lake / "_state" / "staging").rglob("*")
    )
    # and the lake is now complete: one more run reads nothing
    again = ingest([str(source)], lake, batch_bytes=BATCH_BYTES)
    assert again.files_unchanged == again.files_seen and again.records_read == 0


def test_failure_between_moves_is_rolled_back_by_recover(
    source: Path, clean_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = tmp_path / "lake"
    real_replace = os.replace
    moved: list[Path] = []

    def replace(src: Any, dst: Any) -> None:
        if "/staging/" in str(src):
            if moved:
                raise OSError(28, "No space left on device")
            moved.append(Path(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="No space left"):
        ingest([str(source)], lake, batch_bytes=BATCH_BYTES)
    monkeypatch.setattr(os, "replace", real_replace)

    [first_move] = moved
    assert first_move.is_file()  # visible in the lake, but its batch never committed
    assert list((lake / "_state" / "journal").glob("*.json"))
    # the failed run gave back the space of what it staged
    assert not (lake / "_state" / "staging").exists()

    assert lakewriter.recover(lake) == 1

    assert not first_move.exists()
    assert not list((lake / "events").rglob("*.parquet"))
    assert not list((lake / "_state" / "journal").glob("*"))
    assert not (lake / "_state" / "staging").exists()
    summary = ingest([str(source)], lake, batch_bytes=BATCH_BYTES)
    assert summary.recovered_batches == 0 and summary.records_stored == FILES * 130
    assert event_keys(lake) == event_keys(clean_lake)
    assert _quarantine_multiset(lake) == _quarantine_multiset(clean_lake)


def test_a_lake_whose_data_folders_are_on_another_disk_commits_and_recovers(
    source: Path, clean_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # events/ linked to a larger disk: every commit's rename from _state/staging failed with
    # "Invalid cross-device link", so no ingest could ever store anything
    import errno

    lake = tmp_path / "lake"
    real_replace = os.replace
    crossed: list[Path] = []
    fail_after: list[int] = []

    def replace(src: Any, dst: Any) -> None:
        if "/staging/" in str(src):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        if Path(src).name.endswith(".parquet.tmp"):
            if fail_after and len(crossed) == fail_after[0]:
                raise OSError(errno.ENOSPC, "No space left on device")
            crossed.append(Path(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    # a failure half-way: one file moved whole, the next one copied but not yet renamed
    fail_after.append(1)
    with pytest.raises(OSError, match="No space left"):
        ingest([str(source)], lake, batch_bytes=BATCH_BYTES)
    hidden = [p for p in (lake / "events").rglob(".*") if p.is_file()]
    hidden += [p for p in (lake / "quarantine").rglob(".*") if p.is_file()]
    assert len(crossed) == 1 and crossed[0].is_file() and len(hidden) == 1
    assert lakewriter.recover(lake) == 1
    assert not [p for p in (lake / "events").rglob("*") if p.is_file()]
    assert not [p for p in (lake / "quarantine").rglob("*") if p.is_file()]

    fail_after.clear()
    summary = ingest([str(source)], lake, batch_bytes=BATCH_BYTES)
    assert summary.reconciles and summary.records_stored == FILES * 130
    assert len(crossed) > 2  # every data file crossed by copy and rename
    _assert_readable(lake)
    assert event_keys(lake) == event_keys(clean_lake)
    assert _quarantine_multiset(lake) == _quarantine_multiset(clean_lake)
    assert not (lake / "_state" / "staging").exists() or not any(
        p.is_file() for p in (lake / "_state" / "staging").rglob("*")
    )


def test_a_rerun_after_a_kill_rolls_back_and_reports_it(
    source: Path, clean_lake: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    # killed after the first data file of the first batch moved into events/ (os.replace
    # calls: salt, the organization folders the listing names, batch 1's journal, data files)
    assert _kill_run(lake, source, "after", 4) == "killed"
    assert len(list((lake / "events").rglob("*.parquet"))) == 1

    summary = ingest([str(source)], lake, batch_bytes=BATCH_BYTES)

    assert summary.recovered_batches == 1
    assert summary.records_stored == FILES * 130
    assert event_keys(lake) == event_keys(clean_lake)


def test_a_second_ingest_while_one_is_committing_is_refused(
    source: Path, clean_lake: Path, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    args = [sys.executable, "-c", CHILD, str(lake), str(source), "pause", "4", str(BATCH_BYTES)]
    child = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline() == "started\n"
    assert child.stdout.readline() == "paused\n"  # one data file moved, batch not committed
    try:
        with pytest.raises(LakeError, match="another ingest"):
            ingest([str(source)], lake, batch_bytes=BATCH_BYTES)
    finally:
        out, err = child.communicate("go\n", timeout=120)
    assert child.returncode == 0, err

    assert event_keys(lake) == event_keys(clean_lake)
    assert _quarantine_multiset(lake) == _quarantine_multiset(clean_lake)


def test_readers_see_the_last_committed_state_until_the_next_run(
    source: Path, tmp_path: Path
) -> None:
    # killed after the second batch's first data file moved into events/: the first batch is
    # committed, the second is not, and every reader (sessions, analyze, notebooks) read that
    # file's records as if they were stored until the next run rolled them back
    from pipeline import analysis
    from pipeline import lake as lakefs

    lake = tmp_path / "lake"
    # os.replace calls: salt, the organization folders the listing names, batch 1 (journal, 2
    # data files, manifest), batch 2 (journal, ...)
    assert _kill_run(lake, source, "after", 8) == "killed"
    on_disk = list((lake / "events").rglob("*.parquet"))
    assert len(on_disk) == 3  # two committed, one moved by the uncommitted batch
    pending = lakefs.uncommitted_files(lake)
    # the journal names both of the batch's files; the kill came after the first move
    assert len(pending) == 2 and sum((lake / p).is_file() for p in pending) == 1

    con = lakefs.connect(lake)
    [(rows,)] = con.execute("select count(*) from events").fetchall()
    assert rows == 130  # batch 1: one delivery file of 100 + 30 records
    day = dt.date(2026, 11, 1)
    assert sorted(lakefs.partition_files(lake, day, day)) == sorted(
        str(p) for p in on_disk if p.relative_to(lake).as_posix() not in pending
    )
    stamp = analysis.lake_state(lake)
    # a rerun rolls the batch back and completes it; the state it read was the committed one
    summary = ingest([str(source)], lake, batch_bytes=BATCH_BYTES)
    assert summary.recovered_batches == 1 and lakefs.uncommitted_files(lake) == frozenset()
    assert analysis.lake_state(lake) != stamp


def test_a_journal_of_an_earlier_version_is_read_and_rolled_back_too(
    source: Path, clean_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # journals listed the moved paths as the run spelled the lake (relative to its working
    # folder, or absolute); readers skipped such journals and read the moved files as stored
    import shutil

    from pipeline import lake as lakefs

    lake = tmp_path / "lake"
    shutil.copytree(clean_lake, lake)
    [(committed,)] = lakefs.connect(lake).execute("select count(*) from events").fetchall()
    data = sorted((lake / "events").rglob("*.parquet"))[0]
    moved = data.with_name("part-20990101T000000-abcdef-b00000-0.parquet")
    shutil.copy(data, moved)
    quarantined = lake / "quarantine" / "ingest_run=20990101T000000-abcdef" / "part-b00000.parquet"
    quarantined.parent.mkdir(parents=True)
    shutil.copy(next((lake / "quarantine").rglob("*.parquet")), quarantined)
    # the old run worked from the lake's parent folder, naming the lake relatively
    monkeypatch.chdir(tmp_path)
    journal = lake / "_state" / "journal" / "20990101T000000-abcdef-b00000.json"
    journal.write_bytes(
        orjson.dumps([str(Path("lake") / p.relative_to(lake)) for p in (moved, quarantined)])
    )
    monkeypatch.chdir(source)  # readers run from anywhere, with the lake's absolute path

    assert lakefs.uncommitted_files(lake) == {
        moved.relative_to(lake).as_posix(),
        quarantined.relative_to(lake).as_posix(),
    }
    [(rows,)] = lakefs.connect(lake).execute("select count(*) from events").fetchall()
    assert rows == committed
    import duckdb

    def quarantined_rows(folder: Path) -> int:
        con = duckdb.connect()
        assert lakefs.attach_quarantine(con, folder)
        return int(con.execute("select count(*) from quarantine").fetchall()[0][0])

    assert quarantined_rows(lake) == quarantined_rows(clean_lake)
    monkeypatch.chdir(tmp_path)  # recovery, as the old run would have done it
    assert lakewriter.recover(Path("lake")) == 1
    assert not moved.exists() and not quarantined.exists()


def test_a_quarantine_of_only_uncommitted_files_is_no_quarantine(tmp_path: Path) -> None:
    from pipeline import lake as lakefs

    lake = tmp_path / "lake"
    part = lake / "quarantine" / "ingest_run=20990101T000000-abcdef" / "part-b00000.parquet"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"PAR1")  # never read: its batch is not committed
    journal = lake / "_state" / "journal" / "20990101T000000-abcdef-b00000.json"
    journal.parent.mkdir(parents=True)
    journal.write_bytes(orjson.dumps({"relative": [part.relative_to(lake).as_posix()]}))
    import duckdb

    assert lakefs.attach_quarantine(duckdb.connect(), lake) is False
