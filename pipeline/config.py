"""The configuration file (`sts-audit.toml`) and the defaults every command shares."""

from __future__ import annotations

import os
import re
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from pipeline.errors import ConfigError, LakeError
from pipeline.layout import ACCOUNT_RE, ORG_ID_RE

CONFIG_ENV = "STS_AUDIT_CONFIG"
CONFIG_NAME = "sts-audit.toml"
# what DuckDB's memory_limit accepts that a config file should hold: a size with its unit
MEMORY_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
MEMORY_UNITS = {
    **{unit: 1000 ** (i + 1) for i, unit in enumerate(("kb", "mb", "gb", "tb"))},
    **{unit: 1024 ** (i + 1) for i, unit in enumerate(("kib", "mib", "gib", "tib"))},
}
MEMORY_RANGE = (10**6, 2**50)  # 1 MB (enough to run out, which a test does) to 1 PiB
WINDOW_MAX = 36_600  # analysis.window_days: up to a century


def machine_memory() -> int:
    """This machine's physical memory in bytes; 0 where the system does not say (Windows)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 0


def default_analysis_memory(machine: int | None = None) -> str:
    """Half of the machine's memory (`machine` bytes, else this one's), at least 2GB: the
    analysis of a 5M-event lake peaks at 3.7 GiB, and under a fixed 2GB it spilled 3.3 GB to
    disk and took 40% longer on a machine with 23 GiB free (bench/LIMITS.md)."""
    if machine is None:
        machine = machine_memory()
    return f"{max(2000, machine // 2 // 10**6)}MB"


DEFAULT_ANALYSIS_MEMORY = default_analysis_memory()


def _memory_bytes(value: str) -> int | None:
    """The bytes a memory_limit value stands for, or None when it is not a size with a unit."""
    match = MEMORY_RE.match(value)
    if match is None:
        return None
    number, unit = match.groups()
    base = MEMORY_UNITS[unit.lower()]
    return int(float(number) * base)


@dataclass(frozen=True)
class Config:
    """Settings read from `sts-audit.toml`; every field has a working default."""

    lake: Path = Path("lake")
    org_id: str | None = None
    org_accounts: tuple[str, ...] = ()
    max_chain_depth: int = 10
    analysis_memory_limit: str = DEFAULT_ANALYSIS_MEMORY
    analysis_window_days: int | None = None
    extra: dict[str, object] = field(default_factory=dict)


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The config file in use: `--config`, then $STS_AUDIT_CONFIG, then ./sts-audit.toml."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(
                f"config file {explicit} {_not_a_file(explicit)}",
                fix="pass an existing file to --config, or drop the option",
            )
        return explicit
    env = os.environ.get(CONFIG_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(
                f"${CONFIG_ENV} points at {path}, which {_not_a_file(path)}",
                fix=f"unset {CONFIG_ENV} or point it at a config file",
            )
        return path
    local = Path.cwd() / CONFIG_NAME
    return local if local.is_file() else None


def _not_a_file(path: Path) -> str:
    """Why `path` cannot be read as a config file."""
    return "is a folder, not a file" if path.is_dir() else "does not exist"


def load_config(explicit: Path | None = None) -> Config:
    """Read the config file (if any) into a `Config`."""
    path = find_config_file(explicit)
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            f"cannot read config file {path}: {exc}", fix="write it as UTF-8 TOML"
        ) from None
    base = path.parent
    lake_value = data.get("lake", "lake")
    if isinstance(lake_value, dict):  # `[lake]`, a table holding what belongs elsewhere
        found = "; ".join(key + belongs for key, belongs in _unknown_keys("lake", lake_value))
        raise ConfigError(
            f"{path}: {found or 'lake is written as an empty table [lake]'}",
            fix='lake is the lake folder, not a table: write lake = "/data/sts-audit-lake" at '
            "the top of the file, before any [table]",
        )
    if not isinstance(lake_value, str) or not lake_value.strip():
        raise ConfigError(
            f"{path}: lake={lake_value!r} is not a folder path",
            fix='write it as a quoted path, e.g. lake = "/data/sts-audit-lake"',
        )
    lake = Path(lake_value)
    org = data.get("organization", {})
    analysis = data.get("analysis", {})
    if not isinstance(org, dict) or not isinstance(analysis, dict):
        raise ConfigError(
            f"{path}: [organization] and [analysis] must be tables",
            fix="see the configuration section of README.md",
        )
    listed = org.get("accounts", [])
    if not isinstance(listed, list):
        raise ConfigError(
            f"{path}: organization.accounts={listed!r} is not a list",
            fix='list 12-digit account IDs as strings, e.g. accounts = ["123456789012"]',
        )
    accounts = tuple(str(a) for a in listed)
    bad = [a for a in accounts if not ACCOUNT_RE.match(a)]
    if bad:
        raise ConfigError(
            f"{path}: organization.accounts holds non-account values {bad}",
            fix='list 12-digit account IDs as strings, e.g. "123456789012"',
        )
    org_id = org.get("id")
    if org_id is not None and not (isinstance(org_id, str) and ORG_ID_RE.fullmatch(org_id)):
        raise ConfigError(
            f"{path}: organization.id={org_id!r} is not an AWS Organizations ID",
            fix='write it as in the trail\'s folder AWSLogs/o-ID/, e.g. id = "o-exampleorgid"',
        )
    _warn_unknown(path, data)
    depth = analysis.get("max_chain_depth", 10)
    if not isinstance(depth, int) or isinstance(depth, bool) or not 2 <= depth <= 64:
        raise ConfigError(
            f"{path}: analysis.max_chain_depth={depth!r} is not a depth from 2 to 64",
            fix="write a whole number between 2 and 64, without quotes (default 10)",
        )
    memory = str(analysis.get("memory_limit", DEFAULT_ANALYSIS_MEMORY)).strip()
    size = _memory_bytes(memory)
    if size is None or not MEMORY_RANGE[0] <= size <= MEMORY_RANGE[1]:
        raise ConfigError(
            f"{path}: analysis.memory_limit={memory!r} is not a size from 1MB to 1PB",
            fix='write a size with its unit, e.g. "4GB" or "512MB" '
            f'(default "{DEFAULT_ANALYSIS_MEMORY}")',
        )
    window = analysis.get("window_days")
    if window is not None and (
        not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= WINDOW_MAX
    ):
        raise ConfigError(
            f"{path}: analysis.window_days={window!r} is not a number of days from 1 to "
            f"{WINDOW_MAX}",
            fix="write a whole number of days without quotes, e.g. window_days = 90, or drop "
            "the key to analyze the whole lake",
        )
    return Config(
        lake=lake if lake.is_absolute() else base / lake,
        org_id=org_id,
        org_accounts=accounts,
        max_chain_depth=depth,
        analysis_memory_limit=memory,
        analysis_window_days=window,
        extra={k: v for k, v in data.items() if k not in {"lake", "organization", "analysis"}},
    )


KNOWN_KEYS: Final[dict[str, frozenset[str]]] = {
    "": frozenset({"lake", "organization", "analysis"}),
    "organization": frozenset({"id", "accounts"}),
    "analysis": frozenset({"max_chain_depth", "memory_limit", "window_days"}),
}


def _warn_unknown(path: Path, data: dict[str, object]) -> None:
    """A misspelt key (`max_depth`), or one in another table than its own, is silently the
    default: say so, once per key, naming the table it is in and the one it belongs in."""
    tables: dict[str, dict[str, object]] = {
        "": {key: value for key, value in data.items() if not isinstance(value, dict)},
        **{key: value for key, value in data.items() if isinstance(value, dict)},
    }
    for table, values in tables.items():
        if table not in KNOWN_KEYS and not values:
            warnings.warn(f"{path}: unknown table [{table}] is ignored", stacklevel=2)
        for found, belongs in _unknown_keys(table, values):
            warnings.warn(
                f"{path}: {found} is ignored"
                + (belongs or " (see the configuration section of README.md)"),
                stacklevel=2,
            )


def _unknown_keys(table: str, values: dict[str, object]) -> list[tuple[str, str]]:
    """The keys of `table` (`""`: the top of the file) that no setting reads, each as
    `unknown key 'k' in [table]` and, when another table reads that key, `; it belongs in
    [other]` (else "")."""
    found = []
    for key in sorted(set(values) - KNOWN_KEYS.get(table, frozenset())):
        where = f"in [{table}]" if table else "at the top of the file"
        homes = [t for t, keys in KNOWN_KEYS.items() if key in keys and t != table]
        belongs = ""
        if homes:
            home = f"in [{homes[0]}]" if homes[0] else "at the top of the file, before any [table]"
            belongs = f"; it belongs {home}"
        found.append((f"unknown key {key!r} {where}", belongs))
    return found


def resolve_lake(lake: Path | None, config: Config | None = None) -> Path:
    """`--lake` if given, else the config file's value, else ./lake; it must be a folder (or
    not exist yet: ingest creates it)."""
    path = lake if lake is not None else (config or load_config()).lake
    if path.exists() and not path.is_dir():
        raise LakeError(
            f"{path} is a file, not a lake folder",
            fix="pass a folder with --lake (ingest creates it when missing)",
        )
    return path


def check_account_id(value: str) -> str:
    """Accept only a 12-digit AWS account ID."""
    if not ACCOUNT_RE.match(value):
        raise ConfigError(
            f"{value!r} is not an AWS account ID",
            fix="pass the 12-digit account ID, e.g. --account 123456789012",
        )
    return value
