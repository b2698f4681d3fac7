"""`make bench`: sts-audit against its floors and the alternatives, side by side, in one run.

    .venv/bin/python -m bench.run [--sizes 1000000,2000000,5000000] [--repeat 3] [--seed 7]
        [--output PATH]

For each corpus size (simulator corpora, cached in bench/.cache/ or $STS_AUDIT_BENCH_CACHE)
every step runs as its own subprocess, `--repeat` times, interleaved (floor, ingest, rerun,
analysis floor, analyze, alternatives; then again), and the median is reported. Wall time is
measured around the child and CPU comes from `os.wait4`; peak RSS is what `/usr/bin/time -f %M`
reports for the command (a forked child's own `ru_maxrss` also counts memory shared with the
parent, `measure`), else `ru_maxrss`. The table is printed and written to BENCHMARKS.md, the
committed record of the full run, or to `--output PATH` (`make bench-quick`:
bench/.cache/BENCHMARKS-quick.md).

At the largest size (`--uncollected-at`) the corpus is also ingested once without its
us-east-1 folders (`corpus.UNCOLLECTED_REGIONS`), and that lake's analysis floor and analyze
are measured in the same interleaving: the lake whose issuing calls are mostly missing, where
`sessions_seen` is built from hundreds of thousands of calls (empty on the full corpus).

To add a capability (detections, reports, the nightly job): add one `Step` to `STEPS`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus as corpora

ROOT = corpora.ROOT
VENV_BIN = Path(sys.executable).parent
STS_AUDIT = str(VENV_BIN / "sts-audit")
WORK = corpora.CACHE / "work"
OUT_MD = ROOT / "BENCHMARKS.md"
LAST_RUN = corpora.CACHE / "last-run.json"
LIMITS_MD = ROOT / "bench" / "LIMITS.md"
GIB = 1024**3


# --------------------------------------------------------------------------------------------
# Measuring one child process


@dataclass
class Sample:
    seconds: float
    rss_bytes: int
    returncode: int
    cpu_seconds: float = 0.0
    stderr_tail: str = ""
    timed_out: bool = False


TIME_BIN = shutil.which("time", path="/usr/bin:/bin")


# The columns of the ingest-memory benchmarks (bench.many_files, bench.big_export) after their own.
MEMORY_HEADERS = ["wall s", "CPU s", "peak RSS MiB", "target", "result"]


def ingest_memory(source: Path, lake: Path, runs: int = 1) -> list[list[str]]:
    """`sts-audit ingest SOURCE` into a fresh `lake`, `runs` times in a row (the later ones
    reruns), as MEMORY_HEADERS cells each; the lake is removed afterwards."""
    shutil.rmtree(lake, ignore_errors=True)
    command = [sys.executable, "-m", "pipeline", "ingest", str(source), "--lake", str(lake)]
    cells = [memory_cells(measure([*command, "--quiet"])) for _ in range(runs)]
    shutil.rmtree(lake, ignore_errors=True)
    return cells


def report_memory(title: str, headers: list[str], rows: list[list[str]]) -> int:
    """Print an ingest-memory table (`headers`, then MEMORY_HEADERS); 0 when every row passes."""
    print_table(title, [*headers, *MEMORY_HEADERS], rows)
    return 0 if all(r[-1] == "PASS" for r in rows) else 1


def memory_cells(sample: Sample) -> list[str]:
    """One ingest run against the 1 GiB peak-memory target, as MEMORY_HEADERS cells."""
    ok = sample.returncode == 0 and sample.rss_bytes < GIB
    return [
        f"{sample.seconds:.1f}",
        f"{sample.cpu_seconds:.1f}",
        f"{sample.rss_bytes / 2**20:,.0f}",
        "< 1 GiB",
        "PASS" if ok else ("ERROR" if sample.returncode else "FAIL"),
    ]


def measure(argv: list[str], *, cwd: Path = ROOT, timeout: float | None = None) -> Sample:
    """Run argv as a child; wall seconds, CPU seconds (user + system, all threads) and peak RSS.

    CPU comes from `os.wait4`. Peak RSS comes from `/usr/bin/time -f %M` wrapped around the
    command when it exists: a forked child's own `ru_maxrss` also counts the memory it shared
    with this (larger) harness process before `exec`, which inflates small steps. A child
    still running after `timeout` seconds is killed (its whole session) and marked timed out.
    """
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        full = [TIME_BIN, "-q", "-f", "%M", "-o", str(rss_file), *argv] if TIME_BIN else argv
        with (Path(tmp) / "stderr").open("w+b") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(
                full, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
            )
            timed_out = False
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if timeout is not None and time.perf_counter() - started > timeout:
                    os.killpg(proc.pid, 9)
                    timed_out = True
                    _, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.01)
            seconds = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            tail = err.read()[-2000:].decode(errors="replace").strip()
        rss = usage.ru_maxrss * 1024
        try:
            lines = rss_file.read_text().split()
            if lines and lines[-1].isdigit():
                rss = int(lines[-1]) * 1024
        except OSError:
            pass
    return Sample(seconds, rss, proc.returncode, usage.ru_utime + usage.ru_stime, tail, timed_out)


# --------------------------------------------------------------------------------------------
# Steps: what is measured, against which floor, with which target


@dataclass
class Ctx:
    """What a step's command needs for one corpus size."""

    corpus: corpora.Corpus
    filelist: Path
    lake: Path
    scratch: Path
    # the lake of the same corpus without corpora.UNCOLLECTED_REGIONS (None: not at this size)
    uncollected: Path | None = None


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    command: Callable[[Ctx], list[str] | None]  # None: not built (row shows n/a)
    floor: str | None = None  # key of the step this one is compared to
    max_ratio: float | None = None  # target: median <= max_ratio x floor
    max_seconds: float | None = None  # target: median < max_seconds
    max_rss: int | None = None  # target: peak RSS < max_rss bytes
    fresh_lake: bool = False  # remove the lake first (a first ingest)
    alternative: bool = False  # only at the sizes chosen by --alternatives-at
    uncollected: bool = False  # on Ctx.uncollected, only at the sizes chosen by --uncollected-at
    scaling: bool = False  # part of the linear-scaling check


def _py(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.floors", *args]


def _ingest(ctx: Ctx) -> list[str]:
    return [STS_AUDIT, "ingest", str(ctx.corpus.logs), "--lake", str(ctx.lake), "--quiet"]


def _has_command(name: str) -> bool:
    try:
        out = subprocess.run([STS_AUDIT, name, "--help"], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0


_ANALYZE_VIA: dict[str, str] = {}


def _analyze_lake(lake: Path) -> list[str] | None:
    if "via" not in _ANALYZE_VIA:
        _ANALYZE_VIA["via"] = "cli" if _has_command("analyze") else "n/a"
    if _ANALYZE_VIA["via"] == "cli":
        return [STS_AUDIT, "analyze", "--lake", str(lake)]
    return None


def _analyze(ctx: Ctx) -> list[str] | None:
    return _analyze_lake(ctx.lake)


def _uncollected_lake(ctx: Ctx) -> Path:
    assert ctx.uncollected is not None, "an uncollected step runs only where that lake is built"
    return ctx.uncollected


UNCOLLECTED_LABEL = f"without {', '.join(corpora.UNCOLLECTED_REGIONS)}"  # "lake without us-east-1"


STEPS: tuple[Step, ...] = (
    Step(
        "ingest_floor",
        "ingest floor (1 thread: gunzip + orjson.loads)",
        lambda c: _py("ingest-floor", str(c.filelist)),
        scaling=True,
    ),
    Step(
        "ingest",
        "sts-audit ingest",
        _ingest,
        floor="ingest_floor",
        max_ratio=1.25,
        max_rss=GIB,
        fresh_lake=True,
        scaling=True,
    ),
    Step("rerun", "sts-audit ingest, rerun with nothing new", _ingest, max_seconds=5.0),
    Step(
        "analysis_floor",
        "analysis floor (DuckDB scan: distinct keys per account)",
        lambda c: _py("analysis-floor", str(c.lake)),
        scaling=True,
    ),
    Step(
        "analysis_scan",
        "ref: DuckDB scan of all columns int_events reads",
        lambda c: _py("analysis-scan", str(c.lake)),
        floor="analysis_floor",
    ),
    Step(
        "analyze",
        "sts-audit analyze (sessions, links, chains, logins, graph)",
        _analyze,
        floor="analysis_floor",
        max_ratio=4.0,
        scaling=True,
    ),
    # The same analyze on a lake whose issuing calls are mostly missing (corpora.
    # UNCOLLECTED_REGIONS says which folders are left out and why), against the floor of that
    # same lake: the path the full corpus never takes, `sessions_seen` built from the calls no
    # issuance in the lake accounts for. Its row shows the rows `sessions_seen` holds.
    Step(
        "uncollected_floor",
        f"analysis floor, lake {UNCOLLECTED_LABEL}",
        lambda c: _py("analysis-floor", str(_uncollected_lake(c))),
        uncollected=True,
    ),
    Step(
        "uncollected_analyze",
        f"sts-audit analyze, lake {UNCOLLECTED_LABEL}",
        lambda c: _analyze_lake(_uncollected_lake(c)),
        floor="uncollected_floor",
        max_ratio=4.0,
        uncollected=True,
    ),
    # the ingest as it was before the compiled splitter: DuckDB reads every file
    Step(
        "ingest_duckdb_only",
        "alt: sts-audit ingest, DuckDB reading every file (STS_AUDIT_SCAN=0)",
        lambda c: [
            "env",
            "STS_AUDIT_SCAN=0",
            *_ingest(c)[:-3],
            "--lake",
            str(c.scratch / "lake-duckdb"),
            "--quiet",
        ],
        floor="ingest_floor",
        alternative=True,
    ),
    Step(
        "duckdb_read_json",
        "alt: DuckDB read_json (inferred) -> Parquet",
        lambda c: _py("duckdb-read-json", str(c.corpus.path), str(c.scratch / "rj.parquet")),
        floor="ingest_floor",
        alternative=True,
    ),
    Step(
        "python_arrow",
        "alt: Python orjson -> pyarrow -> Parquet (key columns)",
        lambda c: _py("python-arrow", str(c.filelist), str(c.scratch / "pa.parquet")),
        floor="ingest_floor",
        alternative=True,
    ),
    Step(
        "compiled_arrow",
        "alt: prototype compiled pass (C -> Arrow -> Parquet, 2 processes; no dedupe)",
        lambda c: _py("compiled-arrow", str(c.filelist), str(c.scratch / "compiled")),
        floor="ingest_floor",
        alternative=True,
    ),
)


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class Result:
    step: Step
    size: int
    events: int
    samples: list[Sample] = field(default_factory=list)
    note: str = ""
    detail: str = ""  # what the step built, shown after its label (the uncollected analyze)
    error: bool = False  # not run because what it needs could not be built (its note says why)

    @property
    def built(self) -> bool:
        return bool(self.samples)

    @property
    def ok(self) -> bool:
        return self.built and all(s.returncode == 0 or s.timed_out for s in self.samples)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def lo(self) -> float:
        return min(s.seconds for s in self.samples)

    @property
    def hi(self) -> float:
        return max(s.seconds for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu_seconds for s in self.samples)

    @property
    def timed_out(self) -> bool:
        return any(s.timed_out for s in self.samples)

    @property
    def rss(self) -> int:
        return max(s.rss_bytes for s in self.samples)


def _verdict(r: Result, floors: dict[str, Result]) -> tuple[str, str, str]:
    """(ratio text, target text, PASS/FAIL/blank)."""
    step = r.step
    floor = floors.get(step.floor) if step.floor else None
    ratio = r.median / floor.median if (r.built and floor and floor.built) else None
    ratio_text = f"{ratio:.2f}x" if ratio is not None else ""
    if step.key.endswith("floor"):
        ratio_text = "floor"
    targets: list[str] = []
    passed: list[bool] = []
    if step.max_ratio is not None:
        targets.append(f"<= {step.max_ratio:g}x floor")
        if ratio is not None:
            passed.append(ratio <= step.max_ratio)
    if step.max_rss is not None:
        targets.append(f"RSS < {step.max_rss / GIB:g} GiB")
        if r.built:
            passed.append(r.rss < step.max_rss)
    if step.max_seconds is not None:
        targets.append(f"< {step.max_seconds:g} s")
        if r.built:
            passed.append(r.median < step.max_seconds)
    if r.error:
        verdict = "ERROR"
    elif not r.built:
        verdict = "n/a" if targets else ""
    elif not r.ok:
        verdict = "ERROR"
    elif r.timed_out:
        verdict = "stopped" if not targets else "FAIL"
    elif not targets:
        verdict = ""
    else:
        verdict = "PASS" if all(passed) else "FAIL"
    return ratio_text, ", ".join(targets), verdict


def table_rows(results: list[Result]) -> list[list[str]]:
    rows = []
    by_size: dict[int, dict[str, Result]] = {}
    for r in results:
        by_size.setdefault(r.size, {})[r.step.key] = r
    for r in results:
        ratio, target, verdict = _verdict(r, by_size[r.size])
        floor = by_size[r.size].get(r.step.floor) if r.step.floor else None
        cpu_ratio = (
            f"{r.cpu / floor.cpu:.2f}x"
            if r.built and floor and floor.built and floor.cpu > 0
            else ""
        )
        if r.step.key.endswith("floor"):
            cpu_ratio = "floor"
        if r.built and r.timed_out:
            cells = [
                f"> {r.hi:.0f}",
                "(stopped)",
                f"> {ratio}",
                f"< {r.events / r.hi:,.0f}",
                f">= {r.rss / 2**20:,.0f}",
                f">= {r.cpu:.1f}",
                f"> {cpu_ratio}",
            ]
        elif r.built:
            cells = [
                f"{r.median:.2f}",
                f"{r.lo:.2f}–{r.hi:.2f}",
                ratio,
                f"{r.events / r.median:,.0f}",
                f"{r.rss / 2**20:,.0f}",
                f"{r.cpu:.1f}",
                cpu_ratio,
            ]
        else:
            cells = [r.note or "n/a (not built)", "", "", "", "", "", ""]
        label = f"{r.step.label} ({r.detail})" if r.detail else r.step.label
        rows.append([label, f"{r.events:,}", *cells, target, verdict])
    return rows


HEADERS = [
    "step",
    "events",
    "median s",
    "min–max s",
    "ratio to floor",
    "events/s",
    "peak RSS MiB",
    "CPU s",
    "CPU ratio",
    "target",
    "result",
]


def scaling_rows(results: list[Result]) -> list[list[str]]:
    rows = []
    sizes = sorted({r.size for r in results})
    for step in STEPS:
        if not step.scaling:
            continue
        for measure_name in ("wall", "CPU"):
            per_m = {
                r.size: (r.median if measure_name == "wall" else r.cpu) / (r.events / 1e6)
                for r in results
                if r.step.key == step.key and r.ok and not r.timed_out
            }
            label = f"{step.label} [{measure_name} s]"
            if not per_m:
                rows.append([label, *["n/a" for _ in sizes], "", "n/a"])
                continue
            cells = [f"{per_m[s]:.2f}" if s in per_m else "n/a" for s in sizes]
            spread = max(per_m.values()) / min(per_m.values())
            judged = step.key in {"ingest", "analyze"}
            verdict = ("PASS" if spread <= 1.25 else "FAIL") if judged and len(per_m) > 1 else ""
            rows.append([label, *cells, f"{spread:.2f}", verdict])
    return rows


def scaling_headers(results: list[Result]) -> list[str]:
    sizes = sorted({r.size for r in results})
    return [
        "step (seconds per million events)",
        *[f"{s / 1e6:g}M" for s in sizes],
        "max/min",
        "flat within 25%",
    ]


# --------------------------------------------------------------------------------------------
# Machine description and report


def machine() -> dict[str, str]:
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for mod in ("duckdb", "polars", "pyarrow", "orjson"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            versions[mod] = "missing"
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        **versions,
    }


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(out)


def _size_md(results: list[Result], size: int) -> str:
    sub = [r for r in results if r.size == size]
    return _md_table(HEADERS, table_rows(sub))


def write_markdown(
    results: list[Result],
    corpus_info: list[corpora.Corpus],
    notes: list[str],
    command: str,
    started: datetime,
    seconds: float,
    repeat: str,
    out: Path = OUT_MD,
) -> None:
    m = machine()
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`bench/run.py`); do not edit by hand. The section "
        "'What limits the rest' comes from `bench/LIMITS.md`.",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC, total run time {seconds / 60:.1f} min",
        f"- Command: `{command}`",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory']} memory, {m['os']}",
        f"- Python {m['python']}; duckdb {m['duckdb']}, polars {m['polars']}, "
        f"pyarrow {m['pyarrow']}, orjson {m['orjson']}",
        f"- Each step is a separate process, run {repeat} time(s) per size (in --sizes order), "
        "interleaved with the others; the "
        "median is reported with min–max. CPU s is user + system time of all the child's "
        "threads (median). Peak RSS is the child's maximum resident set (`/usr/bin/time -f "
        "%M`), the max over the repeats.",
    ]
    uncollected_sizes = sorted({r.size for r in results if r.step.uncollected})
    if uncollected_sizes:
        lines.append(
            f"- The rows on the lake {UNCOLLECTED_LABEL} (at "
            f"{', '.join(f'{s / 1e6:g}M' for s in uncollected_sizes)}): the same corpus ingested "
            f"without every account's {', '.join(corpora.UNCOLLECTED_REGIONS)} trail folders, "
            "where the global STS endpoint logs, so `sessions_seen` holds the sessions whose "
            "issuance the lake does not hold (`bench/corpus.py` says why a region, not an "
            "account); its events are that lake's rows, its floor that lake's floor."
        )
    lines += [
        "",
        "## Corpora",
        "",
        "| events (records) | days | delivery files | source |",
        "|---|---|---|---|",
    ]
    for c in corpus_info:
        lines.append(f"| {c.events:,} | {c.days} | {c.files:,} | `{c.via}` seed {c.seed} |")
    for size in sorted({r.size for r in results}):
        lines += ["", f"## {size / 1e6:g}M events", "", _size_md(results, size)]
    lines += [
        "",
        "## Scaling (seconds per million events)",
        "",
        _md_table(scaling_headers(results), scaling_rows(results)),
        "",
        "## Targets",
        "",
        "- ingest: median <= 1.25x the ingest floor (same files, same run) and peak RSS < 1 GiB",
        "- analyze: median <= 4x the analysis floor (same lake, same run)",
        "- ingest rerun with nothing new: < 5 s",
        "- scaling: seconds per million events of ingest and analyze within 25% (max/min <= "
        "1.25) across the sizes",
    ]
    if notes:
        lines += ["", "## Notes from this run", ""] + [f"- {n}" for n in notes]
    if LIMITS_MD.is_file():
        lines += ["", LIMITS_MD.read_text().rstrip()]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


def saved_run(out: Path) -> Path:
    """Where a run that writes `out` keeps its raw samples (for `--replay`): last-run.json for
    BENCHMARKS.md, else beside `out`, so a quick run never stands in for the full one's."""
    return LAST_RUN if out.resolve() == OUT_MD.resolve() else out.with_name(out.name + ".json")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(title)
        print(" | ".join(headers))
        for row in rows:
            print(" | ".join(row))
        return
    table = Table(title=title)
    for i, h in enumerate(headers):
        table.add_column(h, justify="left" if i == 0 or h in {"target"} else "right")
    for row in rows:
        style = "red" if row[-1] in {"FAIL", "ERROR"} else ("green" if row[-1] == "PASS" else None)
        table.add_row(*row, style=style)
    Console(width=200).print(table)


# --------------------------------------------------------------------------------------------
# The run


def _lake_rows(lake: Path) -> int | None:
    import duckdb

    glob = str(lake / "events" / "*" / "*" / "*.parquet")
    try:
        row = (
            duckdb.connect()
            .execute(
                "SELECT count(*) FROM read_parquet($g, hive_partitioning = true, hive_types = "
                "{'event_date': DATE, 'recipient_account_id': VARCHAR}, union_by_name = true)",
                {"g": glob},
            )
            .fetchone()
        )
    except duckdb.Error:
        return None
    return int(row[0]) if row else None


def _sessions_seen(lake: Path) -> str:
    """What `analyze` wrote to LAKE's `sessions_seen`: its rows and the calls they hold."""
    import duckdb

    path = lake / "analysis" / "sessions_seen.parquet"
    try:
        row = (
            duckdb.connect()
            .execute(
                "SELECT count(*), coalesce(sum(records), 0) FROM read_parquet($p)", {"p": str(path)}
            )
            .fetchone()
        )
    except duckdb.Error:
        return "sessions_seen: not readable"
    assert row is not None
    return f"sessions_seen: {int(row[0]):,} rows, {int(row[1]):,} calls"


def _truth(corpus: corpora.Corpus, lake: Path) -> tuple[str, str]:
    """What `analyze` wrote to LAKE's `sessions` against the simulator's truth (pipeline.
    simulate.verify): the row's detail and a note with the fields that differ."""
    from pipeline import analysis
    from pipeline.simulate import verify

    size = f"{corpus.size / 1e6:g}M"
    try:
        con = analysis.open_analysis(lake)
        try:
            result = verify.check(con, corpus.path)
        finally:
            con.close()
    except Exception as exc:  # the table must still print; the note says what failed
        return "truth: not checked", f"{size}: the truth check failed: {exc}"
    detail = (
        f"truth: {result.sessions_wrong:,} of {result.delivered:,} sessions differ, "
        f"{result.sessions_unexplained:,} outside a shared ARN and second"
    )
    fields = ", ".join(f"{name} {count:,}" for name, count in result.by_field().most_common())
    note = (
        f"{size}: against the simulator's truth, {result.sessions_wrong:,} of the "
        f"{result.delivered:,} sessions the lake holds differ in some field"
        + (f" (mismatches per field: {fields})" if fields else "")
        + f"; {result.sessions_unexplained:,} of them outside a second whose ARN another "
        "session shares (where no key, console flag or address tells sessions apart, the data "
        "cannot)"
    )
    return detail, note


def _ingest_uncollected(
    corpus: corpora.Corpus, lake: Path, notes: list[str], log: Callable[[str], None]
) -> int | None:
    """Ingest the corpus without corpora.UNCOLLECTED_REGIONS into `lake` (once, not measured);
    its stored rows, or None when it could not be built."""
    sources = corpora.trail_folders(corpus.logs, left_out_regions=corpora.UNCOLLECTED_REGIONS)
    size = f"{corpus.size / 1e6:g}M"
    if not sources:
        notes.append(f"{size}: the corpus has no trail folder {UNCOLLECTED_LABEL}")
        return None
    shutil.rmtree(lake, ignore_errors=True)
    sample = measure([STS_AUDIT, "ingest", *map(str, sources), "--lake", str(lake), "--quiet"])
    stored = _lake_rows(lake) if sample.returncode == 0 else None
    if stored is None:
        notes.append(
            f"{size}: the lake {UNCOLLECTED_LABEL} was not built: {sample.stderr_tail[-300:]}"
        )
        return None
    log(f"    lake {UNCOLLECTED_LABEL}: {stored:,} rows ({sample.seconds:.1f} s to ingest)")
    notes.append(
        f"{size}: the lake {UNCOLLECTED_LABEL} ({len(sources)} trail folders) holds {stored:,} "
        f"rows, ingested once before the steps in {sample.seconds:.1f} s (not in the table)"
    )
    return stored


def _warm(files: list[Path]) -> None:
    """Read every input once so all steps start from the same (warm) page cache."""
    for p in files:
        with p.open("rb") as handle:
            while handle.read(1 << 20):
                pass


def run_size(
    corpus: corpora.Corpus,
    repeat: int,
    alternatives: bool,
    alt_timeout_ratio: float,
    notes: list[str],
    log: Callable[[str], None],
    uncollected: bool = False,
) -> list[Result]:
    work = WORK / f"n{corpus.size}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    files = corpora.data_files(corpus)
    filelist = work / "files.txt"
    filelist.write_text("\n".join(str(p) for p in files) + "\n")
    _warm(files)
    ctx = Ctx(corpus, filelist, work / "lake", work / "scratch")
    ctx.scratch.mkdir()
    uncollected_rows = None
    if uncollected:
        ctx.uncollected = work / "lake-uncollected"
        uncollected_rows = _ingest_uncollected(corpus, ctx.uncollected, notes, log)
    steps = [
        s
        for s in STEPS
        if (alternatives or not s.alternative) and (uncollected or not s.uncollected)
    ]
    # the uncollected lake's steps count its own rows (events/s)
    results = {
        s.key: Result(s, corpus.size, (uncollected_rows or 0) if s.uncollected else corpus.events)
        for s in steps
    }
    if uncollected and uncollected_rows is None:
        for s in steps:
            if s.uncollected:
                results[s.key].note = f"n/a (the lake {UNCOLLECTED_LABEL} was not built)"
                results[s.key].error = True
        steps = [s for s in steps if not s.uncollected]
    loads = []
    for i in range(repeat):
        for step in steps:
            argv = step.command(ctx)
            if argv is None:
                results[step.key].note = "n/a (not built)"
                continue
            if step.fresh_lake:
                shutil.rmtree(ctx.lake, ignore_errors=True)
            timeout = None
            floor = results.get(step.floor) if step.floor else None
            if step.alternative:
                if results[step.key].timed_out:
                    continue  # stopped once: no need to wait for it again
                if floor and floor.built:
                    timeout = max(60.0, alt_timeout_ratio * floor.median)
            loads.append(os.getloadavg()[0])
            sample = measure(argv, timeout=timeout)
            results[step.key].samples.append(sample)
            status = (
                ""
                if sample.returncode == 0
                else (f"  EXIT {sample.returncode}: {sample.stderr_tail[-300:]}")
            )
            if sample.timed_out:
                status = f"  stopped after {timeout:.0f} s ({alt_timeout_ratio:g}x the floor)"
            log(
                f"    [{i + 1}/{repeat}] {step.key:<19} {sample.seconds:8.2f} s  "
                f"cpu {sample.cpu_seconds:7.2f} s  {sample.rss_bytes / 2**20:7.0f} MiB{status}"
            )
            if step.key == "ingest" and i == 0:
                stored = _lake_rows(ctx.lake)
                summary = json.loads((corpus.path / "truth" / "summary.json").read_text())
                expected = corpus.events - int(summary.get("duplicates", 0))
                notes.append(
                    f"{corpus.size / 1e6:g}M: the lake holds {stored:,} rows for {corpus.events:,} "
                    f"records delivered, of which {summary.get('duplicates', 0):,} are planted "
                    f"duplicate deliveries (expected {expected:,} stored)"
                    if stored is not None
                    else f"{corpus.size / 1e6:g}M: lake not readable"
                )
            if step.key == "analyze" and i == 0 and sample.returncode == 0:
                results[step.key].detail, truth_note = _truth(corpus, ctx.lake)
                notes.append(truth_note)
                log(f"    {results[step.key].detail}")
            if step.key == "uncollected_analyze" and i == 0 and ctx.uncollected is not None:
                results[step.key].detail = _sessions_seen(ctx.uncollected)
                log(f"    {results[step.key].detail}")
            for out in ctx.scratch.iterdir():
                if out.is_dir():
                    shutil.rmtree(out)
                else:
                    out.unlink()
    notes.append(
        f"{corpus.size / 1e6:g}M: 1-minute load average before each step: "
        f"median {statistics.median(loads):.1f}, max {max(loads):.1f} on {os.cpu_count()} cores"
        + (
            " (other processes were competing for the CPU: absolute times are pessimistic; "
            "compare ratios and CPU seconds)"
            if statistics.median(loads) > 1.0
            else ""
        )
    )
    shutil.rmtree(work, ignore_errors=True)
    return list(results.values())


def replay(path: Path, out: Path | None = None) -> int:
    """Rebuild the tables and the Markdown file from a saved run, without measuring anything:
    into `out`, else the file the run wrote (BENCHMARKS.md for a run saved before `--output`)."""
    saved = json.loads(path.read_text())
    target = out or Path(saved.get("output", OUT_MD))
    steps = {s.key: s for s in STEPS}
    results = []
    for item in saved["results"]:
        r = Result(
            steps[item["step"]],
            item["size"],
            item["events"],
            note=item.get("note", ""),
            detail=item.get("detail", ""),
            error=item.get("error", False),
        )
        r.samples = [
            Sample(s["seconds"], s["rss"], s["rc"], s["cpu"], "", s["timed_out"])
            for s in item["samples"]
        ]
        results.append(r)
    corpus_info = [corpora.build(saved["seed"], size) for size in saved["sizes"]]
    for size in saved["sizes"]:
        print_table(
            f"{size / 1e6:g}M events", HEADERS, table_rows([r for r in results if r.size == size])
        )
    print_table(
        "Scaling: seconds per million events", scaling_headers(results), scaling_rows(results)
    )
    write_markdown(
        results,
        corpus_info,
        saved["notes"],
        saved["command"],
        datetime.fromisoformat(saved["started"]),
        saved["seconds"],
        saved["repeat"],
        target,
    )
    print(f"wrote {_shown(target)}")
    return 0


def _chosen_sizes(choice: str, sizes: list[int]) -> set[int]:
    """The sizes an `--...-at` option names: all, none, smallest, largest or a comma list."""
    if choice == "all":
        return set(sizes)
    if choice == "none":
        return set()
    if choice == "smallest":
        return {min(sizes)}
    if choice == "largest":
        return {max(sizes)}
    return {int(float(s)) for s in choice.split(",") if s}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sizes",
        default="1000000,2000000,5000000",
        help="comma-separated corpus sizes in events (default 1M,2M,5M)",
    )
    ap.add_argument(
        "--repeat",
        default="3",
        help="runs per step, the median is reported; one number, or one per size (e.g. 3,3,1)",
    )
    ap.add_argument(
        "--alt-timeout-ratio",
        type=float,
        default=15.0,
        help="stop an alternative after this many times the floor (default 15)",
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--alternatives-at",
        default="smallest",
        help="sizes at which to also run the alternatives (DuckDB read_json, Python "
        "pyarrow): 'smallest' (default), 'all', 'none' or a comma list",
    )
    ap.add_argument(
        "--uncollected-at",
        default="largest",
        help="sizes at which to also analyze a lake of the same corpus without its "
        f"{', '.join(corpora.UNCOLLECTED_REGIONS)} folders, where sessions_seen is not empty "
        "(ingested once, then measured like analyze): 'largest' (default), 'all', 'none' or a "
        "comma list",
    )
    ap.add_argument(
        "--output",
        metavar="PATH",
        type=Path,
        help="write the Markdown table here instead of BENCHMARKS.md, the committed record of "
        "the full run (`make bench-quick`: bench/.cache/BENCHMARKS-quick.md); the raw samples "
        "go beside it, in PATH.json",
    )
    ap.add_argument(
        "--no-write", action="store_true", help="do not write the Markdown file or the samples"
    )
    ap.add_argument(
        "--replay",
        metavar="JSON",
        help="re-render from a saved run (bench/.cache/last-run.json) into the file that run "
        "wrote, or --output",
    )
    args = ap.parse_args(argv)
    if args.replay:
        return replay(Path(args.replay), args.output)
    out: Path = args.output or OUT_MD
    sizes = [int(float(s)) for s in args.sizes.split(",") if s]
    repeats = [int(r) for r in args.repeat.split(",")]
    if len(repeats) == 1:
        repeats *= len(sizes)
    if len(repeats) != len(sizes):
        ap.error("--repeat takes one number or one per size")
    repeat_of = dict(zip(sizes, repeats, strict=True))
    alt_sizes = _chosen_sizes(args.alternatives_at, sizes)
    uncollected_sizes = _chosen_sizes(args.uncollected_at, sizes)
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    started = datetime.now(UTC)
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(msg, flush=True)

    log(f"sts-audit benchmark: sizes {sizes}, repeat {repeats}, seed {args.seed}")
    corpus_info = []
    for size in sizes:
        corpus_info.append(corpora.build(args.seed, size, log=log))
    results: list[Result] = []
    notes: list[str] = []
    for c in corpus_info:
        log(f"  {c.size:,} events ({c.events:,} records, {c.files:,} files, {c.days} days)")
        results += run_size(
            c,
            repeat_of[c.size],
            c.size in alt_sizes,
            args.alt_timeout_ratio,
            notes,
            log,
            uncollected=c.size in uncollected_sizes,
        )
        if not args.no_write:  # after each size, so a stopped run still leaves its figures
            write_markdown(
                results,
                corpus_info,
                notes,
                command.strip(),
                started,
                time.perf_counter() - t0,
                args.repeat,
                out,
            )
        for size in sorted({r.size for r in results if r.size == c.size}):
            print_table(
                f"{size / 1e6:g}M events",
                HEADERS,
                table_rows([r for r in results if r.size == size]),
            )
    print_table(
        "Scaling: seconds per million events", scaling_headers(results), scaling_rows(results)
    )
    if _ANALYZE_VIA.get("via") == "n/a":
        notes.append("`sts-audit analyze` is not registered yet: its rows show n/a")
    for note in notes:
        log(f"note: {note}")
    seconds = time.perf_counter() - t0
    if not args.no_write:
        write_markdown(
            results, corpus_info, notes, command.strip(), started, seconds, args.repeat, out
        )
        log(f"wrote {_shown(out)} ({seconds / 60:.1f} min)")
    raw = [
        {
            "step": r.step.key,
            "size": r.size,
            "events": r.events,
            "note": r.note,
            "detail": r.detail,
            "error": r.error,
            "samples": [
                {
                    "seconds": s.seconds,
                    "cpu": s.cpu_seconds,
                    "rss": s.rss_bytes,
                    "rc": s.returncode,
                    "timed_out": s.timed_out,
                }
                for s in r.samples
            ],
        }
        for r in results
    ]
    if not args.no_write:
        saved_run(out).write_text(
            json.dumps(
                {
                    "command": command.strip(),
                    "output": str(out.resolve()),
                    "started": started.isoformat(),
                    "seconds": seconds,
                    "repeat": args.repeat,
                    "seed": args.seed,
                    "sizes": sizes,
                    "notes": notes,
                    "results": raw,
                },
                indent=1,
            )
        )
    failed = any(
        _verdict(r, {x.step.key: x for x in results if x.size == r.size})[2] == "ERROR"
        for r in results
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
