"""Turning agent specifications into policies.

A spec is one of:

* a fixed opponent name of the game, e.g. ``"minimax"`` or ``"random"``, or a built-in
  baseline (``"random"``, ``"first_legal"``) of a game with a finite action set;
* ``"module:object"``: a ``Policy`` instance, or a factory called with ``seed=``;
* ``"llm:BACKEND:MODEL"``: an ``LLMPolicy`` on that inference backend, e.g.
  ``"llm:transformers:/models/qwen"`` or ``"llm:openai:http://127.0.0.1:8000/v1#model"``.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from selfplay_agents.opponents import (
    BASELINES,
    baselines,
    list_opponents,
    make_opponent,
)
from selfplay_agents.policy import Policy, policy_from_callable

__all__ = ["build_policy", "supports"]

_LLM_CACHE: dict[str, Policy] = {}


def supports(spec: str, env_id: str) -> bool:
    """Whether ``spec`` can play ``env_id``: the game declares it (fixed opponents
    exist per game), or it is a built-in baseline and the game has a finite action
    set, or it is an LLM or an import path."""
    if spec.startswith("llm:") or ":" in spec:
        return True
    if spec in list_opponents(env_id):
        return True
    if spec in BASELINES:
        try:
            return spec in baselines(env_id)
        except Exception:  # noqa: BLE001 - a game that cannot be built plays nothing
            return False
    return False


def build_policy(
    spec: str, env_id: str, *, seed: int, config: dict[str, Any]
) -> Policy:
    """A fresh, seeded policy for one game; LLM policies are built once per process."""
    if spec.startswith("llm:"):
        if spec not in _LLM_CACHE:
            _LLM_CACHE[spec] = _llm_policy(spec)
        return _LLM_CACHE[spec]
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        obj = getattr(importlib.import_module(module_name), attr)
        if not isinstance(obj, type) and isinstance(obj, Policy):
            return obj  # an instance (a class also has .name and .act)
        if _is_factory(obj):
            return policy_from_callable(obj(seed=seed))
        return policy_from_callable(obj)  # a plain f(observation, info) -> action
    return make_opponent(env_id, spec, seed=seed, **config)


def _is_factory(obj: Any) -> bool:
    if isinstance(obj, type):
        return True
    try:
        return "seed" in inspect.signature(obj).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


def _llm_policy(spec: str) -> Policy:
    _, backend, model = spec.split(":", 2)
    from selfplay_agents import (
        llm,  # heavy: torch/transformers load only for LLM agents
    )

    return llm.policy_from_spec(backend, model)
