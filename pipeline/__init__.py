"""sts-audit: offline audit of AWS STS temporary credentials from CloudTrail."""

__version__ = "0.1.0"


def main() -> None:
    """The `sts-audit` console script. A Ctrl-C while the command line and its libraries load
    (Typer, rich: the first tenth of a second) ends as one inside a command does, not with a
    traceback of the import."""
    import sys

    try:
        from pipeline.cli import main as run
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    run()
