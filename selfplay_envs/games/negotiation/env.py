"""# Negotiation

| | |
|---|---|
| Creation | `selfplay_envs.make("negotiation_v0", view="text" \\| "numeric", preset=None \\| "spiral" \\| "textarena")` |
| Agents | `player_0` (role `first`, moves on turns 1, 3, ...), `player_1` (role `second`) |
| Actions | text: chat plus at most one `[Offer: 3 Wood -> 2 Gold]` / `[Accept]` / `[Deny]`; numeric: `Discrete(3 + R(R-1)k^2)` |
| Observation | text prompt, or a flat float32 vector in [0, 1] + `action_mask` |
| Reference | SPIRAL (arXiv:2506.24119), i.e. TextArena `SimpleNegotiation-v0` |

Two players own resources and value them privately. They talk, make offers, and
accept or deny them. Whoever raised the value of its inventory more, each by its own
values, wins. Trades can help both sides, but only the *relative* gain decides the game,
so the outcome is zero-sum (except under `preset="spiral"`, see Rewards).

## Rules
* Player 0 acts on even turns and player 1 on odd turns, for `num_turns` turns in all:
  both players get `num_turns // 2` turns (`num_turns` must be even).
* On its turn a player writes a message and makes at most one move:
  `[Offer: 3 Wood, 1 Sheep -> 2 Ore]` (what it gives -> what it receives), `[Accept]`
  or `[Deny]` the pending offer addressed to it, or nothing (a pass).
* An accepted offer moves the goods at once. A new offer (by either player) or a deny
  clears the pending offer; a pass leaves it open, so it can still be accepted later.
* At the end, gain = value of the inventory now minus at the start, by the player's own
  values. The larger gain wins.

## Presets
Every number is a constructor parameter; a preset only fills the ones you do not pass.
The default, `preset=None`, is SPIRAL's set-up with the zero-sum forfeit.

| parameter | `None` (default) | `"spiral"` | `"textarena"` |
|---|---|---|---|
| `resources` | Wood, Gold | Wood, Gold | Wheat, Wood, Sheep, Brick, Ore |
| `min_units`, `max_units` | 10, 10 | 10, 10 | 5, 25 (uniform per player and resource) |
| `values` | P0: Wood 5, Gold 15; P1: Wood 15, Gold 5 | the same | drawn |
| `base_values`, `value_spread`, `value_bounds` | - | - | 5, 10, 15, 25, 40; 0.2; (5, 40) |
| `num_turns` | 10 (5 each) | 10 (5 each) | 10 (5 each) |
| `max_offer_units` (`k`, numeric view) | 5 | 5 | 3 |
| `public_inventories` | True | True | False |
| `max_message_chars` | 1000 | 1000 | 1000 |
| `invalid_returns` | - (zero-sum forfeit) | (-1.5, 0.5) | - (zero-sum forfeit) |
| `make()`'s `invalid_move` | retry | loss | retry |

Drawn values are integers, uniform in `base +- floor(spread * base)` clamped to
`value_bounds`, as TextArena draws them. `NegotiationGame(base_values=(10, 30))`
switches to drawn values; `values=...` fixes them.

## Observation
**Text view.** Each player sees the rules, its own inventory and values, its gain so
far, the opponent's inventory if `public_inventories`, every turn's chat and move
(chat is public: that is the game), the pending offer, and whose turn it is. The
opponent's values are never shown. The env's own invalid-move warnings go only to the
player who made the invalid move.

**Numeric view.** Chat is not part of it. `observation` is a flat float32 vector in
[0, 1] from the observer's side: per resource, own units / total units, own starting
units / total, own values / the largest possible value, the opponent's units / total
(only if `public_inventories`), the units the pending offer would give the observer /
total and take from it / total; then three scalars: an offer is addressed to me, the
offer is mine, turns played / `num_turns`. Length `R * (5 + public) + 3`.

## Action
**Text view.** Free text with at most one move tag; the last tag counts. The grammar
takes any case and spacing, singular or plural names (`Sheep`, `Sheeps`, `ores`),
`->`, `=>`, `→` or `for` between the sides, items joined by `,`, `and`, `+` or `;`,
and `3x Wood` / `3 units of Wood`. `[Pass]` and a reply without a tag are passes;
`[Reject]`/`[Decline]` mean `[Deny]`. A `<think>` block is private (neither chat nor a
move). If the reply wraps its answer in `\\boxed{...}` or `<answer>...</answer>`, the last
wrapped answer is the message sent, and a bare `\\boxed{Accept}` is a move. Messages are
cut to `max_message_chars`.

**Numeric view.** `Discrete(3 + R(R-1)k^2)`: `0` pass, `1` accept, `2` deny, then every
offer of `a` units of one resource for `b` of another, `1 <= a, b <= k`, ordered by
given resource, received resource, `a`, `b` (see `ActionCodec`). The `action_mask` marks
the legal ones. In the text view `infos["legal_actions"]` lists this same discretised
set, but any offer in the grammar is allowed there.

## Rewards
| outcome | larger gain | smaller gain |
|---|---|---|
| gains differ | +1 | -1 |
| equal gains (e.g. no trade) | 0 | 0 |

A game ended by an invalid move (the `loss` policy, or the retries used up) is a
forfeit: -1 for the offender, +1 for the other, or `invalid_returns` when given.
`preset="spiral"` sets SPIRAL's training mode: the first invalid move ends the game
(`make()`'s `invalid_move` defaults to `"loss"`; an explicit one wins) at -1.5 for the
offender and +0.5 for the other, so `metadata["zero_sum"]` is False.

`infos[agent]["gain"]` is the agent's own gain throughout; at the end
`infos[agent]["gains"]` holds both gains. `infos[agent]` also has the structured view
scripted players use: `inventory`, `values` (own), `opponent_inventory` (or `None`),
`pending_offer`, `events` (the public history), `turns_left`.

## Invalid moves
Each is rejected with a reason and changes nothing; the env's invalid-move policy
decides what follows (a private warning and a retry by default; under the penalty
policy the fallback move is a pass and the reply's chat is dropped).

* `illegal: you offer 12 Wood (you have 10)`: the proposer cannot cover its offer;
* `illegal: there is no pending offer to accept` (or to deny);
* `illegal: you cannot accept your own offer`;
* `illegal: the offer asks for 3 Gold (you have 2)`: the acceptor cannot pay;
* `illegal: Wood is on both sides of the offer`;
* `unparseable: unknown resource 'stone'; the resources are Wood, Gold`, a missing
  `->`, a side with nothing, a zero quantity.

An offer may ask for more than the opponent has; it simply cannot be accepted.

## Differences from TextArena's SimpleNegotiation
* **Equal turns.** TextArena checks its turn limit before counting the current turn, so
  `max_turns=10` plays 11 turns and player 0 gets one more than player 1. Here
  `num_turns=10` is 5 turns each, exactly.
* **Pending offers.** TextArena's SimpleNegotiation announces every reply without
  `[Accept]` as a rejection yet keeps the offer in its state, gives `[Deny]` no effect
  of its own, and lets the proposer "accept" its own offer (a trade with itself). Here
  only `[Deny]` or a new offer clears an offer, a pass leaves it open, and accepting or
  denying your own offer is invalid.
* **Invalid moves are invalid.** TextArena accepts `[Accept]` with nothing pending
  silently and swallows parse errors (`except Exception: return None`); here every
  malformed or impossible move gets a reason, and the adapter's policy applies.
* **Seeding.** TextArena draws inventories and values from the global `random`; here
  they come from the env's `numpy.random.Generator`, so `reset(seed)` fixes the episode.
* **Private reasoning.** A `<think>` block is not broadcast to the opponent.
* **Inventories.** TextArena's prompt shows only one's own goods; `public_inventories`
  chooses (public in the SPIRAL preset, where the start is common knowledge anyway).
* **Numeric view.** TextArena has none; here a finite discretised move set with a mask.

## Version History
* v0: initial release.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selfplay_envs.core.game import Game, GameInfo
from selfplay_envs.games.negotiation import observer
from selfplay_envs.games.negotiation.config import NegotiationConfig, resolve_config
from selfplay_envs.games.negotiation.moves import ActionCodec
from selfplay_envs.games.negotiation.params import PARAMETERS
from selfplay_envs.games.negotiation.rules import (
    LOSS,
    ROLES,
    WIN,
    NegotiationState,
    forfeit_pair,
)

__all__ = ["NegotiationGame"]


class NegotiationGame(Game):
    """Negotiation over privately valued resources; see the module docs.

    Args:
        preset: ``"spiral"``, ``"textarena"`` or ``None`` (SPIRAL's set-up,
            zero-sum); supplies every parameter not given.
        resources: Resource names.
        num_turns: Total turns, both players together (even).
        min_units: Fewest starting units of each resource per player.
        max_units: Most starting units of each resource per player (inclusive).
        values: Fixed per-unit values, one row per player.
        base_values: Base values to draw per-unit values from (instead of ``values``).
        value_spread: Drawn values lie in ``base +- floor(spread * base)``.
        value_bounds: ``(low, high)`` clamp of drawn values.
        max_offer_units: ``k`` of the numeric view's offers (1..k for 1..k units).
        public_inventories: Whether each player sees the other's inventory.
        max_message_chars: Longest chat message kept.
        invalid_returns: ``(offender, other)`` returns of a game ended by an invalid
            move; ``None``: the preset's, else the zero-sum forfeit.
    """

    conformance_configs = ({"preset": "textarena"}, {"preset": "spiral"})

    parameters = PARAMETERS
    # Scripted opponents (``Game.opponents``), imported by agents on first use.
    opponents = {
        "random": "selfplay_agents.opponents.negotiation:RandomNegotiator",
        "greedy": "selfplay_agents.opponents.negotiation:GreedyNegotiator",
        "stubborn": "selfplay_agents.opponents.negotiation:StubbornNegotiator",
    }

    def __init__(
        self,
        *,
        preset: str | None = None,
        resources: Sequence[str] | None = None,
        num_turns: int | None = None,
        min_units: int | None = None,
        max_units: int | None = None,
        values: Sequence[Sequence[float]] | None = None,
        base_values: Sequence[int] | None = None,
        value_spread: float | None = None,
        value_bounds: tuple[float, float] | None = None,
        max_offer_units: int | None = None,
        public_inventories: bool | None = None,
        max_message_chars: int | None = None,
        invalid_returns: tuple[float, float] | None = None,
    ):
        overrides = {
            "resources": resources,
            "num_turns": num_turns,
            "min_units": min_units,
            "max_units": max_units,
            "values": values,
            "base_values": base_values,
            "value_spread": value_spread,
            "value_bounds": value_bounds,
            "max_offer_units": max_offer_units,
            "public_inventories": public_inventories,
            "max_message_chars": max_message_chars,
            "invalid_returns": invalid_returns,
        }
        self.preset = preset
        self.config: NegotiationConfig = resolve_config(preset, overrides)
        # SPIRAL's training games end at the first invalid move; an explicit
        # ``invalid_move=`` given to make() wins.
        self.default_invalid_move = "loss" if preset == "spiral" else None
        offender, other = forfeit_pair(self.config)
        self.codec = ActionCodec(self.config.resources, self.config.max_offer_units)
        self.info = GameInfo(
            name="negotiation_v0",
            num_players=2,
            max_game_length=self.config.num_turns,
            num_actions=self.codec.num_actions,
            zero_sum=offender + other == 0.0,
            min_utility=min(LOSS, offender),
            max_utility=max(WIN, other),
            observation_shape=(observer.tensor_size(self.config),),
            max_text_length=observer.max_text_length(self.config),
            roles=ROLES,
        )

    def new_initial_state(self, rng: np.random.Generator) -> NegotiationState:
        """Draw inventories, then values (both fixed without a preset and under
        ``preset="spiral"``)."""
        inventories = self.config.draw_inventories(rng)
        values = self.config.draw_values(rng)
        return NegotiationState(self.config, inventories, values, self.codec)
