"""Leduc hold'em rules: one hand is exactly OpenSpiel's ``leduc_poker``; a match is N.

A hand: the deck holds six cards, two Jacks, two Queens and two Kings (card ids 0-5,
rank ``id // 2``, as OpenSpiel numbers them). Each player antes 1 chip and gets one
private card. Two betting rounds follow, the opener acting first in each; a raise is
2 chips in round 1 and 4 in round 2, at most 2 raises a round. A round ends when a
player calls a raise, or when both check. After round 1 one public card is turned. A
fold gives the pot to the other player; at showdown a private card that pairs the
public card wins, else the higher private card wins, and equal ranks split the pot.

Action ids are OpenSpiel's: 0 = fold, 1 = call (check when nothing is owed), 2 = raise
(bet when nothing is bet this round). Fold is legal only when facing a raise, and raise
only while the round has had fewer than 2 raises (OpenSpiel's legal actions).

A match plays ``num_hands`` hands, a fresh deal each, the opener alternating (seat 0
opens hand 0); chips carry over and the match is decided by the total.

Chance: every deal (opener's card, responder's card, public card) is drawn up front
from the ``Generator`` handed to ``LeducPokerState.from_rng``, so the rules never draw.
That is the order in which OpenSpiel's chance player deals them.
"""

from __future__ import annotations

import enum
import re
from typing import NamedTuple

import numpy as np

from selfplay_envs.core.game import State
from selfplay_envs.core.parsing import InvalidReason, ParseResult
from selfplay_envs.core.presets import (
    PaperRules,
    example_replies,
    parse_reply,
)

__all__ = [
    "Action",
    "ANTE",
    "DECK_SIZE",
    "HAND_TENSOR_SIZE",
    "MAX_HAND_LENGTH",
    "MAX_HAND_STAKE",
    "RAISE_SIZES",
    "HandResult",
    "LeducPokerState",
    "Reward",
    "card_name",
    "tensor_size",
]


class Action(enum.IntEnum):
    """OpenSpiel's action ids."""

    FOLD = 0
    CALL = 1
    RAISE = 2


class Reward(str, enum.Enum):
    """How the final return is computed."""

    CHIPS = "chips"  # net chips over all hands (a single hand: OpenSpiel's returns)
    MATCH = "match"  # +1 / -1 by total chips, 0 on a tie


RANKS = "JQK"
SUITS = "sh"  # OpenSpiel's two suits; the suit never decides a hand
DECK_SIZE = 6
ANTE = 1
RAISE_SIZES = (2, 4)  # round 1, round 2
MAX_RAISES = 2  # per round
MAX_ROUND_LENGTH = 4  # call, raise, raise, call
MAX_HAND_LENGTH = 2 * MAX_ROUND_LENGTH
#: The most one player can put in a hand: the ante and two raises of each round.
MAX_HAND_STAKE = ANTE + MAX_RAISES * sum(RAISE_SIZES)
#: OpenSpiel's starting stack, shown in its information-state string.
STARTING_MONEY = 100
# OpenSpiel's tensor: position (2), private card (6), public card (6), then for each
# round MAX_ROUND_LENGTH (call, raise) pairs.
HAND_TENSOR_SIZE = 2 + 2 * DECK_SIZE + 2 * 2 * MAX_ROUND_LENGTH
MATCH_FEATURES = 2  # hands finished / N, (own chips + span) / (2 span)

_MOVE_WORDS = frozenset(("fold", "call", "raise", "check", "bet"))
_WORD = re.compile(r"[a-z]+")
_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+")  # \text{call}, \textbf{raise}


def card_name(card: int) -> str:
    """``"J"``, ``"Q"`` or ``"K"`` of card id 0-5."""
    return RANKS[card // 2]


def tensor_size(num_hands: int) -> int:
    """Length of the numeric observation for a ``num_hands`` match."""
    return HAND_TENSOR_SIZE + (MATCH_FEATURES if num_hands > 1 else 0)


def hand_strength(private: int, public: int) -> int:
    """A pair beats any high card; among high cards the higher rank wins."""
    rank = private // 2
    return 10 + rank if rank == public // 2 else rank


class HandResult(NamedTuple):
    """One finished hand, seats not positions.

    Attributes:
        hand: 0-based hand index.
        opener: Seat that acted first.
        cards: Private card id of each seat.
        public: The public card id, or -1 if the hand ended in round 1.
        winner: Seat that took the pot, or -1 for a split pot.
        showdown: False when the hand ended with a fold.
        payoff: Net chips won by each seat in this hand.
    """

    hand: int
    opener: int
    cards: tuple[int, int]
    public: int
    winner: int
    showdown: bool
    payoff: tuple[int, int]

    def public_view(self, player: int) -> dict[str, object]:
        """What ``player`` legally knows of this hand (the rival's card at showdown)."""
        rival = 1 - player
        return {
            "hand": self.hand,
            "opened": self.opener == player,
            "won": self.winner == player,
            "chips": self.payoff[player],
            "showdown": self.showdown,
            "card": card_name(self.cards[player]),
            "public_card": card_name(self.public) if self.public >= 0 else None,
            "opponent_card": card_name(self.cards[rival]) if self.showdown else None,
        }


class LeducPokerState(State):
    """A Leduc hold'em match in progress (a single hand when ``num_hands == 1``).

    Args:
        deals: ``(opener's card, responder's card, public card)`` per hand, three
            different card ids 0-5; the number of deals is the number of hands.
        reward: ``"chips"`` or ``"match"``.
        rules: A paper preset's scoring points; by default the zero-sum rules.
    """

    def __init__(
        self,
        deals: list[tuple[int, int, int]],
        reward: Reward | str = Reward.CHIPS,
        rules: PaperRules | None = None,
    ) -> None:
        if not deals:
            raise ValueError(f"expected at least one deal, got {deals!r}")
        for deal in deals:
            if len(deal) != 3 or len(set(deal)) != 3 or not set(deal) <= set(range(6)):
                raise ValueError(f"expected three different cards in 0-5, got {deal!r}")
        self.deals = [(int(a), int(b), int(c)) for a, b, c in deals]
        self.reward = Reward(reward)
        self.rules = rules or PaperRules()
        self.formatted = [0, 0]  # replies in the strict format, per seat
        self.num_hands = len(self.deals)
        self.chips = [0, 0]  # net chips of each seat over finished hands
        self.results: list[HandResult] = []
        self.over = False
        self.hand = -1
        self._public_results: tuple[list[dict[str, object]], ...] = ([], [])
        self._start_hand()

    @classmethod
    def from_rng(
        cls,
        rng: np.random.Generator,
        num_hands: int,
        reward: Reward | str,
        rules: PaperRules | None = None,
    ) -> LeducPokerState:
        """Deal ``num_hands`` hands: each of the 120 ordered deals has chance 1/120."""
        keys = rng.random((num_hands, DECK_SIZE))  # one draw for the match
        deals = np.argsort(keys, axis=1)[:, :3]  # a uniform permutation's first 3
        return cls([tuple(d) for d in deals.tolist()], reward, rules)

    def _start_hand(self) -> None:
        self.hand += 1
        self.opener = self.hand % 2  # seat acting first in this hand
        self.round = 0
        self.rounds: list[list[int]] = [[], []]  # call/raise actions of each round
        self.contributions = [ANTE, ANTE]  # by position
        self.raises = 0  # raises in the current round
        self.to_act = 0  # position to act

    # ---- seats and positions ------------------------------------------------------

    @property
    def num_players(self) -> int:
        """Two seats."""
        return 2

    def position(self, player: int) -> int:
        """0 for the current hand's opener (OpenSpiel's player 0), 1 otherwise."""
        return player ^ self.opener

    def card(self, player: int) -> int:
        """Private card id of ``player`` in the current hand."""
        return self.deals[self.hand][self.position(player)]

    @property
    def public_card(self) -> int:
        """The public card id once turned (round 2), else -1."""
        return self.deals[self.hand][2] if self.round == 1 else -1

    def role(self, player: int) -> str:
        """``"opener"`` or ``"responder"`` in the current hand."""
        return "responder" if self.position(player) else "opener"

    @property
    def pot(self) -> int:
        """Chips in the middle: both antes plus every call and raise."""
        return sum(self.contributions)

    def owed(self) -> int:
        """Chips the player to act must add to call."""
        return max(self.contributions) - self.contributions[self.to_act]

    def info_state_string(self, player: int) -> str:
        """OpenSpiel's information-state string of ``player`` (current hand)."""
        position = self.position(player)
        money = [STARTING_MONEY - c for c in self.contributions]
        public = f"[Public: {self.public_card}]" if self.round == 1 else ""
        sequences = [" ".join(str(a) for a in actions) for actions in self.rounds]
        return (
            f"[Observer: {position}][Private: {self.card(player)}]"
            f"[Round {self.round + 1}][Player: {self.to_act}][Pot: {self.pot}]"
            f"[Money: {money[0]} {money[1]}]{public}"
            f"[Round1: {sequences[0]}][Round2: {sequences[1]}]"
        )

    # ---- rules --------------------------------------------------------------------

    def current_players(self) -> list[int]:
        """The seat to act, or nobody once the match is over."""
        return [] if self.over else [self.to_act ^ self.opener]

    def is_terminal(self) -> bool:
        """True once every hand has been played."""
        return self.over

    def returns(self) -> list[float]:
        """Net chips, or the +-1 match result by total chips; zeros until the end."""
        if not self.over:
            return [0.0, 0.0]
        if self.reward is Reward.CHIPS:
            return [float(c) for c in self.chips]
        sign = float(np.sign(self.chips[0] - self.chips[1]))
        return [sign, -sign]

    def forfeit_returns(self, loser: int) -> list[float]:
        """The worst possible result for ``loser``, so an invalid move never pays; a
        preset's (offender, other) instead, less the offender's chips in this hand
        under ``invalid_stake``."""
        if self.reward is Reward.MATCH:
            worst = 1.0
        else:
            worst = float(MAX_HAND_STAKE * self.num_hands)
        offender, other = self.rules.invalid_returns or (-worst, worst)
        if self.rules.invalid_stake:
            offender -= self.contributions[self.position(loser)]
        return [offender if p == loser else other for p in range(2)]

    def legal_actions(self, player: int) -> list[int]:
        """OpenSpiel's order: fold (facing a raise), call, raise (under 2 raises)."""
        if self.over or player != self.to_act ^ self.opener:
            return []
        actions = [Action.FOLD.value] if self.owed() else []
        actions.append(Action.CALL.value)
        if self.raises < MAX_RAISES:
            actions.append(Action.RAISE.value)
        return actions

    def action_to_string(self, player: int, action: int) -> str:
        """``fold``, ``call`` or ``raise``."""
        del player  # The same words for both seats.
        return Action(action).name.lower()

    def parse_action(self, player: int, text: str) -> ParseResult:
        """As ``State.parse_action``; under ``strict_format`` only the answer of a
        ``<think>...</think><answer>...</answer>`` reply counts."""
        return parse_reply(self, player, text)

    def example_actions(self, player: int) -> list[str]:
        """Valid replies; in the strict format under ``strict_format``."""
        return example_replies(self, player)

    def parse_answer(self, player: int, answer: str) -> ParseResult:
        """Read fold/call/raise, ``check`` (a call owing nothing) and ``bet`` (a
        raise in a round with no raise yet)."""
        del player  # The adapter only asks the seat to act.
        word = answer_word(answer)
        if word not in _MOVE_WORDS:
            return ParseResult.invalid(
                InvalidReason.UNPARSEABLE,
                f"expected fold, call or raise, got {answer[:40]!r}",
                answer,
            )
        reason = self._word_illegal(word)
        if reason:
            return ParseResult.invalid(InvalidReason.ILLEGAL, reason, answer)
        action = {"check": Action.CALL, "bet": Action.RAISE}.get(word) or Action[
            word.upper()
        ]
        return ParseResult.legal(action, answer)

    def _word_illegal(self, word: str) -> str | None:
        owed = self.owed()
        if word == "check" and owed:
            return f"cannot check while facing a raise of {owed}; fold, call or raise"
        if word == "fold" and not owed:
            return "cannot fold: nothing to call; check (call) or bet (raise)"
        if word == "bet" and self.raises:
            return "cannot bet: the round already has a raise; raise instead"
        if word in ("raise", "bet") and self.raises >= MAX_RAISES:
            return f"cannot raise: the round already has {MAX_RAISES} raises"
        return None

    def check_numeric(self, player: int, action: int) -> ParseResult:
        """Validate an action id against the legal actions."""
        legal = self.legal_actions(player)
        if action in legal:
            return ParseResult.legal(Action(action))
        detail = f"expected one of {legal} (0 fold, 1 call, 2 raise), got {action}"
        return ParseResult.invalid(InvalidReason.ILLEGAL, detail)

    def apply_action(self, player: int, action: int) -> None:
        """Fold ends the hand; call may close the round; raise adds the round's size."""
        if action not in self.legal_actions(player):
            raise ValueError(
                f"expected one of {self.legal_actions(player)}, got {action!r}"
            )
        position = self.to_act
        if action == Action.FOLD:
            self._settle(winner=1 - position, showdown=False)
            return
        top = max(self.contributions)
        if action == Action.RAISE:
            self.contributions[position] = top + RAISE_SIZES[self.round]
            self.raises += 1
        else:
            self.contributions[position] = top
        moves = self.rounds[self.round]
        moves.append(int(action))
        # A round ends on a call that is not its first move (check-check or a called
        # raise); the first round then turns the public card.
        if action == Action.CALL and len(moves) > 1:
            if self.round == 0:
                self.round, self.raises, self.to_act = 1, 0, 0
            else:
                self._showdown()
            return
        self.to_act = 1 - position

    def _showdown(self) -> None:
        deal = self.deals[self.hand]
        strengths = [hand_strength(deal[p], deal[2]) for p in (0, 1)]
        if strengths[0] == strengths[1]:
            self._settle(winner=-1, showdown=True)
        else:
            self._settle(winner=int(strengths[1] > strengths[0]), showdown=True)

    def _settle(self, *, winner: int, showdown: bool) -> None:
        """Pay the pot; ``winner`` is a position, -1 for a split pot."""
        if winner < 0:
            by_position = (0, 0)
        else:
            won = self.contributions[1 - winner]
            by_position = (won, -won) if winner == 0 else (-won, won)
        payoff = (by_position[self.opener], by_position[1 - self.opener])
        self.chips = [self.chips[0] + payoff[0], self.chips[1] + payoff[1]]
        deal = self.deals[self.hand]
        self.results.append(
            HandResult(
                hand=self.hand,
                opener=self.opener,
                cards=(self.card(0), self.card(1)),
                public=deal[2] if self.round == 1 else -1,
                winner=-1 if winner < 0 else winner ^ self.opener,
                showdown=showdown,
                payoff=payoff,
            )
        )
        if self.hand + 1 == self.num_hands:
            self.over = True  # keep the last hand's betting for the final observations
        else:
            self._start_hand()

    # ---- observations -------------------------------------------------------------

    def observation_tensor(self, player: int) -> np.ndarray:
        """OpenSpiel's information-state tensor, plus match features when N > 1:
        ``[0:2]`` position, ``[2:8]`` private card, ``[8:14]`` public card, then
        (call, raise) pairs for the 4 moves of each round."""
        tensor = np.zeros(tensor_size(self.num_hands), dtype=np.float32)
        tensor[self.position(player)] = 1.0
        tensor[2 + self.card(player)] = 1.0
        if self.round == 1:
            tensor[2 + DECK_SIZE + self.deals[self.hand][2]] = 1.0
        base = 2 + 2 * DECK_SIZE
        for r, moves in enumerate(self.rounds):
            for i, action in enumerate(moves):
                tensor[base + 2 * (r * MAX_ROUND_LENGTH + i) + action - 1] = 1.0
        if self.num_hands > 1:
            span = MAX_HAND_STAKE * self.num_hands  # the most one can win or lose
            tensor[HAND_TENSOR_SIZE] = len(self.results) / self.num_hands
            tensor[HAND_TENSOR_SIZE + 1] = (self.chips[player] + span) / (2 * span)
        return tensor

    def observation_text(self, player: int) -> str:
        """Cards, betting, pot, chips, hand number and legal moves."""
        from selfplay_envs.games.leduc_poker.render import prompt

        return prompt(self, player)

    def info(self, player: int) -> dict[str, object]:
        """Own card, the public card and betting, and OpenSpiel's information-state
        string, for scripted players."""
        info: dict[str, object] = {
            "card": card_name(self.card(player)),
            "public_card": card_name(self.public_card) if self.round else None,
            "position": self.position(player),
            "round": self.round + 1,
            "betting": [list(moves) for moves in self.rounds],
            "info_state": self.info_state_string(player),
            "pot": self.pot,
            "hand": self.hand,
            "num_hands": self.num_hands,
            "chips": self.chips[player],
            "hand_results": self._hand_results(player),
        }
        if self.rules.format_bonus:
            info["format_bonus"] = self.formatted[player] * self.rules.format_bonus
        return info

    def _hand_results(self, player: int) -> list[dict[str, object]]:
        public = self._public_results[player]
        if len(public) < len(self.results):
            public += [r.public_view(player) for r in self.results[len(public) :]]
        return list(public)

    def render(self) -> str:
        """The whole table: both cards, the public card, betting, pot and chips."""
        deal = self.deals[self.hand]
        lines = [
            f"Hand {self.hand + 1}/{self.num_hands}, opener: player_{self.opener}",
            f"Cards: player_0 {card_name(self.card(0))}, player_1 "
            f"{card_name(self.card(1))}; public {card_name(deal[2])}"
            f" ({'shown' if self.round else 'hidden'})",
            "Betting (round 1 | round 2): "
            + " | ".join(" ".join(WORDS[a] for a in m) or "-" for m in self.rounds)
            + f"  Pot: {self.pot}",
            f"Chips: player_0 {self.chips[0]:+d}, player_1 {self.chips[1]:+d}",
        ]
        if self.over:
            lines.append(f"Match over; returns {self.returns()}")
        else:
            lines.append(f"player_{self.current_players()[0]} to act")
        return "\n".join(lines)


WORDS = {1: "call", 2: "raise"}


def answer_word(answer: str) -> str:
    """The move word of an extracted answer: lower case, LaTeX commands dropped."""
    if answer in _MOVE_WORDS:
        return answer
    return " ".join(_WORD.findall(_LATEX_COMMAND.sub(" ", answer).lower()))
