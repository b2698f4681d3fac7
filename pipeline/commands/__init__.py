"""One module per command group; each exposes `register(app)`."""

from __future__ import annotations

import importlib

import typer

from pipeline.commands.options import SingleValueCommand

# Command groups, in the order they appear in `sts-audit --help`.
_GROUPS = ("job", "ingest", "simulate", "analysis", "explain", "analyze")


def register_all(app: typer.Typer) -> None:
    """Attach every command group's commands to `app`, each refusing an option of one value
    given twice."""
    for name in _GROUPS:
        module = importlib.import_module(f"pipeline.commands.{name}")
        module.register(app)
    for command in app.registered_commands:
        command.cls = SingleValueCommand
