"""``BatchedEnv``'s vector path against its generic path, step for step.

Both paths run in lockstep on the same seed and the same actions (random legal moves
mixed with taken, off-board and out-of-range ones; in the text view, replies in every
answer format mixed with illegal, malformed and random ones); every step must give
identical observations, masks, rewards, flags, acting seats, episode counts, and infos.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from selfplay_envs.core.episode import InvalidMovePolicy
from selfplay_envs.core.errors import InvalidActionError
from selfplay_envs.wrappers.batched import BatchedEnv, BatchStep

TTT, KUHN = "tic_tac_toe_v0", "kuhn_poker_v0"


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


def make_pair(
    env_id: str, num_envs: int, **kwargs: Any
) -> tuple[BatchedEnv, BatchedEnv]:
    fast = BatchedEnv(env_id, num_envs, view="numeric", **kwargs)
    generic = BatchedEnv(env_id, num_envs, view="numeric", fast=False, **kwargs)
    assert fast.fast and not generic.fast
    return fast, generic


def assert_same_step(fast: BatchStep, generic: BatchStep) -> None:
    for key in ("observation", "action_mask"):
        assert same(fast.observations[key], generic.observations[key]), key
    assert_same_step_arrays(fast, generic)


def assert_same_step_arrays(fast: BatchStep, generic: BatchStep) -> None:
    for field in ("rewards", "terminated", "truncated", "acting"):
        assert same(getattr(fast, field), getattr(generic, field)), field


def assert_same_infos(fast: Any, generic: list[dict[str, Any]]) -> None:
    assert len(fast) == len(generic)
    for i, info in enumerate(generic):
        assert same(fast[i], info), i


def random_actions(
    rng: np.random.Generator, masks: np.ndarray, p_invalid: float
) -> np.ndarray:
    """Uniform legal moves; with chance ``p_invalid`` any int near the action range."""
    legal = (rng.random(masks.shape) * masks).argmax(axis=1)
    noise = rng.integers(-2, masks.shape[1] + 3, size=len(masks))
    return np.where(rng.random(len(masks)) < p_invalid, noise, legal)


def _has_invalid(info: dict[str, Any]) -> bool:
    """The info reports an invalid move: a retry now, or a forfeit that ended a game."""
    finals = info.get("final_info", {}).values()
    return bool(info["invalid_reason"]) or any(f["forfeit"] for f in finals)


CONFIGS = {
    "ttt-retry": (TTT, {}, 0.15),
    "ttt-loss": (TTT, {"invalid_move": InvalidMovePolicy(mode="loss")}, 0.05),
    "ttt-no-retries": (TTT, {"invalid_move": InvalidMovePolicy(max_retries=0)}, 0.1),
    "ttt-truncated": (
        TTT,
        {"invalid_move": InvalidMovePolicy(max_retries=3), "max_attempts": 6},
        0.3,
    ),
    "kuhn-chips-retry": (KUHN, {}, 0.15),
    "kuhn-match-loss": (
        KUHN,
        {"reward": "match", "invalid_move": InvalidMovePolicy(mode="loss")},
        0.05,
    ),
    "kuhn-3-hands-retry": (KUHN, {"num_hands": 3}, 0.15),
    "kuhn-4-hands-match": (KUHN, {"num_hands": 4, "reward": "match"}, 0.1),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_vector_path_equals_generic_path(name: str) -> None:
    env_id, kwargs, p_invalid = CONFIGS[name]
    num_envs, steps = 16, 250  # 4000 game steps per config
    fast, generic = make_pair(env_id, num_envs, **kwargs)
    fast_obs, fast_infos = fast.reset(seed=11)
    generic_obs, generic_infos = generic.reset(seed=11)
    assert_same_infos(fast_infos, generic_infos)
    rng = np.random.default_rng(0)
    unread = []  # (fast infos, generic infos) of steps, read at the end
    seen = {"terminated": 0, "truncated": 0, "invalid": 0, "final_info": 0}
    for t in range(steps):
        for key in ("observation", "action_mask"):
            assert same(fast_obs[key], generic_obs[key]), (t, key)
        actions = random_actions(rng, generic_obs["action_mask"], p_invalid)
        fast_step, generic_step = fast.step(actions), generic.step(actions)
        assert_same_step(fast_step, generic_step)
        assert same(fast.episode_counts, generic.episode_counts)
        assert same(fast.acting, generic.acting)
        seen["terminated"] += int(generic_step.terminated.sum())
        seen["truncated"] += int(generic_step.truncated.sum())
        # Infos are read in every pattern: all games now and then, games 0 and
        # t % 16 on every step (their replays advance move by move), and some
        # steps' infos only at the very end (long after the games moved on).
        if t % 10 == 0:
            assert_same_infos(fast_step.infos, generic_step.infos)
            seen["invalid"] += sum(map(_has_invalid, generic_step.infos))
            seen["final_info"] += sum("final_info" in i for i in generic_step.infos)
        elif t % 10 == 5:
            unread.append((fast_step.infos, generic_step.infos))
        for i in (0, t % num_envs):
            assert same(fast_step.infos[i], generic_step.infos[i]), (t, i)
        fast_obs, generic_obs = fast_step.observations, generic_step.observations
    for fast_infos, generic_infos in unread:
        assert_same_infos(fast_infos, generic_infos)
    assert seen["terminated"] > 0 and seen["final_info"] > 0 and seen["invalid"] > 0
    assert (seen["truncated"] > 0) == (name == "ttt-truncated")


def test_forfeits_and_retries_follow_the_policy() -> None:
    # In game 0, o keeps playing x's cell 4: two retries, then a loss by forfeit.
    # Game 1 is played legally alongside.
    env = BatchedEnv(TTT, 2, view="numeric")
    env.reset(seed=0)
    env.step([4, 4])
    for attempt, cell in enumerate([0, 1]):
        step = env.step([4, cell])
        assert step.acting[0] == 1  # o tries again
        assert step.infos[0]["invalid_reason"] == "illegal: cell 4 is taken"
        assert step.infos[0]["invalid_moves"] == attempt + 1
        assert not step.terminated.any()
    step = env.step([4, 2])
    assert step.terminated.tolist() == [True, False]
    assert step.rewards[0].tolist() == [1.0, -1.0]
    final = step.infos[0]["final_info"]
    assert final["player_1"]["outcome"] == "loss" and final["player_1"]["forfeit"]
    assert final["player_0"]["outcome"] == "win"
    assert env.episode_counts.tolist() == [1, 0]
    assert step.acting.tolist() == [0, 0] and step.infos[0]["turn"] == 0


@pytest.mark.parametrize(
    "actions",
    [
        [3, 2**70, -(2**70), 4],  # Python ints, some beyond int64
        np.array([3, 100, -1, 4], dtype=np.int8),
        np.array([3, 2**64 - 1, 9, 4], dtype=np.uint64),
        (np.int16(3), np.int64(-5), 10, np.uint8(4)),
    ],
    ids=["big-ints", "int8", "uint64", "mixed-scalars"],
)
def test_any_int_actions_are_handled_as_the_generic_path(actions: Any) -> None:
    fast, generic = make_pair(TTT, 4)
    fast.reset(seed=0)
    generic.reset(seed=0)
    fast_step, generic_step = fast.step(actions), generic.step(actions)
    assert_same_step(fast_step, generic_step)
    assert_same_infos(fast_step.infos, generic_step.infos)
    assert fast_step.acting.tolist() == [1, 0, 0, 1]  # games 1 and 2: invalid


@pytest.mark.parametrize(
    "actions", [[0.0, 1.0], np.array([True, False]), ["0", "1"], [0, None]]
)
def test_non_int_actions_raise_on_both_paths(actions: Any) -> None:
    for env in make_pair(TTT, 2):
        env.reset(seed=0)
        with pytest.raises(InvalidActionError, match="int action"):
            env.step(actions)


def test_wrong_number_of_actions_raises() -> None:
    env = BatchedEnv(TTT, 3, view="numeric")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="expected 3 actions, got 2"):
        env.step([0, 1])
    with pytest.raises(InvalidActionError, match="shape"):
        env.step(np.zeros((3, 1), dtype=np.int64))


@pytest.mark.parametrize(
    ("env_id", "kwargs"),
    [
        (TTT, {"invalid_move": InvalidMovePolicy(mode="penalty")}),
        (TTT, {"fast": False}),
        (KUHN, {"view": "text", "fast": False}),
        ("negotiation_v0", {}),
        ("negotiation_v0", {"view": "text"}),
    ],
    ids=["penalty", "opt-out", "text-opt-out", "no-vector-rules", "text-no-rules"],
)
def test_generic_path_where_the_vector_path_does_not_apply(
    env_id: str, kwargs: dict[str, Any]
) -> None:
    kwargs = {"view": "numeric", **kwargs}
    env = BatchedEnv(env_id, 2, **kwargs)
    assert not env.fast
    observations, infos = env.reset(seed=0)
    assert len(env.episodes) == 2 and len(infos) == 2


def test_seeding_is_reproducible_and_reseeding_restarts_the_deals() -> None:
    fast, generic = make_pair(KUHN, 32)
    rng = np.random.default_rng(1)

    def play(env: BatchedEnv, seed: int, steps: int) -> list[np.ndarray]:
        observations, _ = env.reset(seed=seed)
        trace = [observations["observation"]]
        for _ in range(steps):
            step = env.step(rng.integers(0, 2, size=env.num_envs))
            trace += [step.observations["observation"], step.rewards]
        return trace

    first = play(fast, 5, 40)
    rng = np.random.default_rng(1)
    again = play(fast, 5, 40)
    assert all(same(a, b) for a, b in zip(first, again, strict=True))
    # Game i is seeded with seed + i: seeds 5 and 6 shift the games by one.
    shifted = BatchedEnv(KUHN, 32, view="numeric").reset(seed=6)[0]["observation"]
    np.testing.assert_array_equal(shifted[:-1], first[0][1:])
    assert not np.array_equal(shifted, first[0])
    # Reseeding mid-run equals a generic env run the same way.
    rng = np.random.default_rng(2)
    fast_trace = play(fast, 7, 30) + play(fast, 8, 30)
    rng = np.random.default_rng(2)
    generic_trace = play(generic, 7, 30) + play(generic, 8, 30)
    assert all(same(a, b) for a, b in zip(fast_trace, generic_trace, strict=True))


def test_lazy_infos_behave_as_a_sequence_of_dicts() -> None:
    env = BatchedEnv(TTT, 3, view="numeric")
    _, infos = env.reset(seed=0)
    assert len(infos) == 3 and infos[-1] is infos[2]
    assert [i["turn"] for i in infos] == [0, 0, 0]
    assert [id(i) for i in infos[1:]] == [id(infos[1]), id(infos[2])]
    infos[0]["note"] = "kept"  # cached: a change made by the caller stays
    assert infos[0]["note"] == "kept"
    with pytest.raises(IndexError):
        infos[3]


def test_infos_stay_right_across_reseeding() -> None:
    # Infos of the first run, read only after the second run began, must not pick
    # up the second run's replays (their episodes start at the same early steps).
    fast, generic = make_pair(TTT, 8)
    rng = np.random.default_rng(3)
    unread = []
    for seed, steps in ((1, 8), (2, 3)):
        observations, fast_infos = fast.reset(seed=seed)
        _, generic_infos = generic.reset(seed=seed)
        assert_same_infos(fast_infos, generic_infos)
        for t in range(steps):
            actions = random_actions(rng, observations["action_mask"], 0.2)
            fast_step, generic_step = fast.step(actions), generic.step(actions)
            if seed == 1 and t == 3:
                unread.append((fast_step.infos, generic_step.infos))
            else:
                assert_same_infos(fast_step.infos, generic_step.infos)
            observations = fast_step.observations
    for fast_infos, generic_infos in unread:
        assert_same_infos(fast_infos, generic_infos)


# ---- the text view ----------------------------------------------------------------

# Replies that are not a plain legal move: other answer formats, OpenSpiel's names,
# illegal words and cells, row/column text, huge numbers, reasoning and junk.
ODD_REPLIES = [
    "check",
    "\\boxed{Call}",
    "<answer>fold</answer>",
    "I would bet here. [bet]",
    "pass",
    "[check] no, \\boxed{\\text{bet}}",
    "x(1,1)",
    "row 2, col 0",
    "cell 7",
    "[12]",
    "[99999999999999999999999]",
    "<think>[4]</think> 4",
    "",
    "[]",
    "junk",
    # Longer than max_text_length: cut before parsing, on both paths alike.
    "x" * 70_000 + "[4] [bet]",
    "[4] [bet] " + "x" * 70_000,
]

TEXT_CONFIGS = {
    "ttt-retry": (TTT, {}),
    "ttt-loss": (TTT, {"invalid_move": InvalidMovePolicy(mode="loss")}),
    "kuhn-1-hand": (KUHN, {}),
    "kuhn-3-hands": (KUHN, {"num_hands": 3}),
    "kuhn-4-hands-match-truncated": (
        KUHN,
        {
            "num_hands": 4,
            "reward": "match",
            "invalid_move": InvalidMovePolicy(max_retries=3),
            "max_attempts": 9,
        },
    ),
}


def text_replies(rng: np.random.Generator, infos: Any) -> list[str]:
    """A legal move in a random format, or an odd reply, or random characters."""
    replies = []
    for info in infos:
        draw = rng.random()
        if draw < 0.15:
            replies.append(ODD_REPLIES[rng.integers(len(ODD_REPLIES))])
        elif draw < 0.2:
            replies.append("".join(rng.choice(list("[]<>{}\\ab0149 "), size=8)))
        else:
            move = info["legal_actions"][rng.integers(len(info["legal_actions"]))]
            wrap = ("[{}]", "{}", "\\boxed{{{}}}", "<answer>{}</answer>")
            replies.append(wrap[rng.integers(len(wrap))].format(move))
    return replies


@pytest.mark.parametrize("name", list(TEXT_CONFIGS))
def test_text_vector_path_equals_generic_path(name: str) -> None:
    env_id, kwargs = TEXT_CONFIGS[name]
    num_envs, steps = 16, 200
    fast = BatchedEnv(env_id, num_envs, view="text", **kwargs)
    generic = BatchedEnv(env_id, num_envs, view="text", fast=False, **kwargs)
    assert fast.fast and not generic.fast
    fast_obs, fast_infos = fast.reset(seed=5)
    generic_obs, generic_infos = generic.reset(seed=5)
    assert same(fast_obs, generic_obs)
    assert_same_infos(fast_infos, generic_infos)
    rng = np.random.default_rng(1)
    warnings = ended = 0
    for t in range(steps):
        replies = text_replies(rng, generic_infos)
        fast_step, generic_step = fast.step(replies), generic.step(replies)
        assert same(fast_step.observations, generic_step.observations), t
        assert_same_step_arrays(fast_step, generic_step)
        assert same(fast.action_masks(), generic.action_masks())
        if t % 5 == 0:
            assert_same_infos(fast_step.infos, generic_step.infos)
        generic_infos = generic_step.infos
        warnings += sum("invalid" in o["text"] for o in generic_step.observations)
        ended += int(generic_step.terminated.sum() + generic_step.truncated.sum())
    assert same(fast.episode_counts, generic.episode_counts)
    assert ended > 0
    # Retries show the warning in the next prompt; a loss policy never does.
    assert (warnings > 0) == (kwargs.get("invalid_move") is None or "4-hands" in name)


def test_text_actions_must_be_strings_on_the_vector_path() -> None:
    env = BatchedEnv(TTT, 2, view="text")
    assert env.fast
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="str action"):
        env.step(["[4]", 4])
    step = env.step(["[4]", "[0]"])  # nothing moved on the failed call
    assert step.acting.tolist() == [1, 1]


def test_text_view_without_text_rules_takes_the_generic_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from selfplay_envs.games.tic_tac_toe.vector import TicTacToeVectorRules

    monkeypatch.setattr(TicTacToeVectorRules, "has_text", False)
    assert not BatchedEnv(TTT, 2, view="text").fast
    assert BatchedEnv(TTT, 2, view="numeric").fast


def test_prompts_are_the_scalar_states_after_the_same_moves() -> None:
    # Independent of the generic path: play fixed replies and compare each prompt
    # with the scalar state's text after the same moves.
    env = BatchedEnv(KUHN, 1, view="text", num_hands=2)
    observations, _ = env.reset(seed=4)
    state = env.game.new_initial_state(np.random.default_rng(4))
    assert observations[0]["text"] == state.observation_text(0)
    for reply, action in [("[check]", 0), ("\\boxed{bet}", 1), ("call", 1)]:
        player = state.current_players()[0]
        step = env.step([reply])
        state.apply_action(player, action)
        seat = state.current_players()[0]
        assert step.acting[0] == seat
        assert step.observations[0]["text"] == state.observation_text(seat)
    assert "Hand 2 of 2" in step.observations[0]["text"]
    assert "Last hand (hand 1)" in step.observations[0]["text"]


def test_reset_takes_one_seed_per_game_and_refuses_a_wrong_count():
    from selfplay_envs.wrappers.batched import BatchedEnv

    env = BatchedEnv("kuhn_poker_v0", 3)
    _, infos = env.reset(seed=[5, 5, 9])
    alone = BatchedEnv("kuhn_poker_v0", 1)
    _, single = alone.reset(seed=9)
    assert infos[0]["info_state"] == infos[1]["info_state"]
    assert infos[2]["info_state"] == single[0]["info_state"]
    with pytest.raises(ValueError, match="one seed per game"):
        env.reset(seed=[1, 2])
