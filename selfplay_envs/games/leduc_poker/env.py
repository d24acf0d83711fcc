"""# Leduc hold'em

| | |
|---|---|
| Creation | `selfplay_envs.make("leduc_poker_v0", view="text" \\| "numeric", num_hands=1, reward="chips", preset=None)` |
| Agents | `player_0` (opens hand 1), `player_1` |
| Actions | `Discrete(3)`: 0 = fold, 1 = call, 2 = raise; text: `fold`, `call`, `raise`, also `check` and `bet` |
| Observation | text prompt, or OpenSpiel's information-state tensor `(30,)` (`(32,)` for a match) + `action_mask` |
| Reference | OpenSpiel `leduc_poker`; MARS reports generalisation to it |

A single hand is exactly OpenSpiel's `leduc_poker` (2 players): the deck has six cards,
J J Q Q K K; each player antes 1 chip and gets one private card. Two betting rounds
follow, the opener acting first in each: a raise is 2 chips in round 1 and 4 chips in
round 2, at most 2 raises per round, and a round ends when a raise is called or both
check. After round 1 one public card is shown. A fold gives the pot to the other player;
at showdown a private card that pairs the public card wins, otherwise the higher card
wins, and equal ranks split the pot. Chips are really counted.

With `num_hands=N` the env plays an N-hand match: every hand is dealt afresh, the opener
alternates (`player_0` opens hands 1, 3, 5, ...), chips carry over, and the match is
decided by the cumulative chip count.

## Observation
The text view shows the player's card, the public card once shown, the betting of both
rounds, the pot and each side's contribution, and the legal moves; in a match also the
hand number, both chip totals and the result of the previous hand (the rival's card only
if it was shown down).

The numeric view is OpenSpiel's `information_state_tensor`, identical for a single hand:

| index | meaning |
|---|---|
| 0-1 | position one-hot: opener (OpenSpiel player 0), responder (player 1) |
| 2-7 | own card one-hot, card ids 0-5 (J J Q Q K K: rank = id // 2) |
| 8-13 | public card one-hot (zeros in round 1) |
| 14-21 | round 1: one (call, raise) pair per move, 4 moves |
| 22-29 | round 2: the same |
| 30 | match only: hands finished / N |
| 31 | match only: (own net chips + 13N) / 26N, so 0.5 is even |

`infos[agent]` adds the structured view scripted players use: `card`, `public_card`,
`position`, `round`, `betting` (the action ids of each round), `info_state` (OpenSpiel's
information-state string), `pot`, `hand`, `num_hands`, `chips` and `hand_results`.

## Action
| id | text | also accepted |
|---|---|---|
| 0 | `fold` (only facing a raise) | |
| 1 | `call` | `check` when nothing is owed |
| 2 | `raise` (fewer than 2 raises this round) | `bet` when the round has no raise yet |

Answers may be wrapped as `\\boxed{raise}`, `[Call]` or `<answer>fold</answer>`; the
last answer counts.

## Rewards
| reward | result | winner | loser |
|---|---|---|---|
| `chips` | one hand | + the loser's contribution (1 to 13) | - it |
| `chips` | split pot | 0 | 0 |
| `match` | more chips after the last hand | +1 | -1 |
| `match` | equal chips | 0 | 0 |

With `reward="chips"` the return is the sum of the hands' payoffs, paid at the end.

## Invalid moves
`check` facing a raise, `fold` with nothing to call, `bet` after a raise and a third
raise in a round are `illegal` (the reason says why); any other word is `unparseable`.
The env's invalid-move policy decides what follows (retry by default). A forfeit scores
the worst possible result for the offender (-13N chips, or -1 with `reward="match"`).

## Paper presets
`preset="spiral"` and `preset="mars"` set the same points as for Kuhn poker: SPIRAL's
-1.5 / +0.5 for a game-ending invalid move; MARS's strict format, -(stake) - 10 for an
invalid move (the stake being the offender's chips in this hand) and +0.05 per
well-formatted reply in `infos[agent]["format_bonus"]`. Both make the game non-zero-sum.

## Version History
* v0: initial release.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from selfplay_envs.core.config import Choice, Int, Param, Params
from selfplay_envs.core.game import Game, GameInfo
from selfplay_envs.core.presets import (
    paper_params,
    preset_invalid_move,
    resolve_rules,
)
from selfplay_envs.games.leduc_poker.rules import (
    MAX_HAND_LENGTH,
    MAX_HAND_STAKE,
    LeducPokerState,
    Reward,
    tensor_size,
)

__all__ = ["LeducPokerGame", "MAX_HANDS"]

#: The longest match: the deals of every hand are drawn at reset.
MAX_HANDS = 100_000


class LeducPokerGame(Game):
    """Leduc hold'em: one hand (OpenSpiel's ``leduc_poker``) or an N-hand match.

    Args:
        num_hands: Hands in the match; the opener alternates each hand.
        reward: ``"chips"`` (net chips) or ``"match"`` (+1 / -1 / 0 by total chips).
        preset: ``"spiral"``, ``"mars"`` or ``None`` (each point, when not given).
        **points: The preset's points as plain parameters (``core.presets``).
    """

    conformance_configs = (
        {"num_hands": 5, "reward": "match"},
        {"preset": "spiral"},
        {"preset": "mars", "num_hands": 3},
    )
    opponents = {
        "random": "selfplay_agents.policy:RandomPolicy",
        "cfr": "selfplay_agents.opponents.leduc_poker:cfr",
    }

    parameters = Params(
        Param(
            "num_hands",
            Int(1, MAX_HANDS),
            1,
            f"hands in the match, at most {MAX_HANDS:,} (every deal is drawn at "
            "reset); the opener alternates each hand",
        ),
        Param(
            "reward",
            Choice(*(r.value for r in Reward)),
            Reward.CHIPS.value,
            '`"chips"`: net chips over the match; `"match"`: +1 / -1 by cumulative '
            "chips, 0 on a tie",
        ),
        *paper_params(stake=True, draw=False),
        game="leduc_poker_v0",
    )

    def __init__(
        self,
        *,
        num_hands: int = 1,
        reward: str | Reward = Reward.CHIPS,
        **points: Any,
    ):
        self.reward = Reward(reward)
        self.num_hands = num_hands
        self.rules = resolve_rules(points)
        self.default_invalid_move = preset_invalid_move(points)
        if self.reward is Reward.MATCH:
            bound = 1.0
        else:
            bound = float(MAX_HAND_STAKE * num_hands)
        offender, other = self.rules.invalid_returns or (-bound, bound)
        stake = MAX_HAND_STAKE if self.rules.invalid_stake else 0
        self.info = GameInfo(
            name="leduc_poker_v0",
            num_players=2,
            max_game_length=MAX_HAND_LENGTH * num_hands,
            num_actions=3,
            observation_shape=(tensor_size(num_hands),),
            zero_sum=offender + other == 0.0 and not stake,
            min_utility=min(-bound, offender - stake),
            max_utility=max(bound, other),
            max_text_length=65536,
        )

    def new_initial_state(self, rng: np.random.Generator) -> LeducPokerState:
        """Deal every hand of the match from ``rng``."""
        return LeducPokerState.from_rng(rng, self.num_hands, self.reward, self.rules)
