"""PettingZoo's api/parallel/seed tests plus ours, on every registered env and view,
and PettingZoo's own conversions of each (``aec_to_parallel``, ``parallel_to_aec``,
``OrderEnforcingWrapper``), in every config ``conformance_configs`` gives (every preset
included)."""

from __future__ import annotations

import pytest
from envs import env_params

import selfplay_envs
from selfplay_envs.test import check_conversions, check_env, conformance_configs

VIEWS = ("text", "numeric")
# Games whose every move is a simultaneous move of every seat: their AEC env converts
# to Parallel with PettingZoo's aec_to_parallel, under a policy without retries.
PARALLELIZABLE = {"core_war_v0"}
NO_RETRY = ({"mode": "loss"}, {"mode": "penalty"}, {"mode": "retry", "max_retries": 0})


def _cases():
    for param in env_params():
        if param.marks:  # cannot be built here: keep the skip and its reason
            yield pytest.param(
                param.values[0], "text", {}, id=param.id, marks=param.marks
            )
            continue
        env_id = param.values[0]
        game = selfplay_envs.make_game(env_id)
        for n, config in enumerate(conformance_configs(game)):
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


@pytest.mark.parametrize(("env_id", "view", "config"), list(_cases()))
def test_is_parallelizable_is_declared_truthfully(
    env_id: str, view: str, config: dict
) -> None:
    # The default policy retries: the same seat steps twice in one AEC cycle.
    env = selfplay_envs.make(env_id, view=view, **config)
    assert env.metadata["is_parallelizable"] is False
    for policy in NO_RETRY:
        env = selfplay_envs.make(env_id, view=view, invalid_move=policy, **config)
        assert env.metadata["is_parallelizable"] is (env_id in PARALLELIZABLE)
        parallel = selfplay_envs.make_parallel(
            env_id, view=view, invalid_move=policy, **config
        )
        assert parallel.metadata == env.metadata


@pytest.mark.parametrize(("env_id", "view", "config"), list(_cases()))
def test_pettingzoo_conversions_pass_or_are_refused_up_front(
    env_id: str, view: str, config: dict
) -> None:
    """Never accepted and then broken mid-game (``expected agent player_1 got agent
    player_0``): a full game through each conversion, or PettingZoo's own refusal."""
    accepted = check_conversions(env_id, view, invalid_move={"mode": "loss"}, **config)
    assert accepted == {
        "OrderEnforcingWrapper": True,
        "parallel_to_aec": True,
        "aec_to_parallel": env_id in PARALLELIZABLE,
    }


@pytest.mark.parametrize(
    ("config", "invalid_move"),
    [
        pytest.param({"rounds": 3}, {"mode": "penalty"}, id="versus-penalty"),
        pytest.param({"mode": "red_queen", "rounds": 3}, None, id="red-queen-retry"),
    ],
)
def test_aec_to_parallel_plays_core_war_through(config: dict, invalid_move) -> None:
    # One seat: every AEC cycle is one step of it, retries included.
    accepted = check_conversions("core_war_v0", invalid_move=invalid_move, **config)
    assert accepted["aec_to_parallel"] is True


def test_conformance_configs_add_every_preset_no_config_names() -> None:
    # core_war's "tiny" hill is in none of its conformance configs: it is added.
    assert {"preset": "tiny"} in conformance_configs(
        selfplay_envs.make_game("core_war_v0")
    )
    # negotiation's configs name both its presets: nothing is added.
    configs = conformance_configs(selfplay_envs.make_game("negotiation_v0"))
    assert configs == [{}, {"preset": "textarena"}, {"preset": "spiral"}]
