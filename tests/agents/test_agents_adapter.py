"""BatchInferenceAdapter: grouping, refill, budgets, trajectories, async mode."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

import selfplay_envs
from selfplay_agents.adapter import BatchInferenceAdapter, read_turns
from selfplay_agents.inference import SamplingParams
from selfplay_agents.llm import LLMPolicy
from selfplay_agents.policy import CallablePolicy, RandomPolicy

pytest.importorskip("torch", reason="the agents extra (torch) is not installed")

ENV = "tic_tac_toe_v0"


def guided(
    backend, name: str = "llm", temperature: float = 1.0, seed: int = 0
) -> LLMPolicy:
    """Random legal moves from the model: guided decoding keeps it valid."""
    sampling = SamplingParams(max_tokens=4, temperature=temperature)
    return LLMPolicy(
        backend, name=name, style="plain", guided=True, sampling=sampling, seed=seed
    )


def first_legal(observation, info) -> str:
    return f"\\boxed{{{info['legal_actions'][0]}}}"


def replay(trajectory) -> list[tuple[bool, str | None, str]]:
    """Replay the completions through a fresh AEC env: what it says of each move."""
    env = selfplay_envs.make(ENV, view="text")
    env.reset(seed=0)  # tic-tac-toe has no chance: every episode starts the same
    seen = []
    for turn in trajectory.turns:
        assert env.agent_selection == turn.agent
        env.step(turn.completion)
        last = env.infos[turn.agent]["last_move"]
        seen.append((last["valid"], last["parsed"], last["reason"]))
    assert all(env.terminations.values()) or all(env.truncations.values())
    assert {
        a: env._cumulative_rewards[a] for a in env.possible_agents
    } == trajectory.returns
    return seen


def test_self_play_refills_and_keeps_the_episode_budget(tiny_backend, tmp_path):
    path = tmp_path / "turns.jsonl"
    adapter = BatchInferenceAdapter(
        ENV, guided(tiny_backend), num_envs=3, trajectory_path=path
    )
    result = adapter.run(num_episodes=7)
    ids = sorted(t.episode_id for t in result.trajectories)
    assert ids == list(range(7))  # exactly the first 7 episodes started
    slots = Counter(t.game_index for t in result.trajectories)
    assert set(slots) == {0, 1, 2} and max(slots.values()) >= 2  # slots were refilled
    lengths = {len(t.turns) for t in result.trajectories}
    assert len(lengths) > 1, "sampled games should differ in length"
    stats = result.stats
    assert stats.episodes == 7
    assert stats.env_steps == sum(len(t.turns) for t in result.trajectories)
    assert stats.requests == stats.env_steps  # guided: no policy retries
    assert stats.mean_batch_size > 1
    assert (
        stats.requests_per_s > 0
        and stats.tokens_per_s > 0
        and stats.env_steps_per_s > 0
    )
    rows = list(read_turns(path))
    assert rows == [row for t in result.trajectories for row in t.rows()]


def test_trajectories_are_complete_and_match_the_env(tiny_backend):
    adapter = BatchInferenceAdapter(ENV, guided(tiny_backend), num_envs=4, seed=3)
    for trajectory in adapter.run(num_episodes=6).trajectories:
        assert sum(trajectory.returns.values()) == 0
        assert [t.step for t in trajectory.turns] == list(range(len(trajectory.turns)))
        seen = replay(trajectory)
        for turn, (valid, parsed, reason) in zip(trajectory.turns, seen, strict=True):
            assert (turn.valid, turn.parsed_action, turn.invalid_reason) == (
                valid,
                parsed,
                reason,
            )
            assert turn.role == ("x" if turn.agent == "player_0" else "o")
            assert turn.observation.startswith("You are playing tic-tac-toe")
            assert len(turn.prompt_token_ids) > 0
            assert len(turn.completion_token_ids) == len(turn.logprobs) > 0
            assert turn.episode_return == trajectory.returns[turn.agent]
        *middle, last = trajectory.turns
        assert all(t.reward == 0 for t in middle)
        assert last.reward == trajectory.returns[last.agent]
        assert trajectory.outcomes[last.agent] in ("win", "draw")


def test_invalid_output_is_recorded_and_forfeits(tiny_backend):
    # Unguided, the random model writes garbage: the env warns twice, then x forfeits.
    garbage = LLMPolicy(tiny_backend, sampling=SamplingParams(max_tokens=4), retries=1)
    policies = {"x": garbage, "o": RandomPolicy(seed=0)}
    (trajectory,) = BatchInferenceAdapter(ENV, policies, num_envs=1).run(1).trajectories
    assert [t.agent for t in trajectory.turns] == ["player_0"] * 3
    assert all(not t.valid and t.invalid_reason for t in trajectory.turns)
    assert all(len(t.rejected) == 1 for t in trajectory.turns)
    assert trajectory.returns == {"player_0": -1.0, "player_1": 1.0}
    assert trajectory.outcomes == {"player_0": "loss", "player_1": "win"}
    assert replay(trajectory) == [
        (False, None, t.invalid_reason) for t in trajectory.turns
    ]


def test_frozen_and_scripted_opponents_by_seat_and_role(tiny_model_dir, tiny_backend):
    from selfplay_agents.inference.transformers_backend import TransformersBackend

    frozen = TransformersBackend(tiny_model_dir, device="cpu")
    learner = guided(tiny_backend, name="learner")
    opponent = guided(frozen, name="frozen", seed=1)
    adapter = BatchInferenceAdapter(ENV, {0: learner, "player_1": opponent}, num_envs=4)
    result = adapter.run(4)
    for trajectory in result.trajectories:
        assert trajectory.policies == {"player_0": "learner", "player_1": "frozen"}
        for turn in trajectory.turns:
            assert turn.policy == ("learner" if turn.seat == 0 else "frozen")
    # Lockstep: every game waits on the same seat, so each step is one call to one backend.
    assert result.stats.backend_calls == max(len(t.turns) for t in result.trajectories)
    scripted = BatchInferenceAdapter(
        ENV, {"o": RandomPolicy(seed=0), "*": learner}, num_envs=2
    )
    for trajectory in scripted.run(2).trajectories:
        assert trajectory.policies == {"player_0": "learner", "player_1": "random"}
    with pytest.raises(KeyError, match="expected a policy for 'player_1'"):
        BatchInferenceAdapter(ENV, {"x": learner}, num_envs=1).run(1)


def test_one_backend_call_per_step_for_policies_sharing_a_backend(
    tiny_model_dir, tiny_backend
):
    from selfplay_agents.inference.transformers_backend import TransformersBackend

    other_backend = TransformersBackend(tiny_model_dir, device="cpu")
    a, b = guided(tiny_backend, name="a"), guided(tiny_backend, name="b", seed=1)
    adapter = BatchInferenceAdapter(ENV, {"x": a, "o": b}, num_envs=4)
    trajectories = list(adapter.trajectories(num_episodes=8))
    stats = adapter.stats
    # Episodes end at different steps, so seats mix within a step; still one call.
    assert stats.backend_calls == stats.batch_steps
    assert stats.requests == stats.env_steps > stats.batch_steps
    assert len(trajectories) == 8
    mixed = BatchInferenceAdapter(
        ENV, {"x": a, "o": guided(other_backend, name="c")}, num_envs=4
    )
    mixed.run(8)
    # With two backends, steps where seats differ across games make two calls.
    assert mixed.stats.backend_calls > mixed.stats.batch_steps


def test_async_continuous_mode_matches_sync_for_deterministic_policies():
    policy = CallablePolicy(first_legal, name="first")
    sync = BatchInferenceAdapter(ENV, policy, num_envs=3, seed=5).run(5)
    result = asyncio.run(BatchInferenceAdapter(ENV, policy, num_envs=3, seed=5).arun(5))
    assert result.stats.mode == "async"
    by_id = {t.episode_id: t for t in result.trajectories}
    assert sorted(by_id) == list(range(5))
    for trajectory in sync.trajectories:
        other = by_id[trajectory.episode_id]
        assert [t.completion for t in other.turns] == [
            t.completion for t in trajectory.turns
        ]
        assert other.returns == trajectory.returns


def test_async_mode_batches_the_queued_turns(tiny_backend, tmp_path):
    path = tmp_path / "async.jsonl"
    policy = guided(tiny_backend)
    adapter = BatchInferenceAdapter(ENV, policy, num_envs=4, trajectory_path=path)

    async def consume() -> list:
        out = []
        async for trajectory in adapter.atrajectories(num_episodes=6):
            out.append(trajectory)
        return out

    trajectories = asyncio.run(consume())
    assert sorted(t.episode_id for t in trajectories) == list(range(6))
    stats = adapter.stats
    assert stats.mean_batch_size > 1
    assert stats.requests == stats.env_steps == sum(len(t.turns) for t in trajectories)
    assert len(list(read_turns(path))) == stats.env_steps
    for trajectory in trajectories:
        replay(trajectory)


def test_async_errors_reach_the_consumer():
    def broken(observation, info):
        raise RuntimeError("policy crashed")

    adapter = BatchInferenceAdapter(ENV, CallablePolicy(broken), num_envs=2)
    with pytest.raises(RuntimeError, match="policy crashed"):
        asyncio.run(adapter.arun(2))


def test_numeric_view_with_scripted_policies():
    adapter = BatchInferenceAdapter(
        ENV, RandomPolicy(seed=0), num_envs=4, view="numeric"
    )
    result = adapter.run(6)
    assert len(result.trajectories) == 6
    for trajectory in result.trajectories:
        assert all(t.valid and t.completion.isdigit() for t in trajectory.turns)
        assert all(t.prompt_token_ids is None for t in trajectory.turns)


def test_iterator_can_run_without_a_budget():
    adapter = BatchInferenceAdapter(ENV, CallablePolicy(first_legal), num_envs=2)
    stream = adapter.trajectories()
    first = [next(stream) for _ in range(5)]
    stream.close()
    assert len({t.episode_id for t in first}) == 5
    assert adapter.stats.episodes == 5


def test_adapter_validates_arguments():
    with pytest.raises(ValueError, match="num_envs >= 1"):
        BatchInferenceAdapter(ENV, RandomPolicy(), num_envs=0)
    with pytest.raises(ValueError, match="at least one policy"):
        BatchInferenceAdapter(ENV, {})
    with pytest.raises(TypeError, match="expected a Policy"):
        BatchInferenceAdapter(ENV, {"*": object()})
