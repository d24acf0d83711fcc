"""A single interval of real numbers with open or closed ends."""

from __future__ import annotations

import math
import re

__all__ = ["Interval", "EMPTY", "parse_interval"]

_PATTERN = re.compile(
    r"^\s*([\[(])\s*(-inf|[-+]?\d+(?:\.\d+)?)\s*,\s*(\+?inf|[-+]?\d+(?:\.\d+)?)\s*([\])])\s*$"
)


def _number(text):
    if text in ("-inf", "inf", "+inf"):
        return float(text)
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


class Interval:
    """An interval ``lo..hi``; ``closed_lo``/``closed_hi`` say whether ends belong to it.

    Infinite ends are always open. An interval with no points is empty, and all empty
    intervals compare equal.
    """

    __slots__ = ("lo", "hi", "closed_lo", "closed_hi")

    def __init__(self, lo, hi, closed_lo=True, closed_hi=False):
        if lo > hi:
            raise ValueError(f"lower bound {lo} is above upper bound {hi}")
        self.lo = lo
        self.hi = hi
        self.closed_lo = bool(closed_lo) and not math.isinf(lo)
        self.closed_hi = bool(closed_hi) and not math.isinf(hi)

    @classmethod
    def closed(cls, lo, hi):
        """``[lo, hi]``."""
        return cls(lo, hi, True, True)

    @classmethod
    def open(cls, lo, hi):
        """``(lo, hi)``."""
        return cls(lo, hi, False, False)

    @classmethod
    def point(cls, x):
        """``[x, x]``: the interval holding one number."""
        return cls(x, x, True, True)

    # ---- basic properties -------------------------------------------------------

    def is_empty(self):
        """True when no number lies in the interval."""
        if self.lo < self.hi:
            return False
        return not (self.closed_lo and self.closed_hi)

    def length(self):
        """``hi - lo``, or 0 for an empty interval."""
        if self.is_empty():
            return 0
        return self.hi - self.lo

    def __contains__(self, x):
        if self.is_empty():
            return False
        if x < self.lo or x > self.hi:
            return False
        if x == self.lo and not self.closed_lo:
            return False
        if x == self.hi and not self.closed_hi:
            return False
        return True

    def contains_interval(self, other):
        """True when every point of ``other`` is in this interval."""
        if other.is_empty():
            return True
        if self.is_empty():
            return False
        if other.lo < self.lo or (other.lo == self.lo and other.closed_lo and not self.closed_lo):
            return False
        if other.hi > self.hi or (other.hi == self.hi and other.closed_hi and not self.closed_hi):
            return False
        return True

    # ---- relations between two intervals -----------------------------------------

    def overlaps(self, other):
        """True when the two intervals share at least one point."""
        return not self.intersection(other).is_empty()

    def is_adjacent(self, other):
        """True when the intervals touch without overlapping, e.g. ``[0,1)`` and ``[1,2]``."""
        if self.is_empty() or other.is_empty():
            return False
        if self.hi == other.lo:
            return self.closed_hi != other.closed_lo
        if other.hi == self.lo:
            return other.closed_hi != self.closed_lo
        return False

    def intersection(self, other):
        """The points in both intervals (possibly empty)."""
        if self.is_empty() or other.is_empty():
            return EMPTY
        if self.lo > other.lo:
            lo, closed_lo = self.lo, self.closed_lo
        elif self.lo < other.lo:
            lo, closed_lo = other.lo, other.closed_lo
        else:
            lo, closed_lo = self.lo, self.closed_lo and other.closed_lo
        if self.hi < other.hi:
            hi, closed_hi = self.hi, self.closed_hi
        elif self.hi > other.hi:
            hi, closed_hi = other.hi, other.closed_hi
        else:
            hi, closed_hi = self.hi, self.closed_hi and other.closed_hi
        if lo > hi:
            return EMPTY
        result = Interval(lo, hi, closed_lo, closed_hi)
        return EMPTY if result.is_empty() else result

    def hull(self, other):
        """The smallest interval holding both."""
        if self.is_empty():
            return other
        if other.is_empty():
            return self
        if self.lo < other.lo:
            lo, closed_lo = self.lo, self.closed_lo
        elif self.lo > other.lo:
            lo, closed_lo = other.lo, other.closed_lo
        else:
            lo, closed_lo = self.lo, self.closed_lo or other.closed_lo
        if self.hi > other.hi:
            hi, closed_hi = self.hi, self.closed_hi
        elif self.hi < other.hi:
            hi, closed_hi = other.hi, other.closed_hi
        else:
            hi, closed_hi = self.hi, self.closed_hi or other.closed_hi
        return Interval(lo, hi, closed_lo, closed_hi)

    def union(self, other):
        """The union as one interval; raises ``ValueError`` when there is a gap."""
        if self.overlaps(other) or self.is_adjacent(other) or self.is_empty() or other.is_empty():
            return self.hull(other)
        raise ValueError(f"{self} and {other} do not overlap or touch")

    def difference(self, other):
        """The points of this interval not in ``other``: a list of 0, 1 or 2 intervals."""
        common = self.intersection(other)
        if common.is_empty():
            return [] if self.is_empty() else [self]
        pieces = [
            Interval(self.lo, common.lo, self.closed_lo, not common.closed_lo),
            Interval(common.hi, self.hi, not common.closed_hi, self.closed_hi),
        ]
        return [p for p in pieces if not p.is_empty()]

    def shift(self, delta):
        """The same interval moved by ``delta``."""
        if self.is_empty():
            return EMPTY
        return Interval(self.lo + delta, self.hi + delta, self.closed_lo, self.closed_hi)

    def scale(self, factor):
        """The interval with both ends multiplied by ``factor`` (ends swap when negative)."""
        if self.is_empty():
            return EMPTY
        if factor >= 0:
            return Interval(self.lo * factor, self.hi * factor, self.closed_lo, self.closed_hi)
        return Interval(self.hi * factor, self.lo * factor, self.closed_hi, self.closed_lo)

    def clamp(self, x):
        """The number in the closure of the interval closest to ``x``."""
        if self.is_empty():
            raise ValueError("cannot clamp to an empty interval")
        return min(max(x, self.lo), self.hi)

    # ---- comparisons and text -------------------------------------------------------

    def _key(self):
        return (self.lo, not self.closed_lo, self.hi, self.closed_hi)

    def __eq__(self, other):
        if not isinstance(other, Interval):
            return NotImplemented
        if self.is_empty() or other.is_empty():
            return self.is_empty() and other.is_empty()
        return self._key() == other._key()

    def __lt__(self, other):
        return self._key() < other._key()

    def __hash__(self):
        return hash(("empty",)) if self.is_empty() else hash(self._key())

    def __repr__(self):
        if self.is_empty():
            return "Interval.empty()"
        return f"Interval({self.lo!r}, {self.hi!r}, {self.closed_lo}, {self.closed_hi})"

    def __str__(self):
        if self.is_empty():
            return "()"
        left = "[" if self.closed_lo else "("
        right = "]" if self.closed_hi else ")"
        return f"{left}{self.lo}, {self.hi}{right}"

    @staticmethod
    def empty():
        """The empty interval."""
        return EMPTY


EMPTY = Interval(0, 0, False, False)


def parse_interval(text):
    """Parse ``"[1, 5)"``, ``"(-inf, 3]"`` and the like."""
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(f"not an interval: {text!r}")
    left, lo, hi, right = match.groups()
    return Interval(_number(lo), _number(hi), left == "[", right == "]")
