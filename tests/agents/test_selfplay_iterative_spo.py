"""Vision-Zero's stage scheduler (selfplay_agents.selfplay.iterative_spo), hand-computed."""

from __future__ import annotations

import json
import random

import pytest

import selfplay_envs
from selfplay_agents.export import TrainerRow
from selfplay_agents.selfplay.iterative_spo import (
    CLUE,
    DECISION,
    StageScheduler,
    StageThresholds,
    decision_stats,
)


def test_hysteresis_switches_on_hand_computed_emas() -> None:
    # rho 0.5 so the EMAs move fast enough to check by hand; min 2 iterations a stage.
    scheduler = StageScheduler(StageThresholds(rho=0.5, min_iterations=2))
    steps = [
        # (accuracy, N/A rate) -> stage of the next iteration
        ((0.5, 0.0), CLUE),  # acc EMA 0.5, error 0.5 >= 0.4, but 1 < min 2
        ((0.5, 0.0), DECISION),  # error 0.5 >= 0.4 after 2: the clues are hard
        ((1.0, 0.0), DECISION),  # acc EMA 0.75
        ((1.0, 0.0), DECISION),  # 0.875 < 0.9
        ((1.0, 0.0), CLUE),  # 0.9375 >= 0.9 and N/A 0 <= 0.1: the votes are learnt
        ((1.0, 0.6), CLUE),  # N/A EMA 0.3; 1 < min 2
        ((1.0, 0.6), CLUE),  # N/A 0.45 < 0.5, error 0.016 < 0.4
        ((1.0, 0.6), DECISION),  # N/A 0.525 >= 0.5
    ]
    for (accuracy, na_rate), stage in steps:
        assert scheduler.update(accuracy, na_rate) == stage
    assert scheduler.accuracy == pytest.approx(1 - 0.5 * 0.5**6)
    assert scheduler.na_rate == pytest.approx(0.525)
    assert [h["switched"] for h in scheduler.history] == [
        False, True, False, False, True, False, False, True,
    ]  # fmt: skip


def test_a_high_na_rate_holds_the_decision_stage_until_max_iterations() -> None:
    scheduler = StageScheduler(start=DECISION)  # the paper's defaults
    # Accurate votes, but a third abstain: N/A 0.33 > na_down 0.1, so no switch
    # before max_iterations (20) forces one.
    stages = [scheduler.update(0.95, 1 / 3) for _ in range(20)]
    assert stages[:19] == [DECISION] * 19
    assert stages[19] == CLUE


def test_fixed_cycle_alternates_every_iteration_whatever_the_signals() -> None:
    scheduler = StageScheduler(cycle=1)
    assert [scheduler.update(0.5, 0.0) for _ in range(4)] == [
        DECISION, CLUE, DECISION, CLUE,
    ]  # fmt: skip


def test_a_killed_run_resumes_with_identical_stages() -> None:
    draws = random.Random(0)
    stats = [(draws.random(), draws.random() * 0.6) for _ in range(60)]
    whole = StageScheduler(StageThresholds(rho=0.7))
    expected = [whole.update(*s) for s in stats]
    first = StageScheduler(StageThresholds(rho=0.7))
    got = [first.update(*s) for s in stats[:23]]
    saved = json.loads(json.dumps(first.state_dict()))  # what a checkpoint holds
    resumed = StageScheduler()
    resumed.load_state_dict(saved)
    got += [resumed.update(*s) for s in stats[23:]]
    assert got == expected
    assert resumed.state_dict() == whole.state_dict()
    assert len(set(expected)) == 2  # the run did switch


def _row(phase: str) -> TrainerRow:
    return TrainerRow(
        game_id="g", env_id="who_is_the_spy_v0", episode_id=0, step=0, turn=0,
        agent="player_0", seat=0, role="civilian", policy="p", prompt_ids=[],
        completion_ids=[], logprobs=None, prompt="", completion="", valid=True,
        invalid_reason="", reward=0.0, episode_return=0.0, outcome="", phase=phase,
    )  # fmt: skip


def test_mark_leaves_only_the_stage_s_phase_trainable() -> None:
    rows = [_row("clue"), _row("vote"), _row("clue")]
    scheduler = StageScheduler()
    assert [r.trainable for r in scheduler.mark(rows)] == [True, False, True]
    scheduler = StageScheduler(start=DECISION)
    assert [r.trainable for r in scheduler.mark(rows)] == [False, True, False]


def test_decision_stats_counts_civilian_votes_only() -> None:
    # Spy at seat 1 ("2"); civilians 0, 2, 3 vote "2" (right), "N/A", and not at all.
    game = {"player_0": {"spy": 1, "votes": ["2", "1", "N/A", None]}}
    # Spy at seat 0; civilians vote "1" (right), "3" (wrong), "invalid" (wrong).
    other = {"player_0": {"spy": 0, "votes": ["2", "1", "3", "invalid"]}}
    assert decision_stats([game]) == (0.5, 0.5)
    assert decision_stats([game, other]) == pytest.approx((2 / 5, 1 / 5))
    with pytest.raises(ValueError, match="finished spy game"):
        decision_stats([{"player_0": {"phase": "clue"}}])


def test_decision_stats_reads_a_real_spy_game() -> None:
    env = selfplay_envs.make("who_is_the_spy_v0", items="word")
    env.reset(seed=1)
    spy = next(a for a in env.agents if env.infos[a]["is_spy"])
    finals = {}
    for agent in env.agent_iter():
        _, _, terminated, truncated, info = env.last()
        if terminated or truncated:
            finals[agent] = info
            env.step(None)
        elif info["phase"] == "clue":
            env.step("\\boxed{it is round}")
        elif agent == spy:
            env.step("\\boxed{N/A}")
        else:  # every civilian names the spy
            env.step(f"\\boxed{{{int(spy[-1]) + 1}}}")
    assert decision_stats([finals]) == (1.0, 0.0)


def test_exported_rows_carry_the_phase_the_scheduler_marks() -> None:
    from selfplay_agents.adapter import BatchInferenceAdapter
    from selfplay_agents.export import trainer_rows
    from selfplay_agents.policy import CallablePolicy

    def play(observation, info):
        if info["phase"] == "clue":
            return f"\\boxed{{hint {info['seat']} {info['clue_round']}}}"
        return "\\boxed{N/A}"

    adapter = BatchInferenceAdapter(
        "who_is_the_spy_v0", CallablePolicy(play), num_envs=2, items="word"
    )
    rows = trainer_rows(adapter.run(2).trajectories, keep_untokenized=True)
    assert {r.phase for r in rows} == {"clue", "vote"}
    marked = StageScheduler(start=DECISION).mark(rows)
    assert all(r.trainable == (r.phase == "vote") for r in marked)
