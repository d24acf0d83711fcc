"""Liar's Dice against OpenSpiel's ``liars_dice``: the same game, state by state.

OpenSpiel rolls with a chance player (player 0's dice, then player 1's); our states
take the same faces, so the chance actions map one to one (face = outcome + 1).
"""

from __future__ import annotations

import itertools

import numpy as np
import pyspiel
import pytest

import selfplay_envs
from selfplay_envs.games.liars_dice.rules import LiarsDiceState


def _load(dice: int, sides: int) -> pyspiel.Game:
    return pyspiel.load_game(f"liars_dice(numdice={dice},dice_sides={sides})")


def _assert_same(
    ours: LiarsDiceState, theirs: pyspiel.State, *, texts: bool = True
) -> None:
    assert ours.is_terminal() == theirs.is_terminal()
    for player in (0, 1):
        np.testing.assert_array_equal(
            ours.observation_tensor(player), theirs.information_state_tensor(player)
        )
        assert ours.info_state_string(player) == theirs.information_state_string(player)
    if theirs.is_terminal():
        assert ours.current_players() == []
        assert ours.returns() == theirs.returns()
        return
    player = theirs.current_player()
    assert ours.current_players() == [player]
    assert ours.legal_actions(player) == theirs.legal_actions()
    mask = ours.legal_mask(player, theirs.get_game().num_distinct_actions())
    assert list(np.flatnonzero(mask)) == theirs.legal_actions()
    assert ours.legal_actions(1 - player) == []
    if not texts:
        return
    for action in theirs.legal_actions():
        text = ours.action_to_string(player, action)
        assert ours.parse_action(player, f"\\boxed{{{text}}}").action == action


def _rolled(theirs: pyspiel.State, faces: list[int]) -> pyspiel.State:
    for face in faces:
        theirs = theirs.child(face - 1)
    return theirs


@pytest.mark.slow
def test_every_state_of_one_die_six_sides_matches_openspiel() -> None:
    """All 36 rolls and all 2^12 bid sequences each: tensors, strings, returns."""
    game = _load(1, 6)
    info_states: set[str] = set()
    terminals = 0
    for a, b in itertools.product(range(1, 7), repeat=2):
        stack = [(_rolled(game.new_initial_state(), [a, b]), [])]
        while stack:
            theirs, history = stack.pop()
            ours = LiarsDiceState(((a,), (b,)), 6)
            ours.actions = list(history)  # each step was checked one level up
            _assert_same(ours, theirs, texts=False)
            if theirs.is_terminal():
                terminals += 1
                continue
            info_states.add(theirs.information_state_string())
            stack += [(theirs.child(x), [*history, x]) for x in theirs.legal_actions()]
    assert len(info_states) == 6 * 2**12  # each roll times each set of bids made
    assert terminals == 36 * (2**12 - 1)


@pytest.mark.parametrize(("dice", "sides"), [(1, 6), (2, 3), (2, 6), (3, 4), (5, 6)])
def test_random_games_match_openspiel(dice: int, sides: int) -> None:
    game = _load(dice, sides)
    rng = np.random.default_rng(dice * 10 + sides)
    for _ in range(1000):
        ours = LiarsDiceState.from_rng(rng, dice, sides)
        theirs = _rolled(game.new_initial_state(), [*ours.dice[0], *ours.dice[1]])
        while not theirs.is_terminal():
            _assert_same(ours, theirs)
            legal = theirs.legal_actions()
            # Low bids more often, so that games reach a call before the top bid.
            action = legal[min(int(rng.geometric(0.3)) - 1, len(legal) - 1)]
            if rng.random() < 0.3 and theirs.history()[2 * dice :]:
                action = legal[-1]  # the call
            ours.apply_action(theirs.current_player(), action)
            theirs.apply_action(action)
        _assert_same(ours, theirs)


def test_rolls_are_those_openspiel_deals_sorted() -> None:
    """OpenSpiel sorts each hand; ours are sorted whatever order the roll came in."""
    game = _load(3, 6)
    theirs = _rolled(game.new_initial_state(), [5, 1, 3, 6, 6, 2])
    ours = LiarsDiceState(((5, 1, 3), (6, 6, 2)), 6)
    _assert_same(ours, theirs)


@pytest.mark.parametrize("view", ["numeric", "text"])
def test_env_episodes_match_openspiel(view: str) -> None:
    game = _load(2, 6)
    rng = np.random.default_rng(1)
    env = selfplay_envs.make(
        "liars_dice_v0", view=view, dice_per_player=2, infos="full"
    )
    for episode in range(200):
        env.reset(seed=episode)
        state = env.episode.state
        theirs = _rolled(game.new_initial_state(), [*state.dice[0], *state.dice[1]])
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
            legal = theirs.legal_actions()
            action = legal[min(int(rng.geometric(0.4)) - 1, len(legal) - 1)]
            if len(theirs.history()) > 4 and rng.random() < 0.3:
                action = legal[-1]
            text = theirs.action_to_string(action)  # OpenSpiel's "2-5" or "Liar"
            theirs.apply_action(action)
            env.step(action if view == "numeric" else f"So: \\boxed{{{text}}}")
        assert [totals[a] for a in env.possible_agents] == theirs.returns()
