"""Vectorised Liar's Dice against the scalar ``LiarsDiceState``, and in BatchedEnv."""

from __future__ import annotations

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
