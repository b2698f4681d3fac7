"""Split CloudTrail delivery files into records, and their fields, in compiled code
(`pipeline/_scan.c`).

DuckDB's JSON read and parse of a batch's delivery documents cost most of staging; this does the
same from bytes gunzipped by ISA-L (`isal`, 1.5-1.7x zlib's speed here), on the batch's files
side by side. For the files it reads,
`split_files` gives one Arrow table of their records, each with its text and the fields the lake
types (`FIELDS`), as text:

- a record whose text is as DuckDB writes it, holds no session token and repeats no key on a
  field's path (`route` 0) is typed from those fields (`stg_scanned_records`, then the same
  `stg_records_detailed` and `stg_events` as DuckDB's records);
- the others are read as text (`stg_scanned_texts`: shape `records`, or `scanned` for a text
  DuckDB rewrites first: blanks, escapes, numbers other than short integers), for
  `stg_records_parsed` to redact and parse.

It leaves to DuckDB any file that is not exactly `{"Records": [...]}` of valid ASCII JSON, and
every file where the splitter was not built (a machine without a C compiler at install time: the
ingest is then DuckDB's alone, as correct and slower).
"""

from __future__ import annotations

import ctypes
import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from isal import isal_zlib

LIBRARY = Path(__file__).with_name("_scan.so")
# ISA-L's inflate error (its type stub declares an instance, not the class)
_GZIP_ERROR = cast(type[Exception], isal_zlib.error)
# STS_AUDIT_SCAN=0 turns the splitter off (every file read by DuckDB), to compare the two
ENV_SWITCH = "STS_AUDIT_SCAN"
# records of a delivery file are about 1 KB: room for a document's records is made at one per
# 512 bytes, then for as many as it can hold; a batch's buffers start at one per 700 bytes
_GUESS_RECORD_BYTES = 512
_EXPECTED_RECORD_BYTES = 700
_THREADS = max(1, min(2, os.cpu_count() or 1))
# DuckDB scans an Arrow table a record batch per thread: one batch would type it on one
_ROWS_PER_BATCH = 8192
# shapes stg_records_parsed knows: a record's text as DuckDB wrote it, or as the file wrote it
SHAPE_AS_DUCKDB = "records"
SHAPE_AS_WRITTEN = "scanned"
# the flag byte: 1 the text is DuckDB's to rewrite, 2 a session token DuckDB hashes, 4 a key
# repeated on a field's path (all three: read as text), 16 its tokens hashed by the splitter,
# 32 plain (typed by pipeline/plain.py)
_FLAG_REWRITE = 1
_FLAG_HASHED = 16
_FLAG_PLAIN = 32
_NO_TIME = -(2**63)
# sts_abi_version() of the _scan.c these bindings are written for
ABI_VERSION = 2

# The record's fields stg_events reads from `s` (stg_records_parsed's json_transform), by path,
# and whether the field is typed JSON (its text with the quotes of a string) or VARCHAR.
FIELDS: tuple[tuple[str, bool], ...] = (
    ("eventID", False),
    ("eventTime", False),
    ("eventVersion", False),
    ("eventSource", False),
    ("eventName", False),
    ("eventType", False),
    ("eventCategory", False),
    ("awsRegion", False),
    ("sourceIPAddress", False),
    ("userAgent", False),
    ("errorCode", False),
    ("errorMessage", False),
    ("requestID", False),
    ("sharedEventID", False),
    ("readOnly", False),
    ("managementEvent", False),
    ("vpcEndpointId", False),
    ("sessionCredentialFromConsole", False),
    ("recipientAccountId", False),
    ("addendum.reason", False),
    ("addendum.originalEventID", False),
    ("userIdentity.type", False),
    ("userIdentity.principalId", False),
    ("userIdentity.arn", False),
    ("userIdentity.accountId", False),
    ("userIdentity.accessKeyId", False),
    ("userIdentity.userName", False),
    ("userIdentity.invokedBy", False),
    ("userIdentity.credentialId", False),
    ("userIdentity.identityProvider", False),
    ("userIdentity.onBehalfOf.userId", False),
    ("userIdentity.onBehalfOf.identityStoreArn", False),
    ("userIdentity.inScopeOf", True),
    ("userIdentity.sessionContext.sessionIssuer.type", False),
    ("userIdentity.sessionContext.sessionIssuer.principalId", False),
    ("userIdentity.sessionContext.sessionIssuer.arn", False),
    ("userIdentity.sessionContext.sessionIssuer.accountId", False),
    ("userIdentity.sessionContext.sessionIssuer.userName", False),
    ("userIdentity.sessionContext.webIdFederationData.federatedProvider", False),
    ("userIdentity.sessionContext.attributes.creationDate", False),
    ("userIdentity.sessionContext.attributes.mfaAuthenticated", False),
    ("userIdentity.sessionContext.sourceIdentity", False),
    ("userIdentity.sessionContext.ec2RoleDelivery", False),
    ("userIdentity.sessionContext.assumedRoot", False),
    ("userIdentity.sessionContext.webIdFederationData.attributes", True),
    ("requestParameters", True),
    ("responseElements", True),
    ("additionalEventData", True),
    ("serviceEventDetails", True),
    ("resources", True),
)


def _large_buffers_from_mmap() -> None:
    """Have glibc serve every allocation of 1 MiB or more with its own mapping, returned to
    the system when freed. By default the threshold rises to the size of the largest block
    freed (up to 32 MiB): a batch's buffers then come from the splitting threads' heaps, which
    keep the memory after the batch, and the ingest's peak grew past 1 GiB."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD; fixed, so no longer raised
    except (OSError, AttributeError):  # not glibc: its own allocator's policy
        pass


@dataclass(frozen=True)
class _Library:
    split: Any
    gather: Any
    walk: Any
    walk_size: Any
    walk_init: Any
    walk_info: Any
    walk_rebase: Any


@cache
def _library() -> _Library | None:
    if os.environ.get(ENV_SWITCH, "1") == "0" or not LIBRARY.exists():
        return None
    _large_buffers_from_mmap()
    try:
        lib = ctypes.CDLL(str(LIBRARY))
    except OSError:  # built for another machine: DuckDB reads everything
        return None
    ptr, i64 = ctypes.c_void_p, ctypes.c_int64
    # a library built from another _scan.c takes other arguments: DuckDB reads everything
    # until it is rebuilt (make install-dev)
    version = getattr(lib, "sts_abi_version", None)
    if version is None:
        return None
    version.restype = i64
    if version() != ABI_VERSION:
        return None
    lib.sts_prepare.restype = ctypes.c_int
    lib.sts_prepare.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    paths = "\n".join(path for path, _ in FIELDS).encode()
    if lib.sts_prepare(paths, bytes(int(json) for _, json in FIELDS)) != len(FIELDS):
        return None
    lib.sts_split.restype = i64
    lib.sts_split.argtypes = [
        ctypes.c_char_p,
        i64,
        ptr,
        i64,
        i64,
        ptr,
        ptr,
        i64,
        ptr,
        ptr,
        ctypes.c_char_p,
        i64,
        ptr,
        ptr,
    ]
    lib.sts_gather.restype = None
    lib.sts_gather.argtypes = [ptr, i64, ctypes.c_int, ptr, ptr, ptr, ptr, ptr, ptr]
    lib.sts_walk.restype = i64
    lib.sts_walk.argtypes = [ptr, ctypes.c_char_p, i64, i64, ptr, ptr, ptr, ptr]
    lib.sts_walk_size.restype = i64
    lib.sts_walk_size.argtypes = []
    lib.sts_walk_init.restype = None
    lib.sts_walk_init.argtypes = [ptr, i64]
    lib.sts_walk_info.restype = i64
    lib.sts_walk_info.argtypes = [ptr, ctypes.c_int]
    lib.sts_walk_rebase.restype = None
    lib.sts_walk_rebase.argtypes = [ptr, i64]
    return _Library(
        lib.sts_split,
        lib.sts_gather,
        lib.sts_walk,
        lib.sts_walk_size,
        lib.sts_walk_init,
        lib.sts_walk_info,
        lib.sts_walk_rebase,
    )


def available() -> bool:
    """Whether the compiled splitter is built and switched on."""
    return _library() is not None


class _Chunk:
    """The files one thread splits, back to back in buffers that grow as needed (numpy): record
    texts (uint8), their int64 offsets, a flag byte each, the content hash of each record typed
    from its fields (32 hex digits), a plain record's event time and creation date (int64
    microseconds), and where each field is (count x fields offsets into the
    texts and lengths, -1 for absent), gathered into Arrow columns once the files are split
    (`columns`)."""

    offsets: Any
    flags: Any
    hashes: Any
    times: Any
    field_offsets: Any
    field_lengths: Any
    columns: list[Any]

    def __init__(self, size: int = 1 << 20) -> None:
        """`size`: the bytes of JSON expected (the gzip trailers' sizes); more is made room for."""
        import numpy as np

        self.data = np.empty(max(size, 1), dtype=np.uint8)
        self.used = 0
        self.count = 0
        self._rows(size // _EXPECTED_RECORD_BYTES + 64)
        self.offsets[0] = 0
        self.files: list[tuple[str, int]] = []  # (path, records), in order

    def _rows(self, rows: int) -> None:
        import numpy as np

        old = getattr(self, "flags", None)  # None while __init__ makes the first room
        t = len(FIELDS)
        offsets = np.empty(rows + 1, dtype=np.int64)
        flags = np.empty(rows, dtype=np.uint8)
        hashes = np.empty((rows, 32), dtype=np.uint8)
        times = np.empty((rows, 2), dtype=np.int64)
        field_offsets = np.empty((rows, t), dtype=np.int64)
        field_lengths = np.empty((rows, t), dtype=np.int32)
        if old is not None:
            n = self.count
            offsets[: n + 1] = self.offsets[: n + 1]
            flags[:n] = self.flags[:n]
            hashes[:n] = self.hashes[:n]
            times[:n] = self.times[:n]
            field_offsets[:n] = self.field_offsets[:n]
            field_lengths[:n] = self.field_lengths[:n]
        self.offsets, self.flags, self.hashes, self.times = offsets, flags, hashes, times
        self.field_offsets, self.field_lengths = field_offsets, field_lengths

    def add(self, path: str, doc: bytes, salt: bytes | None = None) -> bool:
        """Split one delivery document into the buffers; False when DuckDB must read it. With
        the lake's `salt`, the session tokens of the records typed from their fields are
        written hashed (`"sessionToken":"sha256:<hex>"`, as stg_records_parsed writes them)."""
        import numpy as np

        lib = _library()
        assert lib is not None
        assert not hasattr(self, "columns"), "a gathered chunk takes no more documents"
        rows = len(doc) // _GUESS_RECORD_BYTES + 16
        size = len(doc)
        while True:
            if self.used + size > len(self.data):
                grown = np.empty(max(len(self.data) * 3 // 2, self.used + size), dtype=np.uint8)
                grown[: self.used] = self.data[: self.used]
                self.data = grown
            if self.count + rows > len(self.flags):
                self._rows(max(len(self.flags) * 3 // 2, self.count + rows))
            n = self.count
            got = int(
                lib.split(
                    doc,
                    len(doc),
                    self.data.ctypes.data,
                    len(self.data),
                    self.used,
                    self.offsets[n:].ctypes.data,
                    self.flags[n:].ctypes.data,
                    len(self.flags) - n,
                    self.field_offsets[n:].ctypes.data,
                    self.field_lengths[n:].ctypes.data,
                    salt,
                    len(salt) if salt else 0,
                    self.hashes[n:].ctypes.data,
                    self.times[n:].ctypes.data,
                )
            )
            if got == -2 and rows < len(doc):  # more records than room was made for
                rows *= 2
                continue
            # hashed tokens made the text longer (a token shorter than its hash, at most 71
            # bytes more for each `"sessionToken":""` of 17)
            if got == -3 and size < len(doc) * 6:
                size *= 2
                continue
            if got < 0:
                return False
            self.count += got
            self.used = int(self.offsets[self.count])
            self.files.append((path, got))
            return True

    def gather(self) -> None:
        """The fields of every record as Arrow large_string columns (`columns`, in `FIELDS`
        order); the per-field offsets and lengths are dropped."""
        import numpy as np
        import pyarrow as pa

        lib = _library()
        assert lib is not None
        n, t = self.count, len(FIELDS)
        field_offsets, field_lengths = self.field_offsets[:n], self.field_lengths[:n]
        sizes = np.zeros(t, dtype=np.int64)
        args = (self.data.ctypes.data, n, t, field_offsets.ctypes.data, field_lengths.ctypes.data)
        lib.gather(*args, sizes.ctypes.data, None, None, None)
        buffers = [np.empty(max(int(size), 1), dtype=np.uint8) for size in sizes]
        offsets = [np.empty(n + 1, dtype=np.int64) for _ in range(t)]
        validity = [np.empty((n + 7) // 8, dtype=np.uint8) for _ in range(t)]

        def pointers(arrays: list[Any]) -> Any:
            return (ctypes.c_void_p * t)(*(a.ctypes.data for a in arrays))

        lib.gather(
            *args, sizes.ctypes.data, pointers(buffers), pointers(offsets), pointers(validity)
        )
        self.columns = [
            pa.LargeStringArray.from_buffers(
                n, pa.py_buffer(offsets[j]), pa.py_buffer(buffers[j]), pa.py_buffer(validity[j])
            )
            for j in range(t)
        ]
        self.field_offsets = self.field_lengths = np.empty((0, t), dtype=np.int64)


def _read(path: str, size: int) -> bytes | None:
    """The file's JSON; None when DuckDB must read it. `size`: what the batch planned for it
    (the gzip trailer's ISIZE). A gzip file that holds more never grows past that here: ISIZE
    is the size modulo 4 GiB, so a few MB of deflated blanks could plan as small and be
    gunzipped whole into memory; DuckDB's read of it is bounded and names the problem."""
    raw = Path(path).read_bytes()
    if not path.endswith(".gz"):
        return raw
    try:
        # 16 + MAX_WBITS: gzip; a file of several gzip members, a truncated or corrupt one:
        # DuckDB's read decides what becomes of it
        # (ISA-L's inflate: zlib's interface and answers, in about 0.6x its time)
        d = isal_zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(raw, size + 1)
        if len(out) > size or not d.eof or d.unused_data:
            return None
        return out
    except _GZIP_ERROR:
        return None


def split_document(doc: bytes, name: str = "document", salt: str | None = None) -> _Chunk | None:
    """One delivery document split on its own; None when DuckDB must read it."""
    if _library() is None:
        return None
    chunk = _Chunk()
    if not chunk.add(name, doc, salt.encode() if salt else None):
        return None
    chunk.gather()
    return chunk


def _split_chunk(paths: Sequence[str], salt: bytes | None) -> tuple[_Chunk, list[str]]:
    from pipeline.ingest import uncompressed_size_cached

    chunk, left = _Chunk(sum(uncompressed_size_cached(p) for p in paths)), []
    for path in paths:
        doc = _read(path, uncompressed_size_cached(path))
        if doc is None or not chunk.add(path, doc, salt):
            left.append(path)
    chunk.gather()  # in this thread, beside the other's split
    return chunk, left


@dataclass(frozen=True)
class Scanned:
    """What the splitter read of a batch: one Arrow table of its records (None when empty),
    and the files it left to DuckDB."""

    records: Any
    left: list[str]


def split_files(paths: Sequence[str], salt: str | None = None) -> Scanned:
    """Split the delivery files `paths` (see the module's docstring); `salt`: the lake's, for
    the session tokens of the records typed from their fields (without it, those records are
    read as text, and DuckDB hashes their tokens)."""
    if not paths or _library() is None:
        return Scanned(None, list(paths))
    # contiguous shares, one a thread: ISA-L and the splitter release the GIL
    size = -(-len(paths) // _THREADS)
    shares = [paths[i : i + size] for i in range(0, len(paths), size)]
    key = salt.encode() if salt else None
    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        results = list(pool.map(lambda share: _split_chunk(share, key), shares))
    left = [p for _, share_left in results for p in share_left]
    chunks = [c for c, _ in results if c.count]
    return Scanned(_table(chunks) if chunks else None, left)


def _table(chunks: list[_Chunk]) -> Any:
    """Every record of the chunks: filename, position, `route` (false: typed from its fields,
    `stg_scanned_records`; true: read as text, `stg_scanned_texts`), `plain` (typed by
    pipeline/plain.py, with `plain_event_time` and `plain_creation_date`), `shape` for the
    text, `raw` (the chunk's own buffer, not copied), `content_md5` and the fields
    (`FIELDS`)."""
    import numpy as np
    import pyarrow as pa

    dictionary = pa.array([path for c in chunks for path, _ in c.files], pa.string())
    shapes = pa.array([SHAPE_AS_DUCKDB, SHAPE_AS_WRITTEN])
    tables = []
    first_file = 0
    for c in chunks:
        counts = np.array([n for _, n in c.files], dtype=np.int64)
        n = c.count
        file_index = np.repeat(
            np.arange(first_file, first_file + len(c.files), dtype=np.int32), counts
        )
        first_file += len(c.files)
        flags = c.flags[:n]
        typed = (flags & ~np.uint8(_FLAG_HASHED | _FLAG_PLAIN)) == 0
        times = c.times[:n]
        utc = pa.timestamp("us", tz="UTC")
        columns = {
            "filename": pa.DictionaryArray.from_arrays(pa.array(file_index), dictionary),
            "position": pa.array(
                np.arange(n, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
            ),
            "route": pa.array(~typed),
            # typed by pipeline/plain.py, with these two times (the splitter's strict parse)
            "plain": pa.array((flags & _FLAG_PLAIN) != 0),
            "plain_event_time": pa.array(np.ascontiguousarray(times[:, 0])).cast(utc),
            "plain_creation_date": pa.array(
                np.ascontiguousarray(times[:, 1]), mask=times[:, 1] == _NO_TIME
            ).cast(utc),
            "shape": pa.DictionaryArray.from_arrays(
                pa.array((flags & _FLAG_REWRITE).astype(np.int32)), shapes
            ),
            "raw": pa.LargeStringArray.from_buffers(
                n, pa.py_buffer(c.offsets[: n + 1]), pa.py_buffer(c.data[: c.used])
            ),
            # the splitter's MD5 of a record typed from its fields (null for the others)
            "content_md5": pa.StringArray.from_buffers(
                n,
                pa.py_buffer(np.arange(0, 32 * (n + 1), 32, dtype=np.int32)),
                pa.py_buffer(c.hashes[:n]),
                pa.py_buffer(np.packbits(typed, bitorder="little")),
            ),
        }
        for (path, _), column in zip(FIELDS, c.columns, strict=True):
            columns[path] = column
        tables.append(pa.table(columns))
    # DuckDB scans an Arrow table a record batch per thread: one batch would type it on one
    table = pa.concat_tables(tables)
    return pa.Table.from_batches(table.to_batches(max_chunksize=_ROWS_PER_BATCH))


# --- a large single document, walked a block at a time (_scan.c's sts_walk) ------------------

# the shape of each record list sts_walk finds, as stg_raw_records names it
_LIST_SHAPES = {1: "records", 2: "lookup_events", 3: "array"}
_WALK_PROBLEMS = {
    1: "not valid JSON",
    2: "something follows the end of the document",
    3: "not a JSON array or object, or its Records or Events is not a list",
    4: "a second record list (Records or Events twice, or both)",
    5: "a key of a record (eventTime, detail, ...) at the document's root",
    6: "nested deeper than 1024 levels",
    7: "a key with an escape or a byte outside ASCII at the document's root",
    8: "a document without a record list among several",
    9: "a value larger than the largest DuckDB reads",
}
_INFO_SEG_START, _INFO_ERROR, _INFO_LIST, _INFO_ELEMENTS, _INFO_CLOSED = range(5)


class WalkError(Exception):
    """The document stopped being one to read by its list (`DocumentWalk.problem`), or ended
    before it closed."""


class DocumentWalk:
    """The elements of one document's record list (its root array, or the array under its
    root object's Records or Events key), found in blocks of the document fed in order, so
    the document is never held whole. Each element, and every other value at the root, is
    checked as strict JSON; anything DuckDB's read of the whole document might judge otherwise
    stops the walk (`problem`): the ingest then reads that document whole
    (`_scan.c`'s sts_walk). `limit`: the largest value carried from block to block."""

    def __init__(self, limit: int = 0) -> None:
        lib = _library()
        if lib is None:
            raise WalkError("the compiled splitter is not built")
        self._lib = lib
        self._state = ctypes.create_string_buffer(int(lib.walk_size()))
        lib.walk_init(self._state, limit)
        self._carry = b""

    def feed(self, block: bytes, *, texts: bool = True) -> list[bytes]:
        """The texts of the elements `block` completes, in order (none with `texts=False`):
        those before the place where the document stops being one (`problem`), and none once
        it has."""
        return [text for _, _, text in self.feed_numbered(block, texts=texts)]

    def feed_numbered(self, block: bytes, *, texts: bool = True) -> list[tuple[int, str, bytes]]:
        """`feed`, each element with its index in its own document and its list's shape
        (documents one after the other are walked one after the other)."""
        import numpy as np

        data = self._carry + block if self._carry else block
        room = len(block) // 2 + 2  # sts_walk's bound: a separator and a byte of each
        starts, ends, numbers, kinds = (np.empty(room, dtype=np.int64) for _ in range(4))
        got = int(
            self._lib.walk(
                self._state,
                data,
                len(data),
                len(self._carry),
                starts.ctypes.data,
                ends.ctypes.data,
                numbers.ctypes.data,
                kinds.ctypes.data,
            )
        )
        found = (
            [
                (number, _LIST_SHAPES[kind], data[a:b])
                for a, b, number, kind in zip(
                    starts[:got].tolist(),
                    ends[:got].tolist(),
                    numbers[:got].tolist(),
                    kinds[:got].tolist(),
                    strict=True,
                )
            ]
            if texts
            else []
        )
        open_at = self._info(_INFO_SEG_START)
        self._carry = data[open_at:] if open_at >= 0 else b""
        if open_at > 0:
            self._lib.walk_rebase(self._state, open_at)
        return found

    def _info(self, what: int) -> int:
        return int(self._lib.walk_info(self._state, what))

    @property
    def shape(self) -> str | None:
        """The (first) document's record list's shape (`records`, `lookup_events`, `array`),
        once it has opened."""
        return _LIST_SHAPES.get(self._info(_INFO_LIST))

    @property
    def elements(self) -> int:
        """The elements found so far."""
        return self._info(_INFO_ELEMENTS)

    @property
    def problem(self) -> str | None:
        """Where the document stopped being one to read by its list, if it has."""
        error = self._info(_INFO_ERROR)
        return _WALK_PROBLEMS.get(error, "not valid JSON") if error else None

    @property
    def closed(self) -> bool:
        """Whether the document's root has closed."""
        return bool(self._info(_INFO_CLOSED))

    def finish(self) -> None:
        """Raise WalkError unless the document closed, whole (all of it was fed)."""
        if self.problem is not None:
            raise WalkError(self.problem)
        if not self.closed:
            raise WalkError("the document ends before it closes (truncated)")
