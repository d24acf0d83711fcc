"""The text view of Leduc hold'em: the prompt one seat reads."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from selfplay_envs.core.presets import STRICT_SHAPE

if TYPE_CHECKING:
    from selfplay_envs.games.leduc_poker.rules import LeducPokerState

__all__ = ["prompt"]


def prompt(state: LeducPokerState, player: int) -> str:
    """The text view of ``player``: its card, the public card, betting and chips."""
    from selfplay_envs.games.leduc_poker.rules import card_name

    rival = 1 - player
    position = state.position(player)
    lines = [_intro(state.num_hands), ""]
    if state.num_hands > 1:
        first = "you act second" if position else "you act first"
        lines.append(f"Hand {state.hand + 1} of {state.num_hands} ({first}).")
        lines.append(
            f"Your chips so far: {state.chips[player]:+d}; "
            f"opponent: {state.chips[rival]:+d}."
        )
    else:
        lines.append("You act second." if position else "You act first.")
    public = card_name(state.public_card) if state.round else "not shown yet"
    own = state.contributions[position]
    lines += [
        f"Your card: {card_name(state.card(player))}. Public card: {public}.",
        f"Round 1 betting: {_betting(state.rounds[0], position)}",
    ]
    if state.round or state.rounds[1]:
        lines.append(f"Round 2 betting: {_betting(state.rounds[1], position)}")
    lines.append(
        f"Pot: {state.pot} chips (you put in {own}, opponent {state.pot - own})."
    )
    if state.results:
        lines.append(_result_line(state, player))
    lines += ["", _status(state, player)]
    return "\n".join(lines)


def _betting(moves: list[int], position: int) -> str:
    if not moves:
        return "none."
    words, raised = [], False
    for i, action in enumerate(moves):
        who = "you" if i % 2 == position else "opponent"  # the opener moves first
        if action == 2:
            words.append(f"{who} {'raised' if raised else 'bet'}")
            raised = True
        else:
            words.append(f"{who} {'called' if raised else 'checked'}")
    return ", ".join(words) + "."


def _result_line(state: LeducPokerState, player: int) -> str:
    from selfplay_envs.games.leduc_poker.rules import card_name

    last = state.results[-1]
    amount = abs(last.payoff[player])
    if last.winner < 0:
        who = "The pot was split"
    else:
        who = (
            f"{'You' if last.winner == player else 'Your opponent'} won {amount} chips"
        )
    if last.showdown:
        how = (
            f" at showdown (your {card_name(last.cards[player])} vs their "
            f"{card_name(last.cards[1 - player])}, public {card_name(last.public)})"
        )
    else:
        how = " after a fold"
    return f"Last hand (hand {last.hand + 1}): {who}{how}."


def _status(state: LeducPokerState, player: int) -> str:
    if state.over:
        mine, theirs = state.chips[player], state.chips[1 - player]
        verdict = (
            "You win." if mine > theirs else "You lose." if mine < theirs else "A tie."
        )
        return (
            f"The game is over. Final chips: you {mine:+d}, opponent {theirs:+d}. "
            f"{verdict}"
        )
    if player != state.current_players()[0]:
        return "It is your opponent's turn."
    words = []
    for action in state.legal_actions(player):
        word = state.action_to_string(player, action)
        if action == 1 and not state.owed():
            word = "check (call)"
        elif action == 2 and not state.raises:
            word = "bet (raise)"
        words.append(word)
    status = f"It is your turn. Legal moves: {', '.join(words)}."
    if state.rules.strict_format:
        status += f"\nReply as {STRICT_SHAPE}, your move in the answer."
    return status


@functools.cache
def _intro(num_hands: int) -> str:
    text = (
        "You are playing Leduc hold'em. The deck has six cards: two Jacks, two "
        "Queens and two Kings (J < Q < K). Each player antes 1 chip and gets one "
        "private card. There are two betting rounds; a raise is 2 chips in round 1 "
        "and 4 chips in round 2, at most 2 raises per round. After round 1 a public "
        "card is shown. At showdown a private card that pairs the public card wins; "
        "otherwise the higher card wins, and equal cards split the pot."
    )
    if num_hands > 1:
        text += (
            f"\nThis is a {num_hands}-hand match: the player with more chips "
            "after the last hand wins."
        )
    return text
