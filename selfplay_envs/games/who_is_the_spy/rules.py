"""Who-Is-the-Spy rules, after Vision-Zero: clue rounds in seat order, then one vote.

One seat, drawn from the seed, is the spy. Civilians share an item; the spy's differs
slightly (or is blank). Every player knows its own role. In each of ``clue_rounds``
rounds the seats give one clue each, in seat order, and everyone sees every clue. Then
the voters (the civilians, and the spy when ``spy_votes``) vote at the same time for a
seat or abstain. The civilians win when the spy alone has the most votes; any tie,
including no votes at all, is a spy win.

Rewards (the env reward) are by default a team outcome that sums to zero: the spy gets
+1 or -1 and each civilian -1/n_c or +1/n_c. Vision-Zero's terms (``clue_rewards`` and
``vote_reward``) go in ``info``; with ``reward_mode="vision_zero"`` (the
``vision_zero`` preset) their sum is the env reward instead, which is not zero-sum.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from selfplay_envs.core.game import State
from selfplay_envs.core.parsing import AnswerFormat, InvalidReason, ParseResult
from selfplay_envs.games.who_is_the_spy import prompts
from selfplay_envs.games.who_is_the_spy.facts import Describer
from selfplay_envs.games.who_is_the_spy.items import (
    ItemKind,
    ItemPair,
    ItemSource,
    item_to_dict,
)
from selfplay_envs.games.who_is_the_spy.words import mentions_word

__all__ = [
    "Phase",
    "ABSTAIN",
    "INVALID_VOTE",
    "FALLBACK_CLUE",
    "SpyRules",
    "RoleBaseline",
    "Clue",
    "WhoIsTheSpyState",
    "spy_caught",
    "team_returns",
    "paper_returns",
    "TEAM",
    "VISION_ZERO",
    "clue_rewards",
    "vote_reward",
]

ABSTAIN = -1  # the vote "N/A"
INVALID_VOTE = (
    -2
)  # played for an invalid vote under the penalty policy: counts as no vote
FALLBACK_CLUE = "(no clue)"  # played for an invalid clue under the penalty policy
SPY, CIVILIAN = "spy", "civilian"
# reward_mode: the zero-sum team outcome, or Vision-Zero's clue + vote terms.
TEAM, VISION_ZERO = "team", "vision_zero"

# Vision-Zero's vote-stage rewards.
CORRECT_VOTE, ABSTAIN_VOTE, WRONG_VOTE = 1.0, -0.5, -1.0
# Vision-Zero's rewards for the spy's own vote, when the spy votes.
SPY_VOTES_OTHER, SPY_ABSTAINS, SPY_VOTES_SELF = 0.5, 0.2, -1.0

_SEAT = re.compile(r"[0-9]{1,3}")
_ABSTAIN_WORDS = {"n/a", "na", "none", "abstain", "no vote", "nobody", "no one", "pass"}


class Phase(str, enum.Enum):
    """Where the episode is."""

    CLUE = "clue"
    VOTE = "vote"
    DONE = "done"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpyRules:
    """The rule parameters of one configured game (validated by the ``Game``)."""

    num_players: int = 4
    clue_rounds: int = 2
    spy_votes: bool = False
    max_clue_chars: int = 300
    forbid_own_word: bool = True
    beta: float = 0.1
    lam: float = 0.1
    reward_mode: str = TEAM

    @property
    def num_civilians(self) -> int:
        """Seats that are not the spy."""
        return self.num_players - 1


@dataclasses.dataclass
class RoleBaseline:
    """Per-role exponential moving average of the clue-stage shaped reward.

    Vision-Zero subtracts it from each role's clue reward so that neither role's term
    drifts with the other's strength. It is updated once per finished game:
    ``b <- decay * b + (1 - decay) * r``, with the spy's term for the spy and the
    civilians' mean term for the civilians. It is mutable state that outlives
    episodes: the ``Game`` owns one (shared by every env built from that game object),
    or pass your own to share it across games.
    """

    decay: float = 0.9
    spy: float = 0.0
    civilian: float = 0.0
    games: int = 0

    def value(self, role: str) -> float:
        """The current baseline of ``role`` (``"spy"`` or ``"civilian"``)."""
        return self.spy if role == SPY else self.civilian

    def update(self, spy_term: float, civilian_mean_term: float) -> None:
        """Fold in one finished game."""
        self.spy = self.decay * self.spy + (1 - self.decay) * spy_term
        self.civilian = (
            self.decay * self.civilian + (1 - self.decay) * civilian_mean_term
        )
        self.games += 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class Clue:
    """One public clue."""

    player: int
    round: int  # 1-based
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"player": self.player, "round": self.round, "text": self.text}


# ---- reward formulas (pure, so they can be checked by hand) ---------------------------


def votes_received(votes: Mapping[int, int], num_players: int) -> list[int]:
    """Valid votes each seat received (abstentions and invalid votes count for no one)."""
    counts = [0] * num_players
    for target in votes.values():
        if 0 <= target < num_players:
            counts[target] += 1
    return counts


def spy_caught(received: Sequence[int], spy: int) -> bool:
    """The civilians win when the spy alone has the most votes."""
    return all(received[spy] > v for p, v in enumerate(received) if p != spy)


def team_returns(num_players: int, spy: int, caught: bool) -> list[float]:
    """Zero-sum team outcome: the spy gets +-1, each civilian -+1/n_c."""
    sign = -1.0 if caught else 1.0
    share = 1.0 / (num_players - 1)
    return [sign if p == spy else -sign * share for p in range(num_players)]


def paper_returns(
    clue: Sequence[float], votes: Mapping[int, int], spy: int
) -> list[float]:
    """Vision-Zero's reward of each seat: its clue-stage term plus its vote's term
    (0 for a seat that did not vote). Not zero-sum: the vote terms are not."""
    return [
        clue[p] + (vote_reward(votes[p], p, spy) if p in votes else 0.0)
        for p in range(len(clue))
    ]


def clue_rewards(
    received: Sequence[int], spy: int, beta: float, lam: float
) -> list[float]:
    """Vision-Zero's clue-stage terms from the votes each seat received.

    The spy gets ``-beta * (v_s - mean_c)``; civilian j gets
    ``beta / n_c * (v_s - mean_c) - lam * (v_j - mean_c)``, where ``v_s`` is the spy's
    votes, ``v_j`` civilian j's and ``mean_c`` the civilians' mean. They sum to zero.
    """
    civilians = [p for p in range(len(received)) if p != spy]
    mean_c = sum(received[p] for p in civilians) / len(civilians)
    gap = received[spy] - mean_c
    rewards = []
    for p in range(len(received)):
        if p == spy:
            rewards.append(-beta * gap)
        else:
            rewards.append(beta / len(civilians) * gap - lam * (received[p] - mean_c))
    return rewards


def vote_reward(vote: int, voter: int, spy: int) -> float:
    """Vision-Zero's vote-stage term of one vote.

    A civilian gets +1 for the spy, -0.5 for N/A, -1 for anyone else or an invalid vote.
    The spy (when it votes) gets +0.5 for another seat, +0.2 for N/A, -1 for itself or
    an invalid vote.
    """
    if voter == spy:
        if vote == ABSTAIN:
            return SPY_ABSTAINS
        return SPY_VOTES_OTHER if vote >= 0 and vote != spy else SPY_VOTES_SELF
    if vote == spy:
        return CORRECT_VOTE
    return ABSTAIN_VOTE if vote == ABSTAIN else WRONG_VOTE


# ---- the state -----------------------------------------------------------------------


class WhoIsTheSpyState(State):
    """One game: the spy's seat, the items, the clues so far and the votes.

    Args:
        rules: Rule parameters.
        spy: The spy's seat.
        items: What civilians and the spy hold, with the ground-truth difference.
        source: Renders the items (lazily, once per episode).
        image_size: ``(width, height)`` of the pictures.
        baseline: The per-role moving average, updated when the game ends.
        describer: The clue grammar used for the end-of-game clue checks, if any.
    """

    def __init__(
        self,
        *,
        rules: SpyRules,
        spy: int,
        items: ItemPair,
        source: ItemSource,
        image_size: tuple[int, int],
        baseline: RoleBaseline,
        describer: Describer | None,
    ):
        self.rules = rules
        self.spy = spy
        self.items = items
        self.source = source
        self.image_size = image_size
        self.baseline = baseline
        self.describer = describer
        self.phase = Phase.CLUE
        self.clues: list[Clue] = []
        self.votes: dict[int, int] = {}
        self._images: dict[str, np.ndarray] = {}
        self._result: dict[str, Any] | None = None

    # ---- who acts -------------------------------------------------------------------

    @property
    def num_players(self) -> int:
        """Seats in the game."""
        return self.rules.num_players

    @property
    def voters(self) -> list[int]:
        """Seats that vote: the civilians, plus the spy when ``spy_votes``."""
        return [
            p for p in range(self.num_players) if p != self.spy or self.rules.spy_votes
        ]

    @property
    def clue_round(self) -> int:
        """The current clue round, 1-based."""
        return len(self.clues) // self.num_players + 1

    def current_players(self) -> list[int]:
        """The next clue giver, or every voter at once in the vote stage."""
        if self.phase is Phase.CLUE:
            return [len(self.clues) % self.num_players]
        if self.phase is Phase.VOTE:
            return self.voters
        return []

    def is_terminal(self) -> bool:
        """True once the votes are counted."""
        return self.phase is Phase.DONE

    def returns(self) -> list[float]:
        """The team outcome (or Vision-Zero's terms) once the votes are counted; zeros
        before."""
        if self._result is None:
            return [0.0] * self.num_players
        return list(self._result["returns"])

    def role(self, player: int) -> str:
        """``"spy"`` or ``"civilian"``."""
        return SPY if player == self.spy else CIVILIAN

    def forfeit_returns(self, loser: int) -> list[float]:
        """A forfeit (invalid-move limit) loses the game for the offender's team (also
        under ``reward_mode="vision_zero"``, whose preset plays fallbacks instead)."""
        return team_returns(self.num_players, self.spy, caught=loser == self.spy)

    # ---- actions --------------------------------------------------------------------

    def legal_vote_texts(self) -> list[str]:
        """Every legal vote as text: seat numbers 1..n, then ``N/A``."""
        return [str(p + 1) for p in range(self.num_players)] + ["N/A"]

    def answer_formats(self) -> Sequence[AnswerFormat]:
        """Clues must be tagged, so reasoning never leaks; votes may be bare."""
        if self.phase is Phase.CLUE:
            return (AnswerFormat.BOXED, AnswerFormat.ANSWER_TAG)
        return super().answer_formats()

    def parse_answer(self, player: int, answer: str) -> ParseResult:
        """A clue (one line of text) in the clue stage, a seat or N/A in the vote."""
        if self.phase is Phase.CLUE:
            return self._parse_clue(player, answer)
        return self._parse_vote(answer)

    def _parse_clue(self, player: int, answer: str) -> ParseResult:
        text = " ".join(answer.split())
        if not text:
            return ParseResult.invalid(
                InvalidReason.UNPARSABLE, "the clue is empty", answer
            )
        if len(text) > self.rules.max_clue_chars:
            detail = f"the clue has {len(text)} characters, more than {self.rules.max_clue_chars}"
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer)
        item = self.item_of(player)
        if (
            self.rules.forbid_own_word
            and self.items.kind is ItemKind.WORD
            and item is not None
        ):
            if mentions_word(text, item.word):
                return ParseResult.invalid(
                    InvalidReason.ILLEGAL, "the clue must not contain your word", answer
                )
        return ParseResult.legal(text, answer)

    def _parse_vote(self, answer: str) -> ParseResult:
        text = answer.strip().strip(".").strip().lower()
        if text in _ABSTAIN_WORDS:
            return ParseResult.legal(ABSTAIN, answer)
        for prefix in ("player", "seat", "#"):
            text = text.removeprefix(prefix).strip()
        # ASCII digits only, and few: int() raises on "³" and on huge numbers
        if not _SEAT.fullmatch(text):
            detail = f"expected a seat number 1-{self.num_players} or N/A, got {answer[:40]!r}"
            return ParseResult.invalid(InvalidReason.UNPARSABLE, detail, answer)
        seat = int(text)
        if not 1 <= seat <= self.num_players:
            detail = f"there is no player {seat}; vote 1-{self.num_players} or N/A"
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer)
        return ParseResult.legal(seat - 1, answer)

    def action_to_string(self, player: int, action: Any) -> str:
        """A clue's text; a vote as ``"3"`` (1-based seat), ``"N/A"`` or ``"invalid"``."""
        del player  # Same text for every seat.
        if isinstance(action, str):
            return action
        if action == ABSTAIN:
            return "N/A"
        if action == INVALID_VOTE:
            return "invalid"
        return str(action + 1)

    def fallback_action(self, player: int, rng: np.random.Generator) -> Any:
        """Under the penalty policy: an empty clue, or an invalid vote (no vote, -1)."""
        del player, rng  # Deterministic fallbacks.
        return FALLBACK_CLUE if self.phase is Phase.CLUE else INVALID_VOTE

    def apply_action(self, player: int, action: Any) -> None:
        """Record a clue, or one vote (the adapter sends votes jointly)."""
        if self.phase is Phase.CLUE:
            self.clues.append(Clue(player=player, round=self.clue_round, text=action))
            if len(self.clues) == self.rules.clue_rounds * self.num_players:
                self.phase = Phase.VOTE
            return
        self.votes[player] = int(action)
        if all(p in self.votes for p in self.voters):
            self._resolve()

    def apply_joint_action(self, actions: Mapping[int, Any]) -> None:
        """Record every voter's vote at once and count them."""
        for player in sorted(actions):
            self.apply_action(player, actions[player])

    def _resolve(self) -> None:
        received = votes_received(self.votes, self.num_players)
        caught = spy_caught(received, self.spy)
        raw = clue_rewards(received, self.spy, self.rules.beta, self.rules.lam)
        civilians = [p for p in range(self.num_players) if p != self.spy]
        # The advantage uses the baseline before this game, then the game is folded in.
        before = {SPY: self.baseline.spy, CIVILIAN: self.baseline.civilian}
        self.baseline.update(
            raw[self.spy], sum(raw[p] for p in civilians) / len(civilians)
        )
        if self.rules.reward_mode == VISION_ZERO:
            returns = paper_returns(raw, self.votes, self.spy)
        else:
            returns = team_returns(self.num_players, self.spy, caught)
        self._result = {
            "received": received,
            "caught": caught,
            "returns": returns,
            "clue_reward": raw,
            "baseline": before,
            "vote_reward": [
                vote_reward(self.votes[p], p, self.spy) if p in self.votes else 0.0
                for p in range(self.num_players)
            ],
        }
        self.phase = Phase.DONE
        self._result["ground_truth"] = self.ground_truth()

    # ---- observations ---------------------------------------------------------------

    def item_of(self, player: int) -> Any:
        """The item ``player`` holds (``None`` for a blank spy item)."""
        return self.items.spy if player == self.spy else self.items.civilian

    def image_of(self, player: int) -> np.ndarray:
        """``player``'s picture, rendered once per episode and copied out."""
        key = self.role(player)
        if key not in self._images:
            width, height = self.image_size
            self._images[key] = self.source.render(self.item_of(player), width, height)
        return self._images[key].copy()

    def observation_text(self, player: int) -> str:
        """The caption-free prompt: rules, own role, clues so far, what to do now."""
        return prompts.observation_text(self, player)

    def observation_extras(self, player: int) -> dict[str, Any]:
        """``{"image": uint8 (H, W, 3)}`` for picture variants; nothing for words."""
        if not self.source.has_image:
            return {}
        return {"image": self.image_of(player)}

    def info(self, player: int) -> dict[str, Any]:
        """Structured view for scripted players; shaped terms and evidence at the end."""
        info: dict[str, Any] = {
            "phase": self.phase.value,
            "clue_round": min(self.clue_round, self.rules.clue_rounds),
            "seat": player,
            "is_spy": player == self.spy,
            "item_kind": self.items.kind.value,
            "item": item_to_dict(self.item_of(player)),
            "clues": [c.to_dict() for c in self.clues],
            "voters": self.voters,
        }
        if self.phase is Phase.VOTE and player in self.voters:
            info["legal_actions"] = self.legal_vote_texts()
        if self._result is not None:
            info.update(self._final_info(player))
        return info

    def _final_info(self, player: int) -> dict[str, Any]:
        result = self._result
        assert result is not None  # Called only once the votes are counted.
        role = self.role(player)
        raw = result["clue_reward"][player]
        return {
            "spy": self.spy,
            # per seat: "3" (1-based), "N/A", "invalid", or None for a seat that did not vote
            "votes": [
                self.action_to_string(p, self.votes[p]) if p in self.votes else None
                for p in range(self.num_players)
            ],
            "votes_received": list(result["received"]),
            "spy_caught": result["caught"],
            "clue_reward": raw,
            "clue_baseline": result["baseline"][role],
            "clue_advantage": raw - result["baseline"][role],
            "vote_reward": result["vote_reward"][player],
            # computed once when the votes are counted; copied so infos never share it
            "ground_truth": copy.deepcopy(result["ground_truth"]),
        }

    def ground_truth(self) -> dict[str, Any]:
        """Both items, the difference and the checkable clues (the verifier's evidence)."""
        return {
            "spy": self.spy,
            "civilian_item": item_to_dict(self.items.civilian),
            "spy_item": item_to_dict(self.items.spy),
            "difference": self.items.difference,
            "clue_checks": self.clue_checks(),
        }

    def clue_checks(self) -> list[dict[str, Any]]:
        """For each clue: whether it is checkable, and true of each item."""
        checks = []
        for clue in self.clues:
            fact = self.describer.parse(clue.text) if self.describer else None
            check: dict[str, Any] = {**clue.to_dict(), "checkable": fact is not None}
            if fact is not None:
                for name, item in (
                    ("civilian", self.items.civilian),
                    ("spy", self.items.spy),
                ):
                    check[f"true_for_{name}"] = bool(
                        item is not None and self.describer.support(item, fact)
                    )
            checks.append(check)
        return checks

    def render(self) -> str:
        """Everything: spy seat, items, difference, clues and votes."""
        return prompts.render_state(self)
