"""A pool of valid questions, served to the solver when a proposed one is invalid.

SSP keeps its solver batches full this way: when a proposer's question fails the
filters or the RAG check, the solver is given a valid question an earlier episode
produced. ``search_qa_v0`` takes any object with this module's ``QuestionPool``
methods as ``question_pool=``; ``FifoQuestionPool`` is a bounded in-memory one.

A pool lives across episodes, so an env holding one no longer replays an episode from
its seed alone: save ``state_dict()`` beside the seed to replay.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # only a type hint: the pool itself needs no numpy
    import numpy as np

__all__ = ["PooledQuestion", "QuestionPool", "FifoQuestionPool"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PooledQuestion:
    """A valid question, its answer, and the ids of the passages it rests on."""

    question: str
    answer: str
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for infos and ``state_dict``)."""
        return {
            "question": self.question,
            "answer": self.answer,
            "evidence": list(self.evidence),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PooledQuestion:
        """The inverse of ``to_dict``."""
        return cls(
            question=str(data["question"]),
            answer=str(data["answer"]),
            evidence=tuple(str(e) for e in data.get("evidence", ())),
        )


@runtime_checkable
class QuestionPool(Protocol):
    """What the env needs of a pool."""

    def __len__(self) -> int: ...

    def add(self, item: PooledQuestion) -> None:
        """Store a valid question."""
        ...

    def draw(self, rng: np.random.Generator) -> PooledQuestion:
        """One stored question (the pool is not empty)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the pool."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""
        ...


class FifoQuestionPool:
    """At most ``capacity`` questions; adding to a full pool evicts the oldest.

    ``draw`` picks a stored question uniformly with the episode's generator, so a
    draw is reproducible from the seed and the pool's state.
    """

    def __init__(self, capacity: int = 256):
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ValueError(f"expected capacity an int >= 1, got {capacity!r}")
        self.capacity = capacity
        self._items: deque[PooledQuestion] = deque(maxlen=capacity)

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[PooledQuestion]:
        """Stored questions, oldest first."""
        return list(self._items)

    def add(self, item: PooledQuestion) -> None:
        """Store ``item``; the deque's ``maxlen`` drops the oldest when full."""
        self._items.append(item)

    def draw(self, rng: np.random.Generator) -> PooledQuestion:
        """A uniformly drawn stored question."""
        if not self._items:
            raise IndexError("draw from an empty question pool")
        return self._items[int(rng.integers(len(self._items)))]

    def state_dict(self) -> dict[str, Any]:
        """Capacity and questions, oldest first (JSON-friendly)."""
        return {
            "capacity": self.capacity,
            "items": [item.to_dict() for item in self._items],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace this pool's contents with ``state``'s (capacity included)."""
        self.capacity = int(state["capacity"])
        items = [PooledQuestion.from_dict(d) for d in state["items"]]
        self._items = deque(items, maxlen=self.capacity)
