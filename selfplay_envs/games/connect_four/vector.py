"""Connect Four rules over a batch of boards, for ``BatchedEnv`` (both views).

The same rules as ``rules.ConnectFourState`` (OpenSpiel's ``connect_four``: x = seat 0
moves first, row 0 at the bottom), held as arrays: ``heights`` ``(N, columns)``, one
int64 bitboard per seat ``(N, 2)`` for the win test (a few shifts and ANDs over the
whole batch, see ``rules``), ``boards`` ``(N, rows, columns)`` int8 for the text view,
and ``planes`` ``(N, 3, rows, columns)``, OpenSpiel's observation tensor of each game
(x, o, empty), written one cell per move.

The text view renders through ``rules.prompt``, the scalar state's own renderer, and
keeps the prompts of the boards it has seen, up to ``TEXT_CACHE_SIZE`` (the opening
positions recur in every game, later ones rarely do: a small cache keeps the first).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selfplay_envs.core.parsing import extract_answer
from selfplay_envs.core.vector import VectorRules
from selfplay_envs.games.connect_four.rules import (
    DEFAULT,
    EMPTY,
    MARKS,
    ConnectFourState,
    Variant,
    parse_column,
    prompt,
)

__all__ = ["ConnectFourVectorRules", "TEXT_CACHE_SIZE", "fits"]

# Distinct prompts kept (about 1 kB each); past this the cache starts afresh.
TEXT_CACHE_SIZE = 20_000
# Seat 0's reward when the mover wins: +1 if seat 0 moved, -1 if seat 1 did.
_MOVER_SIGN = np.array([1.0, -1.0], dtype=np.float32)


def fits(variant: Variant) -> bool:
    """Whether a seat's bitboard (a spare bit on top of each column) fits an int64."""
    return (variant.rows + 1) * variant.columns <= 63


class ConnectFourVectorRules(VectorRules):
    """``num_envs`` Connect Four games as arrays; see ``core.vector.VectorRules``.

    Args:
        num_envs: Games held at once.
        variant: Board size, line length and tensor convention (its bitboard must
            ``fits``).
    """

    num_players = 2
    has_text = True

    def __init__(self, num_envs: int, variant: Variant = DEFAULT):
        super().__init__(num_envs)
        if not fits(variant):
            raise ValueError(
                "expected a board whose bitboard fits 63 bits, (rows + 1) * columns "
                f"<= 63, got {variant.rows} x {variant.columns}"
            )
        self.variant = variant
        rows, columns = variant.rows, variant.columns
        self.num_actions = columns
        self.observation_shape = variant.observation_shape
        self.heights = np.zeros((num_envs, columns), dtype=np.int64)
        self.bits = np.zeros((num_envs, 2), dtype=np.int64)
        self.boards = np.full((num_envs, rows, columns), EMPTY, dtype=np.int8)
        self.planes = np.zeros((num_envs, *variant.observation_shape), np.float32)
        self.planes[:, 2] = 1.0
        self.to_move = np.zeros(num_envs, dtype=np.int64)
        self.filled = np.zeros(num_envs, dtype=np.int64)
        self._games = np.arange(num_envs)
        # Offsets of each game's row in the flattened arrays: 1-D take/put is several
        # times cheaper than 2-D fancy indexing.
        self._height_rows = self._games * columns
        self._bit_rows = self._games * 2
        self._shifts = np.array(variant.shifts, dtype=np.int64)
        self._texts: dict[bytes, str] = {}

    def reset(self, mask: np.ndarray) -> None:
        """Empty the boards of the masked games; Connect Four draws no chance."""
        games = np.flatnonzero(mask)
        self.heights[games] = 0
        self.bits[games] = 0
        self.boards[games] = EMPTY
        self.planes[games] = 0.0
        self.planes[games, 2] = 1.0
        self.to_move[games] = 0
        self.filled[games] = 0

    def acting(self) -> np.ndarray:
        """The seat to move: 0 (x) or 1 (o)."""
        return self.to_move.copy()

    def legal_mask(self) -> np.ndarray:
        """Columns with room."""
        return (self.heights < self.variant.rows).view(np.int8)

    def observations(self) -> np.ndarray:
        """``(N, 3, rows, columns)``: OpenSpiel's tensor, from each mover's side when
        ``egocentric_obs_tensor`` (its opponent's pieces, then its own)."""
        if not self.variant.egocentric_obs_tensor:
            return self.planes.copy()
        mover = self.to_move
        order = np.stack([1 - mover, mover, np.full_like(mover, 2)], axis=1)
        return self.planes[self._games[:, None], order]

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Drop a piece in each legal column; a full or off-board column leaves the
        game unchanged.

        Every game must be in play (``BatchedEnv`` resets ended games at once).
        """
        variant = self.variant
        actions = np.asarray(actions, dtype=np.int64)
        mover = self.to_move
        on_board = actions.view(np.uint64) < variant.columns  # negatives wrap to huge
        column = actions * on_board
        height_index = self._height_rows + column
        heights = self.heights.reshape(-1)
        row = heights.take(height_index)
        valid = on_board & (row < variant.rows)
        heights.put(height_index, row + valid)
        bit_index = self._bit_rows + mover
        bits = self.bits.reshape(-1)
        # A full column's row is `rows`, its spare bit: in range, and masked out.
        cell = np.left_shift(1, column * (variant.rows + 1) + row) * valid
        mine = bits.take(bit_index) | cell
        bits.put(bit_index, mine)
        games = np.flatnonzero(valid)
        if len(games) == len(valid):
            played = (self._games, row, column)
            self.planes[self._games, mover, row, column] = 1.0
        else:
            played = (games, row[games], column[games])
            self.planes[games, mover[games], played[1], played[2]] = 1.0
        self.planes[played[0], 2, played[1], played[2]] = 0.0
        self.boards[played] = mover[played[0]]
        self.filled += valid
        won = self._lines(mine)  # only a move just played can complete a line
        terminated = won | (self.filled == variant.num_cells)
        rewards = np.empty((self.num_envs, 2), dtype=np.float32)
        rewards[:, 0] = np.where(won, _MOVER_SIGN.take(mover), 0.0)  # the mover won
        np.subtract(0.0, rewards[:, 0], out=rewards[:, 1])  # 0.0, never -0.0
        self.to_move ^= valid
        return rewards, terminated, ~valid

    def _lines(self, bits: np.ndarray) -> np.ndarray:
        """Which bitboards hold a line of ``x_in_row`` (``Variant.has_line``)."""
        k = self.variant.x_in_row
        shifts = self._shifts[:, None]
        boards = bits[None, :]
        if k == 4:
            pairs = boards & (boards >> shifts)
            lines = pairs & (pairs >> 2 * shifts)
        else:
            lines = boards
            for step in range(1, k):
                lines = lines & (boards >> step * shifts)
        return (lines != 0).any(axis=0)

    def episode_keys(self) -> np.ndarray:
        """Connect Four has no chance: ``(N, 0)``."""
        return np.zeros((self.num_envs, 0), dtype=np.int64)

    def initial_state(self, key: np.ndarray) -> ConnectFourState:
        """The empty board."""
        del key  # No chance.
        return ConnectFourState(self.variant)

    def texts(self) -> list[str]:
        """Each mover's prompt, rendered once per board while the cache holds it."""
        cache = self._texts
        if len(cache) > TEXT_CACHE_SIZE:
            cache.clear()
        texts = []
        for i in range(self.num_envs):
            board = self.boards[i]
            key = board.tobytes()
            text = cache.get(key)
            if text is None:
                mover = int(self.to_move[i])
                rows = tuple(tuple(row) for row in board.tolist())
                text = cache[key] = prompt(self.variant, rows, mover, mover, None)
            texts.append(text)
        return texts

    def parse_texts(self, texts: Sequence[str]) -> np.ndarray:
        """The column each reply names, as ``ConnectFourState.parse_action`` reads
        it; -1 where it names none, one off the board, or carries the other seat's
        mark (``step`` finds full columns)."""
        columns = []
        limit = self.variant.columns
        for text, mover in zip(texts, self.to_move.tolist(), strict=True):
            answer, _ = extract_answer(text)
            mark, column = (
                (None, None) if answer is None else parse_column(answer, self.variant)
            )
            ok = column is not None and 0 <= column < limit
            columns.append(column if ok and mark in (None, MARKS[mover]) else -1)
        return np.array(columns, dtype=np.int64)
