"""`sts-audit run`: the nightly job — ingest new logs, then rebuild the analysis tables."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.commands.analyze import check_strict_analysis, echo_analysis_warnings
from pipeline.commands.ingest import SinceOption, echo_warnings, render_summary
from pipeline.commands.options import ConfigOption, LakeOption
from pipeline.config import load_config, resolve_lake
from pipeline.render import json_line, terminal_safe


def run_command(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Files, folders or s3:// URLs with CloudTrail JSON.",
            metavar="SOURCE",
            show_default=False,
        ),
    ],
    *,
    lake: LakeOption = None,
    config: ConfigOption = None,
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="S3 endpoint (S3-compatible server).")
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 1 as ingest --strict does (quarantined, unreadable, a --since gap), or "
            "when a chain is deeper than max_chain_depth.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    since: SinceOption = None,
) -> None:
    """Run the nightly job: ingest new logs into the lake, then rebuild the analysis tables.

    Example:

        sts-audit run sample_data/AWSLogs --lake lake

        sts-audit run s3://my-trail-bucket/AWSLogs/ --lake /data/lake --quiet --strict

        sts-audit run s3://my-trail-bucket/AWSLogs/ --since 2d --quiet
    """
    # imported here, not at the top: `--help` and the other commands start without DuckDB
    from pipeline import analysis
    from pipeline import ingest as ingest_lib
    from pipeline import lake as lakefs

    cfg = load_config(config)
    target = resolve_lake(lake, cfg)
    summary = ingest_lib.ingest(sources, target, endpoint_url=endpoint_url, since=since)
    # the ingest's summary is printed whatever the analysis does: a failed analyze (a full
    # disk) must not hide what was stored or quarantined, and a lake with no events yet (only
    # digest files, everything quarantined) has nothing to analyse, which is not an error
    result: analysis.Analyzed | None = None
    failure: Exception | None = None
    if lakefs.has_events(target):
        try:
            result = analysis.analyze(target, analysis.Settings.from_config(cfg))
        except Exception as exc:  # printed by the CLI after the summary
            failure = exc
    if as_json:
        payload = {"ingest": summary.as_dict(), "analysis": result and result.as_dict()}
        typer.echo(json_line(payload, indent=True))
        echo_warnings(summary)
    elif not quiet:
        typer.echo(render_summary(summary), err=True)
        if result is not None:
            tables = ", ".join(f"{n} {name}" for name, n in result.tables.items())
            where = terminal_safe(str(target / "analysis"))
            typer.echo(f"analysis tables in {where}: {tables}", err=True)
            typer.echo(result.attribution_line(), err=True)
    else:
        echo_warnings(summary)
    if result is not None:
        echo_analysis_warnings(result)
    if failure is not None:
        raise failure
    if result is None:
        typer.echo("note: the lake holds no events yet: nothing to analyse", err=True)
    if strict:
        ingest_lib.check_strict(summary)
        if result is not None:
            check_strict_analysis(result)


def register(app: typer.Typer) -> None:
    """Attach the job command to `app`."""
    app.command("run")(run_command)
