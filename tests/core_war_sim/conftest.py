"""Every test here runs on both MARS engines: the C extension and the numba kernel.

The pMARS differential tests are the contract both engines must meet. The numba runs
are marked slow (a cold cache compiles for ~30 s). Where the C engine is not built the
C runs fail, naming the fix: CI builds it (``pip install -e .``).
"""

from __future__ import annotations

import pytest

from selfplay_envs.games.core_war import mars


@pytest.fixture(
    autouse=True, params=["c", pytest.param("numba", marks=pytest.mark.slow)]
)
def mars_engine(request: pytest.FixtureRequest):
    """Run the test on one engine (``mars.use_engine``); yields its name."""
    with mars.use_engine(request.param):
        yield request.param
