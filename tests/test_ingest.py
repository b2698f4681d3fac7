"""`pipeline.ingest`: every input shape, skipping, partitioning, typed columns, dedupe,
quarantine and idempotence, on small files written by each test."""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from conftest import (
    ACCOUNT,
    DROP,
    OTHER_ACCOUNT,
    delivery_key,
    event_keys,
    lake_files,
    main_in_process,
    quarantine_rows,
    record,
    records,
    write_bytes,
    write_delivery_file,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import badfiles as badfiles_mod
from pipeline import lake as lakefs
from pipeline import lakewriter, local_files, manifest
from pipeline import partitions as partitions_mod
from pipeline import quarantine as quarantine_mod
from pipeline import staging as staging_mod
from pipeline.commands.ingest import render_summary
from pipeline.errors import SourceError, StrictIngestError
from pipeline.ingest import IngestSummary, check_strict, ingest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
REFERENCE = SHARED / "reference" / "sts-examples.json"
REAL = SHARED / "fixtures" / "real"
UTC = dt.UTC


def run(lake: Path, *sources: Path | str, **kwargs: Any) -> IngestSummary:
    summary = ingest([str(s) for s in sources], lake, **kwargs)
    assert summary.reconciles, summary
    return summary


def rows(lake: Path, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    con = lakefs.connect(lake)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def stored_raw(lake: Path) -> dict[str, dict[str, Any]]:
    return {eid: orjson.loads(raw) for eid, raw in rows(lake, "select event_id, raw from events")}


def cli() -> list[str]:
    """The installed console script of the interpreter running the tests."""
    script = Path(sys.executable).with_name("sts-audit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]


# --- input shapes ---------------------------------------------------------------------------


def _delivery(recs: list[dict[str, Any]], *, pretty: bool, gz: bool) -> bytes:
    doc = {"Records": recs}
    data = (
        json.dumps(doc, indent=2) if pretty else json.dumps(doc, separators=(",", ":"))
    ).encode()
    return gzip.compress(data, mtime=0) if gz else data


SHAPES = {
    "delivery.json (pretty)": ("d.json", lambda r: _delivery(r, pretty=True, gz=False)),
    "delivery.json (minified)": ("d.json", lambda r: _delivery(r, pretty=False, gz=False)),
    "delivery.json.gz (pretty)": ("d.json.gz", lambda r: _delivery(r, pretty=True, gz=True)),
    "delivery.json.gz (minified)": ("d.json.gz", lambda r: _delivery(r, pretty=False, gz=True)),
    "bare array": ("a.json", lambda r: json.dumps(r, indent=1).encode()),
    "ndjson": ("e.ndjson", lambda r: "".join(json.dumps(x) + "\n" for x in r).encode()),
    "ndjson.gz": ("e.json.gz", lambda r: gzip.compress(b"\n".join(orjson.dumps(x) for x in r))),
    "lookup-events": (
        "lookup.json",
        lambda r: json.dumps(
            {
                "Events": [
                    {
                        "EventId": x["eventID"],
                        "EventName": x["eventName"],
                        "ReadOnly": "true",
                        "CloudTrailEvent": json.dumps(x),
                    }
                    for x in r
                ],
                "NextToken": "EXAMPLE",
            },
            indent=2,
        ).encode(),
    ),
    # a trail's log group through a subscription filter and Firehose: gzip, named without a
    # suffix, one log event a record, each record a string
    "cloudwatch-logs via firehose": (
        "trail-stream-1-2026-11-01-10-00-00-a188030a-62d2-49e6-b7c2-b11f1a7ba250",
        lambda r: gzip.compress(json.dumps(_cloudwatch_payload(r)).encode()),
    ),
}


def _cloudwatch_payload(recs: list[dict[str, Any]], first_id: int = 0) -> dict[str, Any]:
    """A CloudWatch Logs subscription payload (DATA_MESSAGE) with one log event a record."""
    return {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": "aws-cloudtrail-logs-123456789012",
        "logStream": f"{ACCOUNT}_CloudTrail_us-east-1",
        "subscriptionFilters": ["to-firehose"],
        "logEvents": [
            {"id": str(first_id + i), "timestamp": 1793527200000 + i, "message": json.dumps(r)}
            for i, r in enumerate(recs)
        ],
    }


_CONTROL_MESSAGE = {
    "messageType": "CONTROL_MESSAGE",
    "owner": "CloudwatchLogs",
    "logGroup": "",
    "logStream": "",
    "subscriptionFilters": [],
    "logEvents": [
        {
            "id": "",
            "timestamp": 1793527200000,
            "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose.",
        }
    ],
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_input_shape_stores_each_record_with_its_position(
    lake: Path, tmp_path: Path, shape: str
) -> None:
    name, encode = SHAPES[shape]
    recs = records(3)
    src = write_bytes(tmp_path / "src" / name, encode(recs))

    summary = run(lake, src)

    assert (summary.files_read, summary.records_read, summary.records_stored) == (1, 3, 3)
    got = rows(lake, "select event_id, source_uri, source_position from events order by 3")
    assert got == [(r["eventID"], str(src), i) for i, r in enumerate(recs)]
    for rec in recs:
        stored = stored_raw(lake)[rec["eventID"]]
        token = stored["responseElements"]["credentials"].pop("sessionToken")
        assert token.startswith("sha256:")
        expected = copy.deepcopy(rec)
        del expected["responseElements"]["credentials"]["sessionToken"]
        assert stored == expected


def test_a_firehose_object_of_cloudwatch_logs_payloads_stores_every_log_event(
    lake: Path, tmp_path: Path
) -> None:
    # Firehose writes each subscription payload as its own gzip member, one after the other,
    # under a name without a suffix; CloudWatch Logs adds keep-alive CONTROL_MESSAGEs. The
    # payloads were quarantined whole as "not a CloudTrail record", and a folder walk skipped
    # the objects as "other" files.
    recs = records(5)
    broken = records(1, eventName="AssumeRole")[0]
    broken_token = broken["responseElements"]["credentials"]["sessionToken"]
    second = _cloudwatch_payload(recs[3:], first_id=3)
    second["logEvents"].append(
        {"id": "9", "timestamp": 1793527200009, "message": json.dumps(broken)[:-30]}
    )
    data = b"".join(
        gzip.compress(json.dumps(doc).encode())
        for doc in (_CONTROL_MESSAGE, _cloudwatch_payload(recs[:3]), second)
    )
    name = "trail-stream-1-2026-11-01-10-00-00-a188030a-62d2-49e6-b7c2-b11f1a7ba250"
    src = write_bytes(tmp_path / "src" / "2026" / "11" / "01" / "10" / name, data)

    summary = run(lake, tmp_path / "src")

    assert (summary.files_read, summary.files_skipped_other) == (1, 0)
    assert (summary.records_read, summary.records_stored, summary.records_rejected) == (6, 5, 1)
    assert summary.records_skipped_control == 1
    got = rows(lake, "select event_id, source_uri, source_position from events")
    positions = [0, 1, 2, 0, 1]  # each log event at its index in its payload
    assert sorted(got) == sorted(
        (r["eventID"], str(src), p) for r, p in zip(recs, positions, strict=True)
    )
    for rec in recs:
        stored = stored_raw(lake)[rec["eventID"]]
        assert stored["responseElements"]["credentials"].pop("sessionToken").startswith("sha256:")
        expected = copy.deepcopy(rec)
        del expected["responseElements"]["credentials"]["sessionToken"]
        assert stored == expected
    [rejected] = quarantine_rows(lake)
    assert (rejected["source_position"], rejected["reason"]) == (2, "not valid JSON")
    assert broken_token not in _all_text(lake)
    # the same object again: nothing read twice
    assert run(lake, tmp_path / "src").records_read == 0


def test_log_events_of_other_log_streams_are_skipped_and_counted(
    lake: Path, tmp_path: Path
) -> None:
    # VPC flow logs sent through CloudWatch Logs to the trail's Firehose stream: each of their
    # log events was quarantined as not a CloudTrail record, filling the quarantine and failing
    # --strict. A trail's stream is ACCOUNT_CloudTrail_REGION (o-ORGID_ first for an org
    # trail's); a payload that names no stream is still read
    recs = records(4)
    flow = _cloudwatch_payload([], first_id=0) | {
        "logGroup": "vpc-flow-logs",
        "logStream": "eni-0123456789abcdef0-all",
        "logEvents": [
            {"id": str(i), "timestamp": 1793527200000 + i, "message": message}
            for i, message in enumerate(
                [
                    "2 123456789012 eni-0123456789abcdef0 203.0.113.12 203.0.113.7 443 49152 6 "
                    "10 840 1793527200 1793527260 ACCEPT OK",
                    '{"eventVersion": "1.08", "note": "a JSON log line of another stream"}',
                    "not json at all",
                ]
            )
        ],
    }
    org = _cloudwatch_payload(recs[1:3], first_id=1)
    org["logStream"] = f"o-exampleorgid_{ACCOUNT}_CloudTrail_eu-west-1_2"
    unnamed = _cloudwatch_payload(recs[3:], first_id=3)
    del unnamed["logStream"]
    data = b"".join(
        gzip.compress(json.dumps(doc).encode())
        for doc in (_cloudwatch_payload(recs[:1]), flow, org, unnamed)
    )
    name = "trail-stream-1-2026-11-01-10-00-00-a188030a-62d2-49e6-b7c2-b11f1a7ba250"
    write_bytes(tmp_path / "src" / name, data)

    summary = run(lake, tmp_path / "src")

    assert (summary.records_read, summary.records_stored, summary.records_rejected) == (4, 4, 0)
    assert summary.records_skipped_other_stream == 3
    assert (summary.files_read, summary.files_quarantined, summary.reconciles) == (1, 0, True)
    assert sorted(r[0] for r in rows(lake, "select event_id from events")) == sorted(
        r["eventID"] for r in recs
    )
    assert quarantine_rows(lake) == []
    check_strict(summary)  # nothing quarantined: --strict passes
    assert "other log streams skipped" in render_summary(summary)


def test_what_the_walk_leaves_out_by_name_or_type_is_counted_and_named(tmp_path: Path) -> None:
    # a hidden name, a pipe and a symbolic link to a folder of deliveries were left out without
    # a word: a folder of links to the archives stored nothing and said nothing of why
    lake, src, archive = tmp_path / "lake", tmp_path / "src", tmp_path / "archive"
    write_bytes(src / "trail.json", json.dumps({"Records": records(2)}).encode())
    write_bytes(src / "_SUCCESS", b"")
    write_bytes(archive / "old.json", json.dumps({"Records": records(3)}).encode())
    (src / "archive").symlink_to(archive)
    os.mkfifo(src / "pipe")

    summary = run(lake, src)

    assert (summary.files_seen, summary.records_stored, summary.files_left_out) == (1, 2, 3)
    assert sorted(summary.left_out) == [
        f"{src.resolve()}/_SUCCESS: {local_files.HIDDEN}",
        f"{src.resolve()}/archive: {local_files.FOLDER_LINK}",
        f"{src.resolve()}/pipe: {local_files.NOT_A_FILE}",
    ]
    # the link may hold a whole archive: a warning, which --quiet still prints
    assert summary.warnings == [
        f"{src.resolve()}/archive: {local_files.FOLDER_LINK}; its files were not read"
    ]
    shown = render_summary(summary)
    assert ", 3 left out by name or type" in shown.splitlines()[1]
    assert sum(line.startswith("  left out: ") for line in shown.splitlines()) == 3
    check_strict(summary)  # by design, not a failure
    assert run(lake, src).files_left_out == 3  # said again each run


def test_the_summary_counts_cloudwatch_control_messages_apart(tmp_path: Path) -> None:
    name = "s-2026-11-01-10-00-00-a188030a-62d2-49e6-b7c2-b11f1a7ba250"
    src = write_bytes(tmp_path / name, gzip.compress(json.dumps(_CONTROL_MESSAGE).encode()))
    proc = subprocess.run(
        [*cli(), "ingest", str(src), "--lake", str(tmp_path / "lake"), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["records_read"], summary["records_skipped_control"]) == (0, 1)
    assert summary["reconciles"]


def test_eventbridge_envelopes_store_the_detail_record(lake: Path, tmp_path: Path) -> None:
    recs = records(2)
    envelopes = [
        {
            "version": "0",
            "id": f"6a7e8feb-b491-4cf7-a9f1-bf3703467{i:03d}",
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.sts",
            "account": ACCOUNT,
            "time": r["eventTime"],
            "region": "us-east-1",
            "resources": [],
            "detail": r,
        }
        for i, r in enumerate(recs)
    ]
    one = write_bytes(
        tmp_path / "src" / "one-envelope.json", json.dumps(envelopes[0], indent=2).encode()
    )
    lines = write_bytes(
        tmp_path / "src" / "envelopes.ndjson", (json.dumps(envelopes[1]) + "\n").encode() * 2
    )

    summary = run(lake, one, lines)

    assert (summary.records_read, summary.records_stored, summary.records_duplicate) == (3, 2, 1)
    assert sorted(rows(lake, "select event_id, event_name, user_type from events")) == sorted(
        (r["eventID"], "AssumeRole", "IAMUser") for r in recs
    )
    # the envelope itself is not stored as a record
    assert "detail-type" not in json.dumps(list(stored_raw(lake).values()))


def test_ndjson_quarantined_lines_carry_their_line_number(lake: Path, tmp_path: Path) -> None:
    recs = records(5)
    recs[1]["eventTime"] = "yesterday"
    lines = [json.dumps(r) for r in recs]
    lines[3] = '"just a string"'
    src = write_bytes(tmp_path / "export.ndjson", ("\n".join(lines) + "\n").encode())

    summary = run(lake, src)

    assert (summary.records_read, summary.records_stored, summary.records_rejected) == (5, 3, 2)
    quarantined = {(q["source_uri"], q["source_position"]) for q in quarantine_rows(lake)}
    assert quarantined == {(str(src), 1), (str(src), 3)}
    assert sorted(p for (p,) in rows(lake, "select source_position from events")) == [0, 2, 4]


def test_ndjson_position_is_the_line_number_even_after_blank_lines(
    lake: Path, tmp_path: Path
) -> None:
    recs = records(2)
    recs[1]["eventTime"] = "yesterday"
    src = write_bytes(
        tmp_path / "x.ndjson", f"{json.dumps(recs[0])}\n\n{json.dumps(recs[1])}\n".encode()
    )
    run(lake, src)
    assert [q["source_position"] for q in quarantine_rows(lake)] == [2]


@pytest.mark.parametrize(
    ("first_line", "packing", "blank"),
    [
        (300_000, "plain", True),
        (300_000, "gzip", True),
        # the first line ends where the shape test's first 64 KiB piece does
        (65_535, "plain", False),
        (65_535, "gzip", False),
        # a gzip member a line (`cat` of gzip files, bgzip)
        (300_000, "gzip-members", True),
    ],
)
def test_ndjson_whose_first_record_is_large_is_read_a_line_at_a_time(
    lake: Path, tmp_path: Path, first_line: int, packing: str, blank: bool
) -> None:
    # an event can be 256 KB (1 MB in a CloudTrail Lake event data store): the first line of an
    # export is then longer than any small peek, and the file is still NDJSON
    recs = records(3)
    recs[0]["requestParameters"] = {"policy": ""}
    pad = first_line - len(json.dumps(recs[0]))
    recs[0]["requestParameters"] = {"policy": "x" * pad}
    recs[2]["eventTime"] = "yesterday"
    lines = [f"{json.dumps(r)}\n" for r in recs]
    if blank:
        lines.insert(1, "\n")
    assert len(lines[0]) == first_line + 1
    text = "".join(lines).encode()
    if packing == "gzip":
        text = gzip.compress(text)
    elif packing == "gzip-members":
        text = b"".join(gzip.compress(line.encode()) for line in lines)
    src = write_bytes(
        tmp_path / ("lake-export.ndjson" + (".gz" if "gzip" in packing else "")), text
    )

    summary = run(lake, src)

    assert (summary.records_read, summary.records_stored, summary.records_rejected) == (3, 2, 1)
    last = 3 if blank else 2
    assert [(q["source_line"], q["source_position"]) for q in quarantine_rows(lake)] == [
        (last, last)
    ]
    assert rows(lake, "select source_line, source_position from events order by 2") == [
        (0, 0),
        (last - 1, last - 1),
    ]


def test_gzipped_ndjson_positions_are_line_numbers(lake: Path, tmp_path: Path) -> None:
    recs = records(3)
    recs[2]["eventTime"] = "yesterday"
    text = f"{json.dumps(recs[0])}\n   \n{json.dumps(recs[1])}\n\n{json.dumps(recs[2])}\n"
    src = write_bytes(tmp_path / "export.ndjson.gz", gzip.compress(text.encode()))
    summary = run(lake, src)
    assert (summary.records_stored, summary.records_rejected) == (2, 1)
    assert [q["source_position"] for q in quarantine_rows(lake)] == [4]
    assert sorted(p for (p,) in rows(lake, "select source_position from events")) == [0, 2]


def test_delivery_documents_concatenated_one_a_line_are_told_apart_by_line(
    lake: Path, tmp_path: Path
) -> None:
    # `zcat */*.json.gz > all.ndjson`: each line a {"Records": [...]} document, a redelivered
    # file's records again on a later line. Positions repeat from line to line; a record is its
    # (line, position), and each event is stored once.
    recs = records(3)
    bad = copy.deepcopy(recs[2])
    bad["eventTime"] = "yesterday"
    lines = [{"Records": recs[:2]}, {"Records": [recs[2], bad]}, {"Records": recs[:2]}]
    src = write_bytes(
        tmp_path / "all.ndjson", "".join(json.dumps(doc) + "\n" for doc in lines).encode()
    )

    summary = run(lake, src)

    assert (summary.records_read, summary.records_stored) == (6, 3)
    assert (summary.records_duplicate, summary.records_rejected) == (2, 1)
    got = rows(lake, "select event_id, source_line, source_position from events order by 2, 3")
    assert got == [
        (recs[0]["eventID"], 0, 0),
        (recs[1]["eventID"], 0, 1),
        (recs[2]["eventID"], 1, 0),
    ]
    assert [(q["source_line"], q["source_position"]) for q in quarantine_rows(lake)] == [(1, 1)]


@pytest.mark.parametrize("separator", ["", "\n"], ids=["back-to-back", "pretty-printed"])
def test_json_documents_written_one_after_the_other_are_each_read_once(
    lake: Path, tmp_path: Path, separator: str
) -> None:
    # two delivery documents in one file, not one a line (`cat` of files without a final
    # newline, or pretty-printed): the second repeats a record of the first
    a, b, c = records(3)
    indent = 2 if separator else None
    docs = [
        json.dumps({"Records": [a, b]}, indent=indent),
        json.dumps({"Records": [a, c]}, indent=indent),
    ]
    src = write_bytes(tmp_path / "two.json", separator.join(docs).encode())

    summary = run(lake, src)

    assert (summary.records_read, summary.records_stored, summary.records_duplicate) == (4, 3, 1)
    assert sorted(event_keys(lake, "event_id")) == sorted((r["eventID"],) for r in (a, b, c))


@pytest.mark.parametrize("when", ["12345-01-01T00:00:00Z", "0000-06-01T00:00:00Z"])
def test_an_event_time_no_partition_can_hold_is_rejected(
    lake: Path, tmp_path: Path, when: str
) -> None:
    recs = records(3)
    recs[1]["eventTime"] = when
    src = write_delivery_file(tmp_path / "src" / "a.json", recs, gz=False)

    summary = run(lake, src.parent)

    assert (summary.records_stored, summary.records_rejected) == (2, 1)
    assert len(event_keys(lake)) == 2
    (q,) = quarantine_rows(lake)
    assert q["source_position"] == 1
    assert q["reason"] == f"eventTime is outside the years 1-9999: {when}"


def test_a_file_that_is_one_document_has_no_line(lake: Path, tmp_path: Path) -> None:
    recs = records(2)
    src = write_bytes(tmp_path / "x.json", json.dumps({"Records": recs}).encode())
    run(lake, src)
    assert rows(lake, "select source_line, source_position from events order by 2") == [
        (None, 0),
        (None, 1),
    ]


@pytest.mark.parametrize("odd_line", [False, True], ids=["lines", "two-values-on-a-line"])
def test_many_ndjson_files_in_one_batch_are_numbered_as_each_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, odd_line: bool
) -> None:
    # the NDJSON files of a batch are read in one scan (one statement each cost 0.1 s): every
    # value keeps its own file's line number, blank lines and gzip included; a file with more
    # values than lines numbers the extra ones after its last line, as when read alone
    recs = records(60)
    recs[7]["eventTime"] = "yesterday"
    recs[44]["eventTime"] = "yesterday"
    src = tmp_path / "src"
    files = []
    for i in range(6):
        part = [json.dumps(r) for r in recs[i * 10 : (i + 1) * 10]]
        part.insert(i % 4, "")  # a blank line, somewhere else in each file
        if odd_line and i == 2:
            last = part.pop()
            part[-1] += " " + last
        data = ("\n".join(part) + "\n").encode()
        name = f"export-{i}.ndjson" + (".gz" if i % 2 else "")
        files.append(write_bytes(src / name, gzip.compress(data) if i % 2 else data))

    statements: list[int] = []
    stage_files = staging_mod.stage_files

    def counted(con: Any, files: list[str], *args: Any, **kwargs: Any) -> None:
        statements.append(len(files))
        stage_files(con, files, *args, **kwargs)

    monkeypatch.setattr(staging_mod, "stage_files", counted)
    together = ingest([str(src)], tmp_path / "together")
    assert statements == [6]  # one statement for the six files
    alone = tmp_path / "alone"
    for path in files:
        ingest([str(path)], alone)

    columns = ("source_uri", "source_position", "event_id", "record_hash")
    assert (together.records_read, together.records_stored, together.records_rejected) == (
        60,
        58,
        2,
    ), together.as_dict()
    assert sorted(event_keys(tmp_path / "together", *columns)) == sorted(
        event_keys(alone, *columns)
    )

    def positions(lake: Path) -> list[tuple[str, int]]:
        return sorted((q["source_uri"], q["source_position"]) for q in quarantine_rows(lake))

    assert positions(tmp_path / "together") == positions(alone)
    # the blank line before a record shifts it: positions are lines, not value indexes
    first = sorted(
        p for uri, p, *_ in event_keys(alone, *columns) if uri.endswith("export-0.ndjson")
    )
    assert first == [1, 2, 3, 4, 5, 6, 7, 9, 10]  # the record at line 8 is rejected


def test_an_input_line_cannot_pose_as_a_mended_line(lake: Path, tmp_path: Path) -> None:
    # only copies sts-audit mends itself mark unreadable lines: an input line with the same keys
    # is a record that is not CloudTrail's, with sts-audit's reason, not the one it carries
    forged = {"sts-audit:unreadable-line": "x", "sts-audit:why": "eventTime is fine (forged)"}
    lines = [json.dumps(r) for r in records(2)] + [json.dumps(forged), "not json"]
    src = write_bytes(tmp_path / "export.ndjson", ("\n".join(lines) + "\n").encode())
    summary = run(lake, src)
    assert (summary.records_stored, summary.records_rejected) == (2, 2)
    reasons = {q["source_position"]: q["reason"] for q in quarantine_rows(lake)}
    assert reasons[2].startswith("not a CloudTrail record") and "forged" not in reasons[2]
    assert reasons[3].startswith("not valid JSON")


@pytest.mark.parametrize(
    "names",
    [
        ("q?.ndjson", "qa.ndjson"),  # DuckDB expanded ? and [...]: qa's records were stored twice
        ("r[12].json", "r1.json"),
        ("s*.json", "s-all.json"),
        ("t{a,b}.json", "ta.json"),
    ],
)
def test_glob_characters_in_a_file_name_read_that_file_only(
    lake: Path, tmp_path: Path, names: tuple[str, str]
) -> None:
    src = tmp_path / "src"
    recs = records(6)
    files = [
        write_bytes(src / names[0], ("\n".join(json.dumps(r) for r in recs[:3]) + "\n").encode()),
        write_delivery_file(src / names[1], recs[3:], gz=False),
    ]
    summary = run(lake, src)
    assert (summary.records_read, summary.records_stored, summary.records_duplicate) == (6, 6, 0)
    stored = event_keys(lake, "source_uri", "event_id")
    assert len(stored) == 6
    assert {uri for uri, _ in stored} == {str(f) for f in files}


@pytest.mark.parametrize(
    ("source", "lake_name"),
    [
        ("logs[1]*", "lake{a,b}[1]?"),
        # a glob pattern with a backslash never expands in DuckDB: files under such a folder
        # were quarantined ("no files found"), and a query on such a lake was a traceback
        ("logs\\[1]*", "lake\\{a,b}[1]"),
    ],
)
def test_a_lake_and_sources_under_folders_with_glob_characters(
    tmp_path: Path, source: str, lake_name: str
) -> None:
    # DuckDB expands [, *, ?, { and } in every path it reads: /x[1]/ read /x1/, and a query
    # command stopped with a traceback (no files found)
    recs = records(6)
    base = tmp_path / source
    write_delivery_file(base / "a.json.gz", recs[:3])
    write_delivery_file(tmp_path / "logs1-decoy" / "a.json.gz", recs[3:])  # what [1]* matches
    lake = tmp_path / lake_name
    first = run(lake, base)
    assert (first.records_stored, first.records_duplicate, first.files_quarantined) == (3, 0, 0)
    assert {uri for (uri,) in event_keys(lake, "source_uri")} == {str(base / "a.json.gz")}
    again = run(lake, base)
    assert (again.files_unchanged, again.records_read) == (1, 0)
    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["sessions", "--lake", str(lake), "--format", "csv"])
    assert result.exit_code == 0, result.output
    # and from the tables analyze materialized in the lake
    assert CliRunner().invoke(app, ["analyze", "--lake", str(lake)]).exit_code == 0
    reused = CliRunner().invoke(app, ["sessions", "--lake", str(lake), "--format", "csv"])
    assert reused.exit_code == 0 and reused.stdout == result.stdout
    quarantine = CliRunner().invoke(app, ["quarantine", "--lake", str(lake)])
    assert quarantine.exit_code == 0, quarantine.output


@pytest.mark.parametrize(
    ("name", "gzipped"),
    [
        ("export.ndjson", True),  # a gzip export saved without .gz
        ("trail.json", True),
        ("trail.json.gz", False),  # text named .gz
        ("export.ndjson.gz", False),
    ],
)
def test_gzip_is_known_by_content_not_by_name(
    lake: Path, tmp_path: Path, name: str, gzipped: bool
) -> None:
    recs = records(3)
    text = (
        "\n".join(json.dumps(r) for r in recs) + "\n"
        if "ndjson" in name
        else json.dumps({"Records": recs})
    ).encode()
    src = write_bytes(tmp_path / "src" / name, gzip.compress(text) if gzipped else text)
    summary = run(lake, src)
    assert (summary.files_quarantined, summary.records_stored) == (0, 3)
    assert {uri for (uri,) in event_keys(lake, "source_uri")} == {str(src)}


@pytest.mark.parametrize("folder", ["json=1", "filename=x", "year=2026"])
def test_a_folder_that_looks_like_a_hive_partition_is_only_a_folder(
    lake: Path, tmp_path: Path, folder: str
) -> None:
    recs = records(4)
    src = tmp_path / "src" / folder
    write_delivery_file(src / "a.json", recs[:2], gz=False)
    write_bytes(src / "b.ndjson", ("\n".join(json.dumps(r) for r in recs[2:]) + "\n").encode())
    summary = run(lake, tmp_path / "src")
    assert (summary.files_quarantined, summary.records_rejected, summary.records_stored) == (
        0,
        0,
        4,
    )


def test_a_lake_under_a_folder_named_like_a_hive_partition_has_only_its_columns(
    tmp_path: Path,
) -> None:
    from pipeline.schema import EVENT_COLUMN_NAMES, HIVE_TYPES

    lake = tmp_path / "year=2026" / "lake"
    write_delivery_file(tmp_path / "src" / "a.json", records(2), gz=False)
    run(lake, tmp_path / "src")
    con = lakefs.connect(lake)
    names = [row[0] for row in con.execute("DESCRIBE events").fetchall()]
    assert names == [*EVENT_COLUMN_NAMES, *HIVE_TYPES]


def test_org_trail_folder_is_read_with_recipient_accounts(lake: Path, tmp_path: Path) -> None:
    root = tmp_path / "bucket"
    mine = records(3)
    # no recipientAccountId: the account folder of the key names the partition
    theirs = records(2, recipientAccountId=DROP)
    write_delivery_file(root / delivery_key(ACCOUNT), mine)
    write_delivery_file(root / delivery_key(OTHER_ACCOUNT), theirs)

    summary = run(lake, root)

    assert (summary.files_seen, summary.files_read, summary.records_stored) == (2, 2, 5)
    got = rows(lake, "select recipient_account_id, count(*) from events group by 1 order by 1")
    assert got == [(OTHER_ACCOUNT, 2), (ACCOUNT, 3)]


# --- digest and insight files ---------------------------------------------------------------


def _digest_body() -> bytes:
    return orjson.dumps(
        {
            "awsAccountId": ACCOUNT,
            "digestStartTime": "2026-11-01T00:00:00Z",
            "digestEndTime": "2026-11-01T01:00:00Z",
            "digestS3Bucket": "example-bucket",
            "digestS3Object": "AWSLogs/...",
            "newestEventTime": None,
            "oldestEventTime": None,
            "previousDigestS3Bucket": None,
            "logFiles": [],
        }
    )


def test_digest_and_insight_files_are_skipped_and_counted(lake: Path, tmp_path: Path) -> None:
    root = tmp_path / "trail"
    base = f"AWSLogs/{ACCOUNT}"
    write_delivery_file(root / delivery_key(ACCOUNT), records(2))
    write_bytes(
        root / f"{base}/CloudTrail-Digest/us-east-1/2026/11/01/"
        f"{ACCOUNT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20261101T010000Z.json.gz",
        gzip.compress(_digest_body()),
    )
    insight = {
        "eventVersion": "1.08",
        "eventTime": "2026-11-01T10:00:00Z",
        "awsRegion": "us-east-1",
        "eventID": "20000000-0000-4000-8000-000000000001",
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": ACCOUNT,
        "sharedEventID": "30000000-0000-4000-8000-000000000001",
        "insightDetails": {"state": "Start", "eventSource": "sts.amazonaws.com"},
        "eventCategory": "Insight",
    }
    for i in range(2):
        write_delivery_file(
            root / f"{base}/CloudTrail-Insight/us-east-1/2026/11/01/"
            f"{ACCOUNT}_CloudTrail-Insight_us-east-1_20261101T010{i}Z_EXAMPLEinsight0000{i}.json.gz",
            [insight],
        )

    summary = run(lake, root)

    assert (summary.files_skipped_digest, summary.files_skipped_insight) == (1, 2)
    assert (summary.files_read, summary.records_read, summary.records_stored) == (1, 2, 2)
    assert summary.files_quarantined == summary.records_rejected == 0
    assert rows(lake, "select count(*) from events where event_type = 'AwsCloudTrailInsight'") == [
        (0,)
    ]


def test_files_skipped_for_their_names_are_named_and_read_once_named(
    lake: Path, tmp_path: Path
) -> None:
    # a folder of zstd exports was "2 other skipped": no name said which, and naming one of
    # them afterwards found it "unchanged" (its skip was in the manifest) and read nothing
    root = tmp_path / "exports"
    write_delivery_file(root / "a.json.gz", records(2))
    zst = write_bytes(root / "b.json.zst", orjson.dumps({"Records": records(3)[2:]}))
    write_bytes(root / "notes.txt", b"not an export\n")

    summary = run(lake, root)

    assert (summary.files_read, summary.files_skipped_other) == (1, 2)
    assert summary.skipped_other == [str(zst), str(root / "notes.txt")]
    done = subprocess.run(
        [*cli(), "ingest", str(root), "--lake", str(tmp_path / "other-lake")],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout + done.stderr
    assert f"skipped by name: {zst}" in out and "a file given as a source is read" in out

    named = ingest([str(zst)], lake)

    assert (named.files_seen, named.files_unchanged) == (1, 0)
    assert named.files_read + named.files_quarantined == 1
    # and a walk after that counts neither again
    again = run(lake, root)
    assert (again.files_unchanged, again.files_skipped_other) == (3, 0)


def test_digest_body_and_insight_records_outside_their_folders_are_not_events(
    lake: Path, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    write_bytes(src / "renamed-digest.json", _digest_body())
    insight = record(eventType="AwsCloudTrailInsight", eventCategory="Insight", userIdentity=DROP)
    write_delivery_file(src / "mixed.json.gz", [*records(2), insight])

    summary = run(lake, src)

    assert (summary.records_read, summary.records_stored, summary.records_rejected) == (2, 2, 0)
    assert summary.records_skipped_insight == 1
    # the renamed digest is counted as a skipped digest, not as a file read
    assert (summary.files_read, summary.files_skipped_digest) == (1, 1)
    assert quarantine_rows(lake) == []
    again = run(lake, src)
    assert (again.files_unchanged, again.files_read, again.records_read) == (2, 0, 0)


# --- partitioning and portability of the lake ------------------------------------------------


@pytest.fixture
def late_event_lake(lake: Path, tmp_path: Path) -> Path:
    # delivered in the 2026/11/02 folder, but the call happened on 2026-11-01 (UTC)
    late = record(eventTime="2026-11-01T23:59:59Z", recipientAccountId="012345678901")
    on_time = record(eventTime="2026-11-02T00:00:01Z", recipientAccountId="012345678901")
    write_delivery_file(
        tmp_path / "src" / delivery_key("012345678901", "2026/11/02"), [late, on_time]
    )
    run(lake, tmp_path / "src")
    return lake


def test_partition_is_event_time_utc_date_not_delivery_folder(late_event_lake: Path) -> None:
    dirs = sorted(
        str(p.parent.relative_to(late_event_lake / "events"))
        for p in (late_event_lake / "events").rglob("*.parquet")
    )
    assert dirs == [
        "event_date=2026-11-01/recipient_account_id=012345678901",
        "event_date=2026-11-02/recipient_account_id=012345678901",
    ]
    got = rows(late_event_lake, "select event_date, event_time from events order by event_time")
    assert got == [
        (dt.date(2026, 11, 1), dt.datetime(2026, 11, 1, 23, 59, 59, tzinfo=UTC)),
        (dt.date(2026, 11, 2), dt.datetime(2026, 11, 2, 0, 0, 1, tzinfo=UTC)),
    ]


def test_event_time_with_offset_or_fraction_is_partitioned_by_its_utc_date(
    lake: Path, tmp_path: Path
) -> None:
    times = {
        "2026-11-01T23:30:00-02:00": dt.datetime(2026, 11, 2, 1, 30, tzinfo=UTC),
        "2026-11-01 22:00:00.000 UTC": dt.datetime(2026, 11, 1, 22, tzinfo=UTC),  # Athena, Trino
        "2026-11-01T23:59:59.999999Z": dt.datetime(2026, 11, 1, 23, 59, 59, 999999, tzinfo=UTC),
        "2026-11-02T00:30:00+01:00": dt.datetime(2026, 11, 1, 23, 30, tzinfo=UTC),
    }
    recs = [record(eventTime=t) for t in times]
    write_delivery_file(tmp_path / "src" / "a.json.gz", recs)

    run(lake, tmp_path / "src")

    got = {
        eid: (t, d)
        for eid, t, d in rows(lake, "select event_id, event_time, event_date from events")
    }
    for rec, expected in zip(recs, times.values(), strict=True):
        assert got[rec["eventID"]] == (expected, expected.date())


@pytest.mark.parametrize(
    "when",
    [
        "epoch",  # DuckDB's strptime and cast read it as 1970-01-01
        "infinity",  # and these as the ends of time
        "-infinity",
        "now",
        "2026-11-01",  # a day alone: midnight
        "2026-11-01T10:00:00 EST",
        "2026-11-01 10:00:00 America/New_York",
        "2026-11-01T24:00:00Z",
        "  2026-11-01T10:00:00Z",
        "2026-11-01T10:00:00Z\n",
        "1793500000",
    ],
)
def test_an_event_time_that_is_not_a_timestamp_is_rejected_not_guessed(
    lake: Path, tmp_path: Path, when: str
) -> None:
    write_delivery_file(tmp_path / "src" / "a.json.gz", [record(eventTime=when)])
    summary = run(lake, tmp_path / "src")
    assert (summary.records_stored, summary.records_rejected) == (0, 1)
    [row] = quarantine_rows(lake)
    assert row["reason"] == "eventTime is not a timestamp: " + when[:40]


def test_account_partition_keeps_leading_zeros_in_duckdb_polars_and_pyarrow(
    late_event_lake: Path,
) -> None:
    lake = late_event_lake
    assert rows(
        lake, "select distinct typeof(recipient_account_id), recipient_account_id from events"
    ) == [("VARCHAR", "012345678901")]
    frame = pl.scan_parquet(
        lake / "events" / "**" / "*.parquet",
        hive_partitioning=True,
        hive_schema={"event_date": pl.Date, "recipient_account_id": pl.String},
    ).collect()
    assert frame.schema["recipient_account_id"] == pl.String
    assert frame["recipient_account_id"].unique().to_list() == ["012345678901"]
    assert frame["event_time"].dtype == pl.Datetime("us", "UTC")
    partitioning = ds.partitioning(
        pa.schema([("event_date", pa.date32()), ("recipient_account_id", pa.string())]),
        flavor="hive",
    )
    table = ds.dataset(lake / "events", format="parquet", partitioning=partitioning).to_table()
    assert table.schema.field("recipient_account_id").type == pa.string()
    assert set(table.column("recipient_account_id").to_pylist()) == {"012345678901"}
    assert sorted(table.column("event_date").to_pylist()) == [
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 2),
    ]


def test_data_files_are_portable(late_event_lake: Path) -> None:
    files = [p for p in (late_event_lake / "events").rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert path.suffix == ".parquet"
        assert not path.name.startswith(("_", ".")), path
        schema = pq.read_schema(path)
        names = [*schema.names, "event_date", "recipient_account_id"]
        assert len({n.lower() for n in names}) == len(names), "columns differ only by case"
        timestamps = [f for f in schema if pa.types.is_timestamp(f.type)]
        assert {f.name for f in timestamps} >= {"event_time", "session_creation_date", "expiration"}
        for field in timestamps:
            assert field.type == pa.timestamp("us", tz="UTC"), field
        parquet_schema = pq.ParquetFile(path).schema
        for i in range(len(parquet_schema)):
            assert parquet_schema.column(i).physical_type != "INT96"
        assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
        # partition values live in the path only
        assert "event_date" not in schema.names and "recipient_account_id" not in schema.names


def test_unique_valued_columns_are_written_plain_without_statistics(
    late_event_lake: Path,
) -> None:
    # a dictionary and min/max statistics of a column whose every value is new and random
    # are work for nothing; the other columns keep both (statistics prune row groups by time)
    from pipeline.schema import UNIQUE_VALUED

    files = [p for p in (late_event_lake / "events").rglob("*.parquet")]
    assert files
    for path in files:
        group = pq.ParquetFile(path).metadata.row_group(0)
        columns = {
            group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)
        }
        for name in UNIQUE_VALUED:
            assert not columns[name].is_stats_set, name
            assert "PLAIN_DICTIONARY" not in columns[name].encodings, name
            assert "RLE_DICTIONARY" not in columns[name].encodings, name
        assert columns["event_time"].is_stats_set
        assert columns["event_source"].is_stats_set
        # pyarrow names the dictionary encoding by its Parquet format version
        assert {"RLE_DICTIONARY", "PLAIN_DICTIONARY"} & set(columns["event_source"].encodings)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([None, 0, 1, 2, 3]), st.integers(1, 150)), max_size=12),
    st.integers(1, 3),
)
def test_each_partition_file_holds_exactly_its_rows_in_order(
    runs: list[tuple[int | None, int]], chunks: int
) -> None:
    # the writer takes each partition's rows from the batch's table (in chunks, as the typing
    # statements return it): zero-copy slices of runs, or one copy for the partitions whose
    # rows are scattered. `runs`: rows in turn for a partition, or not new (None)
    from pipeline.schema import EVENT_COLUMN_NAMES

    mine: dict[int, list[int]] = {}
    size = 0
    for partition, length in runs:
        if partition is not None:
            mine.setdefault(partition, []).extend(range(size, size + length))
        size += length
    whole = pa.table({name: list(range(size)) for name in EVENT_COLUMN_NAMES})
    table = pa.Table.from_batches(
        whole.to_batches(max_chunksize=max(1, size // chunks)), whole.schema
    )
    day = dt.date(2026, 11, 1)
    partitions = [(day, f"12345678901{p}", np.array(rows)) for p, rows in sorted(mine.items())]

    with tempfile.TemporaryDirectory() as folder:
        written = partitions_mod.write(table, partitions, Path(folder), "b1")

        assert written == sum(len(rows) for rows in mine.values())
        for p, rows in mine.items():
            path = lakefs.partition_dir(Path(folder), day, f"12345678901{p}") / "part-b1-0.parquet"
            assert pq.read_table(path).column(EVENT_COLUMN_NAMES[0]).to_pylist() == rows


def test_a_write_that_fails_names_the_batch_and_keeps_none_of_its_rows(tmp_path: Path) -> None:
    import gc
    import weakref

    from pipeline.errors import LakeError
    from pipeline.schema import EVENT_COLUMN_NAMES

    table = pa.table({name: [1, 2] for name in EVENT_COLUMN_NAMES})
    rows = weakref.ref(table)
    blocked = tmp_path / "events"
    blocked.write_text("a file where the partition folders would go")
    partitions = [(dt.date(2026, 11, 1), ACCOUNT, np.array([0, 1]))]

    with pytest.raises(LakeError, match="batch b7: writing its Parquet files") as caught:
        partitions_mod.write(table, partitions, blocked, "b7")
    del table
    gc.collect()

    assert "nothing of it was committed" in caught.value.fix
    assert rows() is None  # the error, kept until the run ends, holds no rows


def test_a_partition_of_long_runs_is_written_from_slices() -> None:
    table = pa.table({"n": list(range(1000))})
    rows = np.array([*range(0, 300), *range(500, 900)])  # two runs: slices of the table

    assert not partitions_mod.is_scattered(rows)
    taken = partitions_mod.runs_of(table, rows)

    assert taken.column("n").num_chunks == 2
    assert taken.column("n").to_pylist() == rows.tolist()
    assert partitions_mod.is_scattered(np.arange(0, 1000, 2))


def test_many_small_files_of_one_partition_make_one_data_file(lake: Path, tmp_path: Path) -> None:
    for i in range(12):
        write_delivery_file(
            tmp_path / "src" / delivery_key(ACCOUNT, unique=f"EXAMPLE{i:010d}"), records(5)
        )

    summary = run(lake, tmp_path / "src")

    assert summary.records_stored == 60
    assert len(list((lake / "events").rglob("*.parquet"))) == summary.data_files_written == 1


# --- typed columns and the round trip (reference records) -----------------------------------


def _reference() -> list[dict[str, Any]]:
    data = json.loads(REFERENCE.read_text())
    for rec in data:
        rec.pop("_source", None)
    return data


@pytest.fixture(scope="module")
def reference_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    if not REFERENCE.is_file():
        pytest.skip(f"{REFERENCE} is absent")
    recs = _reference()
    extra = [
        # basic-ISO creationDate and an upper-case MFAUsed (root console login)
        record(
            eventID="40000000-0000-4000-8000-000000000001",
            userIdentity={
                "type": "AssumedRole",
                "principalId": "AROACKCEVSQ6C2EXAMPLE:example-session",
                "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/example-role/example-session",
                "accountId": ACCOUNT,
                "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": "AROACKCEVSQ6C2EXAMPLE",
                        "arn": f"arn:aws:iam::{ACCOUNT}:role/example-role",
                        "accountId": ACCOUNT,
                        "userName": "example-role",
                    },
                    "attributes": {"creationDate": "20131102T010628Z", "mfaAuthenticated": "false"},
                },
            },
        ),
        record(
            eventID="40000000-0000-4000-8000-000000000002",
            eventSource="signin.amazonaws.com",
            eventName="ConsoleLogin",
            eventType="AwsConsoleSignIn",
            userIdentity={
                "type": "Root",
                "principalId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:root",
                "accountId": ACCOUNT,
            },
            requestParameters=None,
            responseElements={"ConsoleLogin": "Success"},
            additionalEventData={
                "LoginTo": "https://console.aws.amazon.com/",
                "MobileVersion": "No",
                "MFAUsed": "YES",
            },
        ),
    ]
    recs += extra
    lake = tmp_path_factory.mktemp("reference") / "lake"
    src = write_delivery_file(tmp_path_factory.mktemp("ref-src") / "reference.json.gz", recs)
    summary = run(lake, src)
    assert summary.records_stored == len(recs), summary
    return lake, recs


def _by_event_name_and_type(
    recs: list[dict[str, Any]], name: str, user_type: str
) -> dict[str, Any]:
    [rec] = [
        r
        for r in recs
        if r["eventName"] == name and r.get("userIdentity", {}).get("type") == user_type
    ]
    return rec


def _row(lake: Path, event_id: str, *columns: str) -> tuple[Any, ...]:
    [row] = rows(
        lake, f"select {', '.join(columns)} from events where event_id = $id", {"id": event_id}
    )
    return row


def test_expiration_is_parsed_from_both_java_forms(
    reference_lake: tuple[Path, list[dict[str, Any]]],
) -> None:
    lake, _ = reference_lake
    got = dict(
        rows(lake, "select expiration_raw, expiration from events where expiration_raw is not null")
    )
    assert got["Sep 17, 2020 8:04:10 PM"] == dt.datetime(2020, 9, 17, 20, 4, 10, tzinfo=UTC)
    assert got["Jul 1, 2026, 12:08:19 PM"] == dt.datetime(2026, 7, 1, 12, 8, 19, tzinfo=UTC)
    assert got["Dec 10, 2019 7:46:42 AM"] == dt.datetime(2019, 12, 10, 7, 46, 42, tzinfo=UTC)
    assert got["Oct 25, 2024, 9:07:11 PM"] == dt.datetime(2024, 10, 25, 21, 7, 11, tzinfo=UTC)
    assert all(value is not None for value in got.values()), got


def test_session_context_is_typed(reference_lake: tuple[Path, list[dict[str, Any]]]) -> None:
    lake, recs = reference_lake
    ex1, ex5 = recs[0], recs[4]
    assert _row(lake, ex1["eventID"], "session_mfa_authenticated", "session_creation_date") == (
        True,
        dt.datetime(2020, 9, 17, 13, 58, 45, tzinfo=UTC),
    )
    [(mfa, created)] = rows(
        lake,
        "select session_mfa_authenticated, session_creation_date from events where event_id = $id",
        {"id": recs[3]["eventID"]},
    )
    assert (mfa, created) == (True, dt.datetime(2020, 9, 17, 19, 4, 10, tzinfo=UTC))
    assert _row(lake, ex5["eventID"], "session_mfa_authenticated", "session_creation_date") == (
        False,
        dt.datetime(2019, 10, 2, 21, 50, 54, tzinfo=UTC),
    )
    assert _row(lake, "40000000-0000-4000-8000-000000000001", "session_creation_date") == (
        dt.datetime(2013, 11, 2, 1, 6, 28, tzinfo=UTC),
    )


def test_aws_account_role_owner_copy(reference_lake: tuple[Path, list[dict[str, Any]]]) -> None:
    lake, recs = reference_lake
    copy_ = _by_event_name_and_type(recs, "AssumeRole", "AWSAccount")
    assert _row(
        lake, copy_["eventID"], "user_type", "user_account_id", "user_arn", "shared_event_id"
    ) == (
        "AWSAccount",
        copy_["userIdentity"]["accountId"],
        None,
        copy_["sharedEventID"],
    )


def test_sts_response_fields(reference_lake: tuple[Path, list[dict[str, Any]]]) -> None:
    lake, recs = reference_lake
    ex1 = recs[0]
    creds = ex1["responseElements"]["credentials"]
    assert _row(
        lake,
        ex1["eventID"],
        "issued_access_key_id",
        "assumed_role_arn",
        "req_role_arn",
        "req_duration_seconds",
    ) == (
        creds["accessKeyId"],
        ex1["responseElements"]["assumedRoleUser"]["arn"],
        ex1["requestParameters"]["roleArn"],
        ex1["requestParameters"].get("durationSeconds"),
    )
    for saml in (r for r in recs if r["eventName"] == "AssumeRoleWithSAML"):
        resp = saml["responseElements"]
        assert _row(
            lake,
            saml["eventID"],
            "saml_subject",
            "saml_issuer",
            "saml_subject_type",
            "issued_access_key_id",
        ) == (
            resp["subject"],
            resp["issuer"],
            resp.get("subjectType"),
            resp["credentials"]["accessKeyId"],
        )
    oidc = _by_event_name_and_type(recs, "AssumeRoleWithWebIdentity", "WebIdentityUser")
    resp = oidc["responseElements"]
    assert _row(lake, oidc["eventID"], "oidc_subject", "oidc_provider") == (
        resp["subjectFromWebIdentityToken"],
        resp["provider"],
    )


def test_console_mfa_and_identity_center_fields(
    reference_lake: tuple[Path, list[dict[str, Any]]],
) -> None:
    lake, recs = reference_lake
    logins = {
        r["additionalEventData"]["MFAUsed"]: r["eventID"]
        for r in recs
        if r["eventName"] == "ConsoleLogin"
    }
    assert set(logins) == {"Yes", "No", "YES"}
    assert _row(lake, logins["Yes"], "console_mfa_used", "console_login_result") == (
        True,
        "Success",
    )
    assert _row(lake, logins["YES"], "console_mfa_used") == (True,)
    assert _row(lake, logins["No"], "console_mfa_used") == (False,)
    sso = next(r for r in recs if r["eventName"] == "GetRoleCredentials")
    assert _row(lake, sso["eventID"], "sso_account_id", "sso_role_name", "user_type") == (
        "950363612855",
        "AdministratorAccess",
        "IdentityCenterUser",
    )


def test_record_without_event_id_gets_generated_id(
    reference_lake: tuple[Path, list[dict[str, Any]]],
) -> None:
    lake, recs = reference_lake
    [assume_root] = [r for r in recs if r["eventName"] == "AssumeRoot"]
    assert "eventID" not in assume_root
    [(event_id, generated, name)] = rows(
        lake, "select event_id, event_id_generated, event_name from events where event_id_generated"
    )
    assert event_id.startswith("gen-") and generated and name == "AssumeRoot"


def test_raw_round_trips_except_the_hashed_session_token(
    reference_lake: tuple[Path, list[dict[str, Any]]],
) -> None:
    lake, recs = reference_lake
    stored = [orjson.loads(raw) for (raw,) in rows(lake, "select raw from events")]
    key = lambda r: (r.get("eventID", ""), r["eventTime"], r["eventName"])  # noqa: E731
    stored.sort(key=key)
    expected = sorted(copy.deepcopy(recs), key=key)
    assert len(stored) == len(expected)
    tokens = 0
    for got, want in zip(stored, expected, strict=True):
        creds = (want.get("responseElements") or {}).get("credentials") or {}
        if "sessionToken" in creds:
            hashed = got["responseElements"]["credentials"]["sessionToken"]
            assert hashed.startswith("sha256:") and hashed != creds["sessionToken"]
            creds["sessionToken"] = hashed
            tokens += 1
        assert got == want
    assert tokens >= 5


def _all_text(lake: Path) -> str:
    """Every value of every Parquet file under the lake, plus every other file's bytes."""
    chunks = []
    for path in sorted(lake.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            chunks.append(repr(pq.ParquetFile(path).read().to_pylist()))
        else:
            chunks.append(path.read_bytes().decode("latin-1"))
    return "\n".join(chunks)


def test_clear_session_tokens_are_nowhere_in_the_lake(
    reference_lake: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    lake, recs = reference_lake
    tokens = [
        r["responseElements"]["credentials"]["sessionToken"]
        for r in recs
        if "sessionToken" in ((r.get("responseElements") or {}).get("credentials") or {})
    ]
    assert tokens
    text = _all_text(lake)
    con = lakefs.connect(lake)
    described = con.execute("select column_name, column_type from (describe events)").fetchall()
    varchar = [name for name, typ in described if typ == "VARCHAR"]
    assert {"raw", "response_elements", "issued_access_key_id"} <= set(varchar)
    everything = "concat_ws(chr(0), " + ", ".join(varchar) + ")"
    for token in tokens:
        assert token not in text
        hits = con.execute(
            f"select count(*) from events where contains({everything}, $t)", {"t": token}
        )
        assert hits.fetchall() == [(0,)], token[:12]
    con.close()


def test_clear_session_tokens_are_nowhere_whatever_the_shape(lake: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    recs = records(8)
    bad_time = record(eventTime="not a time")
    write_bytes(
        src / "spaced.ndjson", "".join(json.dumps(r) + "\n" for r in [*recs[:2], bad_time]).encode()
    )
    write_bytes(src / "single.json", json.dumps(recs[2], indent=2).encode())
    write_bytes(src / "array.json", json.dumps(recs[3:5], indent=4).encode())
    write_bytes(
        src / "lookup.json",
        json.dumps(
            {"Events": [{"EventId": "x", "CloudTrailEvent": json.dumps(recs[5], indent=2)}]}
        ).encode(),
    )
    write_bytes(
        src / "eventbridge.json",
        json.dumps(
            {"version": "0", "detail-type": "AWS API Call via CloudTrail", "detail": recs[6]},
            indent=2,
        ).encode(),
    )
    write_delivery_file(src / "d.json.gz", [recs[7]], pretty=True)

    summary = run(lake, src)

    assert (summary.records_stored, summary.records_rejected) == (8, 1)
    text = _all_text(lake)
    for rec in [*recs, bad_time]:
        token = rec["responseElements"]["credentials"]["sessionToken"]
        assert token not in text, token
    hashed = [
        r["responseElements"]["credentials"]["sessionToken"] for r in stored_raw(lake).values()
    ]
    assert len(hashed) == 8 and all(h.startswith("sha256:") for h in hashed)


def _realistic_token(seed: int) -> str:
    """A session token as STS issues them: `IQoJb3JpZ2luX2Vj` and some 700 base64 characters."""
    import base64
    import random

    body = random.Random(seed).randbytes(540)
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(body).decode()


def test_a_token_no_key_names_in_a_rejected_text_is_not_kept(lake: Path, tmp_path: Path) -> None:
    # a log shipper that cuts long lines (16 KB) can cut an NDJSON record at its token: the rest
    # of the line, the token without its key, went to the quarantine (and `sts-audit
    # quarantine`) in clear; so did a token whose key has an escape no rule knew
    good = records(4)
    cut_at_key, cut_in_token, escaped_key, in_lookup = records(4)
    tokens = [_realistic_token(n) for n in range(4)]
    for rec, token in zip((cut_at_key, cut_in_token, escaped_key, in_lookup), tokens, strict=True):
        rec["responseElements"]["credentials"]["sessionToken"] = token
    lines = [json.dumps(good[0])]
    text = json.dumps(cut_at_key)
    at = text.index('"sessionToken": "') + len('"sessionToken": "')
    lines += [text[:at], text[at:]]
    text = json.dumps(cut_in_token).replace("/", "\\/")  # a writer that escapes slashes
    at = text.index(tokens[1][:20]) + 300
    lines += [text[:at], text[at:], json.dumps(good[1])]
    text = json.dumps(escaped_key).replace('"sessionToken"', '"\\u0073essionToken"')
    lines += [text[: len(text) - 40], json.dumps(good[2])]
    src = tmp_path / "src"
    write_bytes(src / "cut.ndjson", ("\n".join(lines) + "\n").encode())
    lookup_text = json.dumps(in_lookup).replace('"sessionToken"', '"sessio\\u006eToken"')
    events = [{"EventId": "1", "CloudTrailEvent": lookup_text[:-25]}]
    events.append({"EventId": "2", "CloudTrailEvent": json.dumps(good[3])})
    write_bytes(src / "lookup.json", json.dumps({"Events": events}).encode())

    summary = run(lake, src)

    assert summary.reconciles and summary.records_stored == 4
    assert summary.records_rejected == 6  # the five pieces of cut lines, the cut event
    everything = _all_text(lake)
    for token in tokens:
        pieces = [token[i : i + 40] for i in range(0, len(token) - 40, 20)]
        assert not any(piece in everything for piece in pieces), token[:20]
    rejected = quarantine_rows(lake)
    assert sum("REDACTED" in (r["raw"] or "") for r in rejected) >= 4
    # the texts keep what finds the record: the file, the line, the event id
    assert any(cut_at_key["eventID"] in (r["raw"] or "") for r in rejected)
    # read again (touched), the rejected texts are recognised: not quarantined twice
    for path in src.iterdir():
        os.utime(path, (1_900_000_000, 1_900_000_000))
    again = run(lake, src)
    assert again.records_read == 10 and again.records_rejected == 0
    assert len(quarantine_rows(lake)) == len(rejected)


def test_a_token_with_an_escaped_quote_is_hashed_whole(lake: Path, tmp_path: Path) -> None:
    # the redaction ended the token at its first quote, escaped or not: a valid record whose
    # token holds `\"` became invalid JSON and stopped the whole run with a traceback, and a
    # broken line kept the token's tail in clear in the quarantine
    stored, broken = records(2)
    stored["responseElements"]["credentials"]["sessionToken"] = 'IQoJHEAD"EXAMPLETAIL1\\'
    broken["responseElements"]["credentials"]["sessionToken"] = 'IQoJHEAD"EXAMPLETAIL2'
    src = tmp_path / "src"
    write_delivery_file(src / "d.json.gz", [stored])
    write_bytes(
        src / "lines.ndjson",
        (json.dumps(records(3)[2]) + "\n" + json.dumps(broken)[:-1] + " cut\n").encode(),
    )

    summary = run(lake, src)

    assert (summary.records_stored, summary.records_rejected) == (2, 1)
    text = _all_text(lake)
    assert "EXAMPLETAIL" not in text
    [hashed] = [
        r["responseElements"]["credentials"]["sessionToken"]
        for r in stored_raw(lake).values()
        if r["eventID"] == stored["eventID"]
    ]
    assert hashed.startswith("sha256:")
    [rejected] = quarantine_rows(lake)
    assert '"sessionToken":"REDACTED", "expiration"' in rejected["raw"]


def test_a_token_inside_a_string_is_redacted(lake: Path, tmp_path: Path) -> None:
    # a record kept as a JSON string (`jq '[.Events[].CloudTrailEvent]'`, a CloudWatch Logs
    # `filter-log-events` page) is rejected, and its raw text went to the quarantine with the
    # token in clear: its key is spelled with escaped quotes
    first, second, third = records(3)
    src = tmp_path / "src"
    write_bytes(src / "strings.json", orjson.dumps([orjson.dumps(first).decode()]))
    page = {"events": [{"message": orjson.dumps(second).decode()}]}
    write_bytes(src / "cwl.json", orjson.dumps(page))
    # twice inside strings: a record kept in a string field of a stored record
    nested = copy.deepcopy(third)
    nested["requestParameters"] = {
        "note": orjson.dumps({"x": orjson.dumps(first).decode()}).decode()
    }
    write_delivery_file(src / "d.json", [nested])

    summary = run(lake, src)

    assert (summary.records_stored, summary.records_rejected) == (1, 2)
    text = _all_text(lake)
    for rec in (first, second):
        assert rec["responseElements"]["credentials"]["sessionToken"] not in text
    [stored] = stored_raw(lake).values()
    inner = orjson.loads(orjson.loads(stored["requestParameters"]["note"])["x"])
    assert inner["responseElements"]["credentials"]["sessionToken"] == "REDACTED"
    reasons = sorted(r["reason"] for r in quarantine_rows(lake))
    assert all('\\"sessionToken\\":\\"REDACTED\\"' in r["raw"] for r in quarantine_rows(lake)), (
        reasons
    )


def _token(rec: dict[str, Any]) -> str:
    return str(rec["responseElements"]["credentials"]["sessionToken"])


def test_tokens_spelled_otherwise_are_not_kept(lake: Path, tmp_path: Path) -> None:
    # a review found each of these in the lake in clear: a pretty-printed record kept in a
    # string field (escaped newlines around the colon), a line that is a JSON string with
    # \u0022 quotes, and lines that are no JSON (a Python repr, key=value)
    pretty, quoted, as_repr, as_pair, good = records(5)
    carrier = record(
        eventSource="s3.amazonaws.com",
        eventName="PutObject",
        additionalEventData={"forwarded": json.dumps(pretty, indent=2)},
    )
    assert '"sessionToken": "' in carrier["additionalEventData"]["forwarded"]
    src = tmp_path / "src"
    write_delivery_file(src / "d.json.gz", [carrier])
    lines = [
        json.dumps(good),
        '"' + json.dumps(quoted).replace('"', "\\u0022") + '"',
        repr(as_repr),
        f"ts=1 sessionToken={_token(as_pair)} user=example-user",
    ]
    write_bytes(src / "lines.ndjson", ("\n".join(lines) + "\n").encode())

    summary = run(lake, src)

    assert (summary.records_stored, summary.records_rejected) == (2, 3)
    text = _all_text(lake)
    for rec in (pretty, quoted, as_repr, as_pair, good):
        assert _token(rec) not in text, _token(rec)
    withheld = [r for r in quarantine_rows(lake) if r["raw"] is None]
    assert len(withheld) == 2
    assert all("it may hold a session token" in r["reason"] for r in withheld)
    # the string that is a record keeps its text, redacted
    [kept] = [r for r in quarantine_rows(lake) if r["raw"] is not None]
    assert '\\"sessionToken\\":\\"REDACTED\\"' in kept["raw"]


@pytest.mark.parametrize("shape", ["ndjson", "delivery file"])
def test_a_rejected_record_keeps_no_token_in_any_spelling(
    lake: Path, tmp_path: Path, shape: str
) -> None:
    # JSON objects, rejected for what they hold, whose token no redaction of a record's key
    # knows: a review found them in the quarantine in clear
    no_time, lake_row, capital, pair, good = records(5)
    tokens = [_token(r) for r in (no_time, lake_row, capital, pair)]
    no_time.pop("eventTime")
    no_time["responseElements"]["credentials"]["SessionToken"] = no_time["responseElements"][
        "credentials"
    ].pop("sessionToken")
    # a CloudTrail Lake query row: lower-case columns, the credentials flattened to a string
    creds = lake_row["responseElements"]["credentials"]
    flat = {
        "eventtime": "2026-11-01 10:00:00.000",
        "eventsource": "sts.amazonaws.com",
        "responseelements": {
            "credentials": "{{accessKeyId={}, sessionToken={}, expiration={}}}".format(
                creds["accessKeyId"], creds["sessionToken"], creds["expiration"]
            )
        },
    }
    capital.pop("eventTime")
    capital["responseElements"]["credentials"]["session_token"] = capital["responseElements"][
        "credentials"
    ].pop("sessionToken")
    message = {"message": f"sessionToken={_token(pair)}"}
    rejected = [no_time, flat, capital, message]
    src = tmp_path / "src"
    if shape == "ndjson":
        lines = [json.dumps(r) for r in [good, *rejected]]
        write_bytes(src / "lines.ndjson", ("\n".join(lines) + "\n").encode())
    else:
        write_delivery_file(src / "d.json.gz", [good, *rejected])

    summary = run(lake, src)

    assert (summary.records_stored, summary.records_rejected) == (1, 4)
    text = _all_text(lake)
    for token in tokens:
        assert token not in text, token[:12]
    rows = quarantine_rows(lake)
    assert len(rows) == 4 and all(r["raw"] is None for r in rows)
    withheld = "(its text is not kept: it may hold a session token)"
    assert all(r["reason"].endswith(withheld) for r in rows)
    assert _token(good)[:20] not in text


@pytest.mark.parametrize("shape", ["ndjson", "delivery file"])
def test_a_stored_record_keeps_no_token_in_any_spelling(
    lake: Path, tmp_path: Path, shape: str
) -> None:
    # records another tool re-serialized, stored (they are valid): the hash covered only
    # `"sessionToken":"..."`, and these kept their tokens in clear in `raw` and the blobs, an STS
    # record's and a plain record's (typed by the splitter, not DuckDB) alike
    capital, snake, plain_rec, escaped, good = records(5)
    tokens = [_token(r) for r in (capital, snake, plain_rec, escaped)]
    creds = capital["responseElements"]["credentials"]
    creds["SessionToken"] = creds.pop("sessionToken")
    creds = snake["responseElements"]["credentials"]
    creds["session_token"] = creds.pop("sessionToken")
    plain_rec.update(
        eventSource="ec2.amazonaws.com",
        eventName="RunInstances",
        requestParameters={"userData": {"SessionToken": _token(plain_rec)}},
        responseElements=None,
    )
    stored = [good, capital, snake, plain_rec]
    texts = [json.dumps(r, separators=(",", ":")) for r in stored]
    # the key with an escaped letter, as JSON allows
    texts.append(
        json.dumps(escaped, separators=(",", ":")).replace("sessionToken", "session\\u0054oken")
    )
    src = tmp_path / "src"
    if shape == "ndjson":
        write_bytes(src / "lines.ndjson", ("\n".join(texts) + "\n").encode())
    else:  # a delivery file's name: the compiled splitter reads it, and types the ec2 record
        document = '{"Records":[' + ",".join(texts) + "]}"
        write_bytes(src / delivery_key("123456789012"), gzip.compress(document.encode(), mtime=0))

    summary = run(lake, src)

    assert (summary.records_stored, summary.records_rejected) == (5, 0)
    text = _all_text(lake)
    for token in tokens:
        assert token not in text, token[:12]
    raw = stored_raw(lake)
    assert raw[capital["eventID"]]["responseElements"]["credentials"]["SessionToken"] == "REDACTED"
    assert raw[snake["eventID"]]["responseElements"]["credentials"]["session_token"] == "REDACTED"
    assert raw[plain_rec["eventID"]]["requestParameters"] == {
        "userData": {"SessionToken": "REDACTED"}
    }
    # read as CloudTrail's key once minified, and hashed
    assert raw[escaped["eventID"]]["responseElements"]["credentials"]["sessionToken"].startswith(
        "sha256:"
    )
    # what CloudTrail writes is hashed as before, and the rest of each record is kept
    assert raw[good["eventID"]]["responseElements"]["credentials"]["sessionToken"].startswith(
        "sha256:"
    )
    assert (
        raw[capital["eventID"]]["responseElements"]["credentials"]["accessKeyId"]
        == (capital["responseElements"]["credentials"]["accessKeyId"])
    )


def test_a_rejected_record_without_a_token_keeps_its_text(lake: Path, tmp_path: Path) -> None:
    rec = record(eventSource="s3.amazonaws.com", eventName="ListBuckets")
    rec.pop("eventTime")
    rec["requestParameters"] = {"blob": "QUJD" * 40}  # 160 base64 characters: not kept either
    write_bytes(tmp_path / "src" / "lines.ndjson", (json.dumps(rec) + "\n").encode())

    run(lake, tmp_path / "src")

    [row] = quarantine_rows(lake)
    assert row["reason"] == "no eventTime: the record cannot be placed in time"
    assert '"blob":"REDACTED"' in row["raw"] and '"eventName":"ListBuckets"' in row["raw"]


def test_each_token_is_hashed_with_its_own_value(lake: Path, tmp_path: Path) -> None:
    # the caller names its session tags: one named sessionToken, before the credentials in
    # the record, set the hash stored for the real token (every match took the first's hash)
    rec = record()
    rec["requestParameters"]["transitiveTagKeys"] = {"sessionToken": "chosen-by-the-caller"}
    write_delivery_file(tmp_path / "src" / "d.json.gz", [rec])

    run(lake, tmp_path / "src")

    salt = lakewriter.token_salt(lake)
    [stored] = stored_raw(lake).values()
    real = stored["responseElements"]["credentials"]["sessionToken"]
    chosen = stored["requestParameters"]["transitiveTagKeys"]["sessionToken"]
    assert real == "sha256:" + hashlib.sha256((salt + _token(rec)).encode()).hexdigest()
    theirs = hashlib.sha256((salt + "chosen-by-the-caller").encode()).hexdigest()
    assert chosen == "sha256:" + theirs


def test_account_and_time_values_a_partition_cannot_hold(lake: Path, tmp_path: Path) -> None:
    # `__HIVE_DEFAULT_PARTITION__` is the folder name Hive-style readers read back as NULL, and
    # an offset of +25:00 is no offset: the record went to another day
    hive, offset = records(2)
    hive["recipientAccountId"] = "__HIVE_DEFAULT_PARTITION__"
    offset["eventTime"] = "2026-11-01T23:00:00+25:00"
    write_delivery_file(tmp_path / "src" / "d.json.gz", [hive, offset])

    summary = run(lake, tmp_path / "src")

    assert (summary.records_stored, summary.records_rejected) == (1, 1)
    assert rows(lake, "select recipient_account_id from events") == [("invalid",)]
    [rejected] = quarantine_rows(lake)
    assert rejected["reason"].startswith("eventTime is not a timestamp")


@pytest.mark.parametrize(
    "user_agent", ['"sessionToken":"abc', 'x "sessionToken":"abc" y', '"sessionToken":"abc\\']
)
def test_a_token_like_user_agent_cannot_hide_its_file(
    lake: Path, tmp_path: Path, user_agent: str
) -> None:
    # the user agent is the caller's to choose: one cut after `"sessionToken":"` was redacted
    # into a string whose closing quote was escaped, the record stopped being JSON, and its
    # whole delivery file (everyone's calls of those minutes) was quarantined
    recs = records(3)
    recs[1]["userAgent"] = user_agent
    write_delivery_file(tmp_path / "src" / "d.json", recs)

    summary = run(lake, tmp_path / "src")

    assert (summary.records_stored, summary.files_quarantined) == (3, 0)
    [(agent,)] = rows(
        lake, "select user_agent from events where event_id = $id", {"id": recs[1]["eventID"]}
    )
    assert "abc" not in agent and "REDACTED" in agent


def test_lookup_events_with_a_broken_event_string_rejects_only_that_event(
    lake: Path, tmp_path: Path
) -> None:
    good, broken = records(2)
    token = broken["responseElements"]["credentials"]["sessionToken"]
    page = {
        "Events": [
            {"EventId": good["eventID"], "CloudTrailEvent": json.dumps(good)},
            {"EventId": broken["eventID"], "CloudTrailEvent": json.dumps(broken)[:-40]},
        ]
    }
    src = write_bytes(tmp_path / "lookup.json", json.dumps(page).encode())

    summary = run(lake, src)

    assert (summary.records_stored, summary.records_rejected) == (1, 1)
    [rejected] = quarantine_rows(lake)
    assert (rejected["source_position"], rejected["reason"]) == (1, "not valid JSON")
    assert token not in _all_text(lake)


def test_a_file_that_cannot_be_opened_is_named_and_read_at_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one unreadable file stopped the whole run: nothing beside it was stored
    import errno

    from pipeline import ingest as ingest_lib

    src, lake = tmp_path / "src", tmp_path / "lake"
    recs = records(6)
    for i, name in enumerate(("a.json", "b.ndjson", "c.json")):
        write_delivery_file(src / name, recs[2 * i : 2 * i + 2])
    locked = str(src / "b.ndjson")
    real_facts = ingest_lib._facts

    def facts(path: str) -> tuple[bool, int]:
        if path == locked:  # chmod 000 does not stop root, who runs CI
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_facts(path)

    monkeypatch.setattr(ingest_lib, "_facts", facts)
    first = run(lake, src)
    assert (first.files_read, first.files_unreadable, first.files_quarantined) == (2, 1, 0)
    assert (first.records_stored, first.records_rejected) == (4, 0)
    assert first.warnings == [
        f"{locked}: cannot be opened (Permission denied); not read this run, "
        "and read by the next run that lists it once it can be"
    ]
    assert quarantine_rows(lake) == []
    with pytest.raises(StrictIngestError, match="1 file\\(s\\) could not be opened"):
        ingest_lib.check_strict(first)

    monkeypatch.setattr(ingest_lib, "_facts", real_facts)
    fixed = run(lake, src)
    assert (fixed.files_unchanged, fixed.files_read, fixed.records_stored) == (2, 1, 2)
    keys = event_keys(lake, "event_id")
    assert len(keys) == len(set(keys)) == 6


def test_a_record_without_recipient_account_is_stored_once_whatever_its_folder(
    lake: Path, tmp_path: Path
) -> None:
    # its partition's account comes from the trail's folder in one shape and from the caller
    # in another: the second run looked for the records under the caller's account only and
    # stored them a second time
    recs = [r | {"userIdentity": r["userIdentity"] | {"accountId": ACCOUNT}} for r in records(3)]
    for r in recs:
        del r["recipientAccountId"]
    write_delivery_file(tmp_path / "src" / delivery_key(OTHER_ACCOUNT), recs)
    page = {"Events": [{"CloudTrailEvent": json.dumps(r)} for r in recs]}
    export = write_bytes(tmp_path / "exports" / "lookup.json", json.dumps(page).encode())

    first = run(lake, tmp_path / "src")
    second = run(lake, export)

    assert (first.records_stored, second.records_stored, second.records_duplicate) == (3, 0, 3)
    keys = event_keys(lake, "event_id")
    assert len(keys) == len(set(keys)) == 3


def test_scratch_copies_of_sources_are_private_to_the_lake_owner(
    lake: Path, tmp_path: Path
) -> None:
    # S3 downloads, slices and mended copies hold tokens in clear while a run reads them
    src = tmp_path / "src"
    write_delivery_file(src / "d.json", records(1))
    run(lake, src)
    for scratch in ("downloads", "tmp"):
        folder = lake / "_state" / scratch
        assert folder.is_dir() and folder.stat().st_mode & 0o077 == 0, scratch


def test_an_ingest_leaves_a_running_querys_spill_files_and_sweeps_a_killed_ones(
    lake: Path, tmp_path: Path
) -> None:
    # the recovery at the start of every ingest removed _state/tmp whole: an analyze spilling
    # there at the time failed ("Could not remove file .../duckdb_temp_...tmp"), so the nightly
    # job could not overlap a manual run
    src = tmp_path / "src"
    write_delivery_file(src / "d.json", records(1))
    run(lake, src)
    holder = (
        "import sys; from pathlib import Path; from pipeline import lake; "
        "d = lake.spill_dir(Path(sys.argv[1])); (d / 'duckdb_temp_block.tmp').write_bytes(b'x'); "
        "print(d, flush=True); sys.stdin.readline()"
    )
    live = subprocess.Popen(
        [sys.executable, "-c", holder, str(lake)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    killed = subprocess.Popen(
        [sys.executable, "-c", holder, str(lake)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert live.stdout is not None and killed.stdout is not None
        live_dir, killed_dir = (
            Path(live.stdout.readline().strip()),
            Path(killed.stdout.readline().strip()),
        )
        assert live_dir.parent == killed_dir.parent == lake / "_state" / "tmp"
        assert live_dir.stat().st_mode & 0o777 == 0o700
        killed.kill()
        killed.wait()

        run(lake, src)

        assert (live_dir / "duckdb_temp_block.tmp").is_file()
        assert not killed_dir.exists()
    finally:
        live.communicate("\n", timeout=60)
        killed.kill()
    assert not live_dir.exists()  # its process removes it at exit
    own = lakefs.spill_dir(lake).name  # this process's, which ran the ingests
    assert {p.name for p in (lake / "_state" / "tmp").iterdir()} == {own, f"{own}.held"}


@pytest.mark.parametrize("broken_line", [False, True])
def test_ndjson_with_a_deeply_nested_record_keeps_its_lines(
    lake: Path, tmp_path: Path, broken_line: bool
) -> None:
    # orjson stops at 1024 levels, DuckDB does not: the file was read as one document (every
    # record at line NULL, position 0), or with a broken line the deep record was rejected
    deep, plain = records(2)
    deep["requestParameters"] = "DEEP"
    nested = b'{"policy":' + b"[" * 1100 + b"]" * 1100 + b"}"
    body = orjson.dumps(deep).replace(b'"DEEP"', nested) + b"\n" + orjson.dumps(plain) + b"\n"
    write_bytes(tmp_path / "src" / "export.ndjson", body + (b"{oops\n" if broken_line else b""))

    summary = run(lake, tmp_path / "src")

    assert (summary.records_stored, summary.records_rejected) == (2, int(broken_line))
    assert sorted(rows(lake, "select source_line, event_id from events")) == [
        (0, deep["eventID"]),
        (1, plain["eventID"]),
    ]


def test_a_lone_surrogate_in_a_logged_value_cannot_hide_its_file(
    lake: Path, tmp_path: Path
) -> None:
    # JSON allows an escaped lone UTF-16 surrogate (\\ud800) and DuckDB refuses it: one in a
    # request parameter (the caller's to write) quarantined the whole delivery file, every
    # record of those minutes unanalysed. It is read as U+FFFD; an NDJSON export keeps its lines
    recs = records(6)
    recs[1]["requestParameters"] = {"description": "HIGH"}
    src = tmp_path / "src"
    text = orjson.dumps({"Records": recs[:3]}).replace(b'"HIGH"', b'"a\\ud800b"')
    write_bytes(src / "d.json.gz", gzip.compress(text))
    lines = [orjson.dumps(r) for r in recs[3:]]
    lines[1] = lines[1].replace(b'"example-session"', b'"x\\udc00"', 1)
    write_bytes(src / "export.ndjson", b"\n".join([*lines, b"{oops"]) + b"\n")

    summary = run(lake, src)

    assert (summary.files_quarantined, summary.records_stored, summary.records_rejected) == (
        0,
        6,
        1,
    )
    stored = stored_raw(lake)
    assert stored[recs[1]["eventID"]]["requestParameters"] == {"description": "a\ufffdb"}
    assert stored[recs[4]["eventID"]]["requestParameters"]["roleSessionName"] == "x\ufffd"
    got = sorted(rows(lake, "select source_line, source_position from events"), key=str)
    assert got == [(0, 0), (1, 1), (2, 2), (None, 0), (None, 1), (None, 2)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (rb'"\ud800"', rb'"\ufffd"'),
        (rb'"\udfff x"', rb'"\ufffd x"'),
        (rb'"\ud83d\ude00"', rb'"\ud83d\ude00"'),  # a pair: one character, kept
        (rb'"\\ud800"', rb'"\\ud800"'),  # an escaped backslash, then text
        (rb'"\\\ud800"', rb'"\\\ufffd"'),  # an escaped backslash, then an escape
        (rb'"\ud800\ud800\udc00"', rb'"\ufffd\ud800\udc00"'),
        (rb'"\ud800\\udc00"', rb'"\ufffd\\udc00"'),
        (rb'"plain"', rb'"plain"'),
    ],
)
def test_lone_surrogate_escapes_and_only_they_are_replaced(text: bytes, expected: bytes) -> None:
    from pipeline.slices import replace_lone_surrogates

    assert replace_lone_surrogates(text) == expected
    orjson.loads(expected)  # what DuckDB and orjson read


def test_a_gzip_with_zero_padding_is_read_whole(lake: Path, tmp_path: Path) -> None:
    # zeros after the last member (a copy through a block device or tape) are valid gzip, and
    # gzip -dc reads it; DuckDB stops at them, and the whole file was quarantined
    recs = records(6)
    src = tmp_path / "src"
    padded = gzip.compress(orjson.dumps({"Records": recs[:2]})) + b"\0" * 512
    write_bytes(src / "padded.json.gz", padded)
    lines = b"".join(orjson.dumps(r) + b"\n" for r in recs[2:5])
    write_bytes(src / "padded.ndjson.gz", gzip.compress(lines) + b"\0" * 512)
    write_bytes(src / "cut.json.gz", gzip.compress(orjson.dumps({"Records": recs[5:]}))[:-20])

    summary = run(lake, src)

    assert (summary.records_stored, summary.files_quarantined) == (5, 1)
    assert summary.quarantined_files == [str(src / "cut.json.gz")]
    got = sorted(rows(lake, "select source_uri, source_line, source_position from events"))
    assert got == [
        (str(src / "padded.json.gz"), None, 0),
        (str(src / "padded.json.gz"), None, 1),
        (str(src / "padded.ndjson.gz"), 0, 0),
        (str(src / "padded.ndjson.gz"), 1, 1),
        (str(src / "padded.ndjson.gz"), 2, 2),
    ]


def test_a_record_that_does_not_parse_after_redaction_is_rejected_alone() -> None:
    # typing failed for the whole batch (and its file was quarantined) when one record's text
    # was not JSON once its token was redacted; `try` keeps the failure to that record

    con = duckdb.connect()
    con.execute(
        "create temp table batch_files as select 'f.json' as local_path, "
        "'/src/f.json' as source_uri, null::varchar as account_hint"
    )
    good = json.dumps(records(1)[0])
    raw = (
        "select * from (values"
        " ('f.json', 'records', $good, null::varchar, null::bigint, 0::bigint),"
        " ('f.json', 'records', '{\"eventID\": \"x\"', null, null, 1))"
        " as t(filename, shape, raw_text, read_problem, line, position)"
    )
    sql = staging_mod.typing_sql(raw)
    got = con.execute(
        f"select source_position, reject_reason from ({sql}) order by 1",
        {"salt": "s", "run": "r", "good": good},
    ).fetchall()
    assert got == [
        (0, None),
        (1, "not valid JSON once its session token was redacted (please report it)"),
    ]


def test_a_file_the_batch_cannot_type_is_quarantined_not_a_traceback(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a file every reader accepts but whose records fail the typing step (a record shape this
    # version cannot handle, as a token with an escaped quote once did) stopped the whole run
    # with a traceback; it is now quarantined, named, and the rest of the batch is stored
    src = tmp_path / "src"
    recs = records(6)
    for i, name in enumerate(("a.json", "b.json", "c.ndjson")):
        write_delivery_file(src / name, recs[2 * i : 2 * i + 2])
    poisoned = str(src / "b.json")
    real = staging_mod.stage_files

    def stage_files(con: Any, files: list[str], *args: Any, **kwargs: Any) -> None:
        if any("b.json" in Path(f).name for f in files):  # the file or its gzip alias
            raise duckdb.InvalidInputException(
                "Invalid Input Error: Malformed JSON at byte 9 of input: unexpected character.  "
                'Input: "{\\"responseElements\\":{\\"credentials\\":{\\"sessionToken..."'
            )
        real(con, files, *args, **kwargs)

    monkeypatch.setattr(staging_mod, "stage_files", stage_files)
    summary = run(lake, src)

    assert (summary.files_quarantined, summary.records_stored) == (1, 4)
    assert summary.quarantined_files == [poisoned]
    [row] = quarantine_rows(lake)
    assert row["source_uri"] == poisoned
    assert row["reason"] == (
        "a record sts-audit cannot type (Malformed JSON at byte 9 of input: unexpected "
        "character.); please report it with this reason"
    )
    assert summary.reconciles


def _large_delivery_file(src: Path, count: int) -> list[dict[str, Any]]:
    recs = [record(eventID=f"00000000-0000-4000-8000-{n:012d}") for n in range(count)]
    write_bytes(src / "large.json.gz", gzip.compress(orjson.dumps({"Records": recs})))
    write_delivery_file(src / "small.json", records(2))
    return recs


def test_a_large_delivery_file_is_staged_alone_with_more_memory(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a delivery file of about 20 MB ran DuckDB out of memory (it parsed the document at each
    # shape test): the run failed, and so did every rerun. Here the batch's limit is lowered
    # so that a 13 MB file runs it short; the file is staged alone with a limit sized for it
    monkeypatch.setattr(staging_mod, "DUCKDB_MEMORY", "96MB")
    src = tmp_path / "src"
    recs = _large_delivery_file(src, 12_000)

    summary = run(lake, src)

    assert (summary.files_quarantined, summary.records_stored) == (0, 12_002)
    positions = dict(rows(lake, "select event_id, source_position from events"))
    assert all(positions[r["eventID"]] == n for n, r in enumerate(recs))


def test_a_batch_of_medium_files_that_runs_short_stages_each_file_alone(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no file is large, but together they run the batch out of memory: the run stopped with
    # DuckDB's error, and so did every rerun. Each file is staged alone instead
    monkeypatch.setattr(staging_mod, "DUCKDB_MEMORY", "64MB")
    src = tmp_path / "src"
    recs = records(24_000)
    for n in range(4):
        part = {"Records": recs[n * 6_000 : (n + 1) * 6_000]}
        write_bytes(src / f"part{n}.json.gz", gzip.compress(orjson.dumps(part)))
    assert all(
        len(gzip.decompress(f.read_bytes())) < badfiles_mod.LARGE_DOCUMENT
        for f in src.glob("*.json.gz")
    )
    staged_alone: list[str] = []
    stage_large = badfiles_mod._stage_large

    def spy(con: duckdb.DuckDBPyConnection, path: str, *args: Any) -> dict[str, str]:
        staged_alone.append(Path(path).name)
        return stage_large(con, path, *args)

    monkeypatch.setattr(badfiles_mod, "_stage_large", spy)

    summary = run(lake, src, batch_bytes=1 << 30)

    assert sorted(staged_alone) == [f"part{n}.json.gz" for n in range(4)]
    assert (summary.files_quarantined, summary.records_stored) == (0, 24_000)
    assert summary.reconciles


@pytest.mark.parametrize("command", ["ingest", "run"])
@pytest.mark.parametrize(
    ("raised", "says"),
    [
        # the advice was the analysis' `[analysis] memory_limit`, which ingest does not read,
        # in `ingest` and in the nightly `run`'s ingest step alike
        pytest.param(
            duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block"),
            "error: DuckDB ran out of memory (",
            id="DuckDB",
        ),
        # a container's memory limit reached outside DuckDB (a gunzip's buffer) printed a
        # MemoryError traceback
        pytest.param(
            MemoryError("Unable to allocate output buffer"),
            "error: this machine ran out of memory",
            id="Python",
        ),
    ],
)
def test_ingest_out_of_memory_is_one_line_with_ingest_advice(
    lake: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    raised: BaseException,
    says: str,
) -> None:
    from pipeline import ingest as ingest_lib

    def short(*args: Any, **kwargs: Any) -> IngestSummary:
        raise raised

    monkeypatch.setattr(ingest_lib, "_ingest", short)
    write_delivery_file(tmp_path / "src" / "a.json", records(1))

    code, err = main_in_process(
        monkeypatch, capsys, command, str(tmp_path / "src"), "--lake", str(lake)
    )

    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(says), lines
    assert "ingest the sources a part at a time" in lines[0]
    assert "[analysis]" not in lines[0] and "Traceback" not in err


def test_a_full_disk_for_spill_files_is_not_called_out_of_memory(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # DuckDB caps its spill files at 90% of the disk's free space and then raises its
    # out-of-memory error: the advice was to raise memory_limit or free memory
    from pipeline import ingest as ingest_lib

    def full(*args: Any, **kwargs: Any) -> IngestSummary:
        raise duckdb.OutOfMemoryException(
            "Out of Memory Error: failed to offload data block of size 96.0 KiB "
            "(26.1 MiB/26.2 MiB used)."
        )

    monkeypatch.setattr(ingest_lib, "_ingest", full)
    write_delivery_file(tmp_path / "src" / "a.json", records(1))

    code, err = main_in_process(
        monkeypatch, capsys, "ingest", str(tmp_path / "src"), "--lake", str(lake)
    )

    [line] = err.splitlines()
    assert code == 1 and line.startswith("error: no disk space left for DuckDB's spill files (")
    assert "free space on the lake's disk" in line and "Traceback" not in err


def test_a_state_file_that_cannot_be_written_is_named_and_leaves_no_copy(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a full disk while a manifest file was written: "No space left on device" named no file,
    # and each failed run left another half-written hidden copy, holding the space that was short
    import errno

    def full(tmp: Path, path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    target = lake / "_state" / "manifest" / "run-b00000.json"
    monkeypatch.setattr(manifest, "publish", full)
    with pytest.raises(OSError, match="No space left on device") as err:
        manifest.write_atomic(target, b"[]")
    assert err.value.filename == str(target)
    assert list(target.parent.iterdir()) == []

    # what a killed run leaves (no chance to remove it) goes at the next run's recovery
    monkeypatch.undo()
    stale = manifest.temp_path(target)
    stale.write_bytes(b"[half")
    write_delivery_file(tmp_path / "src" / "a.json", records(1))
    run(lake, tmp_path / "src")
    assert not stale.exists()


def test_an_export_with_a_very_long_line_is_staged_alone_with_its_lines(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging_mod, "DUCKDB_MEMORY", "96MB")
    src = tmp_path / "src"
    small, long = records(2)
    long["userAgent"] = "aws-cli/2.15.0 " + "x" * 9_000_000
    write_bytes(src / "export.ndjson", orjson.dumps(small) + b"\n" + orjson.dumps(long) + b"\n")
    write_delivery_file(src / "other.json", records(3)[2:])

    summary = run(lake, src)

    assert (summary.files_quarantined, summary.records_stored) == (0, 3)
    lines = "select source_line, length(user_agent) from events where source_line is not null"
    assert sorted(rows(lake, lines)) == [
        (0, len(small["userAgent"])),
        (1, len(long["userAgent"])),
    ]


def test_a_28_mb_delivery_file_fits_the_batch_memory(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the document is parsed once for its shape (and its Records once more), not at each test
    def no_retry(*args: Any) -> str | None:
        raise AssertionError("staged alone: the batch ran out of memory")

    monkeypatch.setattr(badfiles_mod, "_stage_large", no_retry)
    src = tmp_path / "src"
    _large_delivery_file(src, 25_000)
    assert len(gzip.decompress((src / "large.json.gz").read_bytes())) > 27_000_000

    summary = run(lake, src)

    assert (summary.files_quarantined, summary.records_stored) == (0, 25_002)


def test_large_files_staged_alone_are_still_checked_and_mended(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a large file staged alone skipped the checks of the batch path: one cut short, or an
    # export with a broken line, ended the run with a traceback
    monkeypatch.setattr(staging_mod, "DUCKDB_MEMORY", "96MB")
    src = tmp_path / "src"
    recs = _large_delivery_file(src, 12_000)  # large.json.gz, and small.json with 2 records
    cut = gzip.compress(orjson.dumps({"Records": recs[:11_000]}))
    write_bytes(src / "cut.json.gz", cut[: len(cut) // 2])
    lines = [orjson.dumps(r) for r in records(12_000)]
    lines[5] = b"{oops"
    write_bytes(src / "export.ndjson", b"\n".join(lines) + b"\n")

    # one batch (a file larger than a batch would be read a slice at a time): it runs short,
    # and each large file is staged alone
    summary = run(lake, src, batch_bytes=1 << 30)

    assert summary.quarantined_files == [str(src / "cut.json.gz")]
    assert (summary.records_stored, summary.records_rejected) == (12_002 + 11_999, 1)
    [bad_line] = [r for r in quarantine_rows(lake) if r["source_line"] is not None]
    assert (bad_line["source_uri"], bad_line["source_line"]) == (str(src / "export.ndjson"), 5)


def test_a_delivery_file_too_large_for_the_machine_is_quarantined_with_the_fix(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging_mod, "DUCKDB_MEMORY", "96MB")
    monkeypatch.setattr(staging_mod, "BATCH_MEMORY", 96 << 20)
    monkeypatch.setattr(badfiles_mod, "_machine_memory", lambda: 100 << 20)
    src = tmp_path / "src"
    _large_delivery_file(src, 12_000)

    summary = run(lake, src)

    assert (summary.files_quarantined, summary.records_stored) == (1, 2)
    [row] = quarantine_rows(lake)
    assert row["source_uri"] == str(src / "large.json.gz")
    assert row["reason"].startswith("a JSON document or line of 12 MiB, too large for this")
    assert "jq -c '.Records[]'" in row["reason"]


def test_a_folder_that_cannot_be_listed_is_named_and_read_at_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one unreadable day folder stopped the whole archive's run with an error
    import errno

    from pipeline import ingest as ingest_lib
    from pipeline import local_files

    src, lake = tmp_path / "src", tmp_path / "lake"
    recs = records(6)
    for i, day in enumerate(("01", "02", "03")):
        write_delivery_file(src / day / "d.json", recs[2 * i : 2 * i + 2])
    locked = str(src / "02")
    real_open = os.open

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path) == locked:  # chmod 000 does not stop root, who runs CI
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(local_files.os, "open", open_)
    first = run(lake, src)
    assert (first.files_read, first.folders_unreadable, first.records_stored) == (2, 1, 4)
    assert first.warnings == [
        f"{locked}: folder cannot be listed (Permission denied); its files were not read this "
        "run, and are read by the next run that can list it"
    ]
    with pytest.raises(StrictIngestError, match="1 folder\\(s\\) could not be listed"):
        ingest_lib.check_strict(first)

    monkeypatch.setattr(local_files.os, "open", real_open)
    fixed = run(lake, src)
    assert (fixed.files_unchanged, fixed.files_read, fixed.records_stored) == (2, 1, 2)
    keys = event_keys(lake, "event_id")
    assert len(keys) == len(set(keys)) == 6


def test_a_name_that_is_not_utf8_is_named_and_left_out(lake: Path, tmp_path: Path) -> None:
    # a file or folder named in Latin-1 stopped the run with a traceback (the listing could not
    # hold the name); it is left out with a warning, as a file that cannot be opened
    src = tmp_path / "src"
    recs = records(3)
    write_delivery_file(src / "ok.json", recs[:1])
    latin = src / os.fsdecode(b"caf\xe9.json")  # the bytes as lone surrogates, as a listing has
    latin.write_bytes(orjson.dumps({"Records": recs[1:2]}))
    (src / os.fsdecode(b"d\xe9p")).mkdir()
    (src / os.fsdecode(b"d\xe9p") / "x.json").write_bytes(orjson.dumps({"Records": recs[2:]}))

    summary = run(lake, src)

    assert (summary.records_stored, summary.files_unreadable, summary.folders_unreadable) == (
        1,
        1,
        1,
    )
    assert sorted(summary.warnings) == [
        f"{src}/caf\\xe9.json: its name is not UTF-8, which the lake needs; not read (rename it)",
        f"{src}/d\\xe9p: its name is not UTF-8, which the lake needs; not read (rename it)",
    ]
    from pipeline import ingest as ingest_lib
    from pipeline.errors import SourceError

    with pytest.raises(StrictIngestError):
        ingest_lib.check_strict(summary)
    with pytest.raises(SourceError, match="caf\\\\xe9.json: its name is not UTF-8"):
        run(tmp_path / "lake2", str(latin))


def test_a_source_that_cannot_be_listed_is_still_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the folder the user named is not one folder of many: nothing would be read
    import errno

    from pipeline import local_files
    from pipeline.errors import SourceError

    src = tmp_path / "src"
    write_delivery_file(src / "d.json", records(1))
    real_open = os.open

    def open_(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path) == str(src):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(local_files.os, "open", open_)
    with pytest.raises(SourceError, match="cannot read it \\(Permission denied\\)"):
        run(tmp_path / "lake", src)


@pytest.mark.parametrize("gzipped", [False, True])
def test_ndjson_that_starts_with_a_byte_order_mark_keeps_its_lines(
    lake: Path, tmp_path: Path, gzipped: bool
) -> None:
    # a BOM made the file read as JSON documents (no line numbers), and with a bad line the
    # whole file was quarantined, or its good first record rejected ("BOM is not supported")
    one, two = records(2)
    text = b"\xef\xbb\xbf" + b"\n".join([orjson.dumps(one), orjson.dumps(two), b"{oops"]) + b"\n"
    name = "export.ndjson.gz" if gzipped else "export.ndjson"
    src = write_bytes(tmp_path / "src" / name, gzip.compress(text) if gzipped else text)
    summary = run(lake, src)
    assert (summary.files_quarantined, summary.records_stored, summary.records_rejected) == (
        0,
        2,
        1,
    )
    assert sorted(rows(lake, "select source_line, event_id from events")) == [
        (0, one["eventID"]),
        (1, two["eventID"]),
    ]
    [bad] = quarantine_rows(lake)
    assert bad["source_line"] == 2 and bad["reason"].startswith("not valid JSON")


def test_the_commands_a_summary_suggests_quote_the_lake_for_the_shell(tmp_path: Path) -> None:
    # `--lake sp ace'q` was printed as it is: pasted, the command named another folder
    import shlex

    lake = tmp_path / "sp ace'q"
    src = write_bytes(tmp_path / "src" / "bad.json", b"not json")
    summary = ingest([str(src)], lake)
    hint = render_summary(summary).splitlines()[-1]
    assert hint == (
        "  quarantined: 1 file(s), 0 record(s);"
        f" see them with: sts-audit quarantine --lake {shlex.quote(str(lake))}"
    )
    assert shlex.split(hint.split("see them with: ", 1)[1])[-1] == str(lake)


def test_a_file_read_again_does_not_quarantine_its_rejected_records_again(
    lake: Path, tmp_path: Path
) -> None:
    # an NDJSON export appended to is read again whole: its bad line was quarantined (and
    # counted as rejected, failing --strict) once per run
    one, two, three = records(3)
    src = tmp_path / "src" / "export.ndjson"
    write_bytes(src, b"\n".join([orjson.dumps(one), b"{oops", orjson.dumps(two)]) + b"\n")
    first = run(lake, src)
    assert (first.records_stored, first.records_rejected) == (2, 1)

    with src.open("ab") as handle:
        handle.write(orjson.dumps(three) + b"\n")
    again = run(lake, src)
    assert (again.files_read, again.records_read) == (1, 4)
    assert (again.records_stored, again.records_duplicate, again.records_rejected) == (1, 3, 0)
    assert again.reconciles
    [bad] = quarantine_rows(lake)
    assert (bad["source_line"], bad["raw"]) == (1, "{oops")

    # a new bad line in the file is still rejected and quarantined
    with src.open("ab") as handle:
        handle.write(b"{broken\n")
    last = run(lake, src)
    assert (last.records_rejected, last.records_duplicate) == (1, 4)
    assert sorted(r["source_line"] for r in quarantine_rows(lake)) == [1, 4]


def test_a_file_quarantined_half_uploaded_and_read_whole_later_leaves_the_listing(
    lake: Path, tmp_path: Path
) -> None:
    # the nightly job listed a delivery file while its upload was half done; the next night
    # read the whole file, yet `sts-audit quarantine` listed it for ever (a run over the files
    # as they are lists nothing)
    import gzip
    import os

    from pipeline.quarantine import quarantined

    src = tmp_path / "src"
    whole = gzip.compress(orjson.dumps({"Records": records(2)}))
    path = write_bytes(src / delivery_key(ACCOUNT), whole[: len(whole) // 2])
    first = run(lake, src)
    assert first.files_quarantined == 1
    [listed] = quarantined(lake)
    assert listed["source_uri"] == str(path) and listed["source_position"] is None

    # a record rejected in another file stays listed: a file read again never quarantines
    # the records it already holds
    write_bytes(src / "export.ndjson", orjson.dumps(records(1)[0]) + b"\n{oops\n")
    path.write_bytes(whole)
    os.utime(path, ns=(1, 1))  # another version: size and mtime
    second = run(lake, src)
    assert (second.files_quarantined, second.records_stored) == (0, 3)
    assert [(r["source_uri"], r["source_line"]) for r in quarantined(lake)] == [
        (str(src / "export.ndjson"), 1)
    ]
    assert len(quarantine_rows(lake)) == 2  # the lake keeps the history


def test_the_quarantine_listing_reads_a_manifest_an_ingest_folds_meanwhile(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an ingest folds the manifest's batch files into a part between the listing's glob and
    # its read: `sts-audit quarantine` failed with "No files found"
    import gzip

    from pipeline import catalog, manifest
    from pipeline.quarantine import quarantined

    src = tmp_path / "src"
    whole = gzip.compress(orjson.dumps({"Records": records(2)}))
    write_bytes(src / delivery_key(ACCOUNT), whole[: len(whole) // 2])
    run(lake, src)
    listed = manifest.files
    folds: list[int] = []

    def folded_after_listing(state_dir: Path) -> list[Path]:
        found = listed(state_dir)
        if found and not folds:
            monkeypatch.setattr(manifest, "files", listed)  # the fold lists them itself
            folds.append(catalog.compact(duckdb.connect(), state_dir, "20991231T235959-ffffff"))
            monkeypatch.setattr(manifest, "files", folded_after_listing)
        return found

    monkeypatch.setattr(manifest, "files", folded_after_listing)
    [row] = quarantined(lake)
    assert row["source_position"] is None
    assert folds and folds[0] > 0 and not listed(lake / "_state")  # the files were folded


def _container_cases() -> list[tuple[str, str, int, list[int]]]:
    """(name, file text, records stored, positions rejected): containers that are not lists,
    LookupEvents entries without their event, records that carry a container's key."""
    one, two = records(2)
    lines = "\n".join
    return [
        ("records-object", json.dumps({"Records": one}), 0, [0]),
        ("records-string", json.dumps({"Records": "x"}), 0, [0]),
        ("records-null", json.dumps({"Records": None}), 0, [0]),
        ("events-string", json.dumps({"Events": "x"}), 0, [0]),
        (
            "events-entry-without-event",
            json.dumps({"Events": [{"EventId": "1"}, {"CloudTrailEvent": json.dumps(one)}]}),
            1,
            [0],
        ),
        ("events-entry-null", json.dumps({"Events": [{"CloudTrailEvent": None}]}), 0, [0]),
        ("ndjson-records-object", lines([json.dumps({"Records": one}), json.dumps(two)]), 1, [0]),
        ("record-with-events-key", json.dumps({**one, "Events": [1]}), 1, []),
        ("record-with-records-key", json.dumps({**one, "Records": [1]}), 1, []),
        (
            "ndjson-record-with-digest-key",
            lines([json.dumps(one), json.dumps({**two, "digestStartTime": "x"})]),
            2,
            [],
        ),
    ]


@pytest.mark.parametrize(
    ("text", "stored", "rejected_at"),
    [case[1:] for case in _container_cases()],
    ids=[case[0] for case in _container_cases()],
)
def test_no_value_of_a_container_that_is_not_a_list_is_dropped(
    lake: Path, tmp_path: Path, text: str, stored: int, rejected_at: list[int]
) -> None:
    # each of these read as zero records and reconciled ("0 read ... [ok]"): the values vanished
    src = write_bytes(tmp_path / "src" / "odd.json", text.encode())
    summary = run(lake, src)
    assert summary.reconciles
    assert (summary.files_quarantined, summary.files_skipped_digest) == (0, 0)
    assert (summary.records_stored, summary.records_rejected) == (stored, len(rejected_at))
    rows = quarantine_rows(lake)
    assert sorted(r["source_position"] for r in rows) == rejected_at
    assert all(r["reason"] for r in rows)


# --- Cognito identity pools (data events, cloudtrail-semantics.md §3.8) ---------------------

COGNITO_IDENTITY = "us-east-1:11111111-2222-3333-4444-555555555555"
COGNITO_ROLE = f"arn:aws:iam::{ACCOUNT}:role/Cognito_ExamplePoolAuth_Role"


def cognito_record(event_name: str = "GetCredentialsForIdentity", **overrides: Any) -> Any:
    """A Cognito identity-pool data event; GetCredentialsForIdentity returns credentials."""
    response: dict[str, Any] = {"identityId": COGNITO_IDENTITY}
    if event_name == "GetCredentialsForIdentity":
        response["credentials"] = {
            "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
            "sessionToken": "IQoJb3JpZ2luX2VjCOGNITOEXAMPLETOKEN+/=",
            "expiration": "Jan 19, 2023 5:55:08 PM",
        }
    fields: dict[str, Any] = {
        "eventTime": "2023-01-19T16:55:08Z",
        "eventSource": "cognito-identity.amazonaws.com",
        "eventName": event_name,
        "userIdentity": {"type": "Unknown", "principalId": "Unknown"},
        "eventCategory": "Data",
        "managementEvent": False,
        "readOnly": False,
        "requestParameters": {
            "identityId": COGNITO_IDENTITY,
            "logins": {
                "cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE": (
                    "HIDDEN_DUE_TO_SECURITY_REASONS"
                )
            },
        },
        "responseElements": response,
    }
    return record(**(fields | overrides))


def test_an_updated_data_correction_is_typed_and_replaces_its_original(
    lake: Path, tmp_path: Path
) -> None:
    # addendum (1.08): a correction carries a new eventID and the original's; the analysis
    # made a session of each, and counted each call made with the key twice
    original, use = records(2)
    corrected = copy.deepcopy(original)
    corrected["eventID"] = "corrected-" + original["eventID"]
    corrected["addendum"] = {
        "reason": "UPDATED_DATA",
        "updatedFields": "sourceIdentity",
        "originalRequestID": original["requestID"],
        "originalEventID": original["eventID"],
    }
    run(lake, write_delivery_file(tmp_path / "src" / "d.json.gz", [original, corrected, use]))
    got = rows(
        lake,
        "select event_id, addendum_reason, addendum_original_event_id from events"
        " where addendum_reason is not null",
    )
    assert got == [(corrected["eventID"], "UPDATED_DATA", original["eventID"])]

    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["sessions", "--lake", str(lake), "--format", "json"])
    assert result.exit_code == 0, result.output
    issuing = {json.loads(line)["issue_event_id"] for line in result.stdout.splitlines()}
    assert corrected["eventID"] in issuing and original["eventID"] not in issuing


def test_cognito_get_credentials_for_identity_is_typed(lake: Path, tmp_path: Path) -> None:
    with_role = cognito_record(
        requestParameters={"identityId": COGNITO_IDENTITY, "customRoleArn": COGNITO_ROLE}
    )
    # GetId names the identity only in its response
    get_id = cognito_record("GetId", requestParameters={"identityPoolId": "us-east-1:EXAMPLE"})
    run(lake, write_delivery_file(tmp_path / "src" / "d.json.gz", [with_role, get_id]))

    got = rows(
        lake,
        "select event_name, event_category, management_event, user_type, issued_access_key_id,"
        " expiration, cognito_identity_id, req_custom_role_arn, req_role_arn from events"
        " order by event_name",
    )
    assert got == [
        (
            "GetCredentialsForIdentity",
            "Data",
            False,
            "Unknown",
            "ASIAIOSFODNN7EXAMPLE",
            dt.datetime(2023, 1, 19, 17, 55, 8, tzinfo=UTC),
            COGNITO_IDENTITY,
            COGNITO_ROLE,
            None,
        ),
        ("GetId", "Data", False, "Unknown", None, None, COGNITO_IDENTITY, None, None),
    ]


def test_cognito_session_token_is_hashed(lake: Path, tmp_path: Path) -> None:
    rec = cognito_record()
    token = rec["responseElements"]["credentials"]["sessionToken"]
    run(lake, write_delivery_file(tmp_path / "src" / "d.json.gz", [rec]))

    [(raw, response)] = rows(lake, "select raw, response_elements from events")
    for text in (raw, response):
        assert token not in text
    for doc in (orjson.loads(raw)["responseElements"], orjson.loads(response)):
        hashed = doc["credentials"]["sessionToken"]
        assert hashed.startswith("sha256:") and len(hashed) == len("sha256:") + 64
    assert token not in _all_text(lake)


def test_a_lake_written_before_a_column_existed_reads_it_as_null(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    part = lake / "events" / "event_date=2023-01-19" / f"recipient_account_id={ACCOUNT}"
    part.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(
        "copy (select 'e1' as event_id, 'GetId' as event_name) to $p (format parquet)",
        {"p": str(part / "part-old.parquet")},
    )
    con.close()

    got = rows(lake, "select event_id, cognito_identity_id, req_custom_role_arn from events")

    assert got == [("e1", None, None)]


# --- the real public samples -----------------------------------------------------------------


def _count_records(path: Path) -> int:
    if path.suffix in (".ndjson", ".jsonl"):
        return sum(1 for line in path.read_bytes().splitlines() if line.strip())
    doc = orjson.loads(path.read_bytes())
    if isinstance(doc, list):
        return len(doc)
    if "Records" in doc:
        return len(doc["Records"])
    return 1


def test_real_samples_ingest_with_every_record_accounted_for(lake: Path) -> None:
    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent")
    files = sorted(p for p in REAL.rglob("*") if p.is_file() and p.suffix in (".json", ".ndjson"))
    expected = sum(_count_records(p) for p in files)

    summary = run(lake, REAL)

    assert summary.files_read == len(files) and summary.files_quarantined == 0
    assert summary.records_read == expected
    assert summary.records_read == (
        summary.records_stored + summary.records_duplicate + summary.records_rejected
    )
    assert rows(lake, "select count(*) from events") == [(summary.records_stored,)]
    quarantined = quarantine_rows(lake)
    assert len(quarantined) == summary.records_rejected
    for row in quarantined:
        assert set(row) == {
            "source_uri",
            "source_position",
            "source_line",
            "reason",
            "raw",
            "ingest_run",
        }
        assert row["reason"] and row["source_uri"].startswith(str(REAL.resolve()))
        assert row["source_position"] is not None and row["raw"]
        assert row["ingest_run"] == summary.run_id
    # the manifest's per-file counts reconcile with the run too
    manifest = [
        e
        for p in (lake / "_state" / "manifest").glob("*.json")
        for e in orjson.loads(p.read_bytes())
    ]
    ingested = [e for e in manifest if e["status"] == "ingested"]
    assert sum(e["records"] for e in ingested) == expected
    assert sum(e["rejected"] for e in ingested) == summary.records_rejected


# --- dedupe ----------------------------------------------------------------------------------


def test_same_record_in_two_files_is_stored_once(lake: Path, tmp_path: Path) -> None:
    rec = record()
    write_delivery_file(tmp_path / "src" / "org-trail.json.gz", [rec, *records(2)])
    write_delivery_file(tmp_path / "src" / "account-trail.json.gz", [rec])
    # the same event again, as NDJSON with other spacing: same content, same event
    write_bytes(tmp_path / "src" / "export.ndjson", (json.dumps(rec, indent=None) + "\n").encode())

    summary = run(lake, tmp_path / "src")

    assert (summary.records_read, summary.records_stored, summary.records_duplicate) == (5, 3, 2)
    assert summary.conflicts == 0
    assert rows(
        lake, "select count(*) from events where event_id = $id", {"id": rec["eventID"]}
    ) == [(1,)]


def test_same_event_id_with_other_content_keeps_both_and_counts_a_conflict(
    lake: Path, tmp_path: Path
) -> None:
    first = record()
    changed = copy.deepcopy(first) | {"errorCode": "AccessDenied"}
    write_delivery_file(tmp_path / "a" / "one.json.gz", [first])
    write_delivery_file(tmp_path / "b" / "two.json.gz", [changed])

    one = run(lake, tmp_path / "a")
    two = run(lake, tmp_path / "b")

    assert (one.conflicts, two.conflicts) == (0, 1)
    assert (two.records_stored, two.records_duplicate) == (1, 0)
    got = rows(
        lake,
        "select error_code from events where event_id = $id order by 1",
        {"id": first["eventID"]},
    )
    assert got == [("AccessDenied",), (None,)]


def _keys_sorted(rec: dict[str, Any]) -> str:
    return json.dumps(rec, sort_keys=True)


@pytest.mark.parametrize("batching", ["one batch", "a batch a file", "two runs"])
def test_the_same_event_with_its_keys_in_another_order_is_a_duplicate(
    tmp_path: Path, batching: str
) -> None:
    # re-serialized by another tool (jq -S, a map): the text differs, the content does not.
    # It was stored twice and counted as a conflict, and sessions listed it twice
    recs = [*records(3), record(eventName="ListBuckets", eventSource="s3.amazonaws.com")]
    changed = copy.deepcopy(recs[0]) | {"errorCode": "AccessDenied"}  # a real conflict
    write_bytes(tmp_path / "a" / "a.ndjson", "".join(json.dumps(r) + "\n" for r in recs).encode())
    sorted_text = "".join(_keys_sorted(r) + "\n" for r in [*recs, changed])
    write_bytes(
        tmp_path / ("a" if batching != "two runs" else "b") / "b.ndjson", sorted_text.encode()
    )
    lake = tmp_path / "lake"

    if batching == "two runs":
        first = run(lake, tmp_path / "a")
        summary = run(lake, tmp_path / "b")
        assert first.records_stored == 4
        stored, duplicate = summary.records_stored + 4, summary.records_duplicate
        conflicts = first.conflicts + summary.conflicts
    else:
        apart = {"batch_bytes": 1} if batching == "a batch a file" else {}
        summary = run(lake, tmp_path / "a", **apart)
        stored, duplicate, conflicts = (
            summary.records_stored,
            summary.records_duplicate,
            summary.conflicts,
        )

    assert (stored, duplicate, conflicts) == (5, 4, 1)
    # the first copy in source order is the one kept: a.ndjson's text
    kept = rows(lake, "select source_uri, raw from events where error_code is null order by 1")
    assert {uri.rsplit("/", 1)[1] for uri, _ in kept} == {"a.ndjson"}


def test_conflict_count_does_not_depend_on_batching(tmp_path: Path) -> None:
    first = record()
    variants = [first, first | {"errorCode": "AccessDenied"}, first | {"errorCode": "Throttling"}]
    for i, rec in enumerate(variants):
        # CloudTrail's own files: a batch each, never cut into slices of their records
        key = delivery_key(ACCOUNT, unique=f"EXAMPLEabcdef{i:04d}")
        write_delivery_file(tmp_path / "src" / key, [rec, *records(20)])

    together = run(tmp_path / "lake-one-batch", tmp_path / "src")
    apart = run(tmp_path / "lake-per-file", tmp_path / "src", batch_bytes=1)

    assert apart.batches == 3 and together.batches == 1
    assert together.records_stored == apart.records_stored == 63
    # two records reuse an eventID already taken by other content
    assert together.conflicts == apart.conflicts == 2


def test_records_without_event_id_get_the_same_generated_id_in_every_lake(tmp_path: Path) -> None:
    recs = [record(eventID=DROP), record(eventID=DROP, eventName="GetCallerIdentity")]
    write_delivery_file(tmp_path / "src" / "a.json.gz", recs)
    write_bytes(tmp_path / "src2" / "b.json", json.dumps(recs).encode())

    first = run(tmp_path / "lake1", tmp_path / "src")
    second = run(tmp_path / "lake2", tmp_path / "src2")

    ids1 = event_keys(tmp_path / "lake1", "event_id", "event_id_generated")
    ids2 = event_keys(tmp_path / "lake2", "event_id", "event_id_generated")
    assert ids1 == ids2
    assert len(ids1) == 2 and all(eid.startswith("gen-") and gen for eid, gen in ids1)
    assert first.records_stored == second.records_stored == 2
    # and the same id-less record seen again is a duplicate, not a new event
    again = run(tmp_path / "lake1", tmp_path / "src2")
    assert (again.records_stored, again.records_duplicate) == (0, 2)


def test_cross_account_copies_are_both_kept(lake: Path, tmp_path: Path) -> None:
    shared = "50000000-0000-4000-8000-000000000001"
    caller_copy = record(sharedEventID=shared, recipientAccountId=ACCOUNT)
    owner_copy = record(
        sharedEventID=shared,
        requestID=caller_copy["requestID"],
        recipientAccountId=OTHER_ACCOUNT,
        userIdentity={
            "type": "AWSAccount",
            "principalId": "AIDACKCEVSQ6C2EXAMPLE",
            "accountId": ACCOUNT,
        },
    )
    write_delivery_file(tmp_path / "src" / delivery_key(ACCOUNT), [caller_copy])
    write_delivery_file(tmp_path / "src" / delivery_key(OTHER_ACCOUNT), [owner_copy])

    summary = run(lake, tmp_path / "src")

    assert (summary.records_stored, summary.records_duplicate, summary.conflicts) == (2, 0, 0)
    got = rows(
        lake,
        "select recipient_account_id, user_type from events where shared_event_id = $s order by 1",
        {"s": shared},
    )
    assert got == [(OTHER_ACCOUNT, "AWSAccount"), (ACCOUNT, "IAMUser")]


def test_same_content_under_a_new_path_in_a_later_run_stores_nothing(
    lake: Path, tmp_path: Path
) -> None:
    recs = records(4)
    write_delivery_file(tmp_path / "day1" / "a.json.gz", recs)
    write_delivery_file(tmp_path / "day2" / "redelivered.json.gz", list(reversed(recs)))

    first = run(lake, tmp_path / "day1")
    before = event_keys(lake)
    second = run(lake, tmp_path / "day2")

    assert first.records_stored == 4
    assert (
        second.files_read,
        second.records_read,
        second.records_stored,
        second.records_duplicate,
    ) == (1, 4, 0, 4)
    assert event_keys(lake) == before


# --- quarantine ------------------------------------------------------------------------------


@pytest.fixture
def messy_source(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    src = tmp_path / "messy"
    good = records(3)
    bad_time = record(eventTime="2026-13-45 soon")
    truncated = gzip.compress(orjson.dumps({"Records": records(200)}))
    files = {
        "good": write_delivery_file(src / "good.json.gz", [*good, bad_time]),
        "truncated": write_bytes(src / "truncated.json.gz", truncated[: len(truncated) // 2]),
        "not_json": write_bytes(src / "notes.json", b"this is not JSON at all\n"),
        "not_cloudtrail": write_bytes(src / "hello.json", b'{"hello": 1}'),
        "also_good": write_bytes(src / "more.ndjson", orjson.dumps(record()) + b"\n"),
    }
    return src, files


def test_bad_files_and_records_are_quarantined_and_the_run_continues(
    lake: Path, messy_source: tuple[Path, dict[str, Path]]
) -> None:
    src, files = messy_source

    summary = run(lake, src)

    assert summary.files_seen == 5 and summary.files_read == 3
    assert summary.files_quarantined == 2
    assert sorted(summary.quarantined_files) == sorted(
        [str(files["truncated"]), str(files["not_json"])]
    )
    assert (summary.records_stored, summary.records_rejected) == (4, 2)
    reasons = {
        (Path(q["source_uri"]).name, q["source_position"]): q["reason"]
        for q in quarantine_rows(lake)
    }
    assert set(reasons) == {
        ("truncated.json.gz", None),
        ("notes.json", None),
        ("good.json.gz", 3),
        ("hello.json", 0),
    }
    assert "gzip" in reasons[("truncated.json.gz", None)].lower()
    assert "json" in reasons[("notes.json", None)].lower()
    assert reasons[("hello.json", 0)].startswith("not a CloudTrail record")
    assert reasons[("good.json.gz", 3)].startswith("eventTime is not a timestamp")
    # the manifest remembers the quarantined files, so a rerun does not retry them
    rerun = run(lake, src)
    assert rerun.files_unchanged == 5 and rerun.records_read == 0


@pytest.mark.parametrize("name", ["bad\nname.json", "bad[1]\r\nname*.json"])
def test_a_quarantine_reason_is_not_cut_at_a_newline_in_the_file_name(
    lake: Path, tmp_path: Path, name: str
) -> None:
    # the reason is DuckDB's first line, which quotes the path: it stopped at the name's newline
    src = tmp_path / "src"
    src.mkdir()
    bad = write_bytes(src / name, b"not json")
    run(lake, src)
    (row,) = quarantine_rows(lake)
    assert row["source_uri"] == str(bad)
    escaped = str(bad).replace("\r", "\\r").replace("\n", "\\n")
    assert row["reason"].startswith("not valid JSON: "), row["reason"]
    assert escaped in row["reason"] or lakefs.glob_escape(escaped) in row["reason"], row["reason"]
    assert "\n" not in row["reason"] and "\r" not in row["reason"]


def test_quarantine_written_before_source_line_existed_still_lists(tmp_path: Path) -> None:
    # a lake whose quarantine files predate the `source_line` column
    folder = tmp_path / "lake" / "quarantine" / "ingest_run=20260101T000000-abcdef"
    folder.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "source_uri": ["/data/x.json"],
                "source_position": pa.array([3], pa.int32()),
                "reason": ["no eventTime: the record cannot be placed in time"],
                "raw": ["{}"],
            }
        ),
        folder / "part-b00000.parquet",
    )
    (row,) = quarantine_mod.quarantined(tmp_path / "lake")
    assert (row["source_uri"], row["source_line"], row["source_position"]) == (
        "/data/x.json",
        None,
        3,
    )


def test_a_batch_of_only_unreadable_files_is_quarantined(
    lake: Path, messy_source: tuple[Path, dict[str, Path]]
) -> None:
    _, files = messy_source

    summary = run(lake, files["truncated"], files["not_json"])

    assert (summary.files_quarantined, summary.records_read, summary.records_stored) == (2, 0, 0)
    assert {q["source_uri"] for q in quarantine_rows(lake)} == {
        str(files["truncated"]),
        str(files["not_json"]),
    }


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run(
        [*cli(), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


def test_strict_cli_exits_1_with_one_error_line(
    lake: Path, tmp_path: Path, messy_source: tuple[Path, dict[str, Path]]
) -> None:
    src, _ = messy_source

    done = _cli("ingest", str(src), "--lake", str(lake), "--strict", "--quiet", cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "quarantined" in lines[0]
    # the good records were still stored
    assert rows(lake, "select count(*) from events") == [(4,)]


def test_cli_without_strict_exits_0_and_prints_the_summary(
    lake: Path, tmp_path: Path, messy_source: tuple[Path, dict[str, Path]]
) -> None:
    src, _ = messy_source

    done = _cli("ingest", str(src), "--lake", str(lake), "--json", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["reconciles"] is True
    assert (
        summary["files_quarantined"],
        summary["records_rejected"],
        summary["records_stored"],
    ) == (2, 2, 4)


def test_run_over_digest_files_only_prints_its_summary_and_exits_0(
    lake: Path, tmp_path: Path
) -> None:
    # a first night that stores no event (only digest files, or everything quarantined) failed
    # with "no events in lake: run ingest first", and the ingest's summary was never printed
    digest = tmp_path / "AWSLogs" / "123456789012" / "CloudTrail-Digest" / "us-east-1"
    write_bytes(digest / "123456789012_CloudTrail-Digest_us-east-1_x.json.gz", gzip.compress(b"{}"))

    done = _cli("run", str(tmp_path / "AWSLogs"), "--lake", str(lake), "--json", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["analysis"] is None
    assert payload["ingest"]["files_skipped_digest"] == 1
    assert "nothing to analyse" in done.stderr and "Traceback" not in done.stderr


def test_run_prints_the_ingest_summary_when_analyze_fails(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from pipeline import analysis
    from pipeline.cli import app
    from pipeline.errors import LakeError

    def full_disk(*args: Any, **kwargs: Any) -> dict[str, int]:
        raise LakeError("no space left on the lake's disk", fix="free some")

    monkeypatch.setattr(analysis, "analyze", full_disk)
    src = write_delivery_file(tmp_path / "src" / "d.json", records(3))
    result = CliRunner().invoke(app, ["run", str(src), "--lake", str(lake), "--json"])

    assert isinstance(result.exception, LakeError)
    payload = json.loads(result.stdout)
    assert (payload["ingest"]["records_stored"], payload["analysis"]) == (3, None)


# --- idempotence -----------------------------------------------------------------------------


def test_second_run_on_same_sources_reads_nothing_and_changes_nothing(
    lake: Path, tmp_path: Path
) -> None:
    root = tmp_path / "trail"
    write_delivery_file(root / delivery_key(ACCOUNT), records(5))
    write_delivery_file(
        root / delivery_key(OTHER_ACCOUNT, "2026/11/02"),
        records(3, recipientAccountId=OTHER_ACCOUNT),
    )
    write_bytes(
        root / f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2026/11/01/"
        f"{ACCOUNT}_CloudTrail-Digest_us-east-1_t_us-east-1_20261101T010000Z.json.gz",
        gzip.compress(_digest_body()),
    )
    write_bytes(root / "not-json.json", b"nope")
    first = run(lake, root)
    snapshot = lake_files(lake)

    second = run(lake, root)

    assert first.records_stored == 8 and first.files_quarantined == 1
    assert second.files_seen == second.files_unchanged == 4
    assert (second.files_read, second.records_read, second.batches) == (0, 0, 0)
    assert (second.files_skipped_digest, second.files_quarantined) == (0, 0)
    assert lake_files(lake) == snapshot


def test_a_changed_file_is_read_again_and_only_its_new_records_stored(
    lake: Path, tmp_path: Path
) -> None:
    recs = records(3)
    path = write_delivery_file(tmp_path / "src" / "a.json.gz", recs)
    run(lake, path)
    write_delivery_file(path, [*recs, record()])
    os.utime(path, ns=(1, 1))

    summary = run(lake, path)

    assert (
        summary.files_read,
        summary.records_read,
        summary.records_stored,
        summary.records_duplicate,
    ) == (1, 4, 1, 3)
    assert len(event_keys(lake)) == 4


def test_missing_source_raises_source_error(lake: Path, tmp_path: Path) -> None:
    from pipeline.errors import SourceError

    with pytest.raises(SourceError, match="no such file"):
        ingest([str(tmp_path / "nope")], lake)


def test_lake_reads_with_plain_duckdb_glob(late_event_lake: Path) -> None:
    # A reader that knows nothing of sts-audit: the default glob must not pick up _state files
    con = duckdb.connect()
    got = con.execute(
        "select count(*) from read_parquet($g, hive_partitioning = true)",
        {"g": str(late_event_lake / "**" / "*.parquet")},
    ).fetchall()
    assert got == [(2,)]


def test_an_attacker_controlled_account_never_becomes_a_path(tmp_path: Path) -> None:
    src = tmp_path / "src"
    hostile = "../../../../tmp/escape"
    write_delivery_file(
        src / "a.json.gz", [record(recipientAccountId=hostile), record(recipientAccountId="1 2")]
    )
    lake = tmp_path / "lake"
    summary = run(lake, src)
    assert summary.records_stored == 2
    folders = sorted(p.name for p in (lake / "events").glob("*/*"))
    assert folders == ["recipient_account_id=invalid"]
    assert not (tmp_path / "escape").exists()
    # the logged value is not lost: it stays in the stored record
    logged = {r[0] for r in rows(lake, "select raw::json->>'recipientAccountId' from events")}
    assert logged == {hostile, "1 2"}


def test_a_lake_that_is_a_file_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "lake.parquet").write_text("not a folder")

    for args in (["ingest", "src"], ["sessions"], ["analyze"], ["quarantine"]):
        done = _cli(*args, "--lake", "lake.parquet", cwd=tmp_path)

        assert done.returncode == 1, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, (args, done.stderr)
        assert lines[0].startswith("error: lake.parquet is a file, not a lake folder (fix: ")


def test_an_unwritable_lake_is_one_line_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.json").write_text('{"Records": []}')
    parent = tmp_path / "blocked"
    parent.write_text("a file where the lake's parent folder should be")

    done = _cli("ingest", "src", "--lake", "blocked/lake", cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: blocked/lake"), done.stderr
    assert "(fix: " in lines[0]


def test_an_empty_source_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    done = _cli("ingest", "empty", "--lake", "lake", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "0 seen" in done.stderr
    assert "no files under the sources given" in done.stderr


def test_lake_keys_hold_only_the_batch_event_ids(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory per batch must not grow with the lake: a batch whose dates span the archive
    looks up only its own eventIDs among the stored keys, with the same counts as before."""
    from pipeline import batch as batch_mod

    stored = records(40)
    write_delivery_file(tmp_path / "a" / delivery_key(ACCOUNT), stored)
    elsewhere = records(5, recipientAccountId=OTHER_ACCOUNT)
    write_delivery_file(tmp_path / "a" / delivery_key(OTHER_ACCOUNT), elsewhere)
    run(lake, tmp_path / "a")

    again, other = stored[0], copy.deepcopy(stored[1]) | {"errorCode": "AccessDenied"}
    late = record(eventTime="2026-11-03T10:00:00Z")
    write_delivery_file(
        tmp_path / "b" / delivery_key(ACCOUNT, "2026/11/03"), [again, other, late, *records(3)]
    )
    sizes: list[tuple[int, int]] = []
    real_ingest_batch = batch_mod.ingest_batch

    def spy(con: duckdb.DuckDBPyConnection, *args: Any, **kwargs: Any) -> Any:
        pending = real_ingest_batch(con, *args, **kwargs)
        [(keys, scanned)] = con.execute(
            "select (select count(*) from lake_keys), (select count(*) from events)"
        ).fetchall()
        sizes.append((keys, scanned))
        return pending  # the batch, still being written: the ingest commits it

    monkeypatch.setattr(batch_mod, "ingest_batch", spy)
    summary = run(lake, tmp_path / "b")

    # only the partitions of the batch's account and dates (11/01 to 11/03) are read, not the
    # other account's; they hold 40 stored records, of which only the two that share an eventID
    # with the batch are looked up
    assert sizes == [(2, 40)]
    assert (summary.records_stored, summary.records_duplicate, summary.conflicts) == (5, 1, 1)
    assert len(event_keys(lake)) == 45 + 5  # the batch, written in the background, committed


def _trail_day(src: Path, day: int, n: int = 3) -> Path:
    when = f"2026-11-{day:02d}T10:00:00Z"
    key = delivery_key(ACCOUNT, f"2026/11/{day:02d}", unique=f"EXAMPLE{day:010d}")
    return write_delivery_file(src / key, records(n, eventTime=when))


def test_a_since_after_every_day_folder_is_named_beside_the_path_hint(
    tmp_path: Path,
) -> None:
    # the summary asked "is that the trail's folder or prefix?" of the right folder
    src = tmp_path / "src"
    _trail_day(src, 1)
    summary = run(tmp_path / "lake", src, since=dt.date(2026, 11, 5))
    assert (summary.files_seen, summary.since) == (0, "2026-11-05")
    text = render_summary(summary)
    # both causes: the folder may be wrong too (an empty prefix under a nightly --since 2d)
    assert "is that the trail's folder or prefix?\n  (--since leaves out the day folders " in text
    assert "before 2026-11-05)" in text
    (tmp_path / "empty").mkdir()
    wrong = run(tmp_path / "lake2", tmp_path / "empty")
    assert "is that the trail's folder or prefix?" in render_summary(wrong)
    assert "--since" not in render_summary(wrong)


def test_a_since_that_skips_past_the_last_listing_warns_until_a_run_closes_the_gap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a nightly job with --since 2d that missed two nights left the files delivered after its
    # last run into that day's folder, reconciled and without a word
    from pipeline import listings

    src, lake = tmp_path / "src", tmp_path / "lake"

    def night(today: int, since: int) -> IngestSummary:
        when = dt.datetime(2026, 11, today, 6, 0, tzinfo=dt.UTC)
        monkeypatch.setattr(listings, "now", lambda: when)
        return run(lake, src, since=dt.date(2026, 11, since))

    _trail_day(src, 1)
    assert night(2, 1).warnings == []  # listed on Nov 2 at 06:00
    late = _trail_day(src, 2, n=4)  # delivered later on Nov 2: in the Nov 2 folder
    _trail_day(src, 3)
    _trail_day(src, 4)
    # the nights of Nov 3 and 4 did not run; Nov 5 runs with --since 2d (Nov 3)
    skipped = night(5, 3)
    assert (skipped.files_read, skipped.records_stored) == (2, 6)
    assert skipped.since_gap_from == "2026-11-02"
    assert skipped.warnings == [
        "the sources were last listed into this lake on 2026-11-02: files delivered after "
        "that may be in day folders before 2026-11-03, which --since 2026-11-03 leaves out "
        "(missed nights?); run once with --since 2026-11-02"
    ]
    with pytest.raises(StrictIngestError, match=r"last listing, on 2026-11-02") as info:
        check_strict(skipped)
    assert info.value.fix == "run once with --since 2026-11-02, or drop --strict"
    # it stays said, night after night, until a run lists from that day
    assert night(6, 4).since_gap_from == "2026-11-02"
    closed = night(6, 2)
    assert (closed.files_read, closed.records_stored, closed.warnings) == (1, 4, [])
    assert str(late) in {row[0] for row in rows(lake, "select distinct source_uri from events")}
    assert night(7, 5).warnings == [] and night(7, 5).since_gap_from is None


def test_the_gap_is_the_earliest_of_the_sources_and_each_source_s_listing_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import listings

    first, second, lake = tmp_path / "first", tmp_path / "second", tmp_path / "lake"
    _trail_day(first, 1)
    _trail_day(second, 1)
    single = write_delivery_file(tmp_path / "export.json", records(2), gz=False)

    def night(today: int, since: int, *srcs: Path) -> IngestSummary:
        when = dt.datetime(2026, 11, today, 6, 0, tzinfo=dt.UTC)
        monkeypatch.setattr(listings, "now", lambda: when)
        return run(lake, *srcs, since=dt.date(2026, 11, since))

    night(1, 1, first)
    night(2, 1, second)
    assert night(5, 4, first, second).since_gap_from == "2026-11-01"  # the earlier of the two
    night(5, 1, first)  # first is listed on Nov 5 now; second still on Nov 2
    night(5, 1, first, second)  # ... and now both
    assert night(7, 5, second).since_gap_from is None
    # a file named as a source is read whatever --since says: no gap to report
    night(7, 7, single)
    assert night(20, 19, single).since_gap_from is None


def _folding_trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, days: int) -> tuple[Path, Path]:
    """A trail of `days` day folders, a file each, and a lake whose runs fold 3 batch files."""
    monkeypatch.setattr(manifest, "COMPACT_AT", 3)
    src, lake = tmp_path / "src", tmp_path / "lake"
    for day in range(1, days + 1):
        _trail_day(src, day)
    return src, lake


def test_a_nightly_manifest_is_folded_and_reruns_still_read_nothing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a batch a file: five batch files of the manifest, folded at the run's end into one part
    src, lake = _folding_trail(tmp_path, monkeypatch, 5)
    first = run(lake, src, batch_bytes=1)
    assert (first.batches, first.records_stored) == (5, 15)
    state = lake / "_state"
    assert (manifest.files(state), len(manifest.parts(state))) == ([], 1)

    again = run(lake, src, batch_bytes=1)
    assert (again.files_unchanged, again.files_read, again.records_read) == (5, 0, 0)

    # the next night: --since lists the recent days, the folded entries of those days say
    # which of their files are already in, and only the new file is read
    _trail_day(src, 6)
    night = run(lake, src, batch_bytes=1, since=dt.date(2026, 11, 5))
    assert (night.files_seen, night.files_unchanged, night.files_read) == (2, 1, 1)
    keys = event_keys(lake, "event_id")
    assert len(keys) == len(set(keys)) == 18


class _Killed(BaseException):
    """The process stopping where it is (a signal, not an error the code could handle)."""


def test_a_crash_while_folding_the_manifest_leaves_no_file_to_read_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, lake = _folding_trail(tmp_path, monkeypatch, 4)
    real_unlink = Path.unlink
    removed: list[Path] = []

    def crash_after_one(self: Path, missing_ok: bool = False) -> None:
        if self.parent.name == manifest.MANIFEST_DIR and self.suffix == ".json":
            if removed:
                raise _Killed("killed while folding the manifest")
            removed.append(self)
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", crash_after_one)
    with pytest.raises(_Killed, match="killed while folding"):
        run(lake, src, batch_bytes=1)
    monkeypatch.setattr(Path, "unlink", real_unlink)
    state = lake / "_state"
    # the part holds every entry; three batch files are still there beside it
    assert (len(manifest.files(state)), len(manifest.parts(state))) == (3, 1)

    rerun = run(lake, src, batch_bytes=1)
    assert (rerun.files_unchanged, rerun.files_read) == (4, 0)
    keys = event_keys(lake, "event_id")
    assert len(keys) == len(set(keys)) == 12
    # the files left were folded at the rerun's end
    assert (len(manifest.files(state)), len(manifest.parts(state))) == (0, 2)


def test_a_fold_that_fails_warns_and_the_next_run_folds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the disk fills while the part is published: every batch is committed already, so the
    # run succeeds with a warning, reads nothing twice, and the next run folds the files
    src, lake = _folding_trail(tmp_path, monkeypatch, 4)
    real_publish = manifest.publish

    def disk_full(tmp: Path, path: Path) -> None:
        if path.name.startswith(manifest.PART_PREFIX):
            raise OSError(28, "No space left on device")
        real_publish(tmp, path)

    monkeypatch.setattr(manifest, "publish", disk_full)
    first = run(lake, src, batch_bytes=1)
    assert (first.files_read, first.records_stored) == (4, 12)
    assert len(first.warnings) == 1
    assert "No space left on device" in first.warnings[0]
    assert "next run" in first.warnings[0]
    state = lake / "_state"
    assert (len(manifest.files(state)), manifest.parts(state)) == (4, [])
    assert not list((state / manifest.MANIFEST_DIR).glob(".*.tmp"))

    # the nightly job's --quiet still says so on stderr, and exits 0
    from typer.testing import CliRunner

    from pipeline.cli import app

    _trail_day(src, 5)
    quiet = CliRunner().invoke(app, ["ingest", str(src), "--lake", str(lake), "--quiet"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == ""
    assert quiet.stderr.startswith("warning: the manifest's batch files were not folded")
    assert "No space left on device" in quiet.stderr
    # and with --json: in the JSON, and on stderr
    as_json = CliRunner().invoke(app, ["ingest", str(src), "--lake", str(lake), "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["warnings"][0].startswith("the manifest's batch files")
    assert as_json.stderr.startswith("warning: the manifest's batch files were not folded")

    monkeypatch.setattr(manifest, "publish", real_publish)
    rerun = run(lake, src, batch_bytes=1)
    assert (rerun.files_unchanged, rerun.files_read, rerun.warnings) == (5, 0, [])
    assert (manifest.files(state), len(manifest.parts(state))) == ([], 1)
    keys = event_keys(lake, "event_id")
    assert len(keys) == len(set(keys)) == 15


def _merging_trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """Source and lake folders, and the lake's state folder, for runs that fold every batch
    file and merge parts once there are 4."""
    monkeypatch.setattr(manifest, "COMPACT_AT", 1)
    monkeypatch.setattr(manifest, "MERGE_PARTS_AT", 4)
    lake = tmp_path / "lake"
    return tmp_path / "src", lake, lake / "_state"


def test_parts_of_many_nights_are_merged_and_every_entry_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a nightly job that folds every night: the parts stay few, no entry is lost or doubled
    src, lake, state = _merging_trail(tmp_path, monkeypatch)
    counts = []
    for night in range(1, 13):
        _trail_day(src, night)
        summary = run(lake, src, since=dt.date(2026, 11, night))
        assert (summary.files_read, summary.files_unchanged) == (1, 0), night
        counts.append(len(manifest.parts(state)))
    assert max(counts) < 4 and min(counts[3:]) >= 2, counts
    parts = [str(p) for p in manifest.parts(state)]
    entries = duckdb.sql(f"SELECT uri, day FROM read_parquet({parts!r})").fetchall()
    assert len(entries) == len({uri for uri, _ in entries}) == 12
    # each part is still ordered by delivery day, so --since skips the days it does not list
    for part in parts:
        days = [d for (d,) in duckdb.sql(f"SELECT day FROM read_parquet('{part}')").fetchall()]
        assert days == sorted(days)
    again = run(lake, src)
    assert (again.files_unchanged, again.files_read) == (12, 0)
    keys = event_keys(lake, "event_id")
    assert len(keys) == len(set(keys)) == 36


def test_a_damaged_part_stops_the_merge_with_a_warning_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a part whose data pages (not its footer) are damaged made every later fold warn that the
    # batch files "were not folded", which they were; the merge failed, naming nothing
    src, lake, state = _merging_trail(tmp_path, monkeypatch)
    for night in (1, 2, 3):
        _trail_day(src, night)
        assert run(lake, src, since=dt.date(2026, 11, night)).warnings == []
    # the smallest part: the merge takes the smaller half, and the parts' sizes vary with the
    # run ids they hold (the first by name was left out of it in about one run in five)
    damaged = min(manifest.parts(state), key=lambda p: (p.stat().st_size, p.name))
    data = bytearray(damaged.read_bytes())
    for i in range(8, 60):
        data[i] ^= 0xFF
    damaged.write_bytes(bytes(data))

    _trail_day(src, 4)
    night = run(lake, src, since=dt.date(2026, 11, 4))
    assert (night.files_read, night.records_stored) == (1, 3)
    [warning] = night.warnings
    assert warning.startswith(f"{damaged}: this part of the ingest manifest cannot be read (")
    assert "restore it from a backup" in warning
    # the night's batch file was folded all the same; nothing was merged or removed
    assert manifest.files(state) == [] and damaged in manifest.parts(state)


def _old_day_files(root: Path) -> tuple[Path, Path]:
    """A delivery file and an unreadable one, in the trail's 2026-11-01 day folder."""
    key = delivery_key(ACCOUNT, "2026/11/01", unique="EXAMPLE0000000001")
    good = write_delivery_file(root / key, records(3, eventTime="2026-11-01T10:00:00Z"))
    bad = write_bytes(root / key.replace("0000000001", "0000000002"), b"not json")
    return good, bad


@pytest.mark.parametrize("how", ["named", "symlinked"])
def test_an_old_file_listed_whatever_since_stays_unchanged_once_its_entry_is_folded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    # a file named as a source, or a link to one, is listed whatever --since says of its day
    # folder: its folded manifest entry must be read, or it is read and quarantined again
    monkeypatch.setattr(manifest, "COMPACT_AT", 1)
    good, bad = _old_day_files(tmp_path / "archive")
    if how == "named":
        sources = [str(good), str(bad)]
    else:
        incoming = tmp_path / "incoming"
        incoming.mkdir()
        (incoming / "a.json.gz").symlink_to(good)
        (incoming / "b.json.gz").symlink_to(bad)
        sources = [str(incoming)]
    lake = tmp_path / "lake"
    ingest(sources, lake)
    assert manifest.parts(lake / "_state")
    for _ in range(2):
        again = ingest(sources, lake, since=dt.date(2026, 11, 5))
        assert (again.files_unchanged, again.files_read, again.files_quarantined) == (2, 0, 0)
    assert len(event_keys(lake, "event_id")) == 3
    assert len(quarantine_rows(lake)) == 1


def test_a_folded_entry_of_a_year_0000_folder_is_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB reads a 0000/01/01 folder as a day of 1 BC, before any --since
    monkeypatch.setattr(manifest, "COMPACT_AT", 1)
    src, lake = tmp_path / "src", tmp_path / "lake"
    name = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/0000/01/01/{ACCOUNT}_CloudTrail_x.json.gz"
    write_delivery_file(src / name, records(2))
    ingest([str(src)], lake)
    assert manifest.parts(lake / "_state")
    for since in (None, dt.date(2026, 11, 5)):
        again = ingest([str(src / name)], lake, since=since)
        assert (again.files_unchanged, again.files_read) == (1, 0), since


def test_a_reason_names_the_source_not_a_copy_of_ours(lake: Path, tmp_path: Path) -> None:
    # a gzip named .json is read through a link named .gz for DuckDB; the reason named that
    # link under _state/downloads, a path the user never gave. A gzip cut after its header was
    # not even taken for gzip: "not valid JSON"
    cut = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
    named = write_bytes(tmp_path / "src" / "cut.json.gz", cut)
    linked = write_bytes(tmp_path / "src" / "cut-too.json", gzip.compress(b'{"Records": [')[:-9])

    summary = run(lake, named.parent)

    assert summary.files_quarantined == 2
    rows = {row["source_uri"]: row["reason"] for row in quarantine_rows(lake)}
    assert set(rows) == {str(named), str(linked)}
    for uri, reason in rows.items():
        assert "_state" not in reason and uri in reason, reason
        assert reason.startswith("truncated or corrupt gzip"), reason


def test_a_missing_source_makes_no_lake(tmp_path: Path) -> None:
    # a mistyped path failed with a clear error, and left an empty lake behind it
    lake = tmp_path / "lake"
    with pytest.raises(SourceError, match="no such file or folder"):
        ingest([str(tmp_path / "no-such-trail")], lake)
    assert not lake.exists()


def test_run_ids_sort_in_the_order_of_the_runs_within_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the quarantine listing compares runs: two runs in one second sorted by their random part
    import datetime as dt

    import pipeline.ingest as ingest_mod

    times = iter(
        [
            dt.datetime(2026, 11, 1, 10, 0, 0, 900_000, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 1, 10, 0, 0, 900_001, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 1, 10, 0, 1, tzinfo=dt.UTC),
        ]
    )

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return next(times)

    monkeypatch.setattr(ingest_mod, "datetime", Clock)
    ids = [ingest_mod.new_run_id() for _ in range(3)]
    # an id of an earlier version (seconds only) of the same second or of the next one
    assert sorted([*ids, "20261101T100000-ffffff", "20261101T100001-000000"]) == [
        "20261101T100000-ffffff",
        ids[0],
        ids[1],
        "20261101T100001-000000",
        ids[2],
    ]


def test_a_statement_of_ours_that_does_not_bind_fails_the_run_not_the_files(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # taken for the input's error, a defect of an ingest statement quarantined every file of
    # the run ("not valid JSON: ...") and the run ended as if the data were bad
    from pipeline import queries

    src = tmp_path / "src"
    write_delivery_file(src / "d.json.gz", records(2))
    write_bytes(src / "e.ndjson", (json.dumps(records(1)[0]) + "\n").encode())
    real = queries.load

    def load(name: str) -> str:
        text = real(name)
        if name != "ingest/stg_raw_records":
            return text
        final = "select\n    filename,"
        return text.replace(final, "select\n    no_such_column,\n    filename,", 1)

    monkeypatch.setattr(queries, "load", load)
    with pytest.raises(duckdb.BinderException, match="no_such_column"):
        ingest([str(src)], lake)
    assert quarantine_rows(lake) == []


@pytest.mark.parametrize("scan", ["1", "0"], ids=["splitter", "duckdb"])
@pytest.mark.parametrize("shape", ["Records twice", "Records and Events"])
def test_a_document_with_two_record_lists_is_rejected_not_half_read(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str, scan: str
) -> None:
    # a JSON read takes one list: the other's records were dropped, neither stored nor counted
    monkeypatch.setenv("STS_AUDIT_SCAN", scan)
    a, b = records(2)
    if shape == "Records twice":
        text = f'{{"Records":[{json.dumps(a)}],"Records":[{json.dumps(b)}]}}'
    else:
        text = json.dumps({"Records": [a], "Events": [{"CloudTrailEvent": json.dumps(b)}]})
    write_bytes(tmp_path / "src" / "two.json", text.encode())

    summary = run(lake, tmp_path / "src")

    assert (summary.records_read, summary.records_stored, summary.records_rejected) == (1, 0, 1)
    [row] = quarantine_rows(lake)
    assert row["reason"].startswith("a document with two record lists")
    assert a["eventID"] in row["raw"] and b["eventID"] in row["raw"]


@pytest.mark.parametrize("scan", ["1", "0"], ids=["splitter", "duckdb"])
@pytest.mark.parametrize("empty", ["Events", "Records"])
def test_an_empty_list_beside_the_other_is_no_second_list(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty: str, scan: str
) -> None:
    monkeypatch.setenv("STS_AUDIT_SCAN", scan)
    rec = records(1)[0]
    if empty == "Events":
        doc: dict[str, Any] = {"Records": [rec], "Events": []}
    else:
        doc = {"Records": [], "Events": [{"CloudTrailEvent": json.dumps(rec)}]}
    write_bytes(tmp_path / "src" / "one.json", json.dumps(doc).encode())

    summary = run(lake, tmp_path / "src")

    assert (summary.records_read, summary.records_stored) == (1, 1)


def test_record_list_keys_inside_a_record_are_not_a_second_list(lake: Path, tmp_path: Path) -> None:
    rec = records(1)[0]
    rec["requestParameters"] = {"Records": [{"Data": "eA=="}], "Events": [1]}
    write_bytes(tmp_path / "src" / "one.json", json.dumps({"Records": [rec]}).encode())

    summary = run(lake, tmp_path / "src")

    assert (summary.records_stored, summary.records_rejected) == (1, 0)


@pytest.mark.parametrize("scan", ["1", "0"], ids=["splitter", "duckdb"])
def test_booleans_are_true_or_false_as_cloudtrail_writes_them_else_null(
    lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scan: str
) -> None:
    # DuckDB's cast reads `yes`, `1`, `t` and `y` as true: an MFA state no record said
    monkeypatch.setenv("STS_AUDIT_SCAN", scan)
    said = ["true", "false", "TRUE", "False", "yes", "1", "t", "no"]
    recs = []
    for value, rec in zip(said, records(len(said)), strict=True):
        rec["userIdentity"] = {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/example-role/example-session",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
            "sessionContext": {
                "attributes": {"creationDate": "2026-11-01T09:00:00Z", "mfaAuthenticated": value}
            },
        }
        rec["readOnly"] = value
        recs.append(rec)
    write_delivery_file(tmp_path / "src" / "d.json.gz", recs)

    run(lake, tmp_path / "src")

    got = rows(lake, "select session_mfa_authenticated, read_only from events order by event_time")
    expected = [True, False, True, False, None, None, None, None]
    assert got == [(v, v) for v in expected]
