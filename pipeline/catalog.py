"""What an ingest run reads: the sources' listing compared with the manifest, held by DuckDB.

A year of an organization trail is millions of delivery files. Held as Python objects, the
listing and the manifest's keys cost 1-2.5 KB a file, so an ingest's memory grew with the
archive. Here both are tables of the ingest's DuckDB connection (memory-limited, spilling to
`_state/tmp`): the listing goes in a chunk at a time, one query (`sql/ingest/cat_objects.sql`)
compares it with the manifest files, and the work comes back in uri order a chunk at a time.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson
import polars as pl

from pipeline import lake as lakefs
from pipeline import manifest, queries
from pipeline.errors import LakeError
from pipeline.layout import SourceObject

CHUNK = 20_000  # objects converted and moved at a time
# The catalog's DuckDB memory while it is built, below the batches' limit: past it, DuckDB
# spills to the lake's temp folder, so a listing of millions of files costs disk, not memory.
MEMORY_LIMIT = "256MB"

# SourceObject's fields. Polars builds each chunk from the tuples (pyarrow's conversion of
# Python values imports pandas, a second of a rerun's start).
_LISTING = {
    "uri": pl.String,
    "size": pl.Int64,
    "version": pl.String,
    "kind": pl.String,
    "account_hint": pl.String,
    "org_id_hint": pl.String,
    "compressed": pl.Boolean,
}
_MANIFEST_COLUMNS = {"uri": "VARCHAR", "size": "BIGINT", "version": "VARCHAR", "kind": "VARCHAR"}
# Every field of pipeline.manifest.ManifestEntry, for a Parquet part of the manifest
_MANIFEST_ENTRY_COLUMNS = {
    **_MANIFEST_COLUMNS,
    "run": "VARCHAR",
    "records": "BIGINT",
    "rejected": "BIGINT",
    "status": "VARCHAR",
}


@dataclass(frozen=True)
class Counts:
    """What the sources list, against the manifest (`sql/ingest/cat_counts.sql`)."""

    seen: int
    unchanged: int
    todo: int
    digest: int
    insight: int
    other: int


def build(
    con: duckdb.DuckDBPyConnection,
    objects: Iterable[SourceObject],
    state_dir: Path,
    since: dt.date | None = None,
) -> Counts:
    """Load the listing into table `source_catalog`, marked against the committed manifest,
    and the new events objects into `source_todo`. `since` is the run's --since: the entries of
    the manifest's parts are read from it, or from the oldest day folder the listing reached
    anyway (a file named as a source), not from the start of the archive.

    Run it under `MEMORY_LIMIT` (`pipeline.lake.memory_limit`).
    """
    con.register("listing_chunk", _chunk([], 0))
    con.execute("CREATE OR REPLACE TABLE discovered AS SELECT * FROM listing_chunk")
    con.unregister("listing_chunk")
    _load_listing(con, objects)
    if since is not None and manifest.parts(state_dir):
        # an object listed although its day folder is older than --since (a file named as a
        # source, a symlink to one): its folded entry is read too
        _define_delivery_day(con)
        since = queries.run(con, "ingest/cat_listed_first_day", {"since": since}).fetchall()[0][0]
    load_committed(con, state_dir, since)
    con.execute("CREATE OR REPLACE TABLE source_catalog AS " + queries.load("ingest/cat_objects"))
    con.execute("CREATE OR REPLACE TABLE source_todo AS " + queries.load("ingest/cat_todo"))
    con.execute("DROP TABLE discovered")
    con.execute("DROP TABLE committed")
    row = queries.run(con, "ingest/cat_counts").fetchall()[0]
    return Counts(*(int(v) for v in row))


def _chunk(objects: list[SourceObject], first_seq: int) -> pl.DataFrame:
    frame = pl.DataFrame(objects, schema=_LISTING, orient="row")
    return frame.with_columns(seq=pl.int_range(first_seq, first_seq + len(objects), dtype=pl.Int64))


def _load_listing(con: duckdb.DuckDBPyConnection, objects: Iterable[SourceObject]) -> None:
    it = iter(objects)
    seq = 0
    while chunk := list(itertools.islice(it, CHUNK)):
        con.register("listing_chunk", _chunk(chunk, seq))
        con.execute("INSERT INTO discovered BY NAME SELECT * FROM listing_chunk")
        con.unregister("listing_chunk")
        seq += len(chunk)


def _manifest_globs(state_dir: Path) -> tuple[list[str], list[str]]:
    """The manifest's batch files and Parquet parts, as globs DuckDB reads literally."""
    files = [lakefs.glob_escape(str(p)) for p in manifest.files(state_dir)]
    parts = [lakefs.glob_escape(str(p)) for p in manifest.parts(state_dir)]
    return files, parts


def _insert_from_manifest(
    con: duckdb.DuckDBPyConnection, table: str, select: str, where: str, state_dir: Path
) -> None:
    """Insert into `table` the `select` columns of the manifest's entries (its batch files and
    Parquet parts) that pass `where`: a scan, nothing held but the rows kept."""
    files, parts = _manifest_globs(state_dir)
    if files:
        con.execute(
            f"INSERT INTO {table} SELECT {select} "
            f"FROM read_json($files, format = 'array', columns = $columns) {where}",
            {"files": files, "columns": _MANIFEST_ENTRY_COLUMNS},
        )
    if parts:
        con.execute(
            f"INSERT INTO {table} SELECT {select} FROM read_parquet($parts) {where}",
            {"parts": parts},
        )


def load_committed(
    con: duckdb.DuckDBPyConnection, state_dir: Path, since: dt.date | None = None
) -> None:
    """Table `committed`: the (uri, size, version, kind) of the manifest's entries, those of the
    batch files and, from its Parquet parts, those a listing from `since` can hold."""
    con.execute(
        "CREATE OR REPLACE TABLE committed "
        "(uri VARCHAR, size BIGINT, version VARCHAR, kind VARCHAR)"
    )
    files, parts = _manifest_globs(state_dir)
    try:
        if files:
            con.execute(
                "INSERT INTO committed SELECT uri, size, version, kind "
                "FROM read_json($files, format = 'array', columns = $columns)",
                {"files": files, "columns": _MANIFEST_COLUMNS},
            )
        if parts and since is None:
            con.execute(
                "INSERT INTO committed SELECT uri, size, version, kind FROM read_parquet($parts)",
                {"parts": parts},
            )
        elif parts:
            con.execute(
                "INSERT INTO committed " + queries.load("ingest/cat_committed_parts"),
                {"parts": parts, "since": since},
            )
    except duckdb.OutOfMemoryException:
        raise  # the machine's memory, not the manifest: the CLI gives its own advice
    except duckdb.Error as exc:
        folder = state_dir / manifest.MANIFEST_DIR
        raise LakeError(
            f"{folder}: the ingest manifest cannot be read ({str(exc).splitlines()[0]})",
            fix="restore the folder from a backup, or ingest into a new lake",
        ) from None


def load_runs(con: duckdb.DuckDBPyConnection, state_dir: Path) -> None:
    """Table `manifest_runs`: the (uri, run, status) of the manifest's entries for the uris of
    table `wanted_uris` (uri): which version of those objects each run read, and what became
    of it. The manifest is scanned, not held: a year of it is tens of millions of entries. An
    ingest may fold the manifest's files into a part meanwhile (it publishes the part before it
    removes the files): the files are listed again once."""
    for attempt in (1, 2):
        con.execute(
            "CREATE OR REPLACE TABLE manifest_runs (uri VARCHAR, run VARCHAR, status VARCHAR)"
        )
        try:
            _insert_from_manifest(
                con,
                "manifest_runs",
                "uri, run, status",
                "WHERE uri IN (SELECT uri FROM wanted_uris)",
                state_dir,
            )
            return
        except duckdb.IOException:
            if attempt == 2:
                raise


def record_org_folders(con: duckdb.DuckDBPyConnection, state_dir: Path) -> None:
    """Add the organization-trail folders of the run's listing (`source_catalog`,
    `sql/ingest/cat_org_folders.sql`) to `ORG_FOLDERS_FILE`, the analysis's evidence of
    membership. Written before any batch: an object listed is there, whether or not the run
    completes. A lake whose ingests did not keep the file yet starts it from its manifest."""
    listed = {
        (str(org), str(account))
        for org, account in con.execute(queries.load("ingest/cat_org_folders")).fetchall()
    }
    path = state_dir / lakefs.ORG_FOLDERS_FILE
    kept = path.is_file()
    known = set(org_folders(state_dir)) if kept else set(_manifest_org_folders(con, state_dir))
    if listed - known or not kept:
        manifest.write_atomic(path, orjson.dumps(sorted(known | listed)))


def _manifest_org_folders(con: duckdb.DuckDBPyConnection, state_dir: Path) -> list[tuple[str, str]]:
    """The organization-trail folders of every object the manifest holds (a scan, once; only
    the uris under an organization's folder are kept)."""
    con.execute("CREATE OR REPLACE TEMP TABLE manifest_uris (uri VARCHAR)")
    try:
        _insert_from_manifest(
            con, "manifest_uris", "uri", "WHERE uri LIKE '%AWSLogs/o-%'", state_dir
        )
        rows = con.execute(queries.load("ingest/cat_manifest_org_folders")).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS manifest_uris")
    return [(str(org_id), str(account)) for org_id, account in rows]


def org_folders(state_dir: Path) -> tuple[tuple[str, str], ...]:
    """The (org_id, account_id) of every organization-trail folder an ingest listed (none for
    a lake not ingested since they are kept: its stored records' folders still count)."""
    path = state_dir / lakefs.ORG_FOLDERS_FILE
    try:
        pairs = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return ()
    except (OSError, orjson.JSONDecodeError) as exc:
        raise LakeError(
            f"{path}: cannot be read ({exc})",
            fix="delete it; the next ingest writes it again from the manifest",
        ) from None
    return tuple((str(org), str(account)) for org, account in pairs)


def _define_delivery_day(con: duckdb.DuckDBPyConnection) -> None:
    """The `delivery_day(uri)` macro of the connection (`sql/ingest/cat_delivery_day.sql`)."""
    con.execute(queries.load("ingest/cat_delivery_day"))


def compact(con: duckdb.DuckDBPyConnection, state_dir: Path, name: str) -> int:
    """Fold the manifest's batch files into one Parquet part named `name`; returns how many.

    Only between batches (no batch half-committed: `lakewriter.recover` tells a committed
    batch by its file, and runs before any fold). The part is published before the files it
    holds are removed: a crash in between leaves entries twice, which the comparison with the
    listing (a semi-join) does not mind, and the next fold takes the files left."""
    files = manifest.files(state_dir)
    if not files:
        return 0
    path = manifest.part_path(state_dir, name)
    # a part a killed fold left half-written
    for stale in path.parent.glob(f".{manifest.PART_PREFIX}*.tmp"):
        stale.unlink(missing_ok=True)
    _define_delivery_day(con)
    _publish_part(
        con,
        "ingest/cat_manifest_part",
        {"files": [lakefs.glob_escape(str(p)) for p in files], "columns": _MANIFEST_ENTRY_COLUMNS},
        path,
    )
    for folded in files:
        folded.unlink()
    return len(files)


def merge_parts(con: duckdb.DuckDBPyConnection, state_dir: Path, name: str) -> int:
    """When the manifest has `MERGE_PARTS_AT` parts or more, merge the smaller half of them
    into one part (`cat_manifest_merge`), published before the parts it holds are removed;
    returns how many were merged. A part that cannot be read stops the merge: the error names
    it (`unreadable_part`)."""
    parts = manifest.parts(state_dir)
    if len(parts) < manifest.MERGE_PARTS_AT:
        return 0
    smaller = sorted(parts, key=lambda p: (p.stat().st_size, p.name))[: len(parts) // 2]
    try:
        _publish_part(
            con,
            "ingest/cat_manifest_merge",
            {"parts": [lakefs.glob_escape(str(p)) for p in smaller]},
            manifest.part_path(state_dir, f"{name}-merged"),
        )
    except duckdb.Error as exc:
        bad = unreadable_part(con, smaller)
        if bad is None:
            raise
        raise LakeError(
            f"{bad}: this part of the ingest manifest cannot be read "
            f"({str(exc).strip().splitlines()[0]})",
            fix="restore it from a backup; or remove it, and the files it lists are read "
            "again (their records are duplicates, stored once)",
        ) from None
    for merged in smaller:
        merged.unlink()
    return len(smaller)


def unreadable_part(con: duckdb.DuckDBPyConnection, parts: list[Path]) -> Path | None:
    """The first of `parts` whose entries cannot be read (its data pages, not only its
    footer), or None."""
    for part in parts:
        try:
            con.execute(
                f"SELECT count(*) FROM ({queries.body('ingest/cat_manifest_merge')})",
                {"parts": [lakefs.glob_escape(str(part))]},
            ).fetchall()
        except duckdb.Error:
            return part
    return None


def _publish_part(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, object], path: Path
) -> None:
    """Write the rows of `query` as the manifest part `path`: a hidden temp file, made durable
    and renamed into place; removed if anything fails on the way."""
    tmp = manifest.temp_path(path)
    try:
        con.execute(
            f"COPY ({queries.body(query)}) TO {lakefs.sql_literal(str(tmp))} "
            "(FORMAT parquet, COMPRESSION zstd)",
            params,
        )
        manifest.publish(tmp, path)
    except Exception:
        tmp.unlink(missing_ok=True)
        raise


def write_skipped(con: duckdb.DuckDBPyConnection, state_dir: Path, name: str, run: str) -> None:
    """Commit the manifest entries of the new objects the run skips, as manifest file `name`."""
    path = manifest.entry_path(state_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = manifest.temp_path(path)
    con.execute(
        f"COPY ({queries.body('ingest/cat_skipped')}) TO {lakefs.sql_literal(str(tmp))} "
        "(FORMAT json, ARRAY true)",
        {"run": run},
    )
    manifest.publish(tmp, path)


def skipped_other(con: duckdb.DuckDBPyConnection, limit: int) -> list[str]:
    """The first `limit` new objects the run skips for their names (kind `other`)."""
    rows = queries.run(con, "ingest/cat_skipped_other", {"limit": limit}).fetchall()
    return [str(uri) for (uri,) in rows]


def todo(con: duckdb.DuckDBPyConnection) -> Iterator[SourceObject]:
    """The new events objects in uri order, read a page at a time by short queries of their own
    (no result stays open while the batches run their statements on `con`)."""
    after = 0
    while rows := queries.run(
        con, "ingest/cat_todo_page", {"after": after, "size": CHUNK}
    ).fetchall():
        after += len(rows)
        for row in rows:
            yield SourceObject(*row)
