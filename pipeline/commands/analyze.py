"""`sts-audit analyze`: build the analysis tables and write them to LAKE/analysis/; the
warnings and `--strict` check `run` shares."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.commands.options import ConfigOption, LakeOption
from pipeline.config import load_config, resolve_lake
from pipeline.errors import StrictAnalysisError
from pipeline.render import json_line, terminal_safe

if TYPE_CHECKING:
    from pipeline.analysis import Analyzed


def analyze_command(
    *,
    lake: LakeOption = None,
    config: ConfigOption = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Exit 1 when a chain is deeper than max_chain_depth (origin unknown)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Build every analysis table and write them to LAKE/analysis/*.parquet.

    With `window_days` under [analysis] in the config file, only the lake's last days are
    analyzed (README: Configuration).

    Example:

        sts-audit analyze --lake lake

        sts-audit analyze --lake lake --strict --json
    """
    from pipeline import analysis

    cfg = load_config(config)
    target = resolve_lake(lake, cfg)
    result = analysis.analyze(target, analysis.Settings.from_config(cfg))
    if as_json:
        typer.echo(json_line(result.as_dict(), indent=True))
    else:
        for table, rows in result.tables.items():
            print(f"{table}: {rows} rows", file=sys.stderr)
        print(result.attribution_line(), file=sys.stderr)
        print(terminal_safe(f"wrote {analysis.analysis_dir(target)}"), file=sys.stderr)
    echo_analysis_warnings(result)
    if strict:
        check_strict_analysis(result)


def echo_analysis_warnings(result: Analyzed) -> None:
    """The analysis's warnings, one `warning:` line each on stderr."""
    for warning in result.warnings:
        typer.echo(f"warning: {terminal_safe(warning)}", err=True)


def check_strict_analysis(result: Analyzed) -> None:
    """For `--strict`: fail when a chain was cut at max_chain_depth."""
    if result.chains_truncated:
        raise StrictAnalysisError(
            f"{result.chains_truncated} chain(s) are deeper than max_chain_depth="
            f"{result.max_chain_depth}: their origin is unknown",
            fix="raise [analysis] max_chain_depth in the configuration file, or drop --strict",
        )


def register(app: typer.Typer) -> None:
    """Attach this group's command to `app`."""
    app.command("analyze")(analyze_command)
