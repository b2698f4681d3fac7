"""`make bench-simulate`: time `sts-audit simulate` on 5,000,000 events against its target.

The simulator must write 5M events in under 5 minutes on a 2-core machine with memory that does
not grow with the event count. This times one fresh run as a child process (wall, CPU, peak RSS
of the largest process) and prints the verdict; the corpus goes to a temporary folder that is
removed afterwards.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 300.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    exe = Path(sys.executable).with_name("sts-audit")
    out = Path(tempfile.mkdtemp(prefix="sts-audit-sim-"))
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [
                str(exe),
                "simulate",
                "--out",
                str(out),
                "--days",
                str(args.days),
                "--seed",
                str(args.seed),
                "--events",
                str(args.events),
                "--overwrite",
            ],
            check=True,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss_mib = after.ru_maxrss / 1024
    target = TARGET_SECONDS * args.events / 5_000_000
    verdict = "PASS" if wall < target else "FAIL"
    print("| events | wall s | CPU s | peak RSS MiB | target | result |")
    print("|---|---|---|---|---|---|")
    row = [f"{args.events:,}", f"{wall:.1f}", f"{cpu:.1f}", f"{rss_mib:.0f}"]
    print("| " + " | ".join([*row, f"< {target:.0f} s", verdict]) + " |")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
