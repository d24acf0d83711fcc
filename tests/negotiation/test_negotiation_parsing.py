"""The negotiation reply grammar, on replies written the way LLMs write them.

Each fixture is a whole model reply (chat, reasoning, wrappers) with a readable id, the
resources of the game it came from, and what the env must read from it.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfplay_envs.core.parsing import AnswerFormat, InvalidReason, extract_answer
from selfplay_envs.games.negotiation.moves import MoveKind, parse_reply, public_message

SPIRAL = ("Wood", "Gold")
TEXTARENA = ("Wheat", "Wood", "Sheep", "Brick", "Ore")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Case:
    """A reply and the move it must parse to (``give``/``receive`` by name)."""

    reply: str
    kind: MoveKind
    give: dict[str, int] | None = None
    receive: dict[str, int] | None = None
    resources: tuple[str, ...] = SPIRAL
    message: str | None = None  # expected public chat, when the case checks it


VALID = {
    "qwen_think_then_boxed_offer": Case(
        reply=(
            "<think>\nI value Gold at 15 and Wood at 5. Giving 3 Wood costs me 15 "
            "and 2 Gold brings 30, so I gain 15. Player 1 probably likes Wood.\n"
            "</think>\nI propose a fair exchange that helps us both.\n"
            "\\boxed{[Offer: 3 Wood -> 2 Gold]}"
        ),
        kind=MoveKind.OFFER,
        give={"Wood": 3},
        receive={"Gold": 2},
        message="[Offer: 3 Wood -> 2 Gold]",
    ),
    "textarena_prompt_example_multi_item": Case(
        reply=(
            "I think we can both benefit here. I have plenty of Wheat and Sheep, "
            "and I could use some Ore. [Offer: 3 Wheat, 1 Sheep -> 2 Ore]"
        ),
        kind=MoveKind.OFFER,
        give={"Wheat": 3, "Sheep": 1},
        receive={"Ore": 2},
        resources=TEXTARENA,
    ),
    "lowercase_plural_names": Case(
        reply="ok here's my deal: [offer: 4 woods -> 2 golds]",
        kind=MoveKind.OFFER,
        give={"Wood": 4},
        receive={"Gold": 2},
    ),
    "upper_case_and_extra_spaces": Case(
        reply="[  OFFER :   3   WOOD   ->   2  gold  ]",
        kind=MoveKind.OFFER,
        give={"Wood": 3},
        receive={"Gold": 2},
    ),
    "irregular_plural_sheeps_and_ores": Case(
        reply="[Offer: 2 Sheeps + 1 Bricks -> 1 Ores]",
        kind=MoveKind.OFFER,
        give={"Sheep": 2, "Brick": 1},
        receive={"Ore": 1},
        resources=TEXTARENA,
    ),
    "several_offers_last_counts": Case(
        reply=(
            "My first thought was [Offer: 5 Wood -> 1 Gold], but that is too greedy "
            "for you. Let me revise: [Offer: 2 Wood -> 2 Gold]"
        ),
        kind=MoveKind.OFFER,
        give={"Wood": 2},
        receive={"Gold": 2},
    ),
    "offer_inside_reasoning_text": Case(
        reply=(
            "Let me reason step by step. My Wood is worth 5 each and Gold 15 each. "
            "Giving 2 Wood costs me 10 and receiving 1 Gold gives me 15, so my net is "
            "+5. Therefore my move is [Offer: 2 Wood -> 1 Gold]. I hope you find it "
            "fair!"
        ),
        kind=MoveKind.OFFER,
        give={"Wood": 2},
        receive={"Gold": 1},
    ),
    "accept_with_chat": Case(
        reply="That sounds reasonable to me. [Accept]",
        kind=MoveKind.ACCEPT,
        message="That sounds reasonable to me. [Accept]",
    ),
    "spiral_bare_boxed_accept": Case(
        reply="The offer raises my value by 10. \\boxed{Accept}",
        kind=MoveKind.ACCEPT,
        message="Accept",
    ),
    "boxed_bare_offer_without_brackets": Case(
        reply="Final answer: \\boxed{Offer: 1 Gold -> 3 Wood}",
        kind=MoveKind.OFFER,
        give={"Gold": 1},
        receive={"Wood": 3},
    ),
    "textarena_readme_deny_then_counter_offer": Case(
        reply=(
            "That is not worth it for me. [Deny]. But how about this: "
            "[Offer: 1 Gold -> 3 Wood]"
        ),
        kind=MoveKind.OFFER,
        give={"Gold": 1},
        receive={"Wood": 3},
    ),
    "counter_offer_then_changes_mind_to_deny": Case(
        reply="[Offer: 1 Gold -> 3 Wood] ... actually, no. [Deny]",
        kind=MoveKind.DENY,
    ),
    "chat_only_is_pass": Case(
        reply="Hi there! What resources are you most interested in?",
        kind=MoveKind.PASS,
        message="Hi there! What resources are you most interested in?",
    ),
    "offer_in_think_block_is_private": Case(
        reply=(
            "<think>Maybe [Offer: 1 Wood -> 5 Gold]? Too greedy, they would refuse."
            "</think>Let's talk first. What do you need?"
        ),
        kind=MoveKind.PASS,
        message="Let's talk first. What do you need?",
    ),
    "truncated_thinking_is_empty_pass": Case(
        reply="<think>Let me compute the value of each possible offer. Wood is",
        kind=MoveKind.PASS,
        message="",
    ),
    "answer_tag_accept": Case(
        reply="<answer>I'll take it. [Accept]</answer>",
        kind=MoveKind.ACCEPT,
        message="I'll take it. [Accept]",
    ),
    "unicode_arrow": Case(
        reply="[Offer: 2 Wood → 1 Gold]",
        kind=MoveKind.OFFER,
        give={"Wood": 2},
        receive={"Gold": 1},
    ),
    "for_instead_of_arrow": Case(
        reply="How about [Offer: 2 Wood for 1 Gold]?",
        kind=MoveKind.OFFER,
        give={"Wood": 2},
        receive={"Gold": 1},
    ),
    "markdown_bold_tag": Case(
        reply="**[Offer: 2 Wood -> 1 Gold]**",
        kind=MoveKind.OFFER,
        give={"Wood": 2},
        receive={"Gold": 1},
    ),
    "i_give_prefix_and_your": Case(
        reply="[Offer: I give 2 Wood -> your 1 Gold]",
        kind=MoveKind.OFFER,
        give={"Wood": 2},
        receive={"Gold": 1},
    ),
    "and_between_items": Case(
        reply="[Offer: 2 Wheat and 1 Sheep -> 1 Brick]",
        kind=MoveKind.OFFER,
        give={"Wheat": 2, "Sheep": 1},
        receive={"Brick": 1},
        resources=TEXTARENA,
    ),
    "number_words": Case(
        reply="[Offer: two Wood -> one Gold]",
        kind=MoveKind.OFFER,
        give={"Wood": 2},
        receive={"Gold": 1},
    ),
    "times_and_units_of": Case(
        reply="[Offer: 3x Wood -> 1 unit of Gold]",
        kind=MoveKind.OFFER,
        give={"Wood": 3},
        receive={"Gold": 1},
    ),
    "trailing_period_inside_tag": Case(
        reply="[Offer: 3 Wood -> 2 Gold.]",
        kind=MoveKind.OFFER,
        give={"Wood": 3},
        receive={"Gold": 2},
    ),
    "offer_across_lines": Case(
        reply="[Offer:\n  3 Wheat,\n  1 Sheep\n  -> 2 Ore\n]",
        kind=MoveKind.OFFER,
        give={"Wheat": 3, "Sheep": 1},
        receive={"Ore": 2},
        resources=TEXTARENA,
    ),
    "repeated_resource_is_summed": Case(
        reply="[Offer: 1 Wood, 2 Wood -> 1 Gold]",
        kind=MoveKind.OFFER,
        give={"Wood": 3},
        receive={"Gold": 1},
    ),
    "reject_means_deny": Case(reply="Not interested. [Reject]", kind=MoveKind.DENY),
    "accept_the_offer_wording": Case(reply="[Accept the offer]", kind=MoveKind.ACCEPT),
    "stage_directions_are_chat": Case(
        reply="[laughs] Fine, you win this round. [Accept]", kind=MoveKind.ACCEPT
    ),
    "non_move_brackets_only_is_pass": Case(
        reply="[Player 1] I need Gold, do you have any to spare?",
        kind=MoveKind.PASS,
    ),
    "boxed_answer_is_the_message": Case(
        reply="I weighed it up and I'll decline. \\boxed{[Deny]}",
        kind=MoveKind.DENY,
        message="[Deny]",
    ),
    "explicit_pass_tag": Case(reply="Let me think it over. [Pass]", kind=MoveKind.PASS),
}


def _named(units: tuple[int, ...], resources: tuple[str, ...]) -> dict[str, int]:
    return {name: n for name, n in zip(resources, units, strict=True) if n}


@pytest.mark.parametrize("case", VALID.values(), ids=VALID.keys())
def test_reply_parses_to_move(case: Case) -> None:
    reply = parse_reply(case.reply, case.resources)
    assert reply.reason is None, reply.detail
    assert reply.move is not None
    assert reply.move.kind is case.kind
    if case.kind is MoveKind.OFFER:
        assert reply.move.offer is not None
        assert _named(reply.move.offer.give, case.resources) == case.give
        assert _named(reply.move.offer.receive, case.resources) == case.receive
    if case.message is not None:
        assert reply.message == case.message


INVALID = {
    "unknown_resource": (
        "Here's my offer: [Offer: 3 Stone -> 2 Gold]",
        InvalidReason.UNPARSABLE,
        "unknown resource 'stone'",
    ),
    "missing_arrow": (
        "[Offer: 3 Wood, 2 Gold]",
        InvalidReason.UNPARSABLE,
        "expected 'give -> receive'",
    ),
    "zero_quantity": (
        "[Offer: 0 Wood -> 2 Gold]",
        InvalidReason.UNPARSABLE,
        "quantities must be positive",
    ),
    "empty_give_side": (
        "[Offer: -> 2 Gold]",
        InvalidReason.UNPARSABLE,
        "must give something",
    ),
    "nothing_asked_for": (
        "[Offer: 2 Wood -> nothing]",
        InvalidReason.UNPARSABLE,
        "ask for something",
    ),
    "same_resource_both_sides": (
        "[Offer: 3 Wood -> 2 Wood]",
        InvalidReason.ILLEGAL,
        "Wood is on both sides",
    ),
    "quantity_without_number": (
        "[Offer: some Wood -> 2 Gold]",
        InvalidReason.UNPARSABLE,
        "expected '<number> <resource>'",
    ),
    "absurdly_long_number_does_not_crash": (
        "[Offer: " + "9" * 5000 + " Wood -> 1 Gold]",
        InvalidReason.UNPARSABLE,
        "expected '<number> <resource>'",
    ),
    "accept_with_conditions": (
        "[Accept if you add 2 Gold]",
        InvalidReason.UNPARSABLE,
        "expected [Accept] alone",
    ),
    "last_tag_malformed_after_valid_one": (
        "[Offer: 2 Wood -> 1 Gold] or maybe [Offer: 2 Wood -> 1 Diamond]",
        InvalidReason.UNPARSABLE,
        "unknown resource 'diamond'",
    ),
}


@pytest.mark.parametrize(
    ("reply", "reason", "detail"), INVALID.values(), ids=INVALID.keys()
)
def test_malformed_move_has_reason(
    reply: str, reason: InvalidReason, detail: str
) -> None:
    parsed = parse_reply(reply, SPIRAL)
    assert parsed.move is None
    assert parsed.reason is reason
    assert detail in parsed.detail


def test_think_block_never_reaches_the_chat() -> None:
    reply = parse_reply("<think>my values: Wood 5, Gold 15</think>Hello!", SPIRAL)
    assert reply.message == "Hello!"
    assert "15" not in reply.message


@pytest.mark.parametrize("junk", ["", "   ", "\\boxed{", "[", "]]][[[", "\x00\x01"])
def test_junk_is_a_pass_not_an_error(junk: str) -> None:
    reply = parse_reply(junk, SPIRAL)
    assert reply.move is not None and reply.move.kind is MoveKind.PASS


_PIECES = st.sampled_from(
    ["\\boxed{", "\\boxed {", "{", "}", "<answer>", "</ANSWER>", "<think>", "</think>"]
    + ["[Accept]", "[Offer: 1 Wood -> 2 Gold]", "hi", " ", "\n", "x"]
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(_PIECES, max_size=25))
def test_public_message_agrees_with_core_extract_answer(pieces: list[str]) -> None:
    text = "".join(pieces)
    formats = (AnswerFormat.BOXED, AnswerFormat.ANSWER_TAG, AnswerFormat.BARE)
    answer, fmt = extract_answer(text, formats)
    message, wrapped = public_message(text)
    assert message == (answer or "")
    assert wrapped == (fmt in (AnswerFormat.BOXED, AnswerFormat.ANSWER_TAG))


@pytest.mark.parametrize(
    "reply",
    [
        "\\boxed{" * 20_000,
        "<answer>" * 20_000,
        "[accept" + " " * 50_000 + "x]",
        "[Offer: " + "-" * 50_000 + "]",
        "[Offer: " + "=" * 50_000 + "]",
        "[Offer: 1 " + " " * 50_000 + "x -> 1 Gold]",
        "[Offer: " + "a " * 20_000 + "-> 1 Gold]",
        "[" * 30_000 + "offer " + "]" * 30_000,
    ],
    ids=[
        "repeated_boxed_openers",
        "repeated_answer_openers",
        "accept_with_long_tail",
        "long_dash_run",
        "long_equals_run",
        "long_space_run",
        "many_words",
        "deep_brackets",
    ],
)
def test_degenerate_replies_parse_fast(reply: str) -> None:
    # Looping models write such replies; a quadratic parser would stall training.
    start = time.perf_counter()
    parse_reply(reply, SPIRAL)
    assert time.perf_counter() - start < 1.0
