"""Identifiers and time strings, all derived from a seeded RNG (no wall clock, no uuid4)."""

from __future__ import annotations

import base64
import calendar
import random
import time

_B64_TO_B62 = bytes.maketrans(b"+/", b"Xq")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Ids:
    """Every random identifier the simulator writes comes from one `random.Random`."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._bits = rng.getrandbits

    def uuid(self) -> str:
        """A version-4-shaped GUID drawn from the RNG."""
        h = f"{self._bits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def uuid_pair(self) -> tuple[str, str]:
        """Two GUIDs from one draw (eventID and requestID of the hot path)."""
        h = f"{self._bits(256):064x}"
        return (
            f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}",
            f"{h[32:40]}-{h[40:44]}-4{h[45:48]}-a{h[49:52]}-{h[52:]}",
        )

    def hex(self, n: int) -> str:
        """`n` lowercase hex characters."""
        return f"{self._bits(4 * n):0{n}x}"

    def alnum(self, n: int) -> str:
        """`n` uppercase base-32 characters (A-Z, 2-7), the alphabet of AWS unique ids."""
        raw = self._bits(40 * ((n + 7) // 8)).to_bytes(5 * ((n + 7) // 8), "big")
        return base64.b32encode(raw)[:n].decode()

    def b62(self, n: int) -> str:
        """`n` mixed-case alphanumerics (the 16-character UNIQUE of a log file name)."""
        raw = self._bits(24 * ((n + 3) // 4)).to_bytes(3 * ((n + 3) // 4), "big")
        return base64.b64encode(raw)[:n].translate(_B64_TO_B62).decode()

    def temp_key(self) -> str:
        """A temporary STS access key id: `ASIA` + 16 characters."""
        return "ASIA" + self.alnum(16)

    def long_term_key(self) -> str:
        """A long-term access key id in AWS documentation style: `AKIA...EXAMPLE`."""
        return "AKIA" + self.alnum(9) + "EXAMPLE"

    def unique_id(self, prefix: str) -> str:
        """An IAM unique id such as `AROA...` or `AIDA...` (21 characters)."""
        return prefix + self.alnum(17)

    def session_token(self) -> str:
        """A placeholder session token (the issued token is logged in full; ours is fake)."""
        return "IQoJb3JpZ2luX2VjEXAMPLE" + self.b62(40)

    def ip(self, block: str) -> str:
        """An address inside one of the documentation blocks, e.g. `198.51.100`."""
        return f"{block}.{self.rng.randint(1, 254)}"


_ISO_CACHE: dict[int, str] = {}
_SECONDS = tuple(f"{s:02d}Z" for s in range(60))


def iso(t: int) -> str:
    """Epoch seconds -> `2026-11-01T10:00:00Z` (the minute prefix is cached: a hot path)."""
    minute, sec = divmod(t, 60)
    prefix = _ISO_CACHE.get(minute)
    if prefix is None:
        if len(_ISO_CACHE) > 100_000:
            _ISO_CACHE.clear()
        prefix = _ISO_CACHE[minute] = time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(t))
    return prefix + _SECONDS[sec]


def iso_basic(t: int) -> str:
    """Epoch seconds -> `20261101T100000Z` (ISO 8601 basic, as in AWS doc examples)."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def java_medium(t: int, *, comma: bool) -> str:
    """Java en_US medium text in UTC: `Sep 17, 2020 8:04:10 PM` or `Jul 1, 2026, 12:08:19 PM`."""
    g = time.gmtime(t)
    hour = g.tm_hour % 12 or 12
    ampm = "AM" if g.tm_hour < 12 else "PM"
    sep = "," if comma else ""
    return (
        f"{_MONTHS[g.tm_mon - 1]} {g.tm_mday}, {g.tm_year}{sep} "
        f"{hour}:{g.tm_min:02d}:{g.tm_sec:02d} {ampm}"
    )


def parse_java_medium(text: str) -> int:
    """Parse either Java medium form back to epoch seconds (locale independent)."""
    month_s, rest = text.split(" ", 1)
    day_s, rest = rest.split(", ", 1)
    rest = rest.replace(",", "")
    year_s, clock, ampm = rest.split(" ")
    h, m, s = (int(x) for x in clock.split(":"))
    h = h % 12 + (12 if ampm == "PM" else 0)
    month = _MONTHS.index(month_s) + 1
    return calendar.timegm((int(year_s), month, int(day_s), h, m, s, 0, 0, 0))
