"""Kuhn poker players: the Nash family and a CFR-trained player.

Each player is a table from OpenSpiel's information-state string (own card 0-2 for
J, Q, K followed by the betting in ``p``/``b`` letters, e.g. ``"1pb"``) to the
probability of Bet. It reads ``turn.info["info_state"]``, never the prompt text, so it
plays in both views. In an N-hand match it plays each hand by the single-hand strategy.

The Nash family (Kuhn 1950): the opener bets a Jack with probability ``alpha`` in
[0, 1/3], bets a King with ``3 * alpha``, always checks a Queen and calls a bet with it
with ``alpha + 1/3``; the responder always bets or calls with a King, calls with a Queen
with 1/3, bets a Jack after a check with 1/3 and never calls with it. Every member has
exploitability 0 and value -1/18 for the opener.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from selfplay_agents.policy import Turn, answer

__all__ = [
    "INFO_STATES",
    "KuhnTablePolicy",
    "nash_table",
    "cfr_table",
    "nash",
    "cfr",
]

# The 12 information states: the opener's 6 (before acting, facing check-bet), then
# the responder's 6 (facing a check, facing a bet).
INFO_STATES = (
    *(f"{c}" for c in range(3)),
    *(f"{c}pb" for c in range(3)),
    *(f"{c}p" for c in range(3)),
    *(f"{c}b" for c in range(3)),
)
_THIRD = 1.0 / 3.0
_BET = 1


class KuhnTablePolicy:
    """Plays Kuhn poker from a table: information state -> probability of Bet.

    Args:
        table: Probability of Bet (bet or call) at each of the 12 ``INFO_STATES``.
        name: Display name.
        seed: Seed of the player's own generator.
    """

    def __init__(
        self, table: Mapping[str, float], *, name: str, seed: int | None = None
    ):
        missing = set(INFO_STATES) - set(table)
        if missing:
            raise ValueError(
                f"expected all 12 information states, got none for {sorted(missing)}"
            )
        for key, p in table.items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(
                    f"expected a probability in [0, 1] at {key!r}, got {p}"
                )
        self.table = {key: float(table[key]) for key in INFO_STATES}
        self.name = name
        self.rng = np.random.default_rng(seed)

    def bet_probability(self, info_state: str) -> float:
        """Probability of Bet at OpenSpiel's information-state string ``info_state``."""
        return self.table[info_state]

    def action_probabilities(self, turn: Turn) -> dict[int, float]:
        """``{0: P(pass), 1: P(bet)}`` for the acting seat of ``turn``."""
        bet = self.bet_probability(turn.info["info_state"])
        return {0: 1.0 - bet, 1: bet}

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """Sample one action per turn from the table, in the turn's view."""
        return [self._one(turn) for turn in turns]

    def _one(self, turn: Turn) -> Any:
        action = int(self.rng.random() < self.bet_probability(turn.info["info_state"]))
        # legal_actions is ordered by action id: [pass word, bet word] in this state.
        return answer(turn, turn.info["legal_actions"][action], action)


def nash_table(alpha: float = 0.0) -> dict[str, float]:
    """The equilibrium with parameter ``alpha`` in [0, 1/3]: P(Bet) per info state."""
    if not 0.0 <= alpha <= _THIRD + 1e-12:
        raise ValueError(f"expected alpha in [0, 1/3], got {alpha}")
    return {
        # opener, first decision: J bluffs with alpha, Q checks, K bets with 3 alpha
        "0": alpha,
        "1": 0.0,
        "2": min(3.0 * alpha, 1.0),
        # opener facing check-bet: J folds, Q calls with alpha + 1/3, K calls
        "0pb": 0.0,
        "1pb": alpha + _THIRD,
        "2pb": 1.0,
        # responder after a check: J bluffs with 1/3, Q checks, K bets
        "0p": _THIRD,
        "1p": 0.0,
        "2p": 1.0,
        # responder facing a bet: J folds, Q calls with 1/3, K calls
        "0b": 0.0,
        "1b": _THIRD,
        "2b": 1.0,
    }


@functools.lru_cache(maxsize=8)
def cfr_table(iterations: int = 1000) -> dict[str, float]:
    """P(Bet) of the average policy of OpenSpiel's CFR after ``iterations`` iterations.

    Uses OpenSpiel's C++ ``CFRSolver`` (the same algorithm as
    ``open_spiel.python.algorithms.cfr``, about 20x faster) on
    ``pyspiel.load_game("kuhn_poker")``; 1000 iterations take well under a second and
    leave an exploitability below 1e-3. The table is cached per ``iterations``.
    """
    import pyspiel  # Loaded here: only this player needs the solver.

    if iterations < 1:
        raise ValueError(f"expected iterations >= 1, got {iterations}")
    solver = pyspiel.CFRSolver(pyspiel.load_game("kuhn_poker"))
    for _ in range(iterations):
        solver.evaluate_and_update_policy()
    average = solver.average_policy()
    return {key: dict(average.get_state_policy(key))[_BET] for key in INFO_STATES}


def nash(seed: int | None = None, alpha: float = 0.0) -> KuhnTablePolicy:
    """Factory for ``OPPONENTS``: the Nash player with parameter ``alpha``."""
    name = "nash" if alpha == 0.0 else f"nash(alpha={alpha:g})"
    return KuhnTablePolicy(nash_table(alpha), name=name, seed=seed)


def cfr(seed: int | None = None, iterations: int = 1000) -> KuhnTablePolicy:
    """Factory for ``OPPONENTS``: the average policy after ``iterations`` of CFR."""
    return KuhnTablePolicy(cfr_table(iterations), name="cfr", seed=seed)
