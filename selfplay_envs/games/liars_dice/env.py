"""# Liar's Dice

| | |
|---|---|
| Creation | `selfplay_envs.make("liars_dice_v0", view="text" \\| "numeric", dice_per_player=1, sides=6, preset=None)` |
| Agents | `player_0` (bids first), `player_1` |
| Actions | `Discrete(2 * dice_per_player * sides + 1)`: bid ids `(Q - 1) * sides + (F - 1)`, then liar; text: `bid Q F`, `liar` |
| Observation | text prompt, or OpenSpiel's information-state tensor `(21,)` for the defaults + `action_mask` |
| Reference | OpenSpiel `liars_dice`; SPIRAL trains on TextArena's LiarsDice |

Exactly OpenSpiel's `liars_dice` for two players (its `numdice` is `dice_per_player`,
its `dice_sides` is `sides`, its bidding rule the default `reset-face`). Each player
rolls `dice_per_player` dice and sees only their own. `player_0` bids first; a bid "Q x
F" claims that at least Q of all the dice show face F, and every bid must be higher than
the standing one in OpenSpiel's order, quantity first, then face: more dice with any
face, or as many dice with a higher face. Instead of bidding a player may call the
standing bid a lie (not as the first move). All dice are then shown and **the highest
face is wild** (a 6 counts as any face, as in OpenSpiel): if at least Q dice match, the
bid stands and the caller loses; otherwise the bidder loses. The winner gets +1, the
loser -1.

## Observation
The text view shows the rules, the player's own dice, every bid so far and whose turn it
is; at the end also the rival's dice and the count.

The numeric view is OpenSpiel's `information_state_tensor`:

| index | meaning |
|---|---|
| 0-1 | player one-hot |
| 2 to 2 + D*S - 1 | own dice, sorted: a `sides` one-hot per die |
| next 2*D*S + 1 | one bit per action taken so far: each bid id, then liar |

`infos[agent]` adds `dice` (own faces, sorted), `bids` (the (quantity, face) bids so far)
and `info_state` (OpenSpiel's information-state string, e.g. `"3 1-4 2-3"`).

## Action
| id | text | meaning |
|---|---|---|
| `(Q - 1) * sides + (F - 1)` | `bid Q F` | at least Q dice show F (Q in 1 to 2D, F in 1 to `sides`) |
| `2 * D * sides` | `liar` | call the standing bid |

A bid is read as two numbers, quantity then face: `bid 3 4`, `3 4`, OpenSpiel's `3-4`
and TextArena's `[Bid: 3, 4]` all work. The call is `liar`, `call` (TextArena's
`[Call]`), `challenge` or `doubt`. Answers may be wrapped as `\\boxed{bid 2 5}`, `[...]`
or `<answer>...</answer>`; the last answer counts.

## Rewards
| result | the caller | the bidder |
|---|---|---|
| fewer dice match than the bid claims | +1 | -1 |
| at least as many match | -1 | +1 |

## Invalid moves
A bid not above the standing one, a quantity or face out of range and `liar` before any
bid are `illegal` (the reason says why); an answer that is neither two numbers nor a
call is `unparseable`. The env's invalid-move policy decides what follows (retry by
default); a forfeit scores -1 for the offender and +1 for the other.

## Paper presets
`preset="spiral"` plays TextArena's size: `dice_per_player=5` (when not given), and
SPIRAL's -1.5 / +0.5 for a game-ending invalid move. The rest stays OpenSpiel's where
TextArena's LiarsDice differs, so that the numeric view and the solved opponents stay
OpenSpiel's: TextArena has no wild face (a 6 counts only as a 6); it refuses a bid that
lowers the face even with more dice (2 x 3 after 1 x 5, which OpenSpiel's order allows);
it accepts any quantity; and it plays rounds until one player has no dice, the loser of
each call losing a die. Here a game is one call, as in OpenSpiel.
`preset="mars"` sets MARS's strict format, -10 for an invalid
move and +0.05 per well-formatted reply in `infos[agent]["format_bonus"]`. Both make the
game non-zero-sum.

## Version History
* v0: initial release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from selfplay_envs.core.config import Int, Param, Params
from selfplay_envs.core.game import Game, GameInfo
from selfplay_envs.core.presets import (
    paper_params,
    preset_invalid_move,
    resolve_rules,
)
from selfplay_envs.games.liars_dice.rules import (
    LiarsDiceState,
    num_actions,
    tensor_size,
)

if TYPE_CHECKING:
    from selfplay_envs.games.liars_dice.vector import LiarsDiceVectorRules

__all__ = ["LiarsDiceGame", "SPIRAL_DICE"]

#: TextArena's LiarsDice, which SPIRAL trains on, gives each player 5 dice.
SPIRAL_DICE = 5


class LiarsDiceGame(Game):
    """Two-player Liar's Dice, OpenSpiel's ``liars_dice``.

    Args:
        dice_per_player: Dice each player rolls (OpenSpiel's ``numdice``); ``None``:
            1, or 5 under ``preset="spiral"``.
        sides: Faces of a die (OpenSpiel's ``dice_sides``); the highest is wild.
        preset: ``"spiral"``, ``"mars"`` or ``None``.
        **points: The preset's points as plain parameters (``core.presets``).
    """

    conformance_configs = (
        {"dice_per_player": 2, "sides": 3},
        {"preset": "spiral"},
        {"preset": "mars"},
    )
    opponents = {
        "random": "selfplay_agents.policy:RandomPolicy",
        "cfr": "selfplay_agents.opponents.liars_dice:cfr",
    }

    parameters = Params(
        Param(
            "dice_per_player",
            Int(1, 10),
            None,
            "dice each player rolls (OpenSpiel's `numdice`); `None`: 1, or 5 under "
            '`preset="spiral"` (TextArena\'s)',
        ),
        Param(
            "sides",
            Int(2, 10),
            6,
            "faces of a die (OpenSpiel's `dice_sides`); the highest face is wild",
        ),
        *paper_params(stake=False, draw=False),
        game="liars_dice_v0",
    )

    def __init__(
        self, *, dice_per_player: int | None = None, sides: int = 6, **points: Any
    ):
        if dice_per_player is None:
            dice_per_player = SPIRAL_DICE if points.get("preset") == "spiral" else 1
        self.dice_per_player = dice_per_player
        self.sides = sides
        self.rules = resolve_rules(points)
        self.default_invalid_move = preset_invalid_move(points)
        offender, other = self.rules.invalid_returns or (-1.0, 1.0)
        actions = num_actions(dice_per_player, sides)
        self.info = GameInfo(
            name="liars_dice_v0",
            num_players=2,
            max_game_length=actions,  # every bid in turn, then the call
            num_actions=actions,
            observation_shape=(tensor_size(dice_per_player, sides),),
            zero_sum=offender + other == 0.0,
            min_utility=min(-1.0, offender),
            max_utility=max(1.0, other),
            max_text_length=65536,
        )

    def new_initial_state(self, rng: np.random.Generator) -> LiarsDiceState:
        """Roll every die from ``rng``."""
        return LiarsDiceState.from_rng(
            rng, self.dice_per_player, self.sides, self.rules
        )

    def vector_rules(self, num_envs: int) -> LiarsDiceVectorRules | None:
        """Vectorised rules for the numeric ``BatchedEnv`` (the zero-sum rules only:
        a preset takes the generic path)."""
        if not self.rules.default:
            return None
        # Imported here: the scalar env never needs the vector rules.
        from selfplay_envs.games.liars_dice.vector import LiarsDiceVectorRules

        return LiarsDiceVectorRules(num_envs, self.dice_per_player, self.sides)
