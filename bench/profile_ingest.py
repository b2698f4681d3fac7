"""Where `sts-audit ingest` spends its time: wall seconds per DuckDB statement and per Python phase.

    PYTHONPATH=. .venv/bin/python -m bench.profile_ingest CORPUS/AWSLogs [--lake DIR] [--set K=V]

Wraps `duckdb.connect` so every `execute` on the ingest's connection is timed (grouped by the
statement's `-- name:` header or its first words), then runs `pipeline.ingest.ingest` in this
process. `--set threads=1` etc. applies DuckDB settings after the ingest's own, to try options
without editing the pipeline. `--batch-mb` overrides the batch size.
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import duckdb

TIMES: dict[str, list[float]] = defaultdict(list)
CPU: dict[str, list[float]] = defaultdict(list)
PHASES: dict[str, list[float]] = defaultdict(list)
EXTRA_SETTINGS: list[str] = []
_real_connect = duckdb.connect


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _label(sql: str) -> str:
    names = re.findall(r"--\s*name:\s*(\S+)", sql)
    head = " ".join(sql.split())[:70]
    if head.startswith("COPY"):
        return "COPY ... TO parquet " + ("(partitioned)" if "PARTITION_BY" in sql else "(single)")
    if names:
        verb = head.split(" ")[0:4]
        return "+".join(dict.fromkeys(names)) + f"  [{' '.join(verb)}]"
    return head


class _TimedConnection:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._configured = False

    def execute(self, sql: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        if not self._configured and sql.startswith("SET preserve_insertion_order"):
            self._configured = True
            result = self._con.execute(sql, *args, **kwargs)
            for setting in EXTRA_SETTINGS:
                self._con.execute(f"SET {setting}")
            return result
        started, cpu = time.perf_counter(), _cpu()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            TIMES[_label(sql)].append(time.perf_counter() - started)
            CPU[_label(sql)].append(_cpu() - cpu)

    def sql(self, sql: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return _TimedRelation(self._con.sql(sql, *args, **kwargs), _label(sql))

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._con, name)


class _TimedRelation:
    """A relation whose `to_arrow_table` (where the typing statements run) is timed."""

    def __init__(self, rel: duckdb.DuckDBPyRelation, label: str) -> None:
        self._rel = rel
        self._label = label

    def to_arrow_table(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        started, cpu = time.perf_counter(), _cpu()
        try:
            return self._rel.to_arrow_table(*args, **kwargs)
        finally:
            TIMES[self._label].append(time.perf_counter() - started)
            CPU[self._label].append(_cpu() - cpu)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._rel, name)


def _timed(label: str, fn):  # noqa: ANN001, ANN202
    """`fn`, its wall time added under `label` (CPU is the process's: not kept for phases)."""

    def timed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            PHASES[label].append(time.perf_counter() - started)

    return timed


def _connect(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
    return _TimedConnection(_real_connect(*args, **kwargs))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("--lake")
    ap.add_argument("--set", action="append", default=[], help="extra DuckDB SET, e.g. threads=1")
    ap.add_argument("--batch-mb", type=int)
    args = ap.parse_args()
    EXTRA_SETTINGS.extend(s.replace("=", " = ", 1) for s in args.set)
    duckdb.connect = _connect  # type: ignore[assignment]
    from pipeline import batch, partitions, scan
    from pipeline import ingest as ingest_mod

    # the Python phases around the statements: the split (two threads; the main thread waits),
    # the wait for the previous batch's write before typing, and the writes (in their thread)
    scan.split_files = _timed("phase: split delivery files (main thread waits)", scan.split_files)
    batch.Pending.wait = _timed("phase: wait for the previous batch's write", batch.Pending.wait)
    partitions.write = _timed(
        "phase: write partitions (a thread, beside the next batch)", partitions.write
    )

    lake = Path(args.lake) if args.lake else Path(tempfile.mkdtemp(prefix="prof-lake-"))
    shutil.rmtree(lake, ignore_errors=True)
    kwargs = {}
    if args.batch_mb:
        kwargs["batch_bytes"] = args.batch_mb * 1024 * 1024
    started, cpu = time.perf_counter(), _cpu()
    summary = ingest_mod.ingest([args.source], lake, **kwargs)
    total, total_cpu = time.perf_counter() - started, _cpu() - cpu
    in_sql = sum(sum(v) for v in TIMES.values())
    in_sql_cpu = sum(sum(v) for v in CPU.values())
    print(
        f"total {total:.2f} s ({total_cpu:.2f} s CPU); in DuckDB statements {in_sql:.2f} s; "
        f"stored {summary.records_stored:,} of {summary.records_read:,} in "
        f"{summary.batches} batch(es), {summary.data_files_written} data files"
    )
    for label, times in sorted(TIMES.items(), key=lambda kv: -sum(kv[1])):
        if sum(times) >= 0.05:
            print(f"{sum(times):8.2f} s {sum(CPU[label]):8.2f} s CPU {len(times):4d}x  {label}")
            if len(times) > 3:
                third = max(1, len(times) // 3)
                print(
                    f"{'':18}first third {sum(times[:third]):.2f} s, "
                    f"last third {sum(times[-third:]):.2f} s"
                )
    for label, times in PHASES.items():
        print(f"{sum(times):8.2f} s {'':13}{len(times):4d}x  {label}")
    outside = f"{total - in_sql:8.2f} s {total_cpu - in_sql_cpu:8.2f} s CPU"
    print(f"{outside}  Python outside DuckDB (discover, manifest, commit, ...)")
    if not args.lake:
        shutil.rmtree(lake, ignore_errors=True)


if __name__ == "__main__":
    main()
