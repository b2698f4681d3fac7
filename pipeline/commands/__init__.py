"""One module per command group; each exposes `register(app)`."""

from __future__ import annotations

import importlib

import typer

# Command groups, in the order they appear in `sts-audit --help`.
_GROUPS = ("job", "ingest", "simulate", "analysis")


def register_all(app: typer.Typer) -> None:
    """Attach every command group's commands to `app`."""
    for name in _GROUPS:
        module = importlib.import_module(f"pipeline.commands.{name}")
        module.register(app)
