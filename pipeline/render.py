"""Output formatting for result tables: a rich table, JSON lines, CSV or Parquet."""

from __future__ import annotations

import datetime as dt
import enum
import sys
import unicodedata
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


# Characters a terminal acts on instead of showing, by Unicode category: controls (Cc: ESC and
# CSI start escape sequences that recolour, move the cursor or retitle the terminal; CR and LF
# forge rows), format characters (Cf: bidirectional overrides and marks, zero-width and
# invisible characters, soft hyphen, tag characters) and the line and paragraph separators (Zl,
# Zp). Log fields (user agent, SAML and OIDC subjects, error messages, S3 keys) are
# attacker-controlled, so a terminal shows these as escapes.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _escape(char: str) -> str:
    code = ord(char)
    if unicodedata.category(char) not in _UNSAFE_CATEGORIES:
        return char
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def terminal_safe(text: str) -> str:
    """`text` with every control and invisible formatting character shown as an escape."""
    if text.isascii() and text.isprintable():
        return text  # the common case, at C speed
    return "".join(_escape(c) for c in text)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, list):
        return terminal_safe(", ".join(str(v) for v in value))
    return terminal_safe(str(value))


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
    from rich.text import Text

    # every string goes in as `Text`, which rich never parses as markup: a value such as
    # `[/x]` or `[link=...]` is shown as written instead of failing or becoming a hyperlink
    table = Table(
        title=Text(terminal_safe(title)) if title is not None else None,
        show_lines=False,
        header_style="bold",
    )
    for name in frame.columns:
        table.add_column(Text(name), overflow="fold")
    for row in frame.iter_rows():
        table.add_row(*(Text(_cell(v)) for v in row))
    console = Console(width=max(160, min(400, 12 * len(frame.columns))), record=True)
    with console.capture() as capture:
        console.print(table)
    return capture.get()
