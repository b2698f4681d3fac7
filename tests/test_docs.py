"""README and --help stay true: every command is documented, with an example."""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
from pathlib import Path

import pytest
import typer.main
from click.testing import Result
from typer.testing import CliRunner

from pipeline.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _command_names() -> list[str]:
    group = typer.main.get_command(app)
    return sorted(group.commands)  # type: ignore[attr-defined]


def test_every_command_has_help_with_an_example() -> None:
    missing = []
    for name in _command_names():
        result = runner.invoke(app, [name, "--help"])
        if result.exit_code != 0 or "Example" not in result.output:
            missing.append(name)
    assert not missing, f"commands without help or an Example: {missing}"


def test_short_help_flag_works_everywhere() -> None:
    assert runner.invoke(app, ["-h"]).exit_code == 0
    for name in _command_names():
        assert runner.invoke(app, [name, "-h"]).exit_code == 0, name


def test_readme_shows_every_command() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in _command_names() if f"sts-audit {name}" not in readme]
    assert not missing, f"README does not show: {missing}"


def test_architecture_names_every_module() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    modules = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "pipeline").glob("*.py")
        if p.name not in {"__init__.py", "__main__.py"}
    ]
    missing = [m for m in modules if m not in text]
    assert not missing, f"ARCHITECTURE.md does not mention: {missing}"


LISTINGS = ("sessions", "seen", "chains", "logins", "accounts")
# the lake each listing's examples read: `seen` has nothing to list in the demo lake (it holds
# every issuance), so its examples read sample_data from its third day on
EXAMPLE_LAKE = {"seen": "lake-nov3"}


def test_every_listing_command_shows_columns_in_its_help_and_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = []
    for name in LISTINGS:
        example = f"sts-audit {name} --lake {EXAMPLE_LAKE.get(name, 'lake')} --columns "
        if example not in runner.invoke(app, [name, "--help"]).output:
            missing.append(f"{name} --help")
        if example not in readme:
            missing.append(f"README {name}")
    assert not missing, f"no --columns example: {missing}"


# --- the examples run on the shipped data ----------------------------------------------------
# A new user runs `make demo`, then pastes an example from the README or a command's --help: it
# must print rows, not an error or an empty listing because it names an account, a principal, a
# key or a day sample_data/ does not hold.

QUERY_COMMANDS = frozenset(
    {"analyze", "sessions", "seen", "chains", "logins", "accounts", "explain"}
)
# examples that are not about the shipped data, and what covers them instead
NOT_ON_SHIPPED_DATA = {
    "simulate": "writes a new corpus (tests/test_simulate.py runs sample_data's own command)",
}
# examples that run on the demo lake but have nothing to print there
NOTHING_TO_LIST = {
    "quarantine": "sample_data holds no record ingest quarantines (README says so)",
}
# the users' clock is any day after the sample's: relative days (`--since 7d`) must not be
# what makes an example match
AFTER_THE_SAMPLE = dt.date(2031, 1, 15)


def _sts_audit_words(line: str) -> list[str] | None:
    """The arguments of an `sts-audit` (or `.venv/bin/sts-audit`) command line, else None."""
    words = shlex.split(line, comments=True)
    if not words or Path(words[0]).name != "sts-audit":
        return None
    return words[1:]


def _readme_examples() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```sh\n(.*?)^```", readme, flags=re.S | re.M)
    found = (_sts_audit_words(line) for block in blocks for line in block.splitlines())
    return [words for words in found if words]


def _help_examples() -> list[list[str]]:
    group = typer.main.get_command(app)
    texts = [group.help or ""] + [
        cmd.help or ""
        for cmd in group.commands.values()  # type: ignore[attr-defined]
    ]
    examples = []
    for text in texts:
        _, _, after = text.partition("Example:")
        found = (_sts_audit_words(line) for line in after.splitlines())
        examples += [words for words in found if words]
    return examples


def _demo_command() -> list[str]:
    """What `make demo` runs, as the Makefile says."""
    recipe = re.search(r"^demo:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), flags=re.M)
    assert recipe, "no demo target in the Makefile"
    words = _sts_audit_words(recipe.group(1))
    assert words, recipe.group(1)
    return words


def _sources(words: list[str]) -> list[str]:
    """The leading SOURCE arguments of a `run` or `ingest` example."""
    sources = []
    for word in words[1:]:
        if word.startswith("-"):
            break
        sources.append(word)
    return sources


def _on_shipped_data(words: list[str]) -> bool:
    """Whether the example is about the shipped data (else it names the user's own archive)."""
    if words[0] in ("run", "ingest"):
        sources = _sources(words)
        if all(s.startswith("sample_data/") for s in sources):
            return True
        # the others read the user's archive: S3, or files that are not in the repository
        assert all(s.startswith("s3://") or not (ROOT / s).exists() for s in sources), words
        return False
    return words[0] not in NOT_ON_SHIPPED_DATA


def _option(words: list[str], *names: str) -> str | None:
    for i, word in enumerate(words[:-1]):
        if word in names:
            return words[i + 1]
    return None


def _data_rows(text: str, fmt: str) -> int:
    lines = [line for line in text.splitlines() if line.strip()]
    if fmt == "json":
        return len([json.loads(line) for line in lines])
    if fmt == "csv":
        return len(lines) - 1
    return sum(line.startswith("│") for line in lines)  # a rich table's rows


def _rows_printed(words: list[str], result: Result, cwd: Path) -> int:
    """How many rows the example's output holds (its summary's rows for `analyze`)."""
    if words[0] == "analyze":
        if "--json" in words:
            return int(json.loads(result.stdout)["tables"]["sessions"])
        counts = dict(re.findall(r"^(\w+): (\d+) rows$", result.stderr, flags=re.M))
        return int(counts.get("sessions", 0))
    output = _option(words, "--output", "-o")
    fmt = _option(words, "--format", "-f")
    if output is not None:
        suffix = Path(output).suffix.lstrip(".")
        fmt = fmt or {"jsonl": "json", "ndjson": "json"}.get(suffix, suffix)
        return _data_rows((cwd / output).read_text(), fmt)
    return _data_rows(result.stdout, fmt or "table")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory after `make demo`: sample_data/ beside the lake it built."""
    cwd = tmp_path_factory.mktemp("demo")
    (cwd / "sample_data").symlink_to(ROOT / "sample_data")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        patch.delenv("STS_AUDIT_CONFIG", raising=False)
        result = runner.invoke(app, _demo_command())
    assert result.exit_code == 0, result.output
    return cwd


def _failures(examples: list[list[str]], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run each example on the shipped data, in order, as a user pastes them; the failures."""
    from pipeline import days

    monkeypatch.chdir(cwd)
    monkeypatch.delenv("STS_AUDIT_CONFIG", raising=False)
    monkeypatch.setattr(days, "utc_today", lambda: AFTER_THE_SAMPLE)
    failures = []
    for words in examples:
        if not _on_shipped_data(words):
            continue
        example = shlex.join(["sts-audit", *words])
        result = runner.invoke(app, words)
        if result.exit_code != 0:
            # an StsAuditError reaches the runner as the exception `cli.main` would print
            why = result.output[-400:] or repr(result.exception)
            failures.append(f"{example}: exit {result.exit_code}: {why}")
        elif words[0] in QUERY_COMMANDS and _rows_printed(words, result, cwd) == 0:
            failures.append(f"{example}: no rows")
        elif words[0] not in QUERY_COMMANDS | NOTHING_TO_LIST.keys() | {"run", "ingest"}:
            failures.append(f"{example}: a command this test does not know")
    return failures


def _commands(examples: list[list[str]]) -> set[str]:
    return {words[0] for words in examples if _on_shipped_data(words)}


def test_every_readme_example_prints_rows_on_the_demo_lake(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = _readme_examples()
    assert _commands(examples) >= QUERY_COMMANDS, "README shows no example of some query commands"
    failures = _failures(examples, demo, monkeypatch)
    assert not failures, "README examples that fail on the demo lake:\n" + "\n".join(failures)


def test_every_help_example_prints_rows_on_the_demo_lake(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = _help_examples()
    assert _commands(examples) >= QUERY_COMMANDS, "--help shows no example of some query commands"
    failures = _failures(examples, demo, monkeypatch)
    assert not failures, "--help examples that fail on the demo lake:\n" + "\n".join(failures)


def test_readme_defines_left_org_as_the_sql_computes_it(
    demo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # README listed `left_org` among the chains' columns without a word: "left" read as going
    # out, while a partner's session coming in is true too, and membership has two sources
    row = next(
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("| `chains`")
    )
    definition = re.search(r"`left_org` \((.*?)\), `cycle`", row)
    assert definition, "README's chains row does not define left_org"
    for words in (
        "coming in as well as going out",
        "`account_path`",
        "null when the lake knows no member",
        "`chain_truncated`",
        "`[organization] accounts`",
        "`AWSLogs/o-ORGID/ACCOUNT/`",
        "`[organization] id`",
    ):
        assert words in definition.group(1), words

    def chains(*extra: str) -> list[dict[str, object]]:
        result = runner.invoke(
            app, ["chains", "--lake", "lake", "-f", "json", "-c", "account_path,left_org", *extra]
        )
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]

    monkeypatch.chdir(demo)
    monkeypatch.delenv("STS_AUDIT_CONFIG", raising=False)
    # the demo lake: the organization trail's folders name its members
    members = {p.name for p in (ROOT / "sample_data" / "AWSLogs" / "o-exampleorgid").iterdir()}
    rows = chains()
    for r in rows:
        accounts = set(str(r["account_path"]).split(" > ")) - {"?", "..."}
        assert r["left_org"] == any(a not in members for a in accounts), r
    assert {r["left_org"] for r in rows} == {True, False}
    # an [organization] id that names none of those folders: no member is known
    config = tmp_path / "sts-audit.toml"
    config.write_text('[organization]\nid = "o-anotherorgid"\n')
    with pytest.warns(UserWarning, match="names no organization trail folder"):
        unknown = chains("--config", str(config))
    assert {r["left_org"] for r in unknown} == {None}
