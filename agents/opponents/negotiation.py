"""Fixed opponents for ``negotiation_v0``: random, greedy and stubborn.

All three read the structured view in ``turn.info`` (own inventory and values, the
pending offer, the public history of moves), never the prompt text, and answer in the
env's view: chat plus one move tag in the text view, an action index in the numeric
view. Their offers come from the numeric view's discretised set (``a`` units of one
resource for ``b`` of another, ``1 <= a, b <= k``), so they play the same in both views.

* ``random``: a uniformly random kind of legal move (pass, accept, deny, offer), then a
  uniformly random move of that kind. Always valid.
* ``greedy``: accepts an offer only if it raises its own inventory value; otherwise it
  proposes the trade that raises its value most among those the opponent's revealed
  behaviour does not rule out (see ``GreedyNegotiator``).
* ``stubborn``: never accepts and never offers; it denies any offer made to it. No trade
  ever happens against it, so every game against it is a draw: the best result an
  opponent can get, and a sanity check for learners.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from selfplay_agents.policy import Turn, legal_mask
from selfplay_envs.games.negotiation.moves import (
    ActionCodec,
    Move,
    MoveKind,
    Offer,
    move_to_string,
)

__all__ = ["RandomNegotiator", "GreedyNegotiator", "StubbornNegotiator"]

_RANDOM_CHAT = (
    "Let's trade.",
    "What do you think about this?",
    "I could use some of your goods.",
    "Hmm.",
    "Take it or leave it.",
)


def _emit(turn: Turn, codec: ActionCodec, move: Move, chat: str) -> Any:
    """The reply in the turn's view: an index, or chat plus the move tag."""
    if turn.view == "numeric":
        index = codec.encode(move)
        assert index is not None, "scripted moves stay inside the discretised set"
        return index
    if move.kind is MoveKind.PASS:
        return chat
    return f"{chat} {move_to_string(move, turn.info['resources'])}"


def _codec(info: dict[str, Any]) -> ActionCodec:
    return _cached_codec(tuple(info["resources"]), int(info["max_offer_units"]))


@functools.lru_cache(maxsize=32)
def _cached_codec(resources: tuple[str, ...], max_units: int) -> ActionCodec:
    return ActionCodec(resources, max_units)


class RandomNegotiator:
    """Uniformly random kind of legal move, then a random move of that kind.

    Args:
        seed: Seed of the policy's own generator.
    """

    name = "random"

    def __init__(self, seed: int | None = None):
        self.rng = np.random.default_rng(seed)

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """One random valid reply per turn."""
        return [self._one(turn) for turn in turns]

    def _one(self, turn: Turn) -> Any:
        codec = _codec(turn.info)
        groups: dict[MoveKind, list[int]] = {}
        for index in self._legal(turn, codec):
            groups.setdefault(codec.decode(index).kind, []).append(index)
        kinds = sorted(groups, key=lambda kind: kind.value)
        kind = kinds[int(self.rng.integers(len(kinds)))]
        index = groups[kind][int(self.rng.integers(len(groups[kind])))]
        chat = _RANDOM_CHAT[int(self.rng.integers(len(_RANDOM_CHAT)))]
        return _emit(turn, codec, codec.decode(index), chat)

    @staticmethod
    def _legal(turn: Turn, codec: ActionCodec) -> list[int]:
        if turn.view == "numeric":
            return [int(i) for i in np.flatnonzero(legal_mask(turn))]
        # Text view: the adapter lists the legal discretised moves as canonical tags.
        by_text = {codec.text(i): i for i in range(codec.num_actions)}
        return [by_text[text] for text in turn.info["legal_actions"]]


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Trade:
    """A single-pair trade from the greedy player's side: give ``a`` of ``i`` for ``b`` of ``j``."""

    give: int
    a: int
    receive: int
    b: int


class GreedyNegotiator:
    """Maximises its own inventory value, guided by what the opponent has revealed.

    * A pending offer to it is accepted exactly when it raises its own value (and it
      can pay).
    * Otherwise it proposes, among the discretised offers it can cover (and the
      opponent can cover, when inventories are public), the one with the largest
      gain for itself that the opponent's behaviour does not rule out. Assuming the
      opponent values goods linearly, a denied offer "a of i for b of j" rules out
      every offer of i for j at a ratio a/b no better for the opponent; an offer the
      opponent made or accepted marks ratios at least that good as likely accepted
      (used to break ties). Offers with several resources on a side teach it nothing.
    * With no profitable candidate it denies a pending offer or passes.

    Deterministic; ``seed`` is accepted for the common factory signature.
    """

    name = "greedy"

    def __init__(self, seed: int | None = None):
        del seed  # Deterministic player.

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """One reply per turn."""
        return [self._one(turn) for turn in turns]

    def _one(self, turn: Turn) -> Any:
        codec = _codec(turn.info)
        move, chat = self.decide(turn.info, codec)
        return _emit(turn, codec, move, chat)

    def decide(self, info: dict[str, Any], codec: ActionCodec) -> tuple[Move, str]:
        """The move and chat for the structured view ``info``."""
        resources = info["resources"]
        values = np.array([info["values"][r] for r in resources], dtype=np.float64)
        have = np.array([info["inventory"][r] for r in resources])
        pending = info["pending_offer"]
        if pending is not None and pending["to_you"]:
            gets = np.array([pending["give"].get(r, 0) for r in resources])
            pays = np.array([pending["receive"].get(r, 0) for r in resources])
            if float(values @ (gets - pays)) > 0 and np.all(pays <= have):
                return Move(kind=MoveKind.ACCEPT), "Deal."
        trade = self._best_trade(info, values, have)
        if trade is not None:
            give = [0] * len(resources)
            receive = [0] * len(resources)
            give[trade.give], receive[trade.receive] = trade.a, trade.b
            offer = Offer(give=tuple(give), receive=tuple(receive))
            return Move(kind=MoveKind.OFFER, offer=offer), "This trade works for me."
        if pending is not None and pending["to_you"]:
            return Move(kind=MoveKind.DENY), "No, thank you."
        return Move(kind=MoveKind.PASS), "I have nothing to offer right now."

    def _best_trade(
        self, info: dict[str, Any], values: np.ndarray, have: np.ndarray
    ) -> _Trade | None:
        resources = info["resources"]
        k = info["max_offer_units"]
        denied, accepted = _revealed(info["events"], info["player"], resources)
        theirs = info.get("opponent_inventory")
        best: tuple[float, bool, int] | None = None
        choice = None
        for i in range(len(resources)):
            for j in range(len(resources)):
                if i == j:
                    continue
                for a in range(1, min(k, int(have[i])) + 1):
                    for b in range(1, k + 1):
                        gain = b * values[j] - a * values[i]
                        if gain <= 0 or _ruled_out(denied.get((i, j), ()), a, b):
                            continue
                        if theirs is not None and theirs[resources[j]] < b:
                            continue
                        likely = _likely(accepted.get((i, j), ()), a, b)
                        key = (gain, likely, -(a + b))
                        if best is None or key > best:
                            best, choice = key, _Trade(give=i, a=a, receive=j, b=b)
        return choice


def _single_pair(
    give: dict[str, int], receive: dict[str, int], resources: list[str]
) -> tuple[int, int, int, int] | None:
    """``(i, a, j, b)`` when one resource goes each way, else ``None``."""
    if len(give) != 1 or len(receive) != 1:
        return None
    (gname, a), (rname, b) = next(iter(give.items())), next(iter(receive.items()))
    return resources.index(gname), a, resources.index(rname), b


def _revealed(
    events: list[dict[str, Any]], me: int, resources: list[str]
) -> tuple[dict[tuple[int, int], list], dict[tuple[int, int], list]]:
    """Ratios the opponent denied and ratios it offered or accepted, from my side.

    Keys are ``(i, j)``: I give resource i and receive j; entries are ``(a, b)``.
    """
    denied: dict[tuple[int, int], list] = {}
    accepted: dict[tuple[int, int], list] = {}
    my_last_offer: dict[str, Any] | None = None
    for event in events:
        if event["player"] == me:
            if event["kind"] == "offer":
                my_last_offer = event
            continue
        answered = None
        if event["kind"] in ("deny", "accept") and event["proposer"] == me:
            answered = event
        elif event["kind"] == "offer" and event["replaced_offer_of"] == me:
            answered = my_last_offer  # a counter-offer implicitly denies mine
        if answered is not None:
            pair = _single_pair(answered["give"], answered["receive"], resources)
            if pair is not None:
                i, a, j, b = pair
                table = accepted if event["kind"] == "accept" else denied
                table.setdefault((i, j), []).append((a, b))
        if event["kind"] == "offer":
            # They give X for Y: from my side I give Y and receive X.
            pair = _single_pair(event["receive"], event["give"], resources)
            if pair is not None:
                i, a, j, b = pair
                accepted.setdefault((i, j), []).append((a, b))
    return denied, accepted


def _ruled_out(denied: Sequence[tuple[int, int]], a: int, b: int) -> bool:
    """Giving a for b is no better for them than a denied a' for b' (a/b <= a'/b')."""
    return any(a * b_denied <= a_denied * b for a_denied, b_denied in denied)


def _likely(accepted: Sequence[tuple[int, int]], a: int, b: int) -> bool:
    """Giving a for b is at least as good for them as a ratio they offered or took."""
    return any(a * b_ok >= a_ok * b for a_ok, b_ok in accepted)


class StubbornNegotiator:
    """Never accepts, never offers; denies any offer made to it.

    Args:
        seed: Unused; accepted for the common factory signature.
    """

    name = "stubborn"

    def __init__(self, seed: int | None = None):
        del seed  # Deterministic player.

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """Deny or pass, per turn."""
        return [self._one(turn) for turn in turns]

    def _one(self, turn: Turn) -> Any:
        pending = turn.info["pending_offer"]
        if pending is not None and pending["to_you"]:
            return _emit(turn, _codec(turn.info), Move(kind=MoveKind.DENY), "No deal.")
        return _emit(
            turn, _codec(turn.info), Move(kind=MoveKind.PASS), "I keep my goods."
        )
