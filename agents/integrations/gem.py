"""GEM glue: our games as registered GEM envs, ``gem.make("selfplay:<env_id>")``.

Importing this module registers ``selfplay:<env_id>`` for every game of
``selfplay_envs.list_envs()`` (``register_all`` registers games added later). A GEM env
is single-agent: the model plays ``seat``, every other seat is the fixed opponent
``opponent`` (``selfplay_agents.opponents.make_opponent``), played between the model's
turns. ``reset(seed)`` returns ``(prompt, info)``; ``step(text)`` returns ``(prompt,
reward, terminated, truncated, info)``, the reward being the seat's reward from our env.
Text the game cannot parse is an invalid move under the env's invalid-move policy
(``info["invalid_move"]``, ``info["reason"]``), never an exception.

Requires ``gem-llm`` (the ``gem`` extra; tested with 0.1.0).
"""

from __future__ import annotations

from typing import Any

from selfplay_envs.core.errors import DependencyNotInstalled

try:
    import gem
    from gem.envs.registration import ENV_REGISTRY
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise DependencyNotInstalled.for_extra("gem-llm", "gem") from e

import selfplay_envs
from selfplay_agents.integrations.seat import OpponentSeat

__all__ = ["PREFIX", "SelfplayGemEnv", "register_all"]

PREFIX = "selfplay:"


class SelfplayGemEnv(gem.Env):
    """``env_id``'s seat ``seat`` against ``opponent``, with GEM's ``reset``/``step``.

    Args:
        game: One of ``selfplay_envs.list_envs()`` (set by the registration).
        seat: The model's agent or its index.
        opponent: A name ``make_opponent`` knows for the game.
        **config: The game's parameters and ``make`` options.
    """

    def __init__(
        self,
        game: str,
        seat: str | int = "player_0",
        opponent: str = "random",
        **config: Any,
    ):
        super().__init__()
        self.game_id = game
        self.seat = OpponentSeat(game, seat=seat, opponent=opponent, **config)

    def reset(self, seed: int | None = None) -> tuple[str, dict[str, Any]]:
        """Start a game; the model's first prompt and our env's infos for its seat."""
        super().reset(seed)
        prompt = self.seat.reset(seed)
        return prompt, dict(self.seat.info)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Play the model's text; the opponents reply until its next turn."""
        step = self.seat.play(action)
        info = dict(self.seat.info)
        info.update(invalid_move=not step.valid, reason=step.reason)
        if step.done:
            info.update(outcome=self.seat.outcome, returns=self.seat.returns)
        terminated = step.done and not step.truncated
        return step.prompt, step.reward, terminated, step.truncated, info


def register_all() -> list[str]:
    """Register ``selfplay:<env_id>`` for every game not registered yet; the new ids."""
    added = []
    for env_id in selfplay_envs.list_envs():
        gem_id = PREFIX + env_id
        if gem_id not in ENV_REGISTRY:
            gem.register(gem_id, SelfplayGemEnv, game=env_id)
            added.append(gem_id)
    return added


register_all()
