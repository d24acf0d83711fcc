"""What the AEC and Parallel adapters share: spaces, episode creation, rendering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from selfplay_envs.core.config import (
    Anything,
    Choice,
    Dict,
    Instance,
    Int,
    OneOf,
    Param,
    Params,
    Str,
)
from selfplay_envs.core.episode import (
    INVALID_MOVE_OPTIONS,
    Episode,
    InvalidMoveMode,
    InvalidMovePolicy,
    View,
)
from selfplay_envs.core.errors import ConfigError, ResetNeeded
from selfplay_envs.core.game import Game
from selfplay_envs.core.seeding import np_random
from selfplay_envs.core.spaces import FreeText

__all__ = [
    "ENV_OPTIONS",
    "INFO_MODES",
    "NUMERIC_INFO_KEYS",
    "RENDER_MODES",
    "AdapterBase",
    "build_spaces",
    "env_options",
    "is_parallelizable",
]

RENDER_MODES = ("ansi", "human")

#: The info entries of the numeric view's default ``infos="numeric"``: present in every
#: info of every game, each with a shape that never changes. MARL libraries turn infos
#: into tensors or pre-allocated arrays from the first step (TorchRL's
#: ``PettingZooWrapper`` calls ``torch.as_tensor`` on each value, so a string fails;
#: Tianshou's buffer breaks on a list of legal moves that shrinks each turn). The
#: action mask is left out: it is in the numeric observation already, and TorchRL
#: fails when it finds it in both places.
NUMERIC_INFO_KEYS = ("turn", "acting", "invalid_moves", "format_penalty")
INFO_MODES = ("full", "numeric")

#: The options of ``make`` / ``make_parallel`` themselves (the rest goes to the game).
ENV_OPTIONS = Params(
    Param(
        "view",
        Choice(*(v.value for v in View)),
        View.TEXT.value,
        "`text`: prompts and free-text replies; `numeric`: tensors, `Discrete` "
        "actions and an `action_mask` (games with a finite action set)",
    ),
    Param(
        "invalid_move",
        OneOf(
            Instance(InvalidMovePolicy),
            Dict(Str(min_len=0), Anything()),
            Choice(*(m.value for m in InvalidMoveMode)),
            desc="an InvalidMovePolicy, a dict of its fields (mode, max_retries, "
            "format_penalty) or a mode name ('retry', 'loss', 'penalty')",
        ),
        None,
        "what follows an invalid move; `None`: `InvalidMovePolicy()` (retry, 2 retries)",
    ),
    Param(
        "render_mode",
        Choice(*RENDER_MODES),
        None,
        "`ansi`: `render()` returns the board as text; `human`: it prints it",
    ),
    Param(
        "infos",
        Choice(*INFO_MODES),
        None,
        "`full`: every entry (role, legal moves as text, the last move, the episode "
        "record at the end); `numeric`: only the fixed-shape numeric entries "
        f"{', '.join(NUMERIC_INFO_KEYS)}, which MARL libraries turn into tensors; "
        "`None`: `full` in the text view, `numeric` in the numeric view",
    ),
    Param(
        "max_attempts",
        Int(1),
        None,
        "truncate after this many submitted moves, valid or not; `None`: the game's "
        "longest episode times (`max_retries` + 2)",
    ),
    game="make()",
)


def env_options(
    view: Any = View.TEXT,
    invalid_move: Any = None,
    render_mode: Any = None,
    max_attempts: Any = None,
    default_invalid_move: str | None = None,
    infos: Any = None,
) -> tuple[View, InvalidMovePolicy, str | None, int | None]:
    """Check ``make``'s own options (``ENV_OPTIONS``) and normalise them.

    ``default_invalid_move`` is the game's mode for ``invalid_move=None``
    (``Game.default_invalid_move``).

    Raises:
        ConfigError: An option, or a field of an ``invalid_move`` dict, that is not
            accepted; the message names it.
    """
    ENV_OPTIONS.check(
        {
            "view": view,
            "invalid_move": invalid_move,
            "render_mode": render_mode,
            "max_attempts": max_attempts,
            "infos": infos,
        }
    )
    if isinstance(invalid_move, InvalidMovePolicy):
        policy = invalid_move
    elif isinstance(invalid_move, Mapping):
        INVALID_MOVE_OPTIONS.check(invalid_move, owner="make()", prefix="invalid_move.")
        policy = InvalidMovePolicy(**invalid_move)
    elif isinstance(invalid_move, str):
        policy = InvalidMovePolicy(mode=InvalidMoveMode(invalid_move))
    elif default_invalid_move is not None:
        policy = InvalidMovePolicy(mode=InvalidMoveMode(default_invalid_move))
    else:
        policy = InvalidMovePolicy()
    return View(view), policy, render_mode, max_attempts


def is_parallelizable(game: Game, policy: InvalidMovePolicy) -> bool:
    """Whether PettingZoo's ``aec_to_parallel`` can convert the AEC env of ``game``.

    That wrapper steps every live agent once per Parallel step, in agent order, with
    actions all chosen from the observations before the step. It is right only when
    one AEC cycle is one joint move: a one-seat game, or a game whose every move is a
    simultaneous move of every seat (``GameInfo.parallelizable``) under a policy where
    an invalid reply never asks the same seat again (``loss``, ``penalty``, or
    ``retry`` with ``max_retries=0``). A turn-based game never is: the second seat
    would choose before it sees the first seat's move. Use ``make_parallel`` there.
    """
    info = game.info
    if info.num_players == 1:
        return True
    no_retry = policy.mode is not InvalidMoveMode.RETRY or policy.max_retries == 0
    return info.parallelizable and no_retry


def build_spaces(game: Game, view: View) -> tuple[spaces.Space[Any], spaces.Space[Any]]:
    """The observation and action spaces of every seat of ``game`` in ``view``."""
    info = game.info
    if view is View.NUMERIC:
        if info.num_actions is None or info.observation_shape is None:
            raise ConfigError(
                f"make() parameter view: expected a game with a finite action set "
                f"for view='numeric', got {info.name!r}, which only has view='text'",
                param="view",
                value=view.value,
                expected="'text'",
            )
        observation = spaces.Dict(
            {
                "observation": spaces.Box(
                    low=0.0, high=1.0, shape=info.observation_shape, dtype=np.float32
                ),
                "action_mask": spaces.Box(
                    low=0, high=1, shape=(info.num_actions,), dtype=np.int8
                ),
            }
        )
        return observation, spaces.Discrete(info.num_actions)
    observation = spaces.Dict(
        {"text": FreeText(info.max_text_length), **game.observation_extra_spaces()}
    )
    return observation, FreeText(info.max_text_length)


class AdapterBase:
    """Set-up and helpers common to ``GameEnv`` and ``ParallelGameEnv``.

    Args:
        game: The configured rules object.
        view: ``"text"`` (a ``Dict`` with a ``"text"`` prompt, ``Text`` actions that the
            env parses) or ``"numeric"`` (``Discrete`` actions, observation tensor and
            ``action_mask`` as in PettingZoo classic).
        invalid_move: What happens after an invalid move: an ``InvalidMovePolicy``,
            a dict of its fields or a mode name (``"loss"``).
        render_mode: ``"ansi"`` returns the board as text, ``"human"`` prints it.
        max_attempts: Truncate after this many submitted moves, valid or not; by
            default the game's maximum length times the allowed attempts per move.
            A simultaneous move in progress is settled first, which takes at most
            every seat's allowance (``max_retries`` + 1 replies each) more.
        infos: ``"full"`` or ``"numeric"`` (only ``NUMERIC_INFO_KEYS``, fixed-shape,
            for MARL libraries); ``None``: ``"numeric"`` in the numeric view, else
            ``"full"``.

    Every option is checked as ``ENV_OPTIONS`` declares (``ConfigError``).
    """

    def __init__(
        self,
        game: Game,
        *,
        view: str | View = View.TEXT,
        invalid_move: InvalidMovePolicy | Mapping[str, Any] | str | None = None,
        render_mode: str | None = None,
        max_attempts: int | None = None,
        infos: str | None = None,
    ):
        view, invalid_move, render_mode, max_attempts = env_options(
            view,
            invalid_move,
            render_mode,
            max_attempts,
            game.default_invalid_move,
            infos,
        )
        self.game = game
        self.view = view
        if infos is None:
            infos = "numeric" if view is View.NUMERIC else "full"
        self.info_mode = infos
        self.invalid_move = invalid_move
        self.render_mode = render_mode
        self.metadata = {
            "render_modes": list(RENDER_MODES),
            "is_parallelizable": is_parallelizable(game, self.invalid_move),
            "name": game.info.name,
            "zero_sum": game.info.zero_sum,
        }
        if max_attempts is None:
            max_attempts = game.info.max_game_length * (
                self.invalid_move.max_retries + 2
            )
        self.max_attempts = max_attempts
        self.possible_agents = [
            game.agent_name(p) for p in range(game.info.num_players)
        ]
        self.agents: list[str] = []
        self._index = {agent: p for p, agent in enumerate(self.possible_agents)}
        observation, action = build_spaces(game, self.view)
        # One object per agent, built once: api_test checks the identity is stable.
        self.observation_spaces = {a: observation for a in self.possible_agents}
        self.action_spaces = {a: action for a in self.possible_agents}
        self._rng: np.random.Generator | None = None
        self.episode: Episode | None = None

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        """The observation space of ``agent``."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        """The action space of ``agent``."""
        return self.action_spaces[agent]

    def _new_episode(self, seed: int | None) -> Episode:
        # Reseed only when given a seed, as Gymnasium does; the first reset always seeds.
        if seed is not None or self._rng is None:
            self._rng = np_random(seed)
        if self.episode is not None:
            self.episode.state.close()
        state = self.game.new_initial_state(self._rng)
        self.episode = Episode(
            self.game,
            state,
            self._rng,
            self.view,
            self.invalid_move,
            self.max_attempts,
            self.possible_agents,
        )
        self.agents = self.possible_agents[:]
        return self.episode

    def _observe(self, player: int) -> dict[str, Any]:
        """The observation of seat ``player``. Once the episode is over, the numeric
        view's ``action_mask`` is all ones: no move follows (a finished agent steps
        ``None``), and libraries that sample from the final step's mask (TorchRL's
        ``check_env_specs`` and ``rand_action``) need a mask with a legal entry."""
        episode = self._require_episode()
        observation = episode.observe(player)
        if episode.done and "action_mask" in observation:
            mask = observation["action_mask"]
            observation = {**observation, "action_mask": np.ones_like(mask)}
        return observation

    def _info(self, player: int) -> dict[str, Any]:
        """``infos`` entry of seat ``player``, as ``info_mode`` keeps it."""
        info = self._require_episode().info(player)
        if self.info_mode == "full":
            return info
        return {key: info[key] for key in NUMERIC_INFO_KEYS if key in info}

    def _require_episode(self) -> Episode:
        if self.episode is None:
            raise ResetNeeded("expected reset() before use, got a call on a fresh env")
        return self.episode

    def render(self) -> str | None:
        """Render the full state, every seat's hidden information shown
        (``State.render``): ``"ansi"`` returns the text, ``"human"`` prints it."""
        if self.render_mode is None:
            from gymnasium.logger import warn

            warn("You are calling render() without specifying a render_mode.")
            return None
        text = self._require_episode().state.render()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        """Release what the current episode holds (sandboxes, temp dirs)."""
        if self.episode is not None:
            self.episode.state.close()
