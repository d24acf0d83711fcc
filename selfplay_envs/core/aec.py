"""The one generic adapter from a ``Game`` to a PettingZoo ``AECEnv``."""

from __future__ import annotations

from typing import Any

from pettingzoo import AECEnv

from selfplay_envs.core.adapter import AdapterBase
from selfplay_envs.core.errors import ResetNeeded

__all__ = ["GameEnv"]


class GameEnv(AdapterBase, AECEnv):
    """A PettingZoo AEC env over any ``Game``; arguments as ``AdapterBase``.

    ``step`` runs a fixed pipeline: the episode handles the move (parse, invalid-move
    policy, apply), then rewards, terminations and the next agent are derived from it.
    Games never touch PettingZoo's bookkeeping.

    ``infos`` is built on first read after each step, and ``last()`` builds only the
    selected agent's entry: a loop that reads one agent's info per step pays for one.
    The entries are the same objects either way.
    """

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a new episode; a seed fully determines it."""
        del options  # No reset options.
        self._new_episode(seed)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self._forget_infos()
        self._choose_next_agent()

    @property
    def infos(self) -> dict[str, dict[str, Any]]:
        """``infos[agent]`` for every live agent, as of the last step."""
        if not self._infos_complete:
            for agent in self.agents:
                self._agent_info(agent)
            self._infos_complete = True
        return self._infos

    @infos.setter
    def infos(self, value: dict[str, dict[str, Any]]) -> None:
        self._infos = value
        self._infos_complete = True

    def last(
        self, observe: bool = True
    ) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Observation, cumulative reward, termination, truncation and info of the
        selected agent (as ``AECEnv.last``, building only that agent's info)."""
        agent = self.agent_selection
        observation = None
        if observe:  # self.observe(agent), one call fewer: this runs every step
            if self.episode is None:
                raise ResetNeeded("expected reset() before last(), got a fresh env")
            observation = self._observe(self._index[agent])
        return (
            observation,
            self._cumulative_rewards[agent],
            self.terminations[agent],
            self.truncations[agent],
            self._agent_info(agent),
        )

    def observe(self, agent: str) -> dict[str, Any]:
        """The observation of ``agent`` now, from its own side."""
        if self.episode is None:
            raise ResetNeeded("expected reset() before observe(), got a fresh env")
        return self._observe(self._index[agent])

    def step(self, action: Any) -> None:
        """Play ``action`` for ``agent_selection``: model text or a numeric index."""
        episode = self.episode
        if episode is None:
            raise ResetNeeded(
                "expected reset() before step(), got a call on a fresh env"
            )
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self._cumulative_rewards[agent] = 0.0
        episode.submit(self._index[agent], action)
        self._infos = {}
        self._infos_complete = False
        # Returns are zero until the episode ends, so rewards, terminations and
        # truncations only change then.
        if episode.done:
            self._finish()
        acting = episode.acting()
        if acting:  # _choose_next_agent's common case, one call fewer: every step
            self.agent_selection = self.possible_agents[acting[0]]
        else:
            self._choose_next_agent()
        if self.render_mode == "human":
            self.render()

    def _finish(self) -> None:
        episode = self._require_episode()
        returns = episode.returns()
        terminated = episode.terminal
        truncated = episode.truncated and not terminated
        for agent in self.agents:
            self.rewards[agent] = returns[self._index[agent]]
            self.terminations[agent] = terminated
            self.truncations[agent] = truncated
        self._accumulate_rewards()

    def _forget_infos(self) -> None:
        self._infos: dict[str, dict[str, Any]] = {}
        self._infos_complete = False

    def _agent_info(self, agent: str) -> dict[str, Any]:
        info = self._infos.get(agent)
        if info is None:
            info = self._infos[agent] = self._info(self._index[agent])
        return info

    def _choose_next_agent(self) -> None:
        acting = self.episode.acting()
        if acting:
            self.agent_selection = self.possible_agents[acting[0]]
        elif self.agents:
            # Game over: PettingZoo then steps each agent with None to remove it.
            self.agent_selection = self.agents[0]
