"""Arena statistics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from selfplay_agents.arena.stats import (
    ELO_SCALE,
    Rating,
    bootstrap_ratings,
    bradley_terry,
    weng_lin_update,
    wilson_interval,
)


def test_wilson_interval_matches_the_closed_form() -> None:
    # 8 of 10: p = 0.8, z = 1.96; by hand (Wilson 1927): centre 0.7167, half 0.2266.
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    # 0 of 20: upper bound z^2 / (n + z^2) = 3.8415 / 23.8415.
    assert wilson_interval(0, 20) == pytest.approx((0.0, 3.8415 / 23.8415), abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_bradley_terry_two_players_is_the_log_odds() -> None:
    wins = np.array([[0.0, 30.0], [10.0, 0.0]])  # player 0 won 30, player 1 won 10
    ratings = bradley_terry(wins, prior=0.0)
    assert ratings[0] - ratings[1] == pytest.approx(ELO_SCALE * math.log(3.0), rel=1e-6)
    assert ratings.sum() == pytest.approx(0.0, abs=1e-9)


def test_bradley_terry_recovers_known_strengths() -> None:
    true = np.array([0.0, 0.7, 1.4, 2.1, 2.8])
    rng = np.random.default_rng(7)
    games = []
    for _ in range(6000):
        i, j = rng.choice(len(true), 2, replace=False)
        p = 1 / (1 + math.exp(true[j] - true[i]))
        games.append((i, j, float(rng.random() < p)))
    ratings, low, high = bootstrap_ratings(games, len(true), samples=50)
    assert list(np.argsort(ratings)) == [0, 1, 2, 3, 4]
    fitted = ratings / ELO_SCALE
    assert fitted - fitted[0] == pytest.approx(true, abs=0.15)
    assert np.all(low <= ratings) and np.all(ratings <= high)


def test_weng_lin_matches_openskill_reference_numbers() -> None:
    # OpenSkill's documented 1v1 result from default ratings (mu 25, sigma 25/3).
    (winner,), (loser,) = weng_lin_update([[Rating()], [Rating()]], [0, 1])
    assert winner.mu == pytest.approx(27.63523, abs=1e-4)
    assert loser.mu == pytest.approx(22.36477, abs=1e-4)
    assert winner.sigma == pytest.approx(8.06551, abs=1e-4)
    (a,), (b,) = weng_lin_update([[Rating()], [Rating()]], [0, 0])
    assert a.mu == pytest.approx(25.0) and b.mu == pytest.approx(25.0)
