"""Connect Four rules, OpenSpiel's ``connect_four``: ``x`` is player 0 and moves first.

A move names a column, ``0`` to ``columns - 1`` from the left; the piece falls to the
lowest empty cell of that column. ``x_in_row`` pieces of one seat in a line
(horizontal, vertical or either diagonal) win; a full board is a draw. The default
variant is OpenSpiel's default: 6 rows, 7 columns, four in a row.

Cells are addressed as OpenSpiel's ``CellAt(row, col)``: row 0 is the **bottom** row.
OpenSpiel's observation tensor is ``(3, rows, columns)``: plane 0 holds x's pieces,
plane 1 o's, plane 2 the empty cells, the same for both observers. With
``egocentric_obs_tensor`` (OpenSpiel's parameter of that name) plane 0 holds the
observer's opponent's pieces and plane 1 the observer's own.

The win test reads a bitboard per seat, as Connect Four engines do: bit
``col * (rows + 1) + row`` is set where the seat has a piece, and the spare bit on top
of each column keeps a line from running over into the next column, so a line of
``k`` is ``k - 1`` shifts and ANDs in each of the four directions.
"""

from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np

from selfplay_envs.core.game import State
from selfplay_envs.core.parsing import InvalidReason, ParseResult

__all__ = [
    "DEFAULT",
    "EMPTY",
    "MARKS",
    "ConnectFourState",
    "Variant",
    "board_to_string",
    "parse_column",
    "prompt",
]

MARKS = ("x", "o")  # OpenSpiel's: player 0 plays x and moves first
EMPTY = -1
_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
# "3", "col 3", "column 3". The groups are separated by characters the neighbouring
# group cannot match, so no input makes the match backtrack (linear time).
_COLUMN = re.compile(r"^(?:col(?:umn)?\s*)?(\d+)$", re.IGNORECASE)
# A column with a mark: MARS's "<X(3)>", "X(3)", OpenSpiel's "x3".
_MARKED = re.compile(r"^<?\s*([xo])\s*(?:\(\s*(\d+)\s*\)|(\d+))\s*>?$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Variant:
    """The game's parameters, as OpenSpiel's ``connect_four`` takes them.

    Attributes:
        rows: Rows of the board.
        columns: Columns of the board (the actions).
        x_in_row: Pieces in a line that win.
        egocentric_obs_tensor: Planes 0 and 1 of the tensor are the observer's
            opponent's pieces and the observer's own, instead of x's and o's.
    """

    rows: int = 6
    columns: int = 7
    x_in_row: int = 4
    egocentric_obs_tensor: bool = False

    @property
    def num_cells(self) -> int:
        """Cells of the board: the longest game."""
        return self.rows * self.columns

    @property
    def observation_shape(self) -> tuple[int, int, int]:
        """OpenSpiel's ``observation_tensor_shape``: ``(3, rows, columns)``."""
        return (3, self.rows, self.columns)

    @functools.cached_property
    def shifts(self) -> tuple[int, ...]:
        """Bit distances between neighbours: up, right, up-right, down-right."""
        height = self.rows + 1
        return (1, height, height + 1, height - 1)

    @functools.cached_property
    def column_names(self) -> tuple[str, ...]:
        """Each column's action text."""
        return tuple(str(c) for c in range(self.columns))

    @functools.cached_property
    def _of_name(self) -> dict[str, int]:
        return {name: c for c, name in enumerate(self.column_names)}

    def column_of(self, answer: str) -> int | None:
        """The column of a bare column number (the commonest answer), or None."""
        return self._of_name.get(answer)

    def has_line(self, bits: int) -> bool:
        """Whether the pieces ``bits`` (a seat's bitboard) hold a winning line."""
        k = self.x_in_row
        for shift in self.shifts:
            if k == 4:  # the default: two shifts instead of three
                pairs = bits & (bits >> shift)
                if pairs & (pairs >> 2 * shift):
                    return True
                continue
            line = bits
            for step in range(1, k):
                line &= bits >> (step * shift)
            if line:
                return True
        return False

    def legal_mask(self, full: int) -> np.ndarray:
        """The int8 mask of the columns not in ``full`` (a bit per full column);
        shared: the caller copies it."""
        return _legal_mask(self.columns, full)

    def legal_names(self, full: int) -> tuple[str, ...]:
        """The action texts of the columns not in ``full``."""
        return _legal_names(self.columns, full)


DEFAULT = Variant()


@functools.cache
def _legal_mask(columns: int, full: int) -> np.ndarray:
    return np.array([not full >> c & 1 for c in range(columns)], dtype=np.int8)


@functools.cache
def _legal_names(columns: int, full: int) -> tuple[str, ...]:
    return tuple(str(c) for c in range(columns) if not full >> c & 1)


class ConnectFourState(State):
    """A Connect Four position.

    The rules read ``heights`` (pieces in each column) and ``bits`` (one bitboard per
    seat, see the module docstring); ``board`` holds the same pieces as rows of seats
    (``board[row][col]``, row 0 at the bottom, -1 for empty) for the text view and
    ``infos``, and ``planes`` as OpenSpiel's observation tensor. Each move writes its
    one cell into all three, so no view is rebuilt from the others: that keeps a
    numeric AEC step at 4.3 times PettingZoo's ``connect_four_v3`` speed (the target
    is 3; ``benchmarks/bench_connect_four.py``).

    Args:
        variant: Board size, line length and tensor convention.
    """

    def __init__(self, variant: Variant = DEFAULT) -> None:
        self.variant = variant
        self.heights = [0] * variant.columns
        self.bits = [0, 0]
        self.full = 0  # a bit per full column
        self.board: list[tuple[int, ...]] = [
            (EMPTY,) * variant.columns for _ in range(variant.rows)
        ]
        self.planes = np.zeros(variant.observation_shape, dtype=np.float32)
        self.planes[2] = 1.0
        self.to_move = 0
        self.winner: int | None = None
        self.moves: list[int] = []

    @property
    def num_players(self) -> int:
        """Two seats: 0 plays x, 1 plays o."""
        return 2

    def role(self, player: int) -> str:
        """The seat's mark: ``"x"`` or ``"o"``."""
        return MARKS[player]

    def current_players(self) -> list[int]:
        """The seat to move, or nobody once the game is over."""
        return [] if self.is_terminal() else [self.to_move]

    def is_terminal(self) -> bool:
        """A line is complete or the board is full."""
        return self.winner is not None or len(self.moves) == self.variant.num_cells

    def returns(self) -> list[float]:
        """+1 / -1 for a win, 0 / 0 for a draw or an unfinished game."""
        if self.winner is None:
            return [0.0, 0.0]
        return [1.0 if p == self.winner else -1.0 for p in range(2)]

    # ---- actions --------------------------------------------------------------------

    def legal_actions(self, player: int) -> list[int]:
        """Columns with room, ascending (none for the idle seat)."""
        if player != self.to_move or self.winner is not None:
            return []  # a full board has no column with room: nothing more to check
        rows = self.variant.rows
        return [c for c, height in enumerate(self.heights) if height < rows]

    def legal_mask(self, player: int, num_actions: int) -> np.ndarray:
        """The columns with room as an int8 mask (none for the idle seat)."""
        if player != self.to_move or self.winner is not None:
            return np.zeros(num_actions, dtype=np.int8)
        return self.variant.legal_mask(self.full).copy()  # the caller may write in it

    def legal_action_strings(self, player: int) -> list[str]:
        """The numbers of the columns with room, as text (none for the idle seat)."""
        if player != self.to_move or self.winner is not None:
            return []
        return list(self.variant.legal_names(self.full))

    def action_to_string(self, player: int, action: int) -> str:
        """The column number; ``parse_answer`` also takes ``<X(3)>`` and ``x3``."""
        del player  # Same text for both seats.
        names = self.variant.column_names
        return names[action] if 0 <= action < len(names) else str(action)

    def parse_answer(self, player: int, answer: str) -> ParseResult:
        """A column number, ``column 3``, or a column with the mover's mark: MARS's
        ``<X(3)>`` or OpenSpiel's ``x3`` (any case)."""
        mark, column = parse_column(answer, self.variant)
        if column is None:
            text = answer.strip().strip(".").strip()
            last = self.variant.columns - 1
            return ParseResult.invalid(
                InvalidReason.UNPARSEABLE,
                f"expected a column 0-{last}, or <{MARKS[player].upper()}(column)>, "
                f"got {text[:40]!r}",
                answer,
            )
        if mark is not None and mark != MARKS[player]:
            detail = (
                f"{answer.strip()[:40]!r} is a move for '{mark}'; you play "
                f"'{MARKS[player]}'"
            )
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer)
        return self._check(column, answer)

    def check_numeric(self, player: int, action: int) -> ParseResult:
        """Validate a column index."""
        del player  # The adapter only asks the seat to move.
        return self._check(action, None)

    def _check(self, column: int, answer: str | None) -> ParseResult:
        variant = self.variant
        if not 0 <= column < variant.columns:
            detail = f"column {column} is off the board (0-{variant.columns - 1})"
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer)
        if self.heights[column] == variant.rows:
            detail = f"column {column} is full"
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer)
        return ParseResult.legal(column, answer)

    def apply_action(self, player: int, action: int) -> None:
        """Drop ``player``'s piece in column ``action`` and pass the turn."""
        variant = self.variant
        row = self.heights[action]
        self.heights[action] = row + 1
        if row + 1 == variant.rows:
            self.full |= 1 << action
        bits = self.bits[player] | 1 << (action * (variant.rows + 1) + row)
        self.bits[player] = bits
        line = self.board[row]
        self.board[row] = line[:action] + (player,) + line[action + 1 :]
        self.planes[player, row, action] = 1.0
        self.planes[2, row, action] = 0.0
        self.moves.append(action)
        if variant.has_line(bits):
            self.winner = player
        self.to_move = 1 - player

    # ---- observations ---------------------------------------------------------------

    def observation_tensor(self, player: int) -> np.ndarray:
        """OpenSpiel's ``observation_tensor(player)``, ``(3, rows, columns)`` (a fresh
        array)."""
        if self.variant.egocentric_obs_tensor:
            return self.planes[[1 - player, player, 2]]  # fancy indexing copies
        return self.planes.copy()  # the caller may write in it

    def observation_text(self, player: int) -> str:
        """The board with column numbers, whose turn it is and the legal moves."""
        result = self._result_text() if self.is_terminal() else None
        return prompt(self.variant, tuple(self.board), self.to_move, player, result)

    def info(self, player: int) -> dict[str, object]:
        """The public position for scripted players: ``board[row][col]`` (row 0 at
        the bottom) is the seat whose piece is there (0 or 1) or -1, ``moves`` the
        columns played so far."""
        return {
            "board": tuple(self.board),
            "moves": list(self.moves),
            "mark": MARKS[player],
            "to_move": self.to_move,
        }

    def render(self) -> str:
        """The board with column numbers, and whose turn it is or the result."""
        status = (
            self._result_text()
            if self.is_terminal()
            else f"{MARKS[self.to_move]} to move"
        )
        return f"{board_to_string(self.variant, tuple(self.board))}\n{status}"

    def _result_text(self) -> str:
        if self.winner is None:
            return "Draw."
        return f"'{MARKS[self.winner]}' wins."


def parse_column(
    answer: str, variant: Variant = DEFAULT
) -> tuple[str | None, int | None]:
    """The mark (``"x"``, ``"o"`` or None) and the column an extracted answer names
    (maybe off the board; None when it names none)."""
    # A bare "3", the commonest answer, is looked up: the vector rules parse every
    # reply of a batch through here.
    column = variant.column_of(answer)
    if column is not None:
        return None, column
    text = answer.strip().strip(".").strip()
    if match := _COLUMN.match(text):
        return None, _number(match.group(1))
    if match := _MARKED.match(text):
        digits = match.group(2) or match.group(3)
        return match.group(1).lower(), _number(digits)
    return None, None


def _number(digits: str) -> int | None:
    """The value of a run of digits; ``None`` past nine significant digits (``int``
    raises on more than 4300, and a reason quoting a huge number helps nobody)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 9 else None


# The opening positions recur in every game; later ones rarely do.
@functools.lru_cache(maxsize=4096)
def prompt(
    variant: Variant,
    board: tuple[tuple[int, ...], ...],
    to_move: int,
    player: int,
    result: str | None,
) -> str:
    """The text view of ``player`` (the scalar state and the vector rules both render
    through here).

    Args:
        variant: Board size and line length.
        board: ``board[row][col]``, row 0 at the bottom: the seat there, or -1.
        to_move: The seat to move.
        player: The seat that reads the prompt.
        result: The result sentence once the game is over, else None.
    """
    if result is not None:
        status = f"The game is over. {result}"
    elif to_move == player:
        legal = ", ".join(str(c) for c, cell in enumerate(board[-1]) if cell == EMPTY)
        status = f"It is your turn ('{MARKS[player]}'). Legal moves: {legal}."
    else:
        status = f"It is {MARKS[to_move]}'s turn."
    drawn = board_to_string(variant, board)
    return f"{_header(variant, MARKS[player])}\n\n{drawn}\n\n{status}"


def _header(variant: Variant, mark: str) -> str:
    k = variant.x_in_row
    line = _NUMBER_WORDS.get(k, str(k))
    return (
        f"You are playing Connect Four as '{mark}' on a board of {variant.rows} rows "
        f"and {variant.columns} columns.\n"
        f"A move is a column number 0-{variant.columns - 1}: your piece falls to the "
        f"lowest empty cell of that column. {line.capitalize()} in a row "
        "(across, up or diagonally) wins; a full board is a draw. "
        "A dot is an empty cell."
    )


def board_to_string(variant: Variant, board: tuple[tuple[int, ...], ...]) -> str:
    """The column numbers, then the rows from the top down; a dot is empty."""
    width = len(str(variant.columns - 1))
    header = " ".join(f"{c:>{width}}" for c in range(variant.columns))
    lines = [
        " ".join(f"{MARKS[v] if v != EMPTY else '.':>{width}}" for v in row)
        for row in reversed(board)
    ]
    return "\n".join([header, *lines])
