"""What every game shares: the rules interface, the generic adapters, parsing, errors."""

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
