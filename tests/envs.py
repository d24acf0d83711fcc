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


def play_replies(env, replies, seed: int = 0) -> tuple[dict, list]:
    """Step an AEC ``env`` from ``reset(seed=seed)`` with ``replies`` in turn.

    Returns each agent's final infos and the two seats' final rewards
    ``[player_0, player_1]``: what the preset tests compare with hand-computed values.
    """
    env.reset(seed=seed)
    replies = iter(replies)
    final, rewards = {}, {}
    for agent in env.agent_iter():
        _, reward, termination, truncation, info = env.last()
        if termination or truncation:
            final[agent], rewards[agent] = info, reward
            env.step(None)
        else:
            env.step(next(replies))
    return final, [rewards["player_0"], rewards["player_1"]]
