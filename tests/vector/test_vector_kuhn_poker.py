"""Vectorised Kuhn poker (single hands and matches) against the scalar ``KuhnPokerState``."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from selfplay_envs.games.kuhn_poker.env import KuhnPokerGame
from selfplay_envs.games.kuhn_poker.rules import BETTINGS, DEALS, KuhnPokerState, Reward
from selfplay_envs.games.kuhn_poker.vector import (
    DEALS_AHEAD,
    MAX_TEXT_HANDS,
    KuhnPokerVectorRules,
)

# Every way to act at each of the (at most three) decisions, invalid ids included.
CHOICES = (0, 1, 2, -1)


def _fixed_deals(rules: KuhnPokerVectorRules, deals: list[int]) -> None:
    """Deal ``DEALS[deals[i]]`` to game i (bypasses the Generators, for exhaustion)."""
    rules.deals[:, 0] = deals
    rules.cards[:] = np.array(DEALS)[deals]


def _compare_step(
    states: list[KuhnPokerState],
    live: np.ndarray,
    actions: np.ndarray,
    rewards: np.ndarray,
    terminated: np.ndarray,
    invalid: np.ndarray,
) -> None:
    """Play each live game's action on its scalar state; the vector step must agree."""
    for i in np.flatnonzero(live):
        state, action = states[i], int(actions[i])
        ok = state.check_numeric(state.current_players()[0], action).ok
        assert invalid[i] == (not ok)
        if ok:
            state.apply_action(state.current_players()[0], action)
        assert terminated[i] == state.is_terminal()
        np.testing.assert_array_equal(rewards[i], state.returns())


@pytest.mark.parametrize("reward", ["chips", "match"])
def test_every_deal_and_action_sequence_matches_the_scalar_rules(reward: str) -> None:
    sequences = list(itertools.product(range(len(DEALS)), *[CHOICES] * 3))
    n = len(sequences)
    rules = KuhnPokerVectorRules(n, reward)
    _fixed_deals(rules, [deal for deal, *_ in sequences])
    states = [KuhnPokerState([DEALS[deal]], reward) for deal, *_ in sequences]
    live = np.ones(n, dtype=bool)
    for move in range(3):
        acting, observations = rules.acting(), rules.observations()
        np.testing.assert_array_equal(rules.legal_mask(), np.ones((n, 2), np.int8))
        for i in np.flatnonzero(live):
            player = states[i].current_players()[0]
            assert acting[i] == player
            np.testing.assert_array_equal(
                observations[i], states[i].observation_tensor(player)
            )
        actions = np.array([seq[1 + move] for seq in sequences])
        # Ended hands are stepped too but no longer compared (BatchedEnv would
        # have reset them).
        rewards, terminated, invalid = rules.step(np.where(live, actions, 0))
        _compare_step(states, live, actions, rewards, terminated, invalid)
        live &= ~terminated
    ended = {s.history_string() for s in states if s.is_terminal()}
    assert ended == {"pp", "pbp", "pbb", "bp", "bb"}


def test_forfeit_returns_are_the_scalar_worst_case() -> None:
    for reward in Reward:
        rules = KuhnPokerVectorRules(2, reward)
        state = KuhnPokerState([DEALS[0]], reward)
        returns = rules.forfeit_returns(np.array([0, 1]))
        np.testing.assert_array_equal(returns[0], state.forfeit_returns(0))
        np.testing.assert_array_equal(returns[1], state.forfeit_returns(1))


@pytest.mark.parametrize("num_hands", [1, 3])
def test_deals_follow_each_games_generator_like_the_scalar_game(num_hands: int) -> None:
    # More episodes than are drawn ahead, so the deals drawn ahead are refilled.
    n, episodes = 3, 2 * DEALS_AHEAD + 5
    game = KuhnPokerGame(num_hands=num_hands)
    rules = game.vector_rules(n)
    rules.seed([np.random.default_rng(100 + i) for i in range(n)])
    scalar_rngs = [np.random.default_rng(100 + i) for i in range(n)]
    rules.reset(np.ones(n, dtype=bool))
    for episode in range(episodes):
        # Games restart at different times: game i restarts every (i + 1)-th round.
        for i in range(n):
            if episode % (i + 1) == 0:
                expected = game.new_initial_state(scalar_rngs[i]).deals
                assert [DEALS[int(k)] for k in rules.episode_keys()[i]] == expected
                assert tuple(rules.cards[i]) == expected[0]
        rules.reset(np.array([(episode + 1) % (i + 1) == 0 for i in range(n)]))


def test_reseeding_drops_the_deals_drawn_ahead() -> None:
    rules = KuhnPokerVectorRules(1)
    rules.seed([np.random.default_rng(7)])
    rules.reset(np.ones(1, dtype=bool))
    rules.seed([np.random.default_rng(8)])
    rules.reset(np.ones(1, dtype=bool))
    expected = KuhnPokerState.from_rng(np.random.default_rng(8), 1, "chips")
    assert tuple(rules.cards[0]) == expected.deals[0]


@pytest.mark.parametrize(("num_hands", "reward"), [(3, "chips"), (4, "match")])
def test_matches_follow_the_scalar_rules_move_by_move(
    num_hands: int, reward: str
) -> None:
    # Random deals and random actions (invalid ids too) in 512 matches at once; each
    # game is compared with a scalar state until its match ends.
    n = 512
    rng = np.random.default_rng(0)
    rules = KuhnPokerVectorRules(n, reward, num_hands)
    rules.deals[:] = rng.integers(len(DEALS), size=(n, num_hands))
    rules.hand[:] = 0
    rules._new_hand(np.arange(n))
    states = [
        KuhnPokerState([DEALS[int(k)] for k in rules.deals[i]], reward)
        for i in range(n)
    ]
    live = np.ones(n, dtype=bool)
    seen_texts = 0
    while live.any():
        acting, observations = rules.acting(), rules.observations()
        texts = rules.texts()
        for i in np.flatnonzero(live):
            player = states[i].current_players()[0]
            assert acting[i] == player
            np.testing.assert_array_equal(
                observations[i], states[i].observation_tensor(player)
            )
            assert texts[i] == states[i].observation_text(player)
            seen_texts += 1
        actions = rng.choice(np.array([0, 1, 0, 1, 2, -1]), size=n)
        # Ended matches get invalid actions, which must leave them as they are.
        rewards, terminated, invalid = rules.step(np.where(live, actions, -1))
        assert not (rewards[~live].any() or terminated[~live].any())
        _compare_step(states, live, actions, rewards, terminated, invalid)
        live &= ~terminated
    assert all(s.is_terminal() and len(s.results) == num_hands for s in states)
    assert seen_texts > n * num_hands * 2


def test_forfeit_returns_of_a_match_are_the_scalar_worst_case() -> None:
    for reward in Reward:
        rules = KuhnPokerVectorRules(2, reward, num_hands=5)
        state = KuhnPokerState([DEALS[0]] * 5, reward)
        returns = rules.forfeit_returns(np.array([0, 1]))
        np.testing.assert_array_equal(returns[0], state.forfeit_returns(0))
        np.testing.assert_array_equal(returns[1], state.forfeit_returns(1))


def test_matches_too_long_for_int64_prompt_keys_have_no_vector_text() -> None:
    assert KuhnPokerGame(num_hands=MAX_TEXT_HANDS).vector_rules(1).has_text
    assert not KuhnPokerGame(num_hands=MAX_TEXT_HANDS + 1).vector_rules(1).has_text
    # The largest key stays inside int64 (hand, chips and last result at their top).
    rules = KuhnPokerVectorRules(1, num_hands=MAX_TEXT_HANDS)
    rules.hand[:] = MAX_TEXT_HANDS - 1
    rules.chips[:] = [2 * MAX_TEXT_HANDS, -2 * MAX_TEXT_HANDS]
    rules.code[:] = len(BETTINGS) - 1
    rules.cards[:] = [2, 1]
    rules.last_amount[:] = 2
    rules.last_showdown[:] = 1
    rules.last_cards[:] = [2, 2]
    assert 0 < int(rules._prompt_keys()[0]) < np.iinfo(np.int64).max // 2
