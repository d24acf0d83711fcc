"""RLlib glue: our AEC env as an RLlib ``MultiAgentEnv``, and a PPO module with masks.

RLlib's ``PettingZooEnv`` wraps our AEC env as it is. Its action-masking example module
expects the observation under ``"observations"``; PettingZoo's classic envs, and ours,
use ``"observation"``. ``MaskedPPOTorchRLModule`` is RLlib's default PPO module run on
``obs["observation"]`` with illegal actions' logits pushed to the float minimum.

    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    spec = RLModuleSpec(module_class=MaskedPPOTorchRLModule)

Requires ``ray[rllib]`` (the ``ray`` extra) and torch.
"""

from __future__ import annotations

from typing import Any

from selfplay_envs.core.errors import DependencyNotInstalled

try:
    import torch
    from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import (
        DefaultPPOTorchRLModule,
    )
    from ray.rllib.core.columns import Columns
    from ray.rllib.env.wrappers.pettingzoo_env import PettingZooEnv
    from ray.rllib.utils.torch_utils import FLOAT_MIN
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise DependencyNotInstalled.for_extra("ray[rllib] and torch", "ray") from e

import selfplay_envs

__all__ = ["MaskedPPOTorchRLModule", "rllib_env"]


def rllib_env(config: dict[str, Any] | None = None) -> PettingZooEnv:
    """An RLlib env creator: ``config`` holds ``env_id`` and the game's parameters.

    Register it with ``ray.tune.registry.register_env("kuhn", rllib_env)`` and pass
    ``{"env_id": "kuhn_poker_v0"}`` as ``env_config``. Always the numeric view.
    """
    config = dict(config or {})
    env_id = config.pop("env_id")
    return PettingZooEnv(selfplay_envs.make(env_id, view="numeric", **config))


class MaskedPPOTorchRLModule(DefaultPPOTorchRLModule):
    """RLlib's default PPO module over ``obs["observation"]``, masked by ``obs["action_mask"]``."""

    def __init__(self, *, observation_space: Any = None, **kwargs: Any):
        self._observation_space_with_mask = observation_space
        super().__init__(observation_space=observation_space["observation"], **kwargs)

    def setup(self) -> None:
        """Build the default networks for the unmasked observation, then keep the Dict."""
        super().setup()
        self.observation_space = self._observation_space_with_mask

    def _forward_inference(
        self, batch: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any]:
        mask, batch = _split(batch)
        return _masked(super()._forward_inference(batch, **kwargs), mask)

    def _forward_exploration(
        self, batch: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any]:
        mask, batch = _split(batch)
        return _masked(super()._forward_exploration(batch, **kwargs), mask)

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        mask, batch = _split(batch)
        return _masked(super()._forward_train(batch, **kwargs), mask)

    def compute_values(self, batch: dict[str, Any], embeddings: Any = None) -> Any:
        """Values from the observation alone; the mask plays no part."""
        if isinstance(batch[Columns.OBS], dict):
            batch = {**batch, Columns.OBS: batch[Columns.OBS]["observation"]}
        return super().compute_values(batch, embeddings)


def _split(batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The action mask, and the batch with only the observation tensor as ``obs``."""
    observation = batch[Columns.OBS]
    if not isinstance(observation, dict):
        raise ValueError(
            "expected a Dict observation with 'observation' and 'action_mask', "
            f"got {type(observation).__name__}"
        )
    return observation["action_mask"], {
        **batch,
        Columns.OBS: observation["observation"],
    }


def _masked(outputs: dict[str, Any], mask: Any) -> dict[str, Any]:
    # log(0) = -inf, clamped so that an all-zero mask (a finished game) stays finite.
    inf_mask = torch.clamp(torch.log(mask.float()), min=FLOAT_MIN)
    outputs[Columns.ACTION_DIST_INPUTS] = outputs[Columns.ACTION_DIST_INPUTS] + inf_mask
    return outputs
