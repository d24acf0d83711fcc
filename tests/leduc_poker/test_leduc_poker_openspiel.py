"""Leduc hold'em against OpenSpiel's ``leduc_poker``: the same game, state by state.

OpenSpiel deals with a chance player (a card to its player 0, one to player 1, the
public card after round 1); our deals are ``(opener's card, responder's card, public
card)`` in that order, so the chance actions map one to one.
"""

from __future__ import annotations

import itertools

import numpy as np
import pyspiel
import pytest

import selfplay_envs
from selfplay_envs.games.leduc_poker.rules import HAND_TENSOR_SIZE, LeducPokerState

GAME = pyspiel.load_game("leduc_poker")


def _assert_same(ours: LeducPokerState, theirs: pyspiel.State) -> None:
    """Compare one hand of ``ours`` (seat = position, hand 0) with OpenSpiel."""
    assert ours.is_terminal() == theirs.is_terminal()
    for player in (0, 1):
        np.testing.assert_array_equal(
            ours.observation_tensor(player), theirs.information_state_tensor(player)
        )
    if theirs.is_terminal():
        assert ours.current_players() == []
        assert ours.returns() == theirs.returns()
        return
    player = theirs.current_player()
    assert ours.current_players() == [player]
    assert ours.legal_actions(player) == theirs.legal_actions()
    assert ours.legal_actions(1 - player) == []
    for seat in (0, 1):
        assert ours.info_state_string(seat) == theirs.information_state_string(seat)


def _replay(deal: tuple[int, int, int], history: list[int]) -> LeducPokerState:
    ours = LeducPokerState([deal])
    for action in history:
        ours.apply_action(ours.current_players()[0], action)
    return ours


def test_every_information_state_matches_openspiel() -> None:
    """Every deal and every betting history: rules, tensors, strings and returns."""
    info_states: set[str] = set()
    terminals = 0
    for deal in itertools.permutations(range(6), 3):
        root = GAME.new_initial_state()
        root.apply_action(deal[0])
        root.apply_action(deal[1])
        stack = [(root, [])]
        while stack:
            theirs, history = stack.pop()
            if theirs.is_chance_node():
                theirs = theirs.child(deal[2])  # the public card of this deal
            _assert_same(_replay(deal, history), theirs)
            if theirs.is_terminal():
                terminals += 1
                continue
            info_states.add(theirs.information_state_string())
            stack += [(theirs.child(a), [*history, a]) for a in theirs.legal_actions()]
    assert len(info_states) == 936  # every information state of the game
    assert terminals > 0


def test_random_hands_match_openspiel() -> None:
    rng = np.random.default_rng(0)
    for _ in range(3000):
        ours = LeducPokerState.from_rng(rng, 1, "chips")
        deal = ours.deals[0]
        theirs = GAME.new_initial_state()
        theirs.apply_action(deal[0])
        theirs.apply_action(deal[1])
        while not theirs.is_terminal():
            if theirs.is_chance_node():
                theirs.apply_action(deal[2])
                continue
            _assert_same(ours, theirs)
            legal = theirs.legal_actions()
            action = legal[int(rng.integers(len(legal)))]
            ours.apply_action(theirs.current_player(), action)
            theirs.apply_action(action)
        _assert_same(ours, theirs)


@pytest.mark.parametrize("view", ["numeric", "text"])
def test_env_episodes_match_openspiel(view: str) -> None:
    """Seeded env episodes: the env's deal replayed in OpenSpiel, same returns."""
    rng = np.random.default_rng(1)
    env = selfplay_envs.make("leduc_poker_v0", view=view, infos="full")
    for episode in range(200):
        env.reset(seed=episode)
        deal = env.episode.state.deals[0]
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
            if theirs.is_chance_node():
                theirs.apply_action(deal[2])
            player = theirs.current_player()
            assert agent == f"player_{player}"
            assert info["info_state"] == theirs.information_state_string(player)
            if view == "numeric":
                np.testing.assert_array_equal(
                    observation["observation"], theirs.information_state_tensor(player)
                )
                assert list(np.flatnonzero(observation["action_mask"])) == (
                    theirs.legal_actions()
                )
            legal = theirs.legal_actions()
            action = legal[int(rng.integers(len(legal)))]
            word = ("fold", "call", "raise")[action]
            theirs.apply_action(action)
            env.step(action if view == "numeric" else f"I {word}. \\boxed{{{word}}}")
        assert [totals[a] for a in env.possible_agents] == theirs.returns()


def test_match_hands_each_match_openspiel() -> None:
    """In an N-hand match every hand is OpenSpiel's hand with the opener as player 0."""
    rng = np.random.default_rng(2)
    for _ in range(300):
        num_hands = int(rng.integers(2, 7))
        ours = LeducPokerState.from_rng(rng, num_hands, "chips")
        expected = [0.0, 0.0]
        for hand in range(num_hands):
            opener = hand % 2
            deal = ours.deals[hand]
            theirs = GAME.new_initial_state()
            theirs.apply_action(deal[0])
            theirs.apply_action(deal[1])
            while not theirs.is_terminal():
                if theirs.is_chance_node():
                    theirs.apply_action(deal[2])
                    continue
                seat = (opener + theirs.current_player()) % 2
                assert ours.current_players() == [seat]
                assert ours.hand == hand
                for s in (0, 1):
                    np.testing.assert_array_equal(
                        ours.observation_tensor(s)[:HAND_TENSOR_SIZE],
                        theirs.information_state_tensor((s - opener) % 2),
                    )
                legal = theirs.legal_actions()
                action = legal[int(rng.integers(len(legal)))]
                ours.apply_action(seat, action)
                theirs.apply_action(action)
            for position, value in enumerate(theirs.returns()):
                expected[(opener + position) % 2] += value
        assert ours.is_terminal()
        assert ours.returns() == expected
        assert sum(ours.chips) == 0


def test_deals_are_uniform() -> None:
    rng = np.random.default_rng(3)
    state = LeducPokerState.from_rng(rng, 12000, "chips")
    counts = {d: state.deals.count(d) for d in itertools.permutations(range(6), 3)}
    assert len(counts) == 120
    # 100 expected each; the standard deviation is about 10.
    assert all(50 < count < 150 for count in counts.values()), counts
