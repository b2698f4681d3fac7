"""The only code that reads `sql/`: load a query by name, read its header, run it bound."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import StsAuditError

if TYPE_CHECKING:
    import duckdb

_HEADER_RE = re.compile(r"^--\s*([a-z_]+):\s?(.*)$")


def sql_root() -> Traversable:
    """The `sql/` folder: shipped inside the wheel as `pipeline/sql`, or the repo's own."""
    packaged = resources.files("pipeline") / "sql"
    if packaged.is_dir():
        return packaged
    repo = Path(__file__).resolve().parent.parent / "sql"
    if repo.is_dir():
        return repo
    raise StsAuditError(
        "the SQL files are missing from this installation",
        fix="reinstall sts-audit (pip install --force-reinstall sts-audit)",
    )


@functools.cache
def load(name: str) -> str:
    """The text of `sql/<name>.sql`, e.g. `load("analysis/int_sessions")`."""
    *folders, leaf = name.split("/")
    node = sql_root().joinpath(*folders, f"{leaf}.sql")
    if not node.is_file():
        raise StsAuditError(f"no SQL file named {name!r}", fix="check the query name")
    return node.read_text(encoding="utf-8")


def body(name: str) -> str:
    """The query without its comment header."""
    lines = load(name).splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines)


def compose(first: str, cte_name: str, second: str) -> str:
    """`second` with `first` prepended as the CTE `cte_name`, so two files run as one query."""
    return with_cte(body(first), cte_name, second)


def with_cte(first_sql: str, cte_name: str, second: str) -> str:
    """Query `second` with `first_sql` prepended as the CTE `cte_name`."""
    rest = body(second)
    if not rest[:5].lower() == "with ":
        raise StsAuditError(f"{second} must start with a WITH clause to be composed")
    return f"with {cte_name} as (\n{first_sql}\n),\n{rest[5:]}"


def header(name: str) -> dict[str, str]:
    """The `-- key: value` lines at the top of a query file."""
    meta: dict[str, str] = {}
    for line in load(name).splitlines():
        match = _HEADER_RE.match(line.strip())
        if not match:
            if line.strip().startswith("--"):
                continue
            break
        key, value = match.groups()
        meta[key] = f"{meta[key]} {value}".strip() if key in meta else value.strip()
    return meta


def names(folder: str) -> list[str]:
    """Every query under `sql/<folder>/`, as load() names, sorted."""
    node = sql_root() / folder
    return sorted(f"{folder}/{p.name[:-4]}" for p in node.iterdir() if p.name.endswith(".sql"))


def run(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, object] | None = None
) -> duckdb.DuckDBPyConnection:
    """Execute one query with bound named parameters (`$name`); values are never formatted in."""
    sql = load(name)
    if params:
        used = {p for p in params if re.search(rf"\${re.escape(p)}\b", sql)}
        return con.execute(sql, {k: v for k, v in params.items() if k in used})
    return con.execute(sql)
