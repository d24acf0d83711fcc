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
"""

from __future__ import annotations

import enum
import functools
import itertools
import re
from typing import NamedTuple

import numpy as np

from selfplay_envs.core.game import State
from selfplay_envs.core.parsing import InvalidReason, ParseResult

__all__ = [
    "Action",
    "Reward",
    "HandResult",
    "KuhnPokerState",
    "CARDS",
    "DEALS",
    "ANTE",
    "BET_SIZE",
    "HAND_TENSOR_SIZE",
    "MATCH_FEATURES",
    "tensor_size",
]


class Action(enum.IntEnum):
    """OpenSpiel's action ids: Pass is check or fold, Bet is bet or call."""

    PASS = 0
    BET = 1


class Reward(str, enum.Enum):
    """How the final return is computed."""

    CHIPS = "chips"  # net chips won over all hands (a single hand: OpenSpiel's returns)
    MATCH = "match"  # +1 / -1 by cumulative chips, 0 on a tie


CARDS = ("J", "Q", "K")
ANTE = 1
BET_SIZE = 1
NUM_PLAYERS = 2
MAX_HAND_LENGTH = 3  # pass, bet, pass/bet
# OpenSpiel's information-state tensor: player one-hot, card one-hot, and one
# (pass, bet) pair for each of the three possible betting rounds.
HAND_TENSOR_SIZE = NUM_PLAYERS + len(CARDS) + 2 * MAX_HAND_LENGTH
# Extra numeric features of an N-hand match: hands played, own chips (both in [0, 1]).
MATCH_FEATURES = 2
# The 6 ordered deals (opener's card, responder's card), equally likely.
DEALS = tuple(itertools.permutations(range(len(CARDS)), 2))
_VALID_DEALS = frozenset(DEALS)
_LETTERS = "pb"  # OpenSpiel's history letters for Pass and Bet
_WORD = re.compile(r"[a-z]+")
_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+")  # \text{call}, \textbf{bet}


def tensor_size(num_hands: int) -> int:
    """Length of the numeric observation for a ``num_hands`` match."""
    return HAND_TENSOR_SIZE + (MATCH_FEATURES if num_hands > 1 else 0)


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
    """

    def __init__(
        self, deals: list[tuple[int, int]], reward: Reward | str = Reward.CHIPS
    ) -> None:
        if not deals:
            raise ValueError(f"expected at least one deal, got {deals!r}")
        for deal in deals:
            if tuple(deal) not in _VALID_DEALS:  # numpy ints hash as ints
                raise ValueError(f"expected two different cards in 0-2, got {deal!r}")
        self.deals = [(int(a), int(b)) for a, b in deals]  # numpy ints become ints
        self.reward = reward if type(reward) is Reward else Reward(reward)
        self.num_hands = len(self.deals)
        self.hand = 0
        self.history: list[int] = []
        self.betting = ""  # the same moves in OpenSpiel letters, kept for speed
        self.contributions = [ANTE, ANTE]
        self.chips = [0, 0]  # net chips of each seat over finished hands
        self.results: list[HandResult] = []
        self.over = False
        # Kept up to date by apply_action: they are read on every step.
        self.opener = 0  # seat that acts first in this hand: seat 0 in even hands
        self.facing_bet = False  # a bet is pending: the seat to act can fold or call
        self._to_act = 0
        # Per seat, built when first read: the public view of each finished hand,
        # and the last hand's result line.
        self._public_results: tuple[list[dict[str, object]], ...] = ([], [])
        self._result_lines: list[str | None] = [None, None]

    @classmethod
    def from_rng(
        cls, rng: np.random.Generator, num_hands: int, reward: Reward | str
    ) -> KuhnPokerState:
        """Deal ``num_hands`` hands from ``rng``; each of the 6 deals has chance 1/6."""
        picks = rng.integers(len(DEALS), size=num_hands)  # one draw for the match
        return cls([DEALS[i] for i in picks], reward)

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
        return self.deals[self.hand][player ^ self.opener]

    def seat_cards(self) -> tuple[int, int]:
        """Card of seat 0 and seat 1 in the current hand."""
        return self.card(0), self.card(1)

    def role(self, player: int) -> str:
        """``"opener"`` or ``"responder"`` in the current hand."""
        return "responder" if player ^ self.opener else "opener"

    @property
    def pot(self) -> int:
        """Chips in the middle: both antes plus every bet and call."""
        return self.contributions[0] + self.contributions[1]

    def history_string(self) -> str:
        """Betting of the current hand in OpenSpiel letters, e.g. ``"pb"``."""
        return self.betting

    def info_state_key(self, player: int) -> str:
        """OpenSpiel's information-state string of ``player`` in the current hand."""
        return f"{self.card(player)}{self.betting}"

    # ---- rules --------------------------------------------------------------------

    def current_players(self) -> list[int]:
        """The seat to act, or nobody once the match is over."""
        return [] if self.over else [self._to_act]

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
        """The worst possible result for ``loser``, so an invalid move never pays."""
        worst = 1.0 if self.reward is Reward.MATCH else float(2 * self.num_hands)
        return [-worst if p == loser else worst for p in range(NUM_PLAYERS)]

    def legal_actions(self, player: int) -> list[int]:
        """Pass and Bet for the seat to act; nothing for the other seat."""
        if self.over or player != self._to_act:
            return []
        return [0, 1]  # Action.PASS, Action.BET

    def legal_action_strings(self, player: int) -> list[str]:
        """``check, bet`` or ``fold, call`` for the seat to act (read every step)."""
        if self.over or player != self._to_act:
            return []
        return list(_WORDS[self.facing_bet])

    def action_to_string(self, player: int, action: int) -> str:
        """``check``/``bet`` with no bet pending, ``fold``/``call`` facing a bet."""
        del player  # The words depend on the betting only.
        return _WORDS[self.facing_bet][action == Action.BET]

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
            InvalidReason.UNPARSABLE,
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
        if action in (Action.PASS, Action.BET):
            return ParseResult.legal(Action(action))
        detail = f"expected action 0 (pass) or 1 (bet), got {action}"
        del player  # The adapter only asks the seat to act.
        return ParseResult.invalid(InvalidReason.ILLEGAL, detail)

    def apply_action(self, player: int, action: int) -> None:
        """Bet or call puts a chip in the pot; the hand is settled when betting ends."""
        try:
            action = _ACTION_OF[action]
        except KeyError:
            raise ValueError(
                f"expected action 0 (pass) or 1 (bet), got {action!r}"
            ) from None
        self.history.append(action)
        self.betting += _LETTERS[action]
        if action is Action.BET:
            self.contributions[player] += BET_SIZE
            self.facing_bet = True
        self._to_act = 1 - player
        if self._hand_over():
            self._settle()

    def _hand_over(self) -> bool:
        # Betting ends after "pp", "bp", "bb" (two moves but "pb") or three moves.
        moves = len(self.history)
        return moves == MAX_HAND_LENGTH or (moves == 2 and self.betting != "pb")

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
        result = HandResult(  # positional: several times cheaper than keywords
            self.hand, self.opener, cards, self.betting, winner, not folded, payoff
        )
        self.results.append(result)
        self._result_lines = [None, None]
        if self.hand + 1 == self.num_hands:
            self.over = True  # keep the last hand's betting for the final observations
            return
        self.hand += 1
        self.history = []
        self.betting = ""
        self.contributions = [ANTE, ANTE]
        self.opener = self.hand % 2
        self.facing_bet = False
        self._to_act = self.opener

    # ---- observations -------------------------------------------------------------

    def observation_tensor(self, player: int) -> np.ndarray:
        """OpenSpiel's information-state tensor, plus match features when N > 1.

        Layout: ``[0:2]`` position one-hot (opener, responder), ``[2:5]`` own card
        one-hot (J, Q, K), ``[5:11]`` one (pass, bet) pair per betting round; for a
        match, ``[11]`` hands finished / N and ``[12]`` (own chips + 2N) / 4N.
        """
        tensor = np.zeros(tensor_size(self.num_hands), dtype=np.float32)
        tensor[self.position(player)] = 1.0
        tensor[NUM_PLAYERS + self.card(player)] = 1.0
        for i, action in enumerate(self.history):
            tensor[NUM_PLAYERS + len(CARDS) + 2 * i + action] = 1.0
        if self.num_hands > 1:
            span = 2 * self.num_hands  # the most chips one can win or lose
            tensor[HAND_TENSOR_SIZE] = len(self.results) / self.num_hands
            tensor[HAND_TENSOR_SIZE + 1] = (self.chips[player] + span) / (2 * span)
        return tensor

    def observation_text(self, player: int) -> str:
        """Card, betting so far, pot, chips, hand number and legal moves."""
        result = None
        if self.results:
            result = self._result_lines[player]
            if result is None:
                last = self.results[-1]
                result = self._result_lines[player] = result_line(
                    last.hand,
                    last.winner == player,
                    abs(last.payoff[player]),
                    last.showdown,
                    last.cards[player],
                    last.cards[1 - player],
                )
        position = player ^ self.opener
        return prompt(
            self.num_hands,
            self.hand,
            position,
            self.chips[player],
            self.chips[1 - player],
            self.deals[self.hand][position],
            self.betting,
            result,
            self._status_line(player),
            show_position=self.num_hands > 1 or not self.over,
        )

    def _status_line(self, player: int) -> str:
        if self.over:
            mine, theirs = self.chips[player], self.chips[1 - player]
            verdict = (
                "You win."
                if mine > theirs
                else "You lose."
                if mine < theirs
                else "A tie."
            )
            return (
                f"The game is over. Final chips: you {mine:+d}, "
                f"opponent {theirs:+d}. {verdict}"
            )
        if player == self._to_act:
            return YOUR_TURN[self.facing_bet]
        return "It is your opponent's turn."

    def info(self, player: int) -> dict[str, object]:
        """``player``'s own card and the public betting, for scripted players."""
        card = self.card(player)
        return {
            "card": CARDS[card],
            "position": player ^ self.opener,
            "betting": self.betting,
            "info_state": f"{card}{self.betting}",
            "pot": self.pot,
            "hand": self.hand,
            "num_hands": self.num_hands,
            "chips": self.chips[player],
            "hand_results": self._hand_results(player),
        }

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
    if answer in _PLAIN_WORDS:  # already what the normalisation below yields
        return answer
    return " ".join(_WORD.findall(_LATEX_COMMAND.sub(" ", answer).lower()))


# Matches revisit the same few thousand prompts, and building one costs more than the
# rest of a step: keep the recent ones (bounded, since long matches have more).
@functools.lru_cache(maxsize=16_384)
def prompt(
    num_hands: int,
    hand: int,
    position: int,
    mine: int,
    theirs: int,
    card: int,
    betting: str,
    result: str | None,
    status: str,
    *,
    show_position: bool = True,
) -> str:
    """The text view of one seat, from plain values (the scalar state and the vector
    rules both render through here).

    Args:
        num_hands: Hands in the match.
        hand: 0-based index of the current hand.
        position: 0 for the hand's opener, 1 for the responder.
        mine: Net chips of this seat over finished hands.
        theirs: Net chips of its rival.
        card: This seat's card index.
        betting: The hand's betting in OpenSpiel letters.
        result: The line about the last finished hand, if any.
        status: The last line: whose turn, or the final result.
        show_position: Say who acts first in a single hand (dropped once it ended).
    """
    lines = [_intro(num_hands), ""]
    if num_hands > 1:
        first = "you act second" if position else "you act first"
        lines.append(f"Hand {hand + 1} of {num_hands} ({first}).")
        lines.append(f"Your chips so far: {mine:+d}; opponent: {theirs:+d}.")
    elif show_position:
        lines.append("You act second." if position else "You act first.")
    own = ANTE + BET_SIZE * betting[position::2].count("b")
    pot = 2 * ANTE + BET_SIZE * betting.count("b")
    lines += [
        f"Your card: {CARDS[card]}",
        f"Betting so far: {_BETTING_TEXT[betting, position]}",
        f"Pot: {pot} chips (you put in {own}, opponent {pot - own}).",
    ]
    if result is not None:
        lines.append(result)
    lines += ["", status]
    return "\n".join(lines)


def result_line(
    hand: int, won: bool, amount: int, showdown: bool, card: int, rival_card: int
) -> str:
    """The line about a finished hand, from one seat's side.

    Args:
        hand: 0-based hand index.
        won: This seat took the pot.
        amount: Chips won or lost (1 or 2).
        showdown: The cards were shown (otherwise someone folded).
        card: Card index of this seat.
        rival_card: Card index of its rival.
    """
    who = "You" if won else "Your opponent"
    chips = "chip" if amount == 1 else "chips"
    if showdown:
        how = f"at showdown (your {CARDS[card]} vs their {CARDS[rival_card]})"
    else:
        how = "after a fold"
    return f"Last hand (hand {hand + 1}): {who} won {amount} {chips} {how}."


_ACTION_OF = {0: Action.PASS, 1: Action.BET}  # Action members hash as their ints
_WORDS = (("check", "bet"), ("fold", "call"))  # [facing a bet][action]
_PLAIN_WORDS = frozenset(("pass", "bet", "check", "fold", "call"))
YOUR_TURN = tuple(
    f"It is your turn. Legal moves: {', '.join(words)}." for words in _WORDS
)


def _betting_words(betting: str, position: int) -> str:
    if not betting:
        return "none."
    words, facing = [], False
    for i, letter in enumerate(betting):
        who = "you" if i % 2 == position else "opponent"  # the opener moves first
        if letter == "b":
            words.append(f"{who} {'called' if facing else 'bet'}")
            facing = True
        else:
            words.append(f"{who} {'folded' if facing else 'checked'}")
    return ", ".join(words) + "."


# "Betting so far" of every reachable betting string, from either position.
# Every betting string a hand can reach, in a fixed order (the vector rules index it).
BETTINGS = ("", "p", "b", "pp", "pb", "bp", "bb", "pbp", "pbb")
_BETTING_TEXT = {
    (betting, position): _betting_words(betting, position)
    for betting in BETTINGS
    for position in (0, 1)
}


@functools.cache
def _intro(num_hands: int) -> str:
    text = (
        "You are playing Kuhn poker. The deck is J < Q < K; each player antes "
        f"{ANTE} chip and gets one card. With no bet pending you may check or bet "
        f"{BET_SIZE} chip; facing a bet you may fold or call. At showdown the "
        "higher card wins the pot."
    )
    if num_hands > 1:
        text += (
            f"\nThis is a {num_hands}-hand match: the player with more chips "
            "after the last hand wins."
        )
    return text
