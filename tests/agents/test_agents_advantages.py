"""The advantage estimators (SPIRAL, MARS, GRPO) against hand-computed values."""

import dataclasses

import pytest

from selfplay_agents.adapter import BatchInferenceAdapter
from selfplay_agents.export import (
    RoleBaseline,
    TrainerRow,
    by_seed_and_seat,
    group_advantages,
    player_advantages,
    role_advantages,
    trainer_rows,
    turn_advantages,
)
from selfplay_agents.policy import CallablePolicy


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


def _turn(game_id, agent, step, reward, ret, seed=None):
    return dataclasses.replace(
        _row(game_id, agent, "r", ret), step=step, reward=reward, seed=seed
    )


def test_turn_advantages_reward_to_go_and_the_outcome_on_the_seats_last_turn():
    # g1: player_0 moves at steps 0, 2, 4 and wins with its last move (reward 1);
    # player_1 moves at 1, 3 and its -1 arrives on player_0's step.
    # g2: player_1 wins with the last move (step 3); player_0 moved at 0, 2.
    rows = [
        _turn("g1", "player_0", 0, 0.0, 1.0),
        _turn("g1", "player_1", 1, 0.0, -1.0),
        _turn("g1", "player_0", 2, 0.0, 1.0),
        _turn("g1", "player_1", 3, 0.0, -1.0),
        _turn("g1", "player_0", 4, 1.0, 1.0),
        _turn("g2", "player_0", 0, 0.0, -1.0),
        _turn("g2", "player_1", 1, 0.0, 1.0),
        _turn("g2", "player_0", 2, 0.0, -1.0),
        _turn("g2", "player_1", 3, 1.0, 1.0),
    ]
    out = turn_advantages(rows, gamma=0.5, epsilon=0.0)
    # player_0's rewards-to-go, in row order: 0.25, 0.5, 1 (g1), -0.5, -1 (g2).
    # mean 0.05; deviations 0.2, 0.45, 0.95, -0.55, -1.05; variance 2.55 / 5 = 0.51.
    std = 0.51**0.5
    expected_p0 = [0.2 / std, 0.45 / std, 0.95 / std, -0.55 / std, -1.05 / std]
    got_p0 = [r.advantage for r in out if r.agent == "player_0"]
    assert got_p0 == pytest.approx(expected_p0)  # distinct values: already centred
    # player_1: -0.5, -1 (g1), 0.5, 1 (g2): mean 0, variance 0.625.
    std1 = 0.625**0.5
    got_p1 = [r.advantage for r in out if r.agent == "player_1"]
    assert got_p1 == pytest.approx([-0.5 / std1, -1 / std1, 0.5 / std1, 1 / std1])


def test_turn_advantages_recentre_the_players_distinct_values():
    # gamma 1: player_0's returns are 1, 1, 1 (a win in three turns) and -1, -1.
    rows = [
        _turn("g1", "player_0", s, 1.0 if s == 4 else 0.0, 1.0) for s in (0, 2, 4)
    ] + [_turn("g2", "player_0", s, 0.0, -1.0) for s in (0, 2)]
    out = turn_advantages(rows, epsilon=0.0)
    # mean 0.2, variance (3 * 0.64 + 2 * 1.44) / 5 = 0.96: whitened 0.8/0.98 and
    # -1.2/0.98, whose distinct values average -0.2/0.98; re-centred: +-1/sqrt(0.96).
    a = 1 / 0.96**0.5
    assert [r.advantage for r in out] == pytest.approx([a, a, a, -a, -a])


def test_by_seed_and_seat_groups_episodes_of_one_start_and_refuses_unknown_seeds():
    rows = [
        _turn("g1", "player_0", 0, 1.0, 1.0, seed=7),
        _turn("g2", "player_0", 0, -1.0, -1.0, seed=7),
        _turn("g3", "player_0", 0, 3.0, 3.0, seed=8),
        _turn("g4", "player_0", 0, 1.0, 1.0, seed=8),
    ]
    out = group_advantages(rows, key=by_seed_and_seat, epsilon=0.0)
    # seed 7: mean 0, std 1 -> +1, -1; seed 8: mean 2, std 1 -> +1, -1.
    assert [r.advantage for r in out] == pytest.approx([1.0, -1.0, 1.0, -1.0])
    with pytest.raises(ValueError, match="no seed"):
        group_advantages([_turn("g5", "player_0", 0, 1.0, 1.0)], key=by_seed_and_seat)


def _always(action):
    return CallablePolicy(lambda obs, info: action, name=f"always{action}")


def test_player_baseline_on_a_five_hand_kuhn_match_tracks_each_seat():
    # player_0 always bets, player_1 always passes: player_0 wins the ante of every
    # hand (+5 chips a match) whether it opens or responds, and the seats alternate
    # roles hand by hand, so both role keys see both seats.
    adapter = BatchInferenceAdapter(
        "kuhn_poker_v0",
        {"player_0": _always(1), "player_1": _always(0)},
        num_envs=4,
        view="numeric",
        num_hands=5,
    )
    trajectories = adapter.run(40).trajectories
    rows = trainer_rows(trajectories, keep_untokenized=True)
    assert {r.role for r in rows if r.agent == "player_0"} == {"opener", "responder"}
    by_episode = sorted({r.game_id for r in rows}, key=lambda g: int(g.split("/")[-1]))
    players, roles = RoleBaseline(), RoleBaseline()
    for game_id in by_episode:
        batch = [r for r in rows if r.game_id == game_id]
        assert {r.agent: r.episode_return for r in batch} == {
            "player_0": 5.0,
            "player_1": -5.0,
        }
        player_advantages(batch, players)
        role_advantages(batch, roles)
    # After n updates towards a constant R: b = R (1 - 0.95^n).
    assert players.value("kuhn_poker_v0", "player_0") == pytest.approx(
        5 * (1 - 0.95**40)
    )
    assert players.value("kuhn_poker_v0", "player_1") == pytest.approx(
        -5 * (1 - 0.95**40)
    )
    # Keyed by role, each episode folds +5 and -5 into the same key: the opener's
    # baseline stays near zero (b <- 0.95 b + 0.25, then 0.95 b - 0.25: the fixed
    # point is -0.0125 / 0.0975 = -0.128), far from either seat's value.
    assert abs(roles.value("kuhn_poker_v0", "opener")) < 0.15


def test_group_size_starts_each_group_from_one_seed():
    check = CallablePolicy(lambda obs, info: "\\boxed{check}", name="check")
    adapter = BatchInferenceAdapter(
        "kuhn_poker_v0", check, num_envs=8, group_size=2, seed=0
    )
    trajectories = sorted(adapter.run(8).trajectories, key=lambda t: t.game_index)
    assert [t.seed for t in trajectories] == [0, 0, 1, 1, 2, 2, 3, 3]
    first = [t.turns[0].observation for t in trajectories]  # holds the dealt card
    assert first[0::2] == first[1::2]
    assert len(set(first)) > 1  # seeds 0 and 1 deal player_0 a K and a Q
    with pytest.raises(ValueError, match="group_size"):
        BatchInferenceAdapter("kuhn_poker_v0", check, num_envs=4, group_size=3)
