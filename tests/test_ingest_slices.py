"""A large NDJSON export is ingested a slice at a time, with the same result as whole.

CloudTrail Lake and CloudWatch Logs exports are single NDJSON objects of any size; staged whole,
their memory grew with the file (0.9 GiB at 780 MB, 1.0 GiB at 2.3 GB, bench/LIMITS.md). These
tests use tiny slices so that a few thousand records make many of them.
"""

from __future__ import annotations

import fnmatch
import gzip
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import ACCOUNT, delivery_key, event_keys, quarantine_rows, records

from pipeline import batch as batch_mod
from pipeline import slicing as slicing_mod
from pipeline import staging as staging_mod
from pipeline.ingest import IngestSummary, ingest

SLICE_BYTES = 40_000  # about 35 records of conftest.record()
WHOLE = 1 << 30  # a batch larger than any file here: the object is staged whole


def _export(path: Path, *, gz: bool) -> tuple[Path, int]:
    """An NDJSON export of 1,200 records with blank lines, a record delivered twice far apart
    (two slices), a same-eventID conflict and a line that is JSON but not a record; returns it
    and the 0-based line number of that line."""
    recs = records(1200)
    recs.append(recs[3])  # redelivered: same eventID, same content, far from the first
    conflict = dict(recs[10], sourceIPAddress="198.51.100.7")  # same eventID, other content
    recs.insert(900, conflict)
    lines: list[bytes] = []
    for i, rec in enumerate(recs):
        if i % 97 == 0:
            lines.append(b"")  # blank lines shift values against line numbers
        lines.append(orjson.dumps(rec))
    bad_line = 1000
    lines.insert(bad_line, b'{"eventVersion": "1.08", "eventSource": "sts.amazonaws.com"}')
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path, bad_line


def _counts(s: IngestSummary) -> dict[str, Any]:
    return {
        "files_read": s.files_read,
        "files_quarantined": s.files_quarantined,
        "records_read": s.records_read,
        "records_stored": s.records_stored,
        "records_duplicate": s.records_duplicate,
        "records_rejected": s.records_rejected,
        "conflicts": s.conflicts,
    }


def _quarantine(lake: Path) -> list[tuple[Any, ...]]:
    return sorted(
        (Path(r["source_uri"]).name, r["source_position"], r["reason"])
        for r in quarantine_rows(lake)
    )


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_sliced_export_ingests_exactly_as_when_staged_whole(tmp_path: Path, gz: bool) -> None:
    source, bad_line = _export(tmp_path / ("export.ndjson" + (".gz" if gz else "")), gz=gz)

    _ingest_whole_and_sliced(source, tmp_path)

    assert event_keys(tmp_path / "sliced") == event_keys(tmp_path / "whole")
    # the rejected record names its line in the export, not in a slice
    assert [row[1] for row in _quarantine(tmp_path / "sliced")] == [bad_line]


def _ingest_whole_and_sliced(source: Path, tmp_path: Path) -> None:
    """Ingest `source` whole (lake `whole`) and cut (lake `sliced`): the same counts and
    quarantine, its one duplicate, conflict and rejected record; no scratch left, and the
    object in the manifest (a rerun reads nothing)."""
    whole = ingest([str(source)], tmp_path / "whole", batch_bytes=WHOLE)
    sliced = ingest([str(source)], tmp_path / "sliced", batch_bytes=SLICE_BYTES)

    assert whole.batches == 1 and sliced.batches > 20  # it was cut
    assert sliced.reconciles
    assert _counts(sliced) == _counts(whole)
    assert sliced.records_duplicate == 1 and sliced.conflicts == 1 and sliced.records_rejected == 1
    assert _quarantine(tmp_path / "sliced") == _quarantine(tmp_path / "whole")
    assert not list((tmp_path / "sliced" / "_state").glob("downloads/*/slices-*"))
    again = ingest([str(source)], tmp_path / "sliced", batch_bytes=SLICE_BYTES)
    assert again.files_unchanged == 1 and again.records_read == 0


@pytest.mark.parametrize("batch_bytes", [SLICE_BYTES, WHOLE], ids=["sliced", "whole"])
def test_a_line_that_is_not_json_is_a_rejected_record_at_its_line(
    tmp_path: Path, batch_bytes: int
) -> None:
    # DuckDB cannot read past a broken line: the file (or slice) is read again from a copy
    # with that line set aside, instead of being quarantined whole
    recs = records(1000)
    lines = [orjson.dumps(r) for r in recs]
    # cut inside the session token, as a truncated last line of an AssumeRole often is
    whole = orjson.dumps(records(1)[0])
    broken = whole[: whole.index(b"EXAMPLETOKEN") + 5]
    lines.insert(600, broken)
    lines.insert(300, b"")  # a blank line before it: the position is the line, not the value
    source = tmp_path / "export.ndjson"
    source.write_bytes(b"\n".join(lines) + b"\n")

    summary = ingest([str(source)], tmp_path / "lake", batch_bytes=batch_bytes)

    assert summary.reconciles and summary.files_quarantined == 0 and summary.files_read == 1
    assert (summary.records_read, summary.records_stored, summary.records_rejected) == (
        1001,
        1000,
        1,
    )
    [row] = quarantine_rows(tmp_path / "lake")
    assert (row["source_uri"], row["source_position"]) == (str(source), 601)
    assert row["reason"] == f"not valid JSON: unexpected end of data at byte {len(broken) + 1}"
    # the line as read, but never the token's first characters
    assert row["raw"] == broken.decode()[: broken.index(b'"sessionToken"')] + (
        '"sessionToken":"REDACTED"'
    )
    assert len(event_keys(tmp_path / "lake")) == 1000


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"eventID": "caf\xe9"}', "not valid UTF-8: byte 0xe9 at byte 17 ("),
        (b"\xff\xfe{\x00", "not valid UTF-8: byte 0xff at byte 1 ("),
        # the wording between is orjson's own
        (b'{"eventID": "x",, "y": 1}', "not valid JSON: unexpected character* at byte 17"),
        (b'{"eventID": tru}', "not valid JSON: invalid literal* at byte 13"),
        # bytes, not characters: each \xc3\xa9 is one character of two bytes
        ('{"a": "\xe9\xe9\xe9",,}'.encode(), "not valid JSON: unexpected character* at byte 16"),
    ],
)
def test_the_reason_for_a_broken_line_names_what_and_where(
    tmp_path: Path, line: bytes, reason: str
) -> None:
    source = tmp_path / "export.ndjson"
    source.write_bytes(b"\n".join([*(orjson.dumps(r) for r in records(3)), line]) + b"\n")
    summary = ingest([str(source)], tmp_path / "lake")
    assert (summary.records_stored, summary.records_rejected) == (3, 1)
    [row] = quarantine_rows(tmp_path / "lake")
    assert row["source_position"] == 3  # 0-based, as every position
    assert fnmatch.fnmatchcase(row["reason"], reason + "*"), row["reason"]
    if "UTF-8" in reason:
        assert "re-export the file as UTF-8" in row["reason"]


@pytest.mark.parametrize("broken_at", [0, 1, 3])
def test_the_first_line_may_be_the_broken_one(tmp_path: Path, broken_at: int) -> None:
    lines = [orjson.dumps(r) for r in records(4)]
    lines[broken_at] = b'{"eventID": "x",, }'
    source = tmp_path / "export.ndjson"
    source.write_bytes(b"\n".join(lines) + b"\n")
    summary = ingest([str(source)], tmp_path / "lake")
    assert summary.files_quarantined == 0
    assert (summary.records_stored, summary.records_rejected) == (3, 1)
    [row] = quarantine_rows(tmp_path / "lake")
    assert row["source_position"] == broken_at and row["reason"].startswith("not valid JSON")


def test_an_array_written_a_record_a_line_is_mended_by_its_elements_not_its_lines(
    tmp_path: Path,
) -> None:
    # its lines end in commas, so almost none is JSON alone: not NDJSON, no line to mend. It is
    # one document, whose element that is not UTF-8 is rejected at its index in the array
    # (`slices.mend_document`), the other 19 stored
    recs = records(20)
    bad = next(i for i, r in enumerate(recs) if b"example-session" in orjson.dumps(r))
    body = b"[\n" + b",\n".join(orjson.dumps(r) for r in recs) + b"\n]\n"
    source = tmp_path / "array.json"
    source.write_bytes(body.replace(b"example-session", b"example-\xff-session", 1))

    summary = ingest([str(source)], tmp_path / "lake")

    assert summary.files_quarantined == 0
    assert (summary.records_read, summary.records_stored, summary.records_rejected) == (20, 19, 1)
    [row] = quarantine_rows(tmp_path / "lake")
    assert (row["source_line"], row["source_position"]) == (None, bad)
    assert row["reason"].startswith("not valid UTF-8: byte 0xff")


@pytest.mark.parametrize(
    "layout", [("bad", "good", "bad"), ("good", "bad", "bad"), ("bad", "bad", "good", "bad")]
)
def test_ndjson_with_more_broken_lines_than_records_keeps_its_records(
    tmp_path: Path, layout: tuple[str, ...]
) -> None:
    # more broken lines than records quarantined the whole file, records and all
    recs = iter(records(len(layout)))
    lines = [orjson.dumps(next(recs)) if kind == "good" else b"{oops" for kind in layout]
    source = tmp_path / "export.ndjson"
    source.write_bytes(b"\n".join(lines) + b"\n")

    summary = ingest([str(source)], tmp_path / "lake")

    good = [n for n, kind in enumerate(layout) if kind == "good"]
    assert (summary.files_quarantined, summary.records_stored) == (0, len(good))
    rejected = sorted(r["source_line"] for r in quarantine_rows(tmp_path / "lake"))
    assert rejected == [n for n, kind in enumerate(layout) if kind == "bad"]


def test_a_log_of_another_kind_with_one_json_line_is_quarantined_whole(tmp_path: Path) -> None:
    source = tmp_path / "app.log"
    text = [b"2026-11-01 10:00:0%d INFO started worker %d" % (n % 10, n) for n in range(40)]
    source.write_bytes(b"\n".join([orjson.dumps(records(1)[0]), *text]) + b"\n")

    summary = ingest([str(source)], tmp_path / "lake")

    assert (summary.files_quarantined, summary.records_stored) == (1, 0)


@pytest.mark.parametrize(
    "layout", ["leading commas", "records key on its own line"], ids=["leading", "records"]
)
def test_a_document_written_a_record_a_line_and_cut_short_is_quarantined_whole(
    tmp_path: Path, layout: str
) -> None:
    # `[\n {r1}\n,{r2}...` and `{"Records":[\n{r1},\n{r2}` cut short: their whole records are
    # not NDJSON lines, and were stored or rejected one by one
    recs = [orjson.dumps(r) for r in records(6)]
    if layout == "leading commas":
        body = b"[\n " + b"\n,".join(recs) + b"\n]\n"
    else:
        body = b'{"Records":[\n' + b",\n".join(recs) + b"\n]}\n"
    source = tmp_path / "export.json"
    source.write_bytes(body[:-300])

    summary = ingest([str(source)], tmp_path / "lake")

    assert (summary.files_quarantined, summary.records_read) == (1, 0)


def test_a_broken_document_is_quarantined_whole_not_line_by_line(tmp_path: Path) -> None:
    # a pretty-printed document cut short is not NDJSON: its lines are not records
    source = tmp_path / "cut.json"
    source.write_bytes(orjson.dumps({"Records": records(5)}, option=orjson.OPT_INDENT_2)[:-40])

    summary = ingest([str(source)], tmp_path / "lake")

    assert summary.files_quarantined == 1 and summary.records_read == 0
    [row] = quarantine_rows(tmp_path / "lake")
    assert row["source_position"] is None and row["reason"].startswith("not valid JSON")


@pytest.mark.parametrize("kind", ["ndjson", "document"])
def test_no_staging_holds_more_than_a_slice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    if kind == "ndjson":
        source, _ = _export(tmp_path / "export.ndjson", gz=False)
    else:
        source = _document(tmp_path / "doc.json", "records", gz=False, pretty=True)
    staged_sizes: list[int] = []
    real_stage = staging_mod.stage

    def stage(con: Any, *args: Any, **kwargs: Any) -> None:
        real_stage(con, *args, **kwargs)
        rows = args[4]  # (paths, salt, run_id, known, rows): the Arrow tables typed into
        staged_sizes.append(sum(table.num_rows for table in rows))

    monkeypatch.setattr(staging_mod, "stage", stage)
    summary = ingest([str(source)], tmp_path / "lake", batch_bytes=SLICE_BYTES)

    record_bytes = len(orjson.dumps(records(1)[0]))
    assert sum(staged_sizes) == summary.records_read
    assert max(staged_sizes) <= SLICE_BYTES // record_bytes + 1


@pytest.mark.parametrize("batch_bytes", [SLICE_BYTES, WHOLE], ids=["sliced", "whole"])
def test_a_gzip_that_ends_early_keeps_every_whole_line_before_it(
    tmp_path: Path, batch_bytes: int
) -> None:
    data = b"".join(orjson.dumps(r) + b"\n" for r in records(1000))
    packed = gzip.compress(data, mtime=0)
    source = tmp_path / "export.ndjson.gz"
    source.write_bytes(packed[: len(packed) * 2 // 3])
    readable = zlib.decompressobj(31).decompress(source.read_bytes())
    whole_lines = readable.count(b"\n")

    summary = ingest([str(source)], tmp_path / "lake", batch_bytes=batch_bytes)

    assert summary.reconciles
    assert summary.records_read == summary.records_stored == whole_lines > 500
    assert summary.files_quarantined == 1 and summary.files_read == 0
    [row] = quarantine_rows(tmp_path / "lake")
    assert row["source_uri"] == str(source)
    assert f"truncated or corrupt gzip after line {whole_lines - 1} (0-based)" in row["reason"]
    # recorded as quarantined: the next run does not read it again
    again = ingest([str(source)], tmp_path / "lake", batch_bytes=batch_bytes)
    assert again.files_unchanged == 1 and again.records_read == 0


@pytest.mark.parametrize("stop_at", ["s00004", "done"])
def test_a_run_stopped_between_slices_is_completed_by_the_next_without_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop_at: str
) -> None:
    # stopped before the fifth slice's commit, or before the object's own entry (every slice
    # in, the rejected record's quarantine with them: the rerun must not write it twice)
    source, _ = _export(tmp_path / "export.ndjson", gz=False)
    clean = ingest([str(source)], tmp_path / "clean", batch_bytes=SLICE_BYTES)
    real_commit = batch_mod.commit

    def commit(lake: Path, name: str, *args: Any, **kwargs: Any) -> None:
        if name.endswith(stop_at):
            raise OSError(28, "No space left on device")
        real_commit(lake, name, *args, **kwargs)

    monkeypatch.setattr(batch_mod, "commit", commit)
    lake = tmp_path / "lake"
    with pytest.raises(OSError, match="No space left"):
        ingest([str(source)], lake, batch_bytes=SLICE_BYTES)
    monkeypatch.setattr(batch_mod, "commit", real_commit)
    partial = event_keys(lake)
    assert 0 < len(partial) <= clean.records_stored  # slices are in, the object is not
    assert not quarantine_rows(lake)  # committed with the object's entry

    rerun = ingest([str(source)], lake, batch_bytes=SLICE_BYTES)

    assert rerun.reconciles and rerun.files_read == 1
    assert rerun.records_stored == clean.records_stored - len(partial)
    assert event_keys(lake) == event_keys(tmp_path / "clean")
    assert _quarantine(lake) == _quarantine(tmp_path / "clean")


@pytest.fixture
def cap_at_1_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's JSON buffer capped at 1 MiB (256 MiB in the ingest)."""
    monkeypatch.setattr(staging_mod, "MAX_OBJECT_SIZE", 1 << 20)
    monkeypatch.setattr(staging_mod, "MIN_OBJECT_SIZE", 1 << 16)


@pytest.mark.usefixtures("cap_at_1_mib")
def test_a_value_larger_than_the_buffer_is_quarantined_with_the_way_out(tmp_path: Path) -> None:
    # one JSON value with no record list cannot be sliced: past the buffer's cap it is
    # quarantined, and the reason says how to make it readable
    source = tmp_path / "huge.json"
    # DuckDB reads documents up to its own buffer's size (tens of MB) whatever the option says
    source.write_bytes(orjson.dumps(records(1)[0] | {"pad": "x" * (80 << 20)}))

    summary = ingest([str(source)], tmp_path / "lake")

    assert summary.reconciles and summary.files_quarantined == 1 and summary.records_read == 0
    [row] = quarantine_rows(tmp_path / "lake")
    assert row["reason"].startswith("a JSON value larger than 1 MiB (write it as NDJSON")


@pytest.mark.usefixtures("cap_at_1_mib")
def test_a_document_larger_than_the_buffer_is_read_by_its_record_list(tmp_path: Path) -> None:
    # the same cap, on a document whose Records list opens: read a slice at a time, the
    # record is stored (it was quarantined with the document)
    source = tmp_path / "huge.json"
    # 80 MB of other keys, each value well under the cap
    pad = {f"pad{i}": "x" * 1000 for i in range(80_000)}
    source.write_bytes(orjson.dumps({"Records": records(1)} | pad))

    summary = ingest([str(source)], tmp_path / "lake")

    assert summary.reconciles and summary.files_quarantined == 0
    assert (summary.files_read, summary.records_read, summary.records_stored) == (1, 1, 1)


def _document(path: Path, shape: str, *, gz: bool, pretty: bool) -> Path:
    """One JSON document of 1,200 records as `shape` lists them, with a record delivered twice
    far apart, a same-eventID conflict and an element that is JSON but not a record (at 1000)."""
    recs: list[Any] = list(records(1200))
    recs.append(recs[3])
    recs.insert(900, dict(recs[10], sourceIPAddress="198.51.100.7"))
    recs.insert(1000, {"eventVersion": "1.08", "eventSource": "sts.amazonaws.com"})
    doc: Any
    if shape == "records":
        doc = {"Records": recs}
    elif shape == "array":
        doc = recs
    else:  # the AWS CLI's lookup-events output: its pages in one document
        doc = {
            "NextToken": "a,]}[{",
            "Events": [
                {"EventId": r.get("eventID"), "CloudTrailEvent": orjson.dumps(r).decode()}
                for r in recs
            ],
        }
    data = orjson.dumps(doc, option=orjson.OPT_INDENT_2 if pretty else 0)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def _provenance(lake: Path) -> list[tuple[Any, ...]]:
    return event_keys(
        lake, "event_id", "record_hash", "source_line", "source_position", "event_time", "user_arn"
    )


@pytest.mark.parametrize(
    ("shape", "gz", "pretty"),
    [
        ("records", False, False),
        ("records", True, True),
        ("array", False, True),
        ("lookup_events", False, True),
        ("lookup_events", True, False),
    ],
)
def test_a_large_document_ingests_exactly_as_when_staged_whole(
    tmp_path: Path, shape: str, gz: bool, pretty: bool
) -> None:
    # a document larger than a batch is read a slice of its list at a time: the same rows,
    # positions and quarantine as the document read whole
    source = _document(tmp_path / ("doc.json" + (".gz" if gz else "")), shape, gz=gz, pretty=pretty)

    _ingest_whole_and_sliced(source, tmp_path)

    assert _provenance(tmp_path / "sliced") == _provenance(tmp_path / "whole")
    lines = {row[2] for row in _provenance(tmp_path / "sliced")}
    assert lines == {None}  # one document: no lines, a position in its list
    assert [row[1] for row in _quarantine(tmp_path / "sliced")] == [1000]


def test_a_large_delivery_file_is_read_by_its_list_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CloudTrail's own file, larger than a batch and than DELIVERY_SLICED_FROM (128 MB, here
    # lowered): read a slice of its Records at a time, with the rows the compiled splitter
    # gives it whole
    monkeypatch.setattr(slicing_mod, "DELIVERY_SLICED_FROM", 0)
    source = tmp_path / "src" / delivery_key(ACCOUNT)
    source.parent.mkdir(parents=True)
    _document(source, "records", gz=True, pretty=False)

    _ingest_whole_and_sliced(source, tmp_path)

    assert _provenance(tmp_path / "sliced") == _provenance(tmp_path / "whole")


def test_large_documents_one_after_the_other_are_read_by_their_lists(tmp_path: Path) -> None:
    # a `cat` of delivery files (no line breaks between them: not NDJSON), read whole at
    # 2.2 GiB for 400 MB: each document's list a slice at a time, each record at its index in
    # its own document, as DuckDB reads them
    docs = [
        {"Records": records(500)},
        records(400),
        {"Events": [{"CloudTrailEvent": orjson.dumps(r).decode()} for r in records(300)]},
    ]
    source = tmp_path / "cat.json"
    source.write_bytes(b"".join(orjson.dumps(d) for d in docs))
    whole = ingest([str(source)], tmp_path / "whole", batch_bytes=WHOLE)
    sliced = ingest([str(source)], tmp_path / "sliced", batch_bytes=SLICE_BYTES)

    assert whole.batches == 1 and sliced.batches > 20
    assert _counts(sliced) == _counts(whole)
    assert sliced.records_read == 1200 and sliced.reconciles
    assert _provenance(tmp_path / "sliced") == _provenance(tmp_path / "whole")
    positions = sorted(row[3] for row in _provenance(tmp_path / "whole"))
    assert positions[-1] < 500  # numbered within each document


@pytest.mark.parametrize("cut", ["cut", "gzip cut"])
def test_a_large_document_cut_short_keeps_the_records_before(tmp_path: Path, cut: str) -> None:
    # read whole, DuckDB quarantined all of it; read by its list, the records before the cut
    # are stored and the document is quarantined with where it stopped
    data = orjson.dumps({"Records": records(1200)}, option=orjson.OPT_INDENT_2)
    source = tmp_path / ("doc.json.gz" if cut == "gzip cut" else "doc.json")
    if cut == "cut":
        source.write_bytes(data[:-300])
    else:
        packed = gzip.compress(data, mtime=0)
        source.write_bytes(packed[: len(packed) * 2 // 3])

    summary = ingest([str(source)], tmp_path / "lake", batch_bytes=SLICE_BYTES)

    assert summary.reconciles and summary.batches > 20
    assert summary.files_quarantined == 1 and summary.files_read == 0
    if cut == "cut":
        assert summary.records_read == 1199  # cut inside the last record
    else:
        assert 500 < summary.records_read < 1200
    assert summary.records_stored == summary.records_read
    [row] = quarantine_rows(tmp_path / "lake")
    assert row["source_uri"] == str(source)
    assert row["reason"].startswith(
        "the document ends before it closes (truncated), after record "
        f"{summary.records_read - 1} (0-based)"
    )
    again = ingest([str(source)], tmp_path / "lake", batch_bytes=SLICE_BYTES)
    assert again.files_unchanged == 1 and again.records_read == 0


def _records_text(n: int) -> bytes:
    return b",".join(orjson.dumps(r) for r in records(n))


@pytest.mark.parametrize(
    "body",
    [
        # a document without a record list after one with
        b'{"Records":[' + _records_text(1200) + b"]}" + orjson.dumps(records(1)[0]),
        b'{"Records":[' + _records_text(1200) + b"]} x",
        b'{"Records":[' + _records_text(1200) + b",]}",  # a trailing comma
        b'{"Records":[' + _records_text(1200) + b'],"eventTime":"2026-11-01T10:00:00Z"}',
        b'{"Rec\\u006frds":[' + _records_text(1200) + b"]}",
        b'{"Records":[' + _records_text(1200) + b',{"a":"\\ud800"}]}',
    ],
    ids=[
        "two documents",
        "trailing value",
        "trailing comma",
        "a record",
        "escaped key",
        "surrogate",
    ],
)
def test_a_large_document_the_walk_stops_at_is_read_whole(tmp_path: Path, body: bytes) -> None:
    # anything DuckDB's read of the whole document might judge otherwise than element by
    # element: the document is read whole, as before, with the same result
    source = tmp_path / "doc.json"
    source.write_bytes(body)
    assert not slicing_mod._has_record_list(source)  # noqa: SLF001

    whole = ingest([str(source)], tmp_path / "whole", batch_bytes=WHOLE)
    sliced = ingest([str(source)], tmp_path / "sliced", batch_bytes=SLICE_BYTES)

    assert sliced.batches == whole.batches == 1
    assert _counts(sliced) == _counts(whole)
    assert _provenance(tmp_path / "sliced") == _provenance(tmp_path / "whole")
