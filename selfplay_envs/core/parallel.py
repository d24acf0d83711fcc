"""The generic adapter from a ``Game`` to a PettingZoo ``ParallelEnv``.

Every live agent sends an action each step, as PettingZoo requires. Only the seats the
game waits on are used: in a turn-based phase that is one seat, in a simultaneous phase
(votes, warrior submissions) it is everyone. Idle seats' actions are ignored, and their
``infos[agent]["acting"]`` is ``False``. Every acting seat's reply of a step is judged
before the step's outcome is decided: seats that run out of invalid moves in the same
simultaneous step forfeit together (see ``core.episode``), never seat 0 alone.
"""

from __future__ import annotations

from typing import Any

from pettingzoo import ParallelEnv

from selfplay_envs.core.adapter import AdapterBase

__all__ = ["ParallelGameEnv"]

StepResult = tuple[
    dict[str, Any],
    dict[str, float],
    dict[str, bool],
    dict[str, bool],
    dict[str, dict[str, Any]],
]


class ParallelGameEnv(AdapterBase, ParallelEnv):
    """A PettingZoo Parallel env over any ``Game``; arguments as ``AdapterBase``."""

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """Start a new episode; returns observations and infos of every agent."""
        del options  # No reset options.
        self._new_episode(seed)
        return self._observations(), self._infos()

    def step(self, actions: dict[str, Any]) -> StepResult:
        """Apply the acting seats' moves; idle seats' entries are ignored."""
        episode = self._require_episode()
        index = self._index
        episode.submit_step(
            {index[a]: move for a, move in actions.items() if a in index}
        )
        observations, infos = self._observations(), self._infos()
        returns = episode.returns()
        rewards = {
            a: (returns[self._index[a]] if episode.done else 0.0) for a in self.agents
        }
        terminations = {a: episode.terminal for a in self.agents}
        truncations = {
            a: episode.truncated and not episode.terminal for a in self.agents
        }
        if episode.done:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def _observations(self) -> dict[str, Any]:
        return {a: self._observe(self._index[a]) for a in self.agents}

    def _infos(self) -> dict[str, dict[str, Any]]:
        return {a: self._info(self._index[a]) for a in self.agents}
