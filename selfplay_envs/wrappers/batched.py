"""N games stepped together: the env the batch-inference adapter drives.

Each game has one acting seat at a time (simultaneous phases are taken seat by seat, as
in the AEC form, and no seat sees another's pending move). ``step`` takes one action per
game for its acting seat: an int array in the numeric view, a list of strings in the
text view. Games that end are reset at once (auto-reset); their final returns arrive in
``rewards`` and their final infos in ``infos[i]["final_info"]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from selfplay_envs.core.episode import Episode, InvalidMovePolicy, View
from selfplay_envs.core.registry import make_game
from selfplay_envs.core.seeding import np_random

__all__ = ["BatchedEnv", "BatchStep"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class BatchStep:
    """What ``BatchedEnv.step`` returns.

    Attributes:
        observations: The next acting seat's observation of each game: a dict of
            stacked arrays (numeric view) or a list of observation dicts (text view).
        rewards: ``(num_envs, num_players)`` rewards earned by every seat on this step.
        terminated: Games that ended by their rules on this step (then auto-reset).
        truncated: Games cut off by the attempt limit on this step (then auto-reset).
        infos: Infos of each game's next acting seat; ``final_info`` after an end.
        acting: Seat index that acts next in each game.
    """

    observations: Any
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    infos: list[dict[str, Any]]
    acting: np.ndarray


class BatchedEnv:
    """Hold ``num_envs`` games of ``env_id`` and step their acting seats together.

    Args:
        env_id: A registered env id.
        num_envs: Games held at once.
        view: ``"text"`` or ``"numeric"``.
        invalid_move: The invalid-move policy of every game.
        **config: Game parameters.
    """

    def __init__(
        self,
        env_id: str,
        num_envs: int,
        *,
        view: str | View = View.TEXT,
        invalid_move: InvalidMovePolicy | None = None,
        max_attempts: int | None = None,
        **config: Any,
    ):
        if num_envs < 1:
            raise ValueError(f"expected num_envs >= 1, got {num_envs}")
        self.env_id = env_id
        self.num_envs = num_envs
        self.view = View(view)
        self.game = make_game(env_id, **config)
        self.invalid_move = invalid_move or InvalidMovePolicy()
        self.num_players = self.game.info.num_players
        self.agents = [self.game.agent_name(p) for p in range(self.num_players)]
        self.max_attempts = max_attempts or self.game.info.max_game_length * (
            self.invalid_move.max_retries + 2
        )
        self.episodes: list[Episode] = []
        self._rngs: list[np.random.Generator] = []
        self.episode_counts = np.zeros(num_envs, dtype=np.int64)

    # ---- lifecycle ------------------------------------------------------------------

    def reset(self, seed: int | None = None) -> tuple[Any, list[dict[str, Any]]]:
        """Start every game; game i is seeded with ``seed + i``."""
        self._rngs = [
            np_random(None if seed is None else seed + i) for i in range(self.num_envs)
        ]
        self.episodes = [self._new_episode(i) for i in range(self.num_envs)]
        acting = self.acting
        infos = [ep.info(int(p)) for ep, p in zip(self.episodes, acting)]
        return self._observations(acting), infos

    def _new_episode(self, i: int) -> Episode:
        state = self.game.new_initial_state(self._rngs[i])
        return Episode(
            self.game, state, self._rngs[i], self.view, self.invalid_move, self.max_attempts
        )

    @property
    def acting(self) -> np.ndarray:
        """The seat that acts next in each game."""
        return np.array([ep.acting()[0] for ep in self.episodes], dtype=np.int64)

    def step(self, actions: Sequence[Any] | np.ndarray) -> BatchStep:
        """Play one action per game for its acting seat; auto-reset finished games."""
        if len(actions) != self.num_envs:
            raise ValueError(f"expected {self.num_envs} actions, got {len(actions)}")
        rewards = np.zeros((self.num_envs, self.num_players), dtype=np.float32)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        final_infos: dict[int, list[dict[str, Any]]] = {}
        for i, (episode, action) in enumerate(zip(self.episodes, actions)):
            episode.submit(episode.acting()[0], action)
            if episode.done:
                rewards[i] = episode.returns()
                terminated[i] = episode.terminal
                truncated[i] = not episode.terminal
                final_infos[i] = [episode.info(p) for p in range(self.num_players)]
                self.episode_counts[i] += 1
                self.episodes[i] = self._new_episode(i)
        acting = self.acting
        infos = [ep.info(int(p)) for ep, p in zip(self.episodes, acting)]
        for i, finals in final_infos.items():
            infos[i]["final_info"] = dict(zip(self.agents, finals))
        return BatchStep(
            observations=self._observations(acting),
            rewards=rewards,
            terminated=terminated,
            truncated=truncated,
            infos=infos,
            acting=acting,
        )

    def _observations(self, acting: np.ndarray) -> Any:
        observations = [ep.observe(int(p)) for ep, p in zip(self.episodes, acting)]
        if self.view is View.TEXT:
            return observations
        return {
            key: np.stack([obs[key] for obs in observations])
            for key in ("observation", "action_mask")
        }
