"""The single-agent Gymnasium wrapper and the batched env."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from selfplay_agents.policy import RandomPolicy
from selfplay_envs.wrappers.batched import BatchedEnv
from selfplay_envs.wrappers.single_agent import SingleAgentEnv


@pytest.mark.parametrize("view", ["numeric", "text"])
@pytest.mark.parametrize("seat", ["player_0", "player_1"])
def test_single_agent_passes_gymnasium_check_env(view: str, seat: str) -> None:
    env = SingleAgentEnv("tic_tac_toe_v0", RandomPolicy(seed=0), agent=seat, view=view)
    check_env(env, skip_render_check=True)


def test_single_agent_accepts_a_plain_callable_and_sums_rewards() -> None:
    def first_legal(observation, info):
        return int(np.flatnonzero(observation["action_mask"])[0])

    env = SingleAgentEnv("tic_tac_toe_v0", first_legal, agent="player_1")
    observation, _ = env.reset(seed=0)
    assert observation["observation"][0, 0, 1] == 1.0  # x took cell 0 first
    total, done = 0.0, False
    while not done:
        action = int(np.flatnonzero(observation["action_mask"])[-1])
        observation, reward, terminated, truncated, _ = env.step(action)
        total += reward
        done = terminated or truncated
    assert total in (-1.0, 0.0, 1.0)


def test_batched_env_auto_resets_and_reports_final_returns() -> None:
    env = BatchedEnv("tic_tac_toe_v0", 8, view="numeric")
    observations, infos = env.reset(seed=0)
    assert observations["observation"].shape == (8, 3, 3, 2)
    assert (env.acting == 0).all()
    rng = np.random.default_rng(0)
    finished = 0
    for _ in range(60):
        masks = observations["action_mask"]
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
        step = env.step(actions)
        observations = step.observations
        done = step.terminated | step.truncated
        finished += int(done.sum())
        assert np.all(step.rewards.sum(axis=1) == 0)  # zero-sum per game
        for i in np.flatnonzero(done):
            final = step.infos[i]["final_info"]
            assert set(final) == {"player_0", "player_1"}
            assert final["player_0"]["outcome"] in ("win", "loss", "draw")
            assert step.acting[i] == 0  # a fresh game starts with x
    assert finished == int(env.episode_counts.sum()) > 0


def test_batched_env_text_view_takes_strings() -> None:
    env = BatchedEnv("tic_tac_toe_v0", 2)
    observations, infos = env.reset(seed=1)
    assert "Legal moves" in observations[0]["text"]
    step = env.step(["\\boxed{4}", "[0]"])
    assert [i["last_move"]["parsed"] for i in step.infos] == ["4", "0"]
    with pytest.raises(ValueError, match="expected 2 actions"):
        env.step(["1"])


def test_batched_env_is_deterministic_in_the_seed() -> None:
    def run(seed):
        env = BatchedEnv("kuhn_poker_v0", 4, view="numeric")
        observations, _ = env.reset(seed=seed)
        return observations["observation"]

    np.testing.assert_array_equal(run(5), run(5))
