"""Negotiation rules: two players trade resources they value privately.

Player 0 moves on even turns, player 1 on odd turns, for ``num_turns`` turns in all, so
both get ``num_turns // 2`` turns. On a turn a player sends chat and makes at most one
move: an offer (what it gives -> what it receives), ``Accept`` or ``Deny`` of the pending
offer addressed to it, or a pass. An accepted offer moves the goods at once; a new offer
or a deny clears the pending offer; a pass leaves it standing. At the end each player's
gain is the change of its inventory's value by its own values, and the larger gain wins.
Invalid moves (an offer the proposer cannot cover, accepting when nothing is addressed
to you, accepting what you cannot pay) are rejected with a reason and change nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from selfplay_envs.core.game import State
from selfplay_envs.core.parsing import InvalidReason, ParseResult
from selfplay_envs.games.negotiation import observer
from selfplay_envs.games.negotiation.config import NegotiationConfig
from selfplay_envs.games.negotiation.moves import (
    PASS,
    ActionCodec,
    Move,
    MoveKind,
    Offer,
    format_bundle,
    move_to_string,
    parse_reply,
)

__all__ = [
    "Event",
    "PendingOffer",
    "NegotiationState",
    "ROLES",
    "WIN",
    "DRAW",
    "LOSS",
    "forfeit_pair",
]

ROLES = ("first", "second")
WIN, DRAW, LOSS = 1.0, 0.0, -1.0
_TIE_TOLERANCE = 1e-9


@dataclasses.dataclass(frozen=True, kw_only=True)
class PendingOffer:
    """The offer on the table: made by ``proposer`` on ``turn``, addressed to the other."""

    proposer: int
    offer: Offer
    turn: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """One played turn, as both players saw it (chat and moves are public).

    ``offer`` is the offer made (``kind == OFFER``) or answered (``ACCEPT``/``DENY``),
    from its proposer's side; ``replaced`` is a pending offer that a new offer cleared.
    """

    turn: int
    player: int
    kind: MoveKind
    message: str
    offer: Offer | None = None
    proposer: int | None = None
    replaced: PendingOffer | None = None

    def to_dict(self, resources: tuple[str, ...]) -> dict[str, Any]:
        """JSON-friendly form with resource names; for infos and logs."""
        return {
            "turn": self.turn,
            "player": self.player,
            "kind": self.kind.value,
            "message": self.message,
            "proposer": self.proposer,
            "give": _named(self.offer.give, resources) if self.offer else None,
            "receive": _named(self.offer.receive, resources) if self.offer else None,
            "replaced_offer_of": self.replaced.proposer if self.replaced else None,
        }


class NegotiationState(State):
    """One negotiation episode.

    Args:
        config: The game's parameters.
        inventories: Starting units per resource, one row per player.
        values: Per-unit values, one row per player (private to that player).
        codec: The numeric move set, shared by the game's states (built if omitted).
    """

    def __init__(
        self,
        config: NegotiationConfig,
        inventories: tuple[tuple[int, ...], ...],
        values: tuple[tuple[float, ...], ...],
        codec: ActionCodec | None = None,
    ):
        self.config = config
        self.codec = codec or ActionCodec(config.resources, config.max_offer_units)
        self.initial = tuple(tuple(row) for row in inventories)
        self.inventories = [list(row) for row in inventories]
        self.values = tuple(tuple(row) for row in values)
        self.totals = tuple(a + b for a, b in zip(*self.initial, strict=True))
        self.turn = 0
        self.pending: PendingOffer | None = None
        self.events: list[Event] = []

    # ---- who acts -------------------------------------------------------------------

    @property
    def num_players(self) -> int:
        """Two seats."""
        return 2

    @property
    def resources(self) -> tuple[str, ...]:
        """Resource names."""
        return self.config.resources

    def role(self, player: int) -> str:
        """``"first"`` (moves on even turns) or ``"second"``."""
        return ROLES[player]

    def current_players(self) -> list[int]:
        """The seat whose turn it is; nobody once all turns are played."""
        return [] if self.is_terminal() else [self.turn % 2]

    def is_terminal(self) -> bool:
        """Both players have had their ``num_turns // 2`` turns."""
        return self.turn >= self.config.num_turns

    def turns_left(self, player: int) -> int:
        """Turns ``player`` still has, counting the current one if it is its turn."""
        played = (self.turn + 1 - player) // 2
        return self.config.turns_per_player - played

    def gain(self, player: int) -> float:
        """Change of ``player``'s inventory value since the start, by its own values."""
        start = self.initial[player]
        now = self.inventories[player]
        return float(
            sum(
                v * (n - s)
                for v, n, s in zip(self.values[player], now, start, strict=True)
            )
        )

    def inventory_value(self, player: int) -> float:
        """Value of ``player``'s inventory now, by its own values."""
        return float(
            sum(
                v * n
                for v, n in zip(
                    self.values[player], self.inventories[player], strict=True
                )
            )
        )

    def returns(self) -> list[float]:
        """+1 / -1 to the larger / smaller gain, 0 / 0 on equal gains or before the end."""
        if not self.is_terminal():
            return [0.0, 0.0]
        diff = self.gain(0) - self.gain(1)
        if abs(diff) <= _TIE_TOLERANCE:
            return [DRAW, DRAW]
        return [WIN, LOSS] if diff > 0 else [LOSS, WIN]

    def forfeit_returns(self, loser: int) -> list[float]:
        """``invalid_returns`` (offender, other) when set (SPIRAL: -1.5, +0.5), else
        the zero-sum forfeit -1 / +1."""
        offender, other = forfeit_pair(self.config)
        return [offender if p == loser else other for p in range(2)]

    # ---- actions --------------------------------------------------------------------

    def legal_actions(self, player: int) -> list[int]:
        """Legal indices of the numeric move set (pass is always legal)."""
        if player not in self.current_players():
            return []
        legal = [ActionCodec.PASS]
        pending = self.pending
        if pending is not None and pending.proposer != player:
            if not self._shortfall(player, pending.offer.receive, ""):
                legal.append(ActionCodec.ACCEPT)
            legal.append(ActionCodec.DENY)
        have = self.inventories[player]
        legal += [
            index for index, given, a, _, _ in self.codec.offers() if a <= have[given]
        ]
        return legal

    def action_to_string(self, player: int, action: Any) -> str:
        """The canonical move tag of an index or a ``Move``, e.g. ``[Offer: 1 Wood -> 2 Gold]``."""
        del player  # Same text for both seats.
        if isinstance(action, int):
            return self.codec.text(action)
        return move_to_string(action, self.resources)

    def parse_action(self, player: int, text: str) -> ParseResult:
        """Split a reply into chat and its move, then check the move against the rules."""
        reply = parse_reply(text, self.resources)
        if reply.move is None:
            assert reply.reason is not None
            return ParseResult.invalid(reply.reason, reply.detail, reply.tag)
        limit = self.config.max_message_chars
        message = reply.message
        if len(message) > limit:
            message = message[:limit] + " [...]"
        return self._check(
            player, dataclasses.replace(reply.move, message=message), reply.tag
        )

    def check_numeric(self, player: int, action: int) -> ParseResult:
        """Validate a numeric action index and decode it."""
        if not 0 <= action < self.codec.num_actions:
            detail = f"action {action} is out of range 0-{self.codec.num_actions - 1}"
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail)
        return self._check(player, self.codec.decode(action))

    def _check(self, player: int, move: Move, tag: str | None = None) -> ParseResult:
        """``move`` if the rules allow it now, else the reason they do not."""
        problem = self._problem(player, move)
        if problem:
            return ParseResult.invalid(InvalidReason.ILLEGAL, problem, tag)
        return ParseResult.legal(move, tag)

    def _problem(self, player: int, move: Move) -> str:
        """Why ``move`` is illegal for ``player`` now; ``""`` when it is legal."""
        if move.kind is MoveKind.PASS:
            return ""
        if move.kind is MoveKind.OFFER:
            assert move.offer is not None
            return self._shortfall(player, move.offer.give, "you offer")
        verb = "accept" if move.kind is MoveKind.ACCEPT else "deny"
        if self.pending is None:
            return f"there is no pending offer to {verb}"
        if self.pending.proposer == player:
            return f"you cannot {verb} your own offer"
        if move.kind is MoveKind.ACCEPT:
            return self._shortfall(
                player, self.pending.offer.receive, "the offer asks for"
            )
        return ""

    def _shortfall(self, player: int, units: tuple[int, ...], what: str) -> str:
        """A reason if ``player`` cannot pay ``units``, else ``""``."""
        have = self.inventories[player]
        if all(n <= h for n, h in zip(units, have, strict=True)):
            return ""
        short = [
            f"{n} {name} (you have {h})"
            for n, h, name in zip(units, have, self.resources, strict=True)
            if n > h
        ]
        return f"{what} {', '.join(short)}"

    def apply_action(self, player: int, action: Move) -> None:
        """Play a legal move of ``player`` and pass the turn."""
        event = Event(
            turn=self.turn, player=player, kind=action.kind, message=action.message
        )
        if action.kind is MoveKind.OFFER:
            assert action.offer is not None
            event = dataclasses.replace(
                event, offer=action.offer, proposer=player, replaced=self.pending
            )
            self.pending = PendingOffer(
                proposer=player, offer=action.offer, turn=self.turn
            )
        elif action.kind is not MoveKind.PASS:
            assert self.pending is not None
            pending, self.pending = self.pending, None
            event = dataclasses.replace(
                event, offer=pending.offer, proposer=pending.proposer
            )
            if action.kind is MoveKind.ACCEPT:
                self._trade(pending.proposer, pending.offer)
        self.events.append(event)
        self.turn += 1

    def _trade(self, proposer: int, offer: Offer) -> None:
        accepter = 1 - proposer
        for r, (give, receive) in enumerate(
            zip(offer.give, offer.receive, strict=True)
        ):
            self.inventories[proposer][r] += receive - give
            self.inventories[accepter][r] += give - receive

    def fallback_action(self, player: int, rng: np.random.Generator) -> Move:
        """A pass: the natural non-move of a free-text game."""
        del player, rng  # A pass needs neither.
        return PASS

    # ---- observations ---------------------------------------------------------------

    def observation_text(self, player: int) -> str:
        """Inventory, own values, chat so far and the pending offer, from ``player``'s side."""
        return observer.prompt(self, player)

    def observation_tensor(self, player: int) -> np.ndarray:
        """Flat float32 vector in [0, 1]; see the env docs for the layout."""
        return observer.tensor(self, player)

    def info(self, player: int) -> dict[str, Any]:
        """``player``'s structured view: its own goods and values, public history."""
        return observer.info(self, player)

    def render(self) -> str:
        """Both inventories, both valuations, gains, the pending offer and the last turns."""
        return observer.render(self)

    def bundle_text(self, units: tuple[int, ...]) -> str:
        """``"3 Wood, 1 Gold"`` for a units tuple."""
        return format_bundle(units, self.resources)


def forfeit_pair(config: NegotiationConfig) -> tuple[float, float]:
    """The (offender, other) returns of a game ended by an invalid move."""
    if config.invalid_returns is None:
        return LOSS, WIN
    offender, other = config.invalid_returns
    return float(offender), float(other)


def _named(units: tuple[int, ...], resources: tuple[str, ...]) -> dict[str, int]:
    return {name: n for name, n in zip(resources, units, strict=True) if n > 0}
