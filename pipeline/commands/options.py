"""Options and value parsers that several command groups share."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from pipeline.days import NotADay, parse_day

LakeOption = Annotated[
    Path | None,
    typer.Option(
        "--lake", help="The lake folder (default: the config file's `lake`, else ./lake)."
    ),
]


def day_option(text: str) -> dt.date:
    """`--since`/`--until` values: a UTC day in any of `days.DAY_FORMS`."""
    try:
        return parse_day(text)
    except NotADay as exc:
        raise typer.BadParameter(str(exc)) from None
