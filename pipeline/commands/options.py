"""Options and value parsers that several command groups share."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.config import check_account_id
from pipeline.days import NotADay, parse_day
from pipeline.errors import ConfigError


def lake_option(text: str) -> Path:
    """`--lake` values: a folder; an empty one (`--lake ""`, an unset shell variable) would be
    the current folder, so it is a usage error."""
    if not text.strip():
        raise typer.BadParameter("the lake path is empty (give a folder, e.g. --lake ./lake)")
    return Path(text)


LakeOption = Annotated[
    Path | None,
    typer.Option(
        "--lake",
        parser=lake_option,
        metavar="DIR",
        help="The lake folder (default: the config file's `lake`, else ./lake).",
    ),
]

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="The config file (default: $STS_AUDIT_CONFIG, else ./sts-audit.toml).",
    ),
]


def day_option(text: str) -> dt.date:
    """`--since`/`--until` values: a UTC day in any of `days.DAY_FORMS`."""
    try:
        return parse_day(text)
    except NotADay as exc:
        raise typer.BadParameter(str(exc)) from None


def account_option(text: str) -> str:
    """`--account` values: a 12-digit AWS account ID, else a usage error (exit code 2)."""
    try:
        return check_account_id(text)
    except ConfigError as exc:
        raise typer.BadParameter(f"{exc} ({exc.fix})") from None


def day_flag(name: str, help_text: str) -> Any:
    """A `--since`/`--until` option: a UTC day parsed by `day_option`, shown as DAY."""
    return typer.Option(name, parser=day_option, metavar="DAY", help=help_text)
