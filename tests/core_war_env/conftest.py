"""The env tests, as the simulator's (``tests/core_war_sim/conftest.py``), run once per
MARS engine; numba's runs are slow (its first compile takes ~30 s)."""

from __future__ import annotations

import pytest

from selfplay_envs.games.core_war import mars

ENGINES = ["c", pytest.param("numba", marks=pytest.mark.slow)]


@pytest.fixture(autouse=True, params=ENGINES)
def mars_engine(request: pytest.FixtureRequest):
    with mars.use_engine(request.param):
        yield request.param
