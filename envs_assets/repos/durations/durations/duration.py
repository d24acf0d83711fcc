"""A duration type with human and ISO 8601 parsing and formatting."""

from __future__ import annotations

import re

__all__ = ["Duration", "parse", "parse_iso", "UNITS"]

# Seconds per unit, largest first. A day is always 24 hours here (no DST).
UNITS = (
    ("w", 7 * 24 * 3600),
    ("d", 24 * 3600),
    ("h", 3600),
    ("m", 60),
    ("s", 1),
)
_ALIASES = {
    "w": "w", "wk": "w", "week": "w", "weeks": "w",
    "d": "d", "day": "d", "days": "d",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
}
_SECONDS = dict(UNITS)
_TOKEN = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_ISO = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


class Duration:
    """A signed length of time, stored as a whole number of milliseconds."""

    __slots__ = ("millis",)

    def __init__(self, seconds=0, *, millis=None):
        self.millis = int(millis) if millis is not None else round(seconds * 1000)

    @classmethod
    def of(cls, weeks=0, days=0, hours=0, minutes=0, seconds=0):
        """Build from parts, e.g. ``Duration.of(hours=1, minutes=30)``."""
        total = weeks * _SECONDS["w"] + days * _SECONDS["d"] + hours * 3600
        return cls(total + minutes * 60 + seconds)

    @property
    def seconds(self):
        """Total length in seconds (a float when there are milliseconds)."""
        whole, rest = divmod(self.millis, 1000)
        return whole if rest == 0 else self.millis / 1000

    def parts(self):
        """``{"w", "d", "h", "m", "s"}`` parts of the absolute value, with ms in ``"ms"``."""
        remaining, ms = divmod(abs(self.millis), 1000)
        result = {}
        for unit, size in UNITS:
            result[unit], remaining = divmod(remaining, size)
        result["ms"] = ms
        return result

    # ---- arithmetic --------------------------------------------------------------

    def __add__(self, other):
        if not isinstance(other, Duration):
            return NotImplemented
        return Duration(millis=self.millis + other.millis)

    def __sub__(self, other):
        if not isinstance(other, Duration):
            return NotImplemented
        return Duration(millis=self.millis - other.millis)

    def __neg__(self):
        return Duration(millis=-self.millis)

    def __abs__(self):
        return Duration(millis=abs(self.millis))

    def __mul__(self, factor):
        if not isinstance(factor, (int, float)):
            return NotImplemented
        return Duration(millis=round(self.millis * factor))

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Duration):
            return self.millis / other.millis
        if isinstance(other, (int, float)):
            return Duration(millis=round(self.millis / other))
        return NotImplemented

    def __floordiv__(self, other):
        if isinstance(other, Duration):
            return self.millis // other.millis
        return NotImplemented

    def __eq__(self, other):
        return isinstance(other, Duration) and self.millis == other.millis

    def __lt__(self, other):
        return self.millis < other.millis

    def __le__(self, other):
        return self.millis <= other.millis

    def __hash__(self):
        return hash(self.millis)

    def __bool__(self):
        return self.millis != 0

    def __repr__(self):
        return f"Duration(millis={self.millis})"

    # ---- formatting ----------------------------------------------------------------

    def format(self, max_units=None):
        """Compact text such as ``"1h30m"`` or ``"-2d4h"``; ``"0s"`` for zero.

        ``max_units`` keeps only the largest non-zero units (the rest is truncated).
        """
        parts = self.parts()
        pieces = [f"{parts[unit]}{unit}" for unit, _ in UNITS if parts[unit]]
        if parts["ms"]:
            pieces.append(f"{parts['ms']}ms")
        if not pieces:
            return "0s"
        if max_units is not None:
            pieces = pieces[:max_units]
        sign = "-" if self.millis < 0 else ""
        return sign + "".join(pieces)

    def __str__(self):
        return self.format()

    def isoformat(self):
        """ISO 8601 text such as ``"P1DT2H"``; weeks are written as days."""
        if self.millis < 0:
            raise ValueError("ISO 8601 durations cannot be negative")
        parts = self.parts()
        days = parts["w"] * 7 + parts["d"]
        date = f"{days}D" if days else ""
        seconds = parts["s"] + parts["ms"] / 1000
        time = ""
        if parts["h"]:
            time += f"{parts['h']}H"
        if parts["m"]:
            time += f"{parts['m']}M"
        if seconds:
            time += f"{seconds:g}S"
        if not date and not time:
            return "PT0S"
        return "P" + date + ("T" + time if time else "")


def parse(text):
    """Parse ``"1h30m"``, ``"2 days, 3 hours"``, ``"-45s"`` or ``"1.5h"``.

    Units may repeat (they add up). An empty or unknown unit raises ``ValueError``.
    """
    cleaned = text.strip().lower()
    sign = 1
    if cleaned.startswith("-"):
        sign = -1
        cleaned = cleaned[1:]
    cleaned = cleaned.replace(",", " ").replace(" and ", " ")
    position = 0
    total = 0.0
    found = False
    for match in _TOKEN.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            raise ValueError(f"unexpected text in duration: {text!r}")
        number, unit = match.groups()
        if unit == "ms":
            total += float(number) / 1000
        elif unit in _ALIASES:
            total += float(number) * _SECONDS[_ALIASES[unit]]
        else:
            raise ValueError(f"unknown unit {unit!r} in {text!r}")
        position = match.end()
        found = True
    if not found or cleaned[position:].strip():
        raise ValueError(f"not a duration: {text!r}")
    return Duration(sign * total)


def parse_iso(text):
    """Parse an ISO 8601 duration without years or months, e.g. ``"P1W2DT3H4M5.5S"``."""
    match = _ISO.match(text.strip().upper())
    if not match or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    values = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    return Duration.of(
        weeks=values.get("w", 0),
        days=values.get("d", 0),
        hours=values.get("h", 0),
        minutes=values.get("m", 0),
        seconds=values.get("s", 0),
    )
