"""Days as users write them on the command line: `2026-11-28`, `today`, `yesterday`, `3d`.

A nightly job names its window relative to the day it runs (`--since 2d`) instead of computing
a date in the shell; every day is a UTC calendar day, as CloudTrail's folders and `eventTime`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

DAY_FORMS: Final = "YYYY-MM-DD, today, yesterday or Nd (N days before today), in UTC"
_AGO_RE: Final = re.compile(r"^([0-9]{1,5})d$")  # ASCII: \d takes other scripts' digits
_DATE_RE: Final = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")  # strptime also takes 2026-1-5


class NotADay(ValueError):
    """A command-line day in none of the accepted forms."""


def utc_today() -> dt.date:
    """Today's UTC date."""
    return dt.datetime.now(dt.UTC).date()


def parse_day(text: str, *, today: dt.date | None = None) -> dt.date:
    """The UTC day `text` names; NotADay naming the accepted forms otherwise."""
    value = text.strip().lower()
    base = today if today is not None else utc_today()
    if value == "today":
        return base
    if value == "yesterday":
        return base - dt.timedelta(days=1)
    if match := _AGO_RE.match(value):
        return base - dt.timedelta(days=int(match.group(1)))
    if _DATE_RE.match(value):
        try:
            return dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.UTC).date()
        except ValueError:
            pass
    raise NotADay(f"{text!r} is not a day: write {DAY_FORMS}")
