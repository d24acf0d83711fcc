"""The minimax tic-tac-toe player never loses, whatever the opponent does."""

from __future__ import annotations

import time

import numpy as np
import pytest

import selfplay_envs
from selfplay_agents.opponents import list_opponents, make_opponent
from selfplay_agents.opponents.tic_tac_toe import MinimaxPolicy, best_moves, value
from selfplay_agents.policy import RandomPolicy, Turn
from selfplay_envs.games.tic_tac_toe.rules import TicTacToeState

EMPTY_BOARD = (-1,) * 9


def _undo(state: TicTacToeState, seat: int, cell: int) -> None:
    # The rules have no undo; a finished line can only come from the last move.
    state.board = state.board[:cell] + (-1,) + state.board[cell + 1 :]
    state.moves.pop()
    state.winner = None
    state.to_move = seat


def _outcomes_against_everything(minimax_seat: int) -> dict[str, int]:
    """Play every opponent move sequence, and every optimal minimax reply."""
    outcomes = {"win": 0, "draw": 0, "loss": 0}

    def explore(state: TicTacToeState) -> None:
        if state.is_terminal():
            result = state.returns()[minimax_seat]
            outcomes["win" if result > 0 else "loss" if result < 0 else "draw"] += 1
            return
        seat = state.current_players()[0]
        moves = (
            best_moves(tuple(state.board), seat)
            if seat == minimax_seat
            else state.legal_actions(seat)
        )
        for move in moves:
            state.apply_action(seat, move)
            explore(state)
            _undo(state, seat, move)

    explore(TicTacToeState())
    return outcomes


@pytest.mark.parametrize("seat", [0, 1], ids=["minimax-x", "minimax-o"])
def test_minimax_never_loses_to_any_opponent(seat: int) -> None:
    outcomes = _outcomes_against_everything(seat)
    assert outcomes["loss"] == 0
    assert outcomes["win"] > 0 and outcomes["draw"] > 0  # the tree was really explored


def test_game_value_is_a_draw_and_the_solver_is_fast() -> None:
    value.cache_clear()
    best_moves.cache_clear()
    start = time.perf_counter()
    assert value(EMPTY_BOARD, 0) == 0
    assert time.perf_counter() - start < 5.0
    # Every first move draws with perfect play, so all nine are optimal.
    assert best_moves(EMPTY_BOARD, 0) == tuple(range(9))


@pytest.mark.parametrize(
    ("board", "to_move", "expected"),
    [
        pytest.param((0, 0, -1, 1, 1, -1, -1, -1, -1), 0, (2,), id="x-wins-now"),
        pytest.param((0, 0, -1, -1, 1, -1, -1, -1, -1), 1, (2,), id="o-must-block"),
        pytest.param(
            (0, -1, -1, -1, -1, -1, -1, -1, -1), 1, (4,), id="o-answers-corner-centre"
        ),
    ],
)
def test_known_positions(
    board: tuple[int, ...], to_move: int, expected: tuple[int, ...]
) -> None:
    assert best_moves(board, to_move) == expected


def test_tie_breaking_lowest_cell_or_seeded_random() -> None:
    turn_info = {"board": list(EMPTY_BOARD), "to_move": 0}
    turn = Turn(
        env_id="tic_tac_toe_v0", agent="player_0", observation={}, info=turn_info
    )
    assert MinimaxPolicy().act([turn] * 5) == ["\\boxed{0}"] * 5
    picks = MinimaxPolicy(seed=7, random_ties=True).act([turn] * 50)
    assert picks == MinimaxPolicy(seed=7, random_ties=True).act([turn] * 50)
    assert len(set(picks)) > 3


@pytest.mark.parametrize("view", ["text", "numeric"])
@pytest.mark.parametrize("minimax_seat", [0, 1])
def test_minimax_through_the_env_beats_or_draws_random(
    view: str, minimax_seat: int
) -> None:
    assert "minimax" in list_opponents("tic_tac_toe_v0")
    players = {
        f"player_{minimax_seat}": make_opponent("tic_tac_toe_v0", "minimax", seed=0),
        f"player_{1 - minimax_seat}": RandomPolicy(seed=1),
    }
    env = selfplay_envs.make("tic_tac_toe_v0", view=view, infos="full")
    results = []
    for episode in range(30):
        env.reset(seed=episode)
        for agent in env.agent_iter():
            observation, reward, termination, truncation, info = env.last()
            if termination or truncation:
                if agent == f"player_{minimax_seat}":
                    results.append(reward)
                env.step(None)
                continue
            turn = Turn(
                env_id="tic_tac_toe_v0",
                agent=agent,
                observation=observation,
                info=info,
                view=view,
            )
            env.step(players[agent].act([turn])[0])
            assert env.infos[agent]["invalid_moves"] == 0
    assert len(results) == 30
    assert min(results) >= 0.0
    assert np.mean(results) > 0.5  # random play loses most games to a perfect player
