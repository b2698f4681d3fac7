"""Commands of the simulate group: write a synthetic organization-trail corpus."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from pipeline.errors import ConfigError


def simulate_command(
    *,
    out: Annotated[Path, typer.Option("--out", help="Folder to write AWSLogs/ and truth/ into.")],
    days: Annotated[int, typer.Option("--days", min=1, help="Number of simulated days.")] = 3,
    seed: Annotated[
        int, typer.Option("--seed", help="RNG seed; the same seed gives the same bytes.")
    ] = 42,
    events: Annotated[
        int, typer.Option("--events", min=0, help="About how many CloudTrail records to write.")
    ] = 10_000,
    start_date: Annotated[
        str | None, typer.Option("--start-date", help="First simulated day, YYYY-MM-DD (UTC).")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes.")] = 2,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace OUT/AWSLogs and OUT/truth if present.")
    ] = False,
) -> None:
    """Write a seeded AWS Organization CloudTrail corpus with its ground truth.

    Example:

        sts-audit simulate --out sample_data --days 3 --seed 42 --events 1000 --overwrite
    """
    from pipeline.simulate import DEFAULT_START, simulate

    start = DEFAULT_START
    if start_date is not None:
        try:
            start = datetime.strptime(start_date, "%Y-%m-%d").date()  # noqa: DTZ007
        except ValueError:
            raise ConfigError(
                f"--start-date {start_date!r} is not a date", fix="use YYYY-MM-DD"
            ) from None
    summary = simulate(
        out,
        days=days,
        seed=seed,
        events=events,
        start_date=start,
        workers=workers,
        overwrite=overwrite,
    )
    print(
        f"simulated {summary.events} records in {summary.files} files "
        f"(+{summary.digest_files} digests, {summary.duplicates} duplicates), "
        f"{summary.sessions} sessions, {summary.scenarios} scenarios -> {out}",
        file=sys.stderr,
    )


def register(app: typer.Typer) -> None:
    """Attach this group's commands to `app`."""
    app.command("simulate")(simulate_command)
