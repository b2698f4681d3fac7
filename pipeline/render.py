"""Output formatting for result tables: a rich table, JSON lines, CSV or Parquet."""

from __future__ import annotations

import datetime as dt
import enum
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from pipeline.errors import ConfigError

if TYPE_CHECKING:
    import polars as pl


class Format(enum.StrEnum):
    """What `--format` accepts."""

    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def render(
    frame: pl.DataFrame,
    fmt: Format,
    *,
    output: Path | None = None,
    title: str | None = None,
) -> None:
    """Write `frame` to stdout (or `output`) in `fmt`; Parquet needs `output`."""
    if fmt is Format.parquet:
        if output is None:
            raise ConfigError("--format parquet writes a file", fix="add --output FILE.parquet")
        frame.write_parquet(output)
        print(f"wrote {frame.height} rows to {output}", file=sys.stderr)
        return
    if fmt is Format.json:
        text = "".join(
            orjson.dumps(row, option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z).decode() + "\n"
            for row in frame.iter_rows(named=True)
        )
    elif fmt is Format.csv:
        import polars as pl

        text = frame.with_columns(
            pl.col(c).list.join(";") for c, t in frame.schema.items() if isinstance(t, pl.List)
        ).write_csv(datetime_format="%Y-%m-%dT%H:%M:%SZ")
    else:
        text = _table(frame, title)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {frame.height} rows to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def _table(frame: pl.DataFrame, title: str | None) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for name in frame.columns:
        table.add_column(name, overflow="fold")
    for row in frame.iter_rows():
        table.add_row(*(_cell(v) for v in row))
    console = Console(width=max(160, min(400, 12 * len(frame.columns))), record=True)
    with console.capture() as capture:
        console.print(table)
    return capture.get()
