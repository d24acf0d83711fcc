"""Vectorised Connect Four against the scalar ``ConnectFourState``, and ``BatchedEnv``'s
vector path against its generic path, step for step."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from selfplay_envs.core.episode import InvalidMovePolicy
from selfplay_envs.games.connect_four.env import ConnectFourGame
from selfplay_envs.games.connect_four.rules import ConnectFourState, Variant
from selfplay_envs.games.connect_four.vector import ConnectFourVectorRules, fits
from selfplay_envs.wrappers.batched import BatchedEnv

C4 = "connect_four_v0"
NUM_ENVS = 32
VARIANTS = {
    "default": Variant(),
    "egocentric": Variant(egocentric_obs_tensor=True),
    "4x5-three": Variant(4, 5, 3),
    "8x7-five": Variant(8, 7, 5),  # 63 bits: the largest board of 7 columns
}


def same(a: Any, b: Any) -> bool:
    """Deep equality with array dtypes and Python types checked too."""
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same(a[k], b[k]) for k in a)
        )
    if isinstance(a, (list, tuple)):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def _assert_matches(rules: ConnectFourVectorRules, states: list[ConnectFourState]):
    players = [state.current_players()[0] for state in states]
    observations, masks = rules.observations(), rules.legal_mask()
    assert observations.dtype == np.float32 and masks.dtype == np.int8
    np.testing.assert_array_equal(rules.acting(), players)
    np.testing.assert_array_equal(
        observations,
        [s.observation_tensor(p) for s, p in zip(states, players, strict=True)],
    )
    columns = rules.num_actions
    np.testing.assert_array_equal(
        masks, [s.legal_mask(p, columns) for s, p in zip(states, players, strict=True)]
    )


@pytest.mark.parametrize("name", list(VARIANTS))
def test_random_play_matches_the_scalar_rules_move_for_move(name: str) -> None:
    variant = VARIANTS[name]
    rng = np.random.default_rng(0)
    rules = ConnectFourVectorRules(NUM_ENVS, variant)
    rules.seed([np.random.default_rng(i) for i in range(NUM_ENVS)])
    rules.reset(np.ones(NUM_ENVS, dtype=bool))
    states = [ConnectFourState(variant) for _ in range(NUM_ENVS)]
    ended = draws = 0
    for _ in range(1500):
        _assert_matches(rules, states)
        # Mostly legal moves, some full or off-board columns (left unchanged).
        actions = rng.integers(-3, variant.columns + 3, size=NUM_ENVS)
        legal = rng.random(NUM_ENVS) < 0.8
        for i in np.flatnonzero(legal):
            actions[i] = rng.choice(states[i].legal_actions(states[i].to_move))
        rewards, terminated, invalid = rules.step(actions)
        for i, state in enumerate(states):
            player = state.current_players()[0]
            ok = state.check_numeric(player, int(actions[i])).ok
            assert invalid[i] == (not ok)
            if ok:
                state.apply_action(player, int(actions[i]))
        assert terminated.tolist() == [s.is_terminal() for s in states]
        assert rewards.tolist() == [s.returns() for s in states]
        assert not (np.signbit(rewards) & (rewards == 0)).any()  # no -0.0
        ended += int(terminated.sum())
        draws += sum(
            s.winner is None for s, t in zip(states, terminated, strict=True) if t
        )
        rules.reset(terminated)
        states = [
            ConnectFourState(variant) if t else s
            for s, t in zip(states, terminated, strict=True)
        ]
    assert ended > 200
    assert draws > 0 or name in ("default", "egocentric")


def test_the_batched_line_test_agrees_with_the_scalar_one() -> None:
    # Random bitboards of every density, including lines across the spare bits.
    rng = np.random.default_rng(3)
    for variant in VARIANTS.values():
        rules = ConnectFourVectorRules(1, variant)
        cells = (variant.rows + 1) * variant.columns
        bits = [
            int(sum(1 << c for c in range(cells) if rng.random() < p))
            for p in np.linspace(0.05, 0.6, 400)
        ]
        expected = [variant.has_line(b) for b in bits]
        got = rules._lines(np.array(bits, dtype=np.int64))
        assert got.tolist() == expected
        assert any(expected) and not all(expected)


def test_reset_clears_only_the_masked_games() -> None:
    rules = ConnectFourVectorRules(3)
    rules.reset(np.ones(3, dtype=bool))
    rules.step(np.array([3, 0, 6]))
    rules.reset(np.array([False, True, False]))
    np.testing.assert_array_equal(rules.acting(), [1, 0, 1])
    np.testing.assert_array_equal(
        rules.observations()[:, 2].sum(axis=(1, 2)), [41, 42, 41]
    )
    assert rules.boards[1].max() == -1 and rules.bits[1].tolist() == [0, 0]


def test_the_game_advertises_its_vector_rules_where_the_bitboard_fits() -> None:
    rules = ConnectFourGame().vector_rules(5)
    assert isinstance(rules, ConnectFourVectorRules) and rules.num_envs == 5
    assert rules.episode_keys().shape == (5, 0)
    assert isinstance(rules.initial_state(rules.episode_keys()[0]), ConnectFourState)
    assert fits(Variant(8, 7)) and not fits(Variant(9, 7))
    assert ConnectFourGame(rows=9).vector_rules(2) is None
    assert not BatchedEnv(C4, 2, view="numeric", rows=9).fast
    with pytest.raises(ValueError, match="fits 63 bits"):
        ConnectFourVectorRules(2, Variant(9, 7))


# ---- BatchedEnv: the vector path against the generic path ------------------------------

NUMERIC_CONFIGS = {
    "retry": ({}, 0.15),
    "loss": ({"invalid_move": InvalidMovePolicy(mode="loss")}, 0.05),
    "egocentric-4x5": (
        {"rows": 4, "columns": 5, "x_in_row": 3, "egocentric_obs_tensor": True},
        0.1,
    ),
    "truncated": (
        {"invalid_move": InvalidMovePolicy(max_retries=3), "max_attempts": 12},
        0.3,
    ),
}


def _random_actions(
    rng: np.random.Generator, masks: np.ndarray, p_invalid: float
) -> np.ndarray:
    legal = (rng.random(masks.shape) * masks).argmax(axis=1)
    noise = rng.integers(-2, masks.shape[1] + 3, size=len(masks))
    return np.where(rng.random(len(masks)) < p_invalid, noise, legal)


@pytest.mark.parametrize("name", list(NUMERIC_CONFIGS))
def test_numeric_vector_path_equals_generic_path(name: str) -> None:
    kwargs, p_invalid = NUMERIC_CONFIGS[name]
    num_envs, steps = 16, 250
    fast = BatchedEnv(C4, num_envs, view="numeric", **kwargs)
    generic = BatchedEnv(C4, num_envs, view="numeric", fast=False, **kwargs)
    assert fast.fast and not generic.fast
    fast_obs, fast_infos = fast.reset(seed=11)
    generic_obs, generic_infos = generic.reset(seed=11)
    assert all(same(a, b) for a, b in zip(fast_infos, generic_infos, strict=True))
    rng = np.random.default_rng(0)
    ended = truncated = 0
    for t in range(steps):
        for key in ("observation", "action_mask"):
            assert same(fast_obs[key], generic_obs[key]), (t, key)
        actions = _random_actions(rng, generic_obs["action_mask"], p_invalid)
        fast_step, generic_step = fast.step(actions), generic.step(actions)
        for field in ("rewards", "terminated", "truncated", "acting"):
            assert same(getattr(fast_step, field), getattr(generic_step, field)), field
        if t % 10 == 0:
            for i in range(num_envs):
                assert same(fast_step.infos[i], generic_step.infos[i]), (t, i)
        ended += int(generic_step.terminated.sum())
        truncated += int(generic_step.truncated.sum())
        fast_obs, generic_obs = fast_step.observations, generic_step.observations
    assert same(fast.episode_counts, generic.episode_counts)
    assert ended > 0 and (truncated > 0) == (name == "truncated")


# Replies that are not a plain legal move: marks of both seats, OpenSpiel's names,
# off-board and malformed columns, huge numbers, reasoning and junk.
ODD_REPLIES = [
    "<answer><X(3)></answer>",
    "<answer><O(3)></answer>",
    "<O(4)>",
    "x2",
    "o5",
    "column 6",
    "[7]",
    "<X(12)>",
    "[99999999999999999999999]",
    "<think>[4]</think> 4",
    "",
    "[]",
    "junk",
    "x" * 70_000 + "[4]",
]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"invalid_move": InvalidMovePolicy(mode="loss")}],
    ids=["retry", "loss"],
)
def test_text_vector_path_equals_generic_path(kwargs: dict[str, Any]) -> None:
    num_envs, steps = 16, 200
    fast = BatchedEnv(C4, num_envs, view="text", **kwargs)
    generic = BatchedEnv(C4, num_envs, view="text", fast=False, **kwargs)
    assert fast.fast and not generic.fast
    fast_obs, _ = fast.reset(seed=5)
    generic_obs, generic_infos = generic.reset(seed=5)
    assert same(fast_obs, generic_obs)
    rng = np.random.default_rng(1)
    ended = warnings = 0
    for t in range(steps):
        replies = []
        for info in generic_infos:
            if rng.random() < 0.2:
                replies.append(ODD_REPLIES[rng.integers(len(ODD_REPLIES))])
                continue
            column = info["legal_actions"][rng.integers(len(info["legal_actions"]))]
            mark = info["mark"].upper()
            wraps = ("[{}]", "{}", "\\boxed{{{}}}", f"<answer><{mark}({{}})></answer>")
            replies.append(wraps[rng.integers(len(wraps))].format(column))
        fast_step, generic_step = fast.step(replies), generic.step(replies)
        assert same(fast_step.observations, generic_step.observations), t
        for field in ("rewards", "terminated", "truncated", "acting"):
            assert same(getattr(fast_step, field), getattr(generic_step, field)), field
        if t % 5 == 0:
            for i in range(num_envs):
                assert same(fast_step.infos[i], generic_step.infos[i]), (t, i)
        generic_infos = generic_step.infos
        ended += int(generic_step.terminated.sum())
        warnings += sum("invalid" in o["text"] for o in generic_step.observations)
    assert ended > 0
    assert (warnings > 0) == (not kwargs)
