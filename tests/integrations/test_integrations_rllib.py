"""RLlib: our games as registered RLlib envs, trained with RLlib's own modules.

Importing ``selfplay_agents.integrations.rllib`` registers ``selfplay/<env_id>`` with
``ray.tune``; RLlib's own ``ActionMaskingTorchRLModule`` (from ``ray.rllib.examples``)
runs on the observations unchanged. The PPO runs follow RLlib's PettingZoo
parameter-sharing example: one policy mapped to both seats, so the run is self-play.
The Kuhn run reads the module's action probabilities at the 12 information states into
``selfplay_agents.analysis.kuhn``, which computes the exact exploitability.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import selfplay_envs
from selfplay_agents.analysis.kuhn import INFO_STATES, evaluate, info_state_turn
from selfplay_envs.core.errors import ConfigError

torch = pytest.importorskip("torch", reason="the agents extra (torch) is not installed")
pytest.importorskip("ray.rllib", reason="the ray extra (ray[rllib]) is not installed")

from ray.rllib.algorithms.ppo import PPOConfig  # noqa: E402
from ray.rllib.callbacks.callbacks import RLlibCallback  # noqa: E402
from ray.rllib.core.columns import Columns  # noqa: E402
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec  # noqa: E402
from ray.rllib.core.rl_module.rl_module import RLModuleSpec  # noqa: E402
from ray.rllib.examples.rl_modules.classes.action_masking_rlm import (  # noqa: E402
    ActionMaskingTorchRLModule,
)
from ray.tune.registry import ENV_CREATOR, _global_registry, register_env  # noqa: E402

from selfplay_agents.integrations import rllib  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def registered(name: str):
    """The env creator ray.tune holds under ``name``, as RLlib looks it up."""
    assert _global_registry.contains(ENV_CREATOR, name), name
    return _global_registry.get(ENV_CREATOR, name)


def test_import_registers_every_game_with_ray_tune():
    for env_id in selfplay_envs.list_envs():
        assert callable(registered(f"selfplay/{env_id}"))
    assert rllib.ActionMaskingTorchRLModule is ActionMaskingTorchRLModule


def test_observations_in_rllib_keys_flat_and_in_the_space():
    env = registered("selfplay/tic_tac_toe_v0")({})
    observations, _ = env.reset(seed=0)
    space = env.observation_space["player_0"]
    assert set(space) == {"observations", "action_mask"}
    assert space["observations"].shape == (18,)  # the (3, 3, 2) board, flattened
    assert space.contains(observations["player_0"])
    observations, *_ = env.step({"player_0": 4})
    assert observations["player_1"]["action_mask"].tolist() == [1] * 4 + [0] + [1] * 4
    assert observations["player_1"]["observations"].sum() == 1.0


def test_kuhn_steps_and_pays_through_pettingzoo_env():
    env = registered("selfplay/kuhn_poker_v0")({})
    observations, _ = env.reset(seed=0)
    assert list(observations) == ["player_0"]
    observations, rewards, terminated, _, _ = env.step({"player_0": 1})  # bet
    assert list(observations) == ["player_1"] and not terminated["__all__"]
    observations, rewards, terminated, _, _ = env.step({"player_1": 0})  # fold
    assert terminated["__all__"]
    assert rewards == {"player_0": 1.0, "player_1": -1.0}


def test_rllib_action_masking_module_masks_illegal_actions():
    env = rllib.rllib_env({"env_id": "tic_tac_toe_v0"})
    module = RLModuleSpec(
        module_class=ActionMaskingTorchRLModule,
        observation_space=env.observation_space["player_0"],
        action_space=env.action_space["player_0"],
    ).build()
    env.reset(seed=0)
    observations, *_ = env.step({"player_0": 4})
    obs = {k: torch.as_tensor(v)[None] for k, v in observations["player_1"].items()}
    with torch.no_grad():
        logits = module.forward_exploration({Columns.OBS: obs})
    probs = torch.softmax(logits[Columns.ACTION_DIST_INPUTS], -1)[0]
    assert probs[4] == 0.0 and math.isclose(float(probs.sum()), 1.0, rel_tol=1e-5)


def test_illegal_action_is_counted_in_the_infos_the_callback_reads():
    env = registered("selfplay/tic_tac_toe_v0")({"invalid_move": "loss"})
    env.reset(seed=0)
    env.step({"player_0": 4})
    _, rewards, terminated, _, infos = env.step({"player_1": 4})  # taken: loses
    assert terminated["__all__"] and rewards == {"player_0": 1.0, "player_1": -1.0}
    assert invalid_moves(infos) == 1


@pytest.mark.parametrize(
    "name, env_config, param",
    [
        ("selfplay/kuhn_poker_v0", {"env_id": "tic_tac_toe_v0"}, "env_id"),
        ("selfplay/kuhn_poker_v0", {"view": "text"}, "view"),
        ("selfplay/kuhn_poker_v0", {"num_hand": 3}, None),
        ("selfplay/core_war_v0", {}, "view"),
    ],
)
def test_bad_env_config_is_refused_naming_the_parameter(name, env_config, param):
    with pytest.raises(ConfigError) as raised:
        registered(name)(env_config)
    if param is not None:
        assert raised.value.param == param
    else:
        assert "num_hand" in str(raised.value)


def test_rllib_env_without_env_id_is_refused():
    register_env("my_kuhn", rllib.rllib_env)
    with pytest.raises(ConfigError, match="env_id"):
        registered("my_kuhn")({})
    assert registered("my_kuhn")({"env_id": "kuhn_poker_v0"}).action_space


def invalid_moves(infos: dict) -> int:
    """Invalid moves of the finished game: each seat's final ``infos`` count its own."""
    return sum(int(info.get("invalid_moves", 0)) for info in infos.values())


class IllegalMoves(RLlibCallback):
    """Logs each finished game's invalid moves, as RLlib's custom-metrics docs do."""

    def on_episode_end(self, *, episode, metrics_logger=None, **kwargs) -> None:
        infos = episode.get_infos(-1)
        metrics_logger.log_value("illegal_moves", invalid_moves(infos), reduce="sum")
        # Seats whose final infos the count read: two a game, or the count is blind.
        metrics_logger.log_value("seats_counted", len(infos), reduce="sum")


def ppo_config(env_name: str, hidden: int = 64) -> PPOConfig:
    """RLlib's PettingZoo parameter-sharing example, with RLlib's masking module."""
    shared = RLModuleSpec(
        module_class=ActionMaskingTorchRLModule,
        model_config={"fcnet_hiddens": [hidden, hidden]},
    )
    return (
        PPOConfig()
        .environment(env_name)
        .env_runners(num_env_runners=0)
        .learners(num_learners=0)
        .multi_agent(
            policies={"shared"}, policy_mapping_fn=lambda agent, episode, **kw: "shared"
        )
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={"shared": shared}))
        .callbacks(IllegalMoves)
        .debugging(seed=0)
    )


def weights(algorithm) -> dict[str, torch.Tensor]:
    module = algorithm.get_module("shared")
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("env_id", ["tic_tac_toe_v0", "kuhn_poker_v0"])
def test_rllib_ppo_two_iterations_learn_without_illegal_moves(ray_cluster, env_id):
    config = ppo_config(f"selfplay/{env_id}").training(
        train_batch_size_per_learner=400, minibatch_size=100, num_epochs=2
    )
    algorithm = config.build_algo()
    try:
        before = weights(algorithm)
        results = [algorithm.train() for _ in range(2)]
        after = weights(algorithm)
    finally:
        algorithm.stop()
    for result in results:
        runners = result["env_runners"]
        learner = result["learners"]["shared"]
        steps = runners["num_env_steps_sampled"]
        print(
            f"{env_id}: {runners['num_episodes']} games, {steps} steps, "
            f"{runners.get('illegal_moves')} illegal, returns "
            f"{runners['agent_episode_returns_mean']}, "
            f"policy loss {learner['policy_loss']:.4f}"
        )
        assert runners["num_episodes"] > 0 and steps >= 400
        assert runners["seats_counted"] == 2 * runners["num_episodes"]
        assert runners["illegal_moves"] == 0  # the mask holds: no illegal move
        returns = runners["agent_episode_returns_mean"]
        assert set(returns) == {"player_0", "player_1"}
        assert math.isclose(sum(returns.values()), 0.0, abs_tol=1e-6)  # zero-sum
        assert math.isfinite(learner["policy_loss"])
        assert learner["num_module_steps_trained"] > 0
    moved = [k for k in before if not torch.equal(before[k], after[k])]
    assert moved, "PPO updated no weight of the shared module"


def policy_table(module) -> dict[str, list[float]]:
    """The module's ``[P(pass), P(bet)]`` at the 12 information states."""
    turns = [info_state_turn(key, view="numeric")[0] for key in INFO_STATES]
    observations = [rllib.rllib_observation(t.observation) for t in turns]
    batch = {
        key: torch.as_tensor(np.stack([o[key] for o in observations]))
        for key in ("observations", "action_mask")
    }
    with torch.no_grad():
        logits = module.forward_inference({Columns.OBS: batch})
    probs = torch.softmax(logits[Columns.ACTION_DIST_INPUTS], -1).numpy()
    return {key: probs[i].tolist() for i, key in enumerate(INFO_STATES)}


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_rllib_ppo_self_play_lowers_kuhn_exploitability(ray_cluster):
    config = ppo_config("selfplay/kuhn_poker_v0", hidden=32).training(
        train_batch_size_per_learner=500,
        minibatch_size=125,
        num_epochs=6,
        lr=1e-2,
        gamma=1.0,
        lambda_=1.0,
    )
    algorithm = config.build_algo()
    try:
        before = evaluate(policy_table(algorithm.get_module("shared"))).exploitability
        curve = []
        for _ in range(5):
            algorithm.train()
            curve.append(
                evaluate(policy_table(algorithm.get_module("shared"))).exploitability
            )
    finally:
        algorithm.stop()
    print(
        f"RLlib PPO Kuhn exploitability {before:.3f} -> {[round(c, 3) for c in curve]}"
    )
    assert before > 0.4, before
    assert min(curve) < 0.25, (before, curve)
    assert curve[-1] < before - 0.15, (before, curve)
