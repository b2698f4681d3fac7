"""The columns a listing shows: those `--columns` names, else the compact set of a terminal
table and every column in the other formats."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.render import Format, terminal_safe

if TYPE_CHECKING:
    import polars as pl

# `--columns all`: every column of the table, in a terminal table too
ALL = "all"

ColumnsOption = Annotated[
    str | None,
    typer.Option(
        "--columns",
        "-c",
        metavar="NAME,...",
        help="Only these columns, in this order, in every format; `all` for every column "
        "(default: a compact set in a table, every column otherwise).",
    ),
]


# The columns a terminal table shows without --columns; json, csv and parquet carry every
# column, and so does the table of a view not listed here (`accounts`: its columns are few)
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "sessions": (
        "session_id",
        "kind",
        "issue_time",
        "lifetime_seconds",
        "origin_id",
        "depth",
        "mfa",
        "caller_account",
        "target_account",
        "principal_arn",
        "source_ip",
        "events",
        "errors",
        "active_at_end",
    ),
    "seen": (
        "principal_arn",
        "creation_time",
        "first_use",
        "last_use",
        "events",
        "errors",
        "keys",
        "source_ip",
        "mfa_authenticated",
        "why",
    ),
    "chains": (
        "session_id",
        "kind",
        "issue_time",
        "origin_type",
        "origin_id",
        "depth",
        "mfa",
        "role_path",
        "account_path",
        "cross_account_hops",
        "left_org",
        "cycle",
    ),
    "logins": (
        "session_id",
        "kind",
        "issue_time",
        "origin_type",
        "subject",
        "issuer",
        "role_arn",
        "target_account",
        "chained_sessions",
        "chain_events",
    ),
    "chain": (
        "depth",
        "session_id",
        "kind",
        "issue_time",
        "caller_arn",
        "principal_arn",
        "target_account",
        "issued_key",
        "expiration",
        "source_ip",
        "mfa",
        "parent_link_rule",
        "events",
    ),
    "evidence": (
        "session_id",
        "role",
        "event_id",
        "event_time",
        "event_name",
        "recipient_account_id",
        "user_type",
        "user_arn",
        "user_access_key_id",
        "session_creation_date",
        "source",
    ),
    "activity": (
        "event_time",
        "event_source",
        "event_name",
        "recipient_account_id",
        "source_ip_address",
        "user_agent",
        "error_code",
        "user_access_key_id",
        "link_rule",
        "confidence",
    ),
}


def parse_columns(text: str | None) -> tuple[str, ...] | None:
    """`--columns` as names in order (None without it), else a usage error: an empty name, a
    name given twice, or `all` beside other names. Whether the names exist is `shown`'s check,
    against the table's real columns."""
    if text is None:
        return None
    names = tuple(name.strip() for name in text.split(","))
    if "" in names:
        raise _bad(f"an empty column name in {text!r}: separate names with single commas")
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise _bad(f"{_quoted(twice)} named more than once")
    if ALL in names and len(names) > 1:
        raise _bad(f"{ALL!r} takes no other column name")
    return names


def shown(
    frame: pl.DataFrame, fmt: Format, view: str, columns: tuple[str, ...] | None = None
) -> pl.DataFrame:
    """The `columns` of `frame` in their order (`all`: every column); without them, the compact
    column set for a terminal table and every column otherwise. A name `frame` does not have
    is a usage error that lists the ones it has, even when `frame` has no rows."""
    if columns == (ALL,):
        columns = tuple(frame.columns)
    if columns is not None:
        unknown = [name for name in columns if name not in frame.columns]
        if unknown:
            raise _bad(
                f"no column {_quoted(unknown)} in {view}; its columns are "
                f"{', '.join(frame.columns)}"
            )
    if fmt is Format.table and {"depth", "chain_truncated"} <= set(frame.columns):
        # a chain cut at max_chain_depth is deeper than its depth says: show it as a bound
        import polars as pl

        depth = pl.col("depth").cast(pl.String)
        frame = frame.with_columns(
            pl.when(pl.col("chain_truncated"))
            .then(pl.lit(">") + depth)
            .otherwise(depth)
            .alias("depth")
        )
    if columns is not None:
        # names checked above against the frame: selected from the result, never put in SQL
        return frame.select(list(columns))
    if fmt is not Format.table or view not in TABLE_COLUMNS:
        return frame
    return frame.select([c for c in TABLE_COLUMNS[view] if c in frame.columns])


def _quoted(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


def _bad(message: str) -> typer.BadParameter:
    # the names are the user's own input, echoed back: shown as text like any other value
    return typer.BadParameter(terminal_safe(message), param_hint="'--columns'")
