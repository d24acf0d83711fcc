"""The one error hierarchy of selfplay-envs.

Messages read "expected X, got Y". Model output never raises one of these: bad model text
becomes an invalid move with a reason. These are for programmer errors and missing
dependencies.
"""

from __future__ import annotations

__all__ = [
    "Error",
    "InvalidActionError",
    "ResetNeeded",
    "DependencyNotInstalled",
    "UnknownEnvError",
    "InfrastructureError",
    "ConfigError",
    "ConfigTypeError",
]


class Error(Exception):
    """Base class of every error raised by selfplay-envs."""


class InvalidActionError(Error, ValueError):
    """A programmer passed an action of the wrong type or shape (not model text)."""


class ResetNeeded(Error, RuntimeError):
    """The env was used before ``reset`` or after the episode ended."""


class UnknownEnvError(Error, KeyError):
    """``make`` was given an id that no registered game has."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class DependencyNotInstalled(Error, ImportError):
    """An optional dependency is missing; the message names the pip extra."""

    @classmethod
    def for_extra(cls, package: str, extra: str) -> DependencyNotInstalled:
        """Build the standard message for a missing optional ``package``."""
        return cls(
            f'{package} is not installed, run `pip install "selfplay-envs[{extra}]"`'
        )


class ConfigError(Error, ValueError):
    """A configuration value that a declared parameter does not accept (``make`` or a
    ``Game`` constructor), raised before anything is built.

    The message names the parameter, what it accepts and the value given.

    Attributes:
        param: The parameter's name (``"invalid_move.max_retries"`` for a sub-option).
        value: The value given.
        expected: What the parameter accepts, in words.
    """

    def __init__(
        self, message: str, *, param: str = "", value: object = None, expected: str = ""
    ):
        super().__init__(message)
        self.param = param
        self.value = value
        self.expected = expected


class ConfigTypeError(ConfigError, TypeError):
    """A configuration value of the wrong type, or an unknown parameter name."""


class InfrastructureError(Error, RuntimeError):
    """Something the game needs to judge a move failed: a sandbox that cannot start,
    an engine that does not compile, a retriever that is down.

    It is never a game result. The arena records the game as errored with this
    message; the message names the cause and the fix.
    """
