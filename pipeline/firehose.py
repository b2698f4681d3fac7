"""The objects Amazon Data Firehose writes for a CloudWatch Logs subscription, as NDJSON.

A trail sent to a log group and on through a subscription filter to Firehose lands in S3 as
objects of subscription payloads (`{"messageType": "DATA_MESSAGE", "logEvents": [...]}`), each
payload its own gzip member, one after the other, with no separator. Read as one gzip file,
the payloads are JSON documents back to back: DuckDB reads such a file whole (Firehose's
buffer allows objects of 128 MiB of gzip, over 1 GB of JSON). Written out one payload a line,
the object is an NDJSON file, which the ingest reads a slice of lines at a time when it is
large, each record at its payload's line and its index in the payload's `logEvents`. A stream
with Firehose's own GZIP compression on wraps those members in one more gzip: it is taken off
as the object is read.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

_CHUNK = 1 << 20
# the most a gunzip returns at once: deflate expands up to 1032:1, so a chunk of deflated
# blanks would otherwise come out a gigabyte at a time
_OUT = 8 << 20


def as_lines(path: Path, target: Path) -> bool:
    """Write the payloads of Firehose object `path` to `target`, one a line; False (and no
    `target`) when `path` is not gzip members whose content holds no newline of its own (the
    caller then reads it as it is, and DuckDB names what is wrong with it)."""
    try:
        with path.open("rb") as src, target.open("wb") as out:
            read = _Gunzipped(src.read) if _wraps_gzip(src.read) else src.read
            src.seek(0)
            if not _copy_members(read, out.write):
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
            data = member.decompress(pending, _OUT)
            if b"\n" in data:
                return False  # not one payload a line: read as it is
            if data:
                write(data)
                wrote = True
            if member.eof:
                pending = member.unused_data
                break
            if member.unconsumed_tail or len(data) == _OUT:
                pending = member.unconsumed_tail  # more output of the input already read
                continue
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


def _wraps_gzip(read: Callable[[int], bytes]) -> bool:
    """The object is gzip whose content is gzip again: Firehose compressed the members
    CloudWatch Logs had compressed."""
    from pipeline.ingest import GZIP_MAGIC

    head = read(_CHUNK)
    if not head.startswith(GZIP_MAGIC):
        return False
    try:
        first = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, len(GZIP_MAGIC))
    except zlib.error:
        return False
    return first == GZIP_MAGIC


class _Gunzipped:
    """A `read` of the content of the gzip members the `read` given gives, one after the
    other; empty at their end. Raises zlib.error on a member cut short, or on anything after a
    member that is not another one. (The content of the outer gzip of a Firehose object is
    itself compressed: a chunk of it comes out about its own size.)"""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self._member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._more = False  # the member holds output of input already read (`_OUT`)

    def __call__(self, size: int) -> bytes:
        from pipeline.ingest import GZIP_MAGIC

        while True:
            member = self._member
            if member.eof:
                data = member.unused_data
                if len(data) < len(GZIP_MAGIC):
                    data += self._read(size)
                if not data:
                    return b""
                if not data.startswith(GZIP_MAGIC):
                    raise zlib.error("not a gzip member after the last one")
                self._member = member = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif self._more:
                data = member.unconsumed_tail
            else:
                data = self._read(size)
                if not data:
                    raise zlib.error("cut short inside a gzip member")
            content = member.decompress(data, _OUT)
            self._more = not member.eof and (bool(member.unconsumed_tail) or len(content) == _OUT)
            if content:
                return content
