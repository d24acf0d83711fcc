"""Vectorised Liar's Dice against the scalar ``LiarsDiceState``, and in BatchedEnv."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from selfplay_envs.games.liars_dice.env import LiarsDiceGame
from selfplay_envs.wrappers.batched import BatchedEnv


@pytest.mark.parametrize(("dice", "sides"), [(1, 6), (2, 3), (5, 6)])
def test_random_play_matches_the_scalar_rules(dice: int, sides: int) -> None:
    n = 64
    game = LiarsDiceGame(dice_per_player=dice, sides=sides)
    rules = game.vector_rules(n)
    rules.seed([np.random.default_rng(i) for i in range(n)])
    scalar_rngs = [np.random.default_rng(i) for i in range(n)]
    rules.reset(np.ones(n, dtype=bool))
    states = [game.new_initial_state(rng) for rng in scalar_rngs]
    rng = np.random.default_rng(dice * 10 + sides)
    ended = 0
    for _ in range(400):
        acting, mask, obs = rules.acting(), rules.legal_mask(), rules.observations()
        keys = rules.episode_keys()
        for i, state in enumerate(states):
            player = state.current_players()[0]
            assert acting[i] == player
            np.testing.assert_array_equal(
                mask[i], state.legal_mask(player, game.info.num_actions)
            )
            np.testing.assert_array_equal(obs[i], state.observation_tensor(player))
            assert rules.initial_state(keys[i]).dice == state.dice
        # Mostly low legal bids or the call, sometimes an invalid id.
        choices = []
        for state in states:
            legal = state.legal_actions(state.current_players()[0])
            pick = legal[min(int(rng.geometric(0.4)) - 1, len(legal) - 1)]
            if rng.random() < 0.25 and state.actions:
                pick = legal[-1]
            if rng.random() < 0.1:
                pick = int(rng.integers(-2, game.info.num_actions + 2))
            choices.append(pick)
        rewards, terminated, invalid = rules.step(np.array(choices))
        for i, state in enumerate(states):
            player = state.current_players()[0]
            ok = state.check_numeric(player, choices[i]).ok
            assert invalid[i] == (not ok)
            if ok:
                state.apply_action(player, choices[i])
            assert terminated[i] == state.is_terminal()
            np.testing.assert_array_equal(rewards[i], state.returns())
        rules.reset(terminated)
        for i in np.flatnonzero(terminated):
            states[i] = game.new_initial_state(scalar_rngs[i])
            ended += 1
    assert ended > n


def test_batched_env_fast_path_equals_the_generic_path() -> None:
    kwargs = {"view": "numeric", "dice_per_player": 2}
    fast = BatchedEnv("liars_dice_v0", 16, **kwargs)
    generic = BatchedEnv("liars_dice_v0", 16, fast=False, **kwargs)
    assert fast._vector is not None and generic._vector is None
    obs_a, _ = fast.reset(seed=5)
    obs_b, _ = generic.reset(seed=5)
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(200):
        np.testing.assert_array_equal(obs_a["observation"], obs_b["observation"])
        masks = np.asarray(obs_a["action_mask"])
        np.testing.assert_array_equal(masks, obs_b["action_mask"])
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in masks])
        a, b = fast.step(actions), generic.step(actions)
        np.testing.assert_array_equal(a.rewards, b.rewards)
        np.testing.assert_array_equal(a.terminated, b.terminated)
        ended += int(a.terminated.sum())
        obs_a, obs_b = a.observations, b.observations
    assert ended > 16


ODD_REPLIES = (
    "\\boxed{bid 1 1}",  # legal only as the first bid
    "[Bid: 3, 4]",
    "[Call]",
    "liar",  # illegal as the first move
    "\\boxed{bid 99 2}",
    "\\boxed{bid 1 7}",
    "<answer>2-6</answer>",
    "bid 1 2 3",
    "",
    "[challenge!]",
    "\\boxed{bid 1 " + "9" * 500 + "}",
)


def _text_replies(rng: np.random.Generator, infos: Any) -> list[str]:
    """A legal move in a random format, an odd reply, or random characters."""
    replies = []
    for info in infos:
        draw = rng.random()
        if draw < 0.15:
            replies.append(ODD_REPLIES[rng.integers(len(ODD_REPLIES))])
        elif draw < 0.2:
            replies.append("".join(rng.choice(list("[]<>{}\\ab0149 liar"), size=8)))
        else:
            legal = info["legal_actions"]
            move = legal[min(int(rng.geometric(0.3)) - 1, len(legal) - 1)]
            if rng.random() < 0.3 and "liar" in legal:
                move = "liar"
            wrap = ("[{}]", "{}", "\\boxed{{{}}}", "<answer>{}</answer>")
            replies.append(wrap[rng.integers(len(wrap))].format(move))
    return replies


@pytest.mark.parametrize(
    ("kwargs", "num_envs"),
    [
        ({"dice_per_player": 2, "sides": 3}, 16),
        ({"dice_per_player": 5}, 16),
        ({"dice_per_player": 1, "invalid_move": "loss"}, 8),
    ],
)
def test_text_fast_path_equals_the_generic_path(kwargs: dict, num_envs: int) -> None:
    """Prompts, warnings, rewards and infos of the text vector path, step by step
    against the generic path (scalar states), on replies of every kind."""
    fast = BatchedEnv("liars_dice_v0", num_envs, view="text", **kwargs)
    generic = BatchedEnv("liars_dice_v0", num_envs, view="text", fast=False, **kwargs)
    assert fast.fast and not generic.fast
    fast_obs, fast_infos = fast.reset(seed=3)
    generic_obs, generic_infos = generic.reset(seed=3)
    assert fast_obs == generic_obs
    rng = np.random.default_rng(2)
    ended = warnings = 0
    for t in range(150):
        replies = _text_replies(rng, generic_infos)
        a, b = fast.step(replies), generic.step(replies)
        assert a.observations == b.observations, t
        for field in ("rewards", "terminated", "truncated", "acting"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        if t % 10 == 0:
            assert [a.infos[i] for i in range(num_envs)] == list(b.infos)
        generic_infos = b.infos
        ended += int(b.terminated.sum())
        warnings += sum("invalid" in o["text"] for o in b.observations)
    assert ended > num_envs
    assert (warnings > 0) == ("invalid_move" not in kwargs)


def test_text_prompts_are_the_scalar_states_after_the_same_moves() -> None:
    # Independent of the generic path: fixed replies, each prompt compared with the
    # scalar state's text after the same moves.
    env = BatchedEnv("liars_dice_v0", 1, view="text", dice_per_player=2)
    observations, _ = env.reset(seed=4)
    state = env.game.new_initial_state(np.random.default_rng(4))
    assert observations[0]["text"] == state.observation_text(0)
    for reply, action in [("[bid 1 3]", 2), ("\\boxed{2-5}", 10), ("[Bid: 3, 1]", 12)]:
        player = state.current_players()[0]
        step = env.step([reply])
        state.apply_action(player, action)
        seat = state.current_players()[0]
        assert step.acting[0] == seat
        assert step.observations[0]["text"] == state.observation_text(seat)
    assert (
        "opponent bid 1 x 3, you bid 2 x 5, opponent bid 3 x 1."
        in step.observations[0]["text"]
    )
