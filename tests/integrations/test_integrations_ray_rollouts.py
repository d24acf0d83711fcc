"""Distributed rollouts on a local Ray cluster: workers die, nothing is lost or doubled."""

from __future__ import annotations

import functools
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from selfplay_agents.policy import RandomPolicy, Turn

pytest.importorskip("ray", reason="the ray extra is not installed")

from selfplay_agents.distributed import (  # noqa: E402
    DistributedRollouts,
    InferenceServer,
    RemoteBackend,
    RemotePolicy,
)

ENV = "tic_tac_toe_v0"


class SlowRandomPolicy(RandomPolicy):
    """Random legal moves that take ``delay`` seconds per batch, like a model call."""

    def __init__(self, seed: int | None = None, delay: float = 0.02):
        super().__init__(seed=seed)
        self.delay = delay

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        time.sleep(self.delay)
        return super().act(turns)


def remote_policies(server: Any) -> RemotePolicy:
    """Built in each worker: every seat asks the inference actor."""
    return RemotePolicy(server, name="slow-random")


def remote_llm(server: Any) -> Any:
    """Built in each worker: an LLM policy whose backend is the inference actor."""
    from selfplay_agents.inference import SamplingParams
    from selfplay_agents.llm import LLMPolicy

    return LLMPolicy(
        RemoteBackend(server),
        name="tiny-lm",
        style="plain",
        guided=True,
        sampling=SamplingParams(max_tokens=2),
        seed=0,
    )


@pytest.fixture(scope="module")
def ray_session(ray_cluster):
    # Workers unpickle this module's classes and functions: ship them by value.
    ray_cluster.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    return ray_cluster


def check_trajectory(result) -> None:
    trajectory = result.trajectory
    assert trajectory.episode_id == result.episode_id
    assert trajectory.terminated and not trajectory.truncated
    assert sum(trajectory.returns.values()) == 0
    assert [t.step for t in trajectory.turns] == list(range(len(trajectory.turns)))
    assert all(t.episode_id == result.episode_id for t in trajectory.turns)
    assert all(t.valid for t in trajectory.turns)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_killed_worker_restarts_and_no_trajectory_is_lost_or_doubled(ray_session):
    ray = ray_session
    server = (
        ray.remote(InferenceServer)
        .options(num_cpus=0)
        .remote(functools.partial(SlowRandomPolicy, seed=0, delay=0.02))
    )
    rollouts = DistributedRollouts(
        ENV,
        functools.partial(remote_policies, server),
        num_workers=2,
        num_envs=4,
        episodes_per_task=12,
    )
    pids_before = rollouts.pids()
    total, killed, seen = 60, False, []
    for result in rollouts.run(total, seed=0):
        check_trajectory(result)
        seen.append(result)
        if not killed and result.worker == 0:
            # Worker 0 has just sent its first episode; its other games are mid-play.
            ray.kill(rollouts.workers[0], no_restart=False)
            killed = True
    ids = Counter(result.episode_id for result in seen)
    assert sorted(ids) == list(range(total)), "every episode arrived"
    assert max(ids.values()) == 1, "no episode arrived twice"
    assert rollouts.retries >= 1, "the killed worker's unfinished episodes were retried"
    assert {r.attempt for r in seen} >= {0, 1}
    pids_after = rollouts.pids()
    assert pids_after[0] != pids_before[0], "worker 0 was restarted"
    assert pids_after[1] == pids_before[1]
    # Worker 1 may finish the first run's work while Ray is still restarting worker 0
    # (a loaded machine); a second run starts with both alive, one task each.
    again = list(rollouts.run(24, seed=1000))
    restarted = [r for r in seen + again if r.worker == 0 and r.pid == pids_after[0]]
    assert restarted, "the restarted worker plays again"
    assert ray.get(server.counts.remote())["requests"] > 0
    rollouts.shutdown()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_workers_play_local_scripted_policies(ray_session):
    rollouts = DistributedRollouts(
        "kuhn_poker_v0",
        functools.partial(RandomPolicy, seed=3),
        num_workers=2,
        num_envs=8,
        episodes_per_task=20,
        view="numeric",
    )
    results = list(rollouts.run(100, seed=7))
    assert sorted(r.episode_id for r in results) == list(range(100))
    assert {r.worker for r in results} == {0, 1}
    assert rollouts.retries == 0
    for result in results:
        assert sum(result.trajectory.returns.values()) == 0
        assert result.trajectory.turns[0].prompt_token_ids is None  # no model here
    rollouts.shutdown()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_workers_send_llm_requests_to_an_inference_actor(ray_session, tmp_path):
    pytest.importorskip("transformers", reason="the agents extra is not installed")
    from selfplay_agents.inference.transformers_backend import TransformersBackend
    from selfplay_agents.testing import build_tiny_model

    ray = ray_session
    model = build_tiny_model(tmp_path / "model", seed=0)
    server = (
        ray.remote(InferenceServer)
        .options(num_cpus=0)
        .remote(
            functools.partial(
                TransformersBackend, str(model), device="cpu", logprobs_mode="processed"
            )
        )
    )
    rollouts = DistributedRollouts(
        ENV,
        functools.partial(remote_llm, server),
        num_workers=2,
        num_envs=4,
        episodes_per_task=6,
    )
    results = list(rollouts.run(12, seed=0))
    assert sorted(r.episode_id for r in results) == list(range(12))
    for result in results:
        check_trajectory(result)
        for turn in result.trajectory.turns:
            assert turn.policy == "tiny-lm"
            assert len(turn.prompt_token_ids) > 0
            assert len(turn.completion_token_ids) == len(turn.logprobs) == 2
    counts = ray.get(server.counts.remote())
    turns = sum(len(r.trajectory.turns) for r in results)
    assert counts["requests"] == turns  # every move was one request to the actor
    assert counts["calls"] < turns  # ... sent in batches
    rollouts.shutdown()
