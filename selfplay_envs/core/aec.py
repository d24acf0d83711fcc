"""The one generic adapter from a ``Game`` to a PettingZoo ``AECEnv``."""

from __future__ import annotations

from typing import Any

from pettingzoo import AECEnv

from selfplay_envs.core.adapter import AdapterBase

__all__ = ["GameEnv"]


class GameEnv(AdapterBase, AECEnv):
    """A PettingZoo AEC env over any ``Game``; arguments as ``AdapterBase``.

    ``step`` runs a fixed pipeline: the episode handles the move (parse, invalid-move
    policy, apply), then rewards, terminations, infos and the next agent are derived
    from it. Games never touch PettingZoo's bookkeeping.
    """

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a new episode; a seed fully determines it."""
        del options  # No reset options.
        self._new_episode(seed)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self._update_infos()
        self._choose_next_agent()

    def observe(self, agent: str) -> dict[str, Any]:
        """The observation of ``agent`` now, from its own side."""
        return self._require_episode().observe(self._index[agent])

    def step(self, action: Any) -> None:
        """Play ``action`` for ``agent_selection``: model text or a numeric index."""
        episode = self._require_episode()
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self._cumulative_rewards[agent] = 0.0
        episode.submit(self._index[agent], action)
        self._update_rewards()
        self._update_terminations()
        self._update_infos()
        self._choose_next_agent()
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()

    def _update_rewards(self) -> None:
        episode = self._require_episode()
        returns = episode.returns() if episode.done else None
        self.rewards = {
            a: (returns[self._index[a]] if returns else 0.0) for a in self.agents
        }

    def _update_terminations(self) -> None:
        episode = self._require_episode()
        for agent in self.agents:
            self.terminations[agent] = episode.terminal
            self.truncations[agent] = episode.truncated and not episode.terminal

    def _update_infos(self) -> None:
        episode = self._require_episode()
        self.infos = {a: episode.info(self._index[a]) for a in self.agents}

    def _choose_next_agent(self) -> None:
        acting = self._require_episode().acting()
        if acting:
            self.agent_selection = self.possible_agents[acting[0]]
        elif self.agents:
            # Game over: PettingZoo then steps each agent with None to remove it.
            self.agent_selection = self.agents[0]
