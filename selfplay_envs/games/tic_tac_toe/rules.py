"""Tic-tac-toe rules, OpenSpiel's convention: ``x`` is player 0 and moves first.

Cells are numbered row-major, as in OpenSpiel's ``tic_tac_toe``::

    0 | 1 | 2
    3 | 4 | 5
    6 | 7 | 8

PettingZoo's ``tictactoe_v3`` numbers cells column-major; we follow OpenSpiel so that
action ids and returns can be checked against it move for move.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from selfplay_envs.core.game import State
from selfplay_envs.core.parsing import InvalidReason, ParseResult
from selfplay_envs.core.presets import (
    STRICT_SHAPE,
    PaperRules,
    example_replies,
    parse_reply,
)

NUM_CELLS = 9
MARKS = ("x", "o")
TEXTARENA_MARKS = ("O", "X")  # TextArena: player 0 plays 'O' and moves first
EMPTY = -1
LINES = (
    (0, 1, 2),
    (3, 4, 5),
    (6, 7, 8),
    (0, 3, 6),
    (1, 4, 7),
    (2, 5, 8),
    (0, 4, 8),
    (2, 4, 6),
)
# The lines through each cell: only those can be completed by a move there.
LINES_THROUGH = tuple(
    tuple(line for line in LINES if cell in line) for cell in range(NUM_CELLS)
)
CELL_NAMES = tuple(str(cell) for cell in range(NUM_CELLS))  # each cell's action text
_CELL_OF_NAME = {name: cell for cell, name in enumerate(CELL_NAMES)}
_BOARD_TEMPLATE = "\n---------\n".join(["{} | {} | {}"] * 3)
_CELL = re.compile(r"^(?:cell\s*)?(\d+)$", re.IGNORECASE)
# OpenSpiel prints moves as "x(1,2)": row and column, 0-based.
_ROW_COL = re.compile(
    r"^[xo]?\s*\(?\s*(?:row\s*)?(\d+)\s*[, ]\s*(?:col(?:umn)?\s*)?(\d+)\s*\)?$",
    re.IGNORECASE,
)


class TicTacToeState(State):
    """A tic-tac-toe position. ``board[c]`` is the seat that marked cell c, or -1.

    Args:
        rules: The scoring points of a paper preset (``core.presets``); by default
            the zero-sum rules.
        marks: The labels of seat 0 and seat 1 (seat 0 always moves first).
    """

    def __init__(
        self, rules: PaperRules | None = None, marks: tuple[str, str] = MARKS
    ) -> None:
        self.rules = rules or PaperRules()
        self.marks = marks
        self.formatted = [0, 0]  # replies in the strict format, per seat
        self.board: tuple[int, ...] = (EMPTY,) * NUM_CELLS
        self.to_move = 0
        self.winner: int | None = None
        self.moves: list[int] = []

    @property
    def num_players(self) -> int:
        """Two seats: 0 plays x, 1 plays o."""
        return 2

    def role(self, player: int) -> str:
        """The seat's mark: ``"x"`` or ``"o"`` (TextArena's labels: ``"O"``, ``"X"``)."""
        return self.marks[player]

    def current_players(self) -> list[int]:
        """The seat to move, or nobody once the game is over."""
        return [] if self.is_terminal() else [self.to_move]

    def is_terminal(self) -> bool:
        """A line is complete or the board is full."""
        return self.winner is not None or len(self.moves) == NUM_CELLS

    def returns(self) -> list[float]:
        """+1 / -1 for a win, ``draw_score`` each for a draw, 0 / 0 unfinished."""
        if self.winner is None:
            draw = self.rules.draw_score if len(self.moves) == NUM_CELLS else 0.0
            return [draw, draw]
        return [1.0 if p == self.winner else -1.0 for p in range(2)]

    def forfeit_returns(self, loser: int) -> list[float]:
        """The preset's (offender, other) returns, else the zero-sum forfeit."""
        if self.rules.invalid_returns is None:
            return super().forfeit_returns(loser)
        offender, other = self.rules.invalid_returns
        return [offender if p == loser else other for p in range(2)]

    def parse_action(self, player: int, text: str) -> ParseResult:
        """As ``State.parse_action``; under ``strict_format`` only the answer of a
        ``<think>...</think><answer>...</answer>`` reply counts."""
        return parse_reply(self, player, text)

    def example_actions(self, player: int) -> list[str]:
        """Valid replies; in the strict format under ``strict_format``."""
        return example_replies(self, player)

    def legal_actions(self, player: int) -> list[int]:
        """Empty cells, ascending (none for the idle seat)."""
        if player != self.to_move or self.winner is not None:
            return []  # a full board has no empty cell: nothing more to check
        return [c for c, mark in enumerate(self.board) if mark == EMPTY]

    def legal_mask(self, player: int, num_actions: int) -> np.ndarray:
        """The empty cells as an int8 mask (none for the idle seat)."""
        if player != self.to_move or self.winner is not None:
            return np.zeros(num_actions, dtype=np.int8)
        return _empty_mask(self.board).copy()  # the caller may write in it

    def legal_action_strings(self, player: int) -> list[str]:
        """The empty cells' numbers as text (none for the idle seat)."""
        if player != self.to_move or self.winner is not None:
            return []
        return list(_empty_cell_names(self.board))  # the caller may change it

    def action_to_string(self, player: int, action: int) -> str:
        """The cell number; ``parse_answer`` also takes OpenSpiel's ``x(r,c)``."""
        del player  # Same text for both seats.
        return CELL_NAMES[action] if 0 <= action < NUM_CELLS else str(action)

    def parse_answer(self, player: int, answer: str) -> ParseResult:
        """A cell 0-8, or a row and column (0-based) as ``1,2`` / ``x(1,2)``."""
        cell = cell_of_answer(answer)
        if cell is None:
            text = answer.strip().strip(".").strip()
            return ParseResult.invalid(
                InvalidReason.UNPARSEABLE,
                f"expected a cell 0-8 or 'row,col', got {text[:40]!r}",
                answer,
            )
        return self._check(player, cell, answer)

    def check_numeric(self, player: int, action: int) -> ParseResult:
        """Validate a cell index."""
        return self._check(player, action, None)

    def _check(self, player: int, cell: int, answer: str | None) -> ParseResult:
        if not 0 <= cell < NUM_CELLS:
            detail = f"cell {cell} is off the board (0-8)"
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer)
        if self.board[cell] != EMPTY:
            detail = f"cell {cell} is taken"
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer)
        del player  # The adapter only asks the seat to move.
        return ParseResult.legal(cell, answer)

    def apply_action(self, player: int, action: int) -> None:
        """Mark ``action`` for ``player`` and pass the turn."""
        self.board = self.board[:action] + (player,) + self.board[action + 1 :]
        self.moves.append(action)
        if _completes_line(self.board, player, action):
            self.winner = player
        self.to_move = 1 - player

    # ---- observations (the observer's side first, as PettingZoo classic) ---------------

    def observation_tensor(self, player: int) -> np.ndarray:
        """3x3x2 planes: the observer's marks, then the opponent's (a fresh array)."""
        return _planes(self.board, player).copy()  # the caller may write in it

    def observation_text(self, player: int) -> str:
        """The board, whose turn it is and the legal moves."""
        result = self._result_text() if self.is_terminal() else None
        text = prompt(self.board, self.to_move, player, result, self.marks)
        if self.rules.strict_format and result is None:
            text += f"\nReply as {STRICT_SHAPE}, your move in the answer."
        return text

    def info(self, player: int) -> dict[str, object]:
        """The public board for scripted players: ``board[c]`` is the seat that
        marked it (0 or 1) or -1; with a format bonus, the bonus earned so far."""
        info: dict[str, object] = {
            "board": list(self.board),
            "mark": self.marks[player],
            "to_move": self.to_move,
        }
        if self.rules.format_bonus:
            info["format_bonus"] = self.formatted[player] * self.rules.format_bonus
        return info

    def render(self) -> str:
        """The board with marks only."""
        status = (
            self._result_text()
            if self.is_terminal()
            else f"{self.marks[self.to_move]} to move"
        )
        board = board_to_string(self.board, numbered=False, marks=self.marks)
        return f"{board}\n{status}"

    def _result_text(self) -> str:
        if self.winner is None:
            return "Draw."
        return f"'{self.marks[self.winner]}' wins."


def cell_of_answer(answer: str) -> int | None:
    """The cell an extracted answer names (maybe off the board), or None."""
    # A bare "4", the commonest answer, is looked up: the vector rules parse every
    # reply of a batch through here.
    cell = _CELL_OF_NAME.get(answer)
    if cell is not None:
        return cell
    return _parse_cell(answer.strip().strip(".").strip())


@functools.cache  # built once per board, as _planes below
def prompt(
    board: tuple[int, ...],
    to_move: int,
    player: int,
    result: str | None,
    marks: tuple[str, str] = MARKS,
) -> str:
    """The text view of ``player`` (the scalar state and the vector rules both render
    through here).

    Args:
        board: The seat that marked each cell, or -1.
        to_move: The seat to move.
        player: The seat that reads the prompt.
        result: The result sentence once the game is over, else None.
        marks: The labels of seat 0 and seat 1.
    """
    if result is not None:
        status = f"The game is over. {result}"
    elif to_move == player:
        legal = ", ".join(str(c) for c, v in enumerate(board) if v == EMPTY)
        status = f"It is your turn ('{marks[player]}'). Legal moves: {legal}."
    else:
        status = f"It is {marks[to_move]}'s turn."
    numbered = board_to_string(board, numbered=True, marks=marks)
    return f"{_header(marks[player])}\n\n{numbered}\n\n{status}"


def _parse_cell(text: str) -> int | None:
    if match := _CELL.match(text):
        return _number(match.group(1))
    if match := _ROW_COL.match(text):
        row, col = _number(match.group(1)), _number(match.group(2))
        if row is not None and col is not None and row < 3 and col < 3:
            return 3 * row + col
    return None


def _number(digits: str) -> int | None:
    """The value of a run of digits; ``None`` past nine significant digits (``int``
    raises on more than 4300, and a reason quoting a huge number helps nobody)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 9 else None


def _completes_line(board: tuple[int, ...], player: int, cell: int) -> bool:
    """Whether ``player``'s mark on ``cell`` completes a line through it."""
    for a, b, c in LINES_THROUGH[cell]:
        if board[a] == board[b] == board[c] == player:
            return True
    return False


def _header(mark: str) -> str:
    return (
        f"You are playing tic-tac-toe as '{mark}'.\n"
        "Cells are numbered 0-8, row by row; a number marks an empty cell."
    )


# Tensors and prompts are pure functions of the board, and a game revisits the same
# few hundred of the 3^9 boards: building either costs more than the rest of a step,
# so each is built once per board.
@functools.cache
def _planes(board: tuple[int, ...], player: int) -> np.ndarray:
    planes = np.zeros((NUM_CELLS, 2), dtype=np.float32)
    for cell, mark in enumerate(board):
        if mark != EMPTY:
            planes[cell, int(mark != player)] = 1.0
    return planes.reshape(3, 3, 2)


@functools.cache
def _empty_cell_names(board: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(CELL_NAMES[cell] for cell, mark in enumerate(board) if mark == EMPTY)


@functools.cache
def _empty_mask(board: tuple[int, ...]) -> np.ndarray:
    return np.array([mark == EMPTY for mark in board], dtype=np.int8)


def board_to_string(
    board: tuple[int, ...], *, numbered: bool, marks: tuple[str, str] = MARKS
) -> str:
    """Three rows of marks; empty cells show their number or ``.``."""
    return _BOARD_TEMPLATE.format(
        *[
            marks[v] if v != EMPTY else (str(c) if numbered else ".")
            for c, v in enumerate(board)
        ]
    )
