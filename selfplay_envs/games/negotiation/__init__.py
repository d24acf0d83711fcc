"""Negotiation: a fair, zero-sum trading game with private valuations (SPIRAL)."""

from selfplay_envs.games.negotiation.config import PRESETS, NegotiationConfig
from selfplay_envs.games.negotiation.env import NegotiationGame
from selfplay_envs.games.negotiation.moves import (
    ActionCodec,
    Move,
    MoveKind,
    Offer,
    parse_reply,
)
from selfplay_envs.games.negotiation.rules import NegotiationState

__all__ = [
    "PRESETS",
    "ActionCodec",
    "Move",
    "MoveKind",
    "NegotiationConfig",
    "NegotiationGame",
    "NegotiationState",
    "Offer",
    "parse_reply",
]
