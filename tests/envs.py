"""Test parameters over every registered env (a module, not a conftest, so that any
test file can import it whatever conftest files sit in sub-folders)."""

from __future__ import annotations

import pytest

import selfplay_envs
from selfplay_envs.test import unavailable_reason


def env_params() -> list:
    """``pytest.param(env_id)`` per registered env; envs that cannot be built here
    (bug repair without bubblewrap, say) are skipped with the env's own explanation."""
    params = []
    for env_id in selfplay_envs.list_envs():
        reason = unavailable_reason(env_id)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(env_id, id=env_id, marks=marks))
    return params
