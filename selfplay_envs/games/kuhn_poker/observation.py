"""The numeric view of Kuhn poker: OpenSpiel's information-state tensor.

Layout: ``[0:2]`` position one-hot (opener, responder), ``[2:5]`` own card one-hot
(J, Q, K), ``[5:11]`` one (pass, bet) pair per betting round; for a match, ``[11]``
hands finished / N and ``[12]`` (own chips + 2N) / 4N.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from selfplay_envs.games.kuhn_poker.constants import CARDS, MAX_HAND_LENGTH, NUM_PLAYERS

__all__ = [
    "HAND_TENSOR_SIZE",
    "MATCH_FEATURES",
    "information_state_tensor",
    "tensor_size",
]

# OpenSpiel's information-state tensor: player one-hot, card one-hot, and one
# (pass, bet) pair for each of the three possible betting rounds.
HAND_TENSOR_SIZE = NUM_PLAYERS + len(CARDS) + 2 * MAX_HAND_LENGTH
# Extra numeric features of an N-hand match: hands played, own chips (both in [0, 1]).
MATCH_FEATURES = 2


def tensor_size(num_hands: int) -> int:
    """Length of the numeric observation for a ``num_hands`` match."""
    return HAND_TENSOR_SIZE + (MATCH_FEATURES if num_hands > 1 else 0)


def information_state_tensor(
    num_hands: int,
    position: int,
    card: int,
    history: Sequence[int],
    hands_finished: int,
    chips: int,
) -> np.ndarray:
    """The tensor of one seat, from plain values.

    Args:
        num_hands: Hands in the match.
        position: 0 for the hand's opener, 1 for the responder.
        card: This seat's card index.
        history: The hand's actions so far (0 = pass, 1 = bet).
        hands_finished: Hands of the match already settled.
        chips: This seat's net chips over those hands.
    """
    tensor = np.zeros(tensor_size(num_hands), dtype=np.float32)
    tensor[position] = 1.0
    tensor[NUM_PLAYERS + card] = 1.0
    for i, action in enumerate(history):
        tensor[NUM_PLAYERS + len(CARDS) + 2 * i + action] = 1.0
    if num_hands > 1:
        span = 2 * num_hands  # the most chips one can win or lose
        tensor[HAND_TENSOR_SIZE] = hands_finished / num_hands
        tensor[HAND_TENSOR_SIZE + 1] = (chips + span) / (2 * span)
    return tensor
