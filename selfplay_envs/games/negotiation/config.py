"""Negotiation configuration: every number of the game, and the named presets.

``NegotiationConfig`` is a frozen record of one game configuration. ``resolve_config``
starts from a preset and applies keyword overrides, so
``NegotiationGame(preset="textarena", num_turns=20)`` is TextArena's setup with longer
games. Values are either fixed per player (``values``, SPIRAL's opposite valuations) or
drawn per episode from ``base_values`` +- ``value_spread`` (TextArena).

Without a preset (``preset=None``, the default) the game is SPIRAL's set-up with the
zero-sum forfeit; ``preset="spiral"`` adds SPIRAL's training-mode scoring of an invalid
move (``invalid_returns=(-1.5, 0.5)``), which is not zero-sum.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT",
    "NegotiationConfig",
    "PRESETS",
    "SPIRAL_INVALID_RETURNS",
    "preset_params",
    "resolve_config",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class NegotiationConfig:
    """All parameters of a negotiation game.

    Attributes:
        resources: Resource names, e.g. ``("Wood", "Gold")``.
        num_turns: Total turns of the game, both players together; must be even so
            that each player gets ``num_turns // 2`` turns.
        min_units: Fewest units of each resource a player starts with.
        max_units: Most units of each resource a player starts with (inclusive); equal
            to ``min_units`` for a fixed start.
        values: Fixed per-unit values, one row per player, or ``None`` to draw them.
        base_values: Base per-unit value of each resource when values are drawn.
        value_spread: Drawn values are integers in ``base +- floor(spread * base)``.
        value_bounds: ``(low, high)`` clamp of drawn values, or ``None``.
        max_offer_units: ``k``: numeric-view offers give 1..k units of one resource
            for 1..k units of another.
        public_inventories: Whether each player sees the other's inventory.
        max_message_chars: Longest chat message kept; longer ones are cut.
        invalid_returns: ``(offender, other)`` returns of a game ended by an invalid
            move (SPIRAL's training mode: -1.5, 0.5), or ``None``: the zero-sum
            forfeit, -1 / +1.
    """

    resources: tuple[str, ...]
    num_turns: int
    min_units: int
    max_units: int
    values: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    base_values: tuple[int, ...] | None = None
    value_spread: float = 0.0
    value_bounds: tuple[float, float] | None = None
    max_offer_units: int = 3
    public_inventories: bool = True
    max_message_chars: int = 1000
    invalid_returns: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def num_resources(self) -> int:
        """Number of resource kinds."""
        return len(self.resources)

    @property
    def turns_per_player(self) -> int:
        """Turns each player gets."""
        return self.num_turns // 2

    def value_range(self, resource: int) -> tuple[float, float]:
        """Lowest and highest per-unit value ``resource`` can have for a player."""
        if self.values is not None:
            column = [row[resource] for row in self.values]
            return min(column), max(column)
        assert self.base_values is not None  # guaranteed by _validate
        base = self.base_values[resource]
        spread = math.floor(self.value_spread * base + 1e-9)
        low, high = base - spread, base + spread
        if self.value_bounds is not None:
            low = min(max(low, self.value_bounds[0]), self.value_bounds[1])
            high = max(min(high, self.value_bounds[1]), self.value_bounds[0])
        return low, high

    @property
    def max_value(self) -> float:
        """The largest per-unit value any resource can have (scale of the tensor)."""
        return max(self.value_range(r)[1] for r in range(self.num_resources))

    def draw_inventories(self, rng: np.random.Generator) -> tuple[tuple[int, ...], ...]:
        """Starting units of each player, drawn uniformly in ``[min_units, max_units]``."""
        if self.min_units == self.max_units:
            row = (self.min_units,) * self.num_resources
            return (row, row)
        return tuple(
            tuple(
                int(rng.integers(self.min_units, self.max_units + 1))
                for _ in self.resources
            )
            for _ in range(2)
        )

    def draw_values(self, rng: np.random.Generator) -> tuple[tuple[float, ...], ...]:
        """Per-unit values of each player: the fixed rows, or integer draws."""
        if self.values is not None:
            return self.values
        return tuple(
            tuple(
                float(rng.integers(math.ceil(low), math.floor(high) + 1))
                for low, high in map(self.value_range, range(self.num_resources))
            )
            for _ in range(2)
        )


#: SPIRAL's training-mode returns of an invalid move: (offender, other).
SPIRAL_INVALID_RETURNS = (-1.5, 0.5)

#: The default (``preset=None``): SPIRAL's set-up (arXiv:2506.24119: two resources,
#: 10 units each, opposite values) with the zero-sum forfeit.
DEFAULT: Mapping[str, Any] = {
    "resources": ("Wood", "Gold"),
    "num_turns": 10,
    "min_units": 10,
    "max_units": 10,
    "values": ((5.0, 15.0), (15.0, 5.0)),
    "max_offer_units": 5,
    "public_inventories": True,
    "max_message_chars": 1000,
}

PRESETS: Mapping[str, Mapping[str, Any]] = {
    # SPIRAL: its set-up (the default) and its training-mode invalid-move returns.
    "spiral": {**DEFAULT, "invalid_returns": SPIRAL_INVALID_RETURNS},
    # TextArena SimpleNegotiation-v0: five resources, 5-25 units, base +- 20%.
    "textarena": {
        "resources": ("Wheat", "Wood", "Sheep", "Brick", "Ore"),
        "num_turns": 10,
        "min_units": 5,
        "max_units": 25,
        "base_values": (5, 10, 15, 25, 40),
        "value_spread": 0.2,
        "value_bounds": (5.0, 40.0),
        "max_offer_units": 3,
        "public_inventories": False,
        "max_message_chars": 1000,
    },
}


def preset_params(preset: str | None) -> Mapping[str, Any]:
    """The parameters ``preset`` fills in (``None``: ``DEFAULT``)."""
    if preset is None:
        return DEFAULT
    if preset not in PRESETS:
        raise ValueError(
            f"expected preset in {sorted(PRESETS)} or None, got {preset!r}"
        )
    return PRESETS[preset]


def resolve_config(
    preset: str | None, overrides: Mapping[str, Any]
) -> NegotiationConfig:
    """The preset's parameters with ``overrides`` (keys whose value is not ``None``).

    Passing ``base_values`` drops a preset's fixed ``values`` and vice versa, so
    ``resolve_config(None, {"base_values": (10, 30)})`` draws values.
    """
    base = preset_params(preset)
    given = {k: v for k, v in overrides.items() if v is not None}
    if "values" in given and "base_values" in given:
        raise ValueError(
            "expected either values (fixed) or base_values (drawn), got both"
        )
    params = dict(base)
    if "base_values" in given:
        params.pop("values", None)
    if "values" in given:
        params.pop("base_values", None)
    params.update(given)
    return NegotiationConfig(**_normalise(params))


def _normalise(params: dict[str, Any]) -> dict[str, Any]:
    """Turn list arguments into the tuples the frozen record stores."""
    out = dict(params)
    if "resources" in out:
        out["resources"] = tuple(str(r) for r in out["resources"])
    if out.get("values") is not None:
        out["values"] = tuple(tuple(float(v) for v in row) for row in out["values"])
    if out.get("base_values") is not None:
        out["base_values"] = tuple(out["base_values"])
    if out.get("value_bounds") is not None:
        out["value_bounds"] = tuple(float(v) for v in out["value_bounds"])
    if out.get("invalid_returns") is not None:
        out["invalid_returns"] = tuple(out["invalid_returns"])
    return out


def _validate(config: NegotiationConfig) -> None:
    """Raise ``ValueError`` ("expected X, got Y") for an unusable configuration."""
    names = [r.lower() for r in config.resources]
    if len(names) < 2 or len(set(names)) != len(names):
        raise ValueError(
            f"expected at least 2 distinct resource names, got {config.resources}"
        )
    if not all(r.isalpha() for r in config.resources):
        raise ValueError(
            f"expected resource names made of letters, got {config.resources}"
        )
    if config.num_turns < 2 or config.num_turns % 2:
        raise ValueError(
            f"expected an even num_turns >= 2 (equal turns), got {config.num_turns}"
        )
    if not 0 <= config.min_units <= config.max_units:
        raise ValueError(
            "expected 0 <= min_units <= max_units, "
            f"got {config.min_units} and {config.max_units}"
        )
    if config.max_units < 1:
        raise ValueError(f"expected max_units >= 1, got {config.max_units}")
    if config.max_offer_units < 1:
        raise ValueError(f"expected max_offer_units >= 1, got {config.max_offer_units}")
    if config.max_message_chars < 0:
        raise ValueError(
            f"expected max_message_chars >= 0, got {config.max_message_chars}"
        )
    _validate_values(config)
    returns = config.invalid_returns
    if returns is not None and not (
        len(returns) == 2
        and all(
            isinstance(r, numbers.Real) and not isinstance(r, bool) and math.isfinite(r)
            for r in returns
        )
    ):
        raise ValueError(
            "expected invalid_returns as (offender, other), two finite numbers, "
            f"got {returns}"
        )


def _validate_values(config: NegotiationConfig) -> None:
    n = config.num_resources
    if (config.values is None) == (config.base_values is None):
        raise ValueError(
            "expected exactly one of values or base_values, got "
            f"values={config.values}, base_values={config.base_values}"
        )
    if config.values is not None:
        rows = config.values
        if len(rows) != 2 or any(len(row) != n for row in rows):
            raise ValueError(
                f"expected values as 2 rows of {n} numbers (one per resource), "
                f"got {rows}"
            )
        if any(v < 0 for row in rows for v in row):
            raise ValueError(f"expected non-negative values, got {rows}")
        return
    base = config.base_values
    assert base is not None
    if len(base) != n or any(int(b) != b or b < 0 for b in base):
        raise ValueError(f"expected {n} non-negative integer base_values, got {base}")
    if not 0.0 <= config.value_spread < 1.0:
        raise ValueError(f"expected 0 <= value_spread < 1, got {config.value_spread}")
    bounds = config.value_bounds
    if bounds is not None and not (len(bounds) == 2 and 0 <= bounds[0] <= bounds[1]):
        raise ValueError(
            f"expected value_bounds (low, high), 0 <= low <= high, got {bounds}"
        )
