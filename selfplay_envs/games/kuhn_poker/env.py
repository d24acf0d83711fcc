"""# Kuhn poker

| | |
|---|---|
| Creation | `selfplay_envs.make("kuhn_poker_v0", view="text" \\| "numeric", num_hands=1, reward="chips", preset=None)` |
| Agents | `player_0` (opens hand 1), `player_1` |
| Actions | `Discrete(2)`: 0 = Pass (check / fold), 1 = Bet (bet / call); text: `check`, `bet`, `fold`, `call`, `pass` |
| Observation | text prompt, or OpenSpiel's information-state tensor `(11,)` (`(13,)` for a match) + `action_mask` |
| Reference | OpenSpiel `kuhn_poker`; SPIRAL and MARS use it for LLM self-play |

A single hand is exactly OpenSpiel's `kuhn_poker`: the deck is J < Q < K, each player
antes 1 chip and is dealt one card, and there is one bet of 1 chip. The opener checks or
bets; facing a check the other player checks or bets; facing a bet a player folds or
calls. A fold gives the pot to the bettor, otherwise the higher card wins at showdown.
Chips are really counted: a bet and a call each put a chip in the pot.

With `num_hands=N` the env plays an N-hand match: every hand is dealt afresh, the opener
alternates (`player_0` opens hands 1, 3, 5, ...), chips carry over, and the match is
decided by the cumulative chip count. The last hand alone never decides it.

## Observation
The text view shows the player's card, the betting of the current hand, the pot and each
side's contribution, and the legal moves; in a match also the hand number, both chip
totals and the result of the previous hand (the rival's card only if it was shown down).

The numeric view is OpenSpiel's `information_state_tensor`, identical for a single hand:

| index | meaning |
|---|---|
| 0-1 | position one-hot: opener (OpenSpiel player 0), responder (player 1) |
| 2-4 | own card one-hot: J, Q, K |
| 5-10 | betting: one (pass, bet) pair per move of the hand, in order |
| 11 | match only: hands finished / N |
| 12 | match only: (own net chips + 2N) / 4N, so 0.5 is even |

`infos[agent]` adds the structured view scripted players use: `card`, `position`,
`betting` (OpenSpiel letters, e.g. `"pb"`), `info_state` (OpenSpiel's information-state
string, e.g. `"2pb"` for a King facing check-bet), `pot`, `hand`, `num_hands`, `chips`
and `hand_results` (what this player saw of each finished hand).

## Action
| id | no bet pending | facing a bet |
|---|---|---|
| 0 | `check` | `fold` |
| 1 | `bet` | `call` |

`pass` and `bet` (OpenSpiel's names) are accepted in both situations. Answers may be
wrapped as `\\boxed{bet}`, `[Bet]` or `<answer>call</answer>`; the last answer counts.

## Rewards
| reward | hand or match result | winner | loser |
|---|---|---|---|
| `chips` | showdown or fold without a called bet | +1 per hand | -1 per hand |
| `chips` | showdown after a bet and a call | +2 per hand | -2 per hand |
| `match` | more chips after the last hand | +1 | -1 |
| `match` | equal chips | 0 | 0 |

With `reward="chips"` the return is the sum of the hands' payoffs. Returns are paid when
the episode ends.

## Invalid moves
`check` facing a bet is `illegal: cannot check while facing a bet; fold or call`;
`fold` or `call` with no bet pending is illegal too; any other word is `unparseable`.
The env's invalid-move policy decides what follows (retry by default). A forfeit scores
the worst possible result for the offender (-2N chips, or -1 with `reward="match"`), so
an invalid move never pays.

## Paper presets
`preset="spiral"`: an invalid move that ends the game scores -1.5 for the offender and
+0.5 for the other (SPIRAL's training mode; pass `invalid_move="loss"` to end at the
first one). `preset="mars"`: MARS's strict format (`<think>...</think><answer>...</answer>`,
else invalid), an invalid move scores -(stake) - 10 for the offender, the stake being the
chips it committed this hand (ante and bet), and 0 for the other; +0.05 per
well-formatted reply in `infos[agent]["format_bonus"]` (not in the returns). Both make
the game non-zero-sum (`metadata["zero_sum"]` is False). The pot grows with every bet and
a match is decided by all its hands under every preset (TextArena's and SPIRAL's faults
are not copied). Every point is a parameter of its own;
`docs/papers.md` compares them with the papers.

## Version History
* v0: initial release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from selfplay_envs.core.config import Choice, Int, Param, Params
from selfplay_envs.core.game import Game, GameInfo
from selfplay_envs.core.presets import (
    paper_params,
    preset_invalid_move,
    resolve_rules,
)
from selfplay_envs.games.kuhn_poker.constants import ANTE, BET_SIZE, MAX_HAND_LENGTH
from selfplay_envs.games.kuhn_poker.observation import tensor_size
from selfplay_envs.games.kuhn_poker.rules import KuhnPokerState, Reward

if TYPE_CHECKING:
    from selfplay_envs.games.kuhn_poker.vector import KuhnPokerVectorRules

__all__ = ["KuhnPokerGame", "MAX_HANDS"]

#: The longest match: the deals of every hand are drawn at reset (8 bytes a hand).
MAX_HANDS = 100_000


class KuhnPokerGame(Game):
    """Kuhn poker: one hand (OpenSpiel's ``kuhn_poker``) or an N-hand match.

    Args:
        num_hands: Hands in the match; the opener alternates each hand.
        reward: ``"chips"`` (net chips) or ``"match"`` (+1 / -1 / 0 by total chips).
        preset: ``"spiral"``, ``"mars"`` or ``None`` (each point below, when not given).
        **points: The preset's points as plain parameters (``core.presets``).
    """

    conformance_configs = (
        {"num_hands": 5, "reward": "match"},
        {"preset": "spiral"},
        {"preset": "mars", "num_hands": 3},
    )
    # Scripted opponents (``Game.opponents``), imported by agents on first use.
    opponents = {
        "random": "selfplay_agents.policy:RandomPolicy",
        "nash": "selfplay_agents.opponents.kuhn_poker:nash",
        "cfr": "selfplay_agents.opponents.kuhn_poker:cfr",
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
        game="kuhn_poker_v0",
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
        bound = 1.0 if self.reward is Reward.MATCH else 2.0 * num_hands
        offender, other = self.rules.invalid_returns or (-bound, bound)
        # The most an offender can have committed in a hand: the ante and a bet.
        stake = ANTE + BET_SIZE if self.rules.invalid_stake else 0
        self.info = GameInfo(
            name="kuhn_poker_v0",
            num_players=2,
            max_game_length=MAX_HAND_LENGTH * num_hands,
            num_actions=2,
            observation_shape=(tensor_size(num_hands),),
            zero_sum=offender + other == 0.0 and not stake,
            min_utility=min(-bound, offender - stake),
            max_utility=max(bound, other),
            # The bound of prompts and of replies, which are cut to it before parsing:
            # room for a long reasoning before the move (the prompts are far shorter).
            max_text_length=65536,
        )

    def new_initial_state(self, rng: np.random.Generator) -> KuhnPokerState:
        """Deal every hand of the match from ``rng``."""
        return KuhnPokerState.from_rng(rng, self.num_hands, self.reward, self.rules)

    def vector_rules(self, num_envs: int) -> KuhnPokerVectorRules | None:
        """Vectorised rules for ``BatchedEnv``, both views (the zero-sum rules only:
        a preset takes the generic path)."""
        if not self.rules.default:
            return None
        # Imported here: the scalar env never needs the vector rules.
        from selfplay_envs.games.kuhn_poker.vector import KuhnPokerVectorRules

        return KuhnPokerVectorRules(num_envs, self.reward, self.num_hands)
