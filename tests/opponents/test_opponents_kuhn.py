"""Kuhn poker players and exact exploitability, checked against theory and OpenSpiel."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyspiel
import pytest
from open_spiel.python import policy as openspiel_policy
from open_spiel.python.algorithms import cfr as openspiel_cfr
from open_spiel.python.algorithms import expected_game_score

import selfplay_envs
from selfplay_agents.analysis.kuhn import (
    INFO_STATES,
    evaluate,
    exploitability,
    info_state_turn,
)
from selfplay_agents.opponents import list_opponents, make_opponent
from selfplay_agents.opponents.kuhn_poker import (
    KuhnTablePolicy,
    cfr,
    cfr_table,
    nash,
    nash_table,
)
from selfplay_agents.policy import CallablePolicy, RandomPolicy, Turn

GAME = pyspiel.load_game("kuhn_poker")
ALPHAS = [0.0, 0.1, 1 / 6, 0.25, 1 / 3]


def _tabular(table: dict[str, float]) -> openspiel_policy.TabularPolicy:
    tabular = openspiel_policy.TabularPolicy(GAME)
    for key, bet in table.items():
        tabular.policy_for_key(key)[:] = [1.0 - bet, bet]
    return tabular


def _probs(table: dict[str, float]) -> dict[str, list[float]]:
    return {key: [1.0 - bet, bet] for key, bet in table.items()}


# ---- the Nash family ---------------------------------------------------------------


@pytest.mark.parametrize("alpha", ALPHAS)
def test_nash_family_is_unexploitable(alpha: float) -> None:
    assert exploitability(nash(alpha=alpha)) < 1e-3


@pytest.mark.parametrize("alpha", ALPHAS)
def test_nash_family_has_value_minus_one_eighteenth(alpha: float) -> None:
    tabular = _tabular(nash_table(alpha))
    values = expected_game_score.policy_value(GAME.new_initial_state(), [tabular] * 2)
    assert values[0] == pytest.approx(-1 / 18, abs=1e-12)


def test_alpha_out_of_range_raises() -> None:
    for alpha in (-0.1, 0.5):
        with pytest.raises(ValueError, match=r"expected alpha in \[0, 1/3\]"):
            nash(alpha=alpha)


def test_a_wrong_alpha_player_is_exploitable() -> None:
    # Bluffing a Jack more than 1/3 of the time leaves the family: a responder gains.
    table = nash_table(1 / 3) | {"0": 0.6}
    assert evaluate(_probs(table)).improvements[1] > 0.01


# ---- CFR ---------------------------------------------------------------------------


def test_cfr_player_is_close_to_nash_and_fast_to_build() -> None:
    cfr_table.cache_clear()
    start = time.perf_counter()
    player = cfr(seed=0)
    assert time.perf_counter() - start < 10.0
    assert exploitability(player) < 0.01


def test_cfr_table_matches_openspiel_python_cfr() -> None:
    """The cached C++ solver and ``open_spiel.python.algorithms.cfr`` agree."""
    solver = openspiel_cfr.CFRSolver(GAME)
    for _ in range(50):
        solver.evaluate_and_update_policy()
    average = solver.average_policy()
    ours = cfr_table(50)
    for key in INFO_STATES:
        assert ours[key] == pytest.approx(average.policy_for_key(key)[1], abs=1e-9)


# ---- exploitability of known policies ----------------------------------------------


def test_uniform_random_is_eleven_twenty_fourths() -> None:
    assert exploitability(lambda info_state: [0.5, 0.5]) == pytest.approx(
        11 / 24, abs=1e-9
    )


def test_sampled_random_policy_is_close_to_eleven_twenty_fourths() -> None:
    report = evaluate(RandomPolicy(seed=0), samples=4000)
    assert report.exploitability == pytest.approx(11 / 24, abs=0.02)
    assert report.invalid_answers == 0


@pytest.mark.parametrize("view", ["text", "numeric"])
def test_always_bet_is_one_third(view: str) -> None:
    """Hand-computed: against always-bet the opener's best response folds J, calls or
    bets Q (0) and bets K (+2): (-1 + 0 + 2) / 3 = 1/3; the responder's best response
    folds J, calls Q and K: also 1/3. NashConv 2/3, exploitability 1/3."""

    def always_bet(observation: dict[str, Any], info: dict[str, Any]) -> Any:
        del observation  # A fixed policy.
        return 1 if view == "numeric" else f"I always {info['legal_actions'][1]}: [bet]"

    report = evaluate(CallablePolicy(always_bet), view=view)
    assert report.exploitability == pytest.approx(1 / 3, abs=1e-12)
    assert report.nash_conv == pytest.approx(2 / 3, abs=1e-12)
    assert report.improvements == pytest.approx((1 / 3, 1 / 3), abs=1e-12)
    assert report.table == {key: (0.0, 1.0) for key in INFO_STATES}


def test_always_pass_is_one() -> None:
    """Hand-computed: against always-pass both best responses bet every card and the
    passer folds, +1 per hand: NashConv 2, exploitability 1."""
    assert exploitability(dict.fromkeys(INFO_STATES, [1.0, 0.0])) == pytest.approx(1.0)


def test_invalid_answers_count_as_uniform() -> None:
    junk = CallablePolicy(lambda observation, info: "I'm not sure, maybe raise?")
    report = evaluate(junk)
    assert report.invalid_answers == 12
    assert report.exploitability == pytest.approx(11 / 24, abs=1e-9)


def test_a_pair_of_policies_plays_opener_and_responder() -> None:
    # Equilibria of a two-player zero-sum game are interchangeable.
    assert exploitability((nash(alpha=1 / 3), nash(alpha=0.0))) < 1e-9
    report = evaluate((nash(alpha=0.2), lambda key: [0.5, 0.5]))
    assert report.table["0"] == pytest.approx((0.8, 0.2))
    assert report.table["0b"] == (0.5, 0.5)
    assert report.exploitability > 0.1


def test_info_state_turns_are_what_the_env_shows() -> None:
    for key in INFO_STATES:
        turn, state = info_state_turn(key, view="numeric")
        assert turn.info["info_state"] == key
        assert state.info_state_key(state.current_players()[0]) == key
        assert turn.info["action_mask"].tolist() == [1, 1]


# ---- the players in the env --------------------------------------------------------


class _Seats:
    """Two policies playing one env, one per seat."""

    def __init__(self, players: Sequence[Any], view: str):
        self.players = players
        self.view = view

    def play(self, env: Any, seed: int) -> list[float]:
        env.reset(seed=seed)
        totals = [0.0, 0.0]
        for agent in env.agent_iter():
            observation, reward, termination, truncation, info = env.last()
            seat = int(agent[-1])
            totals[seat] += reward
            if termination or truncation:
                env.step(None)
                continue
            turn = Turn(
                env_id="kuhn_poker_v0",
                agent=agent,
                observation=observation,
                info=info,
                view=self.view,
            )
            env.step(self.players[seat].act([turn])[0])
            assert env.infos[agent]["invalid_moves"] == 0
        return totals


def _value_against_uniform(table: dict[str, float], position: int) -> float:
    seats = [_tabular(table), openspiel_policy.UniformRandomPolicy(GAME)]
    if position == 1:
        seats.reverse()
    return expected_game_score.policy_value(GAME.new_initial_state(), seats)[position]


@pytest.mark.parametrize("view", ["text", "numeric"])
@pytest.mark.parametrize("name", ["nash", "cfr"])
def test_players_play_matches_in_both_views(view: str, name: str) -> None:
    """Env play agrees with OpenSpiel's expected value against a uniform player."""
    assert {"random", "nash", "cfr"} <= set(list_opponents("kuhn_poker_v0"))
    player = make_opponent("kuhn_poker_v0", name, seed=0, num_hands=3)
    env = selfplay_envs.make("kuhn_poker_v0", view=view, num_hands=3, infos="full")
    seats = _Seats([player, RandomPolicy(seed=1)], view)
    totals = np.array([seats.play(env, seed)[0] for seed in range(200)])
    # player_0 opens hands 1 and 3 and responds in hand 2.
    expected = 2 * _value_against_uniform(player.table, 0) + _value_against_uniform(
        player.table, 1
    )
    assert expected > 0.2  # both win chips from a uniform random player
    standard_error = totals.std() / np.sqrt(len(totals))
    assert abs(totals.mean() - expected) < 4 * standard_error


def test_nash_alpha_reaches_the_factory() -> None:
    player = make_opponent("kuhn_poker_v0", "nash", seed=0, alpha=0.25)
    assert isinstance(player, KuhnTablePolicy)
    assert player.bet_probability("0") == 0.25
    assert player.bet_probability("2") == 0.75
    assert player.name == "nash(alpha=0.25)"


def test_sampled_nash_play_matches_its_table() -> None:
    player = nash(seed=3, alpha=1 / 6)
    turn, _ = info_state_turn("1pb", view="numeric")
    actions = player.act([turn] * 6000)
    assert np.mean(actions) == pytest.approx(1 / 6 + 1 / 3, abs=0.03)
