"""Terminal tables show attacker-controlled log fields as text, never as markup or escapes."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import ingest
from pipeline.render import Format, json_line, render, terminal_safe

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
    ("a\u061cb", "a\\u061cb"),  # Arabic letter mark (bidi)
    ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),  # line and paragraph separators
    ("ad\u00admin", "ad\\xadmin"),  # soft hyphen
    ("x\U000e0041y", "x\\U000e0041y"),  # a tag character
    ("alice\u3164", "alice\\u3164"),  # a Hangul filler: draws nothing, reads as a blank
    ("a\u2800b\ufe0fc", "a\\u2800b\\ufe0fc"),  # the Braille blank, a variation selector
    ("ali\u034fce", "ali\\u034fce"),  # the combining grapheme joiner: reads as "alice"
    ("a\u17b4b\ufff0c", "a\\u17b4b\\ufff0c"),  # Khmer inherent vowel, a reserved ignorable
    ("x\U000e01f0y\ue000z", "x\\U000e01f0y\\ue000z"),  # unassigned, private use
    ("café ☃ 日本", "café ☃ 日本"),  # assigned, visible characters are left alone
    ("한글 ᄀ", "한글 ᄀ"),  # Hangul text itself is left alone
    ("plain café 203.0.113.7", "plain café 203.0.113.7"),  # printable text is left alone
    ("tab\there", "tab\\x09here"),
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
    assert not any(c in out for c in "\x1b\x9b\x07\r\u202e\u200b\u061c\u2028\xad\U000e0041")


def test_a_title_is_shown_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    # a cell wide enough for the title to fit on one line
    render(pl.DataFrame({"a": ["x" * 60]}), Format.table, title="from saml:[/x]\x1b]0;t\x07")
    out = capsys.readouterr().out
    assert out.splitlines()[0].strip() == "from saml:[/x]\\x1b]0;t\\x07"


def test_machine_formats_keep_the_value(capsys: pytest.CaptureFixture[str]) -> None:
    value = "[/oops]\x1b[31m"
    render(pl.DataFrame({"user_agent": [value]}), Format.json)
    assert json.loads(capsys.readouterr().out) == {"user_agent": value}


UNSAFE = "\x1b\x9b\x07\r\u202e\u200b\u061c\u2028\xad\U000e0041\x7f"


@pytest.mark.parametrize(("value", "shown"), CASES)
def test_json_escapes_what_a_terminal_acts_on_and_keeps_the_value(
    value: str, shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    render(pl.DataFrame({"user_agent": [value + "\x7f"], "tags": [[value]]}), Format.json)
    out = capsys.readouterr().out
    assert not any(c in out for c in UNSAFE), ascii(out)
    assert json.loads(out) == {"user_agent": value + "\x7f", "tags": [value]}


@pytest.mark.parametrize("indent", [False, True])
def test_json_line_keeps_its_own_newlines(indent: bool) -> None:
    text = json_line({"a": "x\ny\u202e", "b": [1, 2]}, indent=indent)
    assert json.loads(text) == {"a": "x\ny\u202e", "b": [1, 2]}
    assert ("\n" in text) == indent and "\u202e" not in text


def test_csv_is_exact_in_a_file_and_escaped_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    value = "alice\x1b]0;pwned\x07\u202e"
    frame = pl.DataFrame({"subject": [value], "n": [1]})
    render(frame, Format.csv, output=tmp_path / "out.csv")
    assert pl.read_csv(tmp_path / "out.csv")["subject"].to_list() == [value]
    render(frame, Format.csv)  # stdout is not a terminal: a pipe or a file gets the value
    assert value in capsys.readouterr().out
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    render(frame, Format.csv)
    out = capsys.readouterr().out
    assert out.splitlines() == ["subject,n", "alice\\x1b]0;pwned\\x07\\u202e,1"]


def test_a_table_to_a_pipe_folds_no_cell_and_on_a_terminal_fits_its_width(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # tables were 160 columns whatever the output: a session id or an ARN folded over four
    # lines in a pipe, and a terminal narrower than 160 wrapped every line
    arn = "arn:aws:sts::123456789012:assumed-role/DeveloperRole/alice-mfa"
    frame = pl.DataFrame(
        {f"c{i}": [arn] for i in range(6)}
        | {"session_id": ["12136e27-625e-43c3-ac65-b82ff7dc8708"]}
    )
    render(frame, Format.table)  # stdout is not a terminal
    lines = capsys.readouterr().out.splitlines()
    assert sum(arn in line for line in lines) == 1  # one row, every cell whole
    assert "12136e27-625e-43c3-ac65-b82ff7dc8708" in lines[-2]
    title = "chain from Unresolved " + arn + ", origin first"  # wider than its table
    render(pl.DataFrame({"depth": [1]}), Format.table, title=title)
    assert capsys.readouterr().out.splitlines()[0].strip() == title
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a: os.terminal_size((100, 40)))
    render(frame, Format.table)
    # on a terminal rich styles the header (SGR sequences take no columns)
    lines = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out).splitlines()
    assert max(len(line) for line in lines) == 100
    assert not any(arn in line for line in lines)  # folded to fit


@pytest.mark.parametrize("to_file", [True, False], ids=["file", "pipe"])
def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_written_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], to_file: bool
) -> None:
    # a user agent or session name is the caller's choice (a role session name may start with
    # = + - or @): opened in a spreadsheet, such a cell would be a formula (CSV injection)
    hostile = [
        '=HYPERLINK("https://203.0.113.5/","open")',
        "+1+2",
        "-2+3",
        "@SUM(1)",
        "\t=1",
        "\r=1",
        # after blanks a spreadsheet may trim, and the fullwidth forms East Asian locales read
        # as the ASCII ones
        " =1+1",
        "\u3000@SUM(1)",
        '\uff1dHYPERLINK("https://203.0.113.5/")',
        "\uff0b1",
        "\uff0d1",
        "\uff20SUM(1)",
    ]
    plain = ["aws-cli/2.15.0", "a=b", "x-y@z", " role", "\uff21dmin"]
    frame = pl.DataFrame(
        {
            "user_agent": hostile + plain,
            "tags": [[v, "ok"] for v in hostile + plain],
            "delta": list(range(-len(hostile), len(plain))),
        }
    )
    out = tmp_path / "out.csv"
    render(frame, Format.csv, output=out if to_file else None)
    text = out.read_bytes().decode() if to_file else capsys.readouterr().out
    got = pl.read_csv(io.StringIO(text))
    assert got["user_agent"].to_list() == ["'" + v for v in hostile] + plain
    assert got["tags"].to_list() == ["'" + v + ";ok" for v in hostile] + [v + ";ok" for v in plain]
    # numbers are not text: a negative number stays a number
    assert got["delta"].to_list() == frame["delta"].to_list()


def test_the_quarantine_listing_escapes_rejected_text(tmp_path: Path) -> None:
    source = tmp_path / "hostile.json"
    source.write_text('{"Records": [{"eventID": "x\u202e\\u001b]0;t\\u0007"}, 7]}')
    lake = tmp_path / "lake"
    ingest([str(source)], lake)
    result = CliRunner().invoke(app, ["quarantine", "--lake", str(lake)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() and not any(c in result.stdout for c in UNSAFE)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert any("\u202e" in json.dumps(row, ensure_ascii=False) for row in rows), rows


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


def test_error_lines_and_the_ingest_summary_escape_file_names(tmp_path: Path) -> None:
    hostile = tmp_path / "AWSLogs\x1b]0;pwned\x07"
    hostile.mkdir()
    (hostile / "broken.json").write_bytes(b'{"Records": [')
    done = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import main; main()", "ingest", str(hostile)]
        + ["--lake", str(tmp_path / "lake")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "quarantined file: " in done.stderr and "\\x1b]0;pwned\\x07" in done.stderr
    missing = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import main; main()", "ingest"]
        + [str(tmp_path / "nope\x1b[2J"), "--lake", str(tmp_path / "lake")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1 and "nope\\x1b[2J" in missing.stderr
    assert "\x1b" not in done.stderr + missing.stderr


def test_the_run_summary_escapes_the_lake_path(tmp_path: Path) -> None:
    # the operator's lake path was printed as given: a path made by a script from log data
    # (an account name) could still carry escapes
    from conftest import record, write_delivery_file

    write_delivery_file(tmp_path / "src" / "a.json", [record()], gz=False)
    lake = tmp_path / "lake\x1b]0;pwned\x07"
    done = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli import main; main()", "run"]
        + [str(tmp_path / "src"), "--lake", str(lake)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stderr
    assert done.stderr.count("lake\\x1b]0;pwned\\x07") == 2  # the ingest line, the tables line


# A session of the real shape, with identifiers of every kind and long free text
ROW = {
    "session_id": "12136e27-625e-43c3-ac65-b82ff7dc8708",
    "kind": "AssumeRoleWithWebIdentity",
    "issue_time": dt.datetime(2026, 11, 1, 0, 36, 13, tzinfo=dt.UTC),
    "caller_account": "111122223333",
    "target_account": "123456789012",
    "principal_arn": "arn:aws:sts::123456789012:assumed-role/DeveloperRole/alice-mfa-session",
    "source_ip": "2001:db8:85a3:8d3:1319:8a2e:370:7348",
    "issued_key": "ASIAIOSFODNN7EXAMPLE",
    "caller_key": "AKIA-MOCKACCESSKEYID-1",  # a real trail's keys take any shape
    "signin_event_id": "EXAMPLE8-90ab-cdef-fedc-ba987EXAMPLE",
    "user_agent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off",
    "account_path": ["111122223333", "123456789012", "444455556666"],
    "events": 123456,
}
WHOLE = [
    "12136e27-625e-43c3-ac65-b82ff7dc8708",
    "2026-11-01 00:36:13Z",
    "111122223333",
    "123456789012",
    "2001:db8:85a3:8d3:1319:8a2e:370:7348",
    "ASIAIOSFODNN7EXAMPLE",
    "AKIA-MOCKACCESSKEYID-1",
    "EXAMPLE8-90ab-cdef-fedc-ba987EXAMPLE",
    "444455556666",
    "123456",
]


def _terminal_table(
    frame: pl.DataFrame,
    columns: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> list[str]:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr("shutil.get_terminal_size", lambda *a: os.terminal_size((columns, 40)))
    render(frame, Format.table, title="sessions")
    return re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out).splitlines()


@pytest.mark.parametrize("columns", [60, 80, 100, 140, 250])
def test_on_a_narrow_terminal_identifiers_stay_whole(
    columns: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # at 80 columns, `sessions` folded a session id over 12 lines of 3 characters, an account
    # id over 6 and an IP address over 5: a security engineer copying one got a fragment
    lines = _terminal_table(pl.DataFrame([ROW, ROW]), columns, monkeypatch, capsys)
    assert max(len(line) for line in lines) <= columns
    for value in WHOLE:
        assert any(value in line for line in lines), (value, "\n".join(lines))


def test_on_an_80_column_terminal_free_text_is_what_folds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _terminal_table(pl.DataFrame([ROW]), 80, monkeypatch, capsys)
    for free in (ROW["principal_arn"], ROW["user_agent"]):
        assert not any(free in line for line in lines)
    # the ARN's lines, joined, are the ARN
    values = "".join(line.split("│")[2].strip() for line in lines if "│" in line)
    assert ROW["principal_arn"] in values


def test_a_table_that_fits_keeps_its_columns_and_folds_only_free_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    names = ["session_id", "issue_time", "caller_account", "source_ip", "principal_arn"]
    frame = pl.DataFrame([ROW]).select(names)
    lines = _terminal_table(frame, 140, monkeypatch, capsys)
    header = next(line for line in lines if "session_id" in line)
    assert all(name in header for name in names)  # one row of cells side by side
    row = next(line for line in lines if ROW["session_id"] in line)
    assert all(value in row for value in WHOLE[:3] + [ROW["source_ip"]])
    assert not any(ROW["principal_arn"] in line for line in lines)
    assert max(len(line) for line in lines) <= 140


def test_a_list_of_accounts_folds_between_accounts_not_inside_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = [f"{n}{n}{n}{n}5555666{n}" for n in range(1, 10)]
    frame = pl.DataFrame({"session_id": [ROW["session_id"]], "account_path": [accounts]})
    lines = _terminal_table(frame, 60, monkeypatch, capsys)
    assert all(any(account in line for line in lines) for account in accounts), lines


def _on_a_terminal(*args: str, columns: int) -> list[str]:
    """What the console script prints to a terminal `columns` wide (a pseudo-terminal), without
    its styling."""
    leader, follower = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from pipeline.cli import main; main()", *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=os.environ | {"COLUMNS": str(columns)},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 1 << 16)
        except OSError:  # the terminal's other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    text = b"".join(chunks).decode().replace("\r", "")
    return re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()


# the identifiers of each listing's table: every one stays whole on one line of an 80-column
# terminal
LISTED = {
    "sessions": ("session_id", "issue_time", "caller_account", "target_account", "source_ip"),
    "chains": ("session_id", "issue_time", "account_path"),
    "logins": ("session_id", "issue_time", "target_account"),
    "accounts": ("from_account", "to_account", "first_seen", "last_seen"),
}


@pytest.fixture(scope="module")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sample = Path(__file__).resolve().parents[1] / "sample_data" / "AWSLogs"
    target = tmp_path_factory.mktemp("sample") / "lake"
    CliRunner().invoke(app, ["run", str(sample), "--lake", str(target), "--quiet"])
    return target


def _shown(value: object) -> list[str]:
    """The identifiers in a json value as a table shows them: a time, or each of a list's."""
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value)
    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text):
        return [text.replace("T", " ")]
    return text.split(" > ") if value is not None else []  # an account path: a > b > c


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize("command", LISTED)
def test_the_listings_on_an_80_column_terminal_keep_identifiers_whole(
    sample_lake: Path, command: str
) -> None:
    lines = _on_a_terminal(command, "--lake", str(sample_lake), columns=80)
    assert max(len(line) for line in lines) <= 80
    shown = "\n".join(lines)
    result = CliRunner().invoke(app, [command, "--lake", str(sample_lake), "-f", "json"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    values = {v for row in rows for name in LISTED[command] for v in _shown(row[name])}
    assert values and all(any(v in line for line in lines) for v in values), shown


# the identifiers of explain's three tables
EXPLAINED = {
    "chain": ("session_id", "issue_time", "issued_key", "expiration", "source_ip"),
    "evidence": ("event_id", "event_time", "recipient_account_id", "user_access_key_id"),
    "activity": ("event_time", "recipient_account_id", "source_ip_address"),
}


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_explain_on_an_80_column_terminal_keeps_keys_event_ids_and_times_whole(
    sample_lake: Path,
) -> None:
    result = CliRunner().invoke(
        app, ["sessions", "--lake", str(sample_lake), "-f", "json", "--principal", "alice"]
    )
    session = next(
        row
        for row in map(json.loads, result.stdout.splitlines())
        if row["depth"] == 2 and row["issued_key"]
    )
    lines = _on_a_terminal("explain", session["session_id"], "--lake", str(sample_lake), columns=80)
    assert max(len(line) for line in lines) <= 80
    explained = CliRunner().invoke(
        app, ["explain", session["session_id"], "--lake", str(sample_lake), "-f", "json"]
    )
    rows = [json.loads(line) for line in explained.stdout.splitlines()]
    values = {v for row in rows for name in EXPLAINED[row["section"]] for v in _shown(row[name])}
    assert session["issued_key"] in values and len(values) > 10
    assert all(any(v in line for line in lines) for v in values), "\n".join(lines)
