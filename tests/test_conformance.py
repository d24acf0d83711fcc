"""PettingZoo's api/parallel/seed tests plus ours, on every registered env and view."""

from __future__ import annotations

import pytest

import selfplay_envs
from selfplay_envs.test import check_env

VIEWS = ("text", "numeric")


def _cases():
    for env_id in selfplay_envs.list_envs():
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


def test_every_env_has_a_text_view() -> None:
    for env_id in selfplay_envs.list_envs():
        env = selfplay_envs.make(env_id)
        env.reset(seed=0)
        assert isinstance(env.observe(env.agent_selection)["text"], str)
