"""A batch staged with the files DuckDB cannot read set aside, each with why it is quarantined.

`stage_isolating_bad_files` stages a batch through `pipeline.staging`. When DuckDB refuses the
batch, each file is read alone to find the bad ones; a file a copy mends is staged from the
copy instead (an NDJSON file's broken lines become rejected records, `slices.mend`; an escaped
lone UTF-16 surrogate or a gzip's zero padding is written out again), and files that read but
do not type are found a file at a time. A batch that runs out of memory stages its large files
alone, with more memory (`_stage_large`). A reason is DuckDB's first line, told in the user's
terms (`_describe_bad_file`), and names the source object, not its local copy (`source_named`).
"""

from __future__ import annotations

import re
import shutil
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline import config, queries, shapes, slices, sources, staging
from pipeline import lake as lakefs
from pipeline.ingest import uncompressed_size_cached


def stage_isolating_bad_files(
    con: duckdb.DuckDBPyConnection,
    local: dict[str, sources.SourceObject],
    salt: str,
    run_id: str,
    known: Mapping[str, slices.ValueLines],
    scratch: Path,
    before_typing: Callable[[], None],
) -> tuple[dict[str, str], list[pa.Table]]:
    """Stage a batch (its rows, as `staging.stage` gives them); files DuckDB cannot parse are set
    aside with the reason, except NDJSON files whose broken lines can be set aside instead
    (`slices.mend`): those are staged from a mended copy in `scratch`, each broken line a
    rejected record at its line.

    A large file (a delivery file of tens of MB: DuckDB parses a JSON document whole, with an
    arena of several times its size; a line of several MB) can run the batch out of memory:
    then the rest of the batch is staged without the large files, and each of them on its own
    with more memory (`_stage_large`). A batch of several files none of which is large that
    runs short has each file staged on its own that way."""
    job = _Staging(salt, run_id, known, scratch, local, before_typing=before_typing)
    try:
        return _stage_checked(con, local, job), job.rows
    except duckdb.OutOfMemoryException:
        job.rows.clear()  # what the batch typed before it ran short
        # the large files, else every file: many medium files can run a batch short too
        large = {p for p in local if uncompressed_size_cached(p) >= LARGE_DOCUMENT}
        if not large and len(local) == 1:
            raise
        large = large or set(local)
    rest = {p: obj for p, obj in local.items() if p not in large}
    if rest:
        bad = _stage_checked(con, rest, job)
    else:  # no rows, with their columns, for the large files to join
        job.rows.clear()
        staging.stage_files(con, [], None, salt, run_id, job.rows)
        bad = {}
    # each large file is staged (and checked: cut short, broken lines, ...) as a batch of its
    # own, then added to the batch's rows
    batch_rows = list(job.rows)
    for path in sorted(large):
        held = sum(table.nbytes for table in batch_rows)
        bad |= _stage_large(con, path, job, held)
        batch_rows += job.rows
    return bad, batch_rows


LARGE_DOCUMENT = 8 * 1024 * 1024  # bytes of JSON: a file staged alone after its batch ran short


@dataclass(frozen=True)
class _Staging:
    """What staging part of a batch needs besides its files: the salt and run id its records
    are typed with, the value lines of NDJSON slices (`known`), where mended copies go, and
    every file of the batch (`batch_files` keeps them all)."""

    salt: str
    run_id: str
    known: Mapping[str, slices.ValueLines]
    scratch: Path
    batch: dict[str, sources.SourceObject]
    rows: list[pa.Table] = field(default_factory=list)  # what `staging.stage` typed last
    # waits for the previous batch's rows to be written (`batch.Pending.wait`)
    before_typing: Callable[[], None] = lambda: None


def _stage_large(
    con: duckdb.DuckDBPyConnection, path: str, job: _Staging, held: int
) -> dict[str, str]:
    """Stage one large file alone under a memory limit sized for it (64x its JSON: a 20 MB
    record needs 800 MB; within 80% of the machine's memory, DuckDB's default, less the
    `held` bytes of the batch's rows already typed, which DuckDB does not count), its rows in
    `job.rows`; the reason it is set aside (too large even so, or bad)."""
    size = uncompressed_size_cached(path)
    limit = max(staging.BATCH_MEMORY, min(64 * size, _machine_memory() * 4 // 5 - held))
    try:
        with lakefs.memory_limit(con, f"{limit >> 20}MB"):
            bad = _stage_checked(con, {path: job.batch[path]}, job)
    except duckdb.OutOfMemoryException:
        job.rows.clear()
        return {
            path: f"a JSON document or line of {size >> 20} MiB, too large for this machine's "
            "memory (write it as NDJSON, one record a line, e.g. jq -c '.Records[]' or "
            "jq -c '.[]')"
        }
    return bad


_machine_memory = config.machine_memory  # a module name of its own: tests set a smaller machine


def _stage_checked(
    con: duckdb.DuckDBPyConnection, local: dict[str, sources.SourceObject], job: _Staging
) -> dict[str, str]:
    """`stage_isolating_bad_files` for `local`, the batch's files (`job.batch`) or part of
    them, when they fit in memory. `batch_files` keeps every file of the batch (the quarantine and
    the counts read it), plus the copies staged in place of some."""
    salt, run_id, known, scratch, rows = job.salt, job.run_id, job.known, job.scratch, job.rows
    paths = sorted(local)
    try:
        staging.stage(con, paths, salt, run_id, known, rows, job.before_typing)
        return {}
    except duckdb.Error as exc:
        if not _is_input_error(exc):
            raise
    bad: dict[str, str] = {}
    for path in paths:
        if (reason := _read_error(con, path, _isolation_buffer(path, known))) is not None:
            bad[path] = reason
    lines = dict(known)
    mended: dict[str, str] = {}  # mended copy -> the file it stands for
    for path in sorted(bad):
        copy = scratch / f"repaired-{len(mended):05d}.json"
        if _repaired_copy(Path(path), bad[path], copy):
            if path in known:
                lines[str(copy)] = known[path]
            if not _read_error(con, str(copy), _isolation_buffer(str(copy), lines)):
                mended[str(copy)] = path
                del bad[path]
                continue
            lines.pop(str(copy), None)
            copy.unlink(missing_ok=True)
        if path not in known and bad[path].startswith(_NOT_UTF8):
            # one document with records that are not UTF-8: those records are rejected, the
            # rest read (`slices.mend_document`)
            scratch.mkdir(parents=True, exist_ok=True)
            copy = scratch / f"mended-{len(mended):05d}.ndjson"
            found = _mended_document(con, Path(path), copy)
            if found is not None:
                mended[str(copy)] = path
                lines[str(copy)] = found
                del bad[path]
                continue
        if path not in known and shapes.is_delivery_name(path):
            continue  # one document, not lines: nothing to mend
        # any other file may be NDJSON whose first line is the broken one: `mend` declines
        # what is not (a pretty-printed document or an array a record a line has more broken
        # lines than records)
        scratch.mkdir(parents=True, exist_ok=True)
        copy = scratch / f"mended-{len(mended):05d}.ndjson"
        result = slices.mend(Path(path), copy)
        if result is None or _read_error(con, str(copy), staging.buffer_size(result[0].longest)):
            copy.unlink(missing_ok=True)
            continue
        value_lines, cut = result
        if path in known:
            # a slice: its lines are numbered as in the object it was cut from
            value_lines = slices.ValueLines(
                [known[path].numbers[n] for n in value_lines.numbers],
                value_lines.longest,
                known[path].unit,
            )
        mended[str(copy)] = path
        lines[str(copy)] = value_lines
        if cut is None:
            del bad[path]
        else:
            bad[path] = cut  # the lines before the cut are read; the file stays quarantined
    if mended:
        staging.register_files(
            con, job.batch | {copy: local[path] for copy, path in mended.items()}
        )
    mended_paths = set(mended.values())
    staged = [p for p in paths if p not in bad and p not in mended_paths] + sorted(mended)
    try:
        staging.stage(con, staged, salt, run_id, lines, rows, job.before_typing)
    except duckdb.Error as exc:
        if not _is_input_error(exc):
            raise
        # every file reads, yet the batch does not type: a record this version of sts-audit
        # cannot handle. Set aside the file(s) it is in, named, rather than stop the run
        untyped = _untyped_files(con, staged, salt, run_id, lines)
        for path, reason in untyped.items():
            bad[mended.get(path, path)] = reason
        remaining = [p for p in staged if p not in untyped]
        staging.stage(con, remaining, salt, run_id, lines, rows, job.before_typing)
    return bad


def _untyped_files(
    con: duckdb.DuckDBPyConnection,
    paths: list[str],
    salt: str,
    run_id: str,
    lines: Mapping[str, slices.ValueLines],
) -> dict[str, str]:
    """The files of `paths` that cannot be staged on their own, with the reason (a file at a
    time: only after a batch failed to stage)."""
    untyped: dict[str, str] = {}
    for path in paths:
        try:
            staging.stage(con, [path], salt, run_id, lines, [])
        except duckdb.Error as exc:
            if not _is_input_error(exc):
                raise
            # DuckDB quotes the start of the input: not in the lake (a token could be there)
            reason = re.sub(r"\s*Input: .*$", "", _clean_error(exc, path))
            untyped[path] = (
                f"a record sts-audit cannot type ({reason}); please report it with this reason"
            )
    return untyped


def _read_error(con: duckdb.DuckDBPyConnection, path: str, buffer: int) -> str | None:
    """Why DuckDB cannot read `path` on its own, or None when it can."""
    try:
        sql = queries.with_cte(
            queries.body("ingest/stg_documents"), "documents", "ingest/stg_raw_records"
        )
        con.execute(
            f"SELECT count(*) FROM ({sql})",
            {"files": [lakefs.glob_escape(path)], "max_object_size": buffer, "mark": slices.MARK},
        ).fetchall()
    except duckdb.Error as exc:
        if not _is_input_error(exc):
            raise
        return _describe_bad_file(exc, path)
    return None


def _isolation_buffer(path: str, known: Mapping[str, slices.ValueLines]) -> int:
    """The JSON buffer for reading one file alone: its longest line when it is NDJSON."""
    if path in known:
        return staging.buffer_size(known[path].longest)
    if not shapes.is_delivery_name(path) and shapes.is_multi_document(Path(path)):
        return staging.buffer_size(slices.value_lines(Path(path)).longest)
    return staging.max_object_size([path])


def _is_input_error(exc: duckdb.Error) -> bool:
    """Errors caused by a file's content (so isolate the file), not by resources, nor by a
    statement of ours DuckDB cannot bind (found before any input is read: taken for the
    input's, it quarantined every file of the run)."""
    return not isinstance(
        exc,
        duckdb.OutOfMemoryException
        | duckdb.InterruptException
        | duckdb.ParserException
        | duckdb.BinderException
        | duckdb.CatalogException,
    )


_GZIP_PROBLEM = "truncated or corrupt gzip"
_NOT_UTF8 = "not UTF-8 text"


def _mended_document(
    con: duckdb.DuckDBPyConnection, path: Path, copy: Path
) -> slices.ValueLines | None:
    """The value lines of `copy`, `path`'s document written an element a line with its
    elements that are not UTF-8 as unreadable lines (`slices.mend_document`), once DuckDB reads
    it; None (and no copy) when it cannot be mended so."""
    held: list[bytes] = []
    size = 0
    try:
        for piece in shapes.pieces(path):
            size += len(piece)
            if size > slices.MEND_DOCUMENT_MAX:  # not held whole to find out
                return None
            held.append(piece)
    except (OSError, EOFError, zlib.error):
        return None
    found = slices.mend_document(b"".join(held), copy)
    if found is None or _read_error(con, str(copy), staging.buffer_size(found.longest)):
        copy.unlink(missing_ok=True)
        return None
    return found


def _repaired_copy(path: Path, reason: str, copy: Path) -> bool:
    """Write to `copy` the text of a file DuckDB refused for a reason a copy mends; False for
    any other reason. An escaped lone UTF-16 surrogate in a logged value (JSON allows it,
    DuckDB does not) is written as U+FFFD; a gzip with zero padding after its last member
    (tape and block-device copies: DuckDB's reader stops at it) is written out whole when
    Python reads it to the end (not when it is cut short); a text in UTF-16 or UTF-32 is
    written in UTF-8 (`shapes.utf8_copy`)."""
    import gzip

    copy.parent.mkdir(parents=True, exist_ok=True)
    if shapes.utf8_copy(path, copy):  # DuckDB names UTF-16 only when it has a byte-order mark
        return True
    if "surrogate" in reason:
        copy.write_bytes(slices.replace_lone_surrogates(b"".join(shapes.pieces(path))))
        return True
    if not reason.startswith(_GZIP_PROBLEM):
        return False
    try:
        with gzip.open(path) as src, copy.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    except (OSError, EOFError, zlib.error):
        copy.unlink(missing_ok=True)
        return False
    return True


def _describe_bad_file(exc: Exception, path: str) -> str:
    message = _clean_error(exc, path)
    lowered = message.lower()
    if "gzip" in lowered or "compress" in lowered or "zlib" in lowered:
        return f"{_GZIP_PROBLEM}: {message}"
    if "maximum_object_size" in lowered or "maximum object size" in lowered:
        return (
            f"a JSON value larger than {staging.MAX_OBJECT_SIZE >> 20} MiB (write it as "
            f"NDJSON, one record a line, e.g. jq -c '.Records[]' or jq -c '.[]'): {message}"
        )
    if "utf-8" in lowered or "utf-16" in lowered or "unicode" in lowered:
        return f"{_NOT_UTF8}: {message}"
    return f"not valid JSON: {message}"


def source_named(reason: str, path: str, local: Mapping[str, sources.SourceObject]) -> str:
    """`reason` with the local file `path` (a download, a link named for DuckDB) written as
    the source object's uri."""
    obj = local.get(path)
    if obj is None or obj.uri == path:
        return reason
    for form in sorted({path, lakefs.glob_escape(path)}, key=len, reverse=True):
        reason = reason.replace(_breaks_escaped(form), _breaks_escaped(obj.uri))
    return reason


def _breaks_escaped(name: str) -> str:
    """A file name as a reason quotes it: line breaks written `\\r`, `\\n`."""
    return name.replace("\r", "\\r").replace("\n", "\\n")


def _clean_error(exc: Exception, path: str | None = None) -> str:
    """DuckDB's first line, without its class name. DuckDB quotes `path` (as it was handed:
    glob-escaped): its line breaks are written as `\\n` first, or the reason would stop at a
    file name's newline."""
    text = str(exc)
    if path is not None:
        for form in {path, lakefs.glob_escape(path)}:
            text = text.replace(form, _breaks_escaped(form))
    text = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    text = re.sub(r"^[A-Za-z ]+Error:\s*", "", text)
    return text[:300]
