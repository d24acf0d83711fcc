"""Extracting an action from model text.

Language models wrap their move in different conventions: SPIRAL asks for ``\\boxed{...}``,
TextArena for ``[action]``, MARS for ``<answer>...</answer>``, and plain prompts get a bare
answer. ``extract_answer`` finds every well-formed answer in any of these formats and the
last one wins, so reasoning that mentions candidate moves before the final answer is fine.
Nothing here raises on model text: a failure is a ``ParseResult`` with a reason.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

__all__ = [
    "AnswerFormat",
    "InvalidReason",
    "ParseResult",
    "extract_answer",
    "find_answers",
    "match_legal",
]


class AnswerFormat(str, enum.Enum):
    """The answer conventions the parser understands."""

    BOXED = "boxed"  # SPIRAL, Vision-Zero: \boxed{...}
    BRACKET = "bracket"  # TextArena: [...]
    ANSWER_TAG = "answer_tag"  # MARS: <answer>...</answer>
    BARE = "bare"  # the whole reply is the action


class InvalidReason(str, enum.Enum):
    """Why a move was rejected. The value is the prefix of the human-readable reason.

    The values are what ``infos[agent]["invalid_reason"]`` and the episode records
    carry, and what trainers and docs match on: they do not change. The member names
    are spelt as the values (``UNPARSEABLE``); ``UNPARSABLE`` is the same member under
    its old name, kept for existing callers.
    """

    NO_ACTION_TAG = "no action found"
    UNPARSEABLE = "unparseable"
    UNPARSABLE = "unparseable"  # the old name: an alias of UNPARSEABLE
    ILLEGAL = "illegal"
    NOT_YOUR_TURN = "not your turn"


class ParseResult(NamedTuple):
    """The outcome of parsing one move: an action, or a reason it is not one.

    An immutable record; a ``NamedTuple`` because one is built for every move and a
    frozen dataclass costs several times more to construct.
    """

    action: Any = None
    reason: InvalidReason | None = None
    detail: str = ""
    answer: str | None = None  # the extracted answer text, before matching

    @property
    def ok(self) -> bool:
        """True when the move is legal and ``action`` holds it."""
        return self.reason is None

    @property
    def message(self) -> str:
        """Human-readable reason, e.g. ``"illegal: cell 4 is taken"``."""
        if self.reason is None:
            return ""
        return (
            f"{self.reason.value}: {self.detail}" if self.detail else self.reason.value
        )

    @classmethod
    def legal(cls, action: Any, answer: str | None = None) -> ParseResult:
        """A successfully parsed, legal move."""
        # tuple.__new__ skips the NamedTuple constructor's argument handling: this
        # runs on every move.
        return tuple.__new__(cls, (action, None, "", answer))

    @classmethod
    def invalid(
        cls, reason: InvalidReason, detail: str = "", answer: str | None = None
    ) -> ParseResult:
        """A rejected move with its reason."""
        return cls(reason=reason, detail=detail, answer=answer)


ALL_FORMATS: tuple[AnswerFormat, ...] = (
    AnswerFormat.BOXED,
    AnswerFormat.ANSWER_TAG,
    AnswerFormat.BRACKET,
    AnswerFormat.BARE,
)

_THINK_BLOCK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_BOXED_OPEN = re.compile(r"\\boxed\s*\{")
_BRACKET = re.compile(r"\[([^\[\]\n]{1,200})\]")
_BRACE = re.compile(r"[{}]")
_ANSWER_TAG = re.compile(r"<(/?)answer>", re.IGNORECASE)


def _boxed_spans(text: str) -> list[tuple[int, int, int]]:
    """``(position, content start, content end)`` of each balanced ``\\boxed{...}``.

    One pass over the braces from the first box: a looping model can repeat
    ``\\boxed{`` thousands of times, and nested boxes share their text, so no content
    is copied here. (Braces before the first box cannot change how a box's brace
    pairs: it pairs with the first ``}`` that brings the nesting back to it.)
    """
    opens = [(m.start(), m.end()) for m in _BOXED_OPEN.finditer(text)]
    if not opens:
        return []
    closing: dict[int, int] = {}
    stack: list[int] = []
    for match in _BRACE.finditer(text, opens[0][1] - 1):
        at = match.start()
        if text[at] == "{":
            stack.append(at)
        elif stack:
            closing[stack.pop()] = at
    spans = []
    for start, end in opens:
        close = closing.get(end - 1)
        if close is not None:
            spans.append((start, end, close))
    return spans


def _answer_tag_spans(text: str) -> list[tuple[int, int, int]]:
    """``(position, content start, content end)`` of each ``<answer>...</answer>``.

    Leftmost first, as a lazy regex would pair them, in one pass over the tags: an
    opening tag pairs with the first closing tag after it, and an opening tag that is
    never closed ends the search.
    """
    spans = []
    opened = -1
    for match in _ANSWER_TAG.finditer(text):
        if match.group(1):  # "</answer>"
            if opened >= 0:
                spans.append((opened, opened + 8, match.start()))
                opened = -1
        elif opened < 0:
            opened = match.start()
    return spans


def _spans(
    text: str, formats: Sequence[AnswerFormat]
) -> tuple[str, list[tuple[int, AnswerFormat, int, int]]]:
    """``find_answers`` as ``(position, format, content start, content end)`` into the
    returned text (``<think>`` blocks blanked out), sorted by position.

    Linear in ``text``: no content is copied (nested ``\\boxed{}`` share their text).
    """
    text = _THINK_BLOCK.sub(lambda m: " " * len(m.group(0)), text)
    found: list[tuple[int, AnswerFormat, int, int]] = []
    if AnswerFormat.BOXED in formats:
        found += [(p, AnswerFormat.BOXED, lo, hi) for p, lo, hi in _boxed_spans(text)]
    if AnswerFormat.ANSWER_TAG in formats:
        tags = _answer_tag_spans(text)
        found += [(p, AnswerFormat.ANSWER_TAG, lo, hi) for p, lo, hi in tags]
    if AnswerFormat.BRACKET in formats:
        # A [..] inside \boxed{...} or <answer> belongs to that answer, not a new one.
        # Such an answer covers [p, p + len(content) + 8); brackets come in order, so
        # one sweep over the covers sorted by start decides each in constant time.
        covers = sorted((p, p + hi - lo + 8) for p, _, lo, hi in found)
        reach, next_cover = -1, 0
        for m in _BRACKET.finditer(text):
            start = m.start()
            while next_cover < len(covers) and covers[next_cover][0] <= start:
                reach = max(reach, covers[next_cover][1])
                next_cover += 1
            if reach <= start:
                found.append((start, AnswerFormat.BRACKET, m.start(1), m.end(1)))
    found.sort(key=lambda item: item[0])
    return text, found


def find_answers(
    text: str, formats: Sequence[AnswerFormat] = ALL_FORMATS
) -> list[tuple[int, AnswerFormat, str]]:
    """Every well-formed tagged answer in ``text`` as ``(position, format, content)``.

    ``<think>`` blocks are ignored: a move considered while thinking is not an answer.
    The bare format is not a tag and is handled by ``extract_answer``. Finding the
    answers is linear in ``text``; the list holds a copy of each content, and nested
    ``\\boxed{}`` overlap (``extract_answer`` copies only the answer it returns).
    """
    visible, spans = _spans(text, formats)
    return [(p, fmt, visible[lo:hi]) for p, fmt, lo, hi in spans]


def extract_answer(
    text: str, formats: Sequence[AnswerFormat] = ALL_FORMATS
) -> tuple[str | None, AnswerFormat | None]:
    """Return the last well-formed answer in ``text`` and its format.

    When no tag is present and ``BARE`` is allowed, the whole reply (with any ``<think>``
    block removed) is the answer. Returns ``(None, None)`` when nothing is found.
    """
    if not isinstance(text, str):
        return None, None
    # Fast paths for the two commonest replies, with the general path's exact result:
    # without "[", "<" or "\\" no tag can be present, and a lone "[move]" (no "<" or
    # "\\" anywhere) is the only answer there is.
    if "<" not in text and "\\" not in text:
        if "[" not in text:
            bare = text.strip() if AnswerFormat.BARE in formats else ""
            return (bare, AnswerFormat.BARE) if bare else (None, None)
        if AnswerFormat.BRACKET in formats:
            # A lone "[move]": what the general path's bracket pattern finds when it is
            # the whole reply, checked without a regex (str.strip and re's \s agree on
            # whitespace); the hypothesis test holds it to the general path.
            lone = text.strip()
            inner = lone[1:-1]
            if (
                lone[:1] == "["
                and lone[-1:] == "]"
                and 0 < len(inner) <= 200
                and "[" not in inner
                and "]" not in inner
                and "\n" not in inner
            ):
                return inner.strip(), AnswerFormat.BRACKET
    return extract_answer_general(text, formats)


def extract_answer_general(
    text: str, formats: Sequence[AnswerFormat] = ALL_FORMATS
) -> tuple[str | None, AnswerFormat | None]:
    """``extract_answer`` without its fast paths (the reference its tests compare to)."""
    visible, answers = _spans(text, formats)
    if answers:
        _, fmt, lo, hi = answers[-1]
        content = visible[lo:hi]
        if fmt is AnswerFormat.BOXED:
            content = strip_latex(content)
        return content.strip(), fmt
    if AnswerFormat.BARE in formats:
        bare = _THINK_BLOCK.sub("", text).strip()
        if bare:
            return bare, AnswerFormat.BARE
    return None, None


_LATEX_WRAPPER = re.compile(
    r"\\(?:text|textbf|textit|mathrm|mathbf|texttt)\s*\{([^{}]*)\}"
)


def strip_latex(text: str) -> str:
    """Unwrap ``\\text{..}``-style wrappers models put inside ``\\boxed{}``."""
    return _LATEX_WRAPPER.sub(lambda m: m.group(1), text)


def _normalise(text: str) -> str:
    text = strip_latex(text)
    return re.sub(r"\s+", " ", text.strip().strip(".").strip("'\"`*$").lower())


def match_legal(answer: str, legal: dict[str, Any]) -> Any | None:
    """Match ``answer`` against ``legal`` (text -> action), ignoring case and spacing."""
    wanted = _normalise(answer)
    for text, action in legal.items():
        if _normalise(text) == wanted:
            return action
    return None
