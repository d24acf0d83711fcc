"""What every game shares: the rules interface, the generic adapters, parsing, errors.

The names below load on first use (module ``__getattr__``), not on ``import``: the
adapters pull in PettingZoo and Gymnasium, which most of a plain ``import
selfplay_envs`` or ``list_envs()`` never needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from selfplay_envs.core.aec import GameEnv
    from selfplay_envs.core.episode import (
        InvalidMoveMode,
        InvalidMovePolicy,
        TurnRecord,
        View,
    )
    from selfplay_envs.core.errors import (
        ConfigError,
        ConfigTypeError,
        DependencyNotInstalled,
        Error,
        InvalidActionError,
        ResetNeeded,
        UnknownEnvError,
    )
    from selfplay_envs.core.game import Game, GameInfo, State
    from selfplay_envs.core.parallel import ParallelGameEnv
    from selfplay_envs.core.parsing import (
        AnswerFormat,
        InvalidReason,
        ParseResult,
        extract_answer,
    )

# public name -> the submodule that defines it
_LAZY: dict[str, str] = {
    "GameEnv": "aec",
    "InvalidMoveMode": "episode",
    "InvalidMovePolicy": "episode",
    "TurnRecord": "episode",
    "View": "episode",
    "ConfigError": "errors",
    "ConfigTypeError": "errors",
    "DependencyNotInstalled": "errors",
    "Error": "errors",
    "InvalidActionError": "errors",
    "ResetNeeded": "errors",
    "UnknownEnvError": "errors",
    "Game": "game",
    "GameInfo": "game",
    "State": "game",
    "ParallelGameEnv": "parallel",
    "AnswerFormat": "parsing",
    "InvalidReason": "parsing",
    "ParseResult": "parsing",
    "extract_answer": "parsing",
}

__all__ = [
    "AnswerFormat",
    "ConfigError",
    "ConfigTypeError",
    "DependencyNotInstalled",
    "Error",
    "Game",
    "GameEnv",
    "GameInfo",
    "InvalidActionError",
    "InvalidMoveMode",
    "InvalidMovePolicy",
    "InvalidReason",
    "ParallelGameEnv",
    "ParseResult",
    "ResetNeeded",
    "State",
    "TurnRecord",
    "UnknownEnvError",
    "View",
    "extract_answer",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value  # later look-ups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
