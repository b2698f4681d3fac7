"""Terminal tables show attacker-controlled log fields as text, never as markup or escapes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import ingest
from pipeline.render import Format, render, terminal_safe

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sts-examples.json"

# value in a log field -> what the terminal table shows
CASES = [
    ("[/oops]", "[/oops]"),  # a closing tag with no opening one: rich raised MarkupError
    ("[bold red]x[/bold red]", "[bold red]x[/bold red]"),
    ("[link=https://203.0.113.5/]sign in[/link]", "[link=https://203.0.113.5/]sign in[/link]"),
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),  # OSC: would retitle the terminal
    ("\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"),  # CSI: clear screen, colour
    ("a\x9b31mb", "a\\x9b31mb"),  # the one-byte CSI (C1)
    ("alice\r\nroot  | 123456789012", "alice\\x0d\\x0aroot  | 123456789012"),  # a forged row
    ("user\u202egnp.exe", "user\\u202egnp.exe"),  # right-to-left override
    ("ad\u200bmin", "ad\\u200bmin"),  # zero-width space
    ("plain café 203.0.113.7", "plain café 203.0.113.7"),  # printable text is left alone
]


@pytest.mark.parametrize(("value", "shown"), CASES)
def test_terminal_safe(value: str, shown: str) -> None:
    assert terminal_safe(value) == shown


@pytest.mark.parametrize(("value", "shown"), CASES)
def test_table_cells_show_values_as_text(
    value: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    render(pl.DataFrame({"user_agent": [value], "tags": [[value, "x"]]}), Format.table)
    out = capsys.readouterr().out
    lines = [line.strip("│ ") for line in out.splitlines() if line.startswith("│")]
    # the whole value, as shown, in one cell of one line (the table is wide enough)
    assert any(line.startswith(shown) for line in lines), out
    assert not any(c in out for c in "\x1b\x9b\x07\r\u202e\u200b")


def test_a_title_is_shown_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    # a cell wide enough for the title to fit on one line
    render(pl.DataFrame({"a": ["x" * 60]}), Format.table, title="from saml:[/x]\x1b]0;t\x07")
    out = capsys.readouterr().out
    assert out.splitlines()[0].strip() == "from saml:[/x]\\x1b]0;t\\x07"


def test_machine_formats_keep_the_value(capsys: pytest.CaptureFixture[str]) -> None:
    value = "[/oops]\x1b[31m"
    render(pl.DataFrame({"user_agent": [value]}), Format.json)
    assert json.loads(capsys.readouterr().out) == {"user_agent": value}


def test_a_hostile_saml_subject_is_listed_not_interpreted(tmp_path: Path) -> None:
    if not EXAMPLES.is_file():
        pytest.skip(f"{EXAMPLES} is absent")
    saml = next(
        r for r in json.loads(EXAMPLES.read_text()) if r["eventName"] == "AssumeRoleWithSAML"
    )
    hostile = copy.deepcopy({k: v for k, v in saml.items() if not k.startswith("_")})
    hostile["responseElements"]["subject"] = "[/x]\x1b]0;pwned\x07alice"
    source = tmp_path / "saml.json"
    source.write_text(json.dumps({"Records": [hostile]}))
    lake = tmp_path / "lake"
    ingest([str(source)], lake)
    result = CliRunner().invoke(app, ["logins", "--lake", str(lake)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout
    assert _column(result.stdout, "subject") == "[/x]\\x1b]0;pwned\\x07alice"


def _column(table: str, name: str) -> str:
    """The text of column `name` of a one-row rich table, its folded lines joined."""
    lines = table.splitlines()
    header = next(line for line in lines if f" {name} " in line)
    index = [cell.strip() for cell in header.split("┃")].index(name)
    return "".join(line.split("│")[index].strip() for line in lines if line.startswith("│"))
