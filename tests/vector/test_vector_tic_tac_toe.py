"""Vectorised tic-tac-toe rules against the scalar ``TicTacToeState``, game by game."""

from __future__ import annotations

import numpy as np

from selfplay_envs.core.game import State
from selfplay_envs.games.tic_tac_toe.env import TicTacToeGame
from selfplay_envs.games.tic_tac_toe.rules import LINES, TicTacToeState
from selfplay_envs.games.tic_tac_toe.vector import TicTacToeVectorRules

NUM_ENVS = 32


def _scalar_mask(state: State, player: int) -> np.ndarray:
    mask = np.zeros(9, dtype=np.int8)
    mask[state.legal_actions(player)] = 1
    return mask


def _assert_matches(rules: TicTacToeVectorRules, states: list[TicTacToeState]) -> None:
    players = [state.current_players()[0] for state in states]
    observations = rules.observations()
    masks = rules.legal_mask()
    assert observations.dtype == np.float32 and masks.dtype == np.int8
    np.testing.assert_array_equal(rules.acting(), players)
    np.testing.assert_array_equal(
        observations,
        [s.observation_tensor(p) for s, p in zip(states, players, strict=True)],
    )
    np.testing.assert_array_equal(
        masks, [_scalar_mask(s, p) for s, p in zip(states, players, strict=True)]
    )


def test_random_play_matches_the_scalar_rules_move_for_move() -> None:
    rng = np.random.default_rng(0)
    rules = TicTacToeVectorRules(NUM_ENVS)
    rules.seed([np.random.default_rng(i) for i in range(NUM_ENVS)])
    rules.reset(np.ones(NUM_ENVS, dtype=bool))
    states = [TicTacToeState() for _ in range(NUM_ENVS)]
    ended = 0
    for _ in range(400):
        _assert_matches(rules, states)
        # Mostly legal moves, some taken or off-board cells (left unchanged).
        actions = rng.integers(-3, 12, size=NUM_ENVS)
        legal = rng.random(NUM_ENVS) < 0.7
        for i in np.flatnonzero(legal):
            actions[i] = rng.choice(states[i].legal_actions(states[i].to_move))
        rewards, terminated, invalid = rules.step(actions)
        for i, state in enumerate(states):
            player = state.current_players()[0]
            ok = state.check_numeric(player, int(actions[i])).ok
            assert invalid[i] == (not ok)
            if ok:
                state.apply_action(player, int(actions[i]))
        assert terminated.tolist() == [s.is_terminal() for s in states]
        assert rewards.tolist() == [s.returns() for s in states]
        assert not (np.signbit(rewards) & (rewards == 0)).any()  # no -0.0
        ended += int(terminated.sum())
        rules.reset(terminated)
        states = [
            TicTacToeState() if t else s
            for s, t in zip(states, terminated, strict=True)
        ]
    assert ended > 100


def test_win_table_agrees_with_the_lines_for_every_cell_mask() -> None:
    from selfplay_envs.games.tic_tac_toe.vector import _WINS

    for mask in range(512):
        cells = {c for c in range(9) if mask >> c & 1}
        expected = any(set(line) <= cells for line in LINES)
        assert bool(_WINS[mask]) == expected, mask


def test_reset_clears_only_the_masked_games() -> None:
    rules = TicTacToeVectorRules(3)
    rules.reset(np.ones(3, dtype=bool))
    rules.step(np.array([4, 0, 8]))
    rules.reset(np.array([False, True, False]))
    np.testing.assert_array_equal(rules.acting(), [1, 0, 1])
    np.testing.assert_array_equal(rules.legal_mask().sum(axis=1), [8, 9, 8])


def test_the_game_advertises_its_vector_rules() -> None:
    rules = TicTacToeGame().vector_rules(5)
    assert isinstance(rules, TicTacToeVectorRules) and rules.num_envs == 5
    assert rules.episode_keys().shape == (5, 0)
    assert isinstance(rules.initial_state(rules.episode_keys()[0]), TicTacToeState)
