"""A perfect tic-tac-toe player: memoised negamax over the whole game tree.

The player reads the public board from ``turn.info["board"]`` (never the prompt text),
so it plays in both views. Among optimal moves it prefers the quickest win and the
slowest loss; remaining ties go to the lowest cell, or to a seeded random choice with
``random_ties=True``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from selfplay_agents.policy import Turn, answer
from selfplay_envs.games.tic_tac_toe.rules import EMPTY, LINES, NUM_CELLS

__all__ = ["MinimaxPolicy", "minimax", "best_moves", "value"]


def _winner(board: tuple[int, ...]) -> int | None:
    for a, b, c in LINES:
        if board[a] != EMPTY and board[a] == board[b] == board[c]:
            return board[a]
    return None


@functools.cache
def value(board: tuple[int, ...], to_move: int) -> int:
    """Game value for ``to_move`` under perfect play: +n win, 0 draw, -n loss.

    The magnitude is one plus the number of empty cells left when the game ends,
    so a quicker win scores higher and a later loss scores less badly.
    """
    winner = _winner(board)
    empty = [c for c in range(NUM_CELLS) if board[c] == EMPTY]
    if winner is not None:
        return (len(empty) + 1) * (1 if winner == to_move else -1)
    if not empty:
        return 0
    return max(-value(_play(board, c, to_move), 1 - to_move) for c in empty)


@functools.cache
def best_moves(board: tuple[int, ...], to_move: int) -> tuple[int, ...]:
    """Every optimal cell for ``to_move``, ascending."""
    empty = [c for c in range(NUM_CELLS) if board[c] == EMPTY]
    if not empty or _winner(board) is not None:
        return ()
    scores = {c: -value(_play(board, c, to_move), 1 - to_move) for c in empty}
    best = max(scores.values())
    return tuple(c for c in empty if scores[c] == best)


def _play(board: tuple[int, ...], cell: int, player: int) -> tuple[int, ...]:
    return board[:cell] + (player,) + board[cell + 1 :]


class MinimaxPolicy:
    """Plays an optimal move in every position; it never loses.

    Args:
        seed: Seed of the generator used for ``random_ties``.
        random_ties: Pick uniformly among optimal moves instead of the lowest cell.
    """

    def __init__(self, seed: int | None = None, *, random_ties: bool = False):
        self.name = "minimax"
        self.random_ties = random_ties
        self.rng = np.random.default_rng(seed)

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """One optimal move per turn, in the turn's view."""
        return [self._one(turn) for turn in turns]

    def choose(self, board: Sequence[int], to_move: int) -> int:
        """The cell this player picks on ``board`` (0 = x, 1 = o, -1 = empty)."""
        moves = best_moves(tuple(int(v) for v in board), int(to_move))
        if not moves:
            raise ValueError(f"expected a position with a move to make, got {board}")
        if self.random_ties and len(moves) > 1:
            return moves[int(self.rng.integers(len(moves)))]
        return moves[0]

    def _one(self, turn: Turn) -> Any:
        cell = self.choose(turn.info["board"], turn.info["to_move"])
        return answer(turn, str(cell), cell)


def minimax(seed: int | None = None, random_ties: bool = False) -> MinimaxPolicy:
    """Factory for ``OPPONENTS``: the perfect player."""
    return MinimaxPolicy(seed, random_ties=random_ties)
