"""How the `sts-audit` entry point ends: a usage error is one line on stderr with exit 2, help and
version exit 0, as a user at a shell sees them (the real entry point, in a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import main_in_process

ENTRY = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def _main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ENTRY, *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("args", "says", "command"),
    [
        (["sessions", "--format", "xml"], "'xml' is not one of 'table', 'json'", "sessions"),
        (["sessions", "--bogus"], "No such option: --bogus", "sessions"),
        (["sessions", "--account", "12345"], "'12345' is not an AWS account ID", "sessions"),
        (["quarantine", "--limit", "0"], "'--limit'", "quarantine"),
        (["simulate", "--out", "x", "--days", "0"], "'--days'", "simulate"),
        (["simulate", "--out", "x", "--events", "-5"], "'--events'", "simulate"),
        (["ingest"], "Missing argument 'SOURCE'", "ingest"),
        # an unset shell variable: the lake would have been the current folder
        (["ingest", "x", "--lake", ""], "the lake path is empty", "ingest"),
        (["sessions", "--lake", " "], "the lake path is empty", "sessions"),
        (["nosuch"], "No such command 'nosuch'", None),
    ],
)
def test_a_usage_error_is_one_line_naming_the_commands_help(
    tmp_path: Path, args: list[str], says: str, command: str | None
) -> None:
    # click printed three lines (Usage, Try, Error), some with a validator's "Value error, "
    done = subprocess.run(
        [*ENTRY, *args], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and says in lines[0]
    where = f"sts-audit {command}" if command else "sts-audit"
    assert lines[0].endswith(f"(fix: see `{where} -h`)")
    assert "Value error" not in lines[0] and "Traceback" not in done.stderr
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing was run, nothing was written


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["sessions", "--account", "123456789012", "--account", "111122223333"],
            "--account given twice; it takes one value: run the command once per account",
        ),
        (
            ["chains", "--principal", "alice", "--principal", "bob"],
            "--principal given twice; it takes one value: run the command once per principal",
        ),
        (["logins", "--since", "3d", "--since", "2026-11-01"], "--since given twice"),
        (["sessions", "-f", "json", "--format", "csv"], "--format given twice"),
        (["ingest", "src", "--lake", "a", "--lake", "b", "--lake", "c"], "--lake given 3 times"),
    ],
)
def test_a_single_value_option_given_twice_is_a_usage_error(
    tmp_path: Path, args: list[str], says: str
) -> None:
    # the last one won without a word: `--account A --account B` listed B's sessions alone,
    # and a reader of the output took A to have none
    done = subprocess.run(
        [*ENTRY, *args], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {says}"), lines
    assert "it takes one value" in lines[0] and "Traceback" not in done.stderr
    assert done.stdout == "" and list(tmp_path.iterdir()) == []


def _single_value_options() -> list[tuple[str, str]]:
    import typer.main

    from pipeline.cli import app

    group = typer.main.get_command(app)
    return [
        (name, max(param.opts, key=len))
        for name, command in sorted(group.commands.items())  # type: ignore[attr-defined]
        for param in command.params
        if param.param_type_name == "option" and not param.is_flag
    ]


@pytest.mark.parametrize(("command", "option"), _single_value_options())
def test_every_option_of_one_value_refuses_a_second(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    option: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, err = main_in_process(monkeypatch, capsys, command, option, "1", option, "2")
    assert code == 2
    assert err.startswith(f"error: {option} given twice; it takes one value"), err
    assert err.count("\n") == 1 and list(tmp_path.iterdir()) == []


def test_sources_and_flags_may_repeat(tmp_path: Path) -> None:
    from conftest import record, write_delivery_file

    for name in ("a", "b"):
        write_delivery_file(tmp_path / name / "x.json", [record()], gz=False)
    lake = str(tmp_path / "lake")
    done = _main("run", str(tmp_path / "a"), str(tmp_path / "b"), "--lake", lake, "-q", "-q")
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_help_and_version_exit_0_and_no_arguments_shows_the_help() -> None:
    helped = _main("sessions", "-h")
    assert helped.returncode == 0 and "Usage: sts-audit sessions" in helped.stdout
    version = _main("--version")
    assert version.returncode == 0 and version.stdout.startswith("sts-audit ")
    bare = _main()
    assert bare.returncode == 2 and "Commands:" in bare.stdout + bare.stderr


@pytest.mark.parametrize(
    "raised",
    [
        pytest.param(RuntimeError("Query interrupted"), id="DuckDB stopped a query"),
        pytest.param(KeyboardInterrupt(), id="between queries"),
    ],
)
def test_ctrl_c_is_one_line_and_exit_130(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    raised: BaseException,
) -> None:
    # Ctrl-C inside a DuckDB query printed a traceback ending in "RuntimeError: Query
    # interrupted" (exit 1); between queries typer turned it into a silent exit 130
    from pipeline import analysis

    def stopped(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(analysis, "analyze", stopped)
    code, err = main_in_process(monkeypatch, capsys, "analyze", "--lake", str(tmp_path))
    assert (code, err) == (130, "interrupted\n")


@pytest.mark.parametrize(
    "busy",
    [
        pytest.param("time.sleep(60)", id="in Python"),
        pytest.param(
            "duckdb.connect().execute('select count(*) from range(100000000000)').fetchall()",
            id="in a DuckDB query",
        ),
    ],
)
def test_sigterm_stops_a_command_as_ctrl_c_does_with_its_own_line_and_exit_143(
    tmp_path: Path, busy: str
) -> None:
    # a scheduler's timeout (systemd, a Kubernetes job) sends SIGTERM: the process ended at
    # once, without a word and without the cleanup a Ctrl-C runs (DuckDB's spill folder stayed)
    import signal

    script = (
        "import sys, time, duckdb\n"
        "from pipeline import analysis, cli\n"
        "def busy(*args, **kwargs):\n"
        "    print('ready', flush=True)\n"
        f"    {busy}\n"
        "analysis.analyze = busy\n"
        "sys.argv = ['sts-audit', 'analyze', '--lake', sys.argv[1]]\n"
        "cli.main()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    time.sleep(0.5)  # inside the query
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (143, "terminated (SIGTERM)\n")


def test_ctrl_c_while_the_command_line_loads_is_one_line_and_exit_130() -> None:
    # a Ctrl-C in the first tenth of a second, while Typer loads, printed the import's
    # traceback: the console script's entry point loads the command line itself
    script = (
        "import sys\n"
        "class Stop:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'typer':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Stop())\n"
        "from pipeline import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "sessions"], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr, done.stdout) == (130, "interrupted\n", "")


@pytest.mark.parametrize(("given", "seen"), [(None, "1"), ("4", "4")])
def test_the_entry_point_keeps_numpys_blas_to_one_thread_unless_the_user_set_it(
    given: str | None, seen: str
) -> None:
    # numpy's OpenBLAS reads the variable once, when it loads: the entry point sets it before
    # the command line imports anything; a user's own value is left as it is
    script = (
        "import os, sys\n"
        "import pipeline.cli\n"
        "def report():\n"
        "    import numpy\n"
        "    print(os.environ.get('OPENBLAS_NUM_THREADS'), 'numpy' in sys.modules)\n"
        "pipeline.cli.main = report\n"
        "assert 'numpy' not in sys.modules\n"
        "from pipeline import main\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, env=env
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{seen} True\n", "")
