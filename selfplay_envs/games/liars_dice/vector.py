"""Liar's Dice rules over a batch of games, for the numeric ``BatchedEnv``.

The same rules as ``rules.LiarsDiceState``, held as arrays: ``dice`` ``(N, 2, D)``
(each hand sorted), ``taken`` ``(N, A)`` the one bit per action already played (the
tail of the observation), ``last_bid`` ``(N,)`` (-1 before the first bid) and
``moves`` ``(N,)``. Each reset rolls from the game's own Generator with the very call
``LiarsDiceState.from_rng`` makes, so game ``i`` follows the scalar game exactly.

The text view renders through ``rules.prompt`` and reads replies through
``rules.read_answer``, the scalar state's own functions; ``history`` ``(N, A)`` keeps
each game's moves in order for the prompt (``taken`` would give them too, bids only
rise, but sorting every row costs more). A prompt names every bid, so it is rendered
per game and move, not cached.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selfplay_envs.core.parsing import extract_answer
from selfplay_envs.core.vector import VectorRules
from selfplay_envs.games.liars_dice.rules import (
    LiarsDiceState,
    faces_text,
    num_actions,
    prompt,
    read_answer,
    tensor_size,
    words,
)

__all__ = ["LiarsDiceVectorRules"]


class LiarsDiceVectorRules(VectorRules):
    """``num_envs`` games of Liar's Dice as arrays; see ``core.vector.VectorRules``.

    Args:
        num_envs: Games held at once.
        dice_per_player: Dice each player rolls.
        sides: Faces of a die; the highest is wild.
    """

    num_players = 2
    has_text = True

    def __init__(self, num_envs: int, dice_per_player: int, sides: int):
        super().__init__(num_envs)
        self.dice_per_player, self.sides = dice_per_player, sides
        self.num_actions = num_actions(dice_per_player, sides)
        self.observation_shape = (tensor_size(dice_per_player, sides),)
        self.liar = self.num_actions - 1
        self.dice = np.ones((num_envs, 2, dice_per_player), dtype=np.int64)
        self.taken = np.zeros((num_envs, self.num_actions), dtype=np.float32)
        self.last_bid = np.full(num_envs, -1, dtype=np.int64)
        self.moves = np.zeros(num_envs, dtype=np.int64)
        self.history = np.zeros((num_envs, self.num_actions), dtype=np.int64)
        self.words = words(dice_per_player, sides)
        self._ids = np.arange(self.num_actions)
        self._rows = np.arange(num_envs)
        # A die's one-hot slot in the observation: 2 + slot * sides + face - 1.
        self._slot_base = 1 + np.arange(dice_per_player) * sides

    def reset(self, mask: np.ndarray) -> None:
        """Roll new dice in the masked games, each from its own Generator."""
        games = np.flatnonzero(mask)
        for i in games.tolist():  # one draw per game, as the scalar game makes it
            self.dice[i] = self.rngs[i].integers(
                1, self.sides + 1, size=(2, self.dice_per_player)
            )
        self.dice[games] = np.sort(self.dice[games], axis=2)
        self.taken[games] = 0.0
        self.last_bid[games] = -1
        self.moves[games] = 0

    def acting(self) -> np.ndarray:
        """Player 0 after an even number of moves, else player 1."""
        return self.moves % 2

    def legal_mask(self) -> np.ndarray:
        """Bids above the standing one; the call once there is a bid."""
        mask = (self._ids[None, :] > self.last_bid[:, None]).astype(np.int8)
        mask[:, self.liar] = self.moves > 0
        return mask

    def observations(self) -> np.ndarray:
        """OpenSpiel's information-state tensor of each acting player."""
        acting = self.acting()
        tensor = np.zeros((self.num_envs, *self.observation_shape), dtype=np.float32)
        tensor[self._rows, acting] = 1.0
        own = self.dice[self._rows, acting]  # (N, D)
        tensor[self._rows[:, None], own + self._slot_base] = 1.0
        tensor[:, 2 + self.dice_per_player * self.sides :] = self.taken
        return tensor

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bid or call; an id out of range, not above the standing bid, or a first
        call leaves the game unchanged."""
        actions = np.asarray(actions, dtype=np.int64)
        bid = (actions > self.last_bid) & (actions >= 0) & (actions < self.liar)
        call = (actions == self.liar) & (self.moves > 0)
        valid = bid | call
        played = np.where(valid, actions, 0)
        self.taken[self._rows[valid], played[valid]] = 1.0
        self.history[self._rows[valid], self.moves[valid]] = played[valid]
        rewards = np.zeros((self.num_envs, 2), dtype=np.float32)
        if call.any():
            standing = self.last_bid[call]
            quantity = standing // self.sides + 1
            face = standing % self.sides + 1
            dice = self.dice[call].reshape(len(standing), -1)
            matching = (dice == face[:, None]) | (dice == self.sides)
            caller = self.moves[call] % 2
            loser = np.where(matching.sum(axis=1) >= quantity, caller, 1 - caller)
            rewards[call] = np.where(np.arange(2)[None, :] == loser[:, None], -1.0, 1.0)
        self.last_bid = np.where(bid, actions, self.last_bid)
        self.moves += valid
        return rewards, call, ~valid

    def texts(self) -> list[str]:
        """Each acting player's prompt, as ``LiarsDiceState.observation_text``."""
        table = self.words
        acting = self.acting()
        hands = self.dice[self._rows, acting].tolist()
        moves = self.moves.tolist()
        history = self.history[:, : max(moves)].tolist()
        return [
            prompt(table, player, faces_text(tuple(hand)), played[:n])
            for player, hand, played, n in zip(
                acting.tolist(), hands, history, moves, strict=True
            )
        ]

    def parse_texts(self, texts: Sequence[str]) -> np.ndarray:
        """The action each reply names, as ``LiarsDiceState.parse_action`` reads it
        (``step`` judges whether it is legal now); -1 where it names none."""
        table = self.words
        actions = []
        for text in texts:
            answer, _ = extract_answer(text)
            result = None if answer is None else read_answer(table, answer)
            actions.append(result.action if result is not None and result.ok else -1)
        return np.array(actions, dtype=np.int64)

    def episode_keys(self) -> np.ndarray:
        """Each game's dice: player 0's, then player 1's."""
        return self.dice.reshape(self.num_envs, -1).copy()

    def initial_state(self, key: np.ndarray) -> LiarsDiceState:
        """The scalar state with these dice."""
        d = self.dice_per_player
        faces = [int(x) for x in key]
        return LiarsDiceState((tuple(faces[:d]), tuple(faces[d:])), self.sides)
