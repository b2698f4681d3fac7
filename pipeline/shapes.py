"""What shape a source file is, from its name or its first bytes, before DuckDB reads it.

CloudTrail's own delivery files are known by their name (`is_delivery_name`) and are one JSON
document each; any other file is NDJSON when its first line is a whole JSON object with more
after it (`is_multi_document`), else JSON documents. `pieces` gives a file's bytes, gunzipped
when it is gzip, a piece at a time: the peek reads through it, and so do the copies that mend
a file and the walk of a large document's record list.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

import orjson

from pipeline import slices
from pipeline.ingest import GZIP_MAGIC

_DELIVERY_NAME_RE = re.compile(r"_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]+\.json(\.gz)?$")


def is_delivery_name(path: str) -> bool:
    """A CloudTrail delivery file name: ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz."""
    return _DELIVERY_NAME_RE.search(path) is not None


# How far `is_multi_document` reads for the end of a file's first line: past any one record (an
# event is at most 256 KB, 1 MB in a CloudTrail Lake event data store), short of reading a large
# one-line document whole to find that it has no second line.
FIRST_LINE_MAX = 4 * 1024 * 1024
_PEEK = 65536


def pieces(path: Path) -> Iterator[bytes]:
    """`path`'s bytes (gunzipped when it is gzip, every member of it: `cat` of gzip files,
    bgzip), a piece of at most 64 KiB at a time."""
    with path.open("rb") as handle:
        chunk = handle.read(_PEEK)
        if chunk[:2] != GZIP_MAGIC:
            while chunk:
                yield chunk
                chunk = handle.read(_PEEK)
            return
        unzip = zlib.decompressobj(31)
        while chunk:
            yield unzip.decompress(chunk, _PEEK)
            if not unzip.eof:
                chunk = unzip.unconsumed_tail or handle.read(_PEEK)
                continue
            # the next member, if any (zero padding after the last one is allowed)
            chunk = unzip.unused_data or handle.read(_PEEK)
            if not chunk.strip(b"\0"):
                return
            unzip = zlib.decompressobj(31)


# A JSON text's first two characters are ASCII (RFC 4627 §3), so the zero bytes among its first
# four tell UTF-16 and UTF-32 and their byte order, as a byte-order mark does
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_WIDE_ZEROS = {
    (True, True, True, False): "utf-32-be",
    (False, True, True, True): "utf-32-le",
    (True, False, True, False): "utf-16-be",
    (False, True, False, True): "utf-16-le",
}


def wide_encoding(head: bytes) -> str | None:
    """The codec of a JSON text written in UTF-16 or UTF-32 (Windows PowerShell 5's `>` writes
    UTF-16LE with a byte-order mark), from its first four bytes; None for any other text (UTF-8
    has no zero byte there: JSON allows none outside a string)."""
    for bom, codec in _WIDE_BOMS:
        if head.startswith(bom):
            return codec
    if len(head) < 4:
        return None
    return _WIDE_ZEROS.get(tuple(byte == 0 for byte in head[:4]))  # type: ignore[arg-type]


def utf8_copy(path: Path, copy: Path) -> bool:
    """Write to `copy`, in UTF-8, `path`'s text when it is UTF-16 or UTF-32 (a LookupEvents
    page saved by Windows PowerShell 5: DuckDB reads only UTF-8); its lines stay where they
    were. False, and no copy, for any other text or one that does not decode (an unpaired
    surrogate)."""
    chunks: Iterator[bytes] = pieces(path)
    try:
        head = b""
        for piece in chunks:
            head += piece
            if len(head) >= 4:
                break
        codec = wide_encoding(head)
        if codec is None:
            return False
        decoder = codecs.getincrementaldecoder(codec)()
        with copy.open("wb") as out:
            out.write(decoder.decode(head).encode())
            for piece in chunks:
                out.write(decoder.decode(piece).encode())
            out.write(decoder.decode(b"", final=True).encode())
    except (OSError, EOFError, zlib.error, UnicodeError):
        copy.unlink(missing_ok=True)
        return False
    return True


def is_multi_document(path: Path) -> bool:
    """True for NDJSON-like files: a first line that is a whole JSON object, then more."""
    head = bytearray()  # from the first byte that is not blank
    newline = -1  # where the first line ends, once read
    try:
        for index, piece in enumerate(pieces(path)):
            if index == 0:
                piece = piece.removeprefix(slices.UTF8_BOM)  # written by some Windows tools
            if not head:
                piece = piece.lstrip()
                if not piece:
                    continue
                if not piece.startswith(b"{"):
                    return False
            searched = len(head)
            head += piece
            if newline < 0:
                newline = head.find(b"\n", searched)
            # the whole first line and the start of what follows it are in
            if newline >= 0 and head[newline:].strip():
                break
            if len(head) > FIRST_LINE_MAX:
                return False
        else:
            return False
    except zlib.error:
        return False
    try:
        return slices.is_object(bytes(head[:newline]))
    except orjson.JSONDecodeError:
        return False
