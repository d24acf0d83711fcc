"""Fixed opponents for every game, by env id and name.

``make_opponent(env_id, name, seed=...)`` builds one. Each game declares its scripted
opponents in its own folder, as ``Game.opponents``: name -> ``"module:factory"``
import-path strings, so that a game never imports ``agents`` and nothing heavy imports
until it is used. The table here is built from the registered games' declarations
(built-in games and those of installed packages, through the ``selfplay_envs.games``
entry points), on first use of each game. A factory takes ``seed`` (and optional game
config) and returns a ``Policy``.

Every game with a finite action set can also be played by the built-in ``BASELINES``
(``random``, ``first_legal``), whether or not it declares them.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator, Mapping
from typing import Any

from selfplay_agents.policy import Policy

__all__ = [
    "BASELINES",
    "OPPONENTS",
    "baselines",
    "list_opponents",
    "make_opponent",
    "opponent_table",
]

# Baselines any game with a finite action set can play (``info["legal_actions"]`` in
# the text view, the observation's ``action_mask`` in the numeric view).
BASELINES: dict[str, str] = {
    "random": "selfplay_agents.policy:RandomPolicy",
    "first_legal": "selfplay_agents.policy:FirstLegalPolicy",
}

# (env id, the game's entry point) -> its table: a game registered again elsewhere
# (``register(..., override=True)``) is read again.
_TABLES: dict[tuple[str, str], dict[str, str]] = {}


def opponent_table(env_id: str) -> dict[str, str]:
    """The opponents ``env_id`` declares, name -> ``"module:factory"``.

    Reads ``Game.opponents`` of the registered game class (imported, not built);
    an unknown env id has none. A declaration that is not a mapping of names to
    ``"module:attr"`` strings raises ``TypeError`` naming the game.
    """
    import selfplay_envs

    if env_id not in selfplay_envs.list_envs():
        return {}
    env_spec = selfplay_envs.spec(env_id)
    key = (env_id, env_spec.entry_point)
    if key not in _TABLES:
        game_class = env_spec.load()
        declared = getattr(game_class, "opponents", None) or {}
        if not isinstance(declared, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and ":" in v
            for k, v in declared.items()
        ):
            raise TypeError(
                f"expected {game_class.__qualname__}.opponents of {env_id} to map "
                f"names to 'module:factory' strings, got {declared!r}"
            )
        _TABLES[key] = dict(declared)
    return _TABLES[key]


class _Opponents(Mapping[str, Mapping[str, str]]):
    """``OPPONENTS[env_id]``: the declared table of each registered game, read lazily."""

    def __getitem__(self, env_id: str) -> Mapping[str, str]:
        import selfplay_envs

        if env_id not in selfplay_envs.list_envs():
            raise KeyError(env_id)
        return opponent_table(env_id)

    def __iter__(self) -> Iterator[str]:
        import selfplay_envs

        return iter(selfplay_envs.list_envs())

    def __len__(self) -> int:
        import selfplay_envs

        return len(selfplay_envs.list_envs())


#: env id -> opponent name -> "module:factory", from the games' declarations.
OPPONENTS: Mapping[str, Mapping[str, str]] = _Opponents()


def list_opponents(env_id: str) -> list[str]:
    """Names of the fixed opponents ``env_id`` declares (what bench plays by default)."""
    return sorted(opponent_table(env_id))


def baselines(env_id: str, **config: Any) -> list[str]:
    """The built-in ``BASELINES`` that can play ``env_id`` in this configuration:
    all of them when the game has a finite action set, none otherwise."""
    import selfplay_envs

    if selfplay_envs.make_game(env_id, **config).info.num_actions is None:
        return []
    return list(BASELINES)


def make_opponent(
    env_id: str, name: str, *, seed: int | None = None, **config: Any
) -> Policy:
    """Build the opponent ``name`` of ``env_id``; ``config`` is the game's config.

    ``name`` is one the game declares or, when it declares no such name, a built-in
    baseline (``BASELINES``).
    """
    import selfplay_envs

    selfplay_envs.spec(env_id)  # an unknown id raises, with the closest matches
    table = {**BASELINES, **opponent_table(env_id)}
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
