"""PettingZoo's api/parallel/seed tests plus ours, on every registered env and view."""

from __future__ import annotations

import pytest
from envs import env_params

import selfplay_envs
from selfplay_envs.test import check_env

VIEWS = ("text", "numeric")


def _cases():
    for param in env_params():
        if param.marks:  # cannot be built here: keep the skip and its reason
            yield pytest.param(
                param.values[0], "text", {}, id=param.id, marks=param.marks
            )
            continue
        env_id = param.values[0]
        game = selfplay_envs.make_game(env_id)
        for n, config in enumerate(({}, *game.conformance_configs)):
            info = selfplay_envs.make_game(env_id, **config).info
            for view in VIEWS:
                if view == "numeric" and info.num_actions is None:
                    continue
                name = f"{env_id}-{view}" + (f"-config{n}" if n else "")
                yield pytest.param(env_id, view, config, id=name)


@pytest.mark.parametrize(("env_id", "view", "config"), list(_cases()))
def test_conformance(env_id: str, view: str, config: dict) -> None:
    check_env(env_id, view=view, **config)


@pytest.mark.parametrize("env_id", env_params())
def test_every_env_has_a_text_view(env_id: str) -> None:
    env = selfplay_envs.make(env_id)
    env.reset(seed=0)
    assert isinstance(env.observe(env.agent_selection)["text"], str)
