"""Player-keyed RAE (SPIRAL) against hand-computed values."""

import pytest

from agents.export import RoleBaseline, TrainerRow, player_advantages


def _row(game_id: str, agent: str, role: str, ret: float) -> TrainerRow:
    return TrainerRow(
        game_id=game_id,
        env_id="kuhn",
        episode_id=0,
        step=0,
        turn=0,
        agent=agent,
        seat=int(agent[-1]),
        role=role,
        policy="p",
        prompt_ids=[],
        completion_ids=[],
        logprobs=None,
        prompt="",
        completion="",
        valid=True,
        invalid_reason="",
        reward=ret,
        episode_return=ret,
        outcome="",
    )


def test_player_baseline_ignores_alternating_roles():
    base = RoleBaseline()
    # game 1: seat 0 opens and wins +1; game 2: seat 0 responds and wins +1.
    g1 = [
        _row("g1", "player_0", "opener", 1.0),
        _row("g1", "player_1", "responder", -1.0),
    ]
    g2 = [
        _row("g2", "player_0", "responder", 1.0),
        _row("g2", "player_1", "opener", -1.0),
    ]
    first = player_advantages(g1, base)
    assert [r.advantage for r in first] == [1.0, -1.0]  # b = 0 before the update
    # b0 = 0.95*0 + 0.05*1 = 0.05; b1 = -0.05
    assert base.value("kuhn", "player_0") == pytest.approx(0.05)
    second = player_advantages(g2, base)
    # A = 1 - 0.05 = 0.95, -1 + 0.05 = -0.95
    assert [r.advantage for r in second] == pytest.approx([0.95, -0.95])
    # b0 = 0.95*0.05 + 0.05*1 = 0.0975
    assert base.value("kuhn", "player_0") == pytest.approx(0.0975)
