"""Seeding helpers: one validated ``numpy.random.Generator`` per env, never the globals."""

from __future__ import annotations

import numpy as np
from gymnasium.utils import seeding


def np_random(seed: int | None = None) -> np.random.Generator:
    """Return a PCG64 generator; rejects anything but ``None`` or a non-negative int."""
    rng, _ = seeding.np_random(seed)
    return rng


def child_seed(rng: np.random.Generator) -> int:
    """Draw a seed for a sub-component (an opponent, a generator) from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))
