"""Kuhn poker rules over a batch of matches, for ``BatchedEnv`` (both views).

The same rules as ``rules.KuhnPokerState`` (one hand is OpenSpiel's ``kuhn_poker``; an
N-hand match alternates the opener and carries chips over), held as arrays. Each game
deals from its own Generator with the very call the scalar
``KuhnPokerState.from_rng`` makes, so game ``i`` sees the same cards as the generic
path seeded alike. To save the cost of a Generator call per match, each game draws the
deals of several matches ahead in one call: numpy's ``Generator.integers`` yields the
same numbers in one call of size k as in k calls of size 1, so the hands are those of
the generic path (the differential tests check it). The only visible difference is
the Generator's internal state, which the env never exposes.

The text view renders through ``render.prompt``, the scalar state's own renderer, and
keeps each distinct prompt: a prompt is fixed by a handful of small integers (hand,
position, both chip counts, card, betting, the last hand's result), so a training run
renders each one once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selfplay_envs.core.parsing import extract_answer
from selfplay_envs.core.vector import VectorRules
from selfplay_envs.games.kuhn_poker.constants import (
    ANTE,
    BET_SIZE,
    BETTINGS,
    CARDS,
    DEALS,
    NUM_PLAYERS,
    Action,
)
from selfplay_envs.games.kuhn_poker.observation import tensor_size
from selfplay_envs.games.kuhn_poker.render import YOUR_TURN, prompt, result_line
from selfplay_envs.games.kuhn_poker.rules import KuhnPokerState, Reward, answer_word

__all__ = ["KuhnPokerVectorRules"]

# Deals drawn per Generator call: one call costs as much as a few dozen single deals.
DEALS_AHEAD = 64
# Distinct prompts kept; past this the cache starts afresh (long matches only).
TEXT_CACHE_SIZE = 200_000
# Prompt keys are int64 and grow as num_hands**3: longer matches take the generic path
# in the text view.
MAX_TEXT_HANDS = 10_000
_DEALS = np.array(DEALS, dtype=np.int64)  # (6, 2): opener's card, responder's card
_HEAD = NUM_PLAYERS + len(CARDS)  # position and card one-hots, before the betting
# _HEADS[3 * position + card]: the first five entries of the information-state tensor.
_HEADS = np.zeros((NUM_PLAYERS * len(CARDS), _HEAD), dtype=np.float32)
for _position in range(NUM_PLAYERS):
    for _card in range(len(CARDS)):
        _HEADS[3 * _position + _card, _position] = 1.0
        _HEADS[3 * _position + _card, NUM_PLAYERS + _card] = 1.0

# The betting of a hand as an index into rules.BETTINGS, and what follows from it.
_CODE = {betting: code for code, betting in enumerate(BETTINGS)}
_NEXT = np.array(  # _NEXT[code, action]: the betting after one more move
    [
        [_CODE.get(b + "p", code), _CODE.get(b + "b", code)]
        for code, b in enumerate(BETTINGS)
    ]
)
_LENGTH = np.array([len(b) for b in BETTINGS])
# Betting ends after pp, bp, bb or three moves; a bet is pending after b and pb.
_HAND_OVER = np.array([b in ("pp", "bp", "bb", "pbp", "pbb") for b in BETTINGS])
_FACING = np.array([b in ("b", "pb") for b in BETTINGS])
# Reply words, by rules.answer_word: the action with no bet pending and facing one
# (-1: invalid there). Any other word is unparseable.
_WORD_ACTION = {
    "pass": (0, 0),
    "bet": (1, 1),
    "check": (0, -1),
    "fold": (-1, 0),
    "call": (-1, 1),
}
_WORDS = list(_WORD_ACTION)
_WORD_INDEX = {word: i for i, word in enumerate(_WORDS)}
_ACTION_OF_WORD = np.array([*_WORD_ACTION.values(), (-1, -1)], dtype=np.int64)
_UNPARSEABLE = len(_WORDS)


class KuhnPokerVectorRules(VectorRules):
    """``num_envs`` Kuhn poker matches as arrays; see ``core.vector.VectorRules``.

    Args:
        num_envs: Games held at once.
        reward: ``"chips"`` (net chips) or ``"match"`` (+1 / -1 / 0 by total chips).
        num_hands: Hands in each match.
    """

    num_players = NUM_PLAYERS
    num_actions = len(Action)
    has_text = True

    def __init__(
        self, num_envs: int, reward: Reward | str = Reward.CHIPS, num_hands: int = 1
    ):
        super().__init__(num_envs)
        self.num_hands = num_hands
        self.has_text = num_hands <= MAX_TEXT_HANDS
        self.reward = Reward(reward)
        self.observation_shape = (tensor_size(num_hands),)
        self._rows = np.arange(num_envs)
        # Deals of each game's match (indices into DEALS), and whole matches drawn
        # ahead from each game's Generator with the next one to use.
        self.deals = np.zeros((num_envs, num_hands), dtype=np.int64)
        self._ahead = max(1, DEALS_AHEAD // num_hands)
        self._deals_ahead = np.zeros((num_envs, self._ahead, num_hands), dtype=np.int64)
        self._next_match = np.full(num_envs, self._ahead, dtype=np.int64)
        self.hand = np.zeros(num_envs, dtype=np.int64)
        self.cards = np.zeros((num_envs, NUM_PLAYERS), dtype=np.int64)  # by position
        self.code = np.zeros(num_envs, dtype=np.int64)  # the betting, see _CODE
        self.contributions = np.full((num_envs, NUM_PLAYERS), ANTE, dtype=np.int64)
        self.chips = np.zeros((num_envs, NUM_PLAYERS), dtype=np.int64)  # by seat
        # The betting part of the tensor: one (pass, bet) pair per move.
        self.betting = np.zeros((num_envs, 2 * 3), dtype=np.float32)
        # The last finished hand, for the text view: winner seat, chips won, whether
        # it went to showdown, and each seat's card.
        self.last_winner = np.zeros(num_envs, dtype=np.int64)
        self.last_amount = np.zeros(num_envs, dtype=np.int64)
        self.last_showdown = np.zeros(num_envs, dtype=np.int64)
        self.last_cards = np.zeros((num_envs, NUM_PLAYERS), dtype=np.int64)
        self._texts: dict[int, str] = {}

    def seed(self, rngs: Sequence[np.random.Generator]) -> None:
        """Take each game's Generator and drop the deals drawn ahead from the old ones."""
        super().seed(rngs)
        self._next_match[:] = self._ahead

    def reset(self, mask: np.ndarray) -> None:
        """Deal a fresh match to the masked games, each from its own Generator."""
        games = np.flatnonzero(mask)
        for i in games[self._next_match[games] == self._ahead]:
            # One call for several matches yields the stream of as many calls of
            # KuhnPokerState.from_rng; the tests check it against the generic path.
            draws = self.rngs[i].integers(len(DEALS), size=self._ahead * self.num_hands)
            self._deals_ahead[i] = draws.reshape(self._ahead, self.num_hands)
            self._next_match[i] = 0
        self.deals[games] = self._deals_ahead[games, self._next_match[games]]
        self._next_match[games] += 1
        self.hand[games] = 0
        self.chips[games] = 0
        self._new_hand(games)

    def _new_hand(self, games: np.ndarray) -> None:
        self.cards[games] = _DEALS[self.deals[games, self.hand[games]]]
        self.code[games] = 0
        self.contributions[games] = ANTE
        self.betting[games] = 0.0

    def acting(self) -> np.ndarray:
        """The opener (seat 0 in even hands) moves first; the seats alternate."""
        return (self.hand + _LENGTH[self.code]) % NUM_PLAYERS

    def legal_mask(self) -> np.ndarray:
        """Pass and Bet are always legal for the seat to act."""
        return np.ones((self.num_envs, self.num_actions), dtype=np.int8)

    def observations(self) -> np.ndarray:
        """OpenSpiel's information-state tensor of each seat to act, plus the match
        features of ``KuhnPokerState.observation_tensor`` when N > 1."""
        position = _LENGTH[self.code] % NUM_PLAYERS
        heads = _HEADS[len(CARDS) * position + self.cards[self._rows, position]]
        if self.num_hands == 1:
            return np.concatenate([heads, self.betting], axis=1)
        span = 2 * self.num_hands  # the most chips one can win or lose
        own = self.chips[self._rows, self.acting()]
        match = np.stack([self.hand / self.num_hands, (own + span) / (2 * span)], 1)
        return np.concatenate([heads, self.betting, match.astype(np.float32)], axis=1)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pass or bet; settle the hands whose betting ended, then deal the next."""
        rows, code = self._rows, self.code
        moves = _LENGTH[code]
        opener = self.hand % NUM_PLAYERS
        player = (moves + opener) % NUM_PLAYERS
        valid = (actions == Action.PASS) | (actions == Action.BET)
        action = np.where(valid, actions, 0)
        # The slot is clipped so that an ended hand stepped with an invalid action
        # (index 6) stays a no-op.
        slot = np.minimum(2 * moves + action, self.betting.shape[1] - 1)
        self.betting[rows, slot] += valid
        self.contributions[rows, player] += BET_SIZE * (valid & (action == Action.BET))
        self.code = np.where(valid, _NEXT[code, action], code)
        over = valid & _HAND_OVER[self.code]
        folded = (action == Action.PASS) & _FACING[code]
        seat_cards = np.stack(
            [self.cards[rows, opener], self.cards[rows, 1 - opener]], axis=1
        )
        showdown_winner = np.where(seat_cards[:, 0] > seat_cards[:, 1], 0, 1)
        winner = np.where(folded, 1 - player, showdown_winner)
        won = self.contributions[rows, 1 - winner]  # the loser's chips in the pot
        seat0 = np.where(over, np.where(winner == 0, won, -won), 0)
        self.chips[:, 0] += seat0
        self.chips[:, 1] -= seat0
        self.last_winner = np.where(over, winner, self.last_winner)
        self.last_amount = np.where(over, won, self.last_amount)
        self.last_showdown = np.where(over, ~folded, self.last_showdown)
        self.last_cards = np.where(over[:, None], seat_cards, self.last_cards)
        ended = over & (self.hand + 1 == self.num_hands)
        if self.reward is Reward.CHIPS:
            rewards = self.chips * ended[:, None]
        else:
            sign = np.sign(self.chips[:, 0] - self.chips[:, 1]) * ended
            rewards = np.stack([sign, -sign], axis=1)
        next_hand = np.flatnonzero(over & ~ended)
        if len(next_hand):
            self.hand[next_hand] += 1
            self._new_hand(next_hand)
        return rewards.astype(np.float32), ended, ~valid

    def forfeit_returns(self, losers: np.ndarray) -> np.ndarray:
        """The worst result for the loser (as ``KuhnPokerState.forfeit_returns``)."""
        worst = 1.0 if self.reward is Reward.MATCH else 2.0 * self.num_hands
        seat0 = np.where(losers == 0, -worst, worst)
        return np.stack([seat0, -seat0], axis=1).astype(np.float32)

    def episode_keys(self) -> np.ndarray:
        """The deal of each hand, an index into ``rules.DEALS``: ``(N, num_hands)``."""
        return self.deals.copy()

    def initial_state(self, key: np.ndarray) -> KuhnPokerState:
        """The match dealt ``DEALS[k]`` for each ``k`` in ``key``."""
        return KuhnPokerState([DEALS[int(k)] for k in key], self.reward)

    # ---- the text view ------------------------------------------------------------

    def texts(self) -> list[str]:
        """Each acting seat's prompt, rendered once per distinct prompt."""
        keys = self._prompt_keys()
        cache = self._texts
        if len(cache) > TEXT_CACHE_SIZE:
            cache.clear()
        texts = []
        for i, key in enumerate(keys.tolist()):
            text = cache.get(key)
            if text is None:
                text = cache[key] = self._render(i)
            texts.append(text)
        return texts

    def _prompt_keys(self) -> np.ndarray:
        """One int per game that fixes the acting seat's prompt (mixed radix)."""
        rows, seat = self._rows, self.acting()
        span = 2 * self.num_hands
        position = _LENGTH[self.code] % NUM_PLAYERS
        key = self.hand * NUM_PLAYERS + position
        for chips in (self.chips[rows, seat], self.chips[rows, 1 - seat]):
            key = key * (2 * span + 1) + chips + span
        key = key * len(CARDS) + self.cards[rows, position]
        key = key * len(BETTINGS) + self.code
        # The last hand's result from this seat's side: 72 cases, 0 for none yet.
        last = (
            (self.last_winner == seat)
            + 2 * (self.last_amount - 1)
            + 4 * self.last_showdown
            + 8 * self.last_cards[rows, seat]
            + 24 * self.last_cards[rows, 1 - seat]
        )
        return key * 73 + np.where(self.hand > 0, 1 + last, 0)

    def _render(self, i: int) -> str:
        seat = int(self.acting()[i])
        code, hand = int(self.code[i]), int(self.hand[i])
        position = len(BETTINGS[code]) % NUM_PLAYERS
        result = None
        if hand > 0:
            result = result_line(
                hand - 1,
                bool(self.last_winner[i] == seat),
                int(self.last_amount[i]),
                bool(self.last_showdown[i]),
                int(self.last_cards[i, seat]),
                int(self.last_cards[i, 1 - seat]),
            )
        return prompt(
            self.num_hands,
            hand,
            position,
            int(self.chips[i, seat]),
            int(self.chips[i, 1 - seat]),
            int(self.cards[i, position]),
            BETTINGS[code],
            result,
            YOUR_TURN[bool(_FACING[code])],
        )

    def parse_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Action ids of the replies, as ``KuhnPokerState.parse_action`` reads them
        (-1 where it finds no move, or check / fold / call where they are illegal)."""
        words = []
        for text in texts:
            answer, _ = extract_answer(text)
            if answer is None:
                words.append(_UNPARSEABLE)
            else:
                words.append(_WORD_INDEX.get(answer_word(answer), _UNPARSEABLE))
        return _ACTION_OF_WORD[words, _FACING[self.code].astype(np.int64)]
