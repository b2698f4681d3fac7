"""A document with a record that is not UTF-8: that record is rejected at its position, the
others are stored (DuckDB refuses the whole document for one bad byte, which quarantined every
record of the file with it)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import quarantine_rows, records, write_bytes

from pipeline import lake as lakefs
from pipeline import slices
from pipeline.ingest import IngestSummary, ingest

BAD = b"caf\xe9 \xff"  # Latin-1 text and a byte no UTF-8 has, in the middle record's userAgent
MARKER = "sts-audit-test-not-utf8"


def _bad_middle(data: bytes) -> bytes:
    assert data.count(MARKER.encode()) == 1
    return data.replace(MARKER.encode(), BAD)


def _lookup(recs: list[dict[str, Any]]) -> bytes:
    # the bad bytes inside the CloudTrailEvent string: written as raw bytes there too
    events = [{"EventId": r["eventID"], "CloudTrailEvent": json.dumps(r)} for r in recs]
    return json.dumps({"Events": events, "NextToken": "EXAMPLE"}, indent=2).encode()


DOCUMENTS: dict[str, tuple[str, Callable[[list[dict[str, Any]]], bytes], bool]] = {
    "delivery.json (minified)": (
        "d.json",
        lambda r: json.dumps({"Records": r}, separators=(",", ":")).encode(),
        False,
    ),
    "delivery.json (pretty)": (
        "d.json",
        lambda r: json.dumps({"Records": r}, indent=2).encode(),
        False,
    ),
    "delivery.json.gz": ("d.json.gz", lambda r: json.dumps({"Records": r}).encode(), True),
    "bare array": ("a.json", lambda r: json.dumps(r, indent=1).encode(), False),
    "lookup-events": ("lookup.json", _lookup, False),
}


def _run(lake: Path, src: Path) -> IngestSummary:
    summary = ingest([str(src)], lake)
    assert summary.reconciles, summary
    return summary


def _stored(lake: Path) -> dict[str, dict[str, Any]]:
    con = lakefs.connect(lake)
    try:
        got = con.execute("select event_id, raw, source_position from events").fetchall()
    finally:
        con.close()
    return {eid: orjson.loads(raw) | {"@position": pos} for eid, raw, pos in got}


@pytest.mark.parametrize("shape", DOCUMENTS)
def test_a_record_that_is_not_utf8_is_rejected_and_the_others_stored(
    shape: str, tmp_path: Path
) -> None:
    name, build, gz = DOCUMENTS[shape]
    recs = records(3)
    recs[1]["userAgent"] = MARKER
    data = _bad_middle(build(recs))
    src = write_bytes(tmp_path / "src" / name, gzip.compress(data, mtime=0) if gz else data)
    lake = tmp_path / "lake"

    summary = _run(lake, src)

    assert summary.files_quarantined == 0
    assert (summary.records_read, summary.records_stored, summary.records_rejected) == (3, 2, 1)
    stored = _stored(lake)
    assert sorted(stored) == sorted([recs[0]["eventID"], recs[2]["eventID"]])
    for position in (0, 2):
        # the record as written, at its index in the document's list
        kept = dict(stored[recs[position]["eventID"]])
        assert kept.pop("@position") == position
        # every field as written but the session token, which the lake keeps hashed
        written = recs[position]
        assert {k: kept.get(k) for k in written if k != "responseElements"} == {
            k: v for k, v in written.items() if k != "responseElements"
        }
    [rejected] = quarantine_rows(lake)
    assert rejected["source_uri"] == str(src)
    assert (rejected["source_position"], rejected["source_line"]) == (1, None)
    assert rejected["reason"].startswith("not valid UTF-8: byte 0xe9 at byte ")
    assert "re-export the file as UTF-8" in rejected["reason"]

    again = _run(lake, src)  # the file is in the manifest: nothing is read or rejected again
    assert (again.files_unchanged, again.records_read) == (1, 0)
    assert len(quarantine_rows(lake)) == 1


def test_the_rejected_record_keeps_no_session_token(tmp_path: Path) -> None:
    recs = records(2)
    token = recs[1]["responseElements"]["credentials"]["sessionToken"]
    recs[1]["userAgent"] = MARKER
    src = write_bytes(
        tmp_path / "src" / "d.json", _bad_middle(json.dumps({"Records": recs}).encode())
    )
    lake = tmp_path / "lake"

    summary = _run(lake, src)

    assert (summary.records_stored, summary.records_rejected) == (1, 1)
    text = json.dumps(quarantine_rows(lake), default=str) + json.dumps(_stored(lake))
    assert token not in text


def test_a_byte_that_is_not_utf8_outside_any_record_still_quarantines_the_file(
    tmp_path: Path,
) -> None:
    recs = records(2)
    doc = json.dumps({"Records": recs, "Note": MARKER}).encode()
    src = write_bytes(tmp_path / "src" / "d.json", _bad_middle(doc))
    lake = tmp_path / "lake"

    summary = _run(lake, src)

    assert (summary.files_quarantined, summary.records_read) == (1, 0)
    [whole] = quarantine_rows(lake)
    assert whole["reason"].startswith("not UTF-8 text")
    assert whole["source_position"] is None


def test_mend_document_writes_an_element_a_line_and_declines_what_it_cannot_mend(
    tmp_path: Path,
) -> None:
    target = tmp_path / "mended.ndjson"
    doc = b'{"Other": [1, 2], "Records": [ {"a": "x"},\n {"a": "\xff"} , {"a": "y"} ], "z": 1}'

    lines = slices.mend_document(doc, target)

    assert lines is not None
    assert (lines.numbers, lines.unit) == ([0, 1, 2], "records")
    written = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    assert [w[slices.ELEMENT_SHAPE_KEY] for w in written] == ["records"] * 3
    assert written[0][slices.ELEMENT_KEY] == {"a": "x"}
    assert written[1][slices.UNREADABLE_KEY] == '{"a": "\ufffd"}'
    assert written[1][slices.WHY_KEY].startswith("not valid UTF-8: byte 0xff at byte 8 ")
    assert written[2][slices.ELEMENT_KEY] == {"a": "y"}
    # nothing to mend: every element is UTF-8, none is, or the bad byte is not in an element
    for declined in (
        b'{"Records": [{"a": "x"}]}',
        b'[{"a": "\xff"}]',
        b'{"Records\xff": [{"a": "x"}]}',
        b'{"Records": [{"a": "x"}, {"a": "\xff"}',
        b'{"Records": [{"a": "x"} {"a": "\xff"}]}',
        # documents one after the other (a `cat` of delivery files), one a line or not
        b'{"Records": [{"a": "x"}, {"a": "\xff"}]}{"Records": [{"a": "z"}]}',
        b'{"Records": [{"a": "x"}, {"a": "\xff"}]}\n{"Records": [{"a": "z"}]}\n',
        b'{"Records": [{"a": "x"}, {"a": "\xff"}], "Records": [{"a": "z"}]}',
        # NDJSON records: `slices.mend` sets its lines aside instead
        b'{"a": "x"}\n{"a": "\xff"}\n',
    ):
        assert slices.mend_document(declined, target) is None, declined


def test_an_ndjson_line_that_is_not_utf8_is_still_rejected_at_its_line(tmp_path: Path) -> None:
    recs = records(3)
    recs[1]["userAgent"] = MARKER
    data = _bad_middle(b"".join(orjson.dumps(r) + b"\n" for r in recs))
    src = write_bytes(tmp_path / "src" / "e.ndjson", data)
    lake = tmp_path / "lake"

    summary = _run(lake, src)

    assert (summary.records_stored, summary.records_rejected) == (2, 1)
    [rejected] = quarantine_rows(lake)
    assert (rejected["source_line"], rejected["reason"][:31]) == (
        1,
        "not valid UTF-8: byte 0xe9 at b",
    )


def test_a_concatenation_of_delivery_documents_with_a_bad_byte_is_quarantined_whole(
    tmp_path: Path,
) -> None:
    # mending the first document alone would drop the second without a word
    first, second = records(2), records(2, eventSource="s3.amazonaws.com")
    for i, r in enumerate(second):
        r["eventID"] = f"second-{i}"
    first[1]["userAgent"] = MARKER
    data = _bad_middle(
        json.dumps({"Records": first}).encode() + json.dumps({"Records": second}).encode()
    )
    src = write_bytes(tmp_path / "src" / "cat.json", data)
    lake = tmp_path / "lake"

    summary = _run(lake, src)

    assert (summary.files_quarantined, summary.records_stored) == (1, 0)
