"""A set of real numbers stored as sorted, disjoint, non-adjacent intervals."""

from __future__ import annotations

from intervals.interval import Interval, parse_interval

__all__ = ["IntervalSet"]


class IntervalSet:
    """A union of intervals, kept normalised: sorted, disjoint, and merged when touching.

    >>> s = IntervalSet([Interval(0, 2), Interval(1, 5)])
    >>> str(s)
    '{[0, 5)}'
    """

    def __init__(self, intervals=()):
        self._items = []
        for interval in intervals:
            self.add(interval)

    @classmethod
    def parse(cls, text):
        """Parse ``"[0, 1) | [2, 3]"`` (``|`` separated intervals); ``"{}"`` is empty."""
        text = text.strip()
        if text.startswith("{") and text.endswith("}"):
            text = text[1:-1]
        parts = [p for p in text.split("|") if p.strip()]
        return cls(parse_interval(p) for p in parts)

    # ---- mutation ------------------------------------------------------------------

    def add(self, interval):
        """Add the points of ``interval``, merging with any interval it touches."""
        if interval.is_empty():
            return
        merged = interval
        keep = []
        for item in self._items:
            if item.overlaps(merged) or item.is_adjacent(merged):
                merged = merged.hull(item)
            else:
                keep.append(item)
        keep.append(merged)
        keep.sort()
        self._items = keep

    def remove(self, interval):
        """Remove the points of ``interval`` (points not in the set are ignored)."""
        result = []
        for item in self._items:
            result.extend(item.difference(interval))
        self._items = result

    def clear(self):
        """Remove every point."""
        self._items = []

    # ---- queries -------------------------------------------------------------------

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self):
        return len(self._items)

    def __bool__(self):
        return bool(self._items)

    def __contains__(self, x):
        lo, hi = 0, len(self._items) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            item = self._items[mid]
            if x in item:
                return True
            if x < item.lo or (x == item.lo and not item.closed_lo):
                hi = mid - 1
            else:
                lo = mid + 1
        return False

    def measure(self):
        """Total length of the set."""
        return sum(item.length() for item in self._items)

    def bounds(self):
        """The hull of the set, or ``None`` when it is empty."""
        if not self._items:
            return None
        first, last = self._items[0], self._items[-1]
        return Interval(first.lo, last.hi, first.closed_lo, last.closed_hi)

    def gaps(self):
        """The intervals between consecutive members, in order."""
        result = []
        for left, right in zip(self._items, self._items[1:]):
            result.append(Interval(left.hi, right.lo, not left.closed_hi, not right.closed_lo))
        return [g for g in result if not g.is_empty()]

    def find(self, x):
        """The member interval holding ``x``, or ``None``."""
        for item in self._items:
            if x in item:
                return item
        return None

    # ---- set algebra ------------------------------------------------------------------

    def copy(self):
        """A shallow copy."""
        result = IntervalSet()
        result._items = list(self._items)
        return result

    def union(self, other):
        """Points in either set."""
        result = self.copy()
        for item in other:
            result.add(item)
        return result

    def intersection(self, other):
        """Points in both sets."""
        result = IntervalSet()
        for a in self._items:
            for b in other:
                common = a.intersection(b)
                if not common.is_empty():
                    result.add(common)
        return result

    def difference(self, other):
        """Points in this set and not in ``other``."""
        result = self.copy()
        for item in other:
            result.remove(item)
        return result

    def symmetric_difference(self, other):
        """Points in exactly one of the two sets."""
        return self.difference(other).union(other.difference(self))

    def complement(self, within):
        """Points of the interval ``within`` that are not in the set."""
        return IntervalSet([within]).difference(self)

    def issubset(self, other):
        """True when every point of this set is in ``other``."""
        return not self.difference(other)

    __or__ = union
    __and__ = intersection
    __sub__ = difference
    __xor__ = symmetric_difference

    def __eq__(self, other):
        if not isinstance(other, IntervalSet):
            return NotImplemented
        return self._items == other._items

    def __repr__(self):
        return f"IntervalSet({self._items!r})"

    def __str__(self):
        return "{" + " | ".join(str(item) for item in self._items) + "}"
