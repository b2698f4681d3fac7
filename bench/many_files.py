"""Ingest memory against the number of files: peak RSS must stay under 1 GiB whatever it is.

    .venv/bin/python -m bench.many_files --files 100000,400000,1200000

A year of an organization trail is millions of delivery files; what an ingest holds per file
(the listing, the manifest's keys) is what grows with it, not the events. For each count this
lays out that many empty CloudTrail digest files in the org-trail layout (20 accounts, 5
regions, one file an hour: created once under `bench/.cache/many-files/`, about a minute per
400,000), then times `sts-audit ingest` into a fresh lake (every file listed, classified and
recorded in the manifest as skipped) and again on the same lake (nothing new: the whole
manifest compared). Digest files keep the batches out of it: the per-batch memory is measured
by `bench.run` on real-sized corpora.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from bench.corpus import CACHE
from bench.run import ingest_memory, report_memory

ROOT = CACHE / "many-files"
ACCOUNTS = [f"1111222233{i:02d}" for i in range(20)]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "eu-central-1"]
ORG = "o-exampleorg1"


def lay_out(files: int) -> Path:
    """`files` empty digest files under `ROOT/<files>/AWSLogs/...`, made once and reused."""
    archive = ROOT / str(files)
    done = archive / ".complete"
    if done.exists():
        return archive
    shutil.rmtree(archive, ignore_errors=True)
    count = 0
    day = 0
    while count < files:
        date = f"2026/{1 + day // 28:02d}/{1 + day % 28:02d}"
        for account in ACCOUNTS:
            for region in REGIONS:
                folder = archive / "AWSLogs" / ORG / account / "CloudTrail-Digest" / region / date
                folder.mkdir(parents=True, exist_ok=True)
                stamp = date.replace("/", "")
                for hour in range(24):
                    name = f"{account}_CloudTrail-Digest_{region}_{ORG}_trail_{region}_"
                    (folder / f"{name}{stamp}T{hour:02d}0000Z.json.gz").touch()
                    count += 1
                    if count == files:
                        done.touch()
                        return archive
        day += 1
    done.touch()
    return archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="100000,400000", help="comma-separated file counts")
    args = parser.parse_args(argv)
    rows: list[list[str]] = []
    for files in (int(float(n)) for n in args.files.split(",")):
        runs = ingest_memory(lay_out(files), ROOT / f"lake-{files}", runs=2)
        for run, cells in zip(("first run", "rerun, nothing new"), runs, strict=True):
            rows.append([f"{files:,}", run, *cells])
    return report_memory("sts-audit ingest memory by number of files", ["files", "run"], rows)


if __name__ == "__main__":
    raise SystemExit(main())
