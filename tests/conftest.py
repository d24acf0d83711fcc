"""Shared fixtures: where the reference data lives, and skips with reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared``: reference data present in CI and dev checkouts, not in user clones."""
    if not SHARED.is_dir():
        pytest.skip(
            "../shared not found: reference data lives only in CI and dev checkouts"
        )
    return SHARED


def env_params(build_check: bool = True) -> list:
    """``pytest.param(env_id)`` for every registered env.

    An env that cannot be built on this machine (bug repair without bubblewrap, say)
    is skipped with the env's own explanation instead of erroring at collection.
    """
    import selfplay_envs
    from selfplay_envs.core.errors import Error

    params = []
    for env_id in selfplay_envs.list_envs():
        try:
            if build_check:
                selfplay_envs.make_game(env_id)
        except Error as e:
            reason = f"{env_id} cannot run on this machine: {e}"
            params.append(
                pytest.param(env_id, id=env_id, marks=pytest.mark.skip(reason=reason))
            )
            continue
        params.append(pytest.param(env_id, id=env_id))
    return params
