"""`sts-audit ingest`: CloudTrail JSON (local or S3) into the Parquet lake, losing nothing.

This module decides what to read: it streams the sources' listing into the run's catalog
(`pipeline.catalog`, DuckDB tables compared with the manifest, so memory does not grow with the
archive), counts what is unchanged and the digest and Insight files, and plans batches by
uncompressed size in uri order. `pipeline.batch` reads, types and writes each batch with DuckDB
SQL (`sql/ingest/`) and commits it atomically.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import secrets
import shlex
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import (
    firehose,
    lakewriter,
    layout,
    listings,
    local_files,
    manifest,
    s3client,
    s3listing,
    sources,
    unreadable,
)
from pipeline.errors import (
    INGEST_OUT_OF_MEMORY,
    LakeError,
    SourceObjectUnreadable,
    StrictIngestError,
)

if TYPE_CHECKING:
    import duckdb
    from mypy_boto3_s3 import S3Client

# A batch is read by one DuckDB scan: large enough for few, big Parquet files, small enough
# for the memory bound. Sizes are uncompressed estimates.
DEFAULT_BATCH_BYTES = 48 * 1024 * 1024
GZIP_RATIO = 10
GZIP_MAX_RATIO = 1032  # deflate's maximum compression ratio
GZIP_MAGIC = b"\x1f\x8b"  # the first two bytes of every gzip member


@dataclass
class IngestSummary:
    """What one ingest run did; `records_read == stored + duplicate + rejected` always."""

    run_id: str
    lake: str
    files_seen: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    files_skipped_digest: int = 0
    files_skipped_insight: int = 0
    files_skipped_other: int = 0
    # the first LEFT_OUT_NAMED of them: not a name the ingest reads (`.json.zst`, `.txt`, ...)
    skipped_other: list[str] = field(default_factory=list)
    files_quarantined: int = 0
    files_unreadable: int = 0
    folders_unreadable: int = 0
    # files and folders under the sources the walk leaves out by name or type, by design (a
    # hidden name; on disk, a symbolic link to a folder, a pipe, a dangling link); the first
    # LEFT_OUT_NAMED of them as "path: reason"
    files_left_out: int = 0
    left_out: list[str] = field(default_factory=list)
    records_read: int = 0
    records_stored: int = 0
    records_duplicate: int = 0
    records_rejected: int = 0
    records_skipped_insight: int = 0
    # CloudWatch Logs subscription keep-alives (CONTROL_MESSAGE): no record in them
    records_skipped_control: int = 0
    # log events of CloudWatch Logs payloads from a log stream that is no trail's
    records_skipped_other_stream: int = 0
    conflicts: int = 0
    batches: int = 0
    data_files_written: int = 0
    recovered_batches: int = 0
    # --since: the first delivery day listed (ISO date)
    since: str | None = None
    # the day a source was last listed, when --since starts after it (files may be left out)
    since_gap_from: str | None = None
    seconds: float = 0.0
    quarantined_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        """read = stored + duplicate + rejected."""
        return self.records_read == (
            self.records_stored + self.records_duplicate + self.records_rejected
        )

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form, with the reconciliation check."""
        data = asdict(self)
        data["reconciles"] = self.reconciles
        return data


@dataclass
class Batch:
    name: str
    objects: list[sources.SourceObject]


def new_run_id() -> str:
    """A sortable, unique run id: UTC time to the microsecond plus randomness. Two runs in one
    second sort in their order (the quarantine listing compares runs); the microseconds follow
    the seconds, so ids of earlier versions (seconds only) still sort among them."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + secrets.token_hex(3)


def _estimated_bytes(obj: sources.SourceObject) -> int:
    """Uncompressed size: exact from the gzip trailer for local files, estimated for S3 and
    for Firehose's objects (gzip members one after the other: the trailer sizes the last)."""
    if not obj.compressed:
        return obj.size
    if s3client.is_s3_url(obj.uri):
        return obj.size * GZIP_RATIO
    if layout.is_firehose_name(obj.uri):
        return obj.size * GZIP_RATIO if is_gzip_cached(obj.uri) else obj.size
    return uncompressed_size_cached(obj.uri)


def plan_batches(
    objects: Iterable[sources.SourceObject], run_id: str, batch_bytes: int
) -> Iterator[Batch]:
    """Group objects (in their sorted order, so neighbours share partitions) into batches,
    one batch at a time: the objects are consumed as the batches are."""
    current: list[sources.SourceObject] = []
    size = 0
    count = 0
    for obj in objects:
        estimate = _estimated_bytes(obj)
        if current and size + estimate > batch_bytes:
            yield Batch(f"{run_id}-b{count:05d}", current)
            count += 1
            current, size = [], 0
        current.append(obj)
        size += estimate
    if current:
        yield Batch(f"{run_id}-b{count:05d}", current)


def uncompressed_size_cached(path: str) -> int:
    """uncompressed_size, read once per file version (planning and the JSON buffer both ask)."""
    return _facts(path)[1]


def is_gzip_cached(path: str) -> bool:
    """Whether a local file's content is gzip (its first two bytes), read once per version."""
    return _facts(path)[0]


def _facts(path: str) -> tuple[bool, int]:
    stat = os.stat(path)  # noqa: PTH116 (pathlib parsing the path cost as much as the stat)
    return _facts_of_version(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=65536)
def _facts_of_version(path: str, size: int, mtime_ns: int) -> tuple[bool, int]:
    """Whether the file is gzip, and its size once gunzipped (the ISIZE trailer; modulo 4 GiB,
    fine for logs). Two positioned reads, no file object: planning asks this of every file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        if size < 2 or os.pread(fd, 2, 0) != GZIP_MAGIC:
            return False, size
        if size < 18:  # cut short before its trailer: read as gzip, DuckDB names the problem
            return True, size
        isize = int.from_bytes(os.pread(fd, 4, size - 4), "little")
    finally:
        os.close(fd)
    # A truncated file's last bytes are not a size: deflate expands at most 1032:1, so cap it
    # (an absurd ISIZE made the batch's JSON buffers exceed DuckDB's memory limit).
    return True, min(isize, size * GZIP_MAX_RATIO)


ProgressCallback = Callable[[int], None]


def ingest(
    source_specs: Sequence[str],
    lake: Path,
    *,
    endpoint_url: str | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    progress: Callable[[int], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
    since: dt.date | None = None,
) -> IngestSummary:
    """Ingest every new source object into the lake and return the reconciled summary.

    `since` leaves out a trail's day folders delivered before that day (`sources.stream`)."""
    # a mistyped local source, or S3 without credentials or bucket, fails before the lake's
    # folders are made for it
    s3 = None
    for spec in source_specs:
        if not s3client.is_s3_url(spec):
            local_files.local_root(spec)
            continue
        s3 = s3 or s3client.make_s3_client(endpoint_url=endpoint_url)
        s3listing.check_s3(spec, s3)
    import duckdb

    try:
        with lakewriter.lock(lake):
            return _ingest(
                source_specs,
                lake,
                s3=s3,
                batch_bytes=batch_bytes,
                progress=progress,
                on_plan=on_plan,
                since=since,
            )
    except (duckdb.OutOfMemoryException, MemoryError) as exc:
        # the CLI's advice depends on where memory ran out (`ingest` or `run`'s ingest step):
        # ingest works under limits of its own, which no setting changes. Python's own
        # MemoryError too (a container's limit reached outside DuckDB)
        exc.add_note(INGEST_OUT_OF_MEMORY)
        raise


def _ingest(
    source_specs: Sequence[str],
    lake: Path,
    *,
    s3: S3Client | None,
    batch_bytes: int,
    progress: Callable[[int], None] | None,
    on_plan: Callable[[int], None] | None,
    since: dt.date | None,
) -> IngestSummary:
    started = time.perf_counter()
    run_id = new_run_id()
    summary = IngestSummary(
        run_id=run_id, lake=str(lake), since=since.isoformat() if since is not None else None
    )
    lakewriter.init_lake(lake)
    summary.recovered_batches = lakewriter.recover(lake)
    salt = lakewriter.token_salt(lake)

    from pipeline import batch as batch_mod
    from pipeline import catalog, slicing, staging
    from pipeline import lake as lakefs

    state = lakewriter.state_dir(lake)
    listed_at = listings.now()
    gap = listings.gap_start(state, source_specs, since) if since is not None else None
    if gap is not None:
        summary.since_gap_from = gap.isoformat()
        summary.warnings.append(
            f"the sources were last listed into this lake on {gap}: files delivered after that "
            f"may be in day folders before {since}, which --since {since} leaves out (missed "
            f"nights?); run once with --since {gap}"
        )
    con = staging.connect(lake)
    download_dir = state / "downloads" / run_id
    pending: batch_mod.Pending | None = None  # the batch being written, not yet committed
    try:
        with lakefs.memory_limit(con, catalog.MEMORY_LIMIT):
            listing = sources.stream(
                source_specs,
                s3=s3,
                since=since,
                on_unreadable=_unlisted(summary),
                on_left_out=_left_out(summary),
            )
            counts = catalog.build(con, listing, state, since)
            catalog.record_org_folders(con, state)
            if counts.digest + counts.insight + counts.other:
                catalog.write_skipped(con, state, f"{run_id}-skipped", run_id)
        summary.files_seen = counts.seen
        summary.files_unchanged = counts.unchanged
        summary.files_skipped_digest = counts.digest
        summary.files_skipped_insight = counts.insight
        summary.files_skipped_other = counts.other
        if counts.other:
            summary.skipped_other = catalog.skipped_other(con, LEFT_OUT_NAMED)
        # across batches: the downloads the run tried (read before: some objects are unchanged)
        skipped = unreadable.Unreadable(summary.warnings, read_before=counts.unchanged > 0)
        if on_plan:
            on_plan(counts.todo)
        for batch in plan_batches(_openable(catalog.todo(con), summary), run_id, batch_bytes):
            local_paths = dict(_fetch(batch.objects, download_dir, s3, summary, skipped))
            if len(local_paths) < len(batch.objects):  # gone or denied: not in the manifest
                batch = Batch(batch.name, [o for o in batch.objects if o.uri in local_paths])
                if not batch.objects:
                    continue
            local_paths = slicing.utf8_sources(batch, local_paths, download_dir, batch_bytes)
            if (unit := slicing.unit_of(batch, local_paths, batch_bytes)) is not None:
                # one large NDJSON export or JSON document: a slice of about a batch's size at
                # a time
                if pending is not None:
                    pending.finish(summary)
                    pending = None
                path = local_paths[batch.objects[0].uri]
                slicing.ingest_in_slices(
                    con, lake, batch, path, salt, run_id, summary, batch_bytes, unit
                )
            else:
                # its rows are written while the next batch is read, which commits it first
                pending = batch_mod.ingest_batch(
                    con, lake, batch, local_paths, salt, run_id, summary, pending
                )
            shutil.rmtree(download_dir, ignore_errors=True)
            if progress:
                progress(len(batch.objects))
        if pending is not None:
            pending.finish(summary)
            pending = None
        skipped.check_some_read()  # every S3 object denied: no s3:GetObject, not a few objects
        # a gap stays reported (and --strict fails) until a run closes it; a listing with a
        # folder it could not read is not a whole listing
        if gap is None and not summary.folders_unreadable:
            listings.record(state, source_specs, listed_at)
        # every batch is committed: fold the manifest's batch files once they are many
        if len(manifest.files(state)) >= manifest.COMPACT_AT:
            _fold_manifest(con, state, run_id, summary)
    finally:
        if pending is not None:  # a failure: the batch being written is not committed
            pending.abandon()
        con.close()
        shutil.rmtree(download_dir, ignore_errors=True)
        # a failure or Ctrl-C leaves the batches it staged (as large as a batch's Parquet):
        # nothing reads them again, the journal alone undoes a commit cut short
        shutil.rmtree(state / lakewriter.STAGING_DIR, ignore_errors=True)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _openable(
    objects: Iterable[sources.SourceObject], summary: IngestSummary
) -> Iterator[sources.SourceObject]:
    """The objects, less the local files that cannot be opened (a permission, a file removed
    since the listing): the file is not bad data, so it is not quarantined, and the run goes on
    without it. It has no manifest entry, so the next run tries it again; the summary names it
    and `--strict` fails on it."""
    for obj in objects:
        if not s3client.is_s3_url(obj.uri):
            try:
                _facts(obj.uri)
            except OSError as exc:
                summary.files_unreadable += 1
                summary.warnings.append(
                    f"{obj.uri}: cannot be opened ({exc.strerror or exc}); not read this run, "
                    "and read by the next run that lists it once it can be"
                )
                continue
        yield obj


LEFT_OUT_NAMED = 10


def _left_out(summary: IngestSummary) -> local_files.LeftOut:
    """Count (each path once) what a walk leaves out by name or type, and name the first few;
    a symbolic link to a folder, which may hold a whole archive, is also a warning."""
    told: set[str] = set()

    def note(path: str, reason: str) -> None:
        if path in told:
            return
        told.add(path)
        summary.files_left_out += 1
        shown = local_files.printable(path)
        if len(summary.left_out) < LEFT_OUT_NAMED:
            summary.left_out.append(f"{shown}: {reason}")
        if reason == local_files.FOLDER_LINK:
            summary.warnings.append(f"{shown}: {reason}; its files were not read")

    return note


def _unlisted(summary: IngestSummary) -> local_files.Unreadable:
    """What to do with what a walk of a source leaves out (a folder that cannot be listed, a
    name that is not UTF-8): as a file that cannot be opened (`_openable`), name it, go on
    without it, read it the next run that can."""

    def skip(path: str, reason: str, is_folder: bool) -> None:
        shown = local_files.printable(path)
        if reason == local_files.NOT_UTF8:
            warning = f"{shown}: {reason}; not read (rename it)"
        else:
            warning = (
                f"{shown}: folder cannot be listed ({reason}); its files were not read this "
                "run, and are read by the next run that can list it"
            )
        if is_folder:
            summary.folders_unreadable += 1
        else:
            summary.files_unreadable += 1
        summary.warnings.append(warning)

    return skip


def _fold_manifest(
    con: duckdb.DuckDBPyConnection, state: Path, run_id: str, summary: IngestSummary
) -> None:
    """Fold the manifest's batch files, or say why not: the run's batches are committed and
    the files stay valid as they are, so a fold that fails (disk full, a read-only folder) is
    left to the next run instead of failing this one."""
    import duckdb

    from pipeline import catalog

    steps = (
        (catalog.compact, "the manifest's batch files were not folded into one part"),
        (catalog.merge_parts, "the manifest's parts were not merged"),
    )
    for step, failed in steps:
        try:
            step(con, state, run_id)
        except LakeError as exc:  # names what to mend (a part that cannot be read)
            summary.warnings.append(f"{exc} (fix: {exc.fix})")
            return
        except (OSError, duckdb.Error) as exc:
            reason = " ".join(str(exc).split())[:300]
            summary.warnings.append(
                f"{failed} ({reason}); everything is committed and the next run tries again"
            )
            return


def check_strict(summary: IngestSummary) -> None:
    """For `--strict`: fail when anything was quarantined, could not be read, or may have been
    left out by --since."""
    if summary.since_gap_from is not None:
        raise StrictIngestError(
            f"--since leaves out day folders after the sources' last listing, on "
            f"{summary.since_gap_from} (run {summary.run_id})",
            fix=f"run once with --since {summary.since_gap_from}, or drop --strict",
        )
    if summary.files_unreadable or summary.folders_unreadable:
        what = [
            f"{count} {noun}(s) could not be {verb}"
            for count, noun, verb in (
                (summary.files_unreadable, "file", "opened"),
                (summary.folders_unreadable, "folder", "listed"),
            )
            if count
        ]
        raise StrictIngestError(
            f"{' and '.join(what)} and were not read (run {summary.run_id}; the summary's "
            "warnings say which and why)",
            fix="fix their permissions (of an S3 object: s3:GetObject, and kms:Decrypt on its "
            "SSE-KMS key): the next run reads them",
        )
    if summary.files_quarantined or summary.records_rejected:
        raise StrictIngestError(
            f"{summary.files_quarantined} file(s) and {summary.records_rejected} record(s) were "
            f"quarantined (run {summary.run_id})",
            fix=f"inspect them with `sts-audit quarantine --lake {shlex.quote(summary.lake)}`, "
            "or drop --strict",
        )


def _fetch(
    objects: Sequence[sources.SourceObject],
    dest: Path,
    s3: S3Client | None,
    summary: IngestSummary,
    skipped: unreadable.Unreadable,
) -> Iterator[tuple[str, Path]]:
    def skip(obj: sources.SourceObject, exc: SourceObjectUnreadable) -> None:
        # as a file that cannot be opened (`_openable`): named, left out, no manifest entry;
        # unless no object at all can be read (then it raises)
        summary.files_unreadable += 1
        skipped.skip(obj, exc)

    fetched = sources.fetch(objects, dest, s3=s3, on_unreadable=skip)
    for index, (obj, path) in enumerate(fetched):
        if s3client.is_s3_url(obj.uri):
            skipped.done()
        if layout.is_firehose_name(obj.uri):
            # payloads one after the other: one a line, so a large object is read in slices
            dest.mkdir(parents=True, exist_ok=True)
            lines = dest / f"firehose-{index:07d}-{sources.safe_file_name(path.name)}.ndjson"
            written = firehose.as_lines(path, lines)
            if written is not None:
                yield obj.uri, written
                continue
        yield obj.uri, readable_by_duckdb(path, dest, index)


def readable_by_duckdb(path: Path, dest: Path, index: int) -> Path:
    """`path`, or a link to it in `dest` named so DuckDB reads the file as it is: ending in
    `.gz` exactly when the content is gzip (DuckDB decompresses by the name: a gzip export named
    `.ndjson`, or text named `.json.gz`, was unreadable). Glob characters in names are escaped
    where paths are handed to DuckDB (`lake.glob_escape`)."""
    text = str(path)
    gzip = is_gzip_cached(text)
    if gzip == text.endswith(".gz"):
        return path
    dest.mkdir(parents=True, exist_ok=True)
    stem = sources.safe_file_name(path.name.removesuffix(".gz"))
    alias = dest / f"alias-{index:07d}-{stem}{'.gz' if gzip else ''}"
    alias.unlink(missing_ok=True)
    alias.symlink_to(path.resolve())
    return alias
