"""Kuhn poker rules over a batch of single hands, for the numeric ``BatchedEnv``.

The same rules as ``rules.KuhnPokerState`` with ``num_hands=1`` (OpenSpiel's
``kuhn_poker``), held as arrays. Seat 0 opens every single hand, so a seat's position
is its index. Each game deals from its own Generator with the very call the scalar
``KuhnPokerState.from_rng`` makes, so game ``i`` sees the same cards as the generic
path seeded alike. To save the cost of a Generator call per hand, each game draws 64
deals ahead in one call: numpy's ``Generator.integers`` yields the same numbers in one
call of size k as in k calls of size 1, so the hands are those of the generic path
(the differential tests check it). The only visible difference is the Generator's
internal state, which the env never exposes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selfplay_envs.core.vector import VectorRules
from selfplay_envs.games.kuhn_poker.rules import (
    ANTE,
    BET_SIZE,
    CARDS,
    DEALS,
    HAND_TENSOR_SIZE,
    MAX_HAND_LENGTH,
    NUM_PLAYERS,
    Action,
    KuhnPokerState,
    Reward,
)

__all__ = ["KuhnPokerVectorRules"]

# Deals drawn per Generator call: one call costs as much as a few dozen single deals.
DEALS_AHEAD = 64
_DEALS = np.array(DEALS, dtype=np.int64)  # (6, 2): opener's card, responder's card
_HEAD = NUM_PLAYERS + len(CARDS)  # position and card one-hots, before the betting
# _HEADS[3 * position + card]: the first five entries of the information-state tensor.
_HEADS = np.zeros((NUM_PLAYERS * len(CARDS), _HEAD), dtype=np.float32)
for _position in range(NUM_PLAYERS):
    for _card in range(len(CARDS)):
        _HEADS[3 * _position + _card, _position] = 1.0
        _HEADS[3 * _position + _card, NUM_PLAYERS + _card] = 1.0


class KuhnPokerVectorRules(VectorRules):
    """``num_envs`` single hands of Kuhn poker as arrays; see ``VectorRules``.

    Args:
        num_envs: Games held at once.
        reward: ``"chips"`` (+-1 / +-2) or ``"match"`` (+-1).
    """

    num_players = NUM_PLAYERS
    num_actions = len(Action)
    observation_shape = (HAND_TENSOR_SIZE,)

    def __init__(self, num_envs: int, reward: Reward | str = Reward.CHIPS):
        super().__init__(num_envs)
        self.reward = Reward(reward)
        self._rows = np.arange(num_envs)
        self.deals = np.zeros(num_envs, dtype=np.int64)  # index into DEALS
        # Deals drawn ahead from each game's Generator, and the next one to use.
        self._deals_ahead = np.zeros((num_envs, DEALS_AHEAD), dtype=np.int64)
        self._next_deal = np.full(num_envs, DEALS_AHEAD, dtype=np.int64)
        self.cards = np.zeros((num_envs, NUM_PLAYERS), dtype=np.int64)
        self.moves = np.zeros(num_envs, dtype=np.int64)
        self.first = np.zeros(num_envs, dtype=np.int64)  # the opener's action
        self.facing_bet = np.zeros(num_envs, dtype=bool)
        self.contributions = np.full((num_envs, NUM_PLAYERS), ANTE, dtype=np.int64)
        # The betting part of the tensor: one (pass, bet) pair per move.
        self.betting = np.zeros((num_envs, 2 * MAX_HAND_LENGTH), dtype=np.float32)

    def seed(self, rngs: Sequence[np.random.Generator]) -> None:
        """Take each game's Generator and drop the deals drawn ahead from the old ones."""
        super().seed(rngs)
        self._next_deal[:] = DEALS_AHEAD

    def reset(self, mask: np.ndarray) -> None:
        """Deal a fresh hand to the masked games, each from its own Generator."""
        games = np.flatnonzero(mask)
        for i in games[self._next_deal[games] == DEALS_AHEAD]:
            # One call for DEALS_AHEAD hands yields the stream of as many calls of
            # KuhnPokerState.from_rng (one deal each); the tests check it against
            # the generic path.
            self._deals_ahead[i] = self.rngs[i].integers(len(DEALS), size=DEALS_AHEAD)
            self._next_deal[i] = 0
        self.deals[games] = self._deals_ahead[games, self._next_deal[games]]
        self._next_deal[games] += 1
        self.cards[games] = _DEALS[self.deals[games]]
        self.moves[games] = 0
        self.first[games] = 0
        self.facing_bet[games] = False
        self.contributions[games] = ANTE
        self.betting[games] = 0.0

    def acting(self) -> np.ndarray:
        """Seat 0 opens; the seats alternate."""
        return self.moves % NUM_PLAYERS

    def legal_mask(self) -> np.ndarray:
        """Pass and Bet are always legal for the seat to act."""
        return np.ones((self.num_envs, self.num_actions), dtype=np.int8)

    def observations(self) -> np.ndarray:
        """OpenSpiel's information-state tensor of each seat to act, ``(N, 11)``."""
        player = self.acting()
        heads = _HEADS[len(CARDS) * player + self.cards[self._rows, player]]
        return np.concatenate([heads, self.betting], axis=1)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pass or bet; settle the hands whose betting ended."""
        rows, moves = self._rows, self.moves
        player = moves % NUM_PLAYERS
        valid = (actions == Action.PASS) | (actions == Action.BET)
        action = np.where(valid, actions, 0)
        bet = valid & (action == Action.BET)
        self.betting[rows, 2 * moves + action] += valid
        self.contributions[rows, player] += BET_SIZE * bet
        self.facing_bet |= bet
        self.first = np.where(valid & (moves == 0), action, self.first)
        self.moves = moves = moves + valid
        # Betting ends after pp, bp, bb, or any three moves (only pb goes on).
        check_bet = (self.first == Action.PASS) & (action == Action.BET)
        over = valid & ((moves == MAX_HAND_LENGTH) | ((moves == 2) & ~check_bet))
        folded = (action == Action.PASS) & self.facing_bet
        showdown_winner = np.where(self.cards[:, 0] > self.cards[:, 1], 0, 1)
        winner = np.where(folded, 1 - player, showdown_winner)
        won = self.contributions[rows, 1 - winner]  # the loser's chips in the pot
        if self.reward is Reward.MATCH:
            won = np.ones_like(won)
        seat0 = np.where(over, np.where(winner == 0, won, -won), 0)
        rewards = np.stack([seat0, -seat0], axis=1).astype(np.float32)
        return rewards, over, ~valid

    def forfeit_returns(self, losers: np.ndarray) -> np.ndarray:
        """The worst result for the loser (as ``KuhnPokerState.forfeit_returns``)."""
        worst = 1.0 if self.reward is Reward.MATCH else 2.0
        seat0 = np.where(losers == 0, -worst, worst)
        return np.stack([seat0, -seat0], axis=1).astype(np.float32)

    def episode_keys(self) -> np.ndarray:
        """The deal of each hand, an index into ``rules.DEALS``: ``(N, 1)``."""
        return self.deals[:, None].copy()

    def initial_state(self, key: np.ndarray) -> KuhnPokerState:
        """The single hand dealt ``DEALS[key[0]]``."""
        return KuhnPokerState([DEALS[int(key[0])]], self.reward)
