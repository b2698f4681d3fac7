"""Build hook: compile the ingest's delivery-file splitter (`pipeline/_scan.c`) with the
machine's C compiler into `pipeline/_scan.so`, which `pipeline/scan.py` loads with ctypes.

Without a compiler the build goes on with a warning: sts-audit then reads every file with
DuckDB (`pipeline.scan.available()` is False), correct and slower. A wheel with the library
is tagged for this platform.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("pipeline") / "_scan.c"
LIBRARY = Path("pipeline") / "_scan.so"


def compile_library(root: Path) -> Path | None:
    """Compile the splitter under `root`; the library's path, or None (no compiler)."""
    source, target = root / SOURCE, root / LIBRARY
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    cc = shlex.split(sysconfig.get_config_var("CC") or "cc")
    command = [*cc, "-O2", "-shared", "-fPIC", "-o", str(target), str(source)]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        print(
            f"sts-audit: the ingest's splitter was not compiled ({detail.strip()[:300]}); "
            "ingest reads every file with DuckDB instead (slower). Install a C compiler "
            "(gcc) and reinstall to build it.",
            file=sys.stderr,
        )
        return None
    return target


class CustomBuildHook(BuildHookInterface):  # type: ignore[misc]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        library = compile_library(Path(self.root))
        if library is None or version == "editable":
            return  # an editable install loads it from the source tree
        build_data["force_include"][str(library)] = str(LIBRARY)
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
