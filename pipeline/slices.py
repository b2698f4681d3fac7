"""Large objects cut into slices, each ingested as a batch of its own.

A CloudTrail Lake or CloudWatch Logs export is one NDJSON object of any size. Staged whole, its
records, their raw text and their typed columns were all in DuckDB at once: a 780 MB export
peaked at 0.9 GiB and a 2.3 GB one at 1.0 GiB, and a buffer the size of the file made smaller
memory limits fail. `cut` streams the object (gunzipping it when needed) into plain NDJSON
slices of about `slice_bytes`, one at a time, each with the object's own line numbers, so a
quarantined record still names its line in the object. `cut_document` does the same for one
large JSON document (a LookupEvents page of every page, a `{"Records": [...]}`, an array):
its record list's elements, one a line, numbered by their index in the list. `mend` copies an
NDJSON file (or slice) with each line that is not JSON wrapped, so DuckDB reads the rest and the
line becomes one rejected record instead of a quarantined file; `mend_document` does the same
for the elements of a document that are not UTF-8.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import secrets
import zlib
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson

from pipeline.ingest import GZIP_MAGIC


@dataclass(frozen=True)
class ValueLines:
    """Where the JSON values of an NDJSON file are: the 0-based line number of each value (its
    non-blank lines, in file order) and the longest line in bytes."""

    numbers: list[int]
    longest: int
    # what the numbers count: an NDJSON object's lines, or a large document's records
    # (`cut_document`: the index of each in the document's list)
    unit: str = "lines"

    def describe(self) -> str:
        """The lines (or records) these are, for a quarantine reason."""
        if not self.numbers:
            return f"no {self.unit}"
        return f"{self.unit} {self.numbers[0]}-{self.numbers[-1]} (0-based)"


@dataclass(frozen=True)
class Slice:
    """Consecutive values of one NDJSON object, written to `path` (blank lines left out)."""

    index: int
    path: Path
    lines: ValueLines


class SliceError(Exception):
    """The object stopped being readable (truncated or corrupt gzip) after line `after_line`."""

    def __init__(self, after_line: int, reason: str) -> None:
        super().__init__(reason)
        self.after_line = after_line
        self.reason = reason


def is_gzip(path: Path) -> bool:
    """True when `path` starts with the gzip magic bytes."""
    with path.open("rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _open(path: Path) -> io.BufferedIOBase:
    if is_gzip(path):
        return gzip.GzipFile(path, "rb")
    return path.open("rb")


def _lines(source: Path) -> Iterator[tuple[int, bytes]]:
    """`source`'s lines with their 0-based numbers; a read error becomes a SliceError (errors
    of the caller, such as a full disk while it writes a slice, stay what they are)."""
    number = -1
    with _open(source) as handle:
        try:
            for number, line in enumerate(handle):  # noqa: B007 (read in the except)
                yield number, line
        except (OSError, EOFError, zlib.error) as exc:
            raise SliceError(
                number, f"truncated or corrupt gzip after line {number} (0-based): {exc}"
            ) from None


def cut(source: Path, folder: Path, slice_bytes: int) -> Generator[Slice, None, None]:
    """Yield `source`'s values as slices of about `slice_bytes`, written under `folder`.

    Each slice is yielded once written, before the next is read: the caller ingests and deletes
    it meanwhile, so the disk holds one slice at a time. Raises SliceError where the object
    becomes unreadable, after yielding the values read before it.
    """
    values = (
        (number, line if line.endswith(b"\n") else line + b"\n")
        for number, line in _lines(source)
        if line.strip()
    )
    return _slices(values, folder, slice_bytes, "lines")


def cut_document(
    pieces: Iterable[bytes], folder: Path, slice_bytes: int, largest: int
) -> Generator[Slice, None, None]:
    """Yield the record list of one large JSON document, read from `pieces` (its bytes, in
    order), as NDJSON slices of about `slice_bytes` under `folder`, as `cut` does: a
    `{"Records": [...]}` document, a LookupEvents page `{"Events": [...]}` (what the AWS CLI
    writes when it pages through lookup-events), or a bare array. Read whole, such a document
    held DuckDB's parse of all of it: 2.8 GiB of memory for 217 MB of LookupEvents, and past
    256 MiB it was refused.

    Each element is a line of its own, wrapped with this process's mark and the document's
    shape (`ELEMENT_SHAPE_KEY`, `ELEMENT_KEY`): stg_raw_records reads it as that document's
    element, its position its index in the list (the numbers of `Slice.lines`), so its rows are
    those of the document read whole. The caller walks the document first
    (`slicing._has_record_list`): one that is more than cut short is read whole instead. Raises
    SliceError where the document stops (cut short), after yielding the records before it.
    `largest`: the largest element, in bytes (DuckDB's own limit).
    """
    return _slices(_document_values(pieces, largest), folder, slice_bytes, "records")


def _document_values(pieces: Iterable[bytes], largest: int) -> Iterator[tuple[int, bytes]]:
    """The wrapped lines of a document's list elements, numbered by their index in it."""
    from pipeline import scan

    walk = scan.DocumentWalk(limit=largest)
    heads: dict[str, bytes] = {}
    index = -1  # the last element's, in its own document (documents one after the other)
    try:
        for block in blocks(pieces):
            for index, shape, text in walk.feed_numbered(block):
                if (head := heads.get(shape)) is None:
                    head = orjson.dumps({MARK_KEY: MARK, ELEMENT_SHAPE_KEY: shape})
                    head = heads[shape] = head[:-1] + b',"' + ELEMENT_KEY.encode() + b'":'
                # an indented document's line breaks: blanks (an element is strict JSON, with
                # none inside a string)
                yield index, head + text.replace(b"\n", b" ").replace(b"\r", b" ") + b"}\n"
            if walk.problem is not None:
                break
        walk.finish()
    except scan.WalkError as exc:
        where = f"after record {index} (0-based)" if index >= 0 else "before its first record"
        raise SliceError(index, f"{exc}, {where}") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise SliceError(
            index, f"truncated or corrupt gzip after record {index} (0-based): {exc}"
        ) from None


def blocks(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """`pieces` joined into blocks of at least `_BLOCK` bytes (a UTF-8 byte order mark at the
    start left out)."""
    held: list[bytes] = []
    size = 0
    first = True
    for piece in pieces:
        if first:
            piece = piece.removeprefix(UTF8_BOM)
            first = False
        held.append(piece)
        size += len(piece)
        if size >= _BLOCK:
            yield b"".join(held)
            held, size = [], 0
    if held:
        yield b"".join(held)


_BLOCK = 4 << 20


def _slices(
    values: Iterator[tuple[int, bytes]], folder: Path, slice_bytes: int, unit: str
) -> Generator[Slice, None, None]:
    """`values` (each a number and its line) written as slices of about `slice_bytes`."""
    folder.mkdir(parents=True, exist_ok=True)
    index = 0
    numbers: list[int] = []
    longest = 0
    size = 0
    out = (folder / f"slice-{index:05d}.ndjson").open("wb")
    try:
        try:
            for number, line in values:
                if size and size + len(line) > slice_bytes:
                    out.close()
                    yield Slice(index, Path(out.name), ValueLines(numbers, longest, unit))
                    index += 1
                    numbers, longest, size = [], 0, 0
                    out = (folder / f"slice-{index:05d}.ndjson").open("wb")
                out.write(line)
                numbers.append(number)
                longest = max(longest, len(line))
                size += len(line)
        except SliceError:
            out.close()
            if numbers:
                yield Slice(index, Path(out.name), ValueLines(numbers, longest, unit))
            raise
        out.close()
        if numbers:
            yield Slice(index, Path(out.name), ValueLines(numbers, longest, unit))
    finally:
        out.close()


def value_lines(path: Path) -> ValueLines:
    """The value lines of an NDJSON file, read whole.

    DuckDB numbers the values it reads; a quarantined record must name its line, which differs
    from the value's number after a blank line. The longest line sizes DuckDB's JSON buffer: a
    buffer the size of the whole file (what a one-document file needs) made a large export
    exceed the ingest's memory limit.
    """
    numbers: list[int] = []
    longest = 0
    try:
        with _open(path) as handle:
            for number, line in enumerate(handle):
                if line.strip():
                    numbers.append(number)
                    longest = max(longest, len(line))
    except (OSError, EOFError, zlib.error):
        # a truncated gzip: keep the lines read; DuckDB's own read then names the problem
        pass
    return ValueLines(numbers, longest)


# the UTF-8 byte order mark some Windows tools write first
UTF8_BOM: Final = b"\xef\xbb\xbf"
UNREADABLE_KEY: Final = "sts-audit:unreadable-line"
WHY_KEY: Final = "sts-audit:why"
MARK_KEY: Final = "sts-audit:mark"
# the wrapper of an element of a large document's list (`cut_document`)
ELEMENT_SHAPE_KEY: Final = "sts-audit:shape"
ELEMENT_KEY: Final = "sts-audit:value"
# Random per process: only a line this process wrapped carries it, so an input line that holds
# the same keys cannot pass for an unreadable line (and choose its reject reason)
MARK: Final = secrets.token_hex(16)


# A `\uXXXX` escape of a UTF-16 surrogate: a high one optionally followed by its low one, or a
# low one alone. The backslashes before each `u` are counted: an even run is escaped
# backslashes and text, not an escape.
_SURROGATE_ESCAPE = re.compile(
    rb"(\\+)u([dD][89abAB][0-9a-fA-F]{2})(?:(\\+)u([dD][c-fC-F][0-9a-fA-F]{2}))?"
    rb"|(\\+)u([dD][c-fC-F][0-9a-fA-F]{2})"
)
REPLACEMENT_ESCAPE: Final = rb"\ufffd"


def _mend_surrogate(match: re.Match[bytes]) -> bytes:
    high_run, high, low_run, low, lone_run, lone = match.groups()
    if lone_run is not None:
        return lone_run[:-1] + REPLACEMENT_ESCAPE if len(lone_run) % 2 else match[0]
    if len(high_run) % 2 == 0:  # text, not an escape; what follows is looked at on its own
        rest = match[0][len(high_run) + 5 :]
        return match[0][: len(high_run) + 5] + _SURROGATE_ESCAPE.sub(_mend_surrogate, rest)
    if low_run is not None and len(low_run) == 1:
        return match[0]  # a pair: one character beyond the Basic Multilingual Plane
    fixed = high_run[:-1] + REPLACEMENT_ESCAPE
    if low_run is None:
        return fixed
    return fixed + _SURROGATE_ESCAPE.sub(_mend_surrogate, match[0][len(high_run) + 5 :])


def replace_lone_surrogates(text: bytes) -> bytes:
    """`text` with every escaped lone UTF-16 surrogate (`\\ud800` with no low half after it, or
    a low half alone) written as U+FFFD. JSON's grammar allows them and DuckDB and orjson
    refuse them: one in a logged field (a request parameter is the caller's to write) made its
    whole file unreadable, every record of it quarantined."""
    if b"\\u" not in text:
        return text
    return _SURROGATE_ESCAPE.sub(_mend_surrogate, text)


def is_object(text: bytes) -> bool:
    """Whether `text` is one JSON object; raises orjson.JSONDecodeError when it is not JSON.
    orjson stops at 1024 levels of nesting and DuckDB does not: deeper text that opens with `{`
    is taken as an object, for DuckDB to read (or to reject)."""
    try:
        return isinstance(orjson.loads(text), dict)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded") and text.lstrip()[:1] == b"{":
            return True
        raise


def why_unreadable(line: bytes, error: orjson.JSONDecodeError) -> str:
    """The reason a line is not a record, naming its first bad byte (1-based): bytes that are
    not UTF-8 (a binary file, or text in another encoding) or JSON that does not parse."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _not_utf8(line, exc)
    message = str(error).split(": line ", 1)[0]
    # orjson counts characters; a line is bytes
    return f"not valid JSON: {message} at byte {len(text[: error.pos].encode()) + 1}"


def _not_utf8(line: bytes, exc: UnicodeDecodeError) -> str:
    """The reason `line` is not a record, naming its first byte that is not UTF-8 (1-based)."""
    return (
        f"not valid UTF-8: byte 0x{line[exc.start]:02x} at byte {exc.start + 1} "
        "(CloudTrail writes UTF-8: re-export the file as UTF-8)"
    )


def mend(source: Path, target: Path) -> tuple[ValueLines, str | None] | None:
    """Copy NDJSON `source` to `target` with every line that is not JSON wrapped as
    `{"sts-audit:unreadable-line": "<line>", "sts-audit:why": "<reason>", "sts-audit:mark": MARK}`,
    which `stg_raw_records` turns into a rejected record at that line, with that reason (DuckDB
    cannot read past a broken line, so the whole file would be quarantined). A gzip that ends
    early keeps the lines before the cut.

    Returns the value lines and, for a gzip cut short, why; None when there is nothing to
    mend: no broken line and no cut (DuckDB failed for another reason), no line that is a
    record, more broken lines that look like pieces of a document than records (not NDJSON: a
    JSON array written a record a line, or a pretty-printed document, would become a rejected
    record per line), or more broken lines than records and than MEND_MAX_BROKEN. The file is
    then quarantined whole."""
    numbers: list[int] = []
    longest = 0
    broken = good = fragments = 0
    cut: str | None = None
    with target.open("wb") as out:
        try:
            for number, line in _lines(source):
                if number == 0:
                    line = line.removeprefix(UTF8_BOM)  # DuckDB skips it; orjson refuses it
                if not line.strip():
                    continue
                body = line.rstrip(b"\r\n")
                if (repaired := replace_lone_surrogates(body)) is not body:
                    line = body = repaired
                try:
                    good += is_object(body)
                except orjson.JSONDecodeError as exc:
                    line = _unreadable_line(body, why_unreadable(body, exc))
                    broken += 1
                    fragments += _is_fragment(body)
                out.write(line if line.endswith(b"\n") else line + b"\n")
                numbers.append(number)
                longest = max(longest, len(line))
        except SliceError as exc:
            cut = exc.reason
    if not (broken or cut) or good == 0 or fragments > good or broken > max(good, MEND_MAX_BROKEN):
        return None
    return ValueLines(numbers, longest), cut


def mend_document(data: bytes, target: Path) -> ValueLines | None:
    """Copy the record list of one JSON document (`data`: a `{"Records": [...]}`, a LookupEvents
    page, a bare array) to `target` as `cut_document` writes it, an element a line, with each
    element that is not UTF-8 written as an unreadable line instead (`mend`'s wrapper, with the
    document's shape): stg_raw_records reads the other elements as the document's records at
    their index in the list, and that one as a rejected record at its own. DuckDB refuses the
    whole document for one bad byte, which quarantined every record of the file with it.

    None when there is nothing to mend this way: larger than `MEND_DOCUMENT_MAX`, no record list
    at the root, a value that does not parse as JSON even with the bad bytes set aside, no
    element that is not UTF-8, or none that is. The file is then quarantined whole."""
    if len(data) > MEND_DOCUMENT_MAX:
        return None
    text = data.removeprefix(UTF8_BOM).decode("utf-8", errors="surrogateescape")
    try:
        found = _record_list(text)
        if found is None:
            return None
        shape, pos = found
        numbers: list[int] = []
        longest = broken = 0
        head = orjson.dumps({MARK_KEY: MARK, ELEMENT_SHAPE_KEY: shape})
        head = head[:-1] + b',"' + ELEMENT_KEY.encode() + b'":'
        spans, end_of_list = _elements(text, pos)
        if not _ends_alone(text, end_of_list, shape):
            return None
        with target.open("wb") as out:
            for index, (start, end) in enumerate(spans):
                raw = text[start:end].encode("utf-8", errors="surrogateescape")
                try:
                    raw.decode("utf-8")
                    # an indented document's line breaks: blanks, as `_document_values` writes
                    line = head + raw.replace(b"\n", b" ").replace(b"\r", b" ") + b"}\n"
                except UnicodeDecodeError as exc:
                    line = _unreadable_line(raw, _not_utf8(raw, exc), shape) + b"\n"
                    broken += 1
                out.write(line)
                numbers.append(index)
                longest = max(longest, len(line))
    except ValueError:  # json's JSONDecodeError: not JSON even with the bad bytes set aside
        return None
    if not broken or broken == len(numbers):
        return None
    return ValueLines(numbers, longest, "records")


# Documents larger than this (of JSON) are not mended a record at a time: Python holds the text
# as characters, several times its bytes
MEND_DOCUMENT_MAX: Final = 64 << 20

_BLANKS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _skip(text: str, pos: int) -> int:
    """`pos` past the JSON blanks there."""
    match = _BLANKS.match(text, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _record_list(text: str) -> tuple[str, int] | None:
    """The shape of the document's record list and where it opens (its `[`), or None."""
    pos = _skip(text, 0)
    if text.startswith("[", pos):
        return "array", pos
    if not text.startswith("{", pos):
        return None
    pos += 1
    while True:
        pos = _skip(text, pos)
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if not isinstance(key, str) or not text.startswith(":", pos):
            return None
        pos = _skip(text, pos + 1)
        shape = {"Records": "records", "Events": "lookup_events"}.get(key)
        if shape is not None and text.startswith("[", pos):
            return shape, pos
        _, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if not text.startswith(",", pos):
            return None
        pos += 1


def _elements(text: str, pos: int) -> tuple[list[tuple[int, int]], int]:
    """Where each element of the list opening at `pos` starts and ends, and where the list
    ends (after its `]`)."""
    spans: list[tuple[int, int]] = []
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        return spans, pos + 1
    while True:
        _, end = _DECODER.raw_decode(text, pos)
        spans.append((pos, end))
        pos = _skip(text, end)
        if text.startswith("]", pos):
            return spans, pos + 1
        if not text.startswith(",", pos):
            raise ValueError("a list element is not followed by , or ]")
        pos = _skip(text, pos + 1)


def _ends_alone(text: str, pos: int, shape: str) -> bool:
    """Whether the document closes after its record list (at `pos`) with nothing but other
    root keys, none a second record list, and nothing after it: a file of several documents
    (a `cat` of delivery files) is not mended this way."""
    if shape != "array":
        while True:
            pos = _skip(text, pos)
            if text.startswith("}", pos):
                pos += 1
                break
            if not text.startswith(",", pos):
                return False
            pos = _skip(text, pos + 1)
            key, pos = _DECODER.raw_decode(text, pos)
            pos = _skip(text, pos)
            if key in ("Records", "Events") or not text.startswith(":", pos):
                return False
            _, pos = _DECODER.raw_decode(text, _skip(text, pos + 1))
    return _skip(text, pos) == len(text)


def _unreadable_line(body: bytes, why: str, shape: str | None = None) -> bytes:
    """`body`, which is not a record's JSON, wrapped so that stg_raw_records reads it as a
    rejected record with reason `why` (`mend`'s lines; with the document's `shape`,
    `mend_document`'s elements), its bytes that are not UTF-8 as U+FFFD."""
    wrapper = {UNREADABLE_KEY: body.decode("utf-8", errors="replace"), WHY_KEY: why, MARK_KEY: MARK}
    if shape is not None:
        wrapper[ELEMENT_SHAPE_KEY] = shape
    return orjson.dumps(wrapper)


# A file with more broken lines than this, and than lines that are records, is not NDJSON with
# a few bad lines (a log of another kind that holds one JSON line): it is quarantined whole
MEND_MAX_BROKEN: Final = 16


def _is_fragment(line: bytes) -> bool:
    """Whether a line that is not JSON looks like a piece of a multi-line document: brackets
    alone, a `"key": value` line of pretty-printed JSON, a line that opens a list or an object
    (`{"Records":[`), or a record of an array written one a line (a comma before or after)."""
    text = line.strip()
    return not text.strip(b"[]{},") or text[:1] in (b'"', b",") or text.endswith((b",", b"[", b"{"))
