"""Kuhn poker rules: one hand is exactly OpenSpiel's ``kuhn_poker``; a match is N hands.

A hand: the deck is J < Q < K, each player antes 1 chip and gets one card; the opener
may pass (check) or bet 1 chip; a player facing a bet may pass (fold) or bet (call).
Action ids are OpenSpiel's: 0 = Pass, 1 = Bet. A fold gives the whole pot to the
bettor; otherwise the higher card takes the pot at showdown. Payoffs are +-1 (ante only)
or +-2 (a called bet), exactly OpenSpiel's returns.

A match plays ``num_hands`` hands with a fresh deal each, the opener alternating
(seat 0 opens hand 0). Chips carry over, and the match is decided by the cumulative
chip count, never by the last hand alone (SPIRAL's 5-hand match is decided by the last
hand; TextArena's pot never grows with bets: neither fault is copied here).

Chance: the deals of every hand are drawn from the ``numpy.random.Generator`` handed to
``KuhnPokerState.from_rng``, up front, so the rules themselves never draw. A deal is
``(opener's card, responder's card)``, the order in which OpenSpiel's chance player
deals cards to its players 0 and 1.

The views live beside the rules: ``observation`` builds the numeric tensor and
``render`` the text prompt, both from plain values this state hands them.
"""

from __future__ import annotations

import enum
import re
from typing import NamedTuple

import numpy as np

from selfplay_envs.core.game import State
from selfplay_envs.core.parsing import InvalidReason, ParseResult
from selfplay_envs.core.presets import (
    STRICT_SHAPE,
    PaperRules,
    example_replies,
    parse_reply,
)
from selfplay_envs.games.kuhn_poker.constants import (
    ANTE,
    BET_SIZE,
    BETTINGS,
    CARDS,
    DEALS,
    LETTERS,
    MAX_HAND_LENGTH,
    NUM_PLAYERS,
    Action,
)
from selfplay_envs.games.kuhn_poker.observation import (
    HAND_TENSOR_SIZE,
    MATCH_FEATURES,
    information_state_tensor,
    tensor_size,
)
from selfplay_envs.games.kuhn_poker.render import (
    OPPONENTS_TURN,
    WORDS,
    YOUR_TURN,
    final_line,
    prompt,
    result_line,
)

__all__ = [
    "Action",
    "Reward",
    "HandResult",
    "KuhnPokerState",
    "BETTINGS",
    "CARDS",
    "DEALS",
    "ANTE",
    "BET_SIZE",
    "HAND_TENSOR_SIZE",
    "MATCH_FEATURES",
    "MAX_HAND_LENGTH",
    "answer_word",
    "tensor_size",
]


class Reward(str, enum.Enum):
    """How the final return is computed."""

    CHIPS = "chips"  # net chips won over all hands (a single hand: OpenSpiel's returns)
    MATCH = "match"  # +1 / -1 by cumulative chips, 0 on a tie


_MOVE_WORDS = frozenset(("pass", "bet", "check", "fold", "call"))
_WORD = re.compile(r"[a-z]+")
_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+")  # \text{call}, \textbf{bet}


class HandResult(NamedTuple):
    """One finished hand, from the table's point of view.

    Attributes:
        hand: 0-based hand index.
        opener: Seat that acted first.
        cards: Card index (0 = J, 1 = Q, 2 = K) of each seat.
        history: Betting in OpenSpiel letters, e.g. ``"pbb"``.
        winner: Seat that took the pot.
        showdown: False when the hand ended with a fold (cards stay hidden).
        payoff: Net chips won by each seat in this hand.
    """

    hand: int
    opener: int
    cards: tuple[int, int]
    history: str
    winner: int
    showdown: bool
    payoff: tuple[int, int]

    def public(self, player: int) -> dict[str, object]:
        """What ``player`` legally knows of this hand (the rival's card at showdown)."""
        rival = 1 - player
        return {
            "hand": self.hand,
            "opened": self.opener == player,
            "history": self.history,
            "won": self.winner == player,
            "chips": self.payoff[player],
            "showdown": self.showdown,
            "card": CARDS[self.cards[player]],
            "opponent_card": CARDS[self.cards[rival]] if self.showdown else None,
        }


class KuhnPokerState(State):
    """A Kuhn poker match in progress (a single hand when ``num_hands == 1``).

    Args:
        deals: ``(opener's card, responder's card)`` for every hand, card indices
            0-2 (J, Q, K); the number of deals is the number of hands.
        reward: ``"chips"`` or ``"match"``.
        rules: The scoring points of a paper preset (``core.presets``); by default
            the zero-sum rules.
    """

    def __init__(
        self,
        deals: list[tuple[int, int]],
        reward: Reward | str = Reward.CHIPS,
        rules: PaperRules | None = None,
    ) -> None:
        if not deals:
            raise ValueError(f"expected at least one deal, got {deals!r}")
        for deal in deals:
            if tuple(deal) not in DEALS:  # numpy ints compare as ints
                raise ValueError(f"expected two different cards in 0-2, got {deal!r}")
        self.deals = [(int(a), int(b)) for a, b in deals]  # numpy ints become ints
        self.reward = Reward(reward)
        self.rules = rules or PaperRules()
        self.formatted = [0, 0]  # replies in the strict format, per seat
        self.num_hands = len(self.deals)
        self.hand = 0
        self.history: list[Action] = []
        self.contributions = [ANTE, ANTE]
        self.chips = [0, 0]  # net chips of each seat over finished hands
        self.results: list[HandResult] = []
        self.over = False
        self.opener = 0  # seat that acts first in this hand: seat 0 in even hands
        self.facing_bet = False  # a bet is pending: the seat to act can fold or call
        self.to_act = 0
        # Per seat, the public view of each finished hand, extended as hands end, so
        # that the infos of a long match cost the same at every hand.
        self._public_results: tuple[list[dict[str, object]], ...] = ([], [])

    @classmethod
    def from_rng(
        cls,
        rng: np.random.Generator,
        num_hands: int,
        reward: Reward | str,
        rules: PaperRules | None = None,
    ) -> KuhnPokerState:
        """Deal ``num_hands`` hands from ``rng``; each of the 6 deals has chance 1/6."""
        picks = rng.integers(len(DEALS), size=num_hands)  # one draw for the match
        return cls([DEALS[i] for i in picks], reward, rules)

    # ---- seats and positions ------------------------------------------------------

    @property
    def num_players(self) -> int:
        """Two seats."""
        return NUM_PLAYERS

    def position(self, player: int) -> int:
        """0 for the current hand's opener (OpenSpiel's player 0), 1 otherwise."""
        return player ^ self.opener

    def card(self, player: int) -> int:
        """Card index of ``player`` in the current hand."""
        return self.deals[self.hand][self.position(player)]

    def seat_cards(self) -> tuple[int, int]:
        """Card of seat 0 and seat 1 in the current hand."""
        return self.card(0), self.card(1)

    def role(self, player: int) -> str:
        """``"opener"`` or ``"responder"`` in the current hand."""
        return "responder" if self.position(player) else "opener"

    @property
    def pot(self) -> int:
        """Chips in the middle: both antes plus every bet and call."""
        return self.contributions[0] + self.contributions[1]

    def history_string(self) -> str:
        """Betting of the current hand in OpenSpiel letters, e.g. ``"pb"``."""
        return "".join([LETTERS[action] for action in self.history])

    def info_state_key(self, player: int) -> str:
        """OpenSpiel's information-state string of ``player`` in the current hand."""
        return f"{self.card(player)}{self.history_string()}"

    # ---- rules --------------------------------------------------------------------

    def current_players(self) -> list[int]:
        """The seat to act, or nobody once the match is over."""
        return [] if self.over else [self.to_act]

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
        """The worst possible result for ``loser``, so an invalid move never pays;
        a preset's (offender, other) returns instead, less the offender's committed
        chips this hand under ``invalid_stake`` (MARS's -(stake) - 10)."""
        worst = 1.0 if self.reward is Reward.MATCH else float(2 * self.num_hands)
        offender, other = self.rules.invalid_returns or (-worst, worst)
        if self.rules.invalid_stake:
            offender -= self.contributions[loser]
        return [offender if p == loser else other for p in range(NUM_PLAYERS)]

    def parse_action(self, player: int, text: str) -> ParseResult:
        """As ``State.parse_action``; under ``strict_format`` only the answer of a
        ``<think>...</think><answer>...</answer>`` reply counts."""
        return parse_reply(self, player, text)

    def example_actions(self, player: int) -> list[str]:
        """Valid replies; in the strict format under ``strict_format``."""
        return example_replies(self, player)

    def legal_actions(self, player: int) -> list[int]:
        """Pass and Bet for the seat to act; nothing for the other seat."""
        if self.over or player != self.to_act:
            return []
        return [Action.PASS.value, Action.BET.value]

    def legal_action_strings(self, player: int) -> list[str]:
        """``check, bet`` or ``fold, call`` for the seat to act (read every step)."""
        return [self.action_to_string(player, a) for a in self.legal_actions(player)]

    def action_to_string(self, player: int, action: int) -> str:
        """``check``/``bet`` with no bet pending, ``fold``/``call`` facing a bet."""
        del player  # The words depend on the betting only.
        return WORDS[self.facing_bet][action == Action.BET]

    def parse_answer(self, player: int, answer: str) -> ParseResult:
        """Read pass/check/fold/bet/call; check needs no pending bet, fold/call one."""
        del player  # The adapter only asks the seat to act.
        word = answer_word(answer)
        if word in ("pass", "bet"):  # OpenSpiel's names are always accepted
            return ParseResult.legal(
                Action.PASS if word == "pass" else Action.BET, answer
            )
        if word in ("check", "fold", "call"):
            return self._parse_word(word, answer)
        expected = "fold or call" if self.facing_bet else "check or bet"
        return ParseResult.invalid(
            InvalidReason.UNPARSEABLE,
            f"expected {expected}, got {answer[:40]!r}",
            answer,
        )

    def _parse_word(self, word: str, answer: str) -> ParseResult:
        if word == "check" and self.facing_bet:
            detail = "cannot check while facing a bet; fold or call"
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer)
        if word in ("fold", "call") and not self.facing_bet:
            detail = f"cannot {word}: no bet is pending; check or bet"
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer)
        action = Action.BET if word == "call" else Action.PASS
        return ParseResult.legal(action, answer)

    def check_numeric(self, player: int, action: int) -> ParseResult:
        """Validate an action id: 0 (pass) or 1 (bet)."""
        del player  # The adapter only asks the seat to act.
        if action in (Action.PASS, Action.BET):
            return ParseResult.legal(Action(action))
        detail = f"expected action 0 (pass) or 1 (bet), got {action}"
        return ParseResult.invalid(InvalidReason.ILLEGAL, detail)

    def apply_action(self, player: int, action: int) -> None:
        """Bet or call puts a chip in the pot; the hand is settled when betting ends."""
        if action not in (Action.PASS, Action.BET):
            raise ValueError(f"expected action 0 (pass) or 1 (bet), got {action!r}")
        action = Action(action)
        self.history.append(action)
        if action is Action.BET:
            self.contributions[player] += BET_SIZE
            self.facing_bet = True
        self.to_act = 1 - player
        if self._hand_over():
            self._settle()

    def _hand_over(self) -> bool:
        # Betting ends after "pp", "bp", "bb" (two moves but "pb") or three moves.
        moves = len(self.history)
        return moves == MAX_HAND_LENGTH or (
            moves == 2 and self.history != [Action.PASS, Action.BET]
        )

    def _settle(self) -> None:
        last_player = (self.opener + len(self.history) - 1) % 2
        folded = self.history[-1] is Action.PASS and self.facing_bet
        cards = self.seat_cards()
        if folded:
            winner = 1 - last_player
        else:
            winner = 0 if cards[0] > cards[1] else 1
        loser = 1 - winner
        won = self.contributions[loser]  # the winner takes the pot back plus this
        payoff = (won, -won) if winner == 0 else (-won, won)
        self.chips = [self.chips[0] + payoff[0], self.chips[1] + payoff[1]]
        result = HandResult(
            hand=self.hand,
            opener=self.opener,
            cards=cards,
            history=self.history_string(),
            winner=winner,
            showdown=not folded,
            payoff=payoff,
        )
        self.results.append(result)
        if self.hand + 1 == self.num_hands:
            self.over = True  # keep the last hand's betting for the final observations
            return
        self.hand += 1
        self.history = []
        self.contributions = [ANTE, ANTE]
        self.opener = self.hand % 2
        self.facing_bet = False
        self.to_act = self.opener

    # ---- observations -------------------------------------------------------------

    def observation_tensor(self, player: int) -> np.ndarray:
        """OpenSpiel's information-state tensor, plus match features when N > 1
        (layout in ``observation``)."""
        return information_state_tensor(
            self.num_hands,
            self.position(player),
            self.card(player),
            self.history,
            len(self.results),
            self.chips[player],
        )

    def observation_text(self, player: int) -> str:
        """Card, betting so far, pot, chips, hand number and legal moves."""
        rival = 1 - player
        result = None
        if self.results:
            last = self.results[-1]
            result = result_line(
                last.hand,
                last.winner == player,
                abs(last.payoff[player]),
                last.showdown,
                last.cards[player],
                last.cards[rival],
            )
        if self.over:
            status = final_line(self.chips[player], self.chips[rival])
        elif player == self.to_act:
            status = YOUR_TURN[self.facing_bet]
            if self.rules.strict_format:
                status += f"\nReply as {STRICT_SHAPE}, your move in the answer."
        else:
            status = OPPONENTS_TURN
        return prompt(
            self.num_hands,
            self.hand,
            self.position(player),
            self.chips[player],
            self.chips[rival],
            self.card(player),
            self.history_string(),
            result,
            status,
            show_position=self.num_hands > 1 or not self.over,
        )

    def info(self, player: int) -> dict[str, object]:
        """``player``'s own card and the public betting, for scripted players;
        with a format bonus, the bonus earned so far."""
        info: dict[str, object] = {
            "card": CARDS[self.card(player)],
            "position": self.position(player),
            "betting": self.history_string(),
            "info_state": self.info_state_key(player),
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
            public += [r.public(player) for r in self.results[len(public) :]]
        return list(public)

    def render(self) -> str:
        """The whole table: both cards, betting, pot and chips."""
        cards = self.seat_cards()
        lines = [
            f"Hand {self.hand + 1}/{self.num_hands}, opener: player_{self.opener}",
            f"Cards: player_0 {CARDS[cards[0]]}, player_1 {CARDS[cards[1]]}",
            f"Betting: {self.history_string() or '-'}  Pot: {self.pot}",
            f"Chips: player_0 {self.chips[0]:+d}, player_1 {self.chips[1]:+d}",
        ]
        if self.over:
            lines.append(f"Match over; returns {self.returns()}")
        else:
            lines.append(f"player_{self.current_players()[0]} to act")
        return "\n".join(lines)


def answer_word(answer: str) -> str:
    """The move word of an extracted answer: lower case, LaTeX commands dropped."""
    # A plain move word is already what the normalisation yields: the vector rules
    # read every reply of a batch through here.
    if answer in _MOVE_WORDS:
        return answer
    return " ".join(_WORD.findall(_LATEX_COMMAND.sub(" ", answer).lower()))
