"""RLlib glue: our numeric-view games as registered RLlib envs, in RLlib's own keys.

Importing this module registers every game with ``ray.tune.registry`` as
``"selfplay/<env_id>"`` (the names PettingZoo's registry uses), so that
``PPOConfig().environment("selfplay/tic_tac_toe_v0")`` finds it. The env is RLlib's
``PettingZooEnv`` around ``selfplay_envs.make(env_id, view="numeric")``, with each
observation given as RLlib's action-masking example expects it:
``{"observations": <flat float32 vector>, "action_mask": <0/1 vector>}``. PettingZoo
(and the plain env) use ``"observation"``; RLlib's ``ActionMaskingTorchRLModule`` reads
``"observations"``, and RLlib's default encoders build an MLP only for a 1-D Box, hence
the flattening (tic-tac-toe's board is ``(3, 3, 2)``). RLlib's own module then runs
unchanged; it is re-exported here under its own name::

    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import (
        ActionMaskingTorchRLModule,
    )

Requires ``ray[rllib]`` (the ``ray`` extra) and torch. docs/integrations/rllib.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from selfplay_envs.core.errors import ConfigError, DependencyNotInstalled

try:
    import gymnasium as gym
    from pettingzoo import AECEnv
    from pettingzoo.utils.wrappers import BaseWrapper
    from ray.rllib.env.wrappers.pettingzoo_env import PettingZooEnv
    from ray.rllib.examples.rl_modules.classes.action_masking_rlm import (
        ActionMaskingTorchRLModule,
    )
    from ray.tune.registry import register_env
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise DependencyNotInstalled.for_extra("ray[rllib] and torch", "ray") from e

import selfplay_envs

__all__ = [
    "ENV_PREFIX",
    "ActionMaskingTorchRLModule",
    "RLlibObservations",
    "register_envs",
    "rllib_env",
    "rllib_observation",
]

# The names registered with ray.tune: ENV_PREFIX + env id, as in PettingZoo's registry.
ENV_PREFIX = "selfplay/"


def rllib_observation(observation: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One numeric-view observation in RLlib's keys, the tensor flattened."""
    return {
        "observations": np.asarray(observation["observation"], np.float32).reshape(-1),
        "action_mask": observation["action_mask"],
    }


class RLlibObservations(BaseWrapper):
    """A numeric-view AEC env whose observations use RLlib's keys (``rllib_observation``).

    Args:
        env: An AEC env whose observation space is ``Dict(observation=Box,
            action_mask=Box)``, as ``selfplay_envs.make(id, view="numeric")`` gives.
    """

    def __init__(self, env: AECEnv):
        super().__init__(env)
        self._spaces: dict[str, gym.spaces.Dict] = {}

    def observation_space(self, agent: str) -> gym.spaces.Dict:
        """``Dict(observations=Box(flat), action_mask=Box)`` of ``agent``."""
        if agent not in self._spaces:
            space = self.env.observation_space(agent)
            box = space["observation"]
            self._spaces[agent] = gym.spaces.Dict(
                {
                    "observations": gym.spaces.Box(
                        box.low.reshape(-1).astype(np.float32),
                        box.high.reshape(-1).astype(np.float32),
                        dtype=np.float32,
                    ),
                    "action_mask": space["action_mask"],
                }
            )
        return self._spaces[agent]

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        """The wrapped env's observation of ``agent``, in RLlib's keys."""
        return rllib_observation(self.env.observe(agent))


def rllib_env(config: dict[str, Any] | None = None) -> PettingZooEnv:
    """An RLlib env creator: ``config`` (RLlib's ``env_config``) holds ``env_id`` and
    the game's parameters.

    ``register_env("ttt", rllib_env)`` with ``env_config={"env_id":
    "tic_tac_toe_v0"}`` is what the names registered at import (``selfplay/<env_id>``)
    do. Always the numeric view; parameters are checked by ``make`` (a bad one raises
    ``ConfigError`` naming it), and a text-only game is refused there too.
    """
    config = dict(config or {})
    if "env_id" not in config:
        raise ConfigError(
            "rllib_env() parameter env_id: expected a registered env id in "
            f"env_config (one of {selfplay_envs.list_envs()}), got none",
            param="env_id",
            expected="a registered env id",
        )
    env_id = config.pop("env_id")
    if config.get("view", "numeric") != "numeric":
        raise ConfigError(
            "rllib_env() parameter view: expected 'numeric' (RLlib needs a finite "
            f"action set), got {config['view']!r}",
            param="view",
            value=config["view"],
            expected="'numeric'",
        )
    config.pop("view", None)
    return PettingZooEnv(
        RLlibObservations(selfplay_envs.make(env_id, view="numeric", **config))
    )


class _Registered:
    """The creator registered as ``selfplay/<env_id>``: ``rllib_env`` with the id bound."""

    def __init__(self, env_id: str):
        self.env_id = env_id

    def __call__(self, config: dict[str, Any] | None = None) -> PettingZooEnv:
        config = dict(config or {})
        if config.setdefault("env_id", self.env_id) != self.env_id:
            raise ConfigError(
                f"{ENV_PREFIX}{self.env_id} parameter env_id: expected "
                f"{self.env_id!r} or none, got {config['env_id']!r}",
                param="env_id",
                value=config["env_id"],
                expected=repr(self.env_id),
            )
        return rllib_env(config)


def register_envs() -> list[str]:
    """Register ``selfplay/<env_id>`` with ``ray.tune`` for every game; the names.

    Runs on import; call it again after registering a game of your own. Registering
    builds nothing: a game without a numeric view is refused when RLlib makes it.
    """
    names = []
    for env_id in selfplay_envs.list_envs():
        register_env(ENV_PREFIX + env_id, _Registered(env_id))
        names.append(ENV_PREFIX + env_id)
    return names


register_envs()
