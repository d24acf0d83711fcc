"""# Tic-tac-toe

| | |
|---|---|
| Creation | `selfplay_envs.make("tic_tac_toe_v0", view="text" \\| "numeric")` |
| Agents | `player_0` (x, moves first), `player_1` (o) |
| Actions | `Discrete(9)` (numeric) or text: a cell `0`-`8`, or `row,col` / `x(row,col)` |
| Observation | text prompt, or `(3, 3, 2)` planes + `action_mask` |
| Reference | OpenSpiel `tic_tac_toe`; SPIRAL and MARS use it for LLM self-play |

## Observation
The text view shows the board with empty cells numbered, whose turn it is and the legal
moves. The numeric view holds two 3x3 planes from the observer's side (own marks, then the
opponent's), as PettingZoo's classic `tictactoe_v3`, plus an int8 `action_mask`.
`infos[agent]` adds the public board for scripted players: `board` (nine entries, 0 for
x, 1 for o, -1 for empty), the agent's `mark` and `to_move` (the seat to move).

## Action
Cells are numbered row-major, as OpenSpiel (PettingZoo numbers them column-major):

```
0 | 1 | 2
3 | 4 | 5
6 | 7 | 8
```

Text answers may be wrapped as `\\boxed{4}`, `[4]` or `<answer>4</answer>`; the last
answer in the reply counts. `1,1` and OpenSpiel's `x(1,1)` (row, column, 0-based) also
mean cell 4.

## Rewards
| outcome | winner | loser |
|---|---|---|
| three in a row | +1 | -1 |
| draw | 0 | 0 |

## Invalid moves
A taken or off-board cell is `illegal: cell 4 is taken`; text with no cell is
`unparseable`. The env's invalid-move policy decides what follows (retry by default).

## Version History
* v0: initial release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from selfplay_envs.core.config import Params
from selfplay_envs.core.game import Game, GameInfo
from selfplay_envs.games.tic_tac_toe.rules import NUM_CELLS, TicTacToeState

if TYPE_CHECKING:
    from selfplay_envs.games.tic_tac_toe.vector import TicTacToeVectorRules

__all__ = ["TicTacToeGame"]


class TicTacToeGame(Game):
    """Tic-tac-toe; it takes no parameters."""

    parameters = Params(game="tic_tac_toe_v0")
    # Scripted opponents (``Game.opponents``), imported by agents on first use.
    opponents = {
        "random": "agents.policy:RandomPolicy",
        "minimax": "agents.opponents.tic_tac_toe:minimax",
    }

    info = GameInfo(
        name="tic_tac_toe_v0",
        num_players=2,
        max_game_length=NUM_CELLS,
        num_actions=NUM_CELLS,
        observation_shape=(3, 3, 2),
        # The bound of prompts and of replies, which are cut to it before parsing:
        # room for a long reasoning before the move (the prompts are far shorter).
        max_text_length=65536,
        roles=("x", "o"),
    )

    def new_initial_state(self, rng: np.random.Generator) -> TicTacToeState:
        """The empty board; tic-tac-toe has no chance."""
        del rng  # Deterministic game.
        return TicTacToeState()

    def vector_rules(self, num_envs: int) -> TicTacToeVectorRules:
        """Vectorised rules for the numeric ``BatchedEnv``."""
        # Imported here: the scalar env never needs the vector rules.
        from selfplay_envs.games.tic_tac_toe.vector import TicTacToeVectorRules

        return TicTacToeVectorRules(num_envs)
