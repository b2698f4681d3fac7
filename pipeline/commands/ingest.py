"""`sts-audit ingest` and `sts-audit quarantine`."""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.commands.options import ConfigOption, LakeOption, day_flag
from pipeline.config import load_config, resolve_lake
from pipeline.days import DAY_FORMS
from pipeline.render import json_line, terminal_safe

if TYPE_CHECKING:
    from pipeline import ingest as ingest_lib

# `pipeline.ingest` (DuckDB, pyarrow) is imported inside each command: `--help` and the other
# commands start without it.

# shared with `run`, which ingests the same way
SinceOption = Annotated[
    dt.date | None,
    day_flag(
        "--since",
        "Only a trail's day folders (CloudTrail/REGION/YYYY/MM/DD) delivered on or after "
        f"this day ({DAY_FORMS}); other files are always read. For nightly runs over a long "
        "archive.",
    ),
]


def ingest_command(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="Files, folders or s3://bucket/prefix URLs holding CloudTrail JSON.",
            metavar="SOURCE",
            show_default=False,
        ),
    ],
    *,
    lake: LakeOption = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url", help="S3 endpoint (an S3-compatible server, a VPC endpoint)."
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 1 when any file or record was quarantined, a file or folder could not "
            "be read, or --since leaves out days after the last listing.",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary (nightly job).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    since: SinceOption = None,
    config: ConfigOption = None,
) -> None:
    """Ingest CloudTrail logs (delivery files, arrays, NDJSON, LookupEvents, EventBridge,
    CloudWatch Logs payloads from Firehose).

    Example:

        sts-audit ingest sample_data/AWSLogs --lake lake

        sts-audit ingest s3://my-trail-bucket/AWSLogs/o-exampleorgid/ --lake lake --json

        sts-audit ingest s3://my-trail-bucket/AWSLogs/ --since 2d --quiet
    """
    from pipeline import ingest as ingest_lib

    target = resolve_lake(lake, load_config(config))
    show_progress = not quiet and not as_json and sys.stderr.isatty()
    if show_progress:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("ingesting", total=None)
            summary = ingest_lib.ingest(
                sources,
                target,
                endpoint_url=endpoint_url,
                on_plan=lambda n: bar.update(task, total=n),
                progress=lambda n: bar.advance(task, n),
                since=since,
            )
    else:
        summary = ingest_lib.ingest(sources, target, endpoint_url=endpoint_url, since=since)
    if as_json:
        typer.echo(json_line(summary.as_dict(), indent=True))
    if not quiet and not as_json:
        typer.echo(render_summary(summary), err=True)
    else:
        echo_warnings(summary)
    if strict:
        ingest_lib.check_strict(summary)


def echo_warnings(s: ingest_lib.IngestSummary) -> None:
    """Under --quiet or --json: what went wrong without failing the run still reaches
    stderr."""
    for warning in s.warnings:
        typer.echo(f"warning: {terminal_safe(warning)}", err=True)


def render_summary(s: ingest_lib.IngestSummary) -> str:
    """The human summary: files, records, and the reconciliation."""
    check = "ok" if s.reconciles else "MISMATCH"
    lines = [
        f"ingest run {s.run_id} into {terminal_safe(str(s.lake))} ({s.seconds:.1f} s)",
        f"  files:   {s.files_seen} seen, {s.files_read} read, {s.files_unchanged} unchanged,"
        f" {s.files_skipped_digest} digest + {s.files_skipped_insight} insight"
        f" + {s.files_skipped_other} other skipped, {s.files_quarantined} quarantined"
        + (f", {s.files_unreadable} could not be opened" if s.files_unreadable else "")
        + (f", {s.folders_unreadable} folder(s) not listed" if s.folders_unreadable else "")
        + (f", {s.files_left_out} left out by name or type" if s.files_left_out else ""),
        f"  records: {s.records_read} read = {s.records_stored} stored + {s.records_duplicate}"
        f" duplicate + {s.records_rejected} rejected [{check}]",
    ]
    if s.files_seen == 0 and not (s.files_unreadable or s.folders_unreadable):
        lines.append("  no files under the sources given: is that the trail's folder or prefix?")
        if s.since is not None:
            lines.append(f"  (--since leaves out the day folders before {s.since})")
    if s.records_skipped_insight:
        lines.append(f"  insight records skipped: {s.records_skipped_insight}")
    if s.records_skipped_control:
        lines.append(
            f"  CloudWatch Logs control messages skipped (no record in them): "
            f"{s.records_skipped_control}"
        )
    if s.records_skipped_other_stream:
        lines.append(
            "  CloudWatch Logs events of other log streams skipped (a trail's stream is "
            f"ACCOUNT_CloudTrail_REGION): {s.records_skipped_other_stream}"
        )
    if s.conflicts:
        lines.append(f"  eventID conflicts (same id, different content; both kept): {s.conflicts}")
    if s.recovered_batches:
        lines.append(f"  rolled back {s.recovered_batches} uncommitted batch(es) of a killed run")
    for warning in s.warnings:
        lines.append(f"  warning: {terminal_safe(warning)}")
    for uri in s.skipped_other[:3]:
        lines.append(f"  skipped by name: {terminal_safe(uri)}")
    if s.files_skipped_other > 3:
        lines.append(f"  ... and {s.files_skipped_other - 3} more skipped (--json lists ten)")
    if s.skipped_other:
        lines.append(
            "  (a folder's files are read when named .json, .jsonl, .ndjson or .gz; a file given"
            " as a source is read whatever its name)"
        )
    for left in s.left_out[:3]:
        lines.append(f"  left out: {terminal_safe(left)}")
    if s.files_left_out > 3:
        lines.append(f"  ... and {s.files_left_out - 3} more left out (--json lists ten)")
    for uri in s.quarantined_files[:10]:
        lines.append(f"  quarantined file: {terminal_safe(uri)}")
    if s.files_quarantined or s.records_rejected:
        # the conflicts are in the lake, not the quarantine: say what this command lists
        lines.append(
            f"  quarantined: {s.files_quarantined} file(s), {s.records_rejected} record(s);"
            f" see them with: sts-audit quarantine --lake {shlex.quote(s.lake)}"
        )
    return "\n".join(lines)


def quarantine_command(
    *,
    lake: LakeOption = None,
    limit: Annotated[
        int,
        typer.Option("--limit", min=1, max=10**9, metavar="N", help="Show at most this many rows."),
    ] = 50,
    config: ConfigOption = None,
) -> None:
    """List what ingest quarantined: file, position in the file, and why.

    Example:

        sts-audit quarantine --lake lake --limit 20
    """
    from pipeline import lake as lakefs
    from pipeline import quarantine
    from pipeline.errors import LakeError

    target = resolve_lake(lake, load_config(config))
    if not (target / lakefs.STATE_DIR).is_dir():
        # not a lake (a mistyped --lake): "nothing quarantined" would read as all clear
        raise LakeError(
            f"{target} is not an sts-audit lake (no {lakefs.STATE_DIR}/ folder)",
            fix="pass the --lake that `sts-audit ingest` wrote",
        )
    rows = quarantine.quarantined(target, limit=limit)
    if not rows:
        typer.echo("nothing quarantined", err=True)
        return
    for row in rows:
        typer.echo(json_line(row))


def register(app: typer.Typer) -> None:
    """Attach the ingest commands to `app`."""
    app.command("ingest")(ingest_command)
    app.command("quarantine")(quarantine_command)
