"""# Connect Four

| | |
|---|---|
| Creation | `selfplay_envs.make("connect_four_v0", view="text" \\| "numeric", rows=6, columns=7, x_in_row=4)` |
| Agents | `player_0` (x, moves first), `player_1` (o) |
| Actions | `Discrete(7)` (numeric) or text: a column `0`-`6`, or MARS's `<X(3)>` / OpenSpiel's `x3` |
| Observation | text prompt, or OpenSpiel's `(3, 6, 7)` planes + `action_mask` |
| Reference | OpenSpiel `connect_four`; MARS evaluates on it as a held-out game |

OpenSpiel's `connect_four`, move for move: a 6 x 7 board, `player_0` plays x and
moves first, a move drops a piece into a column and it falls to the lowest empty cell.
Four of a seat's pieces in a line (horizontal, vertical or either diagonal) win; a full
board is a draw. `rows`, `columns`, `x_in_row` and `egocentric_obs_tensor` are
OpenSpiel's parameters of the same names.

## Observation
The text view draws the board from the top row down under the column numbers (a dot is
an empty cell), says whose turn it is and lists the legal columns:

```
0 1 2 3 4 5 6
. . . . . . .
. . . . . . .
. . . . . . .
. . . . . . .
. . . o . . .
x . . x . . .
```

The numeric view is OpenSpiel's `observation_tensor`, shape `(3, rows, columns)`: plane
0 holds x's pieces, plane 1 o's, plane 2 the empty cells, row 0 is the **bottom** row,
and both seats see the same tensor. With `egocentric_obs_tensor=True` plane 0 holds the
observer's opponent's pieces and plane 1 the observer's own (OpenSpiel's order). The
int8 `action_mask` marks the columns with room. `infos[agent]` adds the public position
for scripted players: `board` (`board[row][col]`, row 0 at the bottom: 0 for x, 1 for
o, -1 for empty), `moves` (the columns played, in order), the agent's `mark` and
`to_move` (the seat to move).

## Action
A column, numbered from the left, `0` to `columns - 1`. Text answers may be wrapped as
`\\boxed{3}`, `[3]` or `<answer>3</answer>`, or bare; the last answer in the reply
counts. `column 3` is accepted, and so are a column with the mover's mark: MARS's
action format `<X(3)>` (its Connect Four prompt lists the legal actions as
`<X(3)>` for x and `<O(3)>` for o, and asks for `<answer><X(3)></answer>`) and
OpenSpiel's `x3`, in any case.

## Rewards
| outcome | winner | loser |
|---|---|---|
| a line of `x_in_row` | +1 | -1 |
| full board | 0 | 0 |

## Invalid moves
A full column is `illegal: column 3 is full`, one off the board `illegal: column 9 is
off the board (0-6)`, a column with the other seat's mark (`<O(3)>` from x) `illegal:
'<O(3)>' is a move for 'o'; you play 'x'`, and text naming no column `unparseable`.
The env's invalid-move policy decides what follows (retry by default).

## Version History
* v0: initial release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from selfplay_envs.core.config import Bool, Int, Param, Params
from selfplay_envs.core.game import Game, GameInfo
from selfplay_envs.games.connect_four.rules import MARKS, ConnectFourState, Variant

if TYPE_CHECKING:
    from selfplay_envs.games.connect_four.vector import ConnectFourVectorRules

__all__ = ["ConnectFourGame"]

#: The largest board side accepted (OpenSpiel sets none).
MAX_SIDE = 20


class ConnectFourGame(Game):
    """Connect Four, OpenSpiel's ``connect_four`` with its parameters.

    Args:
        rows: Rows of the board.
        columns: Columns of the board, the actions.
        x_in_row: Pieces in a line that win.
        egocentric_obs_tensor: Tensor planes 0 and 1 are the observer's opponent's
            pieces and its own, instead of x's and o's.
    """

    parameters = Params(
        Param("rows", Int(1, MAX_SIDE), 6, "rows of the board"),
        Param("columns", Int(1, MAX_SIDE), 7, "columns of the board: the actions"),
        Param("x_in_row", Int(2, MAX_SIDE), 4, "pieces in a line that win"),
        Param(
            "egocentric_obs_tensor",
            Bool(),
            False,
            "tensor planes 0 and 1 hold the observer's opponent's pieces and its own "
            "(OpenSpiel's parameter); `False`: x's and o's, the same for both seats",
        ),
        game="connect_four_v0",
    )
    conformance_configs = (
        {"rows": 4, "columns": 5, "x_in_row": 3, "egocentric_obs_tensor": True},
    )
    # Scripted opponents (``Game.opponents``), imported by agents on first use.
    opponents = {
        "random": "selfplay_agents.policy:RandomPolicy",
        "mcts100": "selfplay_agents.opponents.connect_four:mcts100",
        "mcts1000": "selfplay_agents.opponents.connect_four:mcts1000",
    }

    def __init__(
        self,
        *,
        rows: int = 6,
        columns: int = 7,
        x_in_row: int = 4,
        egocentric_obs_tensor: bool = False,
    ) -> None:
        self.variant = Variant(rows, columns, x_in_row, egocentric_obs_tensor)
        self.info = GameInfo(
            name="connect_four_v0",
            num_players=2,
            max_game_length=self.variant.num_cells,
            num_actions=columns,
            observation_shape=self.variant.observation_shape,
            zero_sum=True,
            min_utility=-1.0,
            max_utility=1.0,
            # The bound of prompts and of replies, which are cut to it before
            # parsing: room for a long reasoning before the move.
            max_text_length=65536,
            roles=MARKS,
        )

    def new_initial_state(self, rng: np.random.Generator) -> ConnectFourState:
        """The empty board; Connect Four has no chance."""
        del rng  # Deterministic game.
        return ConnectFourState(self.variant)

    def vector_rules(self, num_envs: int) -> ConnectFourVectorRules | None:
        """Vectorised rules for ``BatchedEnv``, both views (boards whose bitboard,
        a spare bit per column included, fits in 63 bits: 6 x 7 takes 49)."""
        # Imported here: the scalar env never needs the vector rules.
        from selfplay_envs.games.connect_four.vector import (
            ConnectFourVectorRules,
            fits,
        )

        return (
            ConnectFourVectorRules(num_envs, self.variant)
            if fits(self.variant)
            else None
        )
