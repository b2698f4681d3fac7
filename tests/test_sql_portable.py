"""Every analysis query stays in the portable core: it parses as DuckDB SQL and sqlglot
transpiles it to Spark and Trino without unsupported constructs (distributed.md §6.1)."""

from __future__ import annotations

import re

import pytest
import sqlglot
from sqlglot import exp

from pipeline import analysis, queries
from pipeline.chainsql import DEFAULT_DEPTH, chain_sql

NAMES = queries.names("analysis")
# The materialized steps: the part that must run unchanged on Spark 3.5 and Trino/Athena. The
# sel_* readers serve the CLI on DuckDB, but are checked for parsing and transpiling as well.
BUILD = [f"analysis/{s}" for s in analysis.STEPS]
DUCKDB_ONLY = re.compile(
    r"\bqualify\b|->>|\blist_\w+\(|\bread_parquet\b|\bread_json\b|\bstruct_pack\b|"
    r"\bgroup by all\b|\bwith recursive\b|\bconcat\(|timestamptz '",
    re.IGNORECASE,
)


def _body(name: str) -> str:
    return queries.load(name)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dialect", ["spark", "trino"])
def test_query_transpiles(name: str, dialect: str) -> None:
    out = sqlglot.transpile(
        _body(name), read="duckdb", write=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE
    )
    assert len(out) == 1, "one statement per file"


@pytest.mark.parametrize("name", NAMES)
def test_header_names_the_file_and_grain(name: str) -> None:
    meta = queries.header(name)
    assert meta.get("name") == name.split("/")[-1]
    assert meta.get("grain")


@pytest.mark.parametrize("name", BUILD)
def test_build_steps_avoid_duckdb_only_syntax(name: str) -> None:
    body = "\n".join(
        line for line in _body(name).splitlines() if not line.lstrip().startswith("--")
    )
    found = DUCKDB_ONLY.findall(body)
    assert not found, f"{name} uses DuckDB-only syntax: {found}"


@pytest.mark.parametrize("name", BUILD)
def test_no_star_in_ctes(name: str) -> None:
    tree = sqlglot.parse_one(_body(name), read="duckdb")
    stars = [
        cte.alias
        for cte in tree.find_all(exp.CTE)
        if any(not isinstance(star.parent, exp.Count) for star in cte.find_all(exp.Star))
    ]
    assert not stars, f"{name}: `*` inside CTEs {stars}"


def test_every_build_step_is_a_query_file() -> None:
    assert set(BUILD) <= set(NAMES)


def test_chain_file_is_the_generated_walk_up() -> None:
    assert _body("analysis/int_chains") == chain_sql(DEFAULT_DEPTH), (
        "regenerate: python -c 'from pipeline.chainsql import chain_sql; "
        'open("sql/analysis/int_chains.sql", "w").write(chain_sql())\''
    )


@pytest.mark.parametrize("depth", [2, 5, 16])
def test_other_chain_depths_transpile(depth: int) -> None:
    for dialect in ("spark", "trino"):
        sqlglot.transpile(
            chain_sql(depth),
            read="duckdb",
            write=dialect,
            unsupported_level=sqlglot.ErrorLevel.RAISE,
        )
