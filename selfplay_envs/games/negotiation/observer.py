"""What each player observes: the text prompt, the numeric tensor and the infos.

Observers only read the state. Every view is from the observer's side and holds only
what that player may know: its own inventory and values, the public history (chat and
moves), the pending offer, and the opponent's inventory when ``public_inventories``.
The opponent's values appear nowhere until the game is over (then both gains do).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from selfplay_envs.games.negotiation.config import NegotiationConfig
from selfplay_envs.games.negotiation.moves import MoveKind, Offer, format_bundle

if TYPE_CHECKING:
    from selfplay_envs.games.negotiation.rules import Event, NegotiationState

__all__ = ["prompt", "tensor", "tensor_size", "info", "render", "max_text_length"]


def _name(player: int) -> str:
    return f"Player {player}"


def _agent(player: int) -> str:
    return f"player_{player}"


def _number(x: float) -> str:
    """``5.0`` -> ``"5"``, ``2.5`` -> ``"2.5"``."""
    return f"{x:g}"


def _signed(x: float) -> str:
    return f"+{x:g}" if x >= 0 else f"{x:g}"


# ---- text view --------------------------------------------------------------------------


def prompt(state: NegotiationState, player: int) -> str:
    """The full text observation of ``player``."""
    sections = [
        _intro(state, player),
        _inventory_lines(state, player),
        _rules_lines(state, player),
        _history_lines(state, player),
        _pending_line(state, player),
        _status_line(state, player),
    ]
    return "\n\n".join(sections)


def _intro(state: NegotiationState, player: int) -> str:
    config = state.config
    order = "You move first." if player == 0 else f"{_name(0)} moves first."
    return (
        f"You are {_name(player)} in a two-player negotiation game; "
        f"{_name(1 - player)} is your opponent. {order} The game lasts "
        f"{config.num_turns} turns: {config.turns_per_player} for each player."
    )


def _inventory_lines(state: NegotiationState, player: int) -> str:
    opponent = _name(1 - player)
    lines = ["Your inventory and your private values per unit:"]
    for name, units, value in zip(
        state.resources, state.inventories[player], state.values[player], strict=True
    ):
        worth = _number(units * value)
        lines.append(f"  {name}: {units} units x {_number(value)} = {worth}")
    start = state.inventory_value(player) - state.gain(player)
    lines.append(
        f"Your inventory is worth {_number(state.inventory_value(player))} to you "
        f"(at the start: {_number(start)}; gain so far: {_signed(state.gain(player))})."
    )
    if state.config.public_inventories:
        theirs = format_bundle(state.inventories[1 - player], state.resources)
        lines.append(f"{opponent}'s inventory: {theirs}.")
    else:
        lines.append(f"{opponent}'s inventory is private.")
    lines.append(
        f"{opponent} values the resources differently; its values are private."
    )
    return "\n".join(lines)


def _rules_lines(state: NegotiationState, player: int) -> str:
    opponent = _name(1 - player)
    first, second = state.resources[0], state.resources[1]
    example = f"[Offer: 3 {first} -> 2 {second}]"
    width = len(example) + 2
    return "\n".join(
        [
            "Goal: when the game ends, the player whose inventory value rose more "
            "(each by its own values) wins; equal gains are a draw.",
            "",
            f"On your turn, write a message to {opponent}. You may include one move:",
            f"  {example:<{width}}offer to give 3 {first} and receive 2 {second}",
            f"  {'[Accept]':<{width}}accept the offer {opponent} made to you; "
            "the goods move at once",
            f"  {'[Deny]':<{width}}refuse the offer {opponent} made to you",
            "A turn without a move is a pass, and a pending offer stays open. A new "
            "offer replaces the pending one. If you write several moves, only the "
            "last one counts.",
        ]
    )


def _history_lines(state: NegotiationState, player: int) -> str:
    if not state.events:
        return "History: no turns yet."
    lines = ["History:"]
    for event in state.events:
        who = "you" if event.player == player else _name(event.player)
        # Verbatim: the length bound of the text space counts the message as is.
        said = f' "{event.message}"' if event.message else " (no message)"
        lines.append(f"  Turn {event.turn + 1}, {who}:{said}")
        lines.append(f"    -> {describe_event(state, event, player)}")
    return "\n".join(lines)


def describe_event(state: NegotiationState, event: Event, player: int | None) -> str:
    """One move in words, from ``player``'s side (``None``: a neutral narrator)."""
    if player is None:
        return _describe_neutral(state, event)
    me = event.player == player
    actor = "You" if me else _name(event.player)
    if event.kind is MoveKind.PASS:
        return f"{actor} made no move."
    assert event.offer is not None
    give = state.bundle_text(event.offer.give)
    receive = state.bundle_text(event.offer.receive)
    if event.kind is MoveKind.OFFER:
        if me:
            return f"You offered to give {give} and receive {receive}."
        return f"{actor} offered to give you {give} in exchange for {receive}."
    if event.kind is MoveKind.DENY:
        whose = f"{_name(1 - player)}'s" if me else "your"
        return f"{actor} denied {whose} offer ({give} -> {receive})."
    if me:
        return f"You accepted: you received {give} and gave {receive}."
    return f"{actor} accepted your offer: you gave {give} and received {receive}."


def _describe_neutral(state: NegotiationState, event: Event) -> str:
    actor = _name(event.player)
    if event.kind is MoveKind.PASS:
        return f"{actor} made no move."
    assert event.offer is not None
    trade = (
        f"{state.bundle_text(event.offer.give)} -> "
        f"{state.bundle_text(event.offer.receive)}"
    )
    if event.kind is MoveKind.OFFER:
        return f"{actor} offered {trade}."
    verb = "accepted" if event.kind is MoveKind.ACCEPT else "denied"
    return f"{actor} {verb} {_name(1 - event.player)}'s offer {trade}."


def _pending_line(state: NegotiationState, player: int) -> str:
    pending = state.pending
    if pending is None:
        return "Pending offer: none."
    give = state.bundle_text(pending.offer.give)
    receive = state.bundle_text(pending.offer.receive)
    if pending.proposer == player:
        return (
            f"Pending offer: yours, to give {give} and receive {receive}; "
            f"{_name(1 - player)} may accept or deny it."
        )
    return (
        f"Pending offer: {_name(pending.proposer)} offers to give you {give} in "
        f"exchange for {receive}. You may [Accept] or [Deny] it, or make a counter-offer."
    )


def _status_line(state: NegotiationState, player: int) -> str:
    if state.is_terminal():
        return _result_text(state, player)
    if state.turn % 2 != player:
        return f"It is {_name(1 - player)}'s turn."
    mine = state.config.turns_per_player - state.turns_left(player) + 1
    return (
        f"It is your turn (turn {state.turn + 1} of {state.config.num_turns}; "
        f"your turn {mine} of {state.config.turns_per_player})."
    )


def _result_text(state: NegotiationState, player: int) -> str:
    mine, theirs = state.gain(player), state.gain(1 - player)
    returns = state.returns()
    verdict = {1.0: "You won.", 0.0: "It is a draw.", -1.0: "You lost."}[
        returns[player]
    ]
    return (
        f"The game is over. Your gain: {_signed(mine)}; "
        f"{_name(1 - player)}'s gain: {_signed(theirs)}. {verdict}"
    )


def max_text_length(config: NegotiationConfig) -> int:
    """A safe upper bound on the prompt length (for the ``Text`` space)."""
    per_turn = config.max_message_chars + 80 * config.num_resources + 400
    return 4096 + 160 * config.num_resources + config.num_turns * per_turn


# ---- numeric view -----------------------------------------------------------------------


def tensor_size(config: NegotiationConfig) -> int:
    """Length of the flat observation vector."""
    per_resource = 6 if config.public_inventories else 5
    return config.num_resources * per_resource + 3


def tensor(state: NegotiationState, player: int) -> np.ndarray:
    """The numeric observation of ``player``: a flat float32 vector in [0, 1].

    Blocks of ``R`` entries, then three scalars:
    own units / total units; own starting units / total; own values / ``max_value``;
    [opponent units / total, if public]; units the pending offer would give ``player``
    / total; units it would take from ``player`` / total; then offer-to-me flag,
    offer-by-me flag, turns played / ``num_turns``.
    """
    config = state.config
    totals = np.maximum(np.asarray(state.totals, dtype=np.float64), 1.0)
    blocks = [
        np.asarray(state.inventories[player]) / totals,
        np.asarray(state.initial[player]) / totals,
        np.asarray(state.values[player]) / max(config.max_value, 1e-9),
    ]
    if config.public_inventories:
        blocks.append(np.asarray(state.inventories[1 - player]) / totals)
    incoming, outgoing, to_me, by_me = _pending_units(state, player)
    blocks += [incoming / totals, outgoing / totals]
    turn = state.turn / config.num_turns
    flat = np.concatenate([*blocks, [to_me, by_me, turn]])
    return np.clip(flat, 0.0, 1.0).astype(np.float32)


def _pending_units(
    state: NegotiationState, player: int
) -> tuple[np.ndarray, np.ndarray, float, float]:
    zeros = np.zeros(state.config.num_resources)
    pending = state.pending
    if pending is None:
        return zeros, zeros, 0.0, 0.0
    give, receive = np.asarray(pending.offer.give), np.asarray(pending.offer.receive)
    if pending.proposer == player:
        return receive, give, 0.0, 1.0
    return give, receive, 1.0, 0.0


# ---- infos -------------------------------------------------------------------------------


def info(state: NegotiationState, player: int) -> dict[str, Any]:
    """Structured view of ``player`` for scripted opponents and trainers."""
    resources = state.resources
    opponent_inventory = None
    if state.config.public_inventories:
        opponent_inventory = _all(state.inventories[1 - player], resources)
    out: dict[str, Any] = {
        "player": player,
        "resources": list(resources),
        "inventory": _all(state.inventories[player], resources),
        "initial_inventory": _all(state.initial[player], resources),
        "values": dict(zip(resources, state.values[player], strict=True)),
        "gain": state.gain(player),
        "opponent_inventory": opponent_inventory,
        "pending_offer": _pending_info(state, player),
        "events": [event.to_dict(resources) for event in state.events],
        "turns_left": state.turns_left(player),
        "opponent_turns_left": state.turns_left(1 - player),
        "max_offer_units": state.config.max_offer_units,
    }
    if state.is_terminal():
        out["gains"] = {_agent(p): state.gain(p) for p in range(2)}
    return out


def _pending_info(state: NegotiationState, player: int) -> dict[str, Any] | None:
    pending = state.pending
    if pending is None:
        return None
    return {
        "proposer": pending.proposer,
        "to_you": pending.proposer != player,
        "give": _sparse(pending.offer, "give", state.resources),
        "receive": _sparse(pending.offer, "receive", state.resources),
    }


def _all(units: Any, resources: tuple[str, ...]) -> dict[str, int]:
    return {name: int(n) for name, n in zip(resources, units, strict=True)}


def _sparse(offer: Offer, side: str, resources: tuple[str, ...]) -> dict[str, int]:
    units = getattr(offer, side)
    return {name: n for name, n in zip(resources, units, strict=True) if n > 0}


# ---- render ------------------------------------------------------------------------------


def render(state: NegotiationState) -> str:
    """Everything, hidden values included: for humans and logs."""
    lines = [
        f"Negotiation, turn {min(state.turn + 1, state.config.num_turns)} "
        f"of {state.config.num_turns}"
    ]
    for p in range(2):
        goods = ", ".join(
            f"{n} {name} (x{_number(v)})"
            for name, n, v in zip(
                state.resources, state.inventories[p], state.values[p], strict=True
            )
        )
        lines.append(f"  {_name(p)}: {goods}; gain {_signed(state.gain(p))}")
    pending = state.pending
    if pending is not None:
        lines.append(
            f"  Pending: {_name(pending.proposer)} gives "
            f"{state.bundle_text(pending.offer.give)} for "
            f"{state.bundle_text(pending.offer.receive)}"
        )
    for event in state.events[-2:]:
        lines.append(f"  Turn {event.turn + 1}: {describe_event(state, event, None)}")
    if state.is_terminal():
        lines.append(f"  Over: returns {state.returns()}")
    return "\n".join(lines)
