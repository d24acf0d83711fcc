"""Scripted opponents of ``higher_number_v0`` (named in ``HigherNumberGame.opponents``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class Highest:
    """Always picks the highest legal number: a ``Policy`` (``name`` and ``act``)."""

    name = "highest"

    def __init__(self, seed: int | None = None) -> None:
        del seed  # Deterministic.

    def act(self, turns: Sequence[Any]) -> list[Any]:
        """The last legal action, in the turn's view."""
        actions = []
        for turn in turns:
            if turn.view == "numeric":
                actions.append(int(turn.info["action_mask"].nonzero()[0][-1]))
            else:
                actions.append(f"\\boxed{{{turn.info['legal_actions'][-1]}}}")
        return actions
