"""Split CloudTrail delivery files into record texts in compiled code (`pipeline/_scan.c`).

DuckDB's JSON read of a batch's delivery documents ran on one thread and cost as much as the
rest of staging; this does the same split from bytes gunzipped by zlib, on the batch's files side
by side. `split_files` returns, for the files it could split, one Arrow table in the shape of
`stg_raw_records` (so `stg_events` types them as it types DuckDB's), and the files it leaves to
DuckDB: any file that is not exactly `{"Records": [...]}` of valid JSON, or that the compiled
splitter is not built for (a machine without a C compiler at install time: the ingest is then
DuckDB's alone, as correct and slower).
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
from typing import Any

LIBRARY = Path(__file__).with_name("_scan.so")
# STS_AUDIT_SCAN=0 turns the splitter off (every file read by DuckDB), to compare the two
ENV_SWITCH = "STS_AUDIT_SCAN"
# records of a delivery file are about 1 KB; room for more is asked for when needed
_GUESS_RECORD_BYTES = 256
_THREADS = max(1, min(2, os.cpu_count() or 1))
_ROWS_PER_BATCH = 8192
# shapes stg_events knows: a record's text as DuckDB wrote it, or as the file wrote it (to be
# rewritten by DuckDB: blanks, escapes, numbers other than short integers)
SHAPE_AS_DUCKDB = "records"
SHAPE_AS_WRITTEN = "scanned"


@cache
def _library() -> Any:
    if os.environ.get(ENV_SWITCH, "1") == "0" or not LIBRARY.exists():
        return None
    try:
        lib = ctypes.CDLL(str(LIBRARY))
    except OSError:  # built for another machine: DuckDB reads everything
        return None
    fn = lib.sts_split
    fn.restype = ctypes.c_int64
    fn.argtypes = [
        ctypes.c_char_p,
        ctypes.c_int64,
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_int64,
    ]
    return fn


def available() -> bool:
    """Whether the compiled splitter is built and switched on."""
    return _library() is not None


@dataclass(frozen=True)
class Split:
    """One file's records: texts back to back (uint8), int64 offsets (count + 1), a flag byte
    per record (1: the text is as written, for DuckDB to rewrite). numpy arrays."""

    count: int
    data: Any
    offsets: Any
    flags: Any


def _read(path: str) -> bytes | None:
    raw = Path(path).read_bytes()
    if not path.endswith(".gz"):
        return raw
    try:
        # 16 + MAX_WBITS: gzip; a file of several gzip members, a truncated or corrupt one:
        # DuckDB's read decides what becomes of it
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(raw)
        if not d.eof or d.unused_data:
            return None
        return out
    except zlib.error:
        return None


def split_document(doc: bytes) -> Split | None:
    """Split one delivery document; None when DuckDB must read it."""
    import numpy as np

    fn = _library()
    if fn is None:
        return None
    reccap = len(doc) // _GUESS_RECORD_BYTES + 16
    out = np.empty(max(len(doc), 1), dtype=np.uint8)  # records are parts of the document
    for _ in range(2):
        offsets = np.empty(reccap + 1, dtype=np.int64)
        flags = np.empty(reccap, dtype=np.uint8)
        n = int(
            fn(
                doc,
                len(doc),
                out.ctypes.data,
                len(doc),
                offsets.ctypes.data,
                flags.ctypes.data,
                reccap,
            )
        )
        if n == -2:
            reccap = len(doc) // 2 + 16  # a record is at least `{}` and a comma
            continue
        if n < 0:
            return None
        return Split(n, out[: offsets[n]], offsets[: n + 1], flags[:n])
    return None


def _split_file(path: str) -> Split | None:
    doc = _read(path)
    return None if doc is None else split_document(doc)


def split_files(paths: Sequence[str]) -> tuple[Any, list[str]]:
    """The records of the files the splitter reads, as a pyarrow table shaped like
    `stg_raw_records` (filename, doc_index, shape, raw_text, read_problem, line, position), and
    the files left for DuckDB. The table is None when no file was split."""
    if not paths or _library() is None:
        return None, list(paths)
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        splits = list(pool.map(_split_file, paths))
    done = [(p, s) for p, s in zip(paths, splits, strict=True) if s is not None]
    left = [p for p, s in zip(paths, splits, strict=True) if s is None]
    if not done:
        return None, left
    return _table(done), left


def _table(done: list[tuple[str, Split]]) -> Any:
    import numpy as np
    import pyarrow as pa

    counts = np.array([s.count for _, s in done], dtype=np.int64)
    total = int(counts.sum())
    texts = pa.concat_arrays(
        [
            pa.LargeStringArray.from_buffers(s.count, pa.py_buffer(s.offsets), pa.py_buffer(s.data))
            for _, s in done
        ]
    )
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    file_index = np.repeat(np.arange(len(done), dtype=np.int32), counts)
    shape_index = np.concatenate([s.flags for _, s in done]).astype(np.int32)
    table = pa.table(
        {
            "filename": pa.DictionaryArray.from_arrays(
                pa.array(file_index), pa.array([p for p, _ in done], pa.string())
            ),
            "doc_index": pa.nulls(total, pa.int64()),
            "shape": pa.DictionaryArray.from_arrays(
                pa.array(shape_index), pa.array([SHAPE_AS_DUCKDB, SHAPE_AS_WRITTEN])
            ),
            "raw_text": texts,
            "read_problem": pa.nulls(total, pa.string()),
            "line": pa.nulls(total, pa.int64()),
            "position": pa.array(np.arange(total, dtype=np.int64) - starts),
        }
    )
    # DuckDB scans an Arrow table a record batch per thread: one batch would type it on one
    return pa.Table.from_batches(table.to_batches(max_chunksize=_ROWS_PER_BATCH))
