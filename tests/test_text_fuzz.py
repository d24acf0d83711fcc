"""Arbitrary model text at every env's text view: it never raises, episodes end.

Parametrised over ``selfplay_envs.list_envs()``, so every new game is fuzzed too, in
the AEC and the Parallel form. Each example is a list of replies fed to the acting
agents in turn (cycled): random text, text wrapped in the answer formats, and the
adversarial families of ``selfplay_envs.test.adversarial`` (unclosed tags, fences,
bracket runs, nested ``\\boxed{}``, NULs and control characters, ...). Whatever the
replies say, the episode must end within the env's attempt limit, every observation
must stay inside the observation space, every reason must be text, and a zero-sum
game must end with returns that sum to zero.
"""

from __future__ import annotations

import math

import pytest
from envs import env_params
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import selfplay_envs
from selfplay_envs.core.errors import DependencyNotInstalled
from selfplay_envs.test.adversarial import FAMILIES

# Plain junk, junk wrapped in the answer formats the parser looks for, and the
# adversarial families at sizes up to a few thousand characters.
_REPLY = st.one_of(
    st.text(max_size=300),
    st.text(max_size=40).map(lambda t: f"\\boxed{{{t}}}"),
    st.text(max_size=40).map(lambda t: f"[{t}]"),
    st.text(max_size=40).map(lambda t: f"<answer>{t}</answer>"),
    st.builds(
        lambda name, n: FAMILIES[name](n),
        st.sampled_from(sorted(FAMILIES)),
        st.integers(0, 4096),
    ),
)
_MODES = st.sampled_from(["retry", "loss", "penalty"])
_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _fuzzed(test):
    """Each env, with hypothesis's replies, invalid-move mode and seed."""
    test = given(
        replies=st.lists(_REPLY, min_size=1, max_size=12),
        mode=_MODES,
        seed=st.integers(0, 2**16),
    )(test)
    return pytest.mark.parametrize("env_id", env_params())(_SETTINGS(test))


def _make(maker, env_id: str, mode: str):
    try:
        return maker(env_id, view="text", invalid_move={"mode": mode})
    except DependencyNotInstalled as e:
        pytest.skip(str(e))


def _check_zero_sum(env, returns: dict[str, float]) -> None:
    if env.metadata["zero_sum"] and returns:
        assert math.isclose(sum(returns.values()), 0.0, abs_tol=1e-9), returns


@_fuzzed
def test_any_text_never_raises_and_the_episode_ends(
    env_id: str, replies: list[str], mode: str, seed: int
) -> None:
    env = _make(selfplay_envs.make, env_id, mode)
    env.reset(seed=seed)
    # Each agent also takes one dead step after the end.
    limit = env.max_attempts + len(env.possible_agents)
    steps = 0
    returns: dict[str, float] = {}
    for agent in env.agent_iter(max_iter=limit + 1):
        observation, reward, termination, truncation, info = env.last()
        assert env.observation_space(agent).contains(observation)
        assert isinstance(info["invalid_reason"], str)
        if termination or truncation:
            returns[agent] = reward
            env.step(None)
        else:
            env.step(replies[steps % len(replies)])
        steps += 1
    assert not env.agents, f"episode still running after {steps} steps"
    assert steps <= limit
    _check_zero_sum(env, returns)


@_fuzzed
def test_any_text_never_raises_in_the_parallel_form(
    env_id: str, replies: list[str], mode: str, seed: int
) -> None:
    env = _make(selfplay_envs.make_parallel, env_id, mode)
    observations, _ = env.reset(seed=seed)
    sent = 0
    returns: dict[str, float] = {}
    for _ in range(env.max_attempts + 1):  # every step makes one attempt or more
        if not env.agents:
            break
        actions = {}
        for agent in env.agents:
            actions[agent] = replies[sent % len(replies)]
            sent += 1
        observations, rewards, terminations, truncations, infos = env.step(actions)
        for agent, observation in observations.items():
            assert env.observation_space(agent).contains(observation)
            assert isinstance(infos[agent]["invalid_reason"], str)
        if all(terminations.values()) or all(truncations.values()):
            returns = rewards
    assert not env.agents, "episode still running after max_attempts steps"
    _check_zero_sum(env, returns)
