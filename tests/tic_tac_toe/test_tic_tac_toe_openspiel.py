"""Tic-tac-toe against OpenSpiel's ``tic_tac_toe``: same moves, ends and returns."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest

import selfplay_envs
from selfplay_envs.games.tic_tac_toe.rules import TicTacToeState

GAME = pyspiel.load_game("tic_tac_toe")


def _assert_same(
    ours: TicTacToeState, theirs: pyspiel.State, *, tensors: bool = True
) -> None:
    assert ours.is_terminal() == theirs.is_terminal()
    if theirs.is_terminal():
        assert ours.current_players() == []
        assert ours.returns() == pytest.approx(theirs.returns())
        return
    player = theirs.current_player()
    assert ours.current_players() == [player]
    assert ours.legal_actions(player) == theirs.legal_actions()
    assert ours.legal_actions(1 - player) == []
    legal = [str(a) for a in theirs.legal_actions()]
    assert ours.legal_action_strings(player) == legal
    assert ours.legal_action_strings(1 - player) == []
    if not tensors:
        return
    # OpenSpiel's planes are (empty, o, x); ours are (own, opponent) from each side.
    planes = np.asarray(theirs.observation_tensor(0)).reshape(3, 9)
    x_plane, o_plane = planes[2], planes[1]
    for seat, (own, rival) in enumerate(((x_plane, o_plane), (o_plane, x_plane))):
        tensor = ours.observation_tensor(seat).reshape(9, 2)
        np.testing.assert_array_equal(tensor[:, 0], own)
        np.testing.assert_array_equal(tensor[:, 1], rival)


def test_random_games_match_openspiel() -> None:
    rng = np.random.default_rng(0)
    for _ in range(3000):
        ours, theirs = TicTacToeState(), GAME.new_initial_state()
        _assert_same(ours, theirs, tensors=False)
        while not theirs.is_terminal():
            player = theirs.current_player()
            legal = theirs.legal_actions()
            action = legal[int(rng.integers(len(legal)))]
            ours.apply_action(player, action)
            theirs.apply_action(action)
            _assert_same(ours, theirs, tensors=False)


def test_every_reachable_position_matches_openspiel() -> None:
    """Legal moves, ends, returns and both seats' planes at all 5478 positions."""
    # Breadth-first over distinct positions: 5478 boards, each checked once.
    frontier = [(TicTacToeState(), GAME.new_initial_state())]
    seen = {tuple(frontier[0][0].board)}
    while frontier:
        next_frontier = []
        for ours, theirs in frontier:
            _assert_same(ours, theirs)
            if theirs.is_terminal():
                continue
            for action in theirs.legal_actions():
                child = theirs.child(action)
                mine = TicTacToeState()
                for move in child.history():
                    mine.apply_action(len(mine.moves) % 2, move)
                if tuple(mine.board) not in seen:
                    seen.add(tuple(mine.board))
                    next_frontier.append((mine, child))
        frontier = next_frontier
    assert len(seen) == 5478


@pytest.mark.parametrize("view", ["numeric", "text"])
def test_env_rewards_match_openspiel(view: str) -> None:
    rng = np.random.default_rng(1)
    env = selfplay_envs.make("tic_tac_toe_v0", view=view, infos="full")
    for episode in range(200):
        env.reset(seed=episode)
        theirs = GAME.new_initial_state()
        totals = dict.fromkeys(env.possible_agents, 0.0)
        for agent in env.agent_iter():
            _, reward, termination, truncation, info = env.last()
            totals[agent] += reward
            if termination or truncation:
                env.step(None)
                continue
            assert agent == f"player_{theirs.current_player()}"
            cell = int(rng.choice(theirs.legal_actions()))
            assert info["legal_actions"] == [str(a) for a in theirs.legal_actions()]
            theirs.apply_action(cell)
            env.step(cell if view == "numeric" else f"I pick \\boxed{{{cell}}}")
        assert theirs.is_terminal()
        assert [totals[a] for a in env.possible_agents] == theirs.returns()
