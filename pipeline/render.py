"""Output formatting for result tables: a rich table, JSON lines, CSV or Parquet."""

from __future__ import annotations

import datetime as dt
import enum
import re
import shutil
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from pipeline.errors import ConfigError

if TYPE_CHECKING:
    import polars as pl
    from rich.table import Table


class Format(enum.StrEnum):
    """What `--format` accepts."""

    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


class TerminalFormat(enum.StrEnum):
    """What `--format` accepts where the output goes to the terminal only (explain)."""

    table = "table"
    json = "json"
    csv = "csv"


# Characters a terminal acts on instead of showing, by Unicode category: controls (Cc: ESC and
# CSI start escape sequences that recolour, move the cursor or retitle the terminal; CR and LF
# forge rows), format characters (Cf: bidirectional overrides and marks, zero-width and
# invisible characters, soft hyphen, tag characters) and the line and paragraph separators (Zl,
# Zp). Log fields (user agent, SAML and OIDC subjects, error messages, S3 keys) are
# attacker-controlled, so a terminal shows these as escapes.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cn", "Co"})
# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt) beyond those categories:
# letters and marks that draw nothing (the combining grapheme joiner makes `ali\u034fce` read
# as `alice`; a name ending in the Hangul filler U+3164 reads as one ending in a blank), and the
# Braille blank. Unassigned (Cn) and private-use (Co) characters draw as nothing or as anything.
_INVISIBLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_INVISIBLE = frozenset(c for low, high in _INVISIBLE_RANGES for c in range(low, high + 1))


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES or ord(char) in _INVISIBLE


def _escape(char: str) -> str:
    code = ord(char)
    if not _unsafe(char):
        return char
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def terminal_safe(text: str) -> str:
    """`text` with every control and invisible formatting character shown as an escape."""
    if text.isascii() and text.isprintable():
        return text  # the common case, at C speed
    return "".join(_escape(c) for c in text)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code > 0xFFFF:  # JSON spells it as a UTF-16 surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_safe(text: str) -> str:
    """JSON text with every control and invisible formatting character inside its strings
    written as a `\\u` escape: the same JSON values, nothing a terminal would act on. Newlines
    are left alone: JSON writers escape them inside strings, so a raw one separates values."""
    if text.isascii() and "\x7f" not in text:
        return text  # orjson escapes the ASCII controls (but DEL) already
    return "".join(_json_escape(c) if c != "\n" and _unsafe(c) else c for c in text)


def json_line(value: Any, *, indent: bool = False) -> str:
    """`value` as JSON (naive datetimes as UTC), safe to print to a terminal."""
    option = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | (orjson.OPT_INDENT_2 if indent else 0)
    return json_safe(orjson.dumps(value, option=option).decode())


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
        print(terminal_safe(f"wrote {frame.height} rows to {output}"), file=sys.stderr)
        return
    terminal = output is None and sys.stdout.isatty()
    if fmt is Format.json:
        text = "".join(json_line(row) + "\n" for row in frame.iter_rows(named=True))
    elif fmt is Format.csv:
        text = _csv(frame, to_terminal=terminal)
    else:
        text = _table(frame, title, width=shutil.get_terminal_size().columns if terminal else None)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        print(terminal_safe(f"wrote {frame.height} rows to {output}"), file=sys.stderr)
    else:
        sys.stdout.write(text)


# A text cell a spreadsheet would run as a formula starts with one of these (OWASP, CSV
# injection), or with their fullwidth forms (which spreadsheets in East Asian locales take as
# the ASCII ones), after any blanks a spreadsheet may trim: written after a `'`, which
# spreadsheets show as text.
_FULLWIDTH_FORMULA_START = "\uff1d\uff0b\uff0d\uff20"  # ＝ ＋ － ＠
_FORMULA_START = r"^(\s*[=+\-@" + _FULLWIDTH_FORMULA_START + r"]|[\t\r])"


def _csv(frame: pl.DataFrame, *, to_terminal: bool) -> str:
    """CSV with exact values but two: a text cell that a spreadsheet would run as a formula
    (log fields are the caller's choice) starts with `'`, and on a terminal, where CSV has no
    escapes of its own, text cells show control and formatting characters as the table does."""
    import polars as pl

    frame = frame.with_columns(
        pl.col(c).list.join(";") for c, t in frame.schema.items() if isinstance(t, pl.List)
    )
    frame = frame.with_columns(pl.col(pl.String).str.replace(_FORMULA_START, "'$1"))
    if to_terminal:
        frame = frame.with_columns(
            pl.col(pl.String).map_elements(terminal_safe, return_dtype=pl.String)
        )
    return frame.write_csv(datetime_format="%Y-%m-%dT%H:%M:%SZ")


# The widest table written to a file or a pipe: cells fold past it.
_MAX_TABLE_WIDTH = 4000
# A folding column is never drawn narrower than this (or its longest cell): one of 1 to 3
# columns is unreadable.
_FOLD_MIN = 6
# The columns whose every word a security engineer copies whole, whatever its shape in a real
# trail (`AWS Internal`, `EXAMPLE8-90ab-...`, `AKIA-MOCK-1`): session and event ids, accounts,
# access keys, source addresses.
_WHOLE_COLUMN = re.compile(
    r"(^|_)(session_id|event_id|account|account_id|key|key_id|keys|source_ip|ip_address)$"
)
# ... and, in any column (an account path, a note), the words shaped like one of those or a
# time: an account id, an IPv4 or IPv6 address, an access key id, an event id, an ISO time.
_WHOLE_WORD = re.compile(
    r"\d{12}|\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}"
    r"|(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}|\w{8}-\w{4}-\w{4}-\w{4}-\w{12}|gen-[0-9a-f]{32}"
    r"|\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d(\.\d+)?Z?)?"
)


def _unbroken(name: str, whole_cells: bool, cells: list[str]) -> int:
    """The width column `name` needs so that nothing in it a security engineer copies is
    folded: every cell of a column that is not text (times, numbers, flags), every word of an
    identifier column, and in any other column every word shaped like an identifier."""
    if whole_cells:
        return max(map(len, cells), default=0)
    words = (word for cell in cells for word in cell.split())
    if _WHOLE_COLUMN.search(name):
        return max(map(len, words), default=0)
    return max((len(w) for w in words if _WHOLE_WORD.fullmatch(w.rstrip(",;"))), default=0)


def _table(frame: pl.DataFrame, title: str | None, *, width: int | None = None) -> str:
    """A boxed table `width` columns wide (a terminal's), folding long cells; without a width
    (a file or a pipe, e.g. `| less -S`), as wide as its longest cells, so none folds.

    Identifiers (session and event ids, accounts, keys, addresses, times) never fold: only
    free text (ARNs, user agents, paths) does. On a terminal too narrow for them all side by
    side, each row is a block of `column  value` lines instead, as psql's expanded display."""
    import polars as pl
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    names = frame.columns
    rows = [[_cell(v) for v in row] for row in frame.iter_rows()]
    columns = [[row[i] for row in rows] for i in range(len(names))]
    # every string goes in as `Text`, which rich never parses as markup: a value such as
    # `[/x]` or `[link=...]` is shown as written instead of failing or becoming a hyperlink
    table = Table(
        title=Text(terminal_safe(title)) if title is not None else None,
        show_lines=False,
        header_style="bold",
    )
    if width is None:
        for name in names:
            table.add_column(Text(name), overflow="fold")
        for row in rows:
            table.add_row(*map(Text, row))
        # the title is drawn at the table's width: a table narrower than its title is widened
        table.min_width = min(len(terminal_safe(title or "")), _MAX_TABLE_WIDTH)
        width = Console(width=_MAX_TABLE_WIDTH).measure(table).maximum
        return _printed(table, min(width, _MAX_TABLE_WIDTH))
    whole = [
        _unbroken(name, not isinstance(dtype, pl.String | pl.List), cells)
        for name, dtype, cells in zip(names, frame.dtypes, columns, strict=True)
    ]
    longest = [max(map(len, [name, *cells])) for name, cells in zip(names, columns, strict=True)]
    needs = [max(w, min(n, _FOLD_MIN)) for w, n in zip(whole, longest, strict=True)]
    # a boxed table takes 3 characters a column and 1 for the left edge
    if sum(needs) + 3 * len(names) + 1 <= width:
        widths = _shared(needs, longest, width - 3 * len(names) - 1)
        for name, column_width in zip(names, widths, strict=True):
            table.add_column(Text(name), overflow="fold", width=column_width)
        for row in rows:
            table.add_row(*map(Text, row))
        return _printed(table, width)
    # a block a row: the names, then the values as wide as the rest of the terminal at most,
    # and at least as the widest identifier (a terminal too narrow for one wraps those lines)
    name_width = max(map(len, names), default=0)
    value_width = max(
        min(width - name_width - 7, max(longest, default=0)), max(whole, default=0), _FOLD_MIN
    )
    table.show_header = False
    table.add_column(no_wrap=True, width=name_width)
    table.add_column(overflow="fold", width=value_width)
    for row in rows:
        for name, value in zip(names, row, strict=True):
            table.add_row(Text(name), Text(value))
        table.add_section()
    return _printed(table, max(width, name_width + value_width + 7))


def _shared(needs: list[int], wants: list[int], room: int) -> list[int]:
    """Column widths from `needs` toward `wants`, sharing `room` evenly among the columns that
    want more (a narrow column gets all it wants before a wide one takes the rest)."""
    widths = list(needs)
    spare = room - sum(widths)
    while spare > 0:
        short = [i for i, w in enumerate(widths) if w < wants[i]]
        if not short:
            break
        share = max(1, spare // len(short))
        for i in short:
            give = min(share, wants[i] - widths[i], spare)
            widths[i] += give
            spare -= give
    return widths


def _printed(table: Table, width: int) -> str:
    """`table` drawn on a console `width` columns wide."""
    from rich.console import Console

    console = Console(width=width, record=True)
    with console.capture() as capture:
        console.print(table)
    return capture.get()
