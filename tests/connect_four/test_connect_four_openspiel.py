"""Connect Four against OpenSpiel's ``connect_four``: same moves, tensors, ends, returns.

Thousands of seeded random games, checked at every step: the seat to move, the
terminal flag, the legal actions (and none for the idle seat), both seats' observation
tensors, and the returns at the end, on OpenSpiel's default board and on other values
of its parameters (``rows``, ``columns``, ``x_in_row``, ``egocentric_obs_tensor``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyspiel
import pytest

import selfplay_envs
from selfplay_envs.games.connect_four.rules import (
    ConnectFourState,
    Variant,
    board_to_string,
)

VARIANTS = {
    "default": ({}, 3000),
    "egocentric": ({"egocentric_obs_tensor": True}, 1000),
    "4x5-three": ({"rows": 4, "columns": 5, "x_in_row": 3}, 1000),
    "7x8-five": ({"rows": 7, "columns": 8, "x_in_row": 5}, 300),
    "5x4-four-egocentric": (
        {"rows": 5, "columns": 4, "x_in_row": 4, "egocentric_obs_tensor": True},
        500,
    ),
}


def _load(params: dict[str, Any]) -> pyspiel.Game:
    try:
        return pyspiel.load_game("connect_four", params)
    except pyspiel.SpielError as e:  # an older pyspiel without the parameter
        pytest.skip(f"this pyspiel's connect_four does not take {params}: {e}")


def _assert_same(ours: ConnectFourState, theirs: pyspiel.State) -> None:
    assert ours.is_terminal() == theirs.is_terminal()
    for seat in (0, 1):
        np.testing.assert_array_equal(
            ours.observation_tensor(seat).ravel(),
            np.asarray(theirs.observation_tensor(seat), dtype=np.float32),
        )
    # The text board is OpenSpiel's, spaced out under the column numbers.
    drawn = board_to_string(ours.variant, tuple(ours.board)).splitlines()[1:]
    assert [row.replace(" ", "") for row in drawn] == str(theirs).split()
    if theirs.is_terminal():
        assert ours.current_players() == []
        assert ours.legal_actions(0) == ours.legal_actions(1) == []
        assert ours.returns() == theirs.returns()
        return
    player = theirs.current_player()
    assert ours.current_players() == [player]
    assert ours.legal_actions(player) == theirs.legal_actions()
    assert ours.legal_actions(1 - player) == []
    assert ours.legal_action_strings(player) == [str(a) for a in theirs.legal_actions()]
    mask = np.asarray(theirs.legal_actions_mask(player), dtype=np.int8)
    np.testing.assert_array_equal(ours.legal_mask(player, len(mask)), mask)
    assert ours.returns() == [0.0, 0.0]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_random_games_match_openspiel_step_by_step(name: str) -> None:
    params, games = VARIANTS[name]
    game = _load(params)
    variant = Variant(**params)
    assert list(game.observation_tensor_shape()) == list(variant.observation_shape)
    assert game.max_game_length() == variant.num_cells
    rng = np.random.default_rng(0)
    wins = draws = 0
    for _ in range(games):
        ours, theirs = ConnectFourState(variant), game.new_initial_state()
        _assert_same(ours, theirs)
        while not theirs.is_terminal():
            player = theirs.current_player()
            legal = theirs.legal_actions()
            action = legal[int(rng.integers(len(legal)))]
            ours.apply_action(player, action)
            theirs.apply_action(action)
            _assert_same(ours, theirs)
        wins += theirs.returns()[0] != 0
        draws += theirs.returns()[0] == 0
    assert wins > 0 and draws > 0  # both endings occur (3 draws in 3000 on 6 x 7)


def test_openspiel_action_names_parse_as_their_moves() -> None:
    game = pyspiel.load_game("connect_four")
    rng = np.random.default_rng(1)
    for _ in range(200):
        ours, theirs = ConnectFourState(), game.new_initial_state()
        while not theirs.is_terminal():
            player = theirs.current_player()
            for action in theirs.legal_actions():
                text = theirs.action_to_string(player, action)  # "x3", "o5"
                assert ours.parse_action(player, text).action == action, text
            action = int(rng.choice(theirs.legal_actions()))
            ours.apply_action(player, action)
            theirs.apply_action(action)


@pytest.mark.parametrize("view", ["numeric", "text"])
def test_env_steps_and_rewards_match_openspiel(view: str) -> None:
    rng = np.random.default_rng(2)
    game = pyspiel.load_game("connect_four")
    env = selfplay_envs.make("connect_four_v0", view=view, infos="full")
    for episode in range(200):
        env.reset(seed=episode)
        theirs = game.new_initial_state()
        totals = dict.fromkeys(env.possible_agents, 0.0)
        for agent in env.agent_iter():
            observation, reward, termination, truncation, info = env.last()
            totals[agent] += reward
            if termination or truncation:
                env.step(None)
                continue
            player = theirs.current_player()
            assert agent == f"player_{player}"
            assert info["role"] == "xo"[player]
            assert info["legal_actions"] == [str(a) for a in theirs.legal_actions()]
            assert info["moves"] == theirs.history()
            if view == "numeric":
                np.testing.assert_array_equal(
                    observation["observation"].ravel(),
                    np.asarray(theirs.observation_tensor(player), dtype=np.float32),
                )
                np.testing.assert_array_equal(
                    observation["action_mask"], theirs.legal_actions_mask(player)
                )
            column = int(rng.choice(theirs.legal_actions()))
            theirs.apply_action(column)
            mark = "XO"[player]
            reply = [column, f"<answer><{mark}({column})></answer>"][view == "text"]
            env.step(reply)
        assert theirs.is_terminal()
        assert [totals[a] for a in env.possible_agents] == theirs.returns()
