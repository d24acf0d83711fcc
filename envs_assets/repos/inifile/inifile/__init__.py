"""A small INI reader and writer with defaults, typed getters and interpolation."""

from inifile.errors import (
    IniError,
    InterpolationError,
    MissingKeyError,
    MissingSectionError,
    ParseError,
)
from inifile.parser import DEFAULT_SECTION, Document, dumps, loads

__all__ = [
    "DEFAULT_SECTION",
    "Document",
    "IniError",
    "InterpolationError",
    "MissingKeyError",
    "MissingSectionError",
    "ParseError",
    "dumps",
    "loads",
]
__version__ = "1.1.0"
