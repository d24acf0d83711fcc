"""The game ``higher_number_v0``: its rules, and its opponents by import path."""

from __future__ import annotations

import numpy as np

from selfplay_envs.core.game import Game, GameInfo, State

NUMBERS = 3  # each seat picks 0, 1 or 2


class HigherNumberState(State):
    """One episode: seat 0 picks, then seat 1; the higher number wins."""

    def __init__(self) -> None:
        self.picks: list[int] = []

    @property
    def num_players(self) -> int:
        return 2

    def current_players(self) -> list[int]:
        return [] if self.is_terminal() else [len(self.picks)]

    def is_terminal(self) -> bool:
        return len(self.picks) == 2

    def returns(self) -> list[float]:
        if not self.is_terminal():
            return [0.0, 0.0]
        first, second = self.picks
        if first == second:
            return [0.0, 0.0]
        return [1.0, -1.0] if first > second else [-1.0, 1.0]

    def role(self, player: int) -> str:
        return ("first", "second")[player]  # as GameInfo.roles declares

    def legal_actions(self, player: int) -> list[int]:
        return list(range(NUMBERS))

    def apply_action(self, player: int, action: int) -> None:
        self.picks.append(int(action))

    def observation_text(self, player: int) -> str:
        return (
            f"You are seat {player}. Picks so far: {self.picks}. "
            f"Pick a number from 0 to {NUMBERS - 1}; the higher number wins. "
            "Answer as \\boxed{N}."
        )

    def observation_tensor(self, player: int) -> np.ndarray:
        tensor = np.zeros(2 * NUMBERS, dtype=np.float32)
        for seat, pick in enumerate(self.picks):
            tensor[seat * NUMBERS + pick] = 1.0
        return tensor


class HigherNumberGame(Game):
    """Two seats, one pick each, the higher number wins (a tie draws)."""

    # The game's scripted opponents, by import path: the game never imports agents.
    # With one of its own, bench adds the built-in baselines (first_legal, random).
    opponents = {"highest": "higher_number.opponents:Highest"}

    def __init__(self) -> None:
        self.info = GameInfo(
            name="higher_number_v0",
            num_players=2,
            max_game_length=2,
            num_actions=NUMBERS,
            observation_shape=(2 * NUMBERS,),
            roles=("first", "second"),
        )

    def new_initial_state(self, rng: np.random.Generator) -> HigherNumberState:
        return HigherNumberState()
