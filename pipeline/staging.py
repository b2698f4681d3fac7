"""A batch's files read and typed by DuckDB into Arrow tables, on the ingest's connection.

`sql/ingest/` does the reading (one parallel scan of the single-document files, one of the
NDJSON files), the typing and the token hashing; `stage` runs those statements for a batch's
files, each returning its rows as an Arrow table, once the compiled splitter (`pipeline.scan`)
has split the CloudTrail delivery files it reads (their plain records typed by pyarrow,
`pipeline.plain`). `connect` opens the ingest's connection with a batch's memory, and the JSON
buffer of each read is sized here. `pipeline.badfiles` stages a batch through `stage`, setting
aside the files DuckDB cannot read; `pipeline.batch` runs the rest of the batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipeline import lake as lakefs
from pipeline import plain, queries, scan, shapes, slices, sources
from pipeline.ingest import uncompressed_size_cached

MIN_OBJECT_SIZE = 1024 * 1024
MAX_OBJECT_SIZE = 256 * 1024 * 1024


BATCH_MEMORY = 640 << 20  # bytes
DUCKDB_MEMORY = f"{BATCH_MEMORY >> 20}MB"


def connect(lake: Path) -> duckdb.DuckDBPyConnection:
    """The ingest's DuckDB connection: a batch's memory, spilling into `lake.spill_dir`."""
    con = duckdb.connect()
    lakefs.configure(con, memory_limit=DUCKDB_MEMORY)
    con.execute(f"SET temp_directory = {lakefs.sql_literal(str(lakefs.spill_dir(lake)))}")
    con.execute("SET preserve_insertion_order = false")
    return con


def register_files(con: duckdb.DuckDBPyConnection, local: dict[str, sources.SourceObject]) -> None:
    """Table `batch_files`: each local file of the batch with its source uri and account hint."""
    # bound lists, not an Arrow table: building one from Python values imports pandas (0.8 s)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE batch_files AS SELECT unnest(cast($paths AS VARCHAR[])) AS "
        "local_path, unnest(cast($uris AS VARCHAR[])) AS source_uri, "
        "unnest(cast($hints AS VARCHAR[])) AS account_hint",
        {
            "paths": list(local),
            "uris": [o.uri for o in local.values()],
            "hints": [o.account_hint for o in local.values()],
        },
    )


def stage(
    con: duckdb.DuckDBPyConnection,
    paths: list[str],
    salt: str,
    run_id: str,
    known: Mapping[str, slices.ValueLines],
    rows: list[pa.Table],
    before_typing: Callable[[], None] = lambda: None,
) -> None:
    """Read and type one batch into `rows` (what it held before is dropped): an Arrow table per
    statement, in the order they ran (`batch._publish` makes them DuckDB's `staged`).
    `before_typing` runs once the delivery files are split, before any typing.

    Single-document files (delivery files, arrays, LookupEvents pages) go through one parallel
    scan; multi-document files (NDJSON) through a second, which numbers each value with its
    line in its own file (a statement per file cost about 0.1 s each: 400 small exports took
    38 s against 4 s for the same records in delivery files). `known` gives
    the value lines of NDJSON files whose lines are not their own (the slices of a large object,
    numbered as in the object).
    """
    # CloudTrail's own delivery files are one document each: skip the peek for them (it costs
    # as much as a tenth of the whole read on small 5-minute files)
    multi = [
        p
        for p in paths
        if p in known or (not shapes.is_delivery_name(p) and shapes.is_multi_document(Path(p)))
    ]
    multi_set = set(multi)
    single = [p for p in paths if p not in multi_set]
    # delivery files the compiled splitter reads, in place of DuckDB's JSON read
    delivery = [p for p in single if shapes.is_delivery_name(p)]
    scanned = scan.split_files(delivery, salt)
    before_typing()
    split = set(delivery) - set(scanned.left)
    single = [p for p in single if p not in split]
    rows.clear()
    if scanned.records is not None:
        rows.extend(_type_scanned(con, scanned.records, salt, run_id))
    if single or (not rows and not multi):
        stage_files(con, single, None, salt, run_id, rows)
    if multi:
        lines = {p: known.get(p) or slices.value_lines(Path(p)) for p in multi}
        stage_files(con, multi, lines, salt, run_id, rows)


def _type_scanned(
    con: duckdb.DuckDBPyConnection, records: pa.Table, salt: str, run_id: str
) -> list[pa.Table]:
    """The splitter's records typed: the plain ones with pyarrow (`plain.py`), the others by
    DuckDB, from their fields (`stg_scanned_records`) or their text (`stg_scanned_texts`).
    `con` is set up as `connect` sets it: DuckDB reads a time without a zone in the session's
    zone, the splitter in UTC."""
    zone = con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
    assert zone == "UTC", f"the ingest's connection reads times in UTC, not {zone}"
    typed = []
    con.register("scanned_records", records)
    try:
        for sql, params in (
            (fields_typing_sql(queries.body("ingest/stg_scanned_records")), {"run": run_id}),
            (typing_sql(queries.body("ingest/stg_scanned_texts")), {"salt": salt, "run": run_id}),
        ):
            typed.append(con.sql(sql, params=params).to_arrow_table())
    finally:
        con.unregister("scanned_records")
    if pc.any(records["plain"]).as_py():
        uris = dict(con.execute("SELECT local_path, source_uri FROM batch_files").fetchall())
        typed.append(plain.typed(records.filter(records["plain"]), uris, run_id, typed[0].schema))
    return typed


def stage_files(
    con: duckdb.DuckDBPyConnection,
    files: list[str],
    lines: Mapping[str, slices.ValueLines] | None,
    salt: str,
    run_id: str,
    rows: list[pa.Table],
) -> None:
    """Stage `files` in one scan, added to `rows`: single documents when `lines` is None, else
    multi-document files whose values are numbered by `lines` (their value lines)."""
    params: dict[str, object] = {"salt": salt, "run": run_id}
    if not files:
        # Every file of the batch was unreadable: read_json_objects refuses an empty file
        # list, so type an empty relation instead (`rows` must hold the columns).
        rows.append(con.sql(typing_sql(_NO_RAW_RECORDS), params=params).to_arrow_table())
        return
    params |= {"files": [lakefs.glob_escape(p) for p in files], "mark": slices.MARK}
    if lines is None:
        params["max_object_size"] = max_object_size(files)
        documents = queries.body("ingest/stg_documents")
    else:
        counts = [len(lines[p].numbers) for p in files]
        params |= {
            "max_object_size": buffer_size(max(lines[p].longest for p in files)),
            "line_numbers": [n for p in files for n in lines[p].numbers],
            "line_offsets": list(itertools.accumulate(counts, initial=0))[:-1],
            "line_counts": counts,
            "names": files,
        }
        documents = queries.compose(
            "ingest/stg_documents", "read_values", "ingest/stg_document_lines"
        )
    rows.append(con.sql(staging_sql(documents), params=params).to_arrow_table())


def staging_sql(documents: str) -> str:
    """Staging from the `documents` query: split into values (`stg_raw_records`), typed."""
    return typing_sql(queries.with_cte(documents, "documents", "ingest/stg_raw_records"))


def typing_sql(raw_records: str) -> str:
    """Typing from the `raw_records` query: redacted and parsed (`stg_records_parsed`)."""
    return fields_typing_sql(
        queries.with_cte(raw_records, "raw_records", "ingest/stg_records_parsed")
    )


def fields_typing_sql(parsed_fields: str) -> str:
    """Typing from the `parsed_fields` query (each record's `s`): the credential services'
    blobs parsed (`stg_records_detailed`), typed with reject reasons (`stg_events`)."""
    detailed = queries.body("ingest/stg_records_detailed")
    return queries.with_cte(
        f"with parsed_fields as (\n{parsed_fields}\n)\n{detailed}",
        "parsed_records",
        "ingest/stg_events",
    )


_NO_RAW_RECORDS = (
    "select cast(null as varchar) as filename, cast(null as varchar) as shape,"
    " cast(null as varchar) as raw_text, cast(null as varchar) as read_problem,"
    " cast(null as bigint) as line, cast(null as bigint) as position where false"
)


def max_object_size(paths: Sequence[str]) -> int:
    """A JSON buffer big enough for the largest file (gzip's trailer gives its size)."""
    largest = 0
    for path in paths:
        largest = max(largest, uncompressed_size_cached(path))
    return buffer_size(largest)


def buffer_size(largest: int) -> int:
    """A JSON buffer for values of up to `largest` bytes, within [MIN_, MAX_OBJECT_SIZE]."""
    return max(MIN_OBJECT_SIZE, min(MAX_OBJECT_SIZE, int(largest * 1.1) + 1024))
