"""Fixed players for ``who_is_the_spy_v0``: a scripted scene-graph player and a random one.

Both read the structured view the env puts in ``info`` (``item``: the player's own scene
graph, chart table or word card; ``clues``: every clue so far) and never the prompt.
Clues are sentences of the checkable grammar in
``selfplay_envs.games.who_is_the_spy.facts``.

The scripted player:

* as a civilian, says something true of its item that no clue has said yet, preferring
  what adds the most (a full description of an object nobody has mentioned);
* as the spy, says something built only from parts of its item that other players'
  clues have confirmed (so it is likely true for the civilians too); failing that, it
  repeats a confirmed clue in other words; speaking before any confirmation, it says
  the vaguest true thing it can (e.g. "There is a cube.");
* votes for the player whose clues contradict its own item the most; if nobody
  contradicts it, for the one player who most often only repeated what others had said;
  otherwise N/A. The spy, when it votes, picks another seat at random.

Clues outside the grammar (free text from a language model) are neither contradictions
nor repetitions for it. With user folders (no ground truth) it gives a vague clue and
abstains.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from selfplay_agents.policy import Turn, answer
from selfplay_envs.games.who_is_the_spy.facts import Describer, Fact, restates
from selfplay_envs.games.who_is_the_spy.items import describer_for, item_from_dict

__all__ = ["ScriptedSpyPlayer", "RandomSpyPlayer"]

_VAGUE_CLUES = (
    "I can see a few things here.",
    "Mine looks quite ordinary.",
    "Nothing looks unusual to me.",
    "It is not easy to describe.",
)


class _SpyPlayerBase:
    """Shared plumbing: one generator per player, one describer per item kind."""

    name = "base"

    def __init__(self, seed: int | None = None, word_pairs: str | Path | None = None):
        self.rng = np.random.default_rng(seed)
        self.word_pairs = word_pairs
        self._describers: dict[str, Describer | None] = {}

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """One boxed clue or vote per turn."""
        return [self._one(turn) for turn in turns]

    def _one(self, turn: Turn) -> Any:
        if turn.view != "text":
            raise ValueError(
                f"expected the text view for {turn.env_id}, got {turn.view!r}"
            )
        if turn.info["phase"] == "clue":
            return answer(turn, self.clue(turn.info))
        return answer(turn, self.vote(turn.info))

    def clue(self, info: dict[str, Any]) -> str:
        """The clue to give."""
        raise NotImplementedError

    def vote(self, info: dict[str, Any]) -> str:
        """The vote text: a 1-based seat or ``"N/A"``."""
        raise NotImplementedError

    def _describer(self, kind: str) -> Describer | None:
        if kind not in self._describers:
            self._describers[kind] = describer_for(kind, self.word_pairs)
        return self._describers[kind]

    def _pick(self, options: Sequence[Any]) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def _vague(self) -> str:
        return self._pick(_VAGUE_CLUES)


class ScriptedSpyPlayer(_SpyPlayerBase):
    """The scene-graph player described in the module docstring.

    Args:
        seed: Seed of its own generator (tie breaks and choices among equals).
        word_pairs: The word-pair file of the game, when not the shipped one.
    """

    name = "scripted"

    def clue(self, info: dict[str, Any]) -> str:
        """A true, new clue as a civilian; a confirmed or vague one as the spy."""
        describer = self._describer(info["item_kind"])
        own = item_from_dict(info["item_kind"], info["item"])
        me = info["seat"]
        parsed = _parsed_clues(describer, info["clues"])
        others = [fact for player, fact in parsed if player != me]
        if describer is None:
            return self._vague()
        if own is None:  # a blank spy can only echo
            texts = [c["text"] for c in info["clues"] if c["player"] != me]
            return self._pick(texts) if texts else self._vague()
        facts = describer.facts(own)
        if not facts:
            return self._vague()
        said = [fact for _, fact in parsed]
        fresh = [f for f in facts if not restates(describer, said, f)]
        if info["is_spy"]:
            return self._spy_clue(describer, own, facts, fresh, others).text
        return self._civilian_clue(describer, own, facts, fresh, said).text

    def _civilian_clue(
        self,
        describer: Describer,
        own: Any,
        facts: list[Fact],
        fresh: list[Fact],
        said: list[Fact],
    ) -> Fact:
        if not fresh:
            return self._pick(facts)
        mentioned: set[Hashable] = set()
        for fact in said:
            mentioned |= describer.support(own, fact)
        gains = [len(describer.support(own, f) - mentioned) for f in fresh]
        best = max(gains)
        return self._pick([f for f, g in zip(fresh, gains, strict=True) if g == best])

    def _spy_clue(
        self,
        describer: Describer,
        own: Any,
        facts: list[Fact],
        fresh: list[Fact],
        others: list[Fact],
    ) -> Fact:
        held = [
            f for f in others if describer.support(own, f)
        ]  # others' clues true for me
        confirmed: set[Hashable] = set()
        for fact in held:
            confirmed |= describer.support(own, fact)
        safe = [f for f in fresh if describer.support(own, f) <= confirmed]
        if safe:
            best = max(f.specificity for f in safe)
            return self._pick([f for f in safe if f.specificity == best])
        repeats = [f for f in facts if restates(describer, held, f)]
        if repeats:
            return self._pick(repeats)
        vaguest = min(f.specificity for f in facts)
        return self._pick([f for f in facts if f.specificity == vaguest])

    def vote(self, info: dict[str, Any]) -> str:
        """Most contradictions, else the one most repetitive player, else N/A."""
        me = info["seat"]
        if info["is_spy"]:
            others = [v for v in info["legal_actions"] if v not in ("N/A", str(me + 1))]
            return self._pick(others)
        describer = self._describer(info["item_kind"])
        own = item_from_dict(info["item_kind"], info["item"])
        if describer is None or own is None:
            return "N/A"
        contradictions, repeats = _suspicion(describer, own, info["clues"], me)
        if contradictions:
            top = max(contradictions.values())
            tied = sorted(p for p, c in contradictions.items() if c == top)
            return str(self._pick(tied) + 1)
        if repeats:
            top = max(repeats.values())
            tied = [p for p, c in repeats.items() if c == top]
            if len(tied) == 1:
                return str(tied[0] + 1)
        return "N/A"


class RandomSpyPlayer(_SpyPlayerBase):
    """Random valid moves: a random true clue about its own item, a uniform vote.

    The vote is uniform over ``info["legal_actions"]`` (every seat and N/A), so its
    civilians win at the rate of chance.
    """

    name = "random"

    def clue(self, info: dict[str, Any]) -> str:
        """Any true clue, chosen uniformly (a vague one when nothing is checkable)."""
        describer = self._describer(info["item_kind"])
        own = item_from_dict(info["item_kind"], info["item"])
        if describer is None or own is None:
            return self._vague()
        facts = describer.facts(own)
        return self._pick(facts).text if facts else self._vague()

    def vote(self, info: dict[str, Any]) -> str:
        """Uniform over the legal votes."""
        return self._pick(info["legal_actions"])


def _parsed_clues(
    describer: Describer | None, clues: Sequence[dict[str, Any]]
) -> list[tuple[int, Fact]]:
    if describer is None:
        return []
    parsed = [(c["player"], describer.parse(c["text"])) for c in clues]
    return [(p, f) for p, f in parsed if f is not None]


def _suspicion(
    describer: Describer, own: Any, clues: Sequence[dict[str, Any]], me: int
) -> tuple[Counter[int], Counter[int]]:
    """Per other player: clues false of ``own``, and clues that only repeat others'."""
    contradictions: Counter[int] = Counter()
    repeats: Counter[int] = Counter()
    earlier: list[tuple[int, Fact]] = []
    for clue in clues:
        player, fact = clue["player"], describer.parse(clue["text"])
        if fact is None:
            continue
        if player != me:
            if not describer.support(own, fact):
                contradictions[player] += 1
            elif restates(describer, [f for p, f in earlier if p != player], fact):
                repeats[player] += 1
        earlier.append((player, fact))
    return contradictions, repeats
