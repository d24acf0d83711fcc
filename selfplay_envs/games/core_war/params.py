"""The declared parameters of ``core_war_v0`` (see ``selfplay_envs.core.config``).

The hill's settings default to ``None``: the preset's value. Rules that need the whole
hill (``min_distance >= max_length``, room in the core for every warrior) are checked
by ``CoreSettings`` and the game, still before anything is built.

``preset`` names the hill, and ``"drq"`` (Digital Red Queen) also brings the rest of
DRQ's setup: ``mode``, ``reward`` and ``rounds`` (``PRESET_RULES``). Each of those is
a plain parameter defaulting to ``None`` too, and a value given explicitly wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from selfplay_envs.core.config import (
    Bool,
    Choice,
    Int,
    OneOf,
    Param,
    Params,
    PathArg,
    Rule,
    Seq,
    Str,
)
from selfplay_envs.games.core_war.rules import (
    ARCHIVE_BATTLES,
    MAX_WARRIORS,
    MODES,
    PRESETS,
    RED_QUEEN,
    REWARDS,
    VERSUS,
)

__all__ = ["PARAMETERS", "MAX_ROUNDS", "MAX_CYCLES", "PRESET_RULES", "resolve_preset"]

MAX_ROUNDS = 1000
MAX_CYCLES = 1_000_000
_CORE = 65536  # pMARS's and the kernel's largest core
_HILL = "the preset's"

#: What a preset sets besides its hill. DRQ (Kumar et al. 2026, SakanaAI/drq): one
#: learner against the archive in one melee, fitness the survival share, 24 rounds.
PRESET_RULES: dict[str, dict[str, Any]] = {
    "drq": {"mode": RED_QUEEN, "reward": "survival", "rounds": 24},
}

#: Today's value of each preset point (the parameter's ``None``); a ``None`` reward is
#: the mode's first.
_PLAIN: dict[str, Any] = {"mode": VERSUS, "reward": None, "rounds": 20}


def resolve_preset(config: Mapping[str, Any]) -> dict[str, Any]:
    """``mode``, ``reward`` and ``rounds``: each given value, else the preset's, else
    today's (``reward`` stays ``None`` for "the mode's first")."""
    preset = PRESET_RULES.get(config.get("preset") or "", {})
    resolved = {}
    for name, plain in _PLAIN.items():
        value = config.get(name)
        resolved[name] = value if value is not None else preset.get(name, plain)
    return resolved


def _seats(config: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    del given
    mode, seats = resolve_preset(config)["mode"], config["num_players"]
    if mode == RED_QUEEN and seats not in (None, 1):
        return f"expected num_players 1 (or None) in Red Queen mode, got {seats!r}"
    if mode == VERSUS and seats is not None and seats < 2:
        return (
            f"expected num_players in [2, {MAX_WARRIORS}] in versus mode, got {seats}"
        )
    return None


def _reward(config: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    del given
    rules = resolve_preset(config)
    mode, reward = rules["mode"], rules["reward"]
    if reward is not None and mode in REWARDS and reward not in REWARDS[mode]:
        return f"expected reward in {REWARDS[mode]} for mode {mode!r}, got {reward!r}"
    return None


def _archive(config: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    del given
    mode = resolve_preset(config)["mode"]
    if config["archive"] is not None and mode != RED_QUEEN:
        return f"expected archive only with mode='red_queen', got {mode!r}"
    return None


def resolved_hill(config: Mapping[str, Any]) -> dict[str, int]:
    """The hill: the preset's values for the settings not given (``None``). The game
    builds its ``CoreSettings`` from this, and the rules below check it."""
    preset = PRESETS[config["preset"]].to_dict()
    return {k: preset[k] if config[k] is None else config[k] for k in preset}


def _distance(config: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    del given
    hill = resolved_hill(config)
    if hill["min_distance"] < hill["max_length"]:
        return (
            f"expected min_distance >= max_length ({hill['max_length']}), "
            f"got {hill['min_distance']}"
        )
    return None


def _room(config: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    del given
    hill = resolved_hill(config)
    seats = config["num_players"] or 2
    if (
        resolve_preset(config)["mode"] == VERSUS
        and hill["core_size"] < seats * hill["min_distance"]
    ):
        return (
            f"expected core_size >= warriors * min_distance = "
            f"{seats * hill['min_distance']}, got {hill['core_size']}"
        )
    return None


_ALL_REWARDS = tuple(dict.fromkeys(r for rewards in REWARDS.values() for r in rewards))

PARAMETERS = Params(
    Param(
        "mode",
        Choice(*MODES),
        None,
        "`versus`: players fight each other (zero-sum); `red_queen`: one learner "
        "against an archive (DRQ)",
        shown_default="versus (drq: red_queen)",
    ),
    Param(
        "num_players",
        Int(1, MAX_WARRIORS),
        None,
        f"seats: 2-{MAX_WARRIORS} in versus mode; Red Queen mode has 1",
        shown_default="2 (versus), 1 (Red Queen)",
    ),
    Param(
        "rounds",
        Int(1, MAX_ROUNDS),
        None,
        "rounds per battle",
        shown_default="20 (drq: 24)",
    ),
    Param(
        "preset",
        Choice(*PRESETS),
        "koth94",
        "the hill: fills the settings not given; `drq` is the koth94 hill plus "
        "DRQ's `mode`, `reward` and `rounds` (see Presets)",
    ),
    Param(
        "core_size", Int(2, _CORE), None, "core cells (pMARS `-s`)", shown_default=_HILL
    ),
    Param(
        "max_cycles",
        Int(1, MAX_CYCLES),
        None,
        "cycles before a round is a tie (`-c`)",
        shown_default=_HILL,
    ),
    Param(
        "max_processes",
        Int(1, _CORE),
        None,
        "processes per warrior (`-p`)",
        shown_default=_HILL,
    ),
    Param(
        "max_length",
        Int(1, _CORE),
        None,
        "most instructions per warrior (`-l`)",
        shown_default=_HILL,
    ),
    Param(
        "min_distance",
        Int(1, _CORE),
        None,
        "least distance between warriors (`-d`), at least `max_length`",
        shown_default=_HILL,
    ),
    Param(
        "reward",
        Choice(*_ALL_REWARDS),
        None,
        f"versus: {', '.join(REWARDS[VERSUS])}; Red Queen: "
        f"{', '.join(REWARDS[RED_QUEEN])} (see Rewards)",
        shown_default="the mode's first (drq: survival)",
    ),
    Param(
        "open_information", Bool(), False, "show opponents' sources in the observation"
    ),
    Param("num_submissions", Int(1, 100), 1, "submit-and-battle cycles per episode"),
    Param(
        "archive",
        Seq(
            OneOf(Str(), PathArg(), desc="a Redcode source or the path of a .red file"),
            min_len=1,
        ),
        None,
        "Red Queen opponents: Redcode sources or `.red` paths",
        shown_default="the shipped classics",
    ),
    Param(
        "archive_battle",
        Choice(*ARCHIVE_BATTLES),
        "melee",
        "Red Queen: one melee (DRQ) or one duel per archive warrior",
    ),
    rules=(
        Rule(("num_players", "mode", "preset"), _seats, "`num_players` fits the mode"),
        Rule(("reward", "mode", "preset"), _reward, "`reward` is one of the mode's"),
        Rule(
            ("archive", "mode", "preset"),
            _archive,
            '`archive` only with `mode="red_queen"` (or `preset="drq"`)',
        ),
        Rule(
            ("min_distance", "max_length", "preset"),
            _distance,
            "`min_distance >= max_length` (with the preset's values for those not "
            "given)",
        ),
        Rule(
            ("core_size", "num_players", "min_distance", "preset", "mode"),
            _room,
            "`core_size >= warriors * min_distance` (versus mode here; Red Queen "
            "mode once its archive is assembled)",
        ),
    ),
    game="core_war_v0",
)
