"""One running episode: the logic the AEC and Parallel adapters share.

The adapters only translate between PettingZoo's calling conventions and this class.
Everything about a move lives here, written once: parsing text or checking a numeric
index, the invalid-move policy, buffering simultaneous moves, per-turn records and infos.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import numpy as np

from selfplay_envs.core.errors import InvalidActionError
from selfplay_envs.core.game import Game, State
from selfplay_envs.core.parsing import InvalidReason, ParseResult

__all__ = ["InvalidMoveMode", "InvalidMovePolicy", "TurnRecord", "Episode", "View"]


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
        object.__setattr__(self, "mode", InvalidMoveMode(self.mode))
        if self.max_retries < 0:
            raise ValueError(f"expected max_retries >= 0, got {self.max_retries}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TurnRecord:
    """One attempted move, valid or not, as a trainer needs it."""

    turn: int  # index of the game move this attempt belongs to
    agent: str
    player: int
    role: str
    action: str  # the raw text (or the index as text) that was submitted
    parsed: str | None  # canonical text of the parsed action; None if invalid
    valid: bool
    reason: str  # invalid-move reason, "" when valid
    fallback: bool = False  # True when the env played a fallback move instead

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (flat fields: cheaper than ``dataclasses.asdict``)."""
        return {name: getattr(self, name) for name in _RECORD_FIELDS}


_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(TurnRecord))


class Episode:
    """State, RNG and bookkeeping of one episode of any game."""

    def __init__(
        self,
        game: Game,
        state: State,
        rng: np.random.Generator,
        view: View,
        policy: InvalidMovePolicy,
        max_attempts: int,
    ):
        self.game = game
        self.state = state
        self.rng = rng
        self.view = view
        self.policy = policy
        self.max_attempts = max_attempts
        self.num_players = game.info.num_players
        self.names = [game.agent_name(p) for p in range(self.num_players)]
        self.records: list[TurnRecord] = []
        self.move_index = 0
        self.attempts = 0
        self.pending: dict[int, Any] = {}
        self.retries = [0] * self.num_players
        self.invalid_counts = [0] * self.num_players
        self.warnings: list[str | None] = [None] * self.num_players
        self.forfeit: list[float] | None = None
        self.truncated = False
        # Derived views, recomputed only after a submitted move changed the state.
        self._acting_at = -1
        self._acting: list[int] = []
        self._final_records: list[dict[str, Any]] | None = None
        self._cache_at = -1
        self._cache: dict[str, Any] = {}

    # ---- status ---------------------------------------------------------------------

    @property
    def terminal(self) -> bool:
        """The game ended: by its rules or by a forfeit."""
        return self.forfeit is not None or self.state.is_terminal()

    @property
    def done(self) -> bool:
        """The episode ended, terminally or by truncation."""
        return self.terminal or self.truncated

    def acting(self) -> list[int]:
        """Seats that still owe a move now."""
        if self._acting_at != self.attempts:
            # The state only changes through submit(), which bumps attempts.
            self._acting_at = self.attempts
            self._acting = (
                []
                if self.done
                else [p for p in self.state.current_players() if p not in self.pending]
            )
        return self._acting

    def returns(self) -> list[float]:
        """Final zero-sum returns (zeros until terminal, and on truncation)."""
        if self.forfeit is not None:
            return list(self.forfeit)
        if self.state.is_terminal():
            return [float(r) for r in self.state.returns()]
        return [0.0] * self.num_players

    # ---- moves ----------------------------------------------------------------------

    def submit(self, player: int, action: Any) -> ParseResult:
        """Handle one attempted move of ``player``; never raises on model text."""
        if player not in self.acting():
            # Reached only from the parallel form, where idle seats' actions are ignored.
            return ParseResult.invalid(InvalidReason.NOT_YOUR_TURN)
        self.attempts += 1
        result = self._parse(player, action)
        if result.ok:
            self.retries[player] = 0
            self.warnings[player] = None
            self._record(player, action, result, fallback=False)
            self._play(player, result.action)
        else:
            self._on_invalid(player, action, result)
        if not self.terminal and self.attempts >= self.max_attempts:
            self.truncated = True
        self._acting_at = -1  # the state may have changed: recompute acting() lazily
        return result

    def _parse(self, player: int, action: Any) -> ParseResult:
        if self.view is View.TEXT:
            if not isinstance(action, str):
                raise InvalidActionError(
                    f"expected a str action in the text view, got {type(action).__name__}"
                )
            return self.state.parse_action(player, action)
        if isinstance(action, (np.ndarray, np.generic)) and np.ndim(action) == 0:
            action = action.item()
        if not isinstance(action, (int, np.integer)) or isinstance(action, bool):
            raise InvalidActionError(
                f"expected an int action in the numeric view, got {type(action).__name__}"
            )
        return self.state.check_numeric(player, int(action))

    def _play(self, player: int, action: Any) -> None:
        current = self.state.current_players()
        if len(current) == 1:
            self.state.apply_action(player, action)
            self.move_index += 1
            return
        self.pending[player] = action
        if all(p in self.pending for p in current):
            joint, self.pending = self.pending, {}
            self.state.apply_joint_action(joint)
            self.move_index += 1

    def _on_invalid(self, player: int, action: Any, result: ParseResult) -> None:
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
            self._play(player, fallback)
            return
        self._record(player, action, result, fallback=False)
        self.forfeit = self.state.forfeit_returns(player)

    def _record(self, player: int, action: Any, result: ParseResult, fallback: bool):
        parsed = None
        if result.ok:
            parsed = self.state.action_to_string(player, result.action)
        self.records.append(
            TurnRecord(
                turn=self.move_index,
                agent=self.names[player],
                player=player,
                role=self.state.role(player),
                action=action if isinstance(action, str) else str(action),
                parsed=parsed,
                valid=result.ok,
                reason=result.message,
                fallback=fallback,
            )
        )

    # ---- observations and infos -----------------------------------------------------

    def observe(self, player: int) -> dict[str, Any]:
        """The observation dict of ``player`` in this episode's view."""
        if self.view is View.NUMERIC:
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
        cache = self._step_cache()
        mask = cache["masks"].get(player)
        if mask is None:
            mask = np.zeros(self.game.info.num_actions or 0, dtype=np.int8)
            if player in self.acting():
                mask[self.state.legal_actions(player)] = 1
            cache["masks"][player] = mask
        return mask

    def _step_cache(self) -> dict[str, Any]:
        """What every seat's infos share this step, computed once per submitted move."""
        if self._cache_at != self.attempts:
            self._cache_at = self.attempts
            acting = self.acting()
            last = self.records[-1] if self.records else None
            public = None
            if last is not None:
                public = last.to_dict()
                del public["action"]  # the raw text may hold private reasoning
                if last.player in self.pending:
                    # A buffered simultaneous move (a vote, a warrior) stays secret
                    # until every seat has moved.
                    public["parsed"] = None
            self._cache = {
                "acting": acting,
                "current_agents": [self.names[p] for p in acting],
                "last": last,
                "public_move": public,
                "masks": {},
            }
        return self._cache

    def info(self, player: int) -> dict[str, Any]:
        """``infos[agent]``: what a trainer needs without re-parsing text."""
        cache = self._step_cache()
        acting, last = cache["acting"], cache["last"]
        own_last = last is not None and last.player == player
        info: dict[str, Any] = {
            "role": self.state.role(player),
            "turn": self.move_index,
            "acting": player in acting,
            "current_agents": cache["current_agents"],
            "last_move": last.to_dict() if own_last else cache["public_move"],
            "invalid_reason": last.reason if own_last and not last.valid else "",
            "invalid_moves": self.invalid_counts[player],
            "format_penalty": self.invalid_counts[player] * self.policy.format_penalty,
        }
        if player in acting and self.game.info.num_actions is not None:
            info["legal_actions"] = [
                self.state.action_to_string(player, a)
                for a in self.state.legal_actions(player)
            ]
        if self.view is View.NUMERIC:
            info["action_mask"] = self.action_mask(player)
        info.update(self.state.info(player))
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
