"""Drive a simulation: split the days into shards, run them (in parallel), write truth and digests.

Each shard (a quarter of a day, plus one shard of planted scenarios on the last day) has its own
seeded RNG and writes its own log files, so the output does not depend on the worker count.
"""

from __future__ import annotations

import calendar
import multiprocessing
import random
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from pipeline.errors import ConfigError
from pipeline.simulate.baseline import MEMBERS, STORIES, STORY_NAMES, STORY_WEIGHTS
from pipeline.simulate.context import Ctx
from pipeline.simulate.ids import Ids, iso
from pipeline.simulate.org import build_org
from pipeline.simulate.scenarios import PLANTS
from pipeline.simulate.truth import dump_sessions
from pipeline.simulate.writer import LogFile, TrailWriter, write_digests

DEFAULT_START = date(2026, 11, 1)
SCENARIO_START = 8 * 3600  # planted scenarios start at 08:00 on the last day
SCENARIO_GAP = 40 * 60


@dataclass(frozen=True)
class SimulationSummary:
    """What a run wrote (also saved as `truth/summary.json`)."""

    out: Path
    events: int
    files: int
    digest_files: int
    duplicates: int
    sessions: int
    sessions_by_kind: dict[str, int]
    scenarios: int
    start: str
    end: str


@dataclass(frozen=True)
class _Shard:
    out: Path
    seed: int
    index: int
    day: int
    start: int  # epoch seconds
    quota: int
    scenarios: bool
    part: int = 0  # which slice of the day
    parts: int = 1  # slices per day


@dataclass
class _ShardResult:
    manifest: list[LogFile]
    records: int
    duplicates: int
    kinds: Counter[str]
    scenarios: list[dict[str, Any]]


def _part(out: Path, index: int) -> Path:
    return out / "truth" / ".parts" / f"{index:05d}.jsonl"


def _run_shard(shard: _Shard) -> _ShardResult:
    org = build_org(shard.seed)
    tag = f"{shard.seed}:{shard.day}:{shard.index}"
    ids = Ids(random.Random(tag))
    writer = TrailWriter(shard.out, Ids(random.Random(f"{tag}:files")), set(org.org_account_ids))
    ctx = Ctx(org, ids, writer)
    scenarios: list[dict[str, Any]] = []
    with _part(shard.out, shard.index).open("wb") as truth:

        def finish() -> None:
            truth.write(dump_sessions(ctx.sessions))
            ctx.sessions.clear()

        if shard.scenarios:
            for i, plant in enumerate(PLANTS):
                t = shard.start + SCENARIO_START + i * SCENARIO_GAP
                ctx.drain(t)
                writer.advance(t)
                scenarios.append(plant(ctx, t).as_json())
                finish()
        else:
            _baseline(ctx, shard, finish)
    ctx.drain()
    writer.close()
    return _ShardResult(writer.manifest, writer.records, writer.duplicates, ctx.kinds, scenarios)


def _baseline(ctx: Ctx, shard: _Shard, finish: Callable[[], None]) -> None:
    rng = ctx.rng
    seconds = 86400 // shard.parts
    end = shard.start + seconds
    # Every story kind appears every day, whatever the event budget.
    planned = sorted(
        (shard.start + rng.randint(0, seconds - 1), name)
        for name in STORY_NAMES[shard.part :: shard.parts]
    )
    if shard.part == shard.parts - 1:
        planned.append((end - 200, "iam_user_assume_role"))  # delivered after midnight
        planned.append((end - 100, "ec2"))
    t, stories, clock = shard.start, 0, float(shard.start)
    writer = ctx.writer
    while True:
        produced = writer.records + ctx.unwritten
        remaining = shard.quota - produced
        per_story = produced / stories if stories else 15.0
        if remaining > 0:
            # Adapt the story rate so the shard ends near its quota (several per second is fine).
            clock += rng.expovariate(remaining / ((end - t) * per_story))
            nxt = int(clock)
        else:
            nxt = end
        if planned and planned[0][0] <= nxt:
            nxt, name = planned.pop(0)
        elif nxt >= end:
            break
        else:
            name = rng.choices(STORY_NAMES, STORY_WEIGHTS)[0]
        t = max(t, nxt)
        ctx.drain(t)
        writer.advance(t)
        STORIES[name][0](ctx, t)
        stories += 1
        finish()


def simulate(
    out: Path,
    *,
    days: int,
    seed: int,
    events: int,
    start_date: date = DEFAULT_START,
    workers: int = 2,
    overwrite: bool = False,
) -> SimulationSummary:
    """Write an organization-trail corpus of about `events` records plus its ground truth."""
    if days < 1:
        raise ConfigError(f"--days must be at least 1, not {days}", fix="pass --days 1 or more")
    if events < 0:
        raise ConfigError(
            f"--events must not be negative, not {events}", fix="pass --events 0 or more"
        )
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file", fix="pass a folder to --out")
    for sub in ("AWSLogs", "truth"):
        if (out / sub).exists():
            if not overwrite:
                raise ConfigError(
                    f"{out / sub} already exists",
                    fix="pass --overwrite to replace it, or choose another --out",
                )
            shutil.rmtree(out / sub)
    (out / "truth" / ".parts").mkdir(parents=True, exist_ok=True)
    t0 = calendar.timegm(start_date.timetuple())
    # Whole days when their number is even (two workers stay balanced), else half days:
    # fewer shard boundaries mean fewer extra files for sessions that outlive their shard.
    parts = 1 if days % 2 == 0 else 2
    per_shard = events // (days * parts)
    shards = [
        _Shard(
            out,
            seed,
            d * parts + q,
            d,
            t0 + d * 86400 + q * 86400 // parts,
            per_shard,
            False,
            part=q,
            parts=parts,
        )
        for d in range(days)
        for q in range(parts)
    ]
    shards.append(_Shard(out, seed, len(shards), days - 1, t0 + (days - 1) * 86400, 0, True))
    if workers > 1:
        # forkserver, not fork: a process that already runs threads (DuckDB's, a notebook's,
        # pytest's) can hand a forked child a lock held by a thread that does not exist there;
        # a shard worker died of it mid-test and left pool.map waiting forever
        with multiprocessing.get_context("forkserver").Pool(workers) as pool:
            results = pool.map(_run_shard, shards, chunksize=1)
    else:
        results = [_run_shard(s) for s in shards]
    return _finish(out, seed, t0, days, shards, results)


def _finish(
    out: Path, seed: int, t0: int, days: int, shards: list[_Shard], results: list[_ShardResult]
) -> SimulationSummary:
    truth_dir = out / "truth"
    sessions = 0
    with (truth_dir / "sessions.jsonl").open("wb") as merged:
        for shard in shards:
            with _part(out, shard.index).open("rb") as part:
                while chunk := part.read(1 << 20):  # streamed: parts can be large
                    sessions += chunk.count(b"\n")
                    merged.write(chunk)
    shutil.rmtree(truth_dir / ".parts")
    manifest = [f for r in results for f in r.manifest]
    last = max((f.delivered for f in manifest), default=t0 + days * 86400)
    end = max(t0 + days * 86400, last - last % 3600 + 3600)
    org = build_org(seed)
    digests = write_digests(out, manifest, t0, end, org.org_account_ids)
    kinds: Counter[str] = Counter()
    for r in results:
        kinds.update(r.kinds)
    scenarios = [s for r in results for s in r.scenarios]
    (truth_dir / "scenarios.json").write_bytes(orjson.dumps(scenarios, option=orjson.OPT_INDENT_2))
    summary = SimulationSummary(
        out=out,
        events=sum(r.records for r in results),
        files=len(manifest),
        digest_files=digests,
        duplicates=sum(r.duplicates for r in results),
        sessions=sessions,
        sessions_by_kind=dict(sorted(kinds.items())),
        scenarios=len(scenarios),
        start=iso(t0),
        end=iso(end),
    )
    body = {k: v for k, v in summary.__dict__.items() if k != "out"}
    body.update(seed=seed, days=days, org_accounts=org.org_account_ids, member_names=list(MEMBERS))
    (truth_dir / "summary.json").write_bytes(
        orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    return summary
