"""Vision-Zero's decision-stage group normalisation, with hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from selfplay_envs.games.who_is_the_spy.advantages import (
    decision_advantages,
    group_normalize,
)
from selfplay_envs.games.who_is_the_spy.env import WhoIsTheSpyGame
from selfplay_envs.games.who_is_the_spy.rules import ABSTAIN


def test_group_normalize_within_each_group() -> None:
    # a: [1, -1] mean 0, std 1; b: [1, 1, -0.5, -0.5] mean 0.25, std 0.75; c: alone
    rewards = [1.0, 1.0, -1.0, 1.0, -0.5, -0.5, 0.7]
    groups = ["a", "b", "a", "b", "b", "b", "c"]
    assert group_normalize(rewards, groups) == pytest.approx(
        [1.0, 1.0, -1.0, 1.0, -1.0, -1.0, 0.0]
    )


def test_a_group_of_equal_rewards_is_centred_not_divided_by_zero() -> None:
    assert group_normalize([-0.5, -0.5], [0, 0]) == [0.0, 0.0]
    # eps is added to the std: std 1, eps 0.5 divides by 1.5
    assert group_normalize([1.0, -1.0], [0, 0], eps=0.5) == pytest.approx(
        [2 / 3, -2 / 3]
    )


def test_group_normalize_refuses_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="one group per reward"):
        group_normalize([1.0, 2.0], ["a"])


def _final_infos(spy: int, votes: dict[int, int], seed: int, **config) -> dict:
    game = WhoIsTheSpyGame(preset="vision_zero", image_size=32, **config)
    state = game.new_initial_state(np.random.default_rng(seed))
    state.spy = spy
    for turn in range(2 * state.num_players):
        state.apply_action(turn % state.num_players, "There is a cube.")
    state.apply_joint_action(votes)
    return {f"player_{p}": state.info(p) for p in range(state.num_players)}


def test_decision_advantages_group_the_civilians_votes_of_one_seed() -> None:
    # seed 7, two episodes; spy = seat 0.
    # game A votes: seat 1 -> spy (+1), seat 2 -> spy (+1), seat 3 N/A (-0.5)
    # game B votes: seat 1 -> 2 (-1), seat 2 -> spy (+1), seat 3 N/A (-0.5)
    # group of six: mean 1/6, population variance 13/18
    a = _final_infos(0, {1: 0, 2: 0, 3: ABSTAIN}, seed=7)
    b = _final_infos(0, {1: 2, 2: 0, 3: ABSTAIN}, seed=7)
    # another seed is its own group: [1, -1, -1], mean -1/3, variance 8/9
    c = _final_infos(0, {1: 0, 2: 3, 3: 2}, seed=8)
    out = decision_advantages([(7, a), (7, b), (8, c)])
    std = math.sqrt(13 / 18)
    assert set(out[0]) == {"player_1", "player_2", "player_3"}  # the spy did not vote
    assert out[0]["player_1"] == pytest.approx((1 - 1 / 6) / std)
    assert out[0]["player_3"] == pytest.approx((-0.5 - 1 / 6) / std)
    assert out[1]["player_1"] == pytest.approx((-1 - 1 / 6) / std)
    other = math.sqrt(8 / 9)
    assert out[2]["player_1"] == pytest.approx((1 + 1 / 3) / other)
    assert out[2]["player_2"] == pytest.approx((-1 + 1 / 3) / other)


def test_the_spys_votes_are_a_group_of_their_own() -> None:
    # spy_votes: the spy's +0.5 (another seat) is alone in its group, so 0
    a = _final_infos(0, {0: 2, 1: 0, 2: 0, 3: 0}, seed=1, spy_votes=True)
    out = decision_advantages([(1, a)])
    assert out[0]["player_0"] == 0.0
    assert out[0]["player_1"] == 0.0  # three civilians, all +1
