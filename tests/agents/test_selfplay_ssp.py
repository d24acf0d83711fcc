"""Search Self-play's loop (selfplay_agents.selfplay.ssp) on the synthetic encyclopedia."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pytest

from selfplay_agents.opponents.search_qa import ScriptedSearchQA
from selfplay_agents.policy import Turn
from selfplay_agents.selfplay.ssp import SSPLoop
from selfplay_envs.games.search_qa.pool import FifoQuestionPool

CONFIG = {"corpus_size": 200, "cache_dir": ""}


class SloppyProposer:
    """The scripted players, but the question of every episode whose seed (the
    round's first seed plus the episode's id in the round) is in ``bad_episodes`` is
    replaced by one the filters refuse."""

    name = "sloppy"

    def __init__(self, seed: int, bad_episodes: set[int]):
        self.inner = ScriptedSearchQA(seed=seed)
        self.seed = seed
        self.bad_episodes = bad_episodes

    def act(self, turns: Sequence[Turn]) -> list[str]:
        moves = self.inner.act(turns)
        return [
            "<question>too short</question>"
            if t.info.get("role") == "proposer"
            and m.startswith("<question>")
            and self.seed + t.episode in self.bad_episodes
            else m
            for t, m in zip(turns, moves, strict=True)
        ]


def _loop(bad: set[int], **kwargs) -> SSPLoop:
    return SSPLoop(
        lambda seed: SloppyProposer(seed, bad), episodes_per_round=4, **CONFIG, **kwargs
    )


def test_invalid_questions_score_zero_and_are_refilled_from_the_pool() -> None:
    # Round 0 (episode seeds 0-3): every question valid, the pool fills. Round 1
    # (seeds 4-7): episodes 4 and 6 propose invalid ones; their solvers get pooled ones.
    loop = _loop({4, 6})
    r0 = loop.run_round()
    assert (r0.valid_questions, r0.refills, r0.pool_size) == (4, 0, 4)
    r1 = loop.run_round()
    assert (r1.valid_questions, r1.refills) == (2, 2)
    assert r1.pool_size == 6  # the two valid questions of round 1 joined
    for trajectory in r1.trajectories:
        info = trajectory.final_infos["player_0"]
        if not info["validity"]["valid"]:
            assert trajectory.returns == {"player_0": 0.0, "player_1": 0.0}
            served = info["served_from_pool"]
            # a valid question an earlier episode stored
            assert served["question"] in {q.question for q in loop.pool.items()}
            assert served["question"] != "too short"


def test_the_pool_is_bounded_fifo() -> None:
    loop = _loop(set(), pool=FifoQuestionPool(capacity=5))
    rounds = loop.run(3)
    assert [r.pool_size for r in rounds] == [4, 5, 5]


def test_a_killed_run_resumes_with_identical_rounds() -> None:
    whole = _loop({1, 5, 6})  # seeds: round 0 is 0-3, round 1 is 4-7
    expected = [r.summary() for r in whole.run(3)]
    first = _loop({1, 5, 6})
    first.run(1)
    saved = json.loads(json.dumps(first.state_dict()))
    resumed = _loop({1, 5, 6})
    resumed.load_state_dict(saved)
    got = [first.history[0], *(r.summary() for r in resumed.run(2))]
    assert got == expected
    assert resumed.state_dict() == whole.state_dict()
    assert sum(r["refills"] for r in expected) > 0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="episodes_per_round"):
        SSPLoop(ScriptedSearchQA(), episodes_per_round=0)
    with pytest.raises(ValueError, match="pool="):
        SSPLoop(ScriptedSearchQA(), question_pool=FifoQuestionPool())


def test_scores_are_means_of_the_solver_rewards() -> None:
    loop = _loop(set())
    result = loop.run_round()
    solver = [
        t.final_infos["player_1"]["ssp_reward"]["solver"] for t in result.trajectories
    ]
    assert result.solver_score == pytest.approx(float(np.mean(solver)))
