"""The `sts-audit` command line: a thin Typer layer over the `pipeline` library.

Every command parses its options, calls one typed function and renders the result. Errors the
user can fix (`StsAuditError`) and those of the environment (`OSError`: permissions, a full
disk) are printed once, here, as one line with their fix.
"""

from __future__ import annotations

import re
import shlex
import signal
import sys
import warnings
from pathlib import Path
from typing import Final, NoReturn, TextIO

import typer

from pipeline import __version__
from pipeline.commands import register_all
from pipeline.errors import INGEST_OUT_OF_MEMORY, StsAuditError
from pipeline.render import terminal_safe

app = typer.Typer(
    name="sts-audit",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help=(
        "Audit AWS STS temporary credentials from CloudTrail: ingest logs into a Parquet lake, "
        "rebuild sessions, assume-role chains and federated logins, and explain each session.\n\n"
        "Example:\n\n"
        "    sts-audit ingest sample_data/AWSLogs --lake lake\n\n"
        "    sts-audit sessions --lake lake --account 123456789012"
    ),
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sts-audit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Audit AWS STS temporary credentials from CloudTrail."""


register_all(app)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A warning is one line on stderr, like an error: `warning: ...`, not Python's form."""
    print(terminal_safe(f"warning: {message}"), file=sys.stderr)


# set when SIGTERM (a scheduler's timeout, `kill`) stopped the command, not a Ctrl-C
_terminated = False


def _on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM stops a command as Ctrl-C does (DuckDB ends its query, cleanup runs), where its
    default ended the process at once, silently, leaving the run's scratch files behind."""
    global _terminated
    _terminated = True
    raise KeyboardInterrupt


def _stopped() -> NoReturn:
    if _terminated:
        print("terminated (SIGTERM)", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM)
    print("interrupted", file=sys.stderr)
    sys.exit(130)


def main() -> None:
    """Console-script entry point: run the app, translate known errors to one line."""
    warnings.showwarning = _show_warning
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        _run_app()
    except StsAuditError as exc:
        message = f"error: {exc}"
        if exc.fix:
            message += f" (fix: {exc.fix})"
        # a message can quote a file name or S3 key, which the logs' writer chose
        print(terminal_safe(message), file=sys.stderr)
        sys.exit(1)
    except OSError as exc:
        # the environment, not the data: a folder that cannot be created, a permission, a full
        # disk. One line naming the path, like every other error.
        where = f"{terminal_safe(str(exc.filename))}: " if exc.filename else ""
        print(
            f"error: {where}{exc.strerror or exc} (fix: check that the path exists, that this "
            "user may read and write it, and that the disk has free space)",
            file=sys.stderr,
        )
        sys.exit(1)
    except KeyboardInterrupt:
        _stopped()
    except MemoryError as exc:
        # Python's own: an allocation the machine (or a container's limit) refused
        print(f"error: this machine ran out of memory (fix: {_memory_fix(exc)})", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:
        if _is_interrupt(exc):
            _stopped()
        if _is_damaged_file(exc):
            print(terminal_safe(_damaged_file_message(exc)), file=sys.stderr)
            sys.exit(1)
        if _is_duckdb(exc, "IOException"):
            # the environment, as for an OSError: a full disk, a folder this user may not
            # write, a path taken by something else
            detail = str(exc).strip().splitlines()[0][:400]
            print(
                terminal_safe(
                    f"error: {detail} (fix: check the path named, that the disk has free space "
                    "and that this user may read and write there)"
                ),
                file=sys.stderr,
            )
            sys.exit(1)
        # DuckDB's out-of-memory error, matched by name so the CLI starts without DuckDB: the
        # machine, not the data, and the one resource a config setting governs
        if type(exc).__name__ != "OutOfMemoryException":
            raise
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "out of memory"
        if "failed to offload" in detail:
            # DuckDB spills up to 90% of the disk's free space: that cap, not the memory limit
            print(
                terminal_safe(
                    f"error: no disk space left for DuckDB's spill files ({detail}) (fix: free "
                    "space on the lake's disk (they go to LAKE/_state/tmp), or raise "
                    "memory_limit in the config file so that less spills)"
                ),
                file=sys.stderr,
            )
            sys.exit(1)
        print(
            terminal_safe(f"error: DuckDB ran out of memory ({detail}) (fix: {_memory_fix(exc)})"),
            file=sys.stderr,
        )
        sys.exit(1)


def _run_app() -> None:
    """Run the app. A usage error (an unknown option, a value an option refuses) is one line
    naming the command's help, exit 2, instead of three; `--help`, `--version` and a command
    exit with their own code."""
    try:
        code = app(prog_name="sts-audit", standalone_mode=False)
    except typer.Abort:
        raise KeyboardInterrupt from None
    except typer.TyperException as exc:
        show = getattr(exc, "show", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and show is not None:
            show()  # `sts-audit` alone: the help itself
            sys.exit(exc.exit_code)
        message = exc.format_message().replace("Value error, ", "")
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:  # a usage error: the command's help says what it takes
            message += f" (fix: see `{ctx.command_path} -h`)"
        print(terminal_safe(f"error: {message}"), file=sys.stderr)
        sys.exit(exc.exit_code)
    if code == 130:  # typer's answer to a KeyboardInterrupt (Ctrl-C) outside DuckDB
        raise KeyboardInterrupt
    sys.exit(code if isinstance(code, int) else 0)


def _memory_fix(exc: BaseException) -> str:
    """What to do when DuckDB runs out of memory, by where it did: ingest (`ingest`, or `run`'s
    ingest step) works under limits of its own, which no setting changes; the analysis under
    `[analysis] memory_limit`."""
    if INGEST_OUT_OF_MEMORY in getattr(exc, "__notes__", ()):
        return (
            "free memory on this machine, or ingest the sources a part at a time (a folder, "
            "an S3 prefix): ingest works under memory limits of its own, which no setting "
            "changes"
        )
    return (
        "raise `memory_limit` under [analysis] in the config file (--config, "
        "$STS_AUDIT_CONFIG, else ./sts-audit.toml), or free memory on this machine"
    )


def _is_interrupt(exc: Exception) -> bool:
    """Ctrl-C while DuckDB ran a query: it stops the query and raises its own error (an
    InterruptException, or a RuntimeError 'Query interrupted'), not a KeyboardInterrupt."""
    return _is_duckdb(exc, "InterruptException") or (
        type(exc) is RuntimeError and str(exc).startswith("Query interrupted")
    )


def _is_damaged_file(exc: Exception) -> bool:
    """A DuckDB error reading a file of the lake that is not (or no longer) Parquet: a file cut
    short by a full disk, overwritten, or copied half-way. Matched by class and module name, so
    the CLI starts without DuckDB. A failed write (a full disk, a permission) is not one."""
    text = str(exc)
    return (
        _is_duckdb(exc, "InvalidInputException", "IOException")
        and _DAMAGED_PATH.search(text) is not None
        and not any(word in text for word in _WRITE_FAILURES)
    )


def _is_duckdb(exc: Exception, *names: str) -> bool:
    """`exc` is one of DuckDB's exception classes `names` (by name: no DuckDB import)."""
    return type(exc).__module__.lstrip("_").startswith("duckdb") and type(exc).__name__ in names


# the file a DuckDB read error names, quoted one way or the other
_DAMAGED_PATH: Final = re.compile(r"""['"]([^'"]+[.]parquet)['"]""")
_WRITE_FAILURES: Final = ("Could not write", "No space left", "Permission denied")


def _damaged_file_message(exc: Exception) -> str:
    detail = str(exc).strip().splitlines()[0][:400]
    match = _DAMAGED_PATH.search(str(exc))
    if match and Path(match.group(1)).parent.name == "analysis":
        lake = shlex.quote(str(Path(match.group(1)).parent.parent))
        fix = f"run `sts-audit analyze --lake {lake}` to write the analysis tables again"
    else:
        fix = (
            "restore the file named from a backup, or move it out of the lake; the other files "
            "are intact, and the records it held come back only from a backup"
        )
    return f"error: a file of the lake cannot be read ({detail}) (fix: {fix})"
