"""Trainer export: rows, advantages, JSONL / Parquet round trips, the datasets loader.

These use scripted players (no token ids, kept with ``keep_untokenized``); the model
path, with token ids and logprobs, is checked on the LLM example's export in
``test_integrations_examples.py``.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from selfplay_agents.adapter import BatchInferenceAdapter
from selfplay_agents.export import (
    RoleBaseline,
    group_advantages,
    read_jsonl,
    read_parquet,
    role_advantages,
    rows_from_turn_log,
    trainer_rows,
    write_jsonl,
    write_parquet,
)
from selfplay_agents.opponents import make_opponent
from selfplay_agents.policy import RandomPolicy


@pytest.fixture(scope="module")
def kuhn_run(tmp_path_factory):
    log = tmp_path_factory.mktemp("export") / "turns.jsonl"
    policies = {
        "player_0": make_opponent("kuhn_poker_v0", "nash", seed=1),
        "player_1": RandomPolicy(seed=2),
    }
    adapter = BatchInferenceAdapter(
        "kuhn_poker_v0", policies, num_envs=16, seed=0, trajectory_path=log
    )
    return adapter.run(400).trajectories, log


def test_rows_cover_every_turn_with_its_episode_return(kuhn_run):
    trajectories, _ = kuhn_run
    assert trainer_rows(trajectories) == []  # scripted turns carry no tokens
    rows = trainer_rows(trajectories, run_id="r1", keep_untokenized=True)
    assert len(rows) == sum(len(t.turns) for t in trajectories)
    by_game = defaultdict(list)
    for row in rows:
        by_game[row.game_id].append(row)
    assert len(by_game) == 400
    for trajectory in trajectories:
        game = by_game[f"kuhn_poker_v0/r1/{trajectory.episode_id}"]
        for row in game:
            assert row.episode_return == trajectory.returns[row.agent]
            assert row.outcome == trajectory.outcomes[row.agent]
            assert row.role == ("opener" if row.agent == "player_0" else "responder")
        assert sum(row.reward for row in game) == pytest.approx(
            trajectory.returns[game[-1].agent]
        )
    only_nash = trainer_rows(trajectories, policies=["nash"], keep_untokenized=True)
    assert {row.agent for row in only_nash} == {"player_0"}


def test_role_advantages_centre_each_role_over_episodes(kuhn_run):
    trajectories, _ = kuhn_run
    rows = role_advantages(trainer_rows(trajectories, keep_untokenized=True))
    for role in ("opener", "responder"):
        episodes = {(r.game_id, r.agent): r for r in rows if r.role == role}
        # The opener acts twice in some hands: centring is per episode, not per turn.
        assert sum(r.advantage for r in episodes.values()) == pytest.approx(0, abs=1e-9)
    # Nash (opener) against a random responder: the opener's mean return is positive.
    opener = [
        r.episode_return
        for r in {(r.game_id,): r for r in rows if r.role == "opener"}.values()
    ]
    assert sum(opener) / len(opener) > 0


def test_role_baseline_moves_once_per_episode(kuhn_run):
    trajectories, _ = kuhn_run
    baseline = RoleBaseline(decay=0.5)
    first = role_advantages(
        trainer_rows(trajectories[:1], keep_untokenized=True), baseline
    )
    assert all(r.advantage == r.episode_return for r in first)  # baseline starts at 0
    value = trajectories[0].returns["player_0"]
    assert baseline.value("kuhn_poker_v0", "opener") == pytest.approx(0.5 * value)
    second = role_advantages(
        trainer_rows(trajectories[1:2], keep_untokenized=True), baseline
    )
    for row in second:
        if row.role == "opener":
            assert row.advantage == pytest.approx(row.episode_return - 0.5 * value)


def test_group_advantages_are_normalised_per_role(kuhn_run):
    trajectories, _ = kuhn_run
    rows = group_advantages(trainer_rows(trajectories, keep_untokenized=True))
    for role in ("opener", "responder"):
        values = [
            r.advantage
            for r in {(r.game_id, r.agent): r for r in rows if r.role == role}.values()
        ]
        mean = sum(values) / len(values)
        var = sum((v - mean) ** 2 for v in values) / len(values)
        assert mean == pytest.approx(0, abs=1e-6)
        assert var == pytest.approx(1, abs=1e-3)


def test_files_round_trip_and_load_as_a_dataset(kuhn_run, tmp_path):
    trajectories, log = kuhn_run
    rows = role_advantages(trainer_rows(trajectories, keep_untokenized=True))
    assert rows_from_turn_log(log, keep_untokenized=True) == [
        r.__class__(**{**r.to_dict(), "advantage": None}) for r in rows
    ]
    assert list(read_jsonl(write_jsonl(rows, tmp_path / "rows.jsonl"))) == rows
    back = read_parquet(write_parquet(rows, tmp_path / "rows.parquet"))
    assert [r.game_id for r in back] == [r.game_id for r in rows]
    assert [r.advantage for r in back] == pytest.approx([r.advantage for r in rows])
    pytest.importorskip("datasets", reason="the datasets package is not installed")
    from selfplay_agents.export import load_dataset

    for path in (tmp_path / "rows.parquet", tmp_path / "rows.jsonl"):
        dataset = load_dataset(path)
        assert len(dataset) == len(rows)
        assert {"prompt_ids", "completion_ids", "logprobs", "advantage", "role"} <= set(
            dataset.column_names
        )
