"""The text view of Kuhn poker: the prompt one seat reads.

Everything here renders plain values (cards, chips, the betting in OpenSpiel letters),
so the scalar state and the vector rules render through the same functions.
"""

from __future__ import annotations

import functools

from selfplay_envs.games.kuhn_poker.constants import ANTE, BET_SIZE, BETTINGS, CARDS

__all__ = ["WORDS", "YOUR_TURN", "final_line", "prompt", "result_line"]

WORDS = (("check", "bet"), ("fold", "call"))  # [facing a bet][action]
YOUR_TURN = tuple(
    f"It is your turn. Legal moves: {', '.join(words)}." for words in WORDS
)
OPPONENTS_TURN = "It is your opponent's turn."


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
    """The text view of one seat.

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


def final_line(mine: int, theirs: int) -> str:
    """The status line once the match is over, from one seat's side."""
    verdict = (
        "You win." if mine > theirs else "You lose." if mine < theirs else "A tie."
    )
    return (
        f"The game is over. Final chips: you {mine:+d}, opponent {theirs:+d}. {verdict}"
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
