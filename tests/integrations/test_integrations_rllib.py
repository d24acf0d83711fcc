"""RLlib: PPO self-play on Kuhn poker through ``PettingZooEnv`` lowers exploitability.

One shared policy plays both seats (the observation holds the position). After each
training iteration the RLModule's action probabilities at the 12 information states go
to ``selfplay_agents.analysis.kuhn``, which computes the exact exploitability.
"""

from __future__ import annotations

import numpy as np
import pytest

import selfplay_envs
from selfplay_agents.analysis.kuhn import INFO_STATES, evaluate, info_state_turn

torch = pytest.importorskip("torch", reason="the agents extra (torch) is not installed")
pytest.importorskip("ray.rllib", reason="the ray extra (ray[rllib]) is not installed")

from ray.rllib.algorithms.ppo import PPOConfig  # noqa: E402
from ray.rllib.core.columns import Columns  # noqa: E402
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec  # noqa: E402
from ray.rllib.core.rl_module.rl_module import RLModuleSpec  # noqa: E402
from ray.rllib.env.wrappers.pettingzoo_env import PettingZooEnv  # noqa: E402
from ray.tune.registry import register_env  # noqa: E402

from selfplay_agents.integrations.rllib import MaskedPPOTorchRLModule, rllib_env  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_rllib_pettingzoo_env_steps_our_aec_env():
    env = PettingZooEnv(selfplay_envs.make("kuhn_poker_v0", view="numeric"))
    observations, _ = env.reset(seed=0)
    assert list(observations) == ["player_0"]
    assert set(observations["player_0"]) == {"observation", "action_mask"}
    observations, rewards, terminated, _, _ = env.step({"player_0": 1})  # bet
    assert list(observations) == ["player_1"] and not terminated["__all__"]
    observations, rewards, terminated, _, _ = env.step({"player_1": 0})  # fold
    assert terminated["__all__"]
    assert rewards == {"player_0": 1.0, "player_1": -1.0}


def policy_table(module) -> dict[str, list[float]]:
    """The module's ``[P(pass), P(bet)]`` at the 12 information states."""
    turns = [info_state_turn(key, view="numeric")[0] for key in INFO_STATES]
    observation = {
        "observation": torch.as_tensor(
            np.stack([t.observation["observation"] for t in turns])
        ),
        "action_mask": torch.as_tensor(
            np.stack([t.observation["action_mask"] for t in turns])
        ),
    }
    with torch.no_grad():
        logits = module.forward_inference({Columns.OBS: observation})
    probs = torch.softmax(logits[Columns.ACTION_DIST_INPUTS], -1).numpy()
    return {key: probs[i].tolist() for i, key in enumerate(INFO_STATES)}


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_rllib_ppo_self_play_lowers_kuhn_exploitability(ray_cluster):
    register_env("selfplay_kuhn", rllib_env)
    module = RLModuleSpec(
        module_class=MaskedPPOTorchRLModule, model_config={"fcnet_hiddens": [32, 32]}
    )
    config = (
        PPOConfig()
        .environment("selfplay_kuhn", env_config={"env_id": "kuhn_poker_v0"})
        .env_runners(num_env_runners=0)
        .learners(num_learners=0)
        .multi_agent(
            policies={"shared"}, policy_mapping_fn=lambda agent, episode, **kw: "shared"
        )
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={"shared": module}))
        .training(
            train_batch_size_per_learner=500,
            minibatch_size=125,
            num_epochs=6,
            lr=1e-2,
            gamma=1.0,
            lambda_=1.0,
        )
        .debugging(seed=0)
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
