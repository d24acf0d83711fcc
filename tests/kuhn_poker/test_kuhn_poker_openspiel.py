"""Kuhn poker against OpenSpiel's ``kuhn_poker``: the same game, state by state.

OpenSpiel deals with a chance player (card to its player 0, then to player 1); our
deals are ``(opener's card, responder's card)``, so the chance actions map one to one.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyspiel
import pytest

import selfplay_envs
from selfplay_envs.games.kuhn_poker.rules import HAND_TENSOR_SIZE, KuhnPokerState

GAME = pyspiel.load_game("kuhn_poker")


def _deal(theirs: pyspiel.State, rng: np.random.Generator) -> pyspiel.State:
    while theirs.is_chance_node():
        outcomes, probs = zip(*theirs.chance_outcomes(), strict=True)
        theirs.apply_action(int(rng.choice(outcomes, p=probs)))
    return theirs


def _assert_same(ours: KuhnPokerState, theirs: pyspiel.State, *, tensors: bool) -> None:
    """Compare one hand of ``ours`` (seat = position, hand 0) with OpenSpiel."""
    assert ours.is_terminal() == theirs.is_terminal()
    if theirs.is_terminal():
        assert ours.current_players() == []
        assert ours.returns() == theirs.returns()
    else:
        player = theirs.current_player()
        assert ours.current_players() == [player]
        assert ours.legal_actions(player) == theirs.legal_actions()
        assert ours.legal_actions(1 - player) == []
        assert [ours.action_to_string(player, a) for a in (0, 1)] == (
            ["fold", "call"] if "b" in ours.history_string() else ["check", "bet"]
        )
    if tensors:
        for player in (0, 1):
            np.testing.assert_array_equal(
                ours.observation_tensor(player), theirs.information_state_tensor(player)
            )
            assert ours.info_state_key(player) == theirs.information_state_string(
                player
            )


def test_every_state_matches_openspiel() -> None:
    """All 6 deals and every betting sequence: rules, tensors and info-state strings."""
    for first, second in itertools.permutations(range(3), 2):
        root = GAME.new_initial_state()
        root.apply_action(first)
        root.apply_action(second)
        stack = [(root, [])]
        visited = 0
        while stack:
            theirs, history = stack.pop()
            ours = KuhnPokerState([(first, second)])
            for i, action in enumerate(history):
                ours.apply_action(i % 2, action)
            _assert_same(ours, theirs, tensors=True)
            visited += 1
            if not theirs.is_terminal():
                stack += [
                    (theirs.child(a), [*history, a]) for a in theirs.legal_actions()
                ]
        assert visited == 9  # root, p, b, pp, pb, bp, bb, pbp, pbb


def test_random_hands_match_openspiel() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5000):
        theirs = _deal(GAME.new_initial_state(), rng)
        ours = KuhnPokerState([tuple(theirs.history())])
        _assert_same(ours, theirs, tensors=False)
        while not theirs.is_terminal():
            action = int(rng.integers(2))
            ours.apply_action(theirs.current_player(), action)
            theirs.apply_action(action)
            _assert_same(ours, theirs, tensors=False)


@pytest.mark.parametrize("view", ["numeric", "text"])
def test_env_episodes_match_openspiel(view: str) -> None:
    """Seeded env episodes: the env's deal replayed in OpenSpiel, same returns."""
    rng = np.random.default_rng(1)
    env = selfplay_envs.make("kuhn_poker_v0", view=view, infos="full")
    deals = set()
    for episode in range(300):
        env.reset(seed=episode)
        deal = env.episode.state.deals[0]
        deals.add(deal)
        theirs = GAME.new_initial_state()
        theirs.apply_action(deal[0])
        theirs.apply_action(deal[1])
        totals = dict.fromkeys(env.possible_agents, 0.0)
        for agent in env.agent_iter():
            observation, reward, termination, truncation, info = env.last()
            totals[agent] += reward
            if termination or truncation:
                env.step(None)
                continue
            player = theirs.current_player()
            assert agent == f"player_{player}"
            assert info["info_state"] == theirs.information_state_string(player)
            if view == "numeric":
                np.testing.assert_array_equal(
                    observation["observation"], theirs.information_state_tensor(player)
                )
            action = int(rng.integers(2))
            word = info["legal_actions"][action]
            theirs.apply_action(action)
            env.step(action if view == "numeric" else f"I {word}. \\boxed{{{word}}}")
        assert [totals[a] for a in env.possible_agents] == theirs.returns()
    assert len(deals) == 6


def test_match_hands_each_match_openspiel() -> None:
    """In an N-hand match every hand is OpenSpiel's hand with the opener as player 0."""
    rng = np.random.default_rng(2)
    for _ in range(300):
        num_hands = int(rng.integers(2, 7))
        ours = KuhnPokerState.from_rng(rng, num_hands, "chips")
        expected = [0.0, 0.0]
        for hand in range(num_hands):
            opener = hand % 2
            theirs = GAME.new_initial_state()
            for card in ours.deals[hand]:
                theirs.apply_action(card)
            while not theirs.is_terminal():
                position = theirs.current_player()
                seat = (opener + position) % 2
                assert ours.current_players() == [seat]
                assert ours.hand == hand
                for s in (0, 1):
                    np.testing.assert_array_equal(
                        ours.observation_tensor(s)[:HAND_TENSOR_SIZE],
                        theirs.information_state_tensor((s - opener) % 2),
                    )
                action = int(rng.integers(2))
                ours.apply_action(seat, action)
                theirs.apply_action(action)
            for position, value in enumerate(theirs.returns()):
                expected[(opener + position) % 2] += value
        assert ours.is_terminal()
        assert ours.returns() == expected
        assert len(ours.results) == num_hands
        assert sum(ours.chips) == 0


def test_deals_are_uniform() -> None:
    rng = np.random.default_rng(3)
    state = KuhnPokerState.from_rng(rng, 6000, "chips")
    counts = {
        deal: state.deals.count(deal) for deal in itertools.permutations(range(3), 2)
    }
    assert len(counts) == 6
    # 1000 expected each; the standard deviation is about 29.
    assert all(850 < count < 1150 for count in counts.values()), counts
