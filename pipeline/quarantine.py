"""The quarantine: what a batch sets aside, written beside its rows; what the lake holds, listed.

A batch builds `quarantine_out` from its rejected records and the files it set aside whole
(`build`, `sql/ingest/stg_quarantine.sql`), leaving out the rejected records an earlier run
quarantined already (`requarantined`), and writes it as Parquet (`write_parquet`) under its
staging folder, committed with the batch into `quarantine/`. `quarantined` lists what the lake's
quarantine holds, for `sts-audit quarantine`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline import lake as lakefs
from pipeline import queries


def requarantined(con: duckdb.DuckDBPyConnection, lake: Path, any_rejected: bool) -> int:
    """Table `requarantined` (stg_requarantined): the batch's rejected records the lake's
    quarantine already holds; returns how many."""
    if any_rejected and lakefs.attach_quarantine(con, lake):
        sql = queries.load("ingest/stg_requarantined")
    else:
        sql = "SELECT CAST(NULL AS BIGINT) AS row_id WHERE false"
    con.execute("CREATE OR REPLACE TEMP TABLE requarantined AS " + sql)
    row = con.execute("SELECT count(*) FROM requarantined").fetchall()[0]
    return int(row[0]) if row else 0


def build(con: duckdb.DuckDBPyConnection, bad: dict[str, str], run_id: str) -> int:
    """Build `quarantine_out` (rejected records plus unreadable files); return its size."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE bad_files AS SELECT unnest(cast($paths AS VARCHAR[])) AS "
        "local_path, unnest(cast($reasons AS VARCHAR[])) AS reason",
        {"paths": list(bad), "reasons": list(bad.values())},
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE quarantine_out AS " + queries.load("ingest/stg_quarantine"),
        {"run": run_id},
    )
    row = con.execute("SELECT count(*) FROM quarantine_out").fetchall()[0]
    return int(row[0]) if row else 0


def write_parquet(con: duckdb.DuckDBPyConnection, table: str, target: Path) -> None:
    """COPY a temp table to Parquet (zstd). Paths are ours, never log data."""
    options = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 122880"
    con.execute(f"COPY {table} TO {lakefs.sql_literal(str(target))} ({options})")


def quarantined(lake: Path, *, limit: int = 50) -> list[dict[str, object]]:
    """The quarantined files and records, newest run first; a file quarantined whole that a
    later run read (a new version: an upload completed, a file rewritten) is left out."""
    from pipeline import catalog

    con = duckdb.connect()
    lakefs.configure(con)
    if not lakefs.attach_quarantine(con, lake):
        return []
    # the files quarantined whole: whether a later run read them is in the manifest
    con.execute(
        "CREATE TABLE wanted_uris AS SELECT DISTINCT source_uri AS uri FROM quarantine "
        "WHERE source_line IS NULL AND source_position IS NULL"
    )
    if con.execute("SELECT count(*) FROM wanted_uris").fetchall()[0][0]:
        catalog.load_runs(con, lake / lakefs.STATE_DIR)
    else:
        con.execute("CREATE TABLE manifest_runs (uri VARCHAR, run VARCHAR, status VARCHAR)")
    cursor = queries.run(con, "ingest/rpt_quarantine")
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchmany(limit)]
