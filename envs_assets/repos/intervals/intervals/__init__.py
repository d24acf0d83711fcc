"""Intervals of real numbers and sets of them."""

from intervals.interval import EMPTY, Interval, parse_interval
from intervals.intervalset import IntervalSet

__all__ = ["EMPTY", "Interval", "IntervalSet", "parse_interval"]
__version__ = "0.3.0"
