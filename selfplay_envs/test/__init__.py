"""The conformance suite, shipped in the package so third-party games can run it.

``python -m selfplay_envs.test [ENV_ID ...]`` runs ``check_env`` on each id (default:
every registered game, an installed package's included), in every view it has.
"""

from selfplay_envs.test.conformance import (
    check_conversions,
    check_env,
    check_game_info_at_reset,
    check_parallel_random_play,
    check_pickle_replay,
    check_random_play,
    check_rng_determinism,
    conformance_configs,
    unavailable_reason,
)

__all__ = [
    "check_conversions",
    "check_env",
    "check_game_info_at_reset",
    "check_parallel_random_play",
    "check_pickle_replay",
    "check_random_play",
    "check_rng_determinism",
    "conformance_configs",
    "unavailable_reason",
]
