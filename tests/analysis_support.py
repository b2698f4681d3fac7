"""Helpers for the analysis tests: an in-memory `events` table from rows, and value
normalisation so expected YAML values compare with DuckDB results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import duckdb

from pipeline.schema import EVENT_COLUMNS, PARTITION_COLUMNS

ALL_COLUMNS = [(n, t) for n, t, _ in EVENT_COLUMNS] + [(n, t) for n, t, _ in PARTITION_COLUMNS]
COLUMN_NAMES = {n for n, _ in ALL_COLUMNS}


def events_connection(rows: Iterable[Mapping[str, Any]]) -> duckdb.DuckDBPyConnection:
    """A UTC DuckDB connection whose `events` table holds `rows` (missing columns are NULL)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cols = ", ".join(f"{n} {t}" for n, t in ALL_COLUMNS)
    con.execute(f"create table events ({cols})")
    for row in rows:
        unknown = set(row) - COLUMN_NAMES
        if unknown:
            raise KeyError(f"unknown events columns {sorted(unknown)} in {row}")
        values = dict(row)
        if "event_date" not in values and values.get("event_time") is not None:
            values["event_date"] = str(values["event_time"])[:10]
        names = list(values)
        placeholders = ", ".join(f"${n}" for n in names)
        con.execute(
            f"insert into events ({', '.join(names)}) values ({placeholders})",
            {n: _to_param(values[n]) for n in names},
        )
    return con


def _to_param(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def norm(value: Any) -> Any:
    """Comparable form: timestamps as ISO UTC text with Z, tuples as lists."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond:06d}"
        return text + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [norm(v) for v in value]
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T" and value[:4].isdigit():
        try:
            return norm(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    return value


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """Rows of a query as dicts."""
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


# Tables whose header promises one row per key, and that key: checked on every case's input,
# whatever table the case is about (a conflict's records once gave one session four rows).
GRAINS = {
    "int_sts_issuances": ("logical_event_id",),
    "int_session_starts": ("session_id",),
    "int_sessions": ("session_id",),
    "int_chains": ("session_id",),
    "rpt_sessions": ("session_id",),
    "rpt_federated_logins": ("session_id",),
    "int_sessions_seen": ("principal_arn", "creation_time", "access_key", "first_use"),
}


def assert_grains(con: duckdb.DuckDBPyConnection) -> None:
    """Fail when a table repeats the key its header says it has one row per."""
    for table, key in GRAINS.items():
        columns = ", ".join(key)
        repeated = con.execute(
            f"select {columns}, count(*) from {table} group by all having count(*) > 1"
        ).fetchall()
        assert not repeated, f"{table} repeats its key ({columns}): {repeated}"
