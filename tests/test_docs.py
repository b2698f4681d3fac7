"""README and --help stay true: every command is documented, with an example."""

from __future__ import annotations

from pathlib import Path

import typer.main
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


def test_every_listing_command_shows_columns_in_its_help_and_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = []
    for name in LISTINGS:
        example = f"sts-audit {name} --lake lake --columns "
        if example not in runner.invoke(app, [name, "--help"]).output:
            missing.append(f"{name} --help")
        if example not in readme:
            missing.append(f"README {name}")
    assert not missing, f"no --columns example: {missing}"
