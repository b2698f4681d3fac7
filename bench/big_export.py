"""Ingest memory against the size of one NDJSON export: peak RSS must stay under 1 GiB.

    .venv/bin/python -m bench.big_export --records 1000000,2000000

CloudTrail Lake and CloudWatch Logs exports are single NDJSON files of any size; staged whole,
ingest's memory followed the file (a 780 MB export stopped with DuckDB's out-of-memory error).
For each count this writes one export of that many records (one a line, the records of the
seed-7 simulated corpus of that size, built once and cached like `bench.run`'s), created once
under `bench/.cache/big-export/`, then times `sts-audit ingest` of it into a fresh lake.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import orjson

from bench import corpus
from bench.corpus import CACHE
from bench.run import ingest_memory, report_memory

ROOT = CACHE / "big-export"
SEED = 7


def write_export(records: int) -> Path:
    """An NDJSON file of `records` records from the simulated corpus, made once and reused."""
    target = ROOT / f"export-{records}.ndjson"
    if target.exists():
        return target
    ROOT.mkdir(parents=True, exist_ok=True)
    source = corpus.build(SEED, records)
    tmp = target.with_suffix(".tmp")
    written = 0
    with tmp.open("wb") as out:
        for path in corpus.data_files(source):
            for record in orjson.loads(gzip.decompress(path.read_bytes()))["Records"]:
                out.write(orjson.dumps(record) + b"\n")
                written += 1
    tmp.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="1000000", help="comma-separated record counts")
    args = parser.parse_args(argv)
    rows: list[list[str]] = []
    for records in (int(float(n)) for n in args.records.split(",")):
        export = write_export(records)
        [cells] = ingest_memory(export, ROOT / f"lake-{records}")
        rows.append([f"{records:,}", f"{export.stat().st_size / 1e6:,.0f}", *cells])
    return report_memory(
        "sts-audit ingest memory by size of one NDJSON export", ["records", "file MB"], rows
    )


if __name__ == "__main__":
    raise SystemExit(main())
