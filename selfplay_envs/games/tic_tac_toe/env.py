"""# Tic-tac-toe

| | |
|---|---|
| Creation | `selfplay_envs.make("tic_tac_toe_v0", view="text" \\| "numeric", preset=None)` |
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

## Paper presets
`preset="spiral"`: an invalid move that ends the game scores -1.5 for the offender and
+0.5 for the other (SPIRAL's training mode; pass `invalid_move="loss"` to end at the
first one). `preset="mars"`: MARS's strict format (`<think>...</think><answer>...</answer>`,
else invalid), -10 / 0 for an invalid move, +0.05 per well-formatted reply in
`infos[agent]["format_bonus"]` (not in the returns), 0.1 each for a draw. Both make the
game non-zero-sum (`metadata["zero_sum"]` is False). `marks="textarena"`: TextArena's
labels, `player_0` plays `O` and moves first. Every point is a parameter of its own;
`docs/papers.md` compares them with the papers.

## Version History
* v0: initial release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from selfplay_envs.core.config import Choice, Param, Params
from selfplay_envs.core.game import Game, GameInfo
from selfplay_envs.core.presets import (
    paper_params,
    preset_invalid_move,
    resolve_rules,
)
from selfplay_envs.games.tic_tac_toe.rules import (
    MARKS,
    NUM_CELLS,
    TEXTARENA_MARKS,
    TicTacToeState,
)

if TYPE_CHECKING:
    from selfplay_envs.games.tic_tac_toe.vector import TicTacToeVectorRules

__all__ = ["TicTacToeGame"]


class TicTacToeGame(Game):
    """Tic-tac-toe, zero-sum by default; ``preset`` gives SPIRAL's or MARS's scoring.

    Args:
        preset: ``"spiral"``, ``"mars"`` or ``None`` (each point below, when not given).
        marks: ``"openspiel"`` (x moves first) or ``"textarena"`` (O moves first).
        **points: The preset's points as plain parameters (``core.presets``).
    """

    parameters = Params(
        *paper_params(stake=False, draw=True),
        Param(
            "marks",
            Choice("openspiel", "textarena"),
            "openspiel",
            "`openspiel`: `player_0` plays x; `textarena`: `player_0` plays O; "
            "`player_0` moves first either way",
        ),
        game="tic_tac_toe_v0",
    )
    conformance_configs = (
        {"preset": "spiral"},
        {"preset": "mars", "marks": "textarena"},
    )
    # Scripted opponents (``Game.opponents``), imported by agents on first use.
    opponents = {
        "random": "selfplay_agents.policy:RandomPolicy",
        "minimax": "selfplay_agents.opponents.tic_tac_toe:minimax",
    }

    def __init__(self, *, marks: str = "openspiel", **points: Any) -> None:
        self.rules = resolve_rules(points)
        self.default_invalid_move = preset_invalid_move(points)
        self.marks = TEXTARENA_MARKS if marks == "textarena" else MARKS
        invalid = self.rules.invalid_returns or (-1.0, 1.0)
        draw = self.rules.draw_score
        outcomes = (-1.0, 1.0, draw, *invalid)
        self.info = GameInfo(
            name="tic_tac_toe_v0",
            num_players=2,
            max_game_length=NUM_CELLS,
            num_actions=NUM_CELLS,
            observation_shape=(3, 3, 2),
            zero_sum=draw == 0.0 and sum(invalid) == 0.0,
            min_utility=min(outcomes),
            max_utility=max(outcomes),
            # The bound of prompts and of replies, which are cut to it before
            # parsing: room for a long reasoning before the move.
            max_text_length=65536,
            roles=self.marks,
        )

    def new_initial_state(self, rng: np.random.Generator) -> TicTacToeState:
        """The empty board; tic-tac-toe has no chance."""
        del rng  # Deterministic game.
        return TicTacToeState(self.rules, self.marks)

    def vector_rules(self, num_envs: int) -> TicTacToeVectorRules | None:
        """Vectorised rules for the numeric ``BatchedEnv`` (the zero-sum rules only:
        a preset takes the generic path)."""
        if not self.rules.default or self.marks != MARKS:
            return None
        # Imported here: the scalar env never needs the vector rules.
        from selfplay_envs.games.tic_tac_toe.vector import TicTacToeVectorRules

        return TicTacToeVectorRules(num_envs)
