"""A pool of valid questions, served to the solver when a proposed one is invalid.

SSP keeps its solver batches full this way: when a proposer's question fails the
filters or the RAG check, the solver is given a valid question an earlier episode
produced. ``search_qa_v0`` takes any object with this module's ``QuestionPool``
methods as ``question_pool=``; ``FifoQuestionPool`` is a bounded in-memory one.

The pool is also where SSP's RAG noise comes from: each stored question keeps its
trajectory's retrieved block (every distinct passage the proposer's searches returned),
and ``noise_blocks`` draws blocks of OTHER trajectories to mix into a later RAG check
(``NoisePool``; SSP mixes in 4). A block leaves the pool with its question.

A pool lives across episodes, so an env holding one no longer replays an episode from
its seed alone: save ``state_dict()`` beside the seed to replay.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from selfplay_envs.games.search_qa.search.corpus import Passage

if TYPE_CHECKING:  # only a type hint: the pool itself needs no numpy
    import numpy as np

__all__ = ["Block", "PooledQuestion", "QuestionPool", "NoisePool", "FifoQuestionPool"]

#: One trajectory's retrieved block: every distinct passage its searches returned.
Block = tuple[Passage, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class PooledQuestion:
    """A valid question, its answer, the ids of the passages it rests on, and its
    trajectory's retrieved block (the passages themselves, for RAG noise)."""

    question: str
    answer: str
    evidence: tuple[str, ...] = ()
    block: Block = ()

    def to_dict(self, *, block: bool = True) -> dict[str, Any]:
        """JSON-friendly form (``state_dict``; infos leave the block out)."""
        data: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "evidence": list(self.evidence),
        }
        if block:
            data["block"] = [p.to_dict() for p in self.block]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PooledQuestion:
        """The inverse of ``to_dict``."""
        return cls(
            question=str(data["question"]),
            answer=str(data["answer"]),
            evidence=tuple(str(e) for e in data.get("evidence", ())),
            block=tuple(
                Passage(id=str(p["id"]), title=str(p["title"]), text=str(p["text"]))
                for p in data.get("block", ())
            ),
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


@runtime_checkable
class NoisePool(Protocol):
    """A pool that can also supply RAG noise from other trajectories."""

    def noise_blocks(
        self, k: int, rng: np.random.Generator, exclude: Collection[str]
    ) -> list[Block]:
        """Up to ``k`` stored blocks of other trajectories, with none of the passage
        ids in ``exclude`` (the current trajectory's)."""
        ...


class FifoQuestionPool:
    """At most ``capacity`` questions; adding to a full pool evicts the oldest.

    Eviction is first in, first out, and a question's block leaves with it, so the
    pool holds at most ``capacity`` blocks. ``draw`` and ``noise_blocks`` draw with
    the episode's generator, so a draw is reproducible from the seed and the pool's
    state.
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

    def noise_blocks(
        self, k: int, rng: np.random.Generator, exclude: Collection[str]
    ) -> list[Block]:
        """``k`` blocks (fewer when fewer are eligible), drawn uniformly without
        replacement: the stored blocks are shuffled and taken in that order.

        The current trajectory is not in the pool yet (a question is stored after its
        RAG check), but another trajectory may have retrieved some of the same
        passages: those are removed from the drawn blocks, so the noise never repeats
        the current trajectory's passages. A block left with no passage (made only of
        the current trajectory's passages, or of blocks already taken) is skipped and
        does not count.
        """
        seen = set(exclude)
        blocks: list[Block] = []
        if k <= 0:
            return blocks
        items = list(self._items)
        for i in rng.permutation(len(items)):
            block = []
            for p in items[int(i)].block:
                if p.id not in seen:
                    seen.add(p.id)
                    block.append(p)
            if block:
                blocks.append(tuple(block))
                if len(blocks) == k:
                    break
        return blocks

    def state_dict(self) -> dict[str, Any]:
        """Capacity and questions with their blocks, oldest first (JSON-friendly)."""
        return {
            "capacity": self.capacity,
            "items": [item.to_dict() for item in self._items],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace this pool's contents with ``state``'s (capacity included)."""
        self.capacity = int(state["capacity"])
        items = [PooledQuestion.from_dict(d) for d in state["items"]]
        self._items = deque(items, maxlen=self.capacity)
