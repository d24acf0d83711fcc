"""``${key}`` and ``${section:key}`` references inside values."""

from __future__ import annotations

import re

from inifile.errors import InterpolationError

__all__ = ["interpolate", "MAX_DEPTH"]

MAX_DEPTH = 10
_REFERENCE = re.compile(r"\$\{([^}:]*)(?::([^}]*))?\}")


def interpolate(document, section, value, depth=0):
    """Expand references in ``value`` as read from ``section`` of ``document``.

    ``${key}`` looks in the same section, then in the defaults; ``${other:key}`` looks
    in section ``other``. ``$$`` is a literal dollar sign.
    """
    if depth > MAX_DEPTH:
        raise InterpolationError(f"references nest deeper than {MAX_DEPTH} levels: {value!r}")
    parts = value.split("$$")
    return "$".join(_expand(document, section, part, depth) for part in parts)


def _expand(document, section, text, depth):
    def replace(match):
        first, second = match.group(1), match.group(2)
        if second is None:
            target_section, key = section, first.strip()
        else:
            target_section, key = first.strip(), second.strip()
        raw = document.raw_get(target_section, key)
        if raw is None:
            raise InterpolationError(f"cannot resolve ${{{match.group(0)[2:-1]}}}")
        return interpolate(document, target_section, raw, depth + 1)

    return _REFERENCE.sub(replace, text)
