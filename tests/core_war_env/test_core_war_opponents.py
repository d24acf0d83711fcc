"""Core War's fixed opponents: pool, named classics and random warriors."""

from __future__ import annotations

import numpy as np
import pytest

import selfplay_envs
from selfplay_agents.arena.runner import Job, _metrics, play_game
from selfplay_agents.opponents import list_opponents, make_opponent
from selfplay_agents.opponents.core_war import (
    ClassicWarrior,
    RandomWarrior,
    WarriorPool,
)
from selfplay_agents.policy import Turn
from selfplay_envs.games.core_war.assembler import (
    AssemblerSettings,
    assemble,
    extract_redcode,
)
from selfplay_envs.games.core_war.rules import PRESETS, shipped_warrior_paths

ENV = "core_war_v0"


def _turn(preset: str = "koth94", game_index: int = 0) -> Turn:
    env = selfplay_envs.make(ENV, preset=preset)
    env.reset(seed=0)
    agent = env.agent_selection
    return Turn(
        env_id=ENV,
        agent=agent,
        observation=env.observe(agent),
        info=env.infos[agent],
        game_index=game_index,
    )


def _settings(preset: str) -> AssemblerSettings:
    return AssemblerSettings(**PRESETS[preset].to_dict())


def test_registered_opponents() -> None:
    assert {"pool", "random", "imp", "dwarf"} <= set(list_opponents(ENV))
    for name in list_opponents(ENV):
        policy = make_opponent(ENV, name, seed=1)
        reply = policy.act([_turn()])[0]
        assert reply.startswith("```redcode\n") and reply.endswith("\n```")
        assemble(extract_redcode(reply))


@pytest.mark.parametrize("preset", ["koth94", "tiny"])
def test_random_warriors_always_assemble_and_vary(preset: str) -> None:
    policy = RandomWarrior(seed=3)
    turn = _turn(preset)
    replies = policy.act([turn] * 300)
    settings = _settings(preset)
    lengths = set()
    for reply in replies:
        warrior = assemble(extract_redcode(reply), settings)
        lengths.add(len(warrior))
    assert lengths == set(range(1, 9))
    assert len(set(replies)) == len(replies)
    assert RandomWarrior(seed=3).act([turn] * 300) == replies  # own seeded Generator


def test_pool_draws_every_classic_reproducibly() -> None:
    turn = _turn()
    pool = WarriorPool(seed=7)
    names = {assemble(extract_redcode(r)).name for r in pool.act([turn] * 200)}
    assert len(names) == len(shipped_warrior_paths())
    first = WarriorPool(seed=7).act([turn] * 20)
    again = WarriorPool(seed=7)
    assert again.act([turn] * 20) == first
    again.reset(seed=7)
    assert again.act([turn] * 20) == first


def test_pool_keeps_to_the_warriors_that_fit_the_hill() -> None:
    turn = _turn("tiny")
    settings = _settings("tiny")
    for reply in WarriorPool(seed=1).act([turn] * 60):
        assert len(assemble(extract_redcode(reply), settings)) <= 20
    with pytest.raises(ValueError, match="fits the hill"):
        ClassicWarrior("quick_dwarf").act([turn])
    with pytest.raises(ValueError, match="expected warrior names"):
        WarriorPool(names=["nonesuch"])


def _final_infos(job: Job) -> dict:
    """Play ``job`` as the arena does and keep each agent's info at its end."""
    env = selfplay_envs.make(ENV, **job.config)
    env.reset(seed=job.seed)
    policies = {
        "player_0": make_opponent(ENV, job.a, seed=1),
        "player_1": make_opponent(ENV, job.b, seed=2),
    }
    final = {}
    for agent in env.agent_iter():
        observation, _, termination, truncation, info = env.last()
        if termination or truncation:
            final[agent] = info
            env.step(None)
            continue
        turn = Turn(env_id=ENV, agent=agent, observation=observation, info=info)
        env.step(policies[agent].act([turn])[0])
    return final


def test_final_infos_carry_numeric_metrics_for_the_arena() -> None:
    job = Job(
        env_id=ENV, a="dwarf", b="imp", order=0, index=0, seed=5, config={"rounds": 8}
    )
    metrics = _metrics(_final_infos(job), {"player_0": "dwarf", "player_1": "imp"}, job)
    a, b = metrics["a"], metrics["b"]
    assert set(a) == {"score", "win_rate", "tie_rate", "loss_rate", "survival"}
    assert a["score"] > b["score"] and b["win_rate"] == 0.0  # imps never kill
    assert a["survival"] + b["survival"] == pytest.approx(2.0)
    assert all(np.isfinite(v) for v in (*a.values(), *b.values()))


def test_arena_record_has_metrics() -> None:
    job = Job(
        env_id=ENV, a="dwarf", b="imp", order=0, index=0, seed=5, config={"rounds": 8}
    )
    record = play_game(job)
    assert record["score_a"] == 1.0 and record["invalid_a"] == record["invalid_b"] == 0
    assert record["metrics"]["a"]["score"] > record["metrics"]["b"]["score"]


def test_random_against_the_pool_in_red_queen_seats() -> None:
    env = selfplay_envs.make(ENV, mode="red_queen", rounds=2)
    env.reset(seed=0)
    agent = env.agent_selection
    turn = Turn(
        env_id=ENV, agent=agent, observation=env.observe(agent), info=env.infos[agent]
    )
    env.step(RandomWarrior(seed=0).act([turn])[0])
    assert env.terminations[agent] and env.infos[agent]["invalid_moves"] == 0
    assert 0.0 <= env.rewards[agent] <= 1.0
