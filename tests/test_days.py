"""Command-line days: the forms a nightly job and an analyst write, each to one UTC day."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.days import NotADay, parse_day

TODAY = dt.date(2026, 11, 30)

# what the user writes -> the day it names, when today (UTC) is TODAY
DAYS = [
    ("2026-11-28", dt.date(2026, 11, 28)),
    ("2024-02-29", dt.date(2024, 2, 29)),
    ("today", TODAY),
    ("Today", TODAY),
    ("yesterday", dt.date(2026, 11, 29)),
    (" yesterday ", dt.date(2026, 11, 29)),
    ("0d", TODAY),
    ("2d", dt.date(2026, 11, 28)),
    ("30d", dt.date(2026, 10, 31)),
    ("366d", dt.date(2025, 11, 29)),
]

NOT_DAYS = [
    "",
    "nope",
    "20261128",  # a day needs its dashes
    "2026-13-01",
    "2023-02-29",
    "2026-W48-1",  # an ISO week date
    "2026-11-28T00:00",
    "11/28/2026",
    "-1d",
    "3 d",
    "2w",
    "123456d",
    "2026-1-5",  # strptime alone takes it
    "\u0663d",  # an Arabic-Indic three: \d alone takes it
    "\uff13d",  # a fullwidth three
]


@pytest.mark.parametrize(("text", "day"), DAYS)
def test_a_day_in_each_form(text: str, day: dt.date) -> None:
    assert parse_day(text, today=TODAY) == day


@pytest.mark.parametrize("text", NOT_DAYS)
def test_anything_else_names_the_forms(text: str) -> None:
    with pytest.raises(NotADay, match="YYYY-MM-DD, today, yesterday or Nd"):
        parse_day(text, today=TODAY)


def test_relative_days_count_from_the_utc_date() -> None:
    assert parse_day("0d") == dt.datetime.now(dt.UTC).date()
