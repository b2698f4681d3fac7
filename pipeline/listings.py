"""When each source was last listed whole, so a `--since` run can tell it leaves a gap.

`--since DAY` lists only the trail's day folders from DAY on. A run lists a source at time T
and sees every file delivered before T; files delivered later that day land in T's day folder.
So a run whose `--since` day is after the day of the source's last listing leaves out the
files delivered between that listing and the end of its day, and every day folder between:
a nightly job with `--since 2d` that missed two nights. The run warns, names the `--since`
that closes the gap, and `--strict` fails.

`LAKE/_state/listings.json` maps each source (an `s3://` URL, or a local path resolved)
to the UTC day its last completed run started listing it: a day, not a time, as the folders
are, so a rerun on the same day leaves the lake's state as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import orjson

from pipeline import manifest

LISTINGS_FILE: Final = "listings.json"


def now() -> dt.datetime:
    """The UTC time a run starts listing."""
    return dt.datetime.now(dt.UTC)


def _key(spec: str) -> str:
    if spec.startswith("s3://"):
        return spec.rstrip("/")
    return str(Path(spec).resolve())  # one key for every spelling of a folder, links too


def _load(state: Path) -> dict[str, str]:
    try:
        data = orjson.loads((state / LISTINGS_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}  # none yet (or damaged: the next run writes it afresh)
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def gap_start(state: Path, specs: Sequence[str], since: dt.date) -> dt.date | None:
    """The earliest day a source was last listed on, when that day is before `since` (the
    `--since` that would close the gap); None when no source was listed before that day."""
    listed = _load(state)
    days = []
    for spec in specs:
        if not spec.startswith("s3://") and Path(spec).is_file():
            continue  # a file named as a source is read whatever --since says
        when = listed.get(_key(spec))
        if when is None:
            continue  # never listed into this lake: a first run's --since is a choice
        try:
            day = dt.date.fromisoformat(when)
        except ValueError:
            continue
        if day < since:
            days.append(day)
    return min(days) if days else None


def record(state: Path, specs: Sequence[str], started: dt.datetime) -> None:
    """Note that a run that started listing at `started` (UTC) completed over `specs`."""
    listed = _load(state)
    now = {_key(spec): started.date().isoformat() for spec in specs}
    if all(listed.get(key) == day for key, day in now.items()):
        return  # listed today already: nothing to change
    listed.update(now)
    manifest.write_atomic(state / LISTINGS_FILE, orjson.dumps(listed, option=orjson.OPT_INDENT_2))
