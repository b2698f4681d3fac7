"""Invariants over every SQL file: a header with its name and grain; bound parameters only."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline import queries

SQL = Path(__file__).resolve().parent.parent / "sql"


def _all_queries() -> list[str]:
    return sorted(p.relative_to(SQL).with_suffix("").as_posix() for p in SQL.rglob("*.sql"))


def test_every_sql_file_has_name_and_grain() -> None:
    offenders = []
    for name in _all_queries():
        meta = queries.header(name)
        if meta.get("name") != name.split("/")[-1]:
            offenders.append(f"{name}: name={meta.get('name')!r}")
        if not meta.get("grain"):
            offenders.append(f"{name}: no grain")
    assert not offenders, "\n".join(offenders)


def test_no_sql_file_formats_values_in() -> None:
    # Python-side formatting markers would mean values are spliced into SQL text.
    offenders = [
        n for n in _all_queries() if re.search(r"\{[a-z_]+\}|%\([a-z_]+\)s", queries.body(n))
    ]
    assert not offenders, offenders
