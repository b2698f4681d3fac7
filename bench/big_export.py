"""Ingest memory against the size of one large object: peak RSS must stay under 1 GiB.

    .venv/bin/python -m bench.big_export --records 1000000,2000000 \\
        [--shapes ndjson,lookup-events,records]

CloudTrail Lake and CloudWatch Logs exports are single NDJSON files of any size; staged whole,
ingest's memory followed the file (a 780 MB export stopped with DuckDB's out-of-memory error).
The AWS CLI's `aws cloudtrail lookup-events`, paging through an account's 90 days, writes one
JSON document of every page (`{"Events": [...]}`, indented); a `{"Records": [...]}` document
of any size is what merging delivery files gives. Read whole, a 217 MB LookupEvents
document took 2.8 GiB, and a 313 MB Records document was refused past DuckDB's 256 MiB value.
For each shape and count this writes one object of that many records (the records of the
seed-7 simulated corpus of that size, built once and cached like `bench.run`'s), created once
under `bench/.cache/big-export/`, then times `sts-audit ingest` of it into a fresh lake.
"""

from __future__ import annotations

import argparse
import gzip
from collections.abc import Iterator
from pathlib import Path

import orjson

from bench import corpus
from bench.corpus import CACHE
from bench.run import ingest_memory, report_memory

ROOT = CACHE / "big-export"
SEED = 7


def _records(records: int) -> Iterator[dict[str, object]]:
    source = corpus.build(SEED, records)
    for path in corpus.data_files(source):
        yield from orjson.loads(gzip.decompress(path.read_bytes()))["Records"]


def write_export(records: int, shape: str = "ndjson") -> Path:
    """One object of `records` records from the simulated corpus in `shape` (SHAPES), made
    once and reused."""
    target = ROOT / f"{shape}-{records}.{'ndjson' if shape == 'ndjson' else 'json'}"
    if shape == "ndjson":  # the name earlier runs cached it under
        target = ROOT / f"export-{records}.ndjson"
    if target.exists():
        return target
    ROOT.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with tmp.open("wb") as out:
        if shape == "ndjson":
            for record in _records(records):
                out.write(orjson.dumps(record) + b"\n")
        elif shape == "records":
            out.write(b'{"Records":[')
            for n, record in enumerate(_records(records)):
                out.write((b"," if n else b"") + orjson.dumps(record))
            out.write(b"]}")
        else:  # the AWS CLI's output: every page's events in one indented document
            out.write(b'{\n    "Events": [')
            for n, record in enumerate(_records(records)):
                event = {
                    "EventId": record.get("eventID"),
                    "EventName": record.get("eventName"),
                    "ReadOnly": record.get("readOnly"),
                    "EventTime": record.get("eventTime"),
                    "EventSource": record.get("eventSource"),
                    "Resources": [],
                    "CloudTrailEvent": orjson.dumps(record).decode(),
                }
                text = orjson.dumps(event, option=orjson.OPT_INDENT_2).replace(b"\n", b"\n        ")
                out.write((b",\n        " if n else b"\n        ") + text)
            out.write(b"\n    ]\n}\n")
    tmp.replace(target)
    return target


SHAPES = ("ndjson", "lookup-events", "records")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="1000000", help="comma-separated record counts")
    parser.add_argument(
        "--shapes", default="ndjson", help=f"comma-separated, of: {', '.join(SHAPES)}"
    )
    args = parser.parse_args(argv)
    shapes = args.shapes.split(",")
    if unknown := set(shapes) - set(SHAPES):
        parser.error(f"unknown shape(s): {', '.join(sorted(unknown))}")
    rows: list[list[str]] = []
    for shape in shapes:
        for records in (int(float(n)) for n in args.records.split(",")):
            export = write_export(records, shape)
            [cells] = ingest_memory(export, ROOT / f"lake-{shape}-{records}")
            rows.append([shape, f"{records:,}", f"{export.stat().st_size / 1e6:,.0f}", *cells])
    return report_memory(
        "sts-audit ingest memory by size of one large object",
        ["shape", "records", "file MB"],
        rows,
    )


if __name__ == "__main__":
    raise SystemExit(main())
