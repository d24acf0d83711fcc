"""The declared parameters of ``negotiation_v0`` (see ``selfplay_envs.core.config``).

Every parameter defaults to ``None``: the preset's value (``preset=None``: SPIRAL's
set-up with the zero-sum forfeit). The rules that compare parameters read the preset's
values for those not given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from selfplay_envs.core.config import (
    Bool,
    Choice,
    Float,
    Int,
    Pair,
    Param,
    Params,
    Rule,
    Seq,
    Str,
)
from selfplay_envs.games.negotiation.config import PRESETS, preset_params

__all__ = ["PARAMETERS", "MAX_RESOURCES", "MAX_OFFER_UNITS"]

#: Most resource kinds, and the largest ``k`` of the numeric view's offers: the
#: numeric action set has ``3 + R(R-1)k^2`` actions (36,003 at the caps).
MAX_RESOURCES = 10
MAX_OFFER_UNITS = 20
_MAX_UNITS = 1_000_000
_MAX_VALUE = 1e6
_PRESET = "the preset's"


def _resolved(config: Mapping[str, Any]) -> dict[str, Any]:
    """The preset's parameters under the given ones (as ``resolve_config`` does)."""
    preset = preset_params(config["preset"])
    return {**preset, **{k: v for k, v in config.items() if v is not None}}


def _both_values(config: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    del config
    if given.get("values") is not None and given.get("base_values") is not None:
        return "expected either values (fixed) or base_values (drawn), got both"
    return None


def _units(config: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    del given
    resolved = _resolved(config)
    low, high = resolved.get("min_units"), resolved.get("max_units")
    if low is not None and high is not None and low > high:
        return f"expected 0 <= min_units <= max_units, got {low} and {high}"
    return None


PARAMETERS = Params(
    Param(
        "preset",
        Choice(*PRESETS),
        None,
        "supplies every parameter not given: `spiral` is SPIRAL's set-up and its "
        "-1.5 / +0.5 for an invalid move (not zero-sum), `textarena` TextArena's; "
        "`None`: SPIRAL's set-up, zero-sum",
    ),
    Param(
        "resources",
        Seq(
            Str(pattern=r"[A-Za-z]+", what="a name of letters"),
            min_len=2,
            max_len=MAX_RESOURCES,
            unique=True,
        ),
        None,
        "resource names",
        shown_default=_PRESET,
    ),
    Param(
        "num_turns",
        Int(2, 1000, even=True),
        None,
        "total turns, both players together (each gets half)",
        shown_default=_PRESET,
    ),
    Param(
        "min_units",
        Int(0, _MAX_UNITS),
        None,
        "fewest starting units of each resource per player",
        shown_default=_PRESET,
    ),
    Param(
        "max_units",
        Int(1, _MAX_UNITS),
        None,
        "most starting units of each resource per player (inclusive)",
        shown_default=_PRESET,
    ),
    Param(
        "values",
        Seq(Seq(Float(0, _MAX_VALUE), min_len=2, max_len=MAX_RESOURCES), length=2),
        None,
        "fixed per-unit values, one row per player (instead of `base_values`)",
        shown_default=_PRESET,
    ),
    Param(
        "base_values",
        Seq(Int(0, _MAX_UNITS), min_len=2, max_len=MAX_RESOURCES),
        None,
        "base values to draw per-unit values from (instead of `values`)",
        shown_default=_PRESET,
    ),
    Param(
        "value_spread",
        Float(0, 1, max_open=True),
        None,
        "drawn values lie in `base +- floor(spread * base)`",
        shown_default=_PRESET,
    ),
    Param(
        "value_bounds",
        Pair(Float(0, _MAX_VALUE)),
        None,
        "`(low, high)` clamp of drawn values",
        shown_default=_PRESET,
    ),
    Param(
        "max_offer_units",
        Int(1, MAX_OFFER_UNITS),
        None,
        "`k` of the numeric view's offers (1..k units for 1..k units)",
        shown_default=_PRESET,
    ),
    Param(
        "public_inventories",
        Bool(),
        None,
        "whether each player sees the other's inventory",
        shown_default=_PRESET,
    ),
    Param(
        "max_message_chars",
        Int(0, 100_000),
        None,
        "longest chat message kept (longer ones are cut)",
        shown_default=_PRESET,
    ),
    Param(
        "invalid_returns",
        Pair(Float(desc="the offender's number"), Float(desc="the other's")),
        None,
        "(offender, other) returns of a game ended by an invalid move; `None`: "
        "the preset's (`spiral`: -1.5, 0.5), else the zero-sum forfeit -1 / +1",
    ),
    rules=(
        Rule(
            ("values", "base_values"),
            _both_values,
            "`values` and `base_values` are not both given",
        ),
        Rule(
            ("min_units", "max_units"),
            _units,
            "`min_units <= max_units` (with the preset's values for those not given)",
        ),
        Rule.low_high("value_bounds", "`value_bounds` has `low <= high`"),
    ),
    game="negotiation_v0",
)
