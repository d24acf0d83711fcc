"""Kuhn poker rules beyond OpenSpiel: chips, matches, rewards, hidden cards, views."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import selfplay_envs
from selfplay_envs.games.kuhn_poker.rules import HandResult, KuhnPokerState
from selfplay_envs.test import check_env

J, Q, K = 0, 1, 2


def _play(state: KuhnPokerState, actions: list[int]) -> None:
    for action in actions:
        state.apply_action(state.current_players()[0], action)


# ---- one hand: chips ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("deal", "actions", "pots", "returns"),
    [
        pytest.param((K, J), [0, 0], [2, 2], [1, -1], id="check-check-showdown"),
        pytest.param((J, K), [1, 1], [3, 4], [-2, 2], id="bet-call-showdown"),
        pytest.param((J, K), [1, 0], [3, 3], [1, -1], id="bet-fold"),
        pytest.param((Q, J), [0, 1, 0], [2, 3, 3], [-1, 1], id="check-bet-fold"),
        pytest.param((Q, J), [0, 1, 1], [2, 3, 4], [2, -2], id="check-bet-call"),
    ],
)
def test_pot_grows_with_bets_and_fold_forfeits(
    deal: tuple[int, int], actions: list[int], pots: list[int], returns: list[float]
) -> None:
    state = KuhnPokerState([deal])
    assert state.pot == 2  # both antes
    seen = []
    for action in actions:
        pot_before = state.pot
        state.apply_action(state.current_players()[0], action)
        seen.append(state.pot if not state.is_terminal() else pot_before + action)
    assert seen == pots
    assert state.is_terminal()
    assert state.returns() == returns
    result = state.results[-1]
    assert result.payoff == tuple(returns)
    assert result.showdown == (actions[-1] == 1 or actions == [0, 0])


def test_fold_hides_cards_and_showdown_shows_them() -> None:
    folded = KuhnPokerState([(J, K), (Q, K)])
    _play(folded, [1, 0])  # seat 0 bets a Jack, seat 1 folds a King
    view = folded.info(1)["hand_results"][0]
    assert view == {
        "hand": 0,
        "opened": False,
        "history": "bp",
        "won": False,
        "chips": -1,
        "showdown": False,
        "card": "K",
        "opponent_card": None,
    }
    assert "after a fold" in folded.observation_text(1)
    shown = KuhnPokerState([(J, K), (Q, K)])
    _play(shown, [0, 0])
    assert shown.info(0)["hand_results"][0]["opponent_card"] == "K"
    assert "your J vs their K" in shown.observation_text(0)


# ---- matches -----------------------------------------------------------------------


def test_opener_alternates_each_hand() -> None:
    state = KuhnPokerState([(J, Q), (Q, K), (K, J), (J, K)])
    openers = []
    while not state.is_terminal():
        openers.append(state.current_players()[0])
        _play(state, [0, 0])
    assert openers == [0, 1, 0, 1]
    assert [r.opener for r in state.results] == [0, 1, 0, 1]


def _winning_line(state: KuhnPokerState, leader: int) -> list[int]:
    """Actions that make ``leader`` win the current hand: bet-call with the better card,
    bet and the rival folds otherwise."""
    cards = state.seat_cards()
    leader_acts_first = state.opener == leader
    if cards[leader] > cards[1 - leader]:
        return [1, 1] if leader_acts_first else [0, 1, 1]
    return [1, 0] if leader_acts_first else [0, 1, 0]


def _losing_last_hand(state: KuhnPokerState, loser: int) -> list[int]:
    """``loser`` folds to a bet: the rival wins the hand by one chip."""
    return [1, 0] if state.opener != loser else [0, 1, 0]


def _step_env(env: Any, actions: list[int], view: str) -> None:
    for action in actions:
        agent = env.agent_selection
        word = env.infos[agent]["legal_actions"][action]
        env.step(action if view == "numeric" else f"After some thought: [{word}]")


@pytest.mark.parametrize("view", ["text", "numeric"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_last_hand_does_not_decide_the_match(view: str, seed: int) -> None:
    """player_0 wins the first two hands and loses the last: the match is still theirs.

    SPIRAL decides its 5-hand match by the last hand; here the cumulative chips decide.
    """
    env = selfplay_envs.make(
        "kuhn_poker_v0", view=view, num_hands=3, reward="match", infos="full"
    )
    env.reset(seed=seed)
    state = env.episode.state
    for _ in range(2):
        _step_env(env, _winning_line(state, leader=0), view)
    chips_before_last = state.chips[0]
    assert chips_before_last >= 2
    _step_env(env, _losing_last_hand(state, loser=0), view)
    assert state.is_terminal()
    assert state.results[-1].winner == 1  # the last hand went to player_1 ...
    assert state.chips == [chips_before_last - 1, 1 - chips_before_last]
    assert env.rewards == {"player_0": 1.0, "player_1": -1.0}  # ... the match did not
    assert env.infos["player_0"]["outcome"] == "win"
    assert env.infos["player_1"]["hand_results"][-1]["won"] is True


def test_chips_reward_is_the_sum_of_hands_and_match_reward_its_sign() -> None:
    rng = np.random.default_rng(4)
    for _ in range(200):
        deals = KuhnPokerState.from_rng(rng, 5, "chips").deals
        actions = rng.integers(2, size=20).tolist()
        chips, match = KuhnPokerState(deals, "chips"), KuhnPokerState(deals, "match")
        while not chips.is_terminal():
            action = actions.pop()
            _play(chips, [action])
            _play(match, [action])
        total = [sum(r.payoff[p] for r in chips.results) for p in (0, 1)]
        assert chips.returns() == total
        assert match.returns() == [float(np.sign(total[0])), float(np.sign(total[1]))]


def test_tied_match_is_a_draw() -> None:
    env = selfplay_envs.make(
        "kuhn_poker_v0", view="numeric", num_hands=2, reward="match", infos="full"
    )
    env.reset(seed=5)
    state = env.episode.state
    _step_env(env, _losing_last_hand(state, loser=1), "numeric")  # player_0 +1
    _step_env(env, _losing_last_hand(state, loser=0), "numeric")  # player_1 +1
    assert state.chips == [0, 0]
    assert env.rewards == {"player_0": 0.0, "player_1": 0.0}
    assert env.infos["player_0"]["outcome"] == "draw"


# ---- hidden information --------------------------------------------------------------


@pytest.mark.parametrize("history", [[], [0], [1], [0, 1]], ids=["-", "p", "b", "pb"])
@pytest.mark.parametrize("observer", [0, 1])
def test_what_a_player_sees_does_not_depend_on_the_rival_card(
    history: list[int], observer: int
) -> None:
    for card in range(3):
        seen = set()
        for rival in set(range(3)) - {card}:
            deal = (card, rival) if observer == 0 else (rival, card)
            state = KuhnPokerState([deal, deal])
            _play(state, history)
            seen.add(
                (
                    state.observation_text(observer),
                    state.observation_tensor(observer).tobytes(),
                    repr(sorted(state.info(observer).items())),
                )
            )
        assert len(seen) == 1


def test_render_shows_both_cards() -> None:
    state = KuhnPokerState([(K, Q)])
    text = state.render()
    assert "player_0 K" in text and "player_1 Q" in text
    env = selfplay_envs.make("kuhn_poker_v0", render_mode="ansi")
    env.reset(seed=0)
    cards = env.episode.state.seat_cards()
    assert f"player_0 {'JQK'[cards[0]]}, player_1 {'JQK'[cards[1]]}" in env.render()


# ---- views -------------------------------------------------------------------------


def test_text_view_shows_card_betting_pot_chips_hand_and_moves() -> None:
    # Deals are (opener's card, responder's card); player_1 opens hand 2 with K.
    state = KuhnPokerState([(Q, K), (K, J), (K, Q)])
    _play(state, [0, 0])  # hand 1: showdown, player_1 +1
    _play(state, [1])  # hand 2: player_1 opens with a bet
    text = state.observation_text(0)
    for expected in (
        "Hand 2 of 3 (you act second).",
        "Your chips so far: -1; opponent: +1.",
        "Your card: J",
        "Betting so far: opponent bet.",
        "Pot: 3 chips (you put in 1, opponent 2).",
        "Last hand (hand 1): Your opponent won 1 chip at showdown (your Q vs their K).",
        "It is your turn. Legal moves: fold, call.",
    ):
        assert expected in text
    assert "It is your opponent's turn." in state.observation_text(1)


def test_match_features_in_the_numeric_view() -> None:
    state = KuhnPokerState([(Q, K), (J, K), (K, Q)])
    assert state.observation_tensor(0).shape == (13,)
    np.testing.assert_allclose(state.observation_tensor(0)[11:], [0.0, 0.5])
    _play(state, [1, 1])  # hand 1: player_1 wins 2 chips
    np.testing.assert_allclose(state.observation_tensor(0)[11:], [1 / 3, (-2 + 6) / 12])
    np.testing.assert_allclose(state.observation_tensor(1)[11:], [1 / 3, (2 + 6) / 12])
    # player_1 opens hand 2 (deal: opener J, responder K): its position bit is 0
    assert state.observation_tensor(1)[:2].tolist() == [1.0, 0.0]
    assert state.observation_tensor(1)[2:5].tolist() == [1.0, 0.0, 0.0]
    assert (state.info(1)["info_state"], state.info(0)["info_state"]) == ("0", "2")


def test_info_holds_own_card_and_public_betting() -> None:
    state = KuhnPokerState([(K, J)])
    _play(state, [0, 1])
    assert state.info(0) == {
        "card": "K",
        "position": 0,
        "betting": "pb",
        "info_state": "2pb",
        "pot": 3,
        "hand": 0,
        "num_hands": 1,
        "chips": 0,
        "hand_results": [],
    }


# ---- invalid moves and configuration -------------------------------------------------


@pytest.mark.parametrize(
    ("reward", "num_hands", "expected"),
    [("chips", 1, 2.0), ("chips", 4, 8.0), ("match", 4, 1.0)],
)
def test_forfeit_is_the_worst_result(
    reward: str, num_hands: int, expected: float
) -> None:
    env = selfplay_envs.make(
        "kuhn_poker_v0",
        num_hands=num_hands,
        reward=reward,
        invalid_move={"mode": "loss"},
    )
    env.reset(seed=0)
    env.step("I raise!")
    assert env.rewards == {"player_0": -expected, "player_1": expected}
    assert env.infos["player_0"]["invalid_reason"].startswith("unparseable")
    game = selfplay_envs.make_game("kuhn_poker_v0", num_hands=num_hands, reward=reward)
    assert game.info.min_utility == -expected


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"num_hands": 0}, "num_hands: expected an int in [1, 100000], got 0"),
        ({"num_hands": 2.5}, "num_hands: expected an int in [1, 100000], got 2.5"),
        ({"num_hands": 10**9}, "num_hands: expected an int in [1, 100000], got 1000"),
        ({"reward": "score"}, "reward: expected one of 'chips', 'match', got 'score'"),
    ],
)
def test_bad_config_raises(config: dict[str, Any], message: str) -> None:
    with pytest.raises(
        ValueError, match=message.replace("[", r"\[").replace("]", r"\]")
    ):
        selfplay_envs.make_game("kuhn_poker_v0", **config)


@pytest.mark.parametrize("view", ["text", "numeric"])
def test_match_configuration_passes_conformance(view: str) -> None:
    check_env("kuhn_poker_v0", view=view, num_hands=5, reward="match")


def test_hand_result_records_are_frozen() -> None:
    state = KuhnPokerState([(K, J)])
    _play(state, [0, 0])
    result = state.results[0]
    assert isinstance(result, HandResult)
    with pytest.raises(AttributeError):
        result.winner = 1  # type: ignore[misc]


def test_bad_deals_raise() -> None:
    for deals in ([], [(1, 1)], [(0, 3)]):
        with pytest.raises(ValueError, match="expected"):
            KuhnPokerState(deals)
    assert len(list(itertools.permutations(range(3), 2))) == 6
