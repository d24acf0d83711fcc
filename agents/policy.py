"""The ``Policy`` protocol every player implements: a batch of turns in, actions out.

A ``Turn`` is what one seat of one game sees when it must act: the observation dict, the
info dict (role, legal actions as text, action mask, and each game's structured view for
scripted players) and which view the env uses. A policy answers in that view: text for
``view="text"``, an ``int`` for ``view="numeric"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "Turn",
    "Policy",
    "RandomPolicy",
    "FirstLegalPolicy",
    "CallablePolicy",
    "policy_from_callable",
    "legal_mask",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Turn:
    """One pending decision: what the acting seat observes."""

    env_id: str
    agent: str
    observation: dict[str, Any]
    info: dict[str, Any]
    view: str = "text"
    game_index: int = 0  # which game of a batch this turn belongs to
    episode: int = 0  # episode id of that game; policies with memory reset on a change


@runtime_checkable
class Policy(Protocol):
    """Acts on a batch of turns and returns one action per turn."""

    name: str

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """Return an action for each turn, in the env's view."""
        ...


def legal_mask(turn: Turn) -> np.ndarray:
    """The numeric view's legal actions: the observation's ``action_mask`` (always
    there), else ``info["action_mask"]`` (BatchedEnv's and full infos carry it)."""
    observation = turn.observation
    if isinstance(observation, dict) and "action_mask" in observation:
        return np.asarray(observation["action_mask"])
    return np.asarray(turn.info["action_mask"])


def answer(turn: Turn, text: str, index: int | None = None) -> Any:
    """Return ``index`` in the numeric view and ``text`` (boxed) in the text view."""
    if turn.view == "numeric":
        if index is None:
            raise ValueError(f"expected a numeric action for {turn.env_id}, got None")
        return int(index)
    return f"\\boxed{{{text}}}"


class RandomPolicy:
    """Uniformly random legal moves, for any game with a finite action set.

    Games with free-form actions ship their own random player in
    ``selfplay_agents.opponents``; this one uses ``info["legal_actions"]`` (text view) or
    the observation's ``action_mask`` (numeric view).
    """

    name = "random"

    def __init__(self, seed: int | None = None):
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed, so a seeded episode replays the same moves."""
        self.rng = np.random.default_rng(seed)

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """One uniformly random legal action per turn."""
        return [self._one(turn) for turn in turns]

    def _one(self, turn: Turn) -> Any:
        if turn.view == "numeric":
            legal = np.flatnonzero(legal_mask(turn))
            return int(self.rng.choice(legal))
        legal_text = turn.info.get("legal_actions")
        if not legal_text:
            raise ValueError(
                f"expected info['legal_actions'] for {turn.env_id}: use the game's own "
                "random player from selfplay_agents.opponents"
            )
        return answer(turn, legal_text[int(self.rng.integers(len(legal_text)))])


class FirstLegalPolicy:
    """Always the first legal move, for any game with a finite action set.

    A deterministic baseline (``selfplay_agents.opponents.BASELINES``) that bench pairs with
    ``random`` for a game that declares fewer than two opponents of its own.
    """

    name = "first_legal"

    def __init__(self, seed: int | None = None):
        del seed  # Deterministic: accepted so that every opponent factory takes one.

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """The lowest legal action (numeric view) or the first legal text, per turn."""
        return [self._one(turn) for turn in turns]

    def _one(self, turn: Turn) -> Any:
        if turn.view == "numeric":
            return int(np.flatnonzero(legal_mask(turn))[0])
        legal_text = turn.info.get("legal_actions")
        if not legal_text:
            raise ValueError(
                f"expected info['legal_actions'] for {turn.env_id}: first_legal plays "
                "only games with a finite action set"
            )
        return answer(turn, legal_text[0])


@dataclasses.dataclass
class CallablePolicy:
    """Wrap ``f(observation, info) -> action`` as a ``Policy``."""

    fn: Callable[[dict[str, Any], dict[str, Any]], Any]
    name: str = "callable"

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """Call ``fn`` once per turn."""
        return [self.fn(turn.observation, turn.info) for turn in turns]


def policy_from_callable(obj: Any) -> Policy:
    """Return ``obj`` if it is a ``Policy``, or wrap a plain callable."""
    if isinstance(obj, Policy):
        return obj
    if callable(obj):
        return CallablePolicy(obj, name=getattr(obj, "__name__", "callable"))
    raise TypeError(f"expected a Policy or a callable, got {type(obj).__name__}")
