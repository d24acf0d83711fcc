"""``env.render()`` shows the whole state, every seat's hidden information included.

A game's own ``State.render`` is that picture; a game that does not write one gets
``State``'s default, every seat's observation under its agent id.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import numpy as np
import pytest

import selfplay_envs
import selfplay_envs.games
from selfplay_envs.core.aec import GameEnv
from selfplay_envs.core.game import Game, GameInfo, State
from selfplay_envs.core.parallel import ParallelGameEnv


class _SecretState(State):
    """Each seat holds a secret only it sees; one move each, then the game ends."""

    def __init__(self, secrets: list[int]):
        self.secrets = secrets
        self.moves = 0

    @property
    def num_players(self) -> int:
        return 2

    def current_players(self) -> list[int]:
        return [] if self.is_terminal() else [self.moves]

    def is_terminal(self) -> bool:
        return self.moves >= 2

    def returns(self) -> list[float]:
        return [0.0, 0.0]

    def legal_actions(self, player: int) -> list[int]:
        return [0]

    def apply_action(self, player: int, action: int) -> None:
        self.moves += 1

    def observation_text(self, player: int) -> str:
        return f"Your secret is {self.secrets[player]}."


class _SecretGame(Game):
    def __init__(self) -> None:
        self.info = GameInfo(name="secret_v0", num_players=2, max_game_length=2)

    def new_initial_state(self, rng: np.random.Generator) -> State:
        return _SecretState([int(x) for x in rng.integers(1000, 10_000, size=2)])


@pytest.mark.parametrize("adapter", [GameEnv, ParallelGameEnv])
def test_a_game_without_its_own_render_shows_every_seat(adapter) -> None:
    env = adapter(_SecretGame(), render_mode="ansi")
    env.reset(seed=0)
    state = env.episode.state
    text = env.render()
    for p, secret in enumerate(state.secrets):
        assert f"player_{p}:\nYour secret is {secret}." in text
    assert text != state.observation_text(0)


def test_a_games_own_render_is_used_as_it_is() -> None:
    env = selfplay_envs.make("kuhn_poker_v0", render_mode="ansi")
    env.reset(seed=1)
    assert env.render() == env.unwrapped.episode.state.render()


def test_render_shows_both_kuhn_cards() -> None:
    env = selfplay_envs.make("kuhn_poker_v0", render_mode="ansi")
    env.reset(seed=2)
    text = env.render()
    cards = [env.infos[agent]["card"] for agent in env.possible_agents]
    assert cards[0] != cards[1]  # each seat sees only its own
    for card in cards:
        assert re.search(rf"\b{card}\b", text), (card, text)


def test_render_shows_both_negotiation_valuations() -> None:
    env = selfplay_envs.make("negotiation_v0", render_mode="ansi")
    env.reset(seed=0)
    state = env.unwrapped.episode.state
    text = env.render()
    for p in range(2):
        for value in state.values[p]:
            assert f"(x{value:g})" in text or f"(x{value})" in text


def _state_classes() -> list[type[State]]:
    found = []
    for module in pkgutil.iter_modules(selfplay_envs.games.__path__):
        rules = importlib.import_module(f"selfplay_envs.games.{module.name}.rules")
        found += [
            cls
            for _, cls in inspect.getmembers(rules, inspect.isclass)
            if issubclass(cls, State)
            and not inspect.isabstract(cls)
            and cls.__module__ == rules.__name__
        ]
    return found


def test_every_builtin_game_writes_its_own_render() -> None:
    classes = _state_classes()
    assert len(classes) >= 7
    for cls in classes:
        assert cls.render is not State.render, cls


def test_the_default_render_lists_every_seat() -> None:
    game = _SecretGame()
    state = game.new_initial_state(np.random.default_rng(0))
    assert state.render().split("\n\n") == [
        f"player_{p}:\n{state.observation_text(p)}" for p in range(2)
    ]
