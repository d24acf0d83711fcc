"""Leduc hold'em: parsing of model replies, configuration, match accounting, docs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import selfplay_envs
import selfplay_envs.games.leduc_poker.env as leduc_env
from selfplay_envs.core.errors import ConfigError
from selfplay_envs.core.parsing import InvalidReason
from selfplay_envs.games.leduc_poker.rules import Action, LeducPokerState

PAGE = Path(__file__).resolve().parents[2] / "docs" / "games" / "leduc_poker.md"


def _state(*history: int) -> LeducPokerState:
    state = LeducPokerState([(4, 0, 2)])  # opener K, responder J, public Q
    for action in history:
        state.apply_action(state.current_players()[0], action)
    return state


@pytest.mark.parametrize(
    ("history", "reply", "expected"),
    [
        ((), "\\boxed{check}", Action.CALL),
        ((), "I hold a King. \\boxed{bet}", Action.RAISE),
        ((), "[Raise]", Action.RAISE),
        ((), "<answer>call</answer>", Action.CALL),
        ((2,), "\\boxed{fold}", Action.FOLD),
        ((2,), "\\boxed{\\text{Raise}}", Action.RAISE),
        ((2,), "call.", Action.CALL),
    ],
)
def test_replies_parse(history: tuple[int, ...], reply: str, expected: Action) -> None:
    state = _state(*history)
    result = state.parse_action(state.current_players()[0], reply)
    assert result.ok and result.action == expected


@pytest.mark.parametrize(
    ("history", "reply", "reason", "words"),
    [
        ((2,), "\\boxed{check}", InvalidReason.ILLEGAL, "cannot check"),
        ((), "\\boxed{fold}", InvalidReason.ILLEGAL, "cannot fold"),
        ((2,), "\\boxed{bet}", InvalidReason.ILLEGAL, "cannot bet"),
        ((2, 2), "\\boxed{raise}", InvalidReason.ILLEGAL, "2 raises"),
        ((), "\\boxed{all in}", InvalidReason.UNPARSEABLE, "expected fold"),
    ],
)
def test_bad_replies_are_invalid_with_a_reason(
    history: tuple[int, ...], reply: str, reason: InvalidReason, words: str
) -> None:
    state = _state(*history)
    result = state.parse_action(state.current_players()[0], reply)
    assert not result.ok
    assert result.reason == reason
    assert words in result.detail


def test_numeric_illegal_action_is_refused() -> None:
    state = _state()
    assert not state.check_numeric(0, Action.FOLD).ok
    assert not state.check_numeric(0, 7).ok
    with pytest.raises(ValueError):
        state.apply_action(0, Action.FOLD)


def test_showdown_pair_beats_high_card_and_ties_split() -> None:
    # Opener J pairs the public J against a K; check every round.
    state = LeducPokerState([(0, 4, 1)])
    for _ in range(4):
        state.apply_action(state.current_players()[0], Action.CALL)
    assert state.returns() == [1.0, -1.0]
    state = LeducPokerState([(0, 1, 4)])  # J against J: the pot is split
    for action in (2, 1, 2, 2, 1):  # raise-call, bet-raise-call: 1 + 2 + 8 each
        state.apply_action(state.current_players()[0], action)
    assert state.is_terminal() and state.returns() == [0.0, 0.0]
    assert state.results[-1].winner == -1


def test_match_alternates_the_opener_and_counts_chips() -> None:
    env = selfplay_envs.make("leduc_poker_v0", num_hands=4, view="numeric")
    env.reset(seed=3)
    openers = []
    state = env.episode.state
    for agent in env.agent_iter():
        *_, termination, truncation, _ = env.last()
        if termination or truncation:
            env.step(None)
            continue
        if not state.rounds[0] and state.round == 0:
            openers.append(agent)
        env.step(Action.FOLD if state.owed() else Action.RAISE)
    assert openers == ["player_0", "player_1", "player_0", "player_1"]
    # Every hand: the opener bets 2, the responder raises, the opener folds (-3).
    assert state.chips == [0, 0]
    assert len(state.results) == 4


@pytest.mark.parametrize(
    ("config", "name"),
    [
        ({"num_hands": 0}, "num_hands"),
        ({"num_hands": "3"}, "num_hands"),
        ({"reward": "points"}, "reward"),
        ({"preset": "textarena"}, "preset"),
    ],
)
def test_bad_config_is_refused_at_make(config: dict, name: str) -> None:
    with pytest.raises(ConfigError) as err:
        selfplay_envs.make("leduc_poker_v0", **config)
    assert name in str(err.value)
    assert repr(next(iter(config.values()))) in str(err.value)


def test_tensor_is_float32_in_unit_interval_for_idle_seats() -> None:
    rng = np.random.default_rng(0)
    state = LeducPokerState.from_rng(rng, 3, "chips")
    while not state.is_terminal():
        for seat in (0, 1):
            tensor = state.observation_tensor(seat)
            assert tensor.dtype == np.float32 and tensor.shape == (32,)
            assert tensor.min() >= 0.0 and tensor.max() <= 1.0
        player = state.current_players()[0]
        legal = state.legal_actions(player)
        state.apply_action(player, legal[int(rng.integers(len(legal)))])


def test_doc_page_starts_with_the_env_docstring() -> None:
    assert PAGE.read_text().startswith(leduc_env.__doc__.rstrip("\n") + "\n")
