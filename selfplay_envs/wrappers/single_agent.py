"""A single-agent Gymnasium env: one seat of a game against fixed opponent policies.

The opponents are anything with ``act(turns) -> actions`` (an ``agents`` policy) or a
plain callable ``f(observation, info) -> action``. ``selfplay_envs`` does not import
``agents``: the wrapper only relies on that duck type, and builds the small ``turn``
record itself.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

import gymnasium

from selfplay_envs.core.aec import GameEnv
from selfplay_envs.core.registry import make

__all__ = ["SingleAgentEnv"]

Opponent = Any  # an agents.Policy, or a callable (observation, info) -> action


class SingleAgentEnv(gymnasium.Env):
    """Play ``agent``'s seat of ``env_id``; every other seat is a fixed opponent.

    Args:
        env_id: A registered env id, or an already built ``GameEnv``.
        opponents: One opponent for every other seat, or a mapping agent -> opponent.
        agent: The learner's seat.
        view: ``"text"`` or ``"numeric"``.
        **config: Game parameters and ``make`` options.
    """

    metadata = {"render_modes": ["ansi", "human"]}

    def __init__(
        self,
        env_id: str | GameEnv,
        opponents: Opponent | Mapping[str, Opponent],
        *,
        agent: str = "player_0",
        view: str = "numeric",
        render_mode: str | None = None,
        **config: Any,
    ):
        self.env = (
            env_id
            if isinstance(env_id, GameEnv)
            # Full infos: the scripted opponents read the board, cards or offers there.
            else make(
                env_id,
                view=view,
                render_mode=render_mode,
                **{"infos": "full", **config},
            )
        )
        if agent not in self.env.possible_agents:
            raise ValueError(
                f"expected agent in {self.env.possible_agents}, got {agent!r}"
            )
        self.agent = agent
        self.render_mode = self.env.render_mode
        others = [a for a in self.env.possible_agents if a != agent]
        if isinstance(opponents, Mapping):
            missing = set(others) - set(opponents)
            if missing:
                raise ValueError(
                    f"expected an opponent for {sorted(missing)}, got none"
                )
            self.opponents = dict(opponents)
        else:
            self.opponents = dict.fromkeys(others, opponents)
        self.observation_space = self.env.observation_space(agent)
        self.action_space = self.env.action_space(agent)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the game and play the opponents until the learner must act."""
        super().reset(seed=seed)
        self.env.reset(seed=seed, options=options)
        for offset, opponent in enumerate(self.opponents.values()):
            if seed is not None and hasattr(opponent, "reset"):
                opponent.reset(seed=seed + 1 + offset)
        self._reward = 0.0
        self._play_opponents()
        observation, _, _, _, info = self._last()
        return observation, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Play the learner's move, then the opponents' until the learner acts again."""
        self._reward = 0.0
        self.env.step(action)
        self._collect_reward()
        self._play_opponents()
        observation, _, terminated, truncated, info = self._last()
        return observation, self._reward, terminated, truncated, info

    def _last(self) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        env = self.env
        terminated = env.terminations.get(self.agent, True)
        truncated = env.truncations.get(self.agent, False)
        info = env.infos.get(self.agent, {})
        return env.observe(self.agent), 0.0, terminated, truncated, info

    def _play_opponents(self) -> None:
        env = self.env
        while env.agents and env.agent_selection != self.agent:
            current = env.agent_selection
            if env.terminations[current] or env.truncations[current]:
                env.step(None)
            else:
                env.step(self._opponent_action(current))
            self._collect_reward()
        if env.agents and (env.terminations[self.agent] or env.truncations[self.agent]):
            # The game is over for the learner too; nothing more to play.
            return

    def _collect_reward(self) -> None:
        self._reward += float(self.env.rewards.get(self.agent, 0.0))

    def _opponent_action(self, agent: str) -> Any:
        opponent = self.opponents[agent]
        observation = self.env.observe(agent)
        info = self.env.infos[agent]
        if hasattr(opponent, "act"):
            turn = types.SimpleNamespace(
                env_id=self.env.metadata["name"],
                agent=agent,
                observation=observation,
                info=info,
                view=self.env.view.value,
                game_index=0,
            )
            return opponent.act([turn])[0]
        if callable(opponent):
            return opponent(observation, info)
        raise TypeError(
            f"expected a policy with act() or a callable, got {type(opponent).__name__}"
        )

    def render(self) -> str | None:
        """Render the underlying game."""
        return self.env.render()
