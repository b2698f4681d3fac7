"""The objects Amazon Data Firehose writes for a CloudWatch Logs subscription, as NDJSON.

A trail sent to a log group and on through a subscription filter to Firehose lands in S3 as
objects of subscription payloads (`{"messageType": "DATA_MESSAGE", "logEvents": [...]}`), each
payload its own gzip member, one after the other, with no separator. Read as one gzip file,
the payloads are JSON documents back to back: DuckDB reads such a file whole (Firehose's
buffer allows objects of 128 MiB of gzip, over 1 GB of JSON). Written out one payload a line,
the object is an NDJSON file, which the ingest reads a slice of lines at a time when it is
large, each record at its payload's line and its index in the payload's `logEvents`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

_CHUNK = 1 << 20


def as_lines(path: Path, target: Path) -> bool:
    """Write the payloads of Firehose object `path` to `target`, one a line; False (and no
    `target`) when `path` is not gzip members whose content holds no newline of its own (the
    caller then reads it as it is, and DuckDB names what is wrong with it)."""
    try:
        with path.open("rb") as src, target.open("wb") as out:
            if not _copy_members(src.read, out.write):
                target.unlink()
                return False
    except (OSError, zlib.error):
        target.unlink(missing_ok=True)
        return False
    return True


def _copy_members(read: Callable[[int], bytes], write: Callable[[bytes], object]) -> bool:
    """Copy each gzip member's content from `read` to `write`, a newline after each; False on
    the first thing that is not a whole member, or content with a newline of its own."""
    from pipeline.ingest import GZIP_MAGIC  # ingest imports this module

    pending = read(_CHUNK)
    if not pending.startswith(GZIP_MAGIC):
        return False
    while pending:
        member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        wrote = False
        while True:
            data = member.decompress(pending)
            if b"\n" in data:
                return False  # not one payload a line: read as it is
            if data:
                write(data)
                wrote = True
            if member.eof:
                pending = member.unused_data
                break
            pending = read(_CHUNK)
            if not pending:
                return False  # cut short inside a member
        if wrote:
            write(b"\n")
        if len(pending) < len(GZIP_MAGIC):  # the next header may straddle a read
            pending += read(_CHUNK)
        if pending and not pending.startswith(GZIP_MAGIC):
            return False  # something else follows a member (zero padding, text, ...)
    return True
