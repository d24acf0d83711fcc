"""who_is_the_spy_v0 under PettingZoo's tests with moves that reach the vote stage.

The shared conformance suite samples free text, which almost never holds a tagged clue,
so its episodes end in the first clue round. Here the action spaces sample from a list
of mostly valid clues and votes, so episodes play through the simultaneous vote stage.
"""

from __future__ import annotations

import pickle
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, seed_test
from pettingzoo.test.seed_test import parallel_seed_test

import selfplay_envs
from selfplay_envs.core.parallel import ParallelGameEnv
from selfplay_envs.core.spaces import FreeText
from selfplay_envs.test import check_env

ENV = "who_is_the_spy_v0"
DOC = Path(__file__).resolve().parents[2] / "docs" / "games" / "who_is_the_spy.md"
OPTIONS = (
    "\\boxed{1}",
    "\\boxed{2}",
    "\\boxed{3}",
    "\\boxed{4}",
    "\\boxed{N/A}",
    "\\boxed{There is a small cube.}",
    "no tag here",
)


class _ChoiceText(FreeText):
    """A text space whose samples are drawn from a fixed list (seeded like any space)."""

    def __init__(self, options: tuple[str, ...], max_length: int):
        super().__init__(max_length)
        self.options = options

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """One of ``options``, uniformly."""
        del mask, probability  # Unused: no masks for text.
        return self.options[int(self.np_random.integers(len(self.options)))]


def _with_choices(env: Any) -> Any:
    for i, agent in enumerate(env.possible_agents):
        space = _ChoiceText(OPTIONS, env.game.info.max_text_length)
        space.seed(42 + i)  # parallel_api_test never seeds the spaces; keep runs equal
        env.action_spaces[agent] = space
    return env


def _aec(**config: Any) -> Any:
    return _with_choices(selfplay_envs.make(ENV, **config))


def _parallel(**config: Any) -> Any:
    return _with_choices(selfplay_envs.make_parallel(ENV, **config))


class _CountingParallel(ParallelGameEnv):
    """Counts steps where several voters acted at once and the votes were counted."""

    joint_votes = 0

    def step(self, actions: dict[str, Any]) -> Any:
        acting = self.episode.acting() if self.episode else []
        result = super().step(actions)
        episode = self.episode
        if len(acting) > 1 and episode.state.is_terminal() and episode.forfeit is None:
            self.joint_votes += 1
        return result


def test_parallel_api_test_through_the_vote_stage() -> None:
    env = _with_choices(_CountingParallel(selfplay_envs.make_game(ENV)))
    parallel_api_test(env, num_cycles=300)
    assert env.joint_votes >= 1


def test_parallel_vote_is_one_simultaneous_step() -> None:
    env = selfplay_envs.make_parallel(ENV, image_size=48)
    observations, infos = env.reset(seed=12)
    spy = env.episode.state.spy
    while infos["player_0"]["phase"] == "clue":
        acting = [a for a, i in infos.items() if i["acting"]]
        assert len(acting) == 1
        # every live agent may send an action; idle seats' actions are ignored
        actions = {a: f"\\boxed{{Clue by {a}.}}" for a in env.agents}
        observations, _, _, _, infos = env.step(actions)
    acting = sorted(a for a, i in infos.items() if i["acting"])
    assert acting == sorted(f"player_{p}" for p in range(4) if p != spy)
    assert all(infos[a]["current_agents"] == acting for a in env.agents)
    votes = {a: f"\\boxed{{{spy + 1}}}" for a in acting}
    votes[f"player_{spy}"] = "\\boxed{1}"  # ignored: the spy does not vote
    _, rewards, terminations, _, infos = env.step(votes)
    assert all(terminations.values())
    assert rewards[f"player_{spy}"] == -1.0
    assert infos[f"player_{spy}"]["votes"][spy] is None
    assert infos[f"player_{spy}"]["votes_received"][spy] == 3


def test_partial_parallel_votes_wait_for_the_rest() -> None:
    env = selfplay_envs.make_parallel(ENV, image_size=48)
    _, infos = env.reset(seed=13)
    while infos["player_0"]["phase"] == "clue":
        _, _, _, _, infos = env.step({a: "\\boxed{ok}" for a in env.agents})
    voters = [a for a, i in infos.items() if i["acting"]]
    _, _, terminations, _, infos = env.step({voters[0]: "\\boxed{1}"})
    assert not any(terminations.values())
    assert infos[voters[0]]["acting"] is False
    assert sorted(a for a, i in infos.items() if i["acting"]) == sorted(voters[1:])
    assert env.episode.state.votes == {}
    _, _, terminations, _, _ = env.step({a: "\\boxed{N/A}" for a in voters[1:]})
    assert all(terminations.values())


def test_aec_api_and_seed_tests_through_the_vote_stage() -> None:
    api_test(_aec(), num_cycles=300)
    seed_test(_aec, num_cycles=300)
    parallel_seed_test(_parallel, num_cycles=300)


@pytest.mark.parametrize(
    "config",
    [
        {"items": "word", "num_players": 6},
        {"items": "scene", "spy_item": "blank", "spy_votes": True, "image_size": 64},
        {"items": "chart", "num_players": 3, "image_size": 96},
    ],
    ids=["word-6", "scene-blank-spyvotes", "chart-3"],
)
def test_other_configurations_pass_the_pettingzoo_tests(config: dict[str, Any]) -> None:
    api_test(_aec(**config), num_cycles=60)
    parallel_api_test(_parallel(**config), num_cycles=60)
    seed_test(lambda: _aec(**config), num_cycles=60)


def test_pickled_env_replays_the_same_game() -> None:
    env = _aec(image_size=64)
    env.reset(seed=21)
    clone = pickle.loads(pickle.dumps(env))
    rng = np.random.default_rng(0)
    for _ in range(14):
        if not env.agents:
            break
        action = OPTIONS[int(rng.integers(len(OPTIONS)))]
        for e in (env, clone):
            _, _, termination, truncation, _ = e.last()
            e.step(None if termination or truncation else action)
        assert env.agent_selection == clone.agent_selection
        a, b = env.observe(env.agent_selection), clone.observe(clone.agent_selection)
        assert a["text"] == b["text"] and np.array_equal(a["image"], b["image"])
    assert env.game.baseline == clone.game.baseline


def test_shared_conformance_suite_is_fast_on_the_default_config() -> None:
    start = time.perf_counter()
    check_env(ENV)
    assert time.perf_counter() - start < 20.0


def test_docs_example_runs() -> None:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert blocks, "the doc page must have a runnable python example"
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {"__name__": "__docs__"})  # noqa: S102
