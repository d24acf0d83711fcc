"""Connect Four opponents: OpenSpiel's MCTS driven from our positions, and random."""

from __future__ import annotations

import numpy as np
import pyspiel
import pytest
from open_spiel.python.algorithms import mcts

import selfplay_envs
from selfplay_agents.opponents import list_opponents, make_opponent
from selfplay_agents.opponents.connect_four import MCTSPolicy
from selfplay_agents.policy import RandomPolicy, Turn

C4 = "connect_four_v0"


def _turn(moves: list[int], view: str = "text") -> Turn:
    info = {"moves": moves, "to_move": len(moves) % 2}
    return Turn(env_id=C4, agent="player_0", observation={}, info=info, view=view)


def test_the_game_declares_random_and_mars_budgets() -> None:
    assert list_opponents(C4) == ["mcts100", "mcts1000", "random"]
    assert make_opponent(C4, "mcts100", seed=0).simulations == 100
    assert make_opponent(C4, "mcts1000", seed=0).name == "mcts1000"


def test_a_move_is_openspiels_bot_on_the_replayed_position() -> None:
    # The same bot, seeded alike, on the pyspiel state reached by the same moves.
    moves = [3, 3, 4, 2, 0]
    ours = MCTSPolicy(50, seed=7)
    game = pyspiel.load_game("connect_four")
    random_state = np.random.RandomState(7)
    bot = mcts.MCTSBot(
        game,
        2.0,
        50,
        mcts.RandomRolloutEvaluator(10, random_state),
        solve=False,
        random_state=random_state,
    )
    state = game.new_initial_state()
    for column in moves:
        state.apply_action(column)
    expected = [bot.step(state) for _ in range(5)]
    assert [ours.choose(moves) for _ in range(5)] == expected
    assert str(ours.state_after(moves)) == str(state)


def test_seeded_policies_replay_and_answer_in_the_turns_view() -> None:
    moves = [3, 2]
    first = MCTSPolicy(30, seed=1).act([_turn(moves)] * 4)
    assert first == MCTSPolicy(30, seed=1).act([_turn(moves)] * 4)
    assert all(reply.startswith("\\boxed{") for reply in first)
    column = MCTSPolicy(30, seed=1).act([_turn(moves, view="numeric")])[0]
    assert isinstance(column, int) and 0 <= column < 7


@pytest.mark.parametrize(
    ("moves", "column"),
    [
        ([0, 6, 1, 6, 2, 5], 3),  # x completes the bottom row
        ([6, 0, 5, 1, 6, 2], 3),  # o threatens the bottom row: x blocks it
        ([3, 0, 3, 0, 3, 0], 3),  # x completes column 3
    ],
    ids=["win-a-row", "block-a-row", "win-a-column"],
)
def test_mcts100_wins_or_blocks_at_once(moves: list[int], column: int) -> None:
    assert MCTSPolicy(100, seed=0).choose(moves) == column


def test_a_turn_without_the_moves_says_how_to_get_them() -> None:
    turn = Turn(env_id=C4, agent="player_0", observation={}, info={}, view="numeric")
    with pytest.raises(ValueError, match="infos='full'"):
        MCTSPolicy(10, seed=0).act([turn])
    with pytest.raises(ValueError, match="a move to make"):
        MCTSPolicy(10, seed=0).choose([0, 1, 0, 1, 0, 1, 0])
    with pytest.raises(ValueError, match="simulations >= 1"):
        MCTSPolicy(0)


def test_other_boards_pass_the_games_config_to_the_bot() -> None:
    policy = make_opponent(C4, "mcts100", seed=0, rows=4, columns=5, x_in_row=3)
    assert policy.game.num_distinct_actions() == 5
    assert policy.choose([0, 4, 1, 4]) == 2  # x completes 0-1-2 on the bottom row


@pytest.mark.parametrize("view", ["text", "numeric"])
def test_mcts_through_the_env_beats_random_from_either_seat(view: str) -> None:
    env = selfplay_envs.make(C4, view=view, infos="full")
    results = []
    for episode in range(4):
        seat = episode % 2
        players = {
            f"player_{seat}": MCTSPolicy(40, seed=episode),
            f"player_{1 - seat}": RandomPolicy(seed=episode),
        }
        env.reset(seed=episode)
        for agent in env.agent_iter():
            observation, reward, termination, truncation, info = env.last()
            if termination or truncation:
                if agent == f"player_{seat}":
                    results.append(reward)
                env.step(None)
                continue
            turn = Turn(
                env_id=C4, agent=agent, observation=observation, info=info, view=view
            )
            env.step(players[agent].act([turn])[0])
            assert env.infos[agent]["invalid_moves"] == 0
    assert results == [1.0] * 4
