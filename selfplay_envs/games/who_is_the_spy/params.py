"""The declared parameters of ``who_is_the_spy_v0`` (see ``selfplay_envs.core.config``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from selfplay_envs.core.config import (
    Bool,
    Choice,
    Float,
    Instance,
    Int,
    OneOf,
    Pair,
    Param,
    Params,
    PathArg,
    Rule,
    Seq,
    Where,
)
from selfplay_envs.games.who_is_the_spy import charts, scenes
from selfplay_envs.games.who_is_the_spy.items import ItemKind, folder_pairs
from selfplay_envs.games.who_is_the_spy.rules import RoleBaseline

__all__ = ["PARAMETERS", "MIN_PLAYERS", "MAX_PLAYERS", "PRESETS", "resolve_preset"]

MIN_PLAYERS, MAX_PLAYERS = 3, 8

#: The points of each preset; each is also a plain parameter, and a point given
#: explicitly wins over the preset's value.
PRESETS: dict[str, dict[str, Any]] = {
    # Vision-Zero (Wang et al. 2025): the clue-stage and decision-stage rewards are the
    # returns, and the spy's scene has two objects replaced (its v1 CLEVR data).
    "vision_zero": {
        "reward_mode": "vision_zero",
        "num_edits": 2,
        "edits": ("replace_object",),
    },
}

#: Today's value of each preset point (the parameter's ``None``).
_PLAIN: dict[str, Any] = {
    "reward_mode": "team",
    "num_edits": 1,
    "edits": scenes.EDIT_KINDS,
}


def resolve_preset(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` without ``preset``: each unset point from the preset, else today's."""
    rules = dict(config)
    preset = PRESETS.get(rules.pop("preset", None) or "", {})
    for name, plain in _PLAIN.items():
        if rules.get(name) is None:
            rules[name] = preset.get(name, plain)
    return rules


_SIDE = Int(16, 4096)


def _has_pairs(folder: Any) -> str | None:
    """A folder holds at least one ``NAME_a.png`` with its ``NAME_b.png``."""
    return None if folder_pairs(folder) else "it holds no NAME_a.png / NAME_b.png pair"


def _folder_items(config: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    del given
    folder, items = config["image_folder"], config["items"]
    if folder is not None and items != ItemKind.FOLDER.value:
        return f"expected image_folder only with items='folder', got items={items!r}"
    if folder is None and items == ItemKind.FOLDER.value:
        return "expected image_folder for items='folder', got None"
    return None


def _word_items(config: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    del given
    if config["word_pairs"] is not None and config["items"] != ItemKind.WORD.value:
        return (
            f"expected word_pairs only with items='word', got items={config['items']!r}"
        )
    return None


def _num_edits(config: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    """Each edit touches its own object; only scenes take several (a preset's 2 is
    ignored by the other items)."""
    if given.get("num_edits") is None and not config.get("preset"):
        return None
    count = resolve_preset(config)["num_edits"]
    if given.get("num_edits") is not None and config["items"] != ItemKind.SCENE.value:
        if count != 1:
            return f"expected num_edits=1 or None with items={config['items']!r}, got {count}"
    if config["items"] == ItemKind.SCENE.value and count > config["min_objects"]:
        return f"expected num_edits <= min_objects={config['min_objects']}, got {count}"
    return None


PARAMETERS = Params(
    Param(
        "preset",
        Choice(*PRESETS),
        None,
        "`vision_zero`: Vision-Zero's rewards and two-object edits (each point below, "
        "when not given); `None`: today's rules",
    ),
    Param(
        "reward_mode",
        Choice("team", "vision_zero"),
        None,
        "the returns: `team`, the zero-sum team outcome; `vision_zero`, each seat's "
        "clue-stage plus vote-stage term (not zero-sum)",
        shown_default="`'team'` (`vision_zero`: `'vision_zero'`)",
    ),
    Param("num_players", Int(MIN_PLAYERS, MAX_PLAYERS), 4, "seats; one is the spy"),
    Param(
        "items",
        Choice(*(k.value for k in ItemKind)),
        ItemKind.SCENE.value,
        "what the players hold (see Items)",
    ),
    Param(
        "spy_item",
        Choice("different", "blank"),
        "different",
        "the spy's item: a slightly different one, or a blank one",
    ),
    Param("clue_rounds", Int(1, 20), 2, "clue rounds before the vote"),
    Param("spy_votes", Bool(), False, "whether the spy votes too (off in Vision-Zero)"),
    Param(
        "image_size",
        OneOf(
            _SIDE,
            Pair(_SIDE, _SIDE, desc="a pair (width, height) of ints in [16, 4096]"),
        ),
        (448, 448),
        "`(width, height)` of the pictures, or one int for a square",
    ),
    Param("min_objects", Int(2, 10), 3, "fewest objects in a scene"),
    Param("max_objects", Int(2, 10), 8, "most objects in a scene"),
    Param(
        "edits",
        Seq(Choice(*scenes.ALL_EDIT_KINDS), min_len=1),
        None,
        "edit kinds the spy's scene may differ by",
        shown_default="the first four (`vision_zero`: `('replace_object',)`)",
    ),
    Param(
        "num_edits",
        Int(1, 10),
        None,
        "edits of the spy's scene, each of a different object (scenes only)",
        shown_default="`1` (`vision_zero`: `2`)",
    ),
    Param(
        "chart_kinds",
        Seq(Choice(*charts.CHART_KINDS), min_len=1),
        charts.CHART_KINDS,
        "kinds of chart drawn",
    ),
    Param(
        "word_pairs",
        PathArg("file", nonempty=True),
        None,
        'a word-pair TSV for `items="word"`',
        shown_default="the shipped file",
    ),
    Param(
        "randomize_word_roles",
        Bool(),
        True,
        "let either word of a pair be the spy's",
    ),
    Param(
        "image_folder",
        Where(
            PathArg("dir"),
            _has_pairs,
            desc="the path of a directory with NAME_a.png / NAME_b.png pairs",
        ),
        None,
        'your picture pairs, for `items="folder"` (required there)',
    ),
    Param("max_clue_chars", Int(1, 10_000), 300, "longest clue accepted"),
    Param(
        "forbid_own_word",
        Bool(),
        True,
        "in the word variant, reject clues containing one's own word",
    ),
    Param("beta", Float(0, 10), 0.1, "β of the clue-stage shaped term"),
    Param("lam", Float(0, 10), 0.1, "λ of the clue-stage shaped term"),
    Param(
        "baseline_decay",
        Float(0, 1, max_open=True),
        0.9,
        "decay of the per-role moving-average baseline",
    ),
    Param(
        "baseline",
        Instance(RoleBaseline),
        None,
        "a `RoleBaseline` to use and share",
        shown_default="a new one",
    ),
    rules=(
        Rule(
            ("image_folder", "items"),
            _folder_items,
            '`image_folder` is given exactly when `items="folder"`',
        ),
        Rule(
            ("word_pairs", "items"),
            _word_items,
            '`word_pairs` only with `items="word"`',
        ),
        Rule.at_most("min_objects", "max_objects"),
        Rule(
            ("num_edits", "items", "min_objects"),
            _num_edits,
            '`num_edits <= min_objects`; `num_edits` > 1 only with `items="scene"`',
        ),
    ),
    game="who_is_the_spy_v0",
)
