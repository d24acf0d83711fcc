"""Each MARL library's own documented usage, run unchanged on our plain numeric envs.

Fixtures written here after each library's documentation (not copied from it), with
only the env swapped for ours:

* TorchRL's ``PettingZooWrapper`` docstring: an AEC classic env wrapped with
  ``use_mask=True`` and one group holding both players, then ``env.rollout(10)``;
  TorchRL's ``check_env_specs`` on it;
* Tianshou's PettingZoo tic-tac-toe example: ``PettingZooEnv`` over the AEC env in a
  ``DummyVectorEnv``, a ``MultiAgentPolicyManager``-style collection with masked random
  players (``tests/integrations/test_integrations_tianshou.py`` trains its DQN).
"""

from __future__ import annotations

import numpy as np
import pytest

import selfplay_envs

pytest.importorskip("torch", reason="the agents extra (torch) is not installed")

ENVS = ["tic_tac_toe_v0", "kuhn_poker_v0", "negotiation_v0"]


@pytest.mark.filterwarnings("ignore:PettingZoo in TorchRL is tested")
@pytest.mark.parametrize("env_id", ENVS)
def test_torchrl_docstring_example_runs_on_the_plain_env(env_id: str) -> None:
    pytest.importorskip("torchrl", reason="the marl extra (torchrl) is not installed")
    from torchrl.envs.libs.pettingzoo import PettingZooWrapper
    from torchrl.envs.utils import check_env_specs

    env = PettingZooWrapper(
        env=selfplay_envs.make(env_id, view="numeric"),
        use_mask=True,
        group_map={"player": ["player_0", "player_1"]},
    )
    rollout = env.rollout(10)
    assert rollout["player", "action_mask"].shape[1] == 2  # both seats, one group
    acting = rollout["player", "mask"].squeeze(-1)
    assert (acting.sum(-1) == 1).all()  # AEC: one seat acts per step
    check_env_specs(env, break_when_any_done="both")


@pytest.mark.parametrize("env_id", ENVS)
def test_tianshou_example_collects_on_the_plain_env(env_id: str) -> None:
    pytest.importorskip("tianshou", reason="the marl extra (tianshou) is not installed")
    from tianshou.algorithm import (
        MARLRandomDiscreteMaskedOffPolicyAlgorithm,
        MultiAgentOffPolicyAlgorithm,
    )
    from tianshou.data import Collector, VectorReplayBuffer
    from tianshou.env import DummyVectorEnv
    from tianshou.env.pettingzoo_env import PettingZooEnv

    def make_env() -> PettingZooEnv:
        return PettingZooEnv(selfplay_envs.make(env_id, view="numeric"))

    env = make_env()
    algorithm = MultiAgentOffPolicyAlgorithm(
        algorithms=[
            MARLRandomDiscreteMaskedOffPolicyAlgorithm(action_space=env.action_space)
            for _ in env.agents
        ],
        env=env,
    )
    envs = DummyVectorEnv([make_env for _ in range(4)])
    np.random.seed(0)
    collector = Collector(
        algorithm, envs, VectorReplayBuffer(2000, len(envs)), exploration_noise=True
    )
    collector.reset()
    stats = collector.collect(n_episode=20)
    assert stats.n_collected_episodes >= 20
    # Every info is the fixed-shape numeric one, stored as arrays by the buffer, and
    # the masked random players never made an invalid move.
    stored = collector.buffer.info[: len(collector.buffer)]
    assert set(stored.keys()) >= {"turn", "acting", "invalid_moves", "format_penalty"}
    assert (np.asarray(stored["invalid_moves"]) == 0).all()
