"""Firehose objects of CloudWatch Logs subscription payloads, rewritten one payload a line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import records

from pipeline import firehose
from pipeline.ingest import ingest

NAME = "trail-1-2026-11-01-10-00-00-a188030a-62d2-49e6-b7c2-b11f1a7ba250"


def _payload(recs: list[dict[str, Any]], *, indent: int | None = None) -> bytes:
    doc = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "aws-cloudtrail-logs",
        "logStream": "123456789012_CloudTrail_us-east-1",
        "subscriptionFilters": ["to-firehose"],
        "logEvents": [
            {"id": str(i), "timestamp": 1793527200000, "message": json.dumps(r)}
            for i, r in enumerate(recs)
        ],
    }
    return json.dumps(doc, indent=indent).encode()


def test_each_gzip_member_becomes_one_line(tmp_path: Path) -> None:
    payloads = [_payload(records(2)), _payload(records(1)), _payload(records(3))]
    src = tmp_path / NAME
    src.write_bytes(b"".join(gzip.compress(p) for p in payloads))
    out = tmp_path / "out.ndjson"
    assert firehose.as_lines(src, out) == out
    assert out.read_bytes() == b"".join(p + b"\n" for p in payloads)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_payload(records(1)), id="not gzip"),
        pytest.param(gzip.compress(_payload(records(2), indent=2)), id="a payload on many lines"),
        pytest.param(gzip.compress(_payload(records(2)))[:-12], id="cut short in a member"),
        pytest.param(gzip.compress(_payload(records(1))) + b"\0" * 64, id="zero padding"),
        pytest.param(gzip.compress(_payload(records(1))) + b"{}", id="text after a member"),
    ],
)
def test_anything_else_is_left_as_it_is(tmp_path: Path, body: bytes) -> None:
    src = tmp_path / NAME
    src.write_bytes(body)
    out = tmp_path / "out.ndjson"
    assert firehose.as_lines(src, out) is None
    assert not out.exists()


def _cut_lines(path: Path) -> tuple[list[bytes], bool]:
    """The lines a reader gets from `path`, and whether it ends early."""
    got: list[bytes] = []
    try:
        with gzip.open(path) as handle:
            got.extend(handle)
    except EOFError:
        return got, True
    return got, False


@pytest.mark.parametrize("cut_at", [-1, -12, -200])
def test_an_object_cut_short_keeps_the_payloads_before_the_cut(tmp_path: Path, cut_at: int) -> None:
    # the last member cut (an upload listed half done): the whole object was quarantined, its
    # two intact payloads with it
    payloads = [_payload(records(2)), _payload(records(1)), _payload(records(3))]
    src = tmp_path / NAME
    src.write_bytes(_members(payloads)[:cut_at])
    out = tmp_path / "out.ndjson"
    written = firehose.as_lines(src, out)
    assert written == tmp_path / "out.ndjson.gz" and not out.exists()
    assert _cut_lines(written) == ([p + b"\n" for p in payloads[:2]], True)


def test_a_firehose_object_larger_than_a_batch_is_read_in_slices_of_payloads(
    tmp_path: Path,
) -> None:
    # read whole, an object of many payloads held them all at once: a 157 MB one ran the
    # ingest out of memory; one payload a line, it is cut into slices like an NDJSON export
    recs = records(60)
    chunks = [recs[i : i + 6] for i in range(0, 60, 6)]
    src = tmp_path / "src" / NAME
    src.parent.mkdir()
    src.write_bytes(b"".join(gzip.compress(_payload(c)) for c in chunks))
    lake = tmp_path / "lake"

    summary = ingest([str(tmp_path / "src")], lake, batch_bytes=16 * 1024)

    assert summary.reconciles and (summary.records_read, summary.records_stored) == (60, 60)
    assert summary.batches > 1  # slices, each a batch of its own
    import duckdb

    got = duckdb.sql(
        "select event_id, source_line, source_position from read_parquet($files)",
        params={"files": [str(p) for p in (lake / "events").rglob("*.parquet")]},
    ).fetchall()
    expected = {
        (r["eventID"], line, position)
        for line, chunk in enumerate(chunks)
        for position, r in enumerate(chunk)
    }
    assert set(got) == expected


def test_a_gzip_header_split_across_two_reads_is_still_a_member(tmp_path: Path) -> None:
    # a member ending one byte before a read's end left b"\x1f" pending: the object was read
    # whole (a large one ran DuckDB out of memory)
    payload = _payload(records(2))
    second = gzip.compress(payload)
    padding = b"x" * 10_000
    first = gzip.compress(padding, compresslevel=0)
    while len(first) < firehose._CHUNK - 1:  # noqa: SLF001
        padding += b"x" * min(10_000, firehose._CHUNK - 1 - len(first))  # noqa: SLF001
        first = gzip.compress(padding, compresslevel=0)
    assert len(first) == firehose._CHUNK - 1  # noqa: SLF001
    src = tmp_path / NAME
    src.write_bytes(first + second)
    out = tmp_path / "out.ndjson"
    assert firehose.as_lines(src, out) == out
    assert out.read_bytes() == padding + b"\n" + payload + b"\n"


@pytest.mark.parametrize("suffix", [".gz", ".json.gz"])
def test_a_firehose_object_with_a_file_extension_is_read_in_slices_too(
    tmp_path: Path, suffix: str
) -> None:
    # Firehose appends the stream's extension; such objects were sized by the last member's
    # gzip trailer and read whole
    recs = records(30)
    src = tmp_path / "src" / (NAME + suffix)
    src.parent.mkdir()
    src.write_bytes(b"".join(gzip.compress(_payload(recs[i : i + 5])) for i in range(0, 30, 5)))
    summary = ingest([str(tmp_path / "src")], tmp_path / "lake", batch_bytes=8 * 1024)
    assert summary.reconciles and summary.records_stored == 30
    assert summary.batches > 1


def _members(payloads: list[bytes]) -> bytes:
    return b"".join(gzip.compress(p) for p in payloads)


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(gzip.compress, id="one outer member"),
        pytest.param(
            lambda inner: gzip.compress(inner[:100]) + gzip.compress(inner[100:]),
            id="two outer members, cut inside an inner one",
        ),
    ],
)
def test_firehose_gzip_around_the_members_is_taken_off(tmp_path: Path, wrap: Any) -> None:
    # a stream with Firehose's own GZIP compression on compresses the members CloudWatch Logs
    # had compressed: such an object was quarantined whole as not valid JSON
    payloads = [_payload(records(2)), _payload(records(3))]
    src = tmp_path / NAME
    src.write_bytes(wrap(_members(payloads)))
    out = tmp_path / "out.ndjson"
    assert firehose.as_lines(src, out) == out
    assert out.read_bytes() == b"".join(p + b"\n" for p in payloads)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda inner: gzip.compress(inner)[:-20], id="outer cut short"),
        pytest.param(lambda inner: gzip.compress(inner[:-20]), id="inner cut short"),
    ],
)
def test_a_double_gzip_cut_short_keeps_the_payloads_before_the_cut(
    tmp_path: Path, body: Any
) -> None:
    payloads = [_payload(records(2)), _payload(records(1))]
    src = tmp_path / NAME
    src.write_bytes(body(_members(payloads)))
    out = tmp_path / "out.ndjson"
    written = firehose.as_lines(src, out)
    assert written == tmp_path / "out.ndjson.gz"
    assert _cut_lines(written) == ([payloads[0] + b"\n"], True)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda inner: gzip.compress(inner)[:40], id="outer cut in the first"),
        pytest.param(lambda inner: gzip.compress(inner) + b"\0" * 8, id="padding after outer"),
    ],
)
def test_a_damaged_double_gzip_is_left_as_it_is(tmp_path: Path, body: Any) -> None:
    src = tmp_path / NAME
    src.write_bytes(body(_members([_payload(records(2)), _payload(records(1))])))
    out = tmp_path / "out.ndjson"
    assert firehose.as_lines(src, out) is None
    assert not out.exists()


def test_a_firehose_object_cut_short_stores_the_records_before_the_cut(tmp_path: Path) -> None:
    recs = records(7)
    src = tmp_path / "src" / NAME
    src.parent.mkdir()
    src.write_bytes(_members([_payload(recs[:2]), _payload(recs[2:5]), _payload(recs[5:])])[:-30])
    summary = ingest([str(tmp_path / "src")], tmp_path / "lake")
    assert summary.reconciles and (summary.records_read, summary.records_stored) == (5, 5)
    assert summary.files_quarantined == 1 and summary.quarantined_files == [str(src)]


def test_a_double_gzip_firehose_object_ingests_every_record(tmp_path: Path) -> None:
    recs = records(7)
    src = tmp_path / "src" / (NAME + ".gz")
    src.parent.mkdir()
    src.write_bytes(gzip.compress(_members([_payload(recs[:4]), _payload(recs[4:])])))
    summary = ingest([str(tmp_path / "src")], tmp_path / "lake")
    assert summary.reconciles and (summary.records_read, summary.records_stored) == (7, 7)
    assert (summary.files_quarantined, summary.records_rejected) == (0, 0)


def test_explain_tells_apart_records_of_one_event_id_in_two_payloads(tmp_path: Path) -> None:
    # a Firehose object numbers each record by its index in its payload: two payloads' first
    # records showed the same `source` (name #0), in no fixed order
    from pipeline import analysis, reads

    first = records(1, eventName="AssumeRole")[0]
    second = {**first, "userAgent": "aws-cli/2.15.0 other"}  # one eventID, other content
    src = tmp_path / "src" / NAME
    src.parent.mkdir()
    src.write_bytes(_members([_payload([first]), _payload([second])]))
    lake = tmp_path / "lake"
    summary = ingest([str(tmp_path / "src")], lake)
    assert (summary.records_stored, summary.conflicts) == (2, 1)

    con = analysis.open_analysis(lake, analysis.Settings())
    key = first["responseElements"]["credentials"]["accessKeyId"]
    evidence = reads.explain(con, key, lake=lake).evidence
    rows = evidence.select("source", "source_line", "source_position").rows()
    # the line is named where it is not the position itself (an NDJSON record is its line)
    assert rows == [(f"{NAME} #0", 0, 0), (f"{NAME} line 1 #0", 1, 0)]


def test_a_member_of_deflated_blanks_comes_out_a_bounded_piece_at_a_time() -> None:
    # deflate expands up to 1032:1: a 1 MiB chunk of blanks came out as a gigabyte in one
    # piece, in the plain object and inside Firehose's own gzip alike
    import io

    content = b"{" + b" " * (3 * firehose._OUT + 5) + b"}"
    member = gzip.compress(content)
    pieces: list[int] = []
    assert firehose._copy_members(io.BytesIO(member).read, lambda d: pieces.append(len(d))) == -1
    assert sum(pieces) == len(content) + 1  # and its newline
    assert max(pieces) <= firehose._OUT and len(pieces) > 3

    outer = firehose._Gunzipped(io.BytesIO(gzip.compress(member * 2)).read)
    inner = []
    while piece := outer(firehose._CHUNK):
        inner.append(piece)
    assert b"".join(inner) == member * 2
    assert max(len(p) for p in inner) <= firehose._OUT


def test_a_member_of_blanks_inside_firehose_gzip_is_read_whole(tmp_path: Path) -> None:
    # each piece bounded, nothing lost: the payload still reads as its records
    payload = _payload(records(2)).replace(
        b'"logEvents"', b" " * (2 * firehose._OUT) + b'"logEvents"'
    )
    src = tmp_path / "src" / NAME
    src.parent.mkdir(parents=True)
    src.write_bytes(gzip.compress(gzip.compress(payload)))
    target = tmp_path / "lines.ndjson"
    assert firehose.as_lines(src, target) == target
    assert json.loads(target.read_bytes()) == json.loads(payload)
