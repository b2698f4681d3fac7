"""`pipeline.catalog`: an ingest run's listing against the manifest, in DuckDB, not in memory."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline import catalog, manifest
from pipeline.errors import LakeError
from pipeline.layout import SourceObject, delivered_before

ACCT = "123456789012"


def _obj(uri: str, *, size: int = 10, version: str = "v1", kind: str = "events") -> SourceObject:
    return SourceObject(uri, size, version, kind, ACCT, None, uri.endswith(".gz"))


def _entry(uri: str, *, size: int = 10, version: str = "v1") -> manifest.ManifestEntry:
    return manifest.ManifestEntry(
        uri=uri, size=size, version=version, kind="events", run="r1", records=1
    )


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def test_committed_versions_are_unchanged_and_new_versions_are_read(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    manifest.commit(tmp_path, "b00000", [_entry("/t/a.json.gz"), _entry("/t/b.json.gz")])
    manifest.commit(tmp_path, "b00001", [_entry("/t/c.json.gz", size=11)])
    listing = [
        _obj("/t/d.json.gz"),
        _obj("/t/a.json.gz"),  # committed as is
        _obj("/t/b.json.gz", version="v2"),  # rewritten since: a new mtime or ETag
        _obj("/t/c.json.gz", size=12),  # grew since
        _obj("/t/x_CloudTrail-Digest_1.json.gz", kind="digest"),
        _obj("/t/y_CloudTrail-Insight_1.json.gz", kind="insight"),
        _obj("/t/README.txt", kind="other"),
    ]

    counts = catalog.build(con, listing, tmp_path)

    assert counts == catalog.Counts(seen=7, unchanged=1, todo=3, digest=1, insight=1, other=1)
    assert [o.uri for o in catalog.todo(con)] == ["/t/b.json.gz", "/t/c.json.gz", "/t/d.json.gz"]
    assert next(catalog.todo(con)) == _obj("/t/b.json.gz", version="v2")


def test_an_object_listed_by_two_sources_counts_once_as_the_first_listed_it(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    named = _obj("/t/export.log")  # named on the command line: read whatever its suffix
    walked = _obj("/t/export.log", kind="other")  # the same file found in its folder's walk
    counts = catalog.build(con, [named, walked, _obj("/t/a.json")], tmp_path)
    assert (counts.seen, counts.todo, counts.other) == (2, 2, 0)
    assert list(catalog.todo(con)) == [_obj("/t/a.json"), named]


def test_skipped_objects_are_committed_and_unchanged_on_the_next_run(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    listing = [_obj("/t/a.json.gz"), _obj("/t/d_CloudTrail-Digest_1.json.gz", kind="digest")]
    catalog.build(con, listing, tmp_path)
    catalog.write_skipped(con, tmp_path, "run1-skipped", "run1")

    [path] = manifest.files(tmp_path)
    assert path == manifest.entry_path(tmp_path, "run1-skipped")
    assert manifest.is_committed(tmp_path, "run1-skipped")
    assert not list(path.parent.glob(".*"))  # no temp file left beside it
    again = catalog.build(con, listing, tmp_path)
    assert (again.unchanged, again.digest, again.todo) == (1, 0, 1)


def test_a_lake_without_manifest_reads_everything(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    counts = catalog.build(con, [_obj("/t/a.json")], tmp_path)
    assert (counts.seen, counts.unchanged, counts.todo) == (1, 0, 1)
    assert catalog.build(con, [], tmp_path) == catalog.Counts(0, 0, 0, 0, 0, 0)


def test_an_unreadable_manifest_is_a_lake_error_naming_its_folder(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    manifest.commit(tmp_path, "b00000", [_entry("/t/a.json")])
    manifest.entry_path(tmp_path, "b00001").write_text('[{"uri": "/t/b.js')
    with pytest.raises(LakeError, match="manifest cannot be read") as err:
        catalog.build(con, [_obj("/t/a.json")], tmp_path)
    assert str(tmp_path / "manifest") in str(err.value)


def _listing(n: int) -> Iterator[SourceObject]:
    for i in range(n):
        yield _obj(f"/archive/AWSLogs/{ACCT}/CloudTrail/us-east-1/f{i:08d}.json.gz")


def _python_peak(con: duckdb.DuckDBPyConnection, root: Path, n: int) -> int:
    tracemalloc.start()
    try:
        counts = catalog.build(con, _listing(n), root)
        todo = sum(1 for _ in catalog.todo(con))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counts.todo == todo == n
    return peak


def test_python_memory_does_not_grow_with_the_number_of_files(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The listing passes through in chunks: ten times the files, the same Python memory.
    # (Held as objects, it grows tenfold: about 0.5 KB a file.)
    monkeypatch.setattr(catalog, "CHUNK", 1_000)
    _python_peak(con, tmp_path, 10)  # first-use allocations (imports, caches) out of the way
    small = _python_peak(con, tmp_path, 3_000)
    large = _python_peak(con, tmp_path, 30_000)
    assert large < 1.5 * small, (small, large)


def _duckdb_bytes(con: duckdb.DuckDBPyConnection) -> int:
    [(used,)] = con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()
    return int(used)


def test_reading_the_todo_keeps_no_query_open_while_batches_run(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each batch replaces tables on the same connection. A todo query left open across them
    # holds its transaction, and DuckDB keeps every replaced table: memory grows by batch.
    monkeypatch.setattr(catalog, "CHUNK", 2)
    catalog.build(con, [_obj(f"/t/{i:02d}.json") for i in range(12)], tmp_path)
    used = []
    for _ in catalog.todo(con):
        con.execute(
            "CREATE OR REPLACE TABLE fresh AS SELECT range AS x, repeat('x', 64) AS y "
            "FROM range(100000)"
        )
        used.append(_duckdb_bytes(con))
    assert len(used) == 12
    assert max(used) < 2 * used[0], used


def _day_uri(day: str, name: str = "f.json.gz", region: str = "us-east-1") -> str:
    return f"s3://bucket/AWSLogs/o-exampleorgid/{ACCT}/CloudTrail/{region}/{day}/{name}"


def test_folded_entries_stay_committed_and_since_reads_only_the_days_it_lists(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    old, recent = _day_uri("2026/11/01"), _day_uri("2026/11/04")
    beside = f"s3://bucket/AWSLogs/o-exampleorgid/{ACCT}/CloudTrail/us-east-1/2026/resent.json"
    export = "/exports/lake-export.ndjson"
    manifest.commit(tmp_path, "b00000", [_entry(old), _entry(recent)])
    manifest.commit(tmp_path, "b00001", [_entry(beside), _entry(export)])

    assert catalog.compact(con, tmp_path, "run1") == 2
    assert manifest.files(tmp_path) == []
    assert manifest.parts(tmp_path) == [manifest.part_path(tmp_path, "run1")]
    assert not list((tmp_path / manifest.MANIFEST_DIR).glob(".*"))  # no temp file left

    # every entry, with every field, is in the part, ordered by the day of its folder
    part = con.execute(
        "select uri, day, kind, run, records, status from read_parquet($p)",
        {"p": str(manifest.part_path(tmp_path, "run1"))},
    ).fetchall()
    assert [(u, str(d) if d else None) for u, d, *_ in part] == [
        (old, "2026-11-01"),
        (recent, "2026-11-04"),
        (export, None),
        (beside, None),
    ]
    assert {tuple(r[2:]) for r in part} == {("events", "r1", 1, "ingested")}
    # a run compares its listing with folded entries as with batch files
    listing = [_obj(u) for u in (old, recent, beside, export)]
    assert catalog.build(con, listing, tmp_path).unchanged == 4

    def committed(since: dt.date | None) -> set[str]:
        catalog.load_committed(con, tmp_path, since)
        return {u for (u,) in con.execute("select uri from committed").fetchall()}

    assert committed(None) == {old, recent, beside, export}
    # --since 2026-11-02 lists no file of the 11/01 folder: its entries are not read
    assert committed(dt.date(2026, 11, 2)) == {recent, beside, export}
    assert catalog.build(con, listing[1:], tmp_path, dt.date(2026, 11, 2)).unchanged == 3


@pytest.mark.parametrize(
    "uri",
    [
        _day_uri("2026/11/01"),
        _day_uri("2026/11/01", region="us-gov-west-1"),
        _day_uri("2026/11/01", region="ap-southeast-2"),
        _day_uri("2026/11/01").replace("/CloudTrail/", "/CloudTrail-Digest/"),
        _day_uri("2026/11/01").replace("/CloudTrail/", "/CloudTrail-Insight/"),
        _day_uri("2026/11/01").replace("/CloudTrail/", "/CloudTrailX/"),
        _day_uri("2026/11/01").replace("/CloudTrail/", "/MyCloudTrail/"),
        _day_uri("2026/11/01/late"),
        _day_uri("2026/11"),
        _day_uri("2026"),
        _day_uri("2026/13/01"),
        _day_uri("0000/01/01"),
        _day_uri("2026/02/30"),
        _day_uri("2026/1/01"),
        "/data/AWSLogs/123456789012/CloudTrail/eu-west-1/2025/12/31/x.json.gz",
        "/data/CloudTrail/eu-west-1/2025/12/31/x.json.gz",
        "/data/eu-west-1/2025/12/31/x.json.gz",
    ],
)
def test_a_folded_entry_is_left_out_only_where_since_lists_nothing(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, uri: str
) -> None:
    # the part's day decides which entries a run with --since reads: an entry may be left out
    # only when the listing, whatever the since, leaves out its folder (layout.delivered_before)
    manifest.commit(tmp_path, "b00000", [_entry(uri)])
    catalog.compact(con, tmp_path, "run1")
    folder = uri.rpartition("/")[0].removeprefix("s3://bucket/")
    for since in (dt.date(2025, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 11, 2)):
        catalog.load_committed(con, tmp_path, since)
        kept = con.execute("select count(*) from committed").fetchall()[0][0] == 1
        assert kept or delivered_before(folder, since), (uri, since)
