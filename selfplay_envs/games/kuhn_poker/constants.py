"""The facts of Kuhn poker that the rules, the observation and the rendering share."""

from __future__ import annotations

import enum
import itertools

__all__ = [
    "Action",
    "ANTE",
    "BET_SIZE",
    "BETTINGS",
    "CARDS",
    "DEALS",
    "LETTERS",
    "MAX_HAND_LENGTH",
    "NUM_PLAYERS",
]


class Action(enum.IntEnum):
    """OpenSpiel's action ids: Pass is check or fold, Bet is bet or call."""

    PASS = 0
    BET = 1


CARDS = ("J", "Q", "K")
ANTE = 1
BET_SIZE = 1
NUM_PLAYERS = 2
MAX_HAND_LENGTH = 3  # pass, bet, pass/bet
# The 6 ordered deals (opener's card, responder's card), equally likely.
DEALS = tuple(itertools.permutations(range(len(CARDS)), 2))
LETTERS = "pb"  # OpenSpiel's history letters for Pass and Bet
# Every betting string a hand can reach, in a fixed order (the vector rules index it).
BETTINGS = ("", "p", "b", "pp", "pb", "bp", "bb", "pbp", "pbb")
