"""A file written in UTF-16 or UTF-32 (Windows PowerShell 5's `>` writes UTF-16LE with a
byte-order mark) is read as the same records its UTF-8 text holds: DuckDB reads only UTF-8, and
the whole file was quarantined with none of its records counted."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import quarantine_rows, records, write_bytes

from pipeline import lake as lakefs
from pipeline import shapes, staging
from pipeline.ingest import IngestSummary, ingest


def _lookup(recs: list[dict[str, Any]]) -> str:
    events = [{"EventId": r["eventID"], "CloudTrailEvent": json.dumps(r)} for r in recs]
    return json.dumps({"Events": events}, indent=4)


def _ndjson(recs: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in recs)


def _delivery(recs: list[dict[str, Any]]) -> str:
    return json.dumps({"Records": recs})


# codec, whether the text starts with a byte-order mark (Python's "utf-16" writes one)
ENCODINGS = {
    "UTF-16LE with a BOM (PowerShell 5)": "utf-16",
    "UTF-16LE, no BOM": "utf-16-le",
    "UTF-16BE, no BOM": "utf-16-be",
    "UTF-32 with a BOM": "utf-32",
    "UTF-32BE, no BOM": "utf-32-be",
}
SHAPES = {
    "lookup-events": ("lookup.json", _lookup),
    "ndjson": ("export.ndjson", _ndjson),
    "delivery.json.gz": (
        "123456789012_CloudTrail_us-east-1_20261101T1000Z_EXAMPLE.json.gz",
        _delivery,
    ),
}


def _run(lake: Path, src: Path) -> IngestSummary:
    summary = ingest([str(src)], lake)
    assert summary.reconciles, summary
    return summary


def _rows(lake: Path) -> list[tuple[Any, ...]]:
    """The stored rows, the session tokens' salted hashes blanked (each lake has its salt)."""
    con = lakefs.connect(lake)
    try:
        rows = con.execute(
            "select event_id, record_hash, raw, event_time, user_agent, source_line,"
            " source_position from events order by event_id"
        ).fetchall()
    finally:
        con.close()
    return [(r[0], r[1], re.sub(r"sha256:[0-9a-f]{64}", "sha256:", r[2]), *r[3:]) for r in rows]


def _recs() -> list[dict[str, Any]]:
    recs = records(3)
    recs[1]["userAgent"] = "café \u00e9\u4e2d\U0001f600"  # outside ASCII, and outside the BMP
    return recs


def _write(folder: Path, shape: str, text: bytes) -> Path:
    name, _ = SHAPES[shape]
    data = gzip.compress(text, mtime=0) if name.endswith(".gz") else text
    return write_bytes(folder / name, data)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_wide_text_stores_what_its_utf8_text_stores(
    encoding: str, shape: str, tmp_path: Path
) -> None:
    text = SHAPES[shape][1](_recs())
    wide = _write(tmp_path / "wide", shape, text.encode(ENCODINGS[encoding]))
    utf8 = _write(tmp_path / "utf8", shape, text.encode())

    summary = _run(tmp_path / "lake", wide)
    assert (summary.files_read, summary.files_quarantined) == (1, 0)
    assert (summary.records_read, summary.records_stored, summary.records_rejected) == (3, 3, 0)
    assert quarantine_rows(tmp_path / "lake") == []
    _run(tmp_path / "lake-utf8", utf8)
    # the same records, typed alike, at the same lines and positions, with the same hashes
    assert _rows(tmp_path / "lake") == _rows(tmp_path / "lake-utf8")
    stored = _rows(tmp_path / "lake")
    assert {row[4] for row in stored} >= {"café \u00e9\u4e2d\U0001f600"}
    if shape == "ndjson":
        assert [row[5] for row in stored] == [0, 1, 2]  # 0-based, as the UTF-8 file's


def test_the_same_records_in_utf8_and_utf16_are_duplicates(tmp_path: Path) -> None:
    text = _lookup(_recs())
    lake = tmp_path / "lake"
    _run(lake, write_bytes(tmp_path / "a" / "lookup.json", text.encode()))

    again = _run(lake, write_bytes(tmp_path / "b" / "lookup.json", text.encode("utf-16")))

    assert (again.records_read, again.records_stored, again.records_duplicate) == (3, 0, 3)


def test_a_wide_text_is_read_once(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    src = write_bytes(tmp_path / "src" / "lookup.json", _lookup(_recs()).encode("utf-16"))
    _run(lake, src)

    rerun = _run(lake, src)

    assert (rerun.files_read, rerun.files_unchanged, rerun.records_read) == (0, 1, 0)


def test_a_wide_text_that_does_not_decode_stays_quarantined_whole(tmp_path: Path) -> None:
    # an unpaired surrogate in UTF-16LE (a lone 0xD800 unit): no UTF-8 text says the same
    text = _lookup(_recs()).encode("utf-16")
    broken = text.replace('"EventId"'.encode("utf-16-le"), b"\x00\xd8" + b"x\x00", 1)
    assert broken != text
    src = write_bytes(tmp_path / "src" / "lookup.json", broken)

    summary = _run(tmp_path / "lake", src)

    assert (summary.files_quarantined, summary.records_read) == (1, 0)
    [row] = quarantine_rows(tmp_path / "lake")
    assert row["source_uri"] == str(src)
    assert row["reason"].startswith("not UTF-8 text")
    assert "UTF-16" in row["reason"]


@pytest.mark.parametrize(
    ("head", "codec"),
    [
        (b"\xff\xfe{\x00", "utf-16"),
        (b"\xfe\xff\x00{", "utf-16"),
        (b"\xff\xfe\x00\x00{\x00\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"{\x00\n\x00", "utf-16-le"),
        (b"\x00[\x00 ", "utf-16-be"),
        (b"{\x00\x00\x00", "utf-32-le"),
        (b"\x00\x00\x00[", "utf-32-be"),
        (b'{"Re', None),
        (b"\xef\xbb\xbf{", None),  # UTF-8 with a BOM: DuckDB reads it
        (b"{\x00", None),  # too short to tell
        (b"", None),
    ],
)
def test_wide_encoding_reads_the_first_four_bytes(head: bytes, codec: str | None) -> None:
    assert shapes.wide_encoding(head) == codec


@pytest.mark.parametrize("shape", ["lookup-events", "ndjson"])
def test_a_large_wide_text_is_cut_into_slices_like_its_utf8_text(
    shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # read whole, DuckDB refused it and then held its UTF-8 copy whole (1.2 GiB for 440 MB)
    text = SHAPES[shape][1](records(60))
    wide = _write(tmp_path / "wide", shape, text.encode("utf-16"))
    utf8 = _write(tmp_path / "utf8", shape, text.encode())
    slice_bytes = len(text) // 6
    staged_sizes: list[int] = []
    real_stage = staging.stage

    def stage(con: Any, *args: Any, **kwargs: Any) -> None:
        real_stage(con, *args, **kwargs)
        staged_sizes.append(sum(table.num_rows for table in args[4]))

    monkeypatch.setattr(staging, "stage", stage)
    summary = ingest([str(wide)], tmp_path / "lake", batch_bytes=slice_bytes)

    assert summary.reconciles, summary
    assert (summary.files_read, summary.records_stored) == (1, 60)
    assert 0 < max(staged_sizes) < 20  # slices, not the whole file
    ingest([str(utf8)], tmp_path / "lake-utf8", batch_bytes=slice_bytes)
    assert _rows(tmp_path / "lake") == _rows(tmp_path / "lake-utf8")
    # the copy is scratch: gone with the run
    assert not list((tmp_path / "lake").rglob("utf8-*"))
