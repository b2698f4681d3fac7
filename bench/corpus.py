"""Simulator corpora for the benchmark, cached under bench/.cache/ keyed by seed, size, days and
the simulator's own source (a changed simulator writes other records, so its corpora are rebuilt).

A corpus is built with `sts-audit simulate` when the command exists, else through the
simulator's library entry point (`pipeline.simulate.run.simulate`), which writes the same bytes
for the same arguments. A corpus is reused only when its `.complete` marker exists, so an
interrupted build is redone, never half-used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from pipeline.layout import ACCOUNT_RE, ORG_ID_RE

ROOT = Path(__file__).resolve().parent.parent
# Corpora, lakes and the last run's figures; STS_AUDIT_BENCH_CACHE moves them (the tests' smoke
# run uses a temporary folder so it never touches a real run's cache).
CACHE = Path(os.environ.get("STS_AUDIT_BENCH_CACHE") or ROOT / "bench" / ".cache")
VENV_BIN = Path(sys.executable).parent
# A constant daily volume: a bigger corpus is more days of the same organization, so files keep
# the same size and per-million costs are comparable across sizes (the scaling check).
EVENTS_PER_DAY = 250_000

# The benchmark's lake whose issuing calls are mostly missing (bench/LIMITS.md): the same corpus
# with these trail folders left out, so `sessions_seen` (the sessions seen only through their
# calls) is built from hundreds of thousands of calls, as on a real archive that does not
# collect everything. A region, not an account: in the simulated organization every
# cross-account issuance is also logged in the role's own account (the role owner's copy of its
# AssumeRole, cloudtrail-semantics.md §4.3), and a session's calls are logged where its role
# lives, so leaving out an account leaves out its sessions' calls with their issuances. Measured
# on the 200k corpus: without any one of the five accounts' trails (the identity account where
# users assume roles included), 0 to 140 of the remaining 96k-163k calls made with temporary
# credentials are unattributed (at most 63 sessions). The global STS endpoint logs in us-east-1
# (§1.1; 60% of the simulator's issuances), while the sessions it issues call in every region:
# without us-east-1, 19,978 of the remaining 65,019 calls (31%, 3,474 sessions), and at 5M
# 484,200 of 1,629,490 (30%, 84,706 sessions), as in an archive that collects only the regions
# its workloads run in. Leaving out the identity account as well lowers the share (30%, fewer
# calls).
UNCOLLECTED_REGIONS: tuple[str, ...] = ("us-east-1",)


@dataclass(frozen=True)
class Corpus:
    """One cached corpus: its folder (holding AWSLogs/ and truth/) and its record count."""

    path: Path
    seed: int
    size: int
    days: int
    events: int
    files: int
    via: str

    @property
    def logs(self) -> Path:
        return self.path / "AWSLogs"


def days_for(size: int) -> int:
    return max(1, round(size / EVENTS_PER_DAY))


# Modules of pipeline/simulate/ that write nothing of a corpus: a change to them keeps its cache.
NOT_WRITING: frozenset[str] = frozenset({"verify.py"})  # the check of an analysis against truth


def simulator_digest() -> str:
    """A short digest of the simulator's source files: part of every corpus's cache key."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "pipeline" / "simulate").glob("*.py")):
        if path.name in NOT_WRITING:
            continue
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def corpus_dir(seed: int, size: int) -> Path:
    return CACHE / f"sim-seed{seed}-n{size}-d{days_for(size)}-{simulator_digest()}"


def _cli_has_simulate() -> bool:
    exe = VENV_BIN / "sts-audit"
    try:
        out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return any(line.strip().startswith("simulate") for line in out.stdout.splitlines())


def build(seed: int, size: int, *, log=print) -> Corpus:
    """Return the cached corpus for (seed, size), generating it first if needed."""
    path = corpus_dir(seed, size)
    marker = path / ".complete"
    if marker.is_file():
        meta = json.loads(marker.read_text())
        return Corpus(path, seed, size, meta["days"], meta["events"], meta["files"], meta["via"])
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    days = days_for(size)
    started = time.perf_counter()
    if _cli_has_simulate():
        via = "sts-audit simulate"
        log(f"  generating {size:,} events over {days} day(s) with `sts-audit simulate` ...")
        subprocess.run(
            [
                str(VENV_BIN / "sts-audit"),
                "simulate",
                "--out",
                str(path),
                "--days",
                str(days),
                "--seed",
                str(seed),
                "--events",
                str(size),
                "--overwrite",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    else:
        via = "pipeline.simulate.run.simulate (CLI not registered yet)"
        log(f"  generating {size:,} events over {days} day(s) with the simulator library ...")
        code = (
            "import sys; from pathlib import Path; from pipeline.simulate.run import simulate; "
            "simulate(Path(sys.argv[1]), days=int(sys.argv[2]), seed=int(sys.argv[3]), "
            "events=int(sys.argv[4]), overwrite=True)"
        )
        subprocess.run(
            [sys.executable, "-c", code, str(path), str(days), str(seed), str(size)],
            check=True,
            cwd=ROOT,
        )
    summary = json.loads((path / "truth" / "summary.json").read_text())
    meta = {
        "days": days,
        "events": int(summary["events"]),
        "files": int(summary["files"]),
        "via": via,
        "seconds": round(time.perf_counter() - started, 1),
    }
    marker.write_text(json.dumps(meta))
    log(f"  generated {meta['events']:,} events in {meta['files']:,} files ({meta['seconds']} s)")
    return Corpus(path, seed, size, days, meta["events"], meta["files"], via)


def trail_folders(
    logs: Path,
    *,
    left_out_accounts: Collection[str] = (),
    left_out_regions: Collection[str] = (),
) -> list[Path]:
    """The `ACCOUNT/CloudTrail/REGION` folders under an `AWSLogs` folder (an organization trail's
    `AWSLogs/o-ORGID/ACCOUNT/...` or one account's `AWSLogs/ACCOUNT/...`), sorted, without those
    of the left-out accounts and regions: the sources of an ingest that collects only the rest.
    Digest and Insights folders are not among them."""
    accounts = [p for p in logs.iterdir() if p.is_dir() and ACCOUNT_RE.match(p.name)]
    for org in (p for p in logs.iterdir() if p.is_dir() and ORG_ID_RE.match(p.name)):
        accounts += [p for p in org.iterdir() if p.is_dir() and ACCOUNT_RE.match(p.name)]
    return sorted(
        region
        for account in accounts
        if account.name not in left_out_accounts
        for region in (account / "CloudTrail").glob("*")
        if region.is_dir() and region.name not in left_out_regions
    )


def data_files(corpus: Corpus) -> list[Path]:
    """The event delivery files (not digests) of a corpus, sorted."""
    return sorted(p for p in corpus.logs.rglob("*.json.gz") if "CloudTrail-Digest" not in p.parts)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Build (or reuse) cached benchmark corpora.")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--sizes", default="1000000,2000000,5000000")
    args = ap.parse_args()
    for n in (int(s) for s in args.sizes.split(",")):
        c = build(args.seed, n)
        print(c)
