"""Arbitrary model text at every env's text view: it never raises, episodes end.

Parametrised over ``selfplay_envs.list_envs()``, so every new game is fuzzed too. Each
example is a list of replies fed to the acting agents in turn (cycled); whatever they
say, the episode must end within the env's attempt limit, and every observation must
stay inside the observation space.
"""

from __future__ import annotations

import pytest
from envs import env_params
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import selfplay_envs
from selfplay_envs.core.errors import DependencyNotInstalled

# Plain junk, and junk wrapped in the answer formats the parser looks for.
_REPLY = st.one_of(
    st.text(max_size=300),
    st.text(max_size=40).map(lambda t: f"\\boxed{{{t}}}"),
    st.text(max_size=40).map(lambda t: f"[{t}]"),
    st.text(max_size=40).map(lambda t: f"<answer>{t}</answer>"),
)
_MODES = st.sampled_from(["retry", "loss", "penalty"])


@pytest.mark.parametrize("env_id", env_params())
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    replies=st.lists(_REPLY, min_size=1, max_size=12),
    mode=_MODES,
    seed=st.integers(0, 2**16),
)
def test_any_text_never_raises_and_the_episode_ends(
    env_id: str, replies: list[str], mode: str, seed: int
) -> None:
    try:
        env = selfplay_envs.make(env_id, view="text", invalid_move={"mode": mode})
    except DependencyNotInstalled as e:
        pytest.skip(str(e))
    env.reset(seed=seed)
    # Each agent also takes one dead step after the end.
    limit = env.max_attempts + len(env.possible_agents)
    steps = 0
    for agent in env.agent_iter(max_iter=limit + 1):
        observation, _, termination, truncation, info = env.last()
        assert env.observation_space(agent).contains(observation)
        assert isinstance(info["invalid_reason"], str)
        if termination or truncation:
            env.step(None)
        else:
            env.step(replies[steps % len(replies)])
        steps += 1
    assert not env.agents, f"episode still running after {steps} steps"
    assert steps <= limit
