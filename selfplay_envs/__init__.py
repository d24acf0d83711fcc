"""selfplay-envs: zero-sum multi-agent games with verifiable rewards for self-play RL.

>>> import selfplay_envs
>>> env = selfplay_envs.make("tic_tac_toe_v0", view="numeric")
>>> env.reset(seed=0)
>>> env.agent_selection
'player_0'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from selfplay_envs.core.registry import (
    list_envs,
    make,
    make_game,
    make_parallel,
    register,
    spec,
)
from selfplay_envs.games import register_builtin_games

if TYPE_CHECKING:
    from selfplay_envs.core.episode import InvalidMovePolicy

__all__ = [
    "InvalidMovePolicy",
    "list_envs",
    "make",
    "make_game",
    "make_parallel",
    "register",
    "spec",
]
__version__ = "0.1.0"

register_builtin_games()


def __getattr__(name: str) -> Any:
    # InvalidMovePolicy's module loads numpy; a plain import need not pay for it.
    if name == "InvalidMovePolicy":
        from selfplay_envs.core.episode import InvalidMovePolicy

        globals()[name] = InvalidMovePolicy
        return InvalidMovePolicy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
