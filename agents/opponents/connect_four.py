"""Connect Four opponents: OpenSpiel's MCTS, as MARS evaluates against it.

``MCTSPolicy`` plays OpenSpiel's ``open_spiel.python.algorithms.mcts.MCTSBot`` with a
``RandomRolloutEvaluator``. Each turn it rebuilds the position as a pyspiel
``connect_four`` state by replaying the columns played so far (``info["moves"]``, a
public record in both views), so the bot searches exactly our position. The defaults
are MARS's (``roll/agentic/env/connect_four``): UCT constant 2, 10 random rollouts per
leaf, no solver; MARS evaluates against 100 and 1000 simulations, ``mcts100`` and
``mcts1000`` here. The bot's one ``RandomState``, shared with its evaluator as in MARS,
is seeded from ``seed``: a seeded policy replays the same moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from selfplay_agents.policy import Turn, answer

__all__ = ["MCTSPolicy", "mcts", "mcts100", "mcts1000"]

# MARS's settings of OpenSpiel's MCTS (ConnectFourConfig: uct_c, rollout_count).
UCT_C = 2.0
ROLLOUTS = 10


class MCTSPolicy:
    """OpenSpiel's MCTS bot with random rollouts, on our Connect Four positions.

    Args:
        simulations: Simulations per move (``max_simulations``).
        seed: Seed of the bot's ``RandomState`` (tree tie-breaks and rollouts).
        uct_c: UCT exploration constant.
        rollouts: Random rollouts per evaluated leaf.
        solve: Back up proven wins and losses (MCTS-Solver); MARS does not.
        rows: The board's rows, as the env's ``rows``.
        columns: The board's columns, as the env's ``columns``.
        x_in_row: Pieces in a line that win, as the env's ``x_in_row``.
    """

    def __init__(
        self,
        simulations: int = 100,
        seed: int | None = None,
        *,
        uct_c: float = UCT_C,
        rollouts: int = ROLLOUTS,
        solve: bool = False,
        rows: int = 6,
        columns: int = 7,
        x_in_row: int = 4,
    ):
        import pyspiel
        from open_spiel.python.algorithms import mcts as open_spiel_mcts

        if simulations < 1 or rollouts < 1:
            raise ValueError(
                "expected simulations >= 1 and rollouts >= 1, "
                f"got {simulations} and {rollouts}"
            )
        self.name = f"mcts{simulations}"
        self.simulations = simulations
        params = {"rows": rows, "columns": columns, "x_in_row": x_in_row}
        # OpenSpiel's defaults load without parameters (older pyspiel has none).
        default = params == {"rows": 6, "columns": 7, "x_in_row": 4}
        self.game = pyspiel.load_game("connect_four", {} if default else params)
        self.random_state = np.random.RandomState(seed)
        evaluator = open_spiel_mcts.RandomRolloutEvaluator(rollouts, self.random_state)
        self.bot = open_spiel_mcts.MCTSBot(
            self.game,
            uct_c,
            simulations,
            evaluator,
            solve=solve,
            random_state=self.random_state,
        )

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """One move per turn, in the turn's view."""
        return [self._one(turn) for turn in turns]

    def state_after(self, moves: Sequence[int]) -> Any:
        """The pyspiel state after the columns ``moves``, played in turn from x."""
        state = self.game.new_initial_state()
        for column in moves:
            state.apply_action(int(column))
        return state

    def choose(self, moves: Sequence[int]) -> int:
        """The column the bot plays after ``moves``."""
        state = self.state_after(moves)
        if state.is_terminal():
            raise ValueError(f"expected a position with a move to make, got {moves}")
        return int(self.bot.step(state))

    def _one(self, turn: Turn) -> Any:
        moves = turn.info.get("moves")
        if moves is None:
            raise ValueError(
                f"expected info['moves'] for {turn.env_id}: in the numeric view make "
                "the env with infos='full'"
            )
        column = self.choose(moves)
        return answer(turn, str(column), column)


def mcts(
    seed: int | None = None,
    simulations: int = 100,
    rows: int = 6,
    columns: int = 7,
    x_in_row: int = 4,
) -> MCTSPolicy:
    """Factory: MCTS with ``simulations`` per move (the game's config passed on)."""
    return MCTSPolicy(simulations, seed, rows=rows, columns=columns, x_in_row=x_in_row)


def mcts100(
    seed: int | None = None, rows: int = 6, columns: int = 7, x_in_row: int = 4
) -> MCTSPolicy:
    """Factory for ``Game.opponents``: MARS's MCTS-100."""
    return mcts(seed, 100, rows, columns, x_in_row)


def mcts1000(
    seed: int | None = None, rows: int = 6, columns: int = 7, x_in_row: int = 4
) -> MCTSPolicy:
    """Factory for ``Game.opponents``: MARS's MCTS-1000."""
    return mcts(seed, 1000, rows, columns, x_in_row)
