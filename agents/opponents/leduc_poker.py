"""Leduc hold'em players: a CFR+ average policy solved with OpenSpiel, cached on disk.

The player is a table from OpenSpiel's information-state string (``info["info_state"]``,
equal to ``pyspiel``'s for every state of ``leduc_poker``) to the probability of each
legal action. It never reads the prompt, so it plays in both views (the numeric view with
``infos="full"``, which carries ``info_state``); in an N-hand match
it plays each hand by the single-hand strategy.

``solve_cfr_plus`` is shared with Liar's Dice: it runs OpenSpiel's C++
``CFRPlusSolver`` (the algorithm of ``open_spiel.python.algorithms.cfr.CFRPlusSolver``,
about 10x faster) on first use and keeps the average policy as JSON under the user
cache (``platformdirs.user_cache_dir("selfplay_envs")`` when ``platformdirs`` is
installed, else ``~/.cache/selfplay_envs``), keyed by the game string and iterations.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from selfplay_agents.policy import Turn, answer

__all__ = [
    "TablePolicy",
    "cache_dir",
    "cfr",
    "cfr_table",
    "solve_cfr_plus",
]

Table = dict[str, dict[int, float]]
#: Iterations of the default CFR+ player (exploitability below 1e-3, ~10 s to solve).
DEFAULT_ITERATIONS = 1000


def cache_dir() -> Path:
    """Where solved policies are kept (``SELFPLAY_ENVS_CACHE`` overrides it)."""
    override = os.environ.get("SELFPLAY_ENVS_CACHE")
    if override:
        return Path(override)
    try:
        import platformdirs
    except ImportError:
        return Path.home() / ".cache" / "selfplay_envs"
    return Path(platformdirs.user_cache_dir("selfplay_envs"))


def _cache_path(game_string: str, iterations: int) -> Path:
    name = re.sub(r"[^A-Za-z0-9]+", "_", game_string).strip("_")
    return cache_dir() / "cfr_plus" / f"{name}_{iterations}.json"


@functools.lru_cache(maxsize=8)
def solve_cfr_plus(game_string: str, iterations: int) -> Table:
    """The CFR+ average policy of ``pyspiel.load_game(game_string)``, from the disk
    cache when it was solved before: info-state string -> {action: probability}."""
    if iterations < 1:
        raise ValueError(f"expected iterations >= 1, got {iterations}")
    path = _cache_path(game_string, iterations)
    if path.exists():
        try:
            stored = json.loads(path.read_text())
            return {k: {int(a): p for a, p in v.items()} for k, v in stored.items()}
        except (OSError, ValueError):
            pass  # a damaged cache file is solved again and rewritten
    table = _solve(game_string, iterations)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(table))
    partial.replace(path)  # atomic: a concurrent reader never sees half a file
    return table


def _solve(game_string: str, iterations: int) -> Table:
    import pyspiel  # Loaded here: only these players need the solver.

    game = pyspiel.load_game(game_string)
    solver = pyspiel.CFRPlusSolver(game)
    for _ in range(iterations):
        solver.evaluate_and_update_policy()
    average = solver.average_policy()
    return {
        key: {int(a): float(p) for a, p in average.get_state_policy(key)}
        for key in _info_states(game)
    }


def _info_states(game: Any) -> list[str]:
    """Every decision's information-state string, in a fixed order."""
    seen: dict[str, None] = {}
    stack = [game.new_initial_state()]
    while stack:
        state = stack.pop()
        if state.is_terminal():
            continue
        if state.is_chance_node():
            stack += [state.child(a) for a, _ in state.chance_outcomes()]
            continue
        seen.setdefault(state.information_state_string(), None)
        stack += [state.child(a) for a in state.legal_actions()]
    return list(seen)


def timed_solve(game_string: str, iterations: int) -> tuple[Table, float]:
    """Solve without the caches and report the seconds it took."""
    start = time.perf_counter()
    table = _solve(game_string, iterations)
    return table, time.perf_counter() - start


class TablePolicy:
    """Plays from a table: ``info["info_state"]`` -> {legal action id: probability}.

    Args:
        table: The probabilities of every legal action at each information state.
        name: Display name.
        seed: Seed of the player's own generator.
    """

    def __init__(
        self,
        table: Mapping[str, Mapping[int, float]],
        *,
        name: str,
        seed: int | None = None,
    ):
        self.table = table
        self.name = name
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed, so a seeded episode replays the same moves."""
        self.rng = np.random.default_rng(seed)

    def action_probabilities(self, turn: Turn) -> dict[int, float]:
        """{action id: probability} at the acting seat's information state."""
        return dict(self.table[turn.info["info_state"]])

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """Sample one action per turn from the table, in the turn's view."""
        return [self._one(turn) for turn in turns]

    def _one(self, turn: Turn) -> Any:
        probabilities = self.table[turn.info["info_state"]]
        actions = sorted(probabilities)
        weights = np.array([probabilities[a] for a in actions], dtype=float)
        index = int(self.rng.choice(len(actions), p=weights / weights.sum()))
        if turn.view == "numeric":
            return actions[index]
        # legal_actions is ordered by action id, as the table's legal actions are.
        return answer(turn, turn.info["legal_actions"][index], actions[index])


def cfr_table(iterations: int = DEFAULT_ITERATIONS) -> Table:
    """The CFR+ average policy of ``leduc_poker`` after ``iterations`` iterations."""
    return solve_cfr_plus("leduc_poker", iterations)


def cfr(seed: int | None = None, iterations: int = DEFAULT_ITERATIONS) -> TablePolicy:
    """Factory for ``OPPONENTS``: the CFR+ average policy (solved on first use)."""
    return TablePolicy(cfr_table(iterations), name="cfr", seed=seed)
