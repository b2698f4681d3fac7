"""Where `sts-audit analyze` spends its time: wall and CPU seconds per DuckDB statement.

    PYTHONPATH=. .venv/bin/python -m bench.profile_analyze LAKE [--explain STEP]

Wraps `duckdb.connect` so each build step (`create ... table int_xxx`) and each Parquet
COPY of `pipeline.analysis.analyze` is timed (the COPYs run two at a time, so their CPU
seconds overlap). `--explain int_session_links` also prints DuckDB's
EXPLAIN ANALYZE of that step, run after the steps it reads from.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import duckdb

TIMES: dict[str, list[tuple[float, float]]] = defaultdict(list)
_real_connect = duckdb.connect


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _label(sql: str) -> str:
    m = re.match(r"\s*create or replace (?:temp )?table (\w+)", sql, re.I)
    if m:
        return f"build {m.group(1)}"
    m = re.match(r"\s*copy \(select \* from (\w+)\)", sql, re.I)
    if m:
        return f"write {m.group(1)}.parquet"
    return " ".join(sql.split())[:70]


class _Timed:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, sql: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        w, c = time.perf_counter(), _cpu()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            TIMES[_label(sql)].append((time.perf_counter() - w, _cpu() - c))

    def cursor(self) -> _Timed:
        # `analyze` writes the public tables from cursors, two at a time: their CPU seconds
        # overlap (RUSAGE_SELF is per process)
        return _Timed(self._con.cursor())

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._con, name)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("lake")
    ap.add_argument("--explain", action="append", default=[])
    ap.add_argument(
        "--view",
        action="append",
        default=[],
        help="also time a build where these steps are views, not temp tables",
    )
    args = ap.parse_args()
    duckdb.connect = lambda *a, **k: _Timed(_real_connect(*a, **k))  # type: ignore[assignment]
    from pipeline import analysis

    w, c = time.perf_counter(), _cpu()
    analysis.analyze(Path(args.lake))
    total_w, total_c = time.perf_counter() - w, _cpu() - c
    print(f"total {total_w:.2f} s wall, {total_c:.2f} s cpu")
    for label, times in sorted(TIMES.items(), key=lambda kv: -sum(t[0] for t in kv[1])):
        tw, tc = sum(t[0] for t in times), sum(t[1] for t in times)
        if tw >= 0.05:
            print(f"{tw:8.2f} s wall {tc:8.2f} s cpu  {label}")
    if args.view:
        from pipeline import lake as lake_mod

        duckdb.connect = _real_connect  # type: ignore[assignment]
        con = lake_mod.connect(Path(args.lake))
        settings = analysis.Settings()
        analysis._bind_inputs(con, settings)  # noqa: SLF001
        con.execute("SET preserve_insertion_order = false")
        w, c = time.perf_counter(), _cpu()
        for name in analysis.STEPS:
            kind = "view" if name in args.view or name in analysis.VIEW_STEPS else "table"
            sql = analysis.step_sql(name, settings)
            sw, sc = time.perf_counter(), _cpu()
            con.execute(f"create or replace temp {kind} {name} as {sql}")
            print(f"{time.perf_counter() - sw:8.2f} s wall {_cpu() - sc:8.2f} s cpu  {kind} {name}")
        print(
            f"build with {args.view} as views: {time.perf_counter() - w:.2f} s wall, "
            f"{_cpu() - c:.2f} s cpu (tables only, no Parquet writes)"
        )
    if args.explain:
        from pipeline import lake as lake_mod

        duckdb.connect = _real_connect  # type: ignore[assignment]
        con = lake_mod.connect(Path(args.lake))
        settings = analysis.Settings()
        analysis._bind_inputs(con, settings)  # noqa: SLF001
        con.execute("SET preserve_insertion_order = false")
        for name in analysis.STEPS:
            sql = analysis.step_sql(name, settings)
            if name in args.explain:
                out = Path(tempfile.mkdtemp()) / "profile.json"
                con.execute("SET enable_profiling = 'json'")
                con.execute(f"SET profiling_output = '{out}'")
                con.execute(f"create or replace temp table {name} as {sql}")
                con.execute("SET enable_profiling = 'no_output'")
                con.execute("PRAGMA disable_profiling")
                tree = json.loads(out.read_text())
                ops: list[tuple[float, str, int]] = []

                def walk(node: dict, ops: list[tuple[float, str, int]] = ops) -> None:
                    label = node.get("name") or node.get("type") or "?"
                    extra = node.get("extra_info") or {}
                    cond = (
                        extra.get("Conditions") or extra.get("Groups") or extra.get("Table") or ""
                    )
                    ops.append(
                        (
                            float(node.get("timing", 0.0)),
                            f"{label.strip()} {str(cond)[:100]}",
                            int(node.get("intermediate_rows", 0)),
                        )
                    )
                    for child in node.get("children", []):
                        walk(child, ops)

                for root in tree.get("operator", []):
                    walk(root)
                total = sum(t for t, _, _ in ops)
                print(
                    f"--- {name}: operators {total:.2f} s; top operators (operator time, rows out)"
                )
                for t, label, rows in sorted(ops, reverse=True)[:12]:
                    print(f"{t:8.3f} s {rows:>12,}  {label}")
            else:
                kind = "view" if name in analysis.VIEW_STEPS else "table"
                con.execute(f"create or replace temp {kind} {name} as {sql}")


if __name__ == "__main__":
    main()
