"""`sts-audit explain`: one session's chain from its origin, the evidence of each link, its
calls."""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pipeline.commands.analysis import connect_tables
from pipeline.commands.columns import shown
from pipeline.commands.options import ConfigOption, LakeOption
from pipeline.render import Format, TerminalFormat, render, terminal_safe

if TYPE_CHECKING:
    import polars as pl


def explain_command(
    session_or_key: Annotated[
        str,
        typer.Argument(
            help="A session id, an issuing, sign-in or Identity Center grant event id, or an "
            "issued access key.",
            metavar="SESSION_OR_KEY",
            show_default=False,
        ),
    ],
    *,
    lake: LakeOption = None,
    shape: Annotated[
        TerminalFormat,
        typer.Option("--format", "-f", help="table, json (lines) or csv, to stdout."),
    ] = TerminalFormat.table,
    config: ConfigOption = None,
) -> None:
    """Explain one session: its chain from the origin, the evidence of each link, its calls.

    Example:

        sts-audit explain ASIADH6VGA3HAIEF4OVS --lake lake

        sts-audit explain 6fd749eb-b16c-4aad-ae9d-3f1902e75a32 --format json
    """
    import polars as pl

    from pipeline import reads

    fmt = Format(shape.value)
    con, path = connect_tables(lake, config)
    result = reads.explain(con, session_or_key, lake=path)
    if result.others:
        # temporary key ids are recycled (cloudtrail-semantics.md §2.2): say which one this is
        chosen = result.chain.row(-1, named=True)
        also = "; ".join(f"{sid} issued {_utc(issued)}" for sid, issued in result.others)
        print(
            terminal_safe(
                f"note: {session_or_key} names {len(result.others) + 1} sessions (a recycled "
                f"key id): this is the latest, {chosen['session_id']} issued "
                f"{_utc(chosen['issue_time'])}; also {also} (explain one by its session id)"
            ),
            file=sys.stderr,
        )
    seen_also = result.seen_also
    if seen_also is not None and not seen_also.is_empty():
        # the same key id used by a session whose issuance the lake lacks (an instance's role
        # credentials before the lake, another account's session): its calls are not this
        # session's, and an analyst tracing the key must not miss them
        seen = seen_also.row(0, named=True)
        print(
            terminal_safe(
                f"note: {session_or_key} also names {seen_also.height} session(s) the lake sees "
                f"only through their calls: {seen['events']} call(s) of "
                f"{seen['principal_arn'] or 'an unknown ARN'} from {_utc(seen['first_use'])} "
                f"({seen['why']}) (list them with `sts-audit seen --principal "
                f"{shlex.quote(session_or_key)}`)"
            ),
            file=sys.stderr,
        )
    sections = [
        result.chain.with_columns(pl.lit("chain").alias("section")),
        result.evidence.with_columns(pl.lit("evidence").alias("section")),
        result.activity.with_columns(pl.lit("activity").alias("section")),
    ]
    seen_caller = result.seen_caller
    if seen_caller is not None and not seen_caller.is_empty():
        # the origin's issuer, a session the lake sees only through its calls
        sections.append(seen_caller.with_columns(pl.lit("seen_caller").alias("section")))
        _note_seen_caller(result.chain.row(0, named=True), seen_caller.row(0, named=True))
    if seen_also is not None and not seen_also.is_empty():
        sections.append(seen_also.with_columns(pl.lit("seen_also").alias("section")))
    candidates = result.candidate_callers
    if candidates is not None and not candidates.is_empty():
        sections.append(candidates.with_columns(pl.lit("candidate_callers").alias("section")))
        _note_candidate_callers(result.chain.row(0, named=True), candidates)
    if fmt is Format.json:
        for section in sections:
            render(section, fmt)
        return
    if fmt is Format.csv:
        # one header: the three sections' columns, each row tagged with its section
        render(
            pl.concat(sections, how="diagonal_relaxed").select("section", pl.exclude("section")),
            fmt,
        )
        return
    origin = result.chain.row(0, named=True)
    render(
        shown(result.chain, fmt, "chain"),
        fmt,
        title=f"chain from {origin['origin_type']} {origin['origin_id'] or '(unknown)'},"
        " origin first",
    )
    render(
        shown(result.evidence, fmt, "evidence"), fmt, title="evidence: issuing and sign-in records"
    )
    render(shown(result.activity, fmt, "activity"), fmt, title="calls made with the session")
    for step in result.chain.filter(pl.col("contested_creation")).iter_rows(named=True):
        print(
            terminal_safe(
                f"note: session {step['session_id']} shares its ARN {step['principal_arn']} and "
                "creation second with a session another (or an unknown) caller started: calls no "
                "key tells "
                "apart are attributed to neither (list them with `sts-audit sessions "
                f"--principal {shlex.quote(step['principal_arn'])}`)"
            ),
            file=sys.stderr,
        )


def _note_seen_caller(origin: dict[str, Any], seen: dict[str, Any]) -> None:
    """Say on stderr that the chain starts at a session whose issuance the lake lacks, why, and
    where its calls are listed."""
    arn = seen["principal_arn"]
    created = _utc(seen["creation_time"]) if seen["creation_time"] is not None else "unknown"
    print(
        terminal_safe(
            f"note: session {origin['session_id']} was issued with the credentials of a "
            f"session of {arn} created {created}, which the lake sees only through its "
            f"{seen['events']} call(s) from {_utc(seen['first_use'])} to "
            f"{_utc(seen['last_use'])}: {seen['why']} (list it with `sts-audit seen "
            f"--principal {shlex.quote(arn)}`)"
        ),
        file=sys.stderr,
    )


def _note_candidate_callers(origin: dict[str, Any], candidates: pl.DataFrame) -> None:
    """Say on stderr which sessions the lake holds of the principal id an origin seen only
    through the role owner's AWSAccount copy names: candidates for who made the call, not
    proof (explain's chain does not go through them)."""
    listed = ", ".join(
        f"{c['session_id']} ({c['principal_arn']}, issued {_utc(c['issue_time'])} by "
        f"{c['origin_id'] or c['caller_arn'] or 'an unknown caller'})"
        for c in candidates.iter_rows(named=True)
    )
    print(
        terminal_safe(
            f"note: the origin {origin['origin_id']} is seen only through the role owner's "
            f"AWSAccount copy; the lake holds {candidates.height} session(s) of that principal "
            f"id valid at the call: {listed}. A candidate, not proof: anyone who may assume "
            "the role picks the session name, and sessions issued where the trail is not "
            "collected are not in the lake"
        ),
        file=sys.stderr,
    )


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def register(app: typer.Typer) -> None:
    """Attach this group's command to `app`."""
    app.command("explain")(explain_command)
