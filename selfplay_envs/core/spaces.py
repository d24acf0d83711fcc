"""Gymnasium spaces the text view needs."""

from __future__ import annotations

import string
from typing import Any

from gymnasium.spaces import Text

__all__ = ["FreeText"]

_SAMPLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " \n"


class FreeText(Text):
    """A ``Text`` space that contains any Unicode string up to ``max_length``.

    Gymnasium's ``Text`` only contains strings drawn from a fixed charset, but prompts
    and model replies hold arbitrary characters (chat, code, emoji). Sampling still draws
    from printable ASCII so random agents produce readable junk.
    """

    def __init__(self, max_length: int, *, min_length: int = 0, seed: Any = None):
        super().__init__(
            max_length, min_length=min_length, charset=_SAMPLE_CHARSET, seed=seed
        )

    def contains(self, x: Any) -> bool:
        """Any ``str`` whose length is within bounds."""
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"FreeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, FreeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )
