"""The registry of games: ids to lazily imported ``module:attr`` entry points.

Importing this module imports no game. ``make`` resolves the entry point on first use,
so optional dependencies of one game never load for another. Third-party packages add
games through the ``selfplay_envs.games`` entry-point group (name: env id, value:
``"package.module:GameClass"``).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from selfplay_envs.core.errors import UnknownEnvError

if TYPE_CHECKING:
    # Imported inside the functions that use them: the adapters pull in PettingZoo and
    # Gymnasium, which ``import selfplay_envs`` and ``list_envs()`` must not pay for.
    from selfplay_envs.core.aec import GameEnv
    from selfplay_envs.core.episode import InvalidMovePolicy, View
    from selfplay_envs.core.game import Game
    from selfplay_envs.core.parallel import ParallelGameEnv

__all__ = [
    "EnvSpec",
    "register",
    "make",
    "make_parallel",
    "make_game",
    "list_envs",
    "spec",
]

ENTRY_POINT_GROUP = "selfplay_envs.games"
PETTINGZOO_NAMESPACE = "selfplay"


@dataclasses.dataclass(frozen=True, kw_only=True)
class EnvSpec:
    """A registered game: where its ``Game`` class lives and its default kwargs."""

    id: str
    entry_point: str
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    description: str = ""

    def load(self) -> type[Game]:
        """Import and return the game class."""
        module_name, _, attr = self.entry_point.partition(":")
        return getattr(importlib.import_module(module_name), attr)


_REGISTRY: dict[str, EnvSpec] = {}
_entry_points_loaded = False


def register(
    env_id: str,
    entry_point: str,
    *,
    kwargs: dict[str, Any] | None = None,
    description: str = "",
    override: bool = False,
) -> None:
    """Register a game under ``env_id`` (``name_vN``)."""
    if ":" not in entry_point:
        raise ValueError(f"expected entry_point 'module:attr', got {entry_point!r}")
    if env_id in _REGISTRY and not override:
        raise ValueError(f"expected a new env id, got {env_id!r}, already registered")
    _REGISTRY[env_id] = EnvSpec(
        id=env_id,
        entry_point=entry_point,
        kwargs=dict(kwargs or {}),
        description=description,
    )
    _register_with_pettingzoo(env_id)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib import metadata  # some 10 ms; only the first look-up pays it

    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in _REGISTRY:
            register(entry.name, entry.value)


def spec(env_id: str) -> EnvSpec:
    """The spec of ``env_id``; unknown ids raise with the closest matches."""
    _load_entry_points()
    if env_id not in _REGISTRY:
        import difflib

        close = difflib.get_close_matches(env_id, _REGISTRY, n=3)
        hint = f"; did you mean {close}?" if close else ""
        raise UnknownEnvError(
            f"expected one of {sorted(_REGISTRY)}, got {env_id!r}{hint}"
        )
    return _REGISTRY[env_id]


def list_envs() -> list[str]:
    """Ids of every registered game, sorted."""
    _load_entry_points()
    return sorted(_REGISTRY)


def make_game(env_id: str, **config: Any) -> Game:
    """Build the rules object of ``env_id`` with ``config`` over its defaults.

    A game that declares its ``parameters`` (``core.config``) checks every keyword
    before it builds anything: a bad one raises ``ConfigError`` naming it.
    """
    env_spec = spec(env_id)
    return env_spec.load()(**{**env_spec.kwargs, **config})


def make(
    env_id: str,
    *,
    view: str | View = "text",
    invalid_move: InvalidMovePolicy | dict[str, Any] | str | None = None,
    render_mode: str | None = None,
    max_attempts: int | None = None,
    infos: str | None = None,
    **config: Any,
) -> GameEnv:
    """Return the PettingZoo AEC env of ``env_id``; ``config`` goes to the game.

    The options (``core.adapter.ENV_OPTIONS``) and the game's parameters are checked
    before the game is built; a bad value raises ``ConfigError`` naming it.
    """
    from selfplay_envs.core.adapter import env_options
    from selfplay_envs.core.aec import GameEnv

    # Checked before the game is built; resolved by the env, with the game's default.
    env_options(view, invalid_move, render_mode, max_attempts, infos=infos)
    return GameEnv(
        make_game(env_id, **config),
        view=view,
        invalid_move=invalid_move,
        render_mode=render_mode,
        max_attempts=max_attempts,
        infos=infos,
    )


def make_parallel(
    env_id: str,
    *,
    view: str | View = "text",
    invalid_move: InvalidMovePolicy | dict[str, Any] | str | None = None,
    render_mode: str | None = None,
    max_attempts: int | None = None,
    infos: str | None = None,
    **config: Any,
) -> ParallelGameEnv:
    """Return the PettingZoo Parallel env of ``env_id``; ``config`` goes to the game.

    Checked as ``make`` checks.
    """
    from selfplay_envs.core.adapter import env_options
    from selfplay_envs.core.parallel import ParallelGameEnv

    env_options(view, invalid_move, render_mode, max_attempts, infos=infos)
    return ParallelGameEnv(
        make_game(env_id, **config),
        view=view,
        invalid_move=invalid_move,
        render_mode=render_mode,
        max_attempts=max_attempts,
        infos=infos,
    )


_PETTINGZOO_REGISTRATION = "pettingzoo.env_registry.registration"
# Ids registered before PettingZoo's registry was imported, mirrored into it once it is.
_pending_pettingzoo: list[str] = []


def _register_with_pettingzoo(env_id: str) -> None:
    """Mirror the id into PettingZoo's registry, now or as soon as it is imported.

    Importing PettingZoo costs most of a second, so ``register`` does not: while the
    registry module is not loaded the id waits, and ``_RegistryImportHook`` mirrors
    every waiting id right after PettingZoo's registry runs, whoever imports it.
    """
    registration = sys.modules.get(_PETTINGZOO_REGISTRATION)
    if registration is not None:
        _mirror(registration, env_id)
        return
    _pending_pettingzoo.append(env_id)
    if not any(isinstance(f, _RegistryImportHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _RegistryImportHook())


def _mirror(registration: ModuleType, env_id: str) -> None:
    if not hasattr(registration, "_get_registry"):
        return  # not the registry we know; ours still works
    pz_id = f"{PETTINGZOO_NAMESPACE}/{env_id}"
    for env_type, factory in (("aec", make), ("parallel", make_parallel)):
        registry = registration._get_registry(env_type)
        if pz_id not in registry:
            registration.register(
                env_type, pz_id, entry_point=_Factory(factory, env_id)
            )


def _flush_pending(registration: ModuleType) -> None:
    while _pending_pettingzoo:
        _mirror(registration, _pending_pettingzoo.pop(0))


class _RegistryImportHook(importlib.abc.MetaPathFinder):
    """Finds PettingZoo's registry module as usual, then mirrors our waiting ids."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _PETTINGZOO_REGISTRATION:
            return None
        sys.meta_path.remove(self)  # one use; also keeps the search below off us
        found = None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            found = find(fullname, path, target) if find else None
            if found is not None:
                break
        if found is None or found.loader is None:
            return found  # PettingZoo < 1.26 has no registry; ours still works.
        found.loader = _MirrorAfterExec(found.loader)
        return found


class _MirrorAfterExec(importlib.abc.Loader):
    """Runs the wrapped loader's module, then ``_flush_pending`` into it."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _flush_pending(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)  # get_source, is_package, ...


@dataclasses.dataclass(frozen=True)
class _Factory:
    """A picklable ``**kwargs -> env`` callable bound to one id."""

    make: Any
    env_id: str

    def __call__(self, **kwargs: Any) -> Any:
        kwargs.pop(
            "max_cycles", None
        )  # PettingZoo's generic kwarg; we truncate ourselves
        return self.make(self.env_id, **kwargs)
