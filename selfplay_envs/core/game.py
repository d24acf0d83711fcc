"""The rules interface every game implements, and the records it returns.

A game is two objects, as in OpenSpiel: a ``Game`` that holds the configuration and
builds states, and a ``State`` that holds one episode. Neither knows PettingZoo: the
generic adapter in ``core.aec`` and ``core.parallel`` turns any ``Game`` into a
PettingZoo env, so seeding, invalid-move handling, rendering and infos are written once.

Players are seat indices ``0..num_players-1``. Chance is drawn from the
``numpy.random.Generator`` handed to ``Game.new_initial_state``; the rules never touch a
global RNG.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from selfplay_envs.core.parsing import (
    ALL_FORMATS,
    AnswerFormat,
    InvalidReason,
    ParseResult,
    extract_answer,
    match_legal,
)

if TYPE_CHECKING:
    from selfplay_envs.core.config import Params
    from selfplay_envs.core.vector import VectorRules

__all__ = ["GameInfo", "Game", "State"]


def _checked_init(init: Any, params: Params) -> Any:
    """``init``, after ``params`` accepted its keyword arguments."""

    @functools.wraps(init)
    def checked(self: Any, *args: Any, **config: Any) -> None:
        params.check(config)
        init(self, *args, **config)

    checked.__unchecked_init__ = init  # type: ignore[attr-defined]
    return checked


@dataclasses.dataclass(frozen=True, kw_only=True)
class GameInfo:
    """Static facts about a game, as OpenSpiel's ``GameType`` and ``GameInfo``.

    Attributes:
        name: Versioned env id, e.g. ``"tic_tac_toe_v0"``.
        num_players: Seats in this configuration.
        max_game_length: Upper bound on moves in one episode (used for truncation).
        num_actions: Size of the numeric action set, or ``None`` when the game has no
            finite action set (then only the text view exists).
        observation_shape: Shape of the numeric observation tensor, or ``None``.
        zero_sum: Whether final returns sum to zero.
        simultaneous: Whether some phases have several players acting at once (the
            conformance suite checks that a game declaring False never has two
            current players).
        parallelizable: Whether every move is one simultaneous move of every seat (no
            turn-based phase), so that one AEC cycle (each agent once, in order) is one
            joint move. The adapter then declares ``metadata["is_parallelizable"]``
            under an invalid-move policy without retries, and PettingZoo's
            ``aec_to_parallel`` converts the AEC env (see ``AdapterBase``).
        min_utility: Lowest final return of one player.
        max_utility: Highest final return of one player (the conformance suite checks
            every return of a finished episode lies in ``[min_utility,
            max_utility]``).
        max_text_length: Longest reply judged in the text view (the bound of the text
            action space, ``FreeText``): a longer one is cut to this many characters.
        roles: Optional fixed roles of the seats (``"x"``, ``"o"``), for games whose
            seats keep one role: when declared, one per seat, each seat's
            ``State.role`` at the start of an episode (the conformance suite checks).
    """

    name: str
    num_players: int
    max_game_length: int
    num_actions: int | None = None
    observation_shape: tuple[int, ...] | None = None
    zero_sum: bool = True
    simultaneous: bool = False
    parallelizable: bool = False
    min_utility: float = -1.0
    max_utility: float = 1.0
    max_text_length: int = 65536
    roles: tuple[str, ...] | None = None


class State(abc.ABC):
    """One episode of a game. Subclasses implement the rules; observers only read it."""

    # ---- who acts -------------------------------------------------------------------

    @abc.abstractmethod
    def current_players(self) -> list[int]:
        """Seats that must act now: one for turn-based play, several when simultaneous."""

    @abc.abstractmethod
    def is_terminal(self) -> bool:
        """True once the episode is over."""

    @abc.abstractmethod
    def returns(self) -> list[float]:
        """Final return of each seat (zero at non-terminal states)."""

    def role(self, player: int) -> str:
        """The role of ``player`` (for role-conditioned advantage estimates)."""
        return f"player_{player}"

    # ---- actions --------------------------------------------------------------------

    def legal_actions(self, player: int) -> list[int]:
        """Legal numeric actions of ``player``; empty when the game has no finite set."""
        del player  # Unused: games without a finite action set.
        return []

    def action_to_string(self, player: int, action: Any) -> str:
        """Canonical text of ``action``, the text a model should answer with."""
        del player  # Unused by default.
        return str(action)

    def legal_action_strings(self, player: int) -> list[str]:
        """``action_to_string`` of each legal action, in order (read every step:
        games with a cheaper way to list them override this)."""
        return [self.action_to_string(player, a) for a in self.legal_actions(player)]

    def legal_mask(self, player: int, num_actions: int) -> np.ndarray:
        """int8 mask of ``player``'s legal actions, a fresh array (read every step of
        the numeric view: games with a cheaper way to build it override this)."""
        mask = np.zeros(num_actions, dtype=np.int8)
        for action in self.legal_actions(player):
            mask[action] = 1  # item by item: faster than fancy indexing here
        return mask

    def answer_formats(self) -> Sequence[AnswerFormat]:
        """Answer conventions accepted from model text."""
        return ALL_FORMATS  # boxed, answer tag, bracket and bare

    def parse_action(self, player: int, text: str) -> ParseResult:
        """Turn model text into a legal action, or say why it is not one.

        The default extracts the last answer and matches it against
        ``action_to_string`` of the legal actions; games with free-form actions
        override ``parse_answer``.
        """
        answer, _ = extract_answer(text, self.answer_formats())
        if answer is None:
            return ParseResult.invalid(InvalidReason.NO_ACTION_TAG)
        return self.parse_answer(player, answer)

    def parse_answer(self, player: int, answer: str) -> ParseResult:
        """Match an extracted answer against the legal actions' text."""
        legal = {
            self.action_to_string(player, a): a for a in self.legal_actions(player)
        }
        action = match_legal(answer, legal)
        if action is None:
            return ParseResult.invalid(
                InvalidReason.UNPARSABLE, f"{answer[:80]!r} is not a legal move", answer
            )
        return ParseResult.legal(action, answer)

    def example_actions(self, player: int) -> list[str]:
        """Some complete, valid replies for ``player`` now, for test drivers.

        Defaults to each legal action's text in ``\\boxed{}``; games with free-form
        moves (clues, warriors, tool calls) return a few valid replies.
        """
        return [
            f"\\boxed{{{self.action_to_string(player, a)}}}"
            for a in self.legal_actions(player)
        ]

    def check_numeric(self, player: int, action: int) -> ParseResult:
        """Validate a numeric action index (numeric view)."""
        if action in self.legal_actions(player):
            return ParseResult.legal(action)
        return ParseResult.invalid(
            InvalidReason.ILLEGAL,
            f"action {action} is not legal; legal: {self.legal_actions(player)}",
        )

    @abc.abstractmethod
    def apply_action(self, player: int, action: Any) -> None:
        """Apply a legal move of ``player`` (turn-based phases)."""

    def apply_joint_action(self, actions: Mapping[int, Any]) -> None:
        """Apply the moves of every current player at once (simultaneous phases)."""
        for player in sorted(actions):
            self.apply_action(player, actions[player])

    def fallback_action(self, player: int, rng: np.random.Generator) -> Any:
        """The move played for a player whose output was invalid under the penalty policy.

        Default: a uniformly random legal action. Games with free-form actions override
        this with their natural "pass".
        """
        legal = self.legal_actions(player)
        if not legal:
            raise NotImplementedError(
                f"{type(self).__name__} has no finite action set: override fallback_action"
            )
        return legal[int(rng.integers(len(legal)))]

    def forfeit_returns(self, loser: int) -> list[float]:
        """Zero-sum returns when ``loser`` forfeits (invalid-move limit reached)."""
        return forfeit_returns(self.num_players, loser)

    def joint_forfeit_returns(self, losers: Sequence[int]) -> list[float]:
        """Returns when every seat of ``losers`` runs out of invalid moves in the same
        simultaneous move (the adapter judges every seat's reply before it decides).

        The default is the mean of ``forfeit_returns`` of each loser: what a fair coin
        deciding whose reply is judged first would give on average. It keeps the sum
        (zero-sum stays zero-sum) and the utility bounds, follows a game's own forfeit
        rule (a team game's offenders lose for their team), and makes two seats that
        both run out a draw. With the default ``forfeit_returns`` and ``k`` of ``n``
        seats out, each of the ``k`` gets ``-(n - k) / (k (n - 1))`` and each other seat
        ``1 / (n - 1)``: the offenders share the loss equally; all seats out is a draw.
        ``forfeit_returns`` is called once per loser.
        """
        rows = [self.forfeit_returns(p) for p in losers]
        if len(rows) == 1:
            return list(rows[0])
        return [sum(column) / len(rows) for column in zip(*rows, strict=True)]

    # ---- observations ---------------------------------------------------------------

    @property
    @abc.abstractmethod
    def num_players(self) -> int:
        """Number of seats."""

    @abc.abstractmethod
    def observation_text(self, player: int) -> str:
        """The text prompt that ``player`` sees (its own side only)."""

    def observation_tensor(self, player: int) -> np.ndarray:
        """The numeric observation of ``player``; games with a numeric view override."""
        raise NotImplementedError(f"{type(self).__name__} has no numeric view")

    def observation_extras(self, player: int) -> dict[str, Any]:
        """Extra observation entries for the text view, e.g. ``{"image": ndarray}``."""
        del player  # Unused by default.
        return {}

    def info(self, player: int) -> dict[str, Any]:
        """Game-specific infos for ``player`` (gains, shaped terms, evidence)."""
        del player  # Unused by default.
        return {}

    def render(self) -> str:
        """A human-readable picture of the whole state, all hidden information shown.

        The default lists every seat's text observation under the seat's default
        agent id; a game with a board or a table should draw it instead."""
        return "\n\n".join(
            f"player_{p}:\n{self.observation_text(p)}" for p in range(self.num_players)
        )

    def close(self) -> None:
        """Release what the episode holds (sandboxes, temp dirs); called by the env
        when the next episode starts or the env closes. Must be idempotent."""
        return  # Most games hold nothing.


def forfeit_returns(num_players: int, loser: int) -> list[float]:
    """Zero-sum returns for a forfeit: the loser gets -1, the rest share +1."""
    if num_players == 1:
        return [-1.0]  # a one-seat game (e.g. Core War's Red Queen) has no winner
    share = 1.0 / (num_players - 1)
    return [-1.0 if p == loser else share for p in range(num_players)]


class Game(abc.ABC):
    """A configured game: static info plus a factory of initial states."""

    #: Extra constructor configs the conformance suite also runs (the default is
    #: always run): presets and modes whose spaces or phases differ.
    conformance_configs: tuple[dict[str, Any], ...] = ()

    #: The invalid-move mode (``"loss"``, ``"retry"``...) that ``make()`` uses when it
    #: is given none: a paper preset whose rules end the game at the first invalid
    #: move sets it (SPIRAL). ``None``: the env's default policy.
    default_invalid_move: str | None = None

    #: The constructor's keyword parameters, declared once (``core.config``): every
    #: keyword is checked against them before the subclass's ``__init__`` runs, and
    #: ``selfplay list`` and the doc pages' parameter tables come from them. ``None``
    #: (a game that declares nothing) checks nothing.
    parameters: ClassVar[Params | None] = None

    #: The game's scripted opponents: name -> ``"module:factory"``, an import path
    #: (a factory takes ``seed=`` and, where it accepts them, the game's config
    #: keywords, and returns an ``selfplay_agents.policy.Policy``). Strings, so the game never
    #: imports ``agents``: ``selfplay_agents.opponents`` imports each one on first use, and
    #: ``selfplay bench``, ``play`` and ``list`` find them here. Any game with a
    #: finite action set can also be played by the built-in baselines ``random`` and
    #: ``first_legal`` (``selfplay_agents.opponents.BASELINES``), which bench adds when a game
    #: declares fewer than two opponents.
    opponents: ClassVar[Mapping[str, str]] = {}

    #: Static facts of the configured game (a ``GameInfo``; set by the constructor).
    info: GameInfo

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        params = cls.__dict__.get("parameters")
        if params is not None:
            init = cls.__init__
            # A subclass with its own declaration replaces its parent's check.
            init = getattr(init, "__unchecked_init__", init)
            cls.__init__ = _checked_init(init, params)  # type: ignore[method-assign]

    @abc.abstractmethod
    def new_initial_state(self, rng: np.random.Generator) -> State:
        """Start an episode; every random draw of the episode comes from ``rng``."""

    def agent_name(self, player: int) -> str:
        """PettingZoo agent id of a seat."""
        return f"player_{player}"

    def observation_extra_spaces(self) -> dict[str, Any]:
        """Gymnasium spaces of ``State.observation_extras`` (text view), by key."""
        return {}

    def vector_rules(self, num_envs: int) -> VectorRules | None:
        """Optional vectorised rules for ``num_envs`` games (numeric ``BatchedEnv``).

        A game returns a ``core.vector.VectorRules`` when it has one for this
        configuration; ``BatchedEnv`` then steps all its games with numpy operations
        instead of a loop over scalar states. The default, ``None``, keeps the
        generic path, which every game supports.
        """
        del num_envs  # Unused: no vectorised rules by default.
        return None
