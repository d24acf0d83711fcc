"""Fixed opponents for every game, by env id and name.

``make_opponent(env_id, name, seed=...)`` builds one. Each game registers its opponents
below as ``"module:factory"`` strings so that nothing heavy imports until it is used.
A factory takes ``seed`` (and optional game config) and returns a ``Policy``.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from agents.policy import Policy

__all__ = ["OPPONENTS", "make_opponent", "list_opponents"]

# env id -> opponent name -> "module:factory"
OPPONENTS: dict[str, dict[str, str]] = {
    "tic_tac_toe_v0": {
        "random": "agents.policy:RandomPolicy",
        "minimax": "agents.opponents.tic_tac_toe:minimax",
    },
    "kuhn_poker_v0": {
        "random": "agents.policy:RandomPolicy",
        "nash": "agents.opponents.kuhn_poker:nash",
        "cfr": "agents.opponents.kuhn_poker:cfr",
    },
    "negotiation_v0": {
        "random": "agents.opponents.negotiation:RandomNegotiator",
        "greedy": "agents.opponents.negotiation:GreedyNegotiator",
        "stubborn": "agents.opponents.negotiation:StubbornNegotiator",
    },
    "who_is_the_spy_v0": {
        "random": "agents.opponents.who_is_the_spy:RandomSpyPlayer",
        "scripted": "agents.opponents.who_is_the_spy:ScriptedSpyPlayer",
    },
    "core_war_v0": {
        "random": "agents.opponents.core_war:RandomWarrior",
        "pool": "agents.opponents.core_war:WarriorPool",
        "imp": "agents.opponents.core_war:imp",
        "dwarf": "agents.opponents.core_war:dwarf",
    },
    "search_qa_v0": {
        "random": "agents.opponents.search_qa:RandomSearchQA",
        "scripted": "agents.opponents.search_qa:ScriptedSearchQA",
    },
    "bug_repair_v0": {
        "random": "agents.opponents.bug_repair:random_player",
        "mutation_injector": "agents.opponents.bug_repair:mutation_injector",
        "patch_search_solver": "agents.opponents.bug_repair:patch_search_solver",
        "scripted": "agents.opponents.bug_repair:scripted",
    },
}


def list_opponents(env_id: str) -> list[str]:
    """Names of the fixed opponents of ``env_id``."""
    return sorted(OPPONENTS.get(env_id, {}))


def make_opponent(
    env_id: str, name: str, *, seed: int | None = None, **config: Any
) -> Policy:
    """Build the opponent ``name`` of ``env_id``; ``config`` is the game's config."""
    table = OPPONENTS.get(env_id, {})
    if name not in table:
        raise KeyError(
            f"expected an opponent in {sorted(table)} for {env_id}, got {name!r}"
        )
    module_name, _, attr = table[name].partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    # Most opponents need only the seed; pass the game config to those that take it.
    accepted = inspect.signature(factory).parameters
    kwargs = {k: v for k, v in config.items() if k in accepted}
    return factory(seed=seed, **kwargs)
