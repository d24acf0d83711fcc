"""Statistics for arena results: intervals, pairwise ratings, multi-player ratings.

Everything here is plain numpy so the checks against hand-computed values are exact.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "wilson_interval",
    "bradley_terry",
    "bootstrap_ratings",
    "Rating",
    "weng_lin_update",
    "ELO_SCALE",
]

ELO_SCALE = 400.0 / math.log(10.0)  # natural-log strengths to Elo points


def wilson_interval(
    successes: float, n: int, z: float = 1.959963984540054
) -> tuple[float, float]:
    """Wilson score interval of a proportion (95% by default); ``(0, 1)`` when n = 0.

    Draws may be counted as half a success, which keeps the interval meaningful for
    score rates.
    """
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bradley_terry(
    wins: np.ndarray, *, iterations: int = 2000, tol: float = 1e-10, prior: float = 0.5
) -> np.ndarray:
    """Bradley-Terry strengths on the Elo scale, mean zero, by the MM algorithm.

    Args:
        wins: ``wins[i, j]`` = games i won against j (a draw adds 0.5 to both).
        iterations: Maximum MM iterations (Hunter, 2004).
        tol: Stop when strengths change less than this.
        prior: Virtual draw added between every pair that met, so that a player who
            won or lost everything keeps a finite rating.
    """
    wins = np.asarray(wins, dtype=float)
    n = wins.shape[0]
    games = wins + wins.T
    met = games > 0
    wins = wins + prior * met
    games = games + 2 * prior * met
    total_wins = wins.sum(axis=1)
    strength = np.ones(n)
    for _ in range(iterations):
        pair = strength[:, None] + strength[None, :]
        denom = np.where(games > 0, games / np.where(pair > 0, pair, 1.0), 0.0).sum(
            axis=1
        )
        new = np.where(
            denom > 0, total_wins / np.where(denom > 0, denom, 1.0), strength
        )
        new = new / np.exp(np.mean(np.log(np.maximum(new, 1e-300))))
        if np.max(np.abs(new - strength)) < tol:
            strength = new
            break
        strength = new
    ratings = ELO_SCALE * np.log(np.maximum(strength, 1e-300))
    return ratings - ratings.mean()


def bootstrap_ratings(
    games: Sequence[tuple[int, int, float]],
    num_players: int,
    *,
    samples: int = 200,
    seed: int | Sequence[int] = 0,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bradley-Terry ratings with percentile bootstrap intervals over games.

    Args:
        games: ``(i, j, score_i)`` per game, with score 1 / 0.5 / 0.
        num_players: Pool size.
        samples: Bootstrap resamples.
        seed: Seed of the resampling (anything ``np.random.default_rng`` takes).
        level: Interval coverage.

    Returns:
        ``(ratings, low, high)`` on the Elo scale.
    """
    table = np.asarray(games, dtype=float).reshape(-1, 3)
    ratings = bradley_terry(_win_matrix(table, num_players))
    rng = np.random.default_rng(seed)
    draws = np.empty((samples, num_players))
    for s in range(samples):
        resampled = table[rng.integers(0, len(table), len(table))]
        draws[s] = bradley_terry(_win_matrix(resampled, num_players), iterations=500)
    alpha = (1 - level) / 2
    low, high = np.quantile(draws, [alpha, 1 - alpha], axis=0)
    return ratings, low, high


def _win_matrix(table: np.ndarray, num_players: int) -> np.ndarray:
    wins = np.zeros((num_players, num_players))
    for i, j, score in table:
        wins[int(i), int(j)] += score
        wins[int(j), int(i)] += 1 - score
    return wins


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rating:
    """A Gaussian skill belief, as TrueSkill and OpenSkill keep it."""

    mu: float = 25.0
    sigma: float = 25.0 / 3.0

    @property
    def conservative(self) -> float:
        """``mu - 3 sigma``: the usual leaderboard number."""
        return self.mu - 3.0 * self.sigma


def weng_lin_update(
    teams: Sequence[Sequence[Rating]], ranks: Sequence[int], *, beta: float = 25.0 / 6.0
) -> list[list[Rating]]:
    """One game of Weng & Lin (2011), Bradley-Terry full-pair model (OpenSkill's BT).

    Args:
        teams: Each team's member ratings.
        ranks: Finishing rank per team; lower is better, equal ranks draw.
        beta: Performance noise.

    Returns:
        Updated ratings, in the shape of ``teams``.
    """
    kappa = 1e-4
    mus = [sum(r.mu for r in team) for team in teams]
    sigmas2 = [sum(r.sigma**2 for r in team) for team in teams]
    updated = []
    for i, team in enumerate(teams):
        omega, delta = 0.0, 0.0
        for q in range(len(teams)):
            if q == i:
                continue
            c = math.sqrt(sigmas2[i] + sigmas2[q] + 2 * beta * beta)
            p_iq = 1.0 / (1.0 + math.exp((mus[q] - mus[i]) / c))
            s = 1.0 if ranks[q] > ranks[i] else 0.5 if ranks[q] == ranks[i] else 0.0
            gamma = math.sqrt(sigmas2[i]) / c
            omega += sigmas2[i] / c * (s - p_iq)
            delta += gamma * sigmas2[i] / (c * c) * p_iq * (1 - p_iq)
        new_team = []
        for member in team:
            share = member.sigma**2 / sigmas2[i]
            mu = member.mu + share * omega
            sigma2 = member.sigma**2 * max(1 - share * delta, kappa)
            new_team.append(Rating(mu=mu, sigma=math.sqrt(sigma2)))
        updated.append(new_team)
    return updated
