"""Answer extraction on realistic model replies: the last well-formed answer wins."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfplay_envs.core.parsing import (
    AnswerFormat,
    extract_answer,
    extract_answer_general,
    find_answers,
    match_legal,
)

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


# Texts made of the characters that drive the parser, so that tags, brackets, think
# blocks and whitespace collide often.
_PARSER_TEXT = st.lists(
    st.sampled_from(
        [*"[]<>{}\\ \n\t4xb/", "<think>", "</think>", "<answer>", "</answer>"]
        + ["\\boxed{", "\\text{"]
    ),
    max_size=30,
).map("".join) | st.text(max_size=30)
_FORMAT_SETS = st.lists(st.sampled_from(list(AnswerFormat)), unique=True)


@settings(max_examples=800, deadline=None)
@given(text=_PARSER_TEXT, formats=_FORMAT_SETS)
def test_fast_paths_agree_with_the_general_parser(
    text: str, formats: list[AnswerFormat]
) -> None:
    assert extract_answer(text, formats) == extract_answer_general(text, formats)


@pytest.mark.parametrize(
    "text",
    [" [4] ", "[4]", "[ row 1 ]\n", "4", "  ", "", "[]", "[a][b]", "[\n4]", "[ ]"]
    + ["\u2003[4]\x1c", "[" + "a" * 200 + "]", "[" + "a" * 201 + "]", "[", "]", "[]]"],
)
def test_fast_path_cases_agree(text: str) -> None:
    for formats in ([*AnswerFormat], [AnswerFormat.BOXED], [AnswerFormat.BARE]):
        assert extract_answer(text, formats) == extract_answer_general(text, formats)


# The parser before it was made linear, kept as the reference: quadratic on nested
# \boxed{} (every content copied) and on many brackets next to many other answers.
_REF_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_REF_BOXED_OPEN = re.compile(r"\\boxed\s*\{")
_REF_BRACKET = re.compile(r"\[([^\[\]\n]{1,200})\]")


def _reference_find_answers(text: str, formats) -> list:
    text = _REF_THINK.sub(lambda m: " " * len(m.group(0)), text)
    found = []
    if AnswerFormat.BOXED in formats:
        stack, braces = [], {}
        for i, char in enumerate(text):
            if char == "{":
                stack.append(i)
            elif char == "}" and stack:
                braces[stack.pop()] = i
        for m in _REF_BOXED_OPEN.finditer(text):
            close = braces.get(m.end() - 1)
            if close is not None:
                found.append((m.start(), AnswerFormat.BOXED, text[m.end() : close]))
    if AnswerFormat.ANSWER_TAG in formats:
        lower, pos = text.lower(), 0
        while (start := lower.find("<answer>", pos)) != -1:
            end = lower.find("</answer>", start + 8)
            if end == -1:
                break
            found.append((start, AnswerFormat.ANSWER_TAG, text[start + 8 : end]))
            pos = end + 9
    if AnswerFormat.BRACKET in formats:
        inside = [(p, p + len(c) + 8) for p, _, c in found]
        for m in _REF_BRACKET.finditer(text):
            if not any(lo <= m.start() < hi for lo, hi in inside):
                found.append((m.start(), AnswerFormat.BRACKET, m.group(1)))
    found.sort(key=lambda item: item[0])
    return found


_TAG_TEXT = st.lists(
    st.sampled_from(
        [*"[]<>{}\\ \n4xb/", "<think>", "</think>", "<answer>", "</answer>"]
        + ["<ANSWER>", "</Answer>", "\\boxed{", "\\boxed {", "\\text{", "[4]", "[a b]"]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=1000, deadline=None)
@given(text=_TAG_TEXT, formats=_FORMAT_SETS)
def test_find_answers_agrees_with_the_reference_parser(
    text: str, formats: list[AnswerFormat]
) -> None:
    assert find_answers(text, formats) == _reference_find_answers(text, formats)


def test_answer_tags_keep_their_positions_after_case_changing_characters() -> None:
    # "İ".lower() is two characters: searching a lower-cased copy shifted every
    # position after it (the reference parser returned "<" here).
    assert extract_answer("İ<answer>x</answer>") == ("x", AnswerFormat.ANSWER_TAG)
