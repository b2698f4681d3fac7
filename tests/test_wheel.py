"""The wheel ships the SQL: build it, install it into a fresh virtual environment, and run an
ingest (which reads `pipeline/sql/ingest/*.sql`) from a folder outside the repository.

The build backend (hatchling) is a dev dependency, so the build runs without isolation and
needs no package index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, records, write_delivery_file

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    [built] = out.glob("sts_audit-*.whl")
    return built


def test_wheel_ships_every_sql_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "pipeline/sql/ingest/stg_events.sql" in names
    expected = {
        f"pipeline/sql/{p.relative_to(REPO / 'sql').as_posix()}"
        for p in (REPO / "sql").rglob("*.sql")
    }
    assert expected <= names, sorted(expected - names)
    assert any(n.endswith("entry_points.txt") for n in names)
    # the ingest's splitter, compiled for this platform: the wheel is tagged for it
    assert "pipeline/_scan.so" in names
    assert not wheel.name.endswith("-none-any.whl"), wheel.name


def test_installed_wheel_ingests_from_outside_the_repo(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    # The runtime dependencies come from the test environment (no network, no copies): its
    # site-packages is appended to the new one; the .pth files in it (the editable install of
    # this repo) are not processed, so `pipeline` can only come from the wheel.
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        check=True,
        timeout=300,
        env=env,
    )
    outside = tmp_path / "elsewhere"
    source = write_delivery_file(outside / "trail" / "one.json.gz", records(3))

    where = subprocess.run(
        [
            str(python),
            "-c",
            "import pipeline, pipeline.queries as q, pipeline.scan as s;"
            " print(pipeline.__file__); print(q.sql_root()); print(s.LIBRARY);"
            " print(s.available())",
        ],
        capture_output=True,
        text=True,
        cwd=outside,
        env=env,
        check=True,
    ).stdout.splitlines()
    # the compiled splitter comes with the wheel (built by hatch_build.py) and loads
    assert where[-1] == "True", where
    assert all(line.startswith(str(venv)) for line in where[:-1]), where

    done = subprocess.run(
        [str(venv / "bin" / "sts-audit"), "ingest", str(source), "--lake", "lake", "--json"],
        capture_output=True,
        text=True,
        cwd=outside,
        env=env,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["records_read"], summary["records_stored"]) == (3, 3)
    assert list((outside / "lake" / "events").rglob("*.parquet"))


def test_every_module_the_package_imports_is_a_declared_dependency() -> None:
    # `make demo` installs the runtime dependencies only: numpy, which the dev tools bring
    # along, was imported by the ingest and missing there
    import ast
    import importlib.metadata
    import re
    import tomllib

    declared = {
        re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0].lower().replace("_", "-")
        for dep in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    distributions = importlib.metadata.packages_distributions()
    imported: set[str] = set()
    for path in (REPO / "pipeline").rglob("*.py"):
        tree = ast.parse(path.read_text())
        # what only the type checker reads (`if TYPE_CHECKING:`) is a dev dependency
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for stmt in node.body
            for inner in ast.walk(stmt)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"pipeline", "__future__"}
    missing = {
        module: distributions.get(module)
        for module in sorted(third_party)
        if not {d.lower().replace("_", "-") for d in distributions.get(module, [])} & declared
    }
    assert not missing, f"imported by pipeline/, not in [project] dependencies: {missing}"
