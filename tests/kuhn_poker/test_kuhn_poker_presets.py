"""SPIRAL's and MARS's presets held to the papers' numbers on constructed episodes."""

from __future__ import annotations

import numpy as np
import pytest
from envs import play_replies

import selfplay_envs
from selfplay_envs.core.errors import ConfigError
from selfplay_envs.core.presets import resolve_rules
from selfplay_envs.games.kuhn_poker.rules import KuhnPokerState, Reward

RANK = {"J": 0, "Q": 1, "K": 2}


play = play_replies


def strict(word: str) -> str:
    return f"<think>I hold my card and {word}</think><answer>{word}</answer>"


def test_spiral_invalid_move_scores_minus_1_5_and_plus_0_5() -> None:
    env = selfplay_envs.make("kuhn_poker_v0", preset="spiral", invalid_move="loss")
    _, returns = play(env, ["check", "raise"])  # player_1 names no move
    assert returns == [0.5, -1.5]


def test_spiral_ends_the_hand_at_the_first_invalid_move_without_an_option() -> None:
    env = selfplay_envs.make("kuhn_poker_v0", preset="spiral")
    _, returns = play(env, ["check", "raise"])
    assert returns == [0.5, -1.5]


def test_spiral_invalid_in_a_match_replaces_the_chips_won_so_far() -> None:
    env = selfplay_envs.make(
        "kuhn_poker_v0", preset="spiral", num_hands=5, invalid_move="loss"
    )
    # Hand 1 checked down; hand 2 (player_1 opens) ends at player_0's "check" to a bet.
    _, returns = play(env, ["check", "check", "bet", "check"])
    assert returns == [-1.5, 0.5]


def test_mars_invalid_facing_a_bet_scores_minus_stake_minus_10() -> None:
    env = selfplay_envs.make("kuhn_poker_v0", preset="mars", invalid_move="loss")
    final, returns = play(env, [strict("check"), strict("bet"), "\\boxed{call}"])
    # player_0 has committed its ante (1 chip): -(1) - 10; the other seat gets 0.
    assert returns == [-11.0, 0.0]
    reason = final["player_0"]["last_move"]["reason"]
    assert reason.startswith("no action found: expected a reply of the form <think>")


def test_mars_stake_counts_the_bettors_committed_chips() -> None:
    # The seat to act never has a bet in within one hand, so the stake is set up
    # directly: after player_1's bet, player_1 has committed 2 chips.
    game = selfplay_envs.make_game("kuhn_poker_v0", preset="mars")
    state = game.new_initial_state(np.random.default_rng(0))
    state.apply_action(0, 0)
    state.apply_action(1, 1)
    assert state.forfeit_returns(1) == [0.0, -12.0]
    assert state.forfeit_returns(0) == [-11.0, 0.0]


def test_mars_showdown_keeps_the_chips_and_reports_the_format_bonus() -> None:
    env = selfplay_envs.make("kuhn_poker_v0", preset="mars")
    env.reset(seed=0)
    cards = [RANK[env.infos[a]["card"]] for a in ("player_0", "player_1")]
    final, returns = play(env, [strict("bet"), strict("call")])
    sign = 1.0 if cards[0] > cards[1] else -1.0
    assert returns == [2.0 * sign, -2.0 * sign]  # a called bet: +-2, no bonus in it
    assert final["player_0"]["format_bonus"] == pytest.approx(0.05)
    assert final["player_1"]["format_bonus"] == pytest.approx(0.05)


def test_presets_are_not_zero_sum_and_the_default_is() -> None:
    assert selfplay_envs.make("kuhn_poker_v0").metadata["zero_sum"] is True
    for preset in ("spiral", "mars"):
        env = selfplay_envs.make("kuhn_poker_v0", preset=preset)
        assert env.metadata["zero_sum"] is False


def test_strict_format_alone_keeps_the_zero_sum_forfeit() -> None:
    env = selfplay_envs.make("kuhn_poker_v0", strict_format=True, invalid_move="loss")
    assert env.metadata["zero_sum"] is True
    _, returns = play(env, ["\\boxed{bet}"])
    assert returns == [-2.0, 2.0]


def test_bad_preset_is_refused_naming_the_parameter_and_the_choices() -> None:
    with pytest.raises(ConfigError) as err:
        selfplay_envs.make("kuhn_poker_v0", preset="textarena")
    message = str(err.value)
    assert "preset" in message and "'textarena'" in message
    assert "'spiral'" in message and "'mars'" in message


def test_spiral_preset_keeps_the_growing_pot() -> None:
    env = selfplay_envs.make("kuhn_poker_v0", preset="spiral")
    env.reset(seed=0)
    cards = [RANK[env.infos[a]["card"]] for a in ("player_0", "player_1")]
    _, returns = play(env, ["bet", "call"])
    sign = 1.0 if cards[0] > cards[1] else -1.0
    assert returns == [2.0 * sign, -2.0 * sign]  # TextArena's pot would pay 1


def test_spiral_match_is_decided_by_every_hand_not_the_last() -> None:
    rules = resolve_rules({"preset": "spiral"})
    # Hand 1: player_0 (K) bets, player_1 (J) calls: +2. Hand 2: player_1 (K) opens,
    # both check: player_1 +1. player_0 is ahead by 2 - 1 chips and wins the match.
    state = KuhnPokerState([(2, 0), (2, 0)], Reward.MATCH, rules)
    for player, action in ((0, 1), (1, 1), (1, 0), (0, 0)):
        state.apply_action(player, action)
    assert state.is_terminal() and state.chips == [1, -1]
    assert state.returns() == [1.0, -1.0]
