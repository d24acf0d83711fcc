"""Every env judges a reply in time linear in its length.

A looping or hostile model writes degenerate text: thousands of unclosed tags, fences,
brackets, nested ``\\boxed{}``, a megabyte of one character
(``selfplay_envs.test.adversarial.FAMILIES``). A parser that backtracks or rescans
takes quadratic time on some of them, and one ``step`` then stalls a training run for
seconds or minutes. Each test times the full ``env.step`` (AEC and Parallel) on one
family at two sizes in the same process, ``N`` and ``4N`` characters, and asserts
that the larger takes less than ``RATIO`` (10 = 4 x 2.5) times the smaller: a linear
parser gives about 4, a quadratic one about 16. Times are CPU times
(``time.process_time``), the least of a few interleaved repeats, with the garbage
collector off while a step runs; no wall-clock limit is asserted.

The env cuts a reply to ``GameInfo.max_text_length`` before parsing it. To time the
parsers themselves on long replies, the tests lift that limit on the episode
(``episode.max_text_length``); ``test_over_long_replies_cost_the_same`` checks the
cut with the real limit. The default run times the families that target each env's
parsers; the ``slow`` test times every family on every env.
"""

from __future__ import annotations

import gc
import time

import pytest
from envs import env_params

import selfplay_envs
from selfplay_envs.core.errors import DependencyNotInstalled
from selfplay_envs.test.adversarial import FAMILIES

RATIO = 10.0  # 4N / N * 2.5
FLOOR = 2e-4  # seconds: below this a step is all fixed cost, and noise
N = 16_384
LIFTED = 1 << 24  # characters: no reply in these tests is cut
REPEATS = 3

# Families that hit what every parser shares (answer tags, think blocks, odd
# characters), then those that target one game's grammar.
_COMMON = [
    "unclosed <answer>",
    "unclosed <think>",
    "unclosed \\boxed{",
    "nested \\boxed",
    "brackets and boxes",
    "opening brackets",
    "NULs",
    "control characters",
    "one character",
    "digits",
]
FAST_FAMILIES = {
    "tic_tac_toe_v0": _COMMON + ["bracket answers", "spaces then a word"],
    "kuhn_poker_v0": _COMMON + ["bracket answers", "\\boxed{\\text{"],
    "negotiation_v0": _COMMON + ["unclosed [Offer", "many offers items"],
    "who_is_the_spy_v0": _COMMON + ["closed <answer> tags", "spaces"],
    "core_war_v0": [
        "unclosed <think>",
        "repeated ``` fences",
        "alternating fences",
        "fence, spaces, backtick",
        "unclosed fence of blank lines",
        "line continuations",
        "many instructions",
        "many labels",
        "deep parentheses",
        "NULs",
        "one character",
    ],
    "search_qa_v0": [
        "unclosed <search>",
        "unclosed <question>",
        "unclosed <answer>",
        "unclosed <think>",
        "closed <search> tags",
        "one open, closes after",
        "closing tags only",
        "nested \\boxed",
        "NULs",
        "one character",
    ],
    "bug_repair_v0": [
        "unclosed <tool",
        "unclosed <tool name>",
        "unclosed <think>",
        "many tool attributes",
        "deep JSON tool body",
        "less-than signs",
        "repeated ``` fences",
        "NULs",
        "one character",
    ],
}


def _make(api: str, env_id: str):
    maker = selfplay_envs.make if api == "aec" else selfplay_envs.make_parallel
    try:
        # Invalid replies never end the episode, so one reset serves many steps.
        return maker(
            env_id,
            view="text",
            invalid_move={"mode": "retry", "max_retries": 10**9},
            max_attempts=10**9,
        )
    except DependencyNotInstalled as e:
        pytest.skip(str(e))


class _Stepper:
    """Times one ``step`` of an env on a reply, resetting when a step changed the
    game (a valid reply) so that every timed step judges the same position."""

    def __init__(self, api: str, env_id: str, limit: int = LIFTED):
        self.api = api
        self.env = _make(api, env_id)
        self.limit = limit
        self.stale = True

    def _fresh(self) -> None:
        if self.stale:
            self.env.reset(seed=0)
            self.env.episode.max_text_length = self.limit
            self.stale = False

    def time(self, text: str) -> float:
        self._fresh()
        env = self.env
        gc.disable()
        try:
            if self.api == "aec":
                start = time.process_time()
                env.step(text)
                env.last()
            else:
                actions = dict.fromkeys(env.agents, text)
                start = time.process_time()
                env.step(actions)
            elapsed = time.process_time() - start
        finally:
            gc.enable()
        episode = env.episode
        self.stale = episode.done or bool(episode.records and episode.records[-1].valid)
        return elapsed


def _ratio(stepper: _Stepper, small: str, large: str) -> tuple[float, float]:
    """The least time of ``REPEATS`` steps on each reply, interleaved."""
    times: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(REPEATS):
        times[0].append(stepper.time(small))
        times[1].append(stepper.time(large))
    return min(times[0]), min(times[1])


def _check(env_id: str, api: str, families: list[str], n: int = N) -> None:
    stepper = _Stepper(api, env_id)
    slow = []
    for name in families:
        small, large = FAMILIES[name](n), FAMILIES[name](4 * n)
        t_small, t_large = _ratio(stepper, small, large)
        if t_large > RATIO * max(t_small, FLOOR):
            slow.append(f"{name}: {t_small * 1e3:.2f} ms -> {t_large * 1e3:.2f} ms")
    assert not slow, f"{env_id} ({api}) is not linear on: " + "; ".join(slow)


@pytest.mark.parametrize("api", ["aec", "parallel"])
@pytest.mark.parametrize("env_id", env_params())
def test_step_is_linear_in_the_reply(env_id: str, api: str) -> None:
    _check(env_id, api, FAST_FAMILIES.get(env_id, _COMMON))


@pytest.mark.slow
@pytest.mark.parametrize("api", ["aec", "parallel"])
@pytest.mark.parametrize("env_id", env_params())
def test_step_is_linear_on_every_family(env_id: str, api: str) -> None:
    _check(env_id, api, sorted(FAMILIES), n=4 * N)


@pytest.mark.parametrize("api", ["aec", "parallel"])
@pytest.mark.parametrize("env_id", env_params())
def test_over_long_replies_cost_the_same_and_say_so(env_id: str, api: str) -> None:
    # With the real limit, a reply 4 or 16 times too long is cut to the same text:
    # the step costs the same, and the infos give the length that was cut.
    env = _make(api, env_id)
    env.reset(seed=0)
    limit = env.episode.max_text_length
    stepper = _Stepper(api, env_id, limit)
    for name in ("unclosed <answer>", "one character"):
        family = FAMILIES[name]
        t_small, t_large = _ratio(stepper, family(4 * limit), family(16 * limit))
        assert t_large < 2.5 * max(t_small, FLOOR), (name, t_small, t_large)
    reply = "x" * (2 * limit) + "\\boxed{0}"
    stepper.stale = True
    stepper.time(reply)
    episode = stepper.env.episode
    record = episode.records[-1]
    assert record.truncated_reply == len(reply) and len(record.action) == limit
    agent = record.agent
    info = stepper.env.infos[agent] if api == "aec" else episode.info(record.player)
    assert info["truncated_reply"] == len(reply)
    if not record.valid:
        assert f"truncated to its first {limit} of {len(reply)}" in record.reason
