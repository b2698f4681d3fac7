"""One ingest batch in DuckDB: read and type its files, drop what the lake holds, write, commit.

`pipeline.staging` reads and types the batch's files (each statement returns its rows as
Arrow; this module registers them together as `staged`) and `pipeline.badfiles` sets aside the
files DuckDB cannot read; this module drops the records the lake holds, writes one Parquet file
per (event_date, recipient_account_id) with pyarrow (`pipeline.partitions`) and the quarantine
(`pipeline.quarantine`), and commits the batch atomically (`pipeline.lakewriter`).
`pipeline.ingest` plans the batches from the run's catalog, which lives in the same
connection (`pipeline.catalog`); an object larger than a batch is read a slice at a time
(`pipeline.slicing`), each slice staged and written here as a batch of its own.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from pipeline import (
    badfiles,
    lakewriter,
    manifest,
    partitions,
    quarantine,
    queries,
    slices,
    sources,
    staging,
)
from pipeline import lake as lakefs
from pipeline.errors import LakeError
from pipeline.ingest import Batch, IngestSummary


@dataclass
class _Staged:
    """What one staged batch left to commit: its folder, unreadable files, per-file counts,
    and, for a batch written in the background, the write and the rows it must write."""

    folder: Path
    bad: dict[str, str]
    per_file: dict[str, tuple[int, int, bool]]
    writing: Future[int] | None = None
    stored: int = 0


@dataclass
class Pending:
    """A batch whose new rows are being written in the background (`ingest_batch`), committed
    by `finish` once they are: the next batch is split meanwhile, `wait`s for the write before
    it types its rows, and finishes this one before its dedupe looks at the lake."""

    lake: Path
    name: str
    staged: _Staged
    entries: list[manifest.ManifestEntry]
    done: bool = False
    written: int | None = None

    def wait(self) -> None:
        """Wait for the rows to be written (not committed)."""
        if self.written is None:
            writing = self.staged.writing
            self.written = writing.result() if writing is not None else 0

    def finish(self, summary: IngestSummary) -> None:
        """Wait for the rows, check them, commit the batch with its manifest entries."""
        if self.done:
            return
        self.done = True
        self.wait()
        _check_written(self.name, self.written or 0, self.staged.stored)
        commit(self.lake, self.name, self.staged.folder, self.entries, summary)

    def abandon(self) -> None:
        """After a failure elsewhere: let the write end, commit nothing (the next run's
        recovery removes the batch's folder and reads its files again)."""
        if not self.done:
            self.done = True
            with contextlib.suppress(Exception):
                self.wait()


def stage_and_write(
    con: duckdb.DuckDBPyConnection,
    lake: Path,
    name: str,
    local: dict[str, sources.SourceObject],
    salt: str,
    run_id: str,
    summary: IngestSummary,
    known: Mapping[str, slices.ValueLines],
    quarantine_to: Path | None = None,
    previous: Pending | None = None,
    background: bool = False,
) -> _Staged:
    """Stage `local`'s files, keep the records the lake does not hold, write them and the
    quarantine under the batch's staging folder (the quarantine under `quarantine_to` when
    given), and count the records in `summary`. `previous`, a batch still being written, is
    finished (committed) once this one is staged, before the dedupe reads the lake; with
    `background`, the rows are written by a thread (`_Staged.writing`)."""
    staging.register_files(con, local)
    scratch = lakewriter.state_dir(lake) / "downloads" / run_id / f"mended-{name}"
    try:
        # the previous batch's rows are on disk before this one's are typed: never two
        # batches' rows in memory at once (its write overlaps this one's split)
        waited = previous.wait if previous is not None else lambda: None
        bad, rows = badfiles.stage_isolating_bad_files(
            con, local, salt, run_id, known, scratch, waited
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # `rows` hold what the copies held
    table = _publish(con, rows)
    # fetchall, not fetchone: DuckDB 2 refuses con.register() while a result is unfinished
    row = queries.run(con, "ingest/stg_batch_counts").fetchall()[0]
    assert row is not None
    read, rejected, insight, control, other_stream, min_date, max_date = row
    # rejected records an earlier run quarantined: duplicates, not rejected (and kept) again
    rejected = int(rejected or 0) - quarantine.requarantined(con, lake, bool(rejected))
    accounts = _batch_accounts(con)
    if previous is not None:
        previous.finish(summary)  # its rows are in the lake before this batch's dedupe
    # only the partitions the batch can touch: the dedupe looks nothing else up
    touched = (
        lakefs.partition_files(lake, min_date, max_date, accounts)
        if min_date is not None and max_date is not None
        else []
    )
    lakefs.attach_events(con, lake, files=touched)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lake_keys AS " + queries.load("ingest/stg_lake_keys"),
        {"min_date": min_date, "max_date": max_date, "accounts": accounts},
    )
    con.execute("CREATE OR REPLACE TEMP TABLE fresh AS " + queries.load("ingest/stg_fresh_events"))
    conflicts_row = queries.run(con, "ingest/stg_conflicts").fetchall()[0]
    assert conflicts_row is not None
    if conflicts_row[0]:
        window = {"min_date": min_date, "max_date": max_date, "accounts": accounts}
        if _drop_reordered_copies(con, window):
            conflicts_row = queries.run(con, "ingest/stg_conflicts").fetchall()[0]
            assert conflicts_row is not None
    stored_row = con.execute("SELECT count(*) FROM fresh").fetchall()[0]
    assert stored_row is not None
    stored = int(stored_row[0])

    staged_dir = lakewriter.staging_dir(lake, name)
    # a slice that cannot be read is quarantined under the object, naming its lines; DuckDB's
    # reason names the file it read, a download or a link of ours: name the source instead
    bad = {
        p: f"{known[p].describe()}: {why}" if p in known else badfiles.source_named(why, p, local)
        for p, why in bad.items()
    }
    quarantine_rows = quarantine.build(con, bad, run_id)
    if quarantine_rows:
        qdir = (quarantine_to or staged_dir / lakefs.QUARANTINE_DIR) / f"ingest_run={run_id}"
        qdir.mkdir(parents=True, exist_ok=True)
        quarantine.write_parquet(con, "quarantine_out", qdir / f"part-{name}.parquet")
    per_file = _per_file_counts(con)

    summary.batches += 1
    summary.records_read += int(read or 0)
    summary.records_rejected += int(rejected or 0)
    summary.records_skipped_insight += int(insight or 0)
    summary.records_skipped_control += int(control or 0)
    summary.records_skipped_other_stream += int(other_stream or 0)
    summary.records_stored += stored
    summary.records_duplicate += int(read or 0) - int(rejected or 0) - stored
    summary.conflicts += int(conflicts_row[0])

    target = staged_dir / lakefs.EVENTS_DIR
    rows_of = _partition_rows(con) if stored else []
    con.unregister("staged")  # the writes hold the rows they need
    if stored and background:
        # the rows are written by a thread while the next batch's files are split
        writer = ThreadPoolExecutor(max_workers=1)
        writing = writer.submit(partitions.write, table, rows_of, target, name)
        writer.shutdown(wait=False)
        return _Staged(staged_dir, bad, per_file, writing, stored)
    if stored:
        _check_written(name, partitions.write(table, rows_of, target, name), stored)
    return _Staged(staged_dir, bad, per_file)


def _drop_reordered_copies(con: duckdb.DuckDBPyConnection, window: dict[str, object]) -> int:
    """Drop from `fresh` each new record whose content equals, keys in any order, that of an
    earlier record of its eventID, in the lake or earlier in the batch (`stg_conflict_texts`):
    the same event re-serialized by another tool is a duplicate, not a conflict. Only the
    batch's conflicts are compared; returns how many were dropped."""
    rows = queries.run(con, "ingest/stg_conflict_texts", window).fetchall()
    seen: dict[str, set[bytes]] = {}
    dropped: list[int] = []
    for event_id, staged_row, raw, *_ in rows:
        try:
            text = orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS)
        except (orjson.JSONDecodeError, TypeError):
            continue  # no text to compare (never for a stored record)
        contents = seen.setdefault(event_id, set())
        if staged_row is not None and text in contents:
            dropped.append(int(staged_row))
        contents.add(text)
    if dropped:
        rows_sql = "DELETE FROM fresh WHERE staged_row IN (SELECT unnest($rows))"
        con.execute(rows_sql, {"rows": dropped})
    return len(dropped)


def _partition_rows(
    con: duckdb.DuckDBPyConnection,
) -> list[partitions.Partition]:
    """`stg_partition_rows`: each partition with its rows as one int64 array, read from Arrow
    (not a Python int for every new row of the batch)."""
    table = con.sql(queries.load("ingest/stg_partition_rows")).to_arrow_table()
    rows = table.column("staged_rows").combine_chunks()
    offsets, values = rows.offsets.to_numpy(), rows.values.to_numpy()
    keys = zip(
        table.column("event_date").to_pylist(),
        table.column("recipient_account_id").to_pylist(),
        strict=True,
    )
    return [
        (event_date, account, values[offsets[i] : offsets[i + 1]])
        for i, (event_date, account) in enumerate(keys)
    ]


def _publish(con: duckdb.DuckDBPyConnection, rows: list[pa.Table]) -> pa.Table:
    """The batch's typed rows as one Arrow table, numbered in order (`staged_row`: JSON
    documents written one after the other have no line, so two of their records can share
    file, line and position), registered as DuckDB's `staged`.

    An Arrow table, not a DuckDB table: copying a batch's 100 columns into one cost as much
    as typing them, and its Parquet writes read them again (bench/LIMITS.md)."""
    table = pa.concat_tables(rows)
    numbers = pa.array(np.arange(table.num_rows, dtype=np.int64))
    table = table.append_column("staged_row", numbers)
    con.register("staged", table)
    return table


def _check_written(name: str, written: int, stored: int) -> None:
    """The summary's counts would not describe the lake: stop before the batch is committed."""
    if written != stored:
        raise LakeError(
            f"batch {name}: wrote {written} rows for {stored} new records",
            fix="nothing was committed; report this with the input files of the batch",
        )


def commit(
    lake: Path,
    name: str,
    staged: Path,
    entries: list[manifest.ManifestEntry],
    summary: IngestSummary,
) -> None:
    """Commit the batch staged under `staged` with its manifest `entries`; count its files."""
    written = lakewriter.commit_batch(lake, name, staged, entries)
    summary.data_files_written += sum(1 for p in written if lakefs.EVENTS_DIR in p.parts)


def manifest_entry(
    obj: sources.SourceObject, run_id: str, records: int, rejected: int, status: str
) -> manifest.ManifestEntry:
    """`obj`'s manifest entry for this run: its counts and status (a skipped file, a digest)."""
    return manifest.ManifestEntry(
        uri=obj.uri,
        size=obj.size,
        version=obj.version,
        kind="digest" if status == "skipped" else obj.kind,
        run=run_id,
        records=records,
        rejected=rejected,
        status=status,
    )


def ingest_batch(
    con: duckdb.DuckDBPyConnection,
    lake: Path,
    batch: Batch,
    local_paths: dict[str, Path],
    salt: str,
    run_id: str,
    summary: IngestSummary,
    previous: Pending | None = None,
) -> Pending:
    """Ingest one batch of whole objects: staged and deduped here, its rows written in the
    background; `finish` the batch returned (or pass it as the next one's `previous`) to
    commit it with its manifest entries."""
    local = {str(local_paths[o.uri]): o for o in batch.objects}
    staged = stage_and_write(
        con,
        lake,
        batch.name,
        local,
        salt,
        run_id,
        summary,
        {},
        previous=previous,
        background=True,
    )
    entries = []
    digests = 0
    for path, obj in local.items():
        records, file_rejected, digest = staged.per_file.get(obj.uri, (0, 0, False))
        status = "quarantined" if path in staged.bad else "skipped" if digest else "ingested"
        digests += digest
        entries.append(manifest_entry(obj, run_id, records, file_rejected, status))

    summary.files_read += len(local) - len(staged.bad) - digests
    summary.files_skipped_digest += digests
    summary.files_quarantined += len(staged.bad)
    summary.quarantined_files += [local[p].uri for p in sorted(staged.bad)]
    return Pending(lake, batch.name, staged, entries)


def _batch_accounts(con: duckdb.DuckDBPyConnection) -> list[str] | None:
    """The accounts whose partitions may already hold the batch's records; None (every
    account) when a record has no recipientAccountId: its partition came from the path or the
    caller, so the same record read from another shape or folder sits under another account."""
    rows = con.execute(
        "SELECT DISTINCT recipient_account_id, recipient_guessed FROM staged"
        " WHERE reject_reason IS NULL"
    ).fetchall()
    if any(guessed for _, guessed in rows):
        return None
    return sorted({str(account) for account, _ in rows})


def _per_file_counts(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int, bool]]:
    rows = queries.run(con, "ingest/stg_file_counts").fetchall()
    return {uri: (int(n), int(r), bool(digest)) for uri, n, r, digest in rows}
