"""One running episode: the logic the AEC and Parallel adapters share.

The adapters only translate between PettingZoo's calling conventions and this class.
Everything about a move lives here, written once: parsing text or checking a numeric
index, the invalid-move policy, buffering simultaneous moves, per-turn records and infos.

A simultaneous move (several seats in ``current_players()``) is settled only once every
one of its seats has either made a valid move (buffered until the last one) or run out
of invalid moves: a seat that runs out does not end the game before the others have
been judged. If any seat ran out, the game ends in the *joint forfeit* of every seat
that did (``State.joint_forfeit_returns``). The outcome is therefore the same in the
AEC form (seats in turn, retries at once) and the Parallel form (one reply per seat per
step), and does not depend on seat order.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from selfplay_envs.core.config import Choice, Float, Int, Param, Params
from selfplay_envs.core.errors import InvalidActionError
from selfplay_envs.core.game import Game, State
from selfplay_envs.core.parsing import InvalidReason, ParseResult

__all__ = [
    "INVALID_MOVE_OPTIONS",
    "InvalidMoveMode",
    "InvalidMovePolicy",
    "TurnRecord",
    "Episode",
    "View",
]


class View(str, enum.Enum):
    """How an env is presented: text for LLMs, numeric for MARL libraries."""

    TEXT = "text"
    NUMERIC = "numeric"


class InvalidMoveMode(str, enum.Enum):
    """What happens after an invalid move."""

    RETRY = "retry"  # private warning and another try; forfeit after max_retries
    LOSS = "loss"  # the offender forfeits at once
    PENALTY = "penalty"  # a fallback move is played and the game goes on


@dataclasses.dataclass(frozen=True, kw_only=True)
class InvalidMovePolicy:
    """The configurable answer to invalid moves.

    The zero-sum outcome is never changed by the penalty: ``format_penalty`` is added
    to ``infos[agent]["format_penalty"]`` for each invalid move, for trainers that
    want a shaping term.
    """

    mode: InvalidMoveMode = InvalidMoveMode.RETRY
    max_retries: int = 2
    format_penalty: float = -1.0

    def __post_init__(self) -> None:
        INVALID_MOVE_OPTIONS.check(
            {f.name: getattr(self, f.name) for f in dataclasses.fields(self)},
            owner="InvalidMovePolicy",
        )
        object.__setattr__(self, "mode", InvalidMoveMode(self.mode))


#: The fields of ``InvalidMovePolicy``, also the keys of ``make(invalid_move={...})``.
INVALID_MOVE_OPTIONS = Params(
    Param(
        "mode",
        Choice(*(m.value for m in InvalidMoveMode)),
        InvalidMoveMode.RETRY.value,
        "`retry`: a private warning and another try, a forfeit after `max_retries`; "
        "`loss`: a forfeit at once; `penalty`: a fallback move, and the game goes on",
    ),
    Param(
        "max_retries",
        Int(0),
        2,
        "invalid moves in a row a seat may retry under `retry` before it forfeits",
    ),
    Param(
        "format_penalty",
        Float(max=0.0),
        -1.0,
        'added to `infos[agent]["format_penalty"]` per invalid move (a shaping '
        "term for trainers; the returns never change)",
    ),
    game="invalid_move",
)


class TurnRecord(NamedTuple):
    """One attempted move, valid or not, as a trainer needs it.

    Immutable; a ``NamedTuple`` because one is built per move and a frozen dataclass
    costs several times more to construct.
    """

    turn: int  # index of the game move this attempt belongs to
    agent: str
    player: int
    role: str
    action: str  # the raw text (or the index as text) that was submitted
    parsed: str | None  # canonical text of the parsed action; None if invalid
    valid: bool
    reason: str  # invalid-move reason, "" when valid
    fallback: bool = False  # True when the env played a fallback move instead
    # The reply's length when it was longer than the game's max_text_length: only its
    # first max_text_length characters were judged (and kept in ``action``); else 0.
    truncated_reply: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict of the fields (``_asdict``, spelt out: half its cost,
        and every record of an episode is converted for the final infos; a test holds
        the two equal)."""
        turn, agent, player, role, action, parsed, valid, reason, fallback, cut = self
        return {
            "turn": turn,
            "agent": agent,
            "player": player,
            "role": role,
            "action": action,
            "parsed": parsed,
            "valid": valid,
            "reason": reason,
            "fallback": fallback,
            "truncated_reply": cut,
        }


class Episode:
    """State, RNG and bookkeeping of one episode of any game.

    The state only changes through ``submit``, so everything derived from it (who
    acts, the terminal flag, what every seat's infos share) is computed at most once
    per submitted move. This class runs once per env step: keep it lean.
    """

    def __init__(
        self,
        game: Game,
        state: State,
        rng: np.random.Generator,
        view: View,
        policy: InvalidMovePolicy,
        max_attempts: int,
        names: list[str] | None = None,
    ):
        """``names``: the seats' agent ids (read, never changed), when the caller
        already has them; by default from ``game.agent_name``."""
        self.game = game
        self.state = state
        self.rng = rng
        self.view = view
        self.numeric = view is View.NUMERIC
        self.policy = policy
        self.max_attempts = max_attempts
        # Replies are cut to this many characters before any parsing (the bound of
        # the text action space), so no parser ever reads more.
        self.max_text_length = game.info.max_text_length
        self._cut = 0  # the length of the reply being judged, when it was cut
        self.num_players = game.info.num_players
        self.num_actions = game.info.num_actions
        if names is None:
            names = [game.agent_name(p) for p in range(self.num_players)]
        self.names = names
        self.records: list[TurnRecord] = []
        self.move_index = 0
        self.attempts = 0
        self.pending: dict[int, Any] = {}
        # Seats of the current simultaneous move that ran out of invalid moves: they
        # owe nothing more, and forfeit together once every other seat is judged.
        self.offenders: list[int] = []
        self._in_step = False  # inside submit_step: the attempt limit waits
        self.retries = [0] * self.num_players
        self.invalid_counts = [0] * self.num_players
        self.warnings: list[str | None] = [None] * self.num_players
        self.forfeit: list[float] | None = None
        self.truncated = False
        self._state_terminal = state.is_terminal()
        self._final_records: list[dict[str, Any]] | None = None
        self._refresh()

    def _refresh(self) -> None:
        """Recompute what derives from the state, after it changed."""
        self.done = self._state_terminal or self.forfeit is not None or self.truncated
        if self.done:
            self._acting: list[int] = []
        elif self.pending or self.offenders:
            self._acting = [
                p
                for p in self.state.current_players()
                if p not in self.pending and p not in self.offenders
            ]
        else:
            self._acting = list(self.state.current_players())
        self._current_agents = [self.names[p] for p in self._acting]
        self._masks: dict[int, np.ndarray] = {}
        # The last record as its author sees it, and as everyone else does: built
        # when an info first needs them.
        self._own_move: dict[str, Any] | None = None
        self._public_move: dict[str, Any] | None = None

    # ---- status ---------------------------------------------------------------------

    @property
    def terminal(self) -> bool:
        """The game ended: by its rules or by a forfeit."""
        return self._state_terminal or self.forfeit is not None

    def acting(self) -> list[int]:
        """Seats that still owe a move now."""
        return self._acting

    def returns(self) -> list[float]:
        """Final zero-sum returns (zeros until terminal, and on truncation)."""
        if self.forfeit is not None:
            return list(self.forfeit)
        if self._state_terminal:
            return [float(r) for r in self.state.returns()]
        return [0.0] * self.num_players

    # ---- moves ----------------------------------------------------------------------

    def submit(self, player: int, action: Any) -> ParseResult:
        """Handle one attempted move of ``player``; never raises on model text."""
        if player not in self._acting:
            # Reached only from the parallel form, where idle seats' actions are ignored.
            return ParseResult.invalid(InvalidReason.NOT_YOUR_TURN)
        self.attempts += 1
        # Part of a simultaneous move: buffered, and judged with the other seats.
        joint = len(self._acting) > 1 or bool(self.pending) or bool(self.offenders)
        if self.numeric:
            result = self._check_numeric(player, action)
        elif isinstance(action, str):
            if len(action) > self.max_text_length:
                self._cut, action = len(action), action[: self.max_text_length]
            else:
                self._cut = 0
            result = self.state.parse_action(player, action)
            if self._cut and result.reason is not None:
                result = self._truncated_reason(result)
        else:
            raise InvalidActionError(
                f"expected a str action in the text view, got {type(action).__name__}"
            )
        if result.reason is None:
            self.retries[player] = 0
            self.warnings[player] = None
            self._record(player, action, result, False)
            self._play(player, result.action, joint)
        else:
            self._on_invalid(player, action, result, joint)
        if joint:
            self._settle_joint()
        self._state_terminal = self.state.is_terminal()
        if not self._in_step:
            self._check_truncation()
        self._refresh()
        return result

    def submit_step(self, moves: Mapping[int, Any]) -> None:
        """One Parallel step: the reply of every acting seat in ``moves`` is judged
        (seats without one are skipped), and the attempt limit is checked after all of
        them, so the limit never leaves a seat's reply of the step unjudged."""
        self._in_step = True
        try:
            for player in self._acting[:]:
                if player in moves and not self.done:
                    self.submit(player, moves[player])
        finally:
            self._in_step = False
        if not self.done:
            self._check_truncation()
            self._refresh()

    def _check_truncation(self) -> None:
        # Never in the middle of a simultaneous move (a move buffered, or a seat out of
        # invalid moves): the move is settled first, so a forfeit cannot turn into a
        # truncation, and in the AEC form an episode is cut only between joint moves.
        if (
            self.attempts >= self.max_attempts
            and not self._state_terminal
            and self.forfeit is None
            and not self.pending
            and not self.offenders
        ):
            self.truncated = True

    def _check_numeric(self, player: int, action: Any) -> ParseResult:
        if type(action) is not int:  # the common case skips the checks below
            if isinstance(action, (np.ndarray, np.generic)) and np.ndim(action) == 0:
                action = action.item()
            if not isinstance(action, (int, np.integer)) or isinstance(action, bool):
                raise InvalidActionError(
                    "expected an int action in the numeric view, "
                    f"got {type(action).__name__}"
                )
        return self.state.check_numeric(player, int(action))

    def _play(self, player: int, action: Any, joint: bool) -> None:
        if not joint:  # a turn-based move
            self.state.apply_action(player, action)
            self.move_index += 1
            return
        current = self.state.current_players()
        self.pending[player] = action
        if not self.offenders and all(p in self.pending for p in current):
            moves, self.pending = self.pending, {}
            self.state.apply_joint_action(moves)
            self.move_index += 1

    def _settle_joint(self) -> None:
        """After a reply to a simultaneous move: once no seat of it is left to judge,
        end the game in the joint forfeit of the seats that ran out, if any did."""
        if not self.offenders:
            return  # the joint move is played when its last seat is buffered
        if all(
            p in self.pending or p in self.offenders
            for p in self.state.current_players()
        ):
            self.forfeit = self.state.joint_forfeit_returns(sorted(self.offenders))

    def _on_invalid(
        self, player: int, action: Any, result: ParseResult, joint: bool
    ) -> None:
        self.invalid_counts[player] += 1
        mode = self.policy.mode
        if (
            mode is InvalidMoveMode.RETRY
            and self.retries[player] < self.policy.max_retries
        ):
            self.retries[player] += 1
            left = self.policy.max_retries - self.retries[player] + 1
            self.warnings[player] = (
                f"Your last move was invalid ({result.message}). Attempts left: {left}."
            )
            self._record(player, action, result, fallback=False)
            return
        if mode is InvalidMoveMode.PENALTY:
            fallback = self.state.fallback_action(player, self.rng)
            self.warnings[player] = (
                f"Your last move was invalid ({result.message}); "
                f"{self.state.action_to_string(player, fallback)!r} was played instead."
            )
            self._record(player, action, result, fallback=True)
            self._play(player, fallback, joint)
            return
        self._record(player, action, result, fallback=False)
        if joint:
            self.offenders.append(player)  # forfeits once the move is settled
        else:
            self.forfeit = self.state.forfeit_returns(player)

    def _truncated_reason(self, result: ParseResult) -> ParseResult:
        note = (
            f"the reply was truncated to its first {self.max_text_length} of "
            f"{self._cut} characters"
        )
        detail = f"{result.detail} ({note})" if result.detail else note
        return result._replace(detail=detail)

    def _record(self, player: int, action: Any, result: ParseResult, fallback: bool):
        state = self.state
        ok = result.reason is None
        cut, self._cut = self._cut, 0
        record = (
            self.move_index,
            self.names[player],
            player,
            state.role(player),
            action if isinstance(action, str) else str(action),
            state.action_to_string(player, result.action) if ok else None,
            ok,
            "" if ok else result.message,
            fallback,
            cut,
        )
        # tuple.__new__ skips the NamedTuple constructor's argument handling: half
        # the cost, on every move (the fields above are TurnRecord's, in order).
        self.records.append(tuple.__new__(TurnRecord, record))

    # ---- observations and infos -----------------------------------------------------

    def observe(self, player: int) -> dict[str, Any]:
        """The observation dict of ``player`` in this episode's view."""
        if self.numeric:
            return {
                "observation": self.state.observation_tensor(player),
                "action_mask": self.action_mask(player),
            }
        text = self.state.observation_text(player)
        if self.warnings[player]:
            text = f"{text}\n\n{self.warnings[player]}"
        return {"text": text, **self.state.observation_extras(player)}

    def action_mask(self, player: int) -> np.ndarray:
        """int8 mask over the numeric actions; all zeros when ``player`` is idle."""
        mask = self._masks.get(player)
        if mask is None:
            if player in self._acting:
                mask = self.state.legal_mask(player, self.num_actions or 0)
            else:
                mask = np.zeros(self.num_actions or 0, dtype=np.int8)
            self._masks[player] = mask
        return mask

    def _last_move(self, player: int) -> tuple[dict[str, Any] | None, bool]:
        """The last record as ``player`` may see it, and whether ``player`` made it."""
        if not self.records:
            return None, False
        last = self.records[-1]
        if last.player == player:
            if self._own_move is None:
                self._own_move = last.to_dict()
            return self._own_move, True
        if self._public_move is None:
            # Everyone else sees it without the raw text, which may hold private
            # reasoning; a buffered simultaneous move (a vote, a warrior) stays
            # secret until every seat has moved.
            # (A literal, as to_dict: built on every step.)
            turn, agent, author, role, _, parsed, valid, reason, fallback, cut = last
            self._public_move = {
                "turn": turn,
                "agent": agent,
                "player": author,
                "role": role,
                "parsed": None if author in self.pending else parsed,
                "valid": valid,
                "reason": reason,
                "fallback": fallback,
                "truncated_reply": cut,
            }
        return self._public_move, False

    def info(self, player: int) -> dict[str, Any]:
        """``infos[agent]``: what a trainer needs without re-parsing text."""
        last_move, own_last = self._last_move(player)
        acting = player in self._acting
        invalid = self.invalid_counts[player]
        state = self.state
        info: dict[str, Any] = {
            "role": state.role(player),
            "turn": self.move_index,
            "acting": acting,
            "current_agents": self._current_agents,
            "last_move": last_move,
            "invalid_reason": last_move["reason"] if own_last else "",
            "truncated_reply": last_move["truncated_reply"] if own_last else 0,
            "invalid_moves": invalid,
            "format_penalty": invalid * self.policy.format_penalty,
        }
        if acting and self.num_actions is not None:
            info["legal_actions"] = state.legal_action_strings(player)
        if self.numeric:
            info["action_mask"] = self.action_mask(player)
        info.update(state.info(player))
        if self.done:
            info.update(self._final_info(player))
        return info

    def _final_info(self, player: int) -> dict[str, Any]:
        returns = self.returns()
        best, worst = max(returns), min(returns)
        if self.truncated and not self.terminal:
            outcome = "truncated"
        elif self.num_players == 1:
            outcome = "forfeit" if self.forfeit is not None else "done"
        elif best == worst:
            outcome = "draw"
        else:
            outcome = "win" if returns[player] == best else "loss"
        return {
            "outcome": outcome,
            "returns": dict(zip(self.names, returns, strict=False)),
            "forfeit": self.forfeit is not None,
            "episode": self._episode_records(),
        }

    def _episode_records(self) -> list[dict[str, Any]]:
        if self._final_records is None:
            self._final_records = [r.to_dict() for r in self.records]
        return self._final_records
