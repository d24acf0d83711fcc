"""Answer extraction on realistic model replies: the last well-formed answer wins."""

from __future__ import annotations

import pytest

from selfplay_envs.core.parsing import AnswerFormat, extract_answer, match_legal

REPLIES = {
    "spiral_boxed_after_reasoning": (
        "The centre is strong, and 0 is a corner. I will take the centre.\n\\boxed{4}",
        "4",
        AnswerFormat.BOXED,
    ),
    "textarena_bracket": ("I'll block the row: [2]", "2", AnswerFormat.BRACKET),
    "mars_answer_tag": (
        "Thinking... <answer> 7 </answer>",
        "7",
        AnswerFormat.ANSWER_TAG,
    ),
    "bare": ("  5\n", "5", AnswerFormat.BARE),
    "last_answer_wins": (
        "Maybe \\boxed{1}? No, the fork matters more: \\boxed{8}",
        "8",
        AnswerFormat.BOXED,
    ),
    "mixed_formats_last_wins": (
        "[3] ... final: <answer>6</answer>",
        "6",
        AnswerFormat.ANSWER_TAG,
    ),
    "latex_text_is_unwrapped": ("\\boxed{\\text{call}}", "call", AnswerFormat.BOXED),
    "nested_braces": ("\\boxed{f(x) = {1, 2}}", "f(x) = {1, 2}", AnswerFormat.BOXED),
    "think_block_ignored": (
        "<think>\\boxed{0}</think>\\boxed{2}",
        "2",
        AnswerFormat.BOXED,
    ),
    "unclosed_think_is_not_an_answer": ("<think>I guess [3]", None, None),
    "bracket_inside_boxed_is_one_answer": (
        "\\boxed{[Accept]}",
        "[Accept]",
        AnswerFormat.BOXED,
    ),
}


@pytest.mark.parametrize(
    ("reply", "expected", "fmt"), REPLIES.values(), ids=REPLIES.keys()
)
def test_extract_answer(
    reply: str, expected: str | None, fmt: AnswerFormat | None
) -> None:
    assert extract_answer(reply) == (expected, fmt)


def test_unclosed_boxed_falls_back_to_earlier_answer() -> None:
    assert extract_answer("[3] then \\boxed{4") == ("3", AnswerFormat.BRACKET)


def test_only_allowed_formats_count() -> None:
    assert extract_answer("[3] and \\boxed{4}", formats=[AnswerFormat.BRACKET]) == (
        "3",
        AnswerFormat.BRACKET,
    )
    assert extract_answer("no tags here", formats=[AnswerFormat.BOXED]) == (None, None)


def test_non_string_is_no_answer() -> None:
    assert extract_answer(None) == (None, None)  # type: ignore[arg-type]


def test_match_legal_ignores_case_space_and_quotes() -> None:
    legal = {"Bet": 1, "Pass": 0}
    assert match_legal(" `bet`. ", legal) == 1
    assert match_legal("PASS", legal) == 0
    assert match_legal("fold", legal) is None
