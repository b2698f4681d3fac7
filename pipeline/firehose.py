"""The objects Amazon Data Firehose writes for a CloudWatch Logs subscription, as NDJSON.

A trail sent to a log group and on through a subscription filter to Firehose lands in S3 as
objects of subscription payloads (`{"messageType": "DATA_MESSAGE", "logEvents": [...]}`), each
payload its own gzip member, one after the other, with no separator. Read as one gzip file,
the payloads are JSON documents back to back: DuckDB reads such a file whole (Firehose's
buffer allows objects of 128 MiB of gzip, over 1 GB of JSON). Written out one payload a line,
the object is an NDJSON file, which the ingest reads a slice of lines at a time when it is
large, each record at its payload's line and its index in the payload's `logEvents`. A stream
with Firehose's own GZIP compression on wraps those members in one more gzip: it is taken off
as the object is read. An object cut short (an upload listed half done) keeps the payloads
before the cut: they are written gzipped, followed by a gzip member that ends early, so the
ingest reads them as any NDJSON gzip that ends early (`slices.mend`: the lines before the cut
stored, the object quarantined with the line it stopped at).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

_CHUNK = 1 << 20
# the most a gunzip returns at once: deflate expands up to 1032:1, so a chunk of deflated
# blanks would otherwise come out a gigabyte at a time
_OUT = 8 << 20


# a gzip member of blanks without its last deflate bytes and its trailer
_CUT_MEMBER = gzip.compress(b" " * 4096, mtime=0)[:-12]


class _CutShort(zlib.error):
    """The input ends inside a gzip member."""


def as_lines(path: Path, target: Path) -> Path | None:
    """Write the payloads of Firehose object `path` to `target`, one a line, and return it;
    None (and no `target`) when `path` is not gzip members whose content holds no newline of
    its own (the caller then reads it as it is, and DuckDB names what is wrong with it). When
    the object is cut short after whole payloads, returns `target` + `.gz` instead: those
    payloads gzipped, then a member that ends early (the module's docstring)."""
    try:
        with path.open("rb") as src, target.open("wb") as out:
            read = _Gunzipped(src.read) if _wraps_gzip(src.read) else src.read
            src.seek(0)
            whole = _copy_members(read, out.write)
            if whole is None:
                target.unlink()
                return None
        if whole < 0:
            return target
        return _cut_copy(target, whole)
    except (OSError, zlib.error):
        target.unlink(missing_ok=True)
        return None


def _copy_members(read: Callable[[int], bytes], write: Callable[[bytes], object]) -> int | None:
    """Copy each gzip member's content from `read` to `write`, a newline after each; -1 when
    every member was whole; the bytes written by the whole members when the input ends inside
    a later one; None on anything else that is not a whole member (or a cut in the first), or
    content with a newline of its own."""
    wrote = False
    written = whole = 0
    try:
        for piece in _members(read):
            if piece is None:  # a member's end
                if wrote:
                    write(b"\n")
                    written += 1
                wrote = False
                whole = written
            elif b"\n" in piece:
                return None  # not one payload a line: read as it is
            else:
                write(piece)
                written += len(piece)
                wrote = True
    except _CutShort:
        return whole or None
    except zlib.error:
        return None
    return -1


def _cut_copy(target: Path, whole: int) -> Path:
    """`target`'s first `whole` bytes gzipped to `target.gz`, then a gzip member that ends
    early; `target` removed."""
    cut = target.with_name(target.name + ".gz")
    with target.open("rb") as src, gzip.open(cut, "wb", compresslevel=1) as out:
        remaining = whole
        while remaining:
            chunk = src.read(min(_CHUNK, remaining))
            if not chunk:
                break
            out.write(chunk)
            remaining -= len(chunk)
    with cut.open("ab") as tail:  # blanks, no line: the reader stops inside it
        tail.write(_CUT_MEMBER)
    target.unlink()
    return cut


def _members(read: Callable[[int], bytes]) -> Iterator[bytes | None]:
    """The content of the gzip members `read` gives, one after the other, at most `_OUT` bytes
    a piece, and None after each member. Raises zlib.error when it is not gzip, on a member cut
    short, or on anything after a member that is not another one (zero padding, text, ...)."""
    from pipeline.ingest import GZIP_MAGIC  # ingest imports this module

    pending = read(_CHUNK)
    if not pending.startswith(GZIP_MAGIC):
        raise zlib.error("not gzip")
    while pending:
        member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while True:
            data = member.decompress(pending, _OUT)
            if data:
                yield data
            if member.eof:
                pending = member.unused_data
                break
            if member.unconsumed_tail or len(data) == _OUT:
                pending = member.unconsumed_tail  # more output of the input already read
                continue
            pending = read(_CHUNK)
            if not pending:
                raise _CutShort("cut short inside a gzip member")
        yield None
        if len(pending) < len(GZIP_MAGIC):  # the next header may straddle a read
            pending += read(_CHUNK)
        if pending and not pending.startswith(GZIP_MAGIC):
            raise zlib.error("not a gzip member after the last one")


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
    other; empty at their end. Raises zlib.error as `_members` does. (The content of the outer
    gzip of a Firehose object is itself compressed: a chunk of it comes out about its own
    size.)"""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._pieces = (piece for piece in _members(read) if piece is not None)

    def __call__(self, size: int) -> bytes:
        return next(self._pieces, b"")
