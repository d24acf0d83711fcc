"""Vectorised rules: N games of one game held as numpy arrays, stepped without a loop.

``BatchedEnv`` steps N games per call. Through the generic
``Episode`` path that is a Python loop over N scalar states, which is as slow per move
as the AEC env. A game can also offer a ``VectorRules``: the same rules written over
batch arrays (``Game.vector_rules``). ``BatchedEnv`` then steps every game with a
handful of numpy operations, and keeps the adapter's invalid-move policy, auto-reset
and truncation as arrays too.

Contract (what ``BatchedEnv`` relies on, and what the differential tests check):

* Game ``i`` of the batch follows exactly the scalar rules of
  ``Game.new_initial_state(rngs[i])``: the same chance draws from the same Generator,
  the same acting seat, legal mask, observation tensor and final returns.
* Only turn-based games: one acting seat per game at any time.
* ``step`` applies the legal moves and leaves games whose action is invalid
  unchanged; the caller applies the invalid-move policy. It is only called while
  every game is in play: the caller resets the games that ended first.
* Arrays returned by ``legal_mask``, ``observations`` and ``acting`` are fresh: the
  caller may keep them across later steps.
* ``episode_keys`` and ``initial_state`` let the caller rebuild any game's current
  episode as a scalar ``State`` (for infos, which are built lazily by replay).
* Rules with ``has_text`` also serve the text view: ``texts`` renders each acting
  seat's prompt exactly as the scalar ``State.observation_text``, and ``parse_texts``
  turns replies into action ids that ``step`` judges exactly as the scalar
  ``State.parse_action`` would. The reason of an invalid reply is not needed here:
  the caller gets it from a scalar replay, which only invalid replies pay for.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from selfplay_envs.core.game import State

__all__ = ["VectorRules"]


class VectorRules(abc.ABC):
    """The rules of ``num_envs`` games of one game, as batch arrays.

    Subclasses hold the state of every game in arrays whose first axis is the game
    index. No method may loop over games in Python on the per-move path (``step``,
    ``legal_mask``, ``observations``, ``acting``); ``reset`` may loop over the games
    it resets when they draw chance from their own Generators (better: draw ahead in
    one call per game, as Kuhn poker does).

    Args:
        num_envs: Games held at once.
    """

    #: Seats of the game.
    num_players: int
    #: Size of the numeric action set.
    num_actions: int
    #: Shape of one game's observation tensor.
    observation_shape: tuple[int, ...]
    #: ``texts`` and ``parse_texts`` are implemented: the text view can use these rules.
    has_text: bool = False

    def __init__(self, num_envs: int):
        if num_envs < 1:
            raise ValueError(f"expected num_envs >= 1, got {num_envs}")
        self.num_envs = num_envs
        self.rngs: list[np.random.Generator] = []

    def seed(self, rngs: Sequence[np.random.Generator]) -> None:
        """Give game ``i`` the Generator ``rngs[i]`` for all its chance from now on.

        Called before the first ``reset`` and again whenever the env is reseeded.
        The successive episodes of game ``i`` must get the chance outcomes that
        successive ``Game.new_initial_state(rngs[i])`` calls would draw. Subclasses
        that draw ahead must drop those draws here.
        """
        if len(rngs) != self.num_envs:
            raise ValueError(f"expected {self.num_envs} Generators, got {len(rngs)}")
        self.rngs = list(rngs)

    @abc.abstractmethod
    def reset(self, mask: np.ndarray) -> None:
        """Start a new episode in every game where ``mask`` (``(num_envs,)`` bool) is set."""

    @abc.abstractmethod
    def acting(self) -> np.ndarray:
        """``(num_envs,)`` int64: the seat to act in each game."""

    @abc.abstractmethod
    def legal_mask(self) -> np.ndarray:
        """``(num_envs, num_actions)`` int8: the acting seat's legal actions."""

    @abc.abstractmethod
    def observations(self) -> np.ndarray:
        """``(num_envs, *observation_shape)`` float32, from each acting seat's side.

        Row ``i`` equals the scalar ``State.observation_tensor(acting()[i])``.
        """

    @abc.abstractmethod
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Apply one action per game for its acting seat.

        Args:
            actions: ``(num_envs,)`` int64, any values: out-of-range or illegal ones
                are reported as invalid, never raised.

        Returns:
            ``(rewards, terminated, invalid)``: ``(num_envs, num_players)`` float32
            final returns of the games that ended by the rules on this move (zeros
            elsewhere), ``(num_envs,)`` bool games that ended, and ``(num_envs,)``
            bool games whose action was invalid (left unchanged).
        """

    @abc.abstractmethod
    def episode_keys(self) -> np.ndarray:
        """``(num_envs, k)`` int64: the chance outcomes that fix each current episode.

        With ``initial_state`` they rebuild the episode as a scalar state; a game
        without chance returns ``(num_envs, 0)``.
        """

    @abc.abstractmethod
    def initial_state(self, key: np.ndarray) -> State:
        """The scalar initial state of an episode whose ``episode_keys`` row is ``key``."""

    def texts(self) -> list[str]:
        """The text prompt of each acting seat, equal to the scalar
        ``State.observation_text(acting()[i])`` (games without observation extras).

        Text is rendered per game, so this may loop in Python; rules usually cache
        the prompt of each distinct position.
        """
        raise NotImplementedError(f"{type(self).__name__} has no text view")

    def parse_texts(self, texts: Sequence[str]) -> np.ndarray:
        """``(num_envs,)`` int64 action ids of the acting seats' replies.

        Where the scalar ``State.parse_action`` of the acting seat accepts
        ``texts[i]``, its action; where it rejects it, any id that ``step`` reports
        as invalid. Never raises on model text.
        """
        raise NotImplementedError(f"{type(self).__name__} has no text view")

    def forfeit_returns(self, losers: np.ndarray) -> np.ndarray:
        """``(len(losers), num_players)`` float32 returns if seat ``losers[j]`` forfeits.

        The default is ``core.game.forfeit_returns``: -1 for the loser, the others
        share +1. Override it where ``State.forfeit_returns`` is overridden.
        """
        share = 1.0 / (self.num_players - 1)
        seats = np.arange(self.num_players)
        returns = np.full((len(losers), self.num_players), share, dtype=np.float32)
        returns[seats[None, :] == losers[:, None]] = -1.0
        return returns
