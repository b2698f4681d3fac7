"""`--columns` of the listing commands: which columns, in which order, in every format."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pipeline import analysis
from pipeline.cli import app
from pipeline.commands.columns import shown
from pipeline.ingest import ingest
from pipeline.render import Format

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sts-examples.json"
runner = CliRunner()

# The compact set a `sessions` table shows without --columns (pinned: a change is a decision)
SESSIONS_TABLE = [
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
]

# command, --columns, --format -> the columns printed, in order
FOUR = "session_id,kind,caller_arn,mfa"
SELECTIONS = [
    ("sessions", FOUR, "table", FOUR),
    ("sessions", FOUR, "csv", FOUR),
    ("sessions", FOUR, "json", FOUR),
    ("sessions", FOUR, "parquet", FOUR),
    ("sessions", " mfa , session_id ", "csv", "mfa,session_id"),  # spaces around names
    ("sessions", "user_agent", "table", "user_agent"),  # a column the compact set leaves out
    ("seen", "why,principal_arn", "table", "why,principal_arn"),
    ("seen", "why,principal_arn", "json", "why,principal_arn"),
    ("chains", "role_path,depth,session_id", "table", "role_path,depth,session_id"),
    ("chains", "role_path,depth,session_id", "csv", "role_path,depth,session_id"),
    ("logins", "subject,session_id", "csv", "subject,session_id"),
    ("logins", "subject,session_id", "table", "subject,session_id"),
    ("accounts", "to_account,from_account", "table", "to_account,from_account"),
    ("accounts", "to_account,from_account", "json", "to_account,from_account"),
]

# --columns -> the usage error's text (`valid` stands for the command's columns)
BAD = [
    ("bogus", "no column 'bogus' in sessions; its columns are {valid}"),
    ("session_id,bogus,Kind", "no column 'bogus', 'Kind' in sessions; its columns are {valid}"),
    ("session_id,,kind", "an empty column name in 'session_id,,kind'"),
    ("", "an empty column name in ''"),
    ("kind,mfa,kind", "'kind' named more than once"),
    ("all,kind", "'all' takes no other column name"),
    ("x\x1b[2J", "no column 'x\\x1b[2J' in sessions"),  # echoed back as text
]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not EXAMPLES.is_file():
        pytest.skip(f"{EXAMPLES} is absent")
    target = tmp_path_factory.mktemp("columns") / "lake"
    ingest([str(EXAMPLES)], target)
    analysis.analyze(target)
    return target


def _printed(command: str, lake: Path, tmp_path: Path, fmt: str, *options: str) -> list[str]:
    """The columns `command` prints in `fmt`, in order."""
    args = [command, "--lake", str(lake), "--format", fmt, *options]
    if fmt == "parquet":
        args += ["--output", str(tmp_path / "out.parquet")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    if fmt == "parquet":
        return pl.read_parquet(tmp_path / "out.parquet").columns
    if fmt == "json":
        return list(json.loads(result.stdout.splitlines()[0]))
    if fmt == "csv":
        return result.stdout.splitlines()[0].split(",")
    # a table to a pipe is as wide as its cells: the header is one line, between ┃
    header = next(line for line in result.stdout.splitlines() if line.startswith("┃"))
    return [cell.strip() for cell in header.strip("┃").split("┃")]


def _every(command: str, lake: Path) -> list[str]:
    result = runner.invoke(app, [command, "--lake", str(lake), "--format", "json"])
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout.splitlines()[0]))


@pytest.mark.parametrize(("command", "columns", "fmt", "want"), SELECTIONS)
def test_columns_selects_and_orders_in_every_format(
    lake: Path, tmp_path: Path, command: str, columns: str, fmt: str, want: str
) -> None:
    assert _printed(command, lake, tmp_path, fmt, "--columns", columns) == want.split(",")


def test_short_option_and_the_same_values(lake: Path) -> None:
    args = ["sessions", "--lake", str(lake), "-f", "csv"]
    short = runner.invoke(app, [*args, "-c", "issue_time,session_id"])
    long = runner.invoke(app, [*args, "--columns", "issue_time,session_id"])
    assert short.exit_code == 0, short.output
    assert short.stdout == long.stdout
    every = runner.invoke(app, args)
    want = pl.read_csv(every.stdout.encode()).select("issue_time", "session_id")
    assert pl.read_csv(short.stdout.encode()).equals(want)


@pytest.mark.parametrize("command", ["sessions", "seen", "chains", "logins", "accounts"])
def test_all_is_every_column_in_a_table(lake: Path, tmp_path: Path, command: str) -> None:
    every = _every(command, lake)
    assert _printed(command, lake, tmp_path, "table", "--columns", "all") == every
    assert _printed(command, lake, tmp_path, "csv", "--columns", "all") == every


def test_without_columns_the_defaults_are_unchanged(lake: Path, tmp_path: Path) -> None:
    # a table: the compact set, as if named; every other format: every column, as `all`
    table = _printed("sessions", lake, tmp_path, "table")
    assert table == SESSIONS_TABLE
    assert _printed("sessions", lake, tmp_path, "table", "-c", ",".join(table)) == table
    for fmt in ("csv", "json", "parquet"):
        every = _printed("sessions", lake, tmp_path, fmt)
        assert every == _printed("sessions", lake, tmp_path, fmt, "-c", "all"), fmt
        assert len(every) > len(SESSIONS_TABLE)


@pytest.mark.parametrize(("columns", "message"), BAD)
def test_a_bad_column_list_is_a_usage_error(lake: Path, columns: str, message: str) -> None:
    valid = ", ".join(_every("sessions", lake))
    result = runner.invoke(app, ["sessions", "--lake", str(lake), "--columns", columns])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    error = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1, result.output
    assert message.format(valid=valid) in error[0]
    assert error[0].startswith("Error: Invalid value for '--columns': ")
    assert "\x1b" not in result.output and not result.stdout.startswith("┏")


@pytest.mark.parametrize(
    ("command", "columns", "bad", "a_valid_one"),
    [
        ("seen", "why,issue_time", "'issue_time'", "why"),
        ("chains", "session_id,caller_arn", "'caller_arn'", "role_path"),
        ("logins", "subject,why", "'why'", "chained_sessions"),
        ("accounts", "from_account,account", "'account'", "to_in_org"),
    ],
)
def test_the_error_lists_the_command_s_own_columns(
    lake: Path, command: str, columns: str, bad: str, a_valid_one: str
) -> None:
    result = runner.invoke(app, [command, "--lake", str(lake), "-f", "csv", "-c", columns])
    assert result.exit_code == 2, result.output
    assert f"no column {bad} in {command}; its columns are " in result.output
    assert f" {a_valid_one}" in result.output.split("its columns are")[1]


def test_an_unknown_column_is_a_usage_error_when_no_row_matches(lake: Path) -> None:
    # the names are checked against the result's columns, not its rows: not `no sessions match`
    args = ["sessions", "--lake", str(lake), "--since", "2099-01-01"]
    assert runner.invoke(app, [*args, "-c", "session_id"]).exit_code == 1
    result = runner.invoke(app, [*args, "-c", "session_id,bogus"])
    assert result.exit_code == 2 and "no column 'bogus' in sessions" in result.output


# format -> the depth a cut chain shows when --columns names it
DEPTHS = [(Format.table, [">3", "2"]), (Format.json, [3, 2]), (Format.csv, [3, 2])]


@pytest.mark.parametrize(("fmt", "want"), DEPTHS)
def test_a_cut_chain_shows_its_depth_as_a_bound_in_a_table_only(
    fmt: Format, want: list[object]
) -> None:
    frame = pl.DataFrame(
        {"session_id": ["s1", "s2"], "depth": [3, 2], "chain_truncated": [True, False]}
    )
    got = shown(frame, fmt, "chains", ("depth", "session_id"))
    assert got.columns == ["depth", "session_id"]
    assert got["depth"].to_list() == want
