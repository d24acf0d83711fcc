"""Every field of ``GameInfo`` has a reader: the conformance suite holds a game to
its ``roles``, ``simultaneous`` and ``[min_utility, max_utility]``."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from selfplay_envs.core.aec import GameEnv
from selfplay_envs.core.game import Game, GameInfo, State
from selfplay_envs.core.parallel import ParallelGameEnv
from selfplay_envs.test import check_parallel_random_play, check_random_play


class _PickState(State):
    """Each seat picks 0 or 1; seat 0 wins on a 1, as ``scale`` says."""

    def __init__(self, *, together: bool, scale: float):
        self.picks: dict[int, int] = {}
        self.together = together
        self.scale = scale

    @property
    def num_players(self) -> int:
        return 2

    def current_players(self) -> list[int]:
        if self.is_terminal():
            return []
        return [0, 1] if self.together else [len(self.picks)]

    def is_terminal(self) -> bool:
        return len(self.picks) == 2

    def returns(self) -> list[float]:
        if not self.is_terminal():
            return [0.0, 0.0]
        won = self.scale if self.picks[0] else -self.scale
        return [won, -won]

    def role(self, player: int) -> str:
        return ("first", "second")[player]

    def legal_actions(self, player: int) -> list[int]:
        return [0, 1]

    def apply_action(self, player: int, action: Any) -> None:
        self.picks[player] = int(action)

    def observation_text(self, player: int) -> str:
        return f"seat {player}, picks {self.picks}: answer \\boxed{{0}} or \\boxed{{1}}"


class _PickGame(Game):
    def __init__(self, *, together: bool = False, scale: float = 1.0, **info: Any):
        self.together, self.scale = together, scale
        self.info = GameInfo(
            name="pick_v0",
            num_players=2,
            max_game_length=4,
            num_actions=2,
            **{"roles": ("first", "second"), "simultaneous": together, **info},
        )

    def new_initial_state(self, rng: np.random.Generator) -> _PickState:
        return _PickState(together=self.together, scale=self.scale)


def _aec(**kwargs: Any):
    return lambda: GameEnv(_PickGame(**kwargs))


def test_a_game_true_to_its_info_passes() -> None:
    check_random_play(_aec())
    check_random_play(_aec(together=True))
    check_random_play(_aec(scale=2.0, min_utility=-2.0, max_utility=2.0))
    check_random_play(_aec(roles=None))
    check_parallel_random_play(lambda: ParallelGameEnv(_PickGame(together=True)))


def test_returns_outside_the_utility_bounds_fail() -> None:
    with pytest.raises(AssertionError, match=r"outside GameInfo's \[min_utility"):
        check_random_play(_aec(scale=2.0))
    with pytest.raises(AssertionError, match=r"outside GameInfo's \[min_utility"):
        check_parallel_random_play(lambda: ParallelGameEnv(_PickGame(scale=2.0)))


def test_seats_acting_at_once_in_a_game_declared_turn_based_fail() -> None:
    with pytest.raises(AssertionError, match="simultaneous=False, but seats"):
        check_random_play(_aec(together=True, simultaneous=False))
    with pytest.raises(AssertionError, match="simultaneous=False, but seats"):
        check_parallel_random_play(
            lambda: ParallelGameEnv(_PickGame(together=True, simultaneous=False))
        )


@pytest.mark.parametrize("roles", [("second", "first"), ("first",)])
def test_roles_that_are_not_the_seats_roles_fail(roles: tuple[str, ...]) -> None:
    with pytest.raises(AssertionError, match="GameInfo.roles"):
        check_random_play(_aec(roles=roles))


def test_every_field_of_game_info_is_documented() -> None:
    doc = GameInfo.__doc__ or ""
    for field in dataclasses.fields(GameInfo):
        assert f"{field.name}:" in doc, field.name
