"""Negotiation moves: the records, the numeric action codec and the text grammar.

A reply is free text to the other player with at most one structured move in it:

* ``[Offer: 3 Wood, 1 Sheep -> 2 Ore]``: what the proposer gives -> what it receives;
* ``[Accept]`` / ``[Deny]``: answer the pending offer addressed to the replier;
* nothing (or ``[Pass]``): a pass; the text is still sent as chat.

The grammar is forgiving where models vary and strict where meaning would be guessed:
any case, extra spaces, singular or plural names (``Sheep``/``Sheeps``, ``Ore``/``Ores``),
``->``, ``=>``, ``→`` or ``for`` between the sides, items separated by ``,``, ``and``,
``+`` or ``;``, and ``3x Wood`` / ``3 units of Wood``. With several moves in a reply the
last one counts. A ``<think>`` block is private: it is neither chat nor a move. When the
reply wraps its answer in ``\\boxed{...}`` or ``<answer>...</answer>``, the last such
answer is the message (and ``\\boxed{Accept}`` without brackets is a move too).
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterator, Sequence

from selfplay_envs.core.parsing import _THINK_BLOCK, AnswerFormat, InvalidReason, _spans

__all__ = [
    "MoveKind",
    "Offer",
    "Move",
    "ParsedReply",
    "ActionCodec",
    "format_bundle",
    "format_offer",
    "move_to_string",
    "parse_reply",
    "parse_offer",
    "public_message",
]


class MoveKind(str, enum.Enum):
    """The structured part of a turn."""

    PASS = "pass"
    ACCEPT = "accept"
    DENY = "deny"
    OFFER = "offer"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Offer:
    """A proposed trade, from the proposer's side: units per resource, dense."""

    give: tuple[int, ...]
    receive: tuple[int, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Move:
    """One turn: a structured move plus the chat message sent with it."""

    kind: MoveKind
    offer: Offer | None = None
    message: str = ""


PASS = Move(kind=MoveKind.PASS)
"""A pass with no chat: the fallback move of the penalty policy."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ParsedReply:
    """A reply split into public chat and a move, or the reason the move is invalid."""

    message: str
    move: Move | None = None
    reason: InvalidReason | None = None
    detail: str = ""
    tag: str | None = None  # the move tag as written, for error messages


# ---- text forms ------------------------------------------------------------------------


def format_bundle(units: Sequence[int], resources: Sequence[str]) -> str:
    """``(3, 0, 1)`` -> ``"3 Wood, 1 Sheep"``; ``"nothing"`` when empty."""
    parts = [f"{n} {name}" for n, name in zip(units, resources, strict=True) if n > 0]
    return ", ".join(parts) if parts else "nothing"


def format_offer(offer: Offer, resources: Sequence[str]) -> str:
    """``"3 Wood, 1 Sheep -> 2 Ore"`` (give -> receive)."""
    give = format_bundle(offer.give, resources)
    return f"{give} -> {format_bundle(offer.receive, resources)}"


def move_to_string(move: Move, resources: Sequence[str]) -> str:
    """Canonical tag: ``[Offer: 3 Wood -> 2 Gold]``, ``[Accept]``, ``[Deny]``, ``[Pass]``."""
    if move.kind is MoveKind.OFFER:
        assert move.offer is not None
        return f"[Offer: {format_offer(move.offer, resources)}]"
    return f"[{move.kind.value.capitalize()}]"


# ---- numeric view ----------------------------------------------------------------------


class ActionCodec:
    """The finite move set of the numeric view, as ``Discrete`` indices.

    ``0`` pass, ``1`` accept, ``2`` deny, then every offer of ``a`` units of one
    resource for ``b`` units of another (``1 <= a, b <= k``), ordered by given
    resource, received resource, ``a``, ``b``: ``3 + R (R - 1) k^2`` actions.
    """

    PASS = 0
    ACCEPT = 1
    DENY = 2
    FIRST_OFFER = 3

    def __init__(self, resources: Sequence[str], max_units: int):
        self.resources = tuple(resources)
        self.num_resources = len(self.resources)
        self.max_units = max_units
        num_offers = self.num_resources * (self.num_resources - 1) * max_units**2
        self.num_actions = self.FIRST_OFFER + num_offers
        self._texts: tuple[str, ...] | None = None

    def text(self, index: int) -> str:
        """Canonical tag of action ``index`` (cached: the adapter asks every step)."""
        if self._texts is None:
            self._texts = tuple(
                move_to_string(self.decode(i), self.resources)
                for i in range(self.num_actions)
            )
        return self._texts[index]

    def decode(self, index: int) -> Move:
        """The move of action ``index`` (assumed in range)."""
        if index < self.FIRST_OFFER:
            kinds = (MoveKind.PASS, MoveKind.ACCEPT, MoveKind.DENY)
            return Move(kind=kinds[index])
        k, others = self.max_units, self.num_resources - 1
        rest, received_units = divmod(index - self.FIRST_OFFER, k)
        rest, given_units = divmod(rest, k)
        given, other = divmod(rest, others)
        received = other if other < given else other + 1
        give = [0] * self.num_resources
        receive = [0] * self.num_resources
        give[given] = given_units + 1
        receive[received] = received_units + 1
        return Move(
            kind=MoveKind.OFFER, offer=Offer(give=tuple(give), receive=tuple(receive))
        )

    def encode(self, move: Move) -> int | None:
        """The index of ``move``, or ``None`` when it is outside the discretised set."""
        if move.kind is not MoveKind.OFFER:
            return {MoveKind.PASS: 0, MoveKind.ACCEPT: 1, MoveKind.DENY: 2}[move.kind]
        assert move.offer is not None
        given = [r for r, n in enumerate(move.offer.give) if n > 0]
        received = [r for r, n in enumerate(move.offer.receive) if n > 0]
        if len(given) != 1 or len(received) != 1 or given == received:
            return None
        g, r = given[0], received[0]
        a, b = move.offer.give[g], move.offer.receive[r]
        if not (1 <= a <= self.max_units and 1 <= b <= self.max_units):
            return None
        return self.offer_index(g, a, r, b)

    def offer_index(self, given: int, a: int, received: int, b: int) -> int:
        """Index of the offer "``a`` units of ``given`` for ``b`` units of ``received``"."""
        other = received if received < given else received - 1
        rest = (given * (self.num_resources - 1) + other) * self.max_units + (a - 1)
        return self.FIRST_OFFER + rest * self.max_units + (b - 1)

    def offers(self) -> Iterator[tuple[int, int, int, int, int]]:
        """Every offer as ``(index, given, a, received, b)``, in index order."""
        k = self.max_units
        index = self.FIRST_OFFER
        for given in range(self.num_resources):
            for received in range(self.num_resources):
                if received == given:
                    continue
                for a in range(1, k + 1):
                    for b in range(1, k + 1):
                        yield index, given, a, received, b
                        index += 1


# ---- text grammar ----------------------------------------------------------------------

_KINDS = {
    "offer": MoveKind.OFFER,
    "accept": MoveKind.ACCEPT,
    "deny": MoveKind.DENY,
    "reject": MoveKind.DENY,
    "decline": MoveKind.DENY,
    "pass": MoveKind.PASS,
}
_KIND_WORDS = "|".join(_KINDS)
# The answer wrappers whose last one is the message (found as core parsing finds them).
_WRAPPERS = (AnswerFormat.BOXED, AnswerFormat.ANSWER_TAG)
_TAG = re.compile(rf"\[\s*({_KIND_WORDS})\b([^\[\]]*)\]", re.IGNORECASE)
_BARE_MOVE = re.compile(rf"^\s*({_KIND_WORDS})\b(.*)$", re.IGNORECASE | re.DOTALL)
# What may follow "Accept"/"Deny"/"Pass" inside a tag: "[Accept.]", "[Accept offer]".
_RESPONSE_TAILS = ("", "offer", "the offer", "trade", "the trade")
# Bounded repeats: "-+>" would rescan a long run of dashes from every position.
_SIDES = re.compile(r" ?(?:-{1,3}>|={1,2}>|→|⟶|➡|\bin exchange for\b|\bfor\b) ?", re.I)
_GIVE_PREFIX = re.compile(r"^(?:(?:i\s+)?(?:give|offer)\s*:?\s+)?(?:my\s+)?", re.I)
_RECEIVE_PREFIX = re.compile(
    r"^(?:(?:i\s+)?(?:receive|get|want)\s*:?\s+)?(?:your\s+)?", re.I
)
_ITEM_SPLIT = re.compile(r"\s*(?:,|;|\+|&|\band\b)\s*", re.I)
_ITEM = re.compile(
    r"^(?:(\d{1,9})\s*|([a-z]+)\s+)(?:x\s+|×\s*)?(?:(?:units?|pieces?)\s+of\s+)?"
    r"([a-z]+)$"
)
_NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
} | {"a": 1, "an": 1}


def parse_reply(text: str, resources: Sequence[str]) -> ParsedReply:
    """Split a model reply into chat and its move (the last move tag counts).

    Never raises on model text: a malformed move becomes a ``ParsedReply`` with a
    reason. A reply without a move is a pass.
    """
    message, wrapped = public_message(text)
    tags = [(m.group(0), m.group(1), m.group(2)) for m in _TAG.finditer(message)]
    if not tags and wrapped:
        if bare := _BARE_MOVE.match(message):  # \boxed{Accept}
            tags = [(message, bare.group(1), bare.group(2))]
    if not tags:
        return ParsedReply(
            message=message, move=Move(kind=MoveKind.PASS, message=message)
        )
    tag, word, rest = tags[-1]
    kind = _KINDS[word.lower()]
    if kind is MoveKind.OFFER:
        offer = parse_offer(rest, resources)
        if isinstance(offer, Offer):
            move = Move(kind=kind, offer=offer, message=message)
            return ParsedReply(message=message, move=move, tag=tag)
        reason, detail = offer
        return ParsedReply(message=message, reason=reason, detail=detail, tag=tag)
    if " ".join(rest.strip(" \t\r\n.!:,-").lower().split()) not in _RESPONSE_TAILS:
        detail = f"expected [{word.capitalize()}] alone, got {_clip(tag)!r}"
        return ParsedReply(
            message=message, reason=InvalidReason.UNPARSABLE, detail=detail, tag=tag
        )
    return ParsedReply(message=message, move=Move(kind=kind, message=message), tag=tag)


def public_message(text: str) -> tuple[str, bool]:
    """The part of a reply that is sent to the other player, and whether it was wrapped.

    ``extract_answer(text, (BOXED, ANSWER_TAG, BARE))`` from
    ``selfplay_envs.core.parsing``, found by the same linear scan: ``<think>`` blocks
    removed, then the last ``\\boxed{...}`` or ``<answer>...</answer>``, else the whole
    reply; unlike it, ``\\text{..}`` wrappers inside a box are kept. The tests check
    both agree.
    """
    if not isinstance(text, str):
        return "", False
    visible, spans = _spans(text, _WRAPPERS)
    if spans:
        _, _, start, end = spans[-1]
        return visible[start:end].strip(), True
    return _THINK_BLOCK.sub("", text).strip(), False


def parse_offer(
    content: str, resources: Sequence[str]
) -> Offer | tuple[InvalidReason, str]:
    """Parse ``"3 Wood, 1 Sheep -> 2 Ore"`` (after ``Offer``) into an ``Offer``.

    Returns the offer, or ``(reason, detail)``.
    """
    text = " ".join(content.split()).lstrip(":").strip().rstrip(".!?,;").strip()
    sides = _SIDES.split(text)
    if len(sides) != 2:
        return InvalidReason.UNPARSABLE, (
            f"expected 'give -> receive' such as "
            f"[Offer: 3 {resources[0]} -> 2 {resources[1]}], got {_clip(text)!r}"
        )
    give_text = _GIVE_PREFIX.sub("", sides[0])
    receive_text = _RECEIVE_PREFIX.sub("", sides[1])
    give = _parse_bundle(give_text, resources)
    if not isinstance(give, tuple):
        return InvalidReason.UNPARSABLE, give
    receive = _parse_bundle(receive_text, resources)
    if not isinstance(receive, tuple):
        return InvalidReason.UNPARSABLE, receive
    if not any(give) or not any(receive):
        return (
            InvalidReason.UNPARSABLE,
            "an offer must give something and ask for something",
        )
    both = [
        name for name, g, r in zip(resources, give, receive, strict=True) if g and r
    ]
    if both:
        return InvalidReason.ILLEGAL, f"{both[0]} is on both sides of the offer"
    return Offer(give=give, receive=receive)


def _parse_bundle(text: str, resources: Sequence[str]) -> tuple[int, ...] | str:
    """Units per resource of ``"3 Wood, 1 Sheep"``, or an error detail."""
    aliases = _aliases(resources)
    units = [0] * len(resources)
    if text.strip().lower() in ("nothing", "none"):
        return tuple(units)
    for item in filter(None, _ITEM_SPLIT.split(text.strip().lower())):
        match = _ITEM.match(item)
        if match is None:
            return f"expected '<number> <resource>', got {_clip(item)!r}"
        digits, word, name = match.groups()
        count = int(digits) if digits else _NUMBER_WORDS.get(word)
        if count is None:
            return f"expected '<number> <resource>', got {_clip(item)!r}"
        if name not in aliases:
            known = ", ".join(resources)
            return f"unknown resource {name!r}; the resources are {known}"
        if count <= 0:
            return f"quantities must be positive, got {_clip(item)!r}"
        units[aliases[name]] += count
    return tuple(units)


def _aliases(resources: Sequence[str]) -> dict[str, int]:
    """Lower-case singular and plural spellings of each resource name."""
    aliases: dict[str, int] = {}
    for index, name in enumerate(resources):
        low = name.lower()
        for form in (low, low + "s", low + "es", low.rstrip("s")):
            aliases.setdefault(form, index)
    return aliases


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
