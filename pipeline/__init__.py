"""sts-audit: offline audit of AWS STS temporary credentials from CloudTrail."""

__version__ = "0.1.0"


def main() -> None:
    """The `sts-audit` console script. A Ctrl-C while the command line and its libraries load
    (Typer, rich: the first tenth of a second) ends as one inside a command does, not with a
    traceback of the import."""
    import os
    import sys

    # numpy's OpenBLAS starts a thread per core, which spin now and then; sts-audit uses numpy
    # for buffers, never for linear algebra, and those threads took CPU from the splitter and
    # DuckDB (about 3% of an ingest's wall time, bench/LIMITS.md). Only the command line's own
    # process, before numpy loads; a value the user set is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

    try:
        from pipeline.cli import main as run
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    run()
