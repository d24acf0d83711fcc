"""The conformance suite, shipped in the package so third-party games can run it."""

from selfplay_envs.test.conformance import (
    check_conversions,
    check_env,
    check_parallel_random_play,
    check_pickle_replay,
    check_random_play,
    check_rng_determinism,
    unavailable_reason,
)

__all__ = [
    "check_conversions",
    "check_env",
    "check_parallel_random_play",
    "check_pickle_replay",
    "check_random_play",
    "check_rng_determinism",
    "unavailable_reason",
]
