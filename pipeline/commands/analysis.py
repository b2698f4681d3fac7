"""`sts-audit sessions | seen | chains | logins | accounts`: the analysis tables, listed."""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from pipeline.commands.columns import ColumnsOption, parse_columns, shown
from pipeline.commands.options import ConfigOption, LakeOption, account_option, day_flag
from pipeline.config import load_config, resolve_lake
from pipeline.days import DAY_FORMS
from pipeline.render import Format, render, terminal_safe

if TYPE_CHECKING:
    import duckdb
    import polars as pl


# `pipeline.analysis` (DuckDB, polars) is imported inside each command: `--help` and the other
# commands start without it.

AccountOption = Annotated[
    str | None,
    typer.Option(
        "--account",
        parser=account_option,
        metavar="ACCOUNT",
        help="Only this 12-digit account (as caller or target).",
    ),
]
SinceOption = Annotated[
    dt.date | None, day_flag("--since", f"First day of issue ({DAY_FORMS}), inclusive.")
]
UntilOption = Annotated[
    dt.date | None, day_flag("--until", f"Last day of issue ({DAY_FORMS}), inclusive.")
]
# `seen`: those sessions' creation lies before the lake for many of them; the day they were
# first used is the one every listed session has
SeenSinceOption = Annotated[
    dt.date | None, day_flag("--since", f"First day of first use ({DAY_FORMS}), inclusive.")
]
SeenUntilOption = Annotated[
    dt.date | None, day_flag("--until", f"Last day of first use ({DAY_FORMS}), inclusive.")
]
PrincipalOption = Annotated[
    str | None,
    typer.Option(
        "--principal",
        help="A session, role or caller ARN, an origin id (user ARN, saml:..., oidc:..., "
        "idc:...), a session name, or (sessions, chains) a session id or issued key.",
    ),
]
FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format",
        "-f",
        help="table, json (lines), csv or parquet. Default: table, or with --output what the "
        "file's name says (.csv, .json, .jsonl, .ndjson, .parquet).",
        show_default=False,
    ),
]
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (needed for parquet).")
]


def connect_tables(
    lake: Path | None, config_file: Path | None
) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """The analysis tables of the lake, and the lake's path. `events` is not bound when the
    tables are current (the listings read only them; `explain` binds the days it reads)."""
    from pipeline import analysis

    config = load_config(config_file)
    settings = analysis.Settings.from_config(config)
    path = resolve_lake(lake, config)

    def note(why: str) -> None:
        # on a large lake the build takes a while: say why, and how to make it instant
        command = f"sts-audit analyze --lake {shlex.quote(str(path))}" + (
            f" --config {shlex.quote(str(config_file))}" if config_file is not None else ""
        )
        print(
            f"note: the analysis tables of {terminal_safe(str(path))} {why}: building them for "
            f"this command (`{terminal_safe(command)}` keeps them)",
            file=sys.stderr,
        )

    return analysis.open_analysis(path, settings, on_build=note, events=False), path


def _list(
    query: Callable[..., pl.DataFrame],
    what: str,
    view: str,
    lake: Path | None,
    account: str | None,
    since: dt.date | None,
    until: dt.date | None,
    principal: str | None,
    fmt: Format | None,
    output: Path | None,
    config: Path | None,
    *,
    columns: str | None,
    none_is_good: str | None = None,
) -> None:
    """The body the filtered listing commands share: connect, query with bound filters, pick
    the columns, render. An empty listing is an error (exit 1: the wrong lake, filters that
    match nothing), but where `none_is_good` says why nothing is the healthy answer: then,
    with no filter given and sessions in the lake, that is a note on stderr and the listing is
    empty (exit 0)."""
    from pipeline import reads

    if since is not None and until is not None and since > until:
        raise typer.BadParameter(
            f"--since {since} is after --until {until}: no day can match; swap them",
            param_hint="'--since' / '--until'",
        )
    fmt = _check_output(fmt, output)
    wanted = parse_columns(columns)
    con, path = connect_tables(lake, config)
    frame = query(con, account=account, since=since, until=until, principal=principal)
    # the names are checked against the result's columns before it is found empty: a typo is
    # a usage error whatever the filters match
    frame = shown(frame, fmt, view, wanted)
    given = _given(account=account, since=since, until=until, principal=principal)
    if frame.is_empty() and none_is_good is not None and not given and reads.has_sessions(con):
        print(terminal_safe(f"note: no {what}: {none_is_good}"), file=sys.stderr)
        if fmt is not Format.table:  # a script reading the output gets an empty one
            render(frame, fmt, output=output, title=view)
        return
    frame = reads.require_rows(frame, what, con, filters=given, lake=path)
    render(frame, fmt, output=output, title=view)


def _given(**filters: object) -> dict[str, str]:
    """The filter options given and their values as a command line writes them (a relative
    day as the day it stands for: `--since 2026-11-01`)."""
    return {f"--{name}": shlex.quote(str(v)) for name, v in filters.items() if v is not None}


def sessions_command(
    *,
    lake: LakeOption = None,
    account: AccountOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    principal: PrincipalOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    columns: ColumnsOption = None,
    config: ConfigOption = None,
) -> None:
    """List credential issuances (STS, Identity Center, console, services) and their use.

    Example:

        sts-audit sessions --lake lake --account 123456789012 --since 2026-11-03

        sts-audit sessions --principal arn:aws:iam::111122223333:user/alice --format json

        sts-audit sessions --lake lake --columns session_id,kind,caller_arn,mfa
    """
    from pipeline import reads

    _list(
        reads.sessions,
        "sessions",
        "sessions",
        lake,
        account,
        since,
        until,
        principal,
        fmt,
        output,
        config,
        columns=columns,
    )


def seen_command(
    *,
    lake: LakeOption = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account",
            parser=account_option,
            metavar="ACCOUNT",
            help="Only sessions of this 12-digit account (the session ARN's).",
        ),
    ] = None,
    since: SeenSinceOption = None,
    until: SeenUntilOption = None,
    principal: Annotated[
        str | None,
        typer.Option(
            "--principal",
            help="A session ARN, role ARN, session name or access key (any of a session's "
            "keys, a console session's rotating ones included).",
        ),
    ] = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    columns: ColumnsOption = None,
    config: ConfigOption = None,
) -> None:
    """List sessions the lake sees only through their calls: no issuing call in the lake.

    Issued before the lake's first record, in an account whose trail is not collected, or
    contested (no key tells two sessions apart); `why` says which. Stolen credentials used
    from elsewhere show here when their issuance is not collected.

    The demo lake (`make demo`) holds every issuance of the sample, so nothing is listed there:
    the examples read the sample from its third day on, which sees two sessions issued before.

    Example:

        sts-audit run sample_data/AWSLogs --lake lake-nov3 --since 2026-11-03

        sts-audit seen --lake lake-nov3 --since 2026-11-03

        sts-audit seen --lake lake-nov3 --principal backup-job --format json

        sts-audit seen --lake lake-nov3 --columns principal_arn,first_use,why
    """
    from pipeline import reads

    _list(
        reads.sessions_seen,
        "sessions seen only through their calls",
        "seen",
        lake,
        account,
        since,
        until,
        principal,
        fmt,
        output,
        config,
        columns=columns,
        none_is_good="every call made with temporary credentials went to a session whose "
        "issuance the lake holds",
    )


def chains_command(
    *,
    lake: LakeOption = None,
    account: AccountOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    principal: PrincipalOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    columns: ColumnsOption = None,
    config: ConfigOption = None,
) -> None:
    """Show each session's chain back to its origin: depth, roles, accounts, MFA, cycles.

    Example:

        sts-audit chains --lake lake --principal arn:aws:iam::111122223333:user/erin

        sts-audit chains --account 999988887777 --format csv --output chains.csv

        sts-audit chains --lake lake --columns session_id,origin_id,role_path
    """
    from pipeline import reads

    _list(
        reads.chains,
        "chains",
        "chains",
        lake,
        account,
        since,
        until,
        principal,
        fmt,
        output,
        config,
        columns=columns,
    )


def logins_command(
    *,
    lake: LakeOption = None,
    account: AccountOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    principal: PrincipalOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    columns: ColumnsOption = None,
    config: ConfigOption = None,
) -> None:
    """List federated entries (SAML, OIDC, Cognito, Identity Center) and what followed.

    Example:

        sts-audit logins --lake lake --since 2026-11-03 --until 2026-11-03

        sts-audit logins --principal erin@example.com --format json

        sts-audit logins --lake lake --columns subject,role_arn,chained_sessions
    """
    from pipeline import reads

    _list(
        reads.logins,
        "federated logins",
        "logins",
        lake,
        account,
        since,
        until,
        principal,
        fmt,
        output,
        config,
        columns=columns,
    )


# what a file's name says it holds, for --output without --format
_SUFFIX_FORMATS: Final = {
    ".csv": Format.csv,
    ".json": Format.json,
    ".jsonl": Format.json,
    ".ndjson": Format.json,
    ".parquet": Format.parquet,
}


def _check_output(fmt: Format | None, output: Path | None) -> Format:
    """The format to write, checked before any work: Parquet is a file, so it needs --output;
    without --format, `x.csv`, `x.json` or `x.parquet` is written as its name says instead of
    as the terminal's box drawing, and anything else as the table."""
    if fmt is Format.parquet and output is None:
        raise typer.BadParameter(
            "parquet is written to a file: add --output FILE.parquet", param_hint="'--format'"
        )
    if fmt is None:
        suffix = output.suffix.lower() if output is not None else ""
        return _SUFFIX_FORMATS.get(suffix, Format.table)
    return fmt


def accounts_command(
    *,
    lake: LakeOption = None,
    account: AccountOption = None,
    fmt: FormatOption = None,
    output: OutputOption = None,
    columns: ColumnsOption = None,
    config: ConfigOption = None,
) -> None:
    """Show the account-to-account hop graph, with organization membership.

    Example:

        sts-audit accounts --lake lake

        sts-audit accounts --account 123456789012 --format json

        sts-audit accounts --lake lake --columns from_account,to_account -f csv
    """
    from pipeline import reads

    fmt = _check_output(fmt, output)
    wanted = parse_columns(columns)
    con, path = connect_tables(lake, config)
    frame = shown(reads.account_graph(con, account=account), fmt, "accounts", wanted)
    given = _given(account=account)
    frame = reads.require_rows(frame, "account hops", con, filters=given, lake=path)
    render(frame, fmt, output=output, title="accounts")


def register(app: typer.Typer) -> None:
    """Attach this group's commands to `app`."""
    app.command("sessions")(sessions_command)
    app.command("seen")(seen_command)
    app.command("chains")(chains_command)
    app.command("logins")(logins_command)
    app.command("accounts")(accounts_command)
