"""Fixed-shape numeric infos, for MARL libraries that turn infos into tensors.

Our ``infos[agent]`` carry what an LLM trainer needs: the role as text, the legal moves
as text, the last move as a dict, and at the end the outcome and the episode record.
PettingZoo allows any info, but TorchRL's ``PettingZooWrapper`` builds a tensor spec
from the first infos (every value goes through ``torch.as_tensor``, so a string fails),
and Tianshou's replay buffer pre-allocates arrays from the first infos (a list of legal
moves that shrinks each turn breaks it). Both need infos whose keys and shapes never
change. ``numeric_infos`` keeps only such entries; observations (with their
``action_mask``) and rewards are untouched.

The numeric view now does this itself: ``make(id, view="numeric")`` keeps only
``NUMERIC_INFO_KEYS`` unless asked for ``infos="full"``, so the libraries' own code
runs on the plain env. This wrapper stays for envs made with ``infos="full"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.wrappers import BaseParallelWrapper, BaseWrapper

# The entries make(view="numeric") keeps by default (infos="numeric").
from selfplay_envs.core.adapter import NUMERIC_INFO_KEYS

__all__ = ["NUMERIC_INFO_KEYS", "NumericInfos", "NumericInfosParallel", "numeric_infos"]


def _filter(infos: dict[str, dict[str, Any]], keys: Sequence[str]) -> dict[str, dict]:
    return {
        agent: {key: info[key] for key in keys if key in info}
        for agent, info in infos.items()
    }


class NumericInfos(BaseWrapper):
    """An AEC env whose ``infos`` hold only ``keys``.

    Args:
        env: A numeric-view AEC env, e.g. ``selfplay_envs.make(id, view="numeric")``.
        keys: Info entries to keep; each must have a fixed shape in every step.
    """

    def __init__(self, env: AECEnv, keys: Sequence[str] = NUMERIC_INFO_KEYS):
        super().__init__(env)
        self.keys = tuple(keys)

    @property
    def infos(self) -> dict[str, dict[str, Any]]:
        """The wrapped env's infos, restricted to ``keys``."""
        return _filter(self.env.infos, self.keys)


class NumericInfosParallel(BaseParallelWrapper):
    """A Parallel env whose returned infos hold only ``keys``; arguments as above."""

    def __init__(self, env: ParallelEnv, keys: Sequence[str] = NUMERIC_INFO_KEYS):
        super().__init__(env)
        self.keys = tuple(keys)

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        """Reset; infos restricted to ``keys``."""
        observations, infos = self.env.reset(seed=seed, options=options)
        return observations, _filter(infos, self.keys)

    def step(self, actions: dict[str, Any]):
        """Step; infos restricted to ``keys``."""
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        return (
            observations,
            rewards,
            terminations,
            truncations,
            _filter(infos, self.keys),
        )


def numeric_infos(
    env: AECEnv | ParallelEnv, keys: Sequence[str] = NUMERIC_INFO_KEYS
) -> NumericInfos | NumericInfosParallel:
    """Wrap an AEC or Parallel env so that its infos keep only fixed-shape ``keys``."""
    if isinstance(env, AECEnv):
        return NumericInfos(env, keys)
    if isinstance(env, ParallelEnv):
        return NumericInfosParallel(env, keys)
    raise TypeError(
        f"expected a PettingZoo AECEnv or ParallelEnv, got {type(env).__name__}"
    )
