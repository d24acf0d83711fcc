"""SPIRAL's and MARS's scoring rules, as presets of tic-tac-toe and Kuhn poker.

Each point of a preset is also a plain parameter (``None``: the preset's value, or
today's zero-sum rule without a preset), so a user can mix them::

    make("kuhn_poker_v0", preset="spiral", strict_format=True)

The rules read a ``PaperRules``; ``docs/papers.md`` compares each
point with the paper.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from selfplay_envs.core.config import Bool, Choice, Float, Pair, Param
from selfplay_envs.core.game import State
from selfplay_envs.core.parsing import InvalidReason, ParseResult

__all__ = [
    "PRESETS",
    "PaperRules",
    "paper_params",
    "preset_invalid_move",
    "parse_reply",
    "example_replies",
    "resolve_rules",
    "strict_answer",
    "strict_invalid",
]

#: The points of each preset; a point not listed keeps today's rule.
PRESETS: dict[str, dict[str, Any]] = {
    # SPIRAL (training mode): an invalid move ends the game, -1.5 / +0.5.
    "spiral": {"invalid_returns": (-1.5, 0.5)},
    # MARS (strict format): -10 for an invalid move (Kuhn: minus the stake too),
    # +0.05 per well-formatted reply, 0.1 each for a draw.
    "mars": {
        "invalid_returns": (-10.0, 0.0),
        "invalid_stake": True,
        "strict_format": True,
        "format_bonus": 0.05,
        "draw_score": 0.1,
    },
}

_OPEN_THINK, _CLOSE_THINK = "<think>", "</think>"
_OPEN_ANSWER, _CLOSE_ANSWER = "<answer>", "</answer>"
STRICT_SHAPE = "<think>...</think><answer>...</answer>"


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaperRules:
    """The scoring points a preset changes; the defaults are today's rules.

    Attributes:
        invalid_returns: (offender, other seat) returns of an invalid move that ends
            the game, or ``None``: the game's own forfeit.
        invalid_stake: Kuhn only: the offender also loses the chips it committed.
        strict_format: A text reply must be ``<think>...</think><answer>...</answer>``.
        format_bonus: Per well-formatted reply, reported in ``infos`` (never summed
            into the returns).
        draw_score: Each seat's return on a draw.
    """

    invalid_returns: tuple[float, float] | None = None
    invalid_stake: bool = False
    strict_format: bool = False
    format_bonus: float = 0.0
    draw_score: float = 0.0

    @property
    def default(self) -> bool:
        """Whether these are today's zero-sum rules."""
        return self == PaperRules()


def paper_params(*, stake: bool, draw: bool) -> tuple[Param, ...]:
    """The ``preset`` parameter and the points it sets (Kuhn: ``stake``; a game
    with draws: ``draw``)."""
    params = [
        Param(
            "preset",
            Choice(*PRESETS),
            None,
            "`spiral` or `mars`: the paper's scoring (each point below, when not "
            "given); `None`: the zero-sum rules",
        ),
        Param(
            "invalid_returns",
            Pair(Float(desc="the offender's number"), Float(desc="the other's")),
            None,
            "(offender, other) returns of a game ended by an invalid move; "
            "`None`: the zero-sum forfeit",
        ),
    ]
    if stake:
        params.append(
            Param(
                "invalid_stake",
                Bool(),
                None,
                "the offender also loses the chips it committed this hand (MARS)",
            )
        )
    params += [
        Param(
            "strict_format",
            Bool(),
            None,
            f"a text reply must be `{STRICT_SHAPE}`, the move in the answer (MARS)",
        ),
        Param(
            "format_bonus",
            Float(0.0),
            None,
            'per well-formatted reply, summed in `infos[agent]["format_bonus"]` '
            "(not in the returns)",
        ),
    ]
    if draw:
        params.append(
            Param("draw_score", Float(), None, "each seat's return on a draw")
        )
    return tuple(params)


def preset_invalid_move(config: Mapping[str, Any]) -> str | None:
    """``make()``'s invalid-move mode under a preset: both papers' training games end
    at the first invalid move (``"loss"``); ``None`` without a preset. An explicit
    ``invalid_move=`` wins."""
    return "loss" if config.get("preset") else None


def resolve_rules(config: Mapping[str, Any]) -> PaperRules:
    """The rules of a checked config: given points over the preset's over today's."""
    preset = PRESETS.get(config.get("preset") or "", {})
    fields = {f.name for f in dataclasses.fields(PaperRules)}
    points = {k: v for k, v in preset.items() if k in fields}
    points.update({k: v for k, v in config.items() if k in fields and v is not None})
    if points.get("invalid_returns") is not None:
        points["invalid_returns"] = tuple(float(r) for r in points["invalid_returns"])
    return PaperRules(**points)


def strict_answer(text: str) -> str | None:
    """The answer of a ``<think>...</think><answer>...</answer>`` reply, or None.

    Whitespace may surround the two tags; nothing else may. One pass of ``find``
    (no backtracking regex), so linear in the reply's length.
    """
    body = text.strip()
    if not body.startswith(_OPEN_THINK):
        return None
    close = body.find(_CLOSE_THINK, len(_OPEN_THINK))
    if close < 0:
        return None
    rest = body[close + len(_CLOSE_THINK) :].lstrip()
    if not rest.startswith(_OPEN_ANSWER) or not rest.endswith(_CLOSE_ANSWER):
        return None
    answer = rest[len(_OPEN_ANSWER) : len(rest) - len(_CLOSE_ANSWER)]
    if len(rest) < len(_OPEN_ANSWER) + len(_CLOSE_ANSWER) or _OPEN_ANSWER in answer:
        return None  # "<answer>" alone, or a second answer inside the first
    return answer.strip()


def strict_invalid(text: str) -> ParseResult:
    """The invalid move of a reply not in the strict format."""
    return ParseResult.invalid(
        InvalidReason.NO_ACTION_TAG,
        f"expected a reply of the form {STRICT_SHAPE}, got {text.strip()[:40]!r}",
    )


def example_replies(state: State, player: int) -> list[str]:
    """``State.example_actions``, each in the strict format under ``strict_format``
    (test drivers then play the game instead of forfeiting)."""
    rules: PaperRules = state.rules  # type: ignore[attr-defined]
    if not rules.strict_format:
        return State.example_actions(state, player)
    return [
        f"<think>I play {move}.</think><answer>{move}</answer>"
        for move in state.legal_action_strings(player)
    ]


def parse_reply(state: State, player: int, text: str) -> ParseResult:
    """``State.parse_action`` under the paper rules of ``state`` (its ``rules``):
    with ``strict_format`` only the answer of a strict reply counts; a strict reply
    is counted in ``state.formatted[player]`` for the format bonus."""
    rules: PaperRules = state.rules  # type: ignore[attr-defined]
    if not (rules.strict_format or rules.format_bonus):
        return State.parse_action(state, player, text)
    answer = strict_answer(text)
    if answer is not None:
        state.formatted[player] += 1  # type: ignore[attr-defined]
    if not rules.strict_format:
        return State.parse_action(state, player, text)
    if answer is None:
        return strict_invalid(text)
    return state.parse_answer(player, answer)
