"""Options and value parsers that several command groups share."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
import typer.core

from pipeline.config import check_account_id
from pipeline.days import NotADay, parse_day
from pipeline.errors import ConfigError

if TYPE_CHECKING:
    from typer._click import Context  # typer's own copy of click, which it types with


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


# what to do instead, for the options one may mean to give several of
_ONE_AT_A_TIME: Final = {
    "--account": "run the command once per account",
    "--principal": "run the command once per principal",
    "--lake": "run the command once per lake",
    "--format": "run the command once per format",
    "--output": "run the command once per file",
    "--columns": "name every column in one, comma-separated (--columns a,b)",
}


class SingleValueCommand(typer.core.TyperCommand):
    """A command that refuses an option of one value given more than once: click keeps the
    last one silently, so `--account A --account B` listed B's sessions alone, as if A had
    none. Flags (`--strict`) and the SOURCE arguments may repeat."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:  # shell completion parses half-typed lines
            # the parser lists an option once per time it was given, before any value is read
            _, _, order = self.make_parser(ctx).parse_args(args=list(args))
            for param, times in Counter(order).items():
                repeatable = param.param_type_name != "option" or param.multiple
                flag = getattr(param, "is_flag", False) or getattr(param, "count", False)
                if times > 1 and not (repeatable or flag):
                    name = max(param.opts, key=len)
                    hint = _ONE_AT_A_TIME.get(name)
                    ctx.fail(
                        f"{name} given {'twice' if times == 2 else f'{times} times'}; it takes "
                        "one value" + (f": {hint}" if hint else "")
                    )
        return super().parse_args(ctx, args)
