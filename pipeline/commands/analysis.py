"""Commands of the analysis group (placeholder until the group lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach this group's commands to `app`."""
