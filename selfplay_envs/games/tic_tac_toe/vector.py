"""Tic-tac-toe rules over a batch of boards, for the numeric ``BatchedEnv``.

The same rules as ``rules.TicTacToeState`` (``x`` = seat 0 moves first, cells
row-major), held as arrays: ``boards`` ``(N, 9)`` int8 (the seat that marked each cell,
-1 for empty) for observations and masks, and one 9-bit mask of each seat's cells for
the win check, which is a lookup in a precomputed table of the 512 masks that contain
one of the eight lines.

The text view renders through ``rules.prompt``, the scalar state's own renderer, and
keeps the prompt of each board it has seen (at most 3^9; a board fixes the seat to
move), so a training run renders each position once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selfplay_envs.core.parsing import extract_answer
from selfplay_envs.core.vector import VectorRules
from selfplay_envs.games.tic_tac_toe.rules import (
    EMPTY,
    LINES,
    NUM_CELLS,
    TicTacToeState,
    cell_of_answer,
    prompt,
)

__all__ = ["TicTacToeVectorRules"]

_CELL_BITS = (1 << np.arange(NUM_CELLS)).astype(np.int16)
_LINE_MASKS = np.array([sum(1 << c for c in line) for line in LINES])
# _WINS[m]: the cell mask m holds a complete line.
_WINS = ((np.arange(1 << NUM_CELLS)[:, None] & _LINE_MASKS) == _LINE_MASKS).any(axis=1)
# Seat 0's reward when the mover wins: +1 if seat 0 moved, -1 if seat 1 did.
_MOVER_SIGN = np.array([1.0, -1.0], dtype=np.float32)
# _PLANES[3 * observer + mark + 1]: the (own, opponent) planes of one cell, so a single
# gather builds every observation (marks are -1, 0, 1; observers 0, 1).
_PLANES = np.array(
    [[mark == obs, mark == 1 - obs] for obs in (0, 1) for mark in (EMPTY, 0, 1)],
    dtype=np.float32,
)
# A board's index among the 3^9 boards: each cell's mark + 1 is a base-3 digit.
_POWERS = 3 ** np.arange(NUM_CELLS, dtype=np.int64)


class TicTacToeVectorRules(VectorRules):
    """``num_envs`` tic-tac-toe games as arrays; see ``core.vector.VectorRules``."""

    num_players = 2
    num_actions = NUM_CELLS
    observation_shape = (3, 3, 2)
    has_text = True

    def __init__(self, num_envs: int):
        super().__init__(num_envs)
        self.boards = np.full((num_envs, NUM_CELLS), EMPTY, dtype=np.int8)
        self.cells = np.zeros((num_envs, 2), dtype=np.int16)  # bit masks, by seat
        self.to_move = np.zeros(num_envs, dtype=np.int64)
        self.filled = np.zeros(num_envs, dtype=np.int64)
        # Offsets of each game's row in the flattened boards and cell masks: 1-D
        # take/put is several times cheaper than 2-D fancy indexing.
        self._board_rows = np.arange(num_envs) * NUM_CELLS
        self._cell_rows = np.arange(num_envs) * 2
        self._texts: list[str | None] = [None] * 3**NUM_CELLS  # by board index

    def reset(self, mask: np.ndarray) -> None:
        """Empty the boards of the masked games; tic-tac-toe draws no chance."""
        games = np.flatnonzero(mask)
        self.boards[games] = EMPTY
        self.cells[games] = 0
        self.to_move[games] = 0
        self.filled[games] = 0

    def acting(self) -> np.ndarray:
        """The seat to move: 0 (x) or 1 (o)."""
        return self.to_move.copy()

    def legal_mask(self) -> np.ndarray:
        """Empty cells."""
        return (self.boards < 0).view(np.int8)

    def observations(self) -> np.ndarray:
        """``(N, 3, 3, 2)``: the mover's marks, then the opponent's."""
        index = self.boards + (3 * self.to_move[:, None] + 1)
        planes = np.take(_PLANES, index, axis=0)
        return planes.reshape(self.num_envs, 3, 3, 2)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mark each legal cell; a taken or off-board cell leaves the game unchanged.

        Every game must be in play (``BatchedEnv`` resets ended games at once).
        """
        actions = np.asarray(actions, dtype=np.int64)
        mover = self.to_move
        on_board = actions.view(np.uint64) < NUM_CELLS  # negatives wrap to huge
        cell = actions * on_board
        board_index = self._board_rows + cell
        boards = self.boards.reshape(-1)
        before = boards.take(board_index)
        valid = on_board & (before < 0)
        boards.put(board_index, np.where(valid, mover, before))
        cells = self.cells.reshape(-1)
        cell_index = self._cell_rows + mover
        mine = cells.take(cell_index) | (_CELL_BITS.take(cell) * valid)
        cells.put(cell_index, mine)
        self.filled += valid
        won = _WINS.take(mine)  # only a move just played can complete a line
        terminated = won | (self.filled == NUM_CELLS)
        rewards = np.empty((self.num_envs, 2), dtype=np.float32)
        rewards[:, 0] = np.where(won, _MOVER_SIGN.take(mover), 0.0)  # the mover won
        np.subtract(0.0, rewards[:, 0], out=rewards[:, 1])  # 0.0, never -0.0
        self.to_move ^= valid
        return rewards, terminated, ~valid

    def episode_keys(self) -> np.ndarray:
        """Tic-tac-toe has no chance: ``(N, 0)``."""
        return np.zeros((self.num_envs, 0), dtype=np.int64)

    def initial_state(self, key: np.ndarray) -> TicTacToeState:
        """The empty board."""
        del key  # No chance.
        return TicTacToeState()

    def texts(self) -> list[str]:
        """Each mover's prompt, rendered once per board."""
        cache = self._texts
        texts = []
        for i, index in enumerate(((self.boards + 1) @ _POWERS).tolist()):
            text = cache[index]
            if text is None:
                mover = int(self.to_move[i])
                text = cache[index] = prompt(
                    tuple(self.boards[i].tolist()), mover, mover, None
                )
            texts.append(text)
        return texts

    def parse_texts(self, texts: Sequence[str]) -> np.ndarray:
        """The cell each reply names, as ``TicTacToeState.parse_action`` reads it;
        -1 where it names none or one off the board (``step`` finds taken cells)."""
        cells = []
        for text in texts:
            answer, _ = extract_answer(text)
            cell = None if answer is None else cell_of_answer(answer)
            cells.append(cell if cell is not None and 0 <= cell < NUM_CELLS else -1)
        return np.array(cells, dtype=np.int64)
