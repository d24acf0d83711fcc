"""Errors raised while reading INI text."""

from __future__ import annotations

__all__ = ["IniError", "ParseError", "MissingSectionError", "MissingKeyError", "InterpolationError"]


class IniError(Exception):
    """Base class of every error in this package."""


class ParseError(IniError):
    """The text is not valid INI; ``line`` is 1-based."""

    def __init__(self, message, line):
        super().__init__(f"line {line}: {message}")
        self.line = line


class MissingSectionError(IniError, KeyError):
    """A section that does not exist was asked for."""


class MissingKeyError(IniError, KeyError):
    """A key that does not exist was asked for."""


class InterpolationError(IniError):
    """A ``${...}`` reference cannot be resolved."""
