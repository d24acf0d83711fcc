"""SPIRAL's training-mode invalid penalty in negotiation, on constructed episodes; the
default (no preset) stays SPIRAL's set-up with the zero-sum forfeit."""

from __future__ import annotations

import dataclasses
import re

import pytest
from envs import play_replies

import selfplay_envs
from selfplay_envs.core.errors import ConfigError
from selfplay_envs.games.negotiation import ActionCodec

# player_0 gives 1 Wood for 5 Gold and player_1 accepts: by their own values player_0
# gains -5 + 5 * 15 = 70 and player_1 gains 15 - 5 * 5 = -10, so player_0 leads.
TRADE = ["I need Gold. [Offer: 1 Wood -> 5 Gold]", "Deal. [Accept]"]
# Neither seat has 20 Wood: an offer it cannot cover is illegal.
INVALID = "Take all my Wood. [Offer: 20 Wood -> 1 Gold]"


def play(env, replies):
    """Step ``replies`` in turn from ``reset(seed=0)``; the rewards, then the infos."""
    final, rewards = play_replies(env, replies)
    return rewards, final


@pytest.mark.parametrize(
    ("replies", "offender", "returns"),
    [
        # player_0 leads by 80 after the trade, then makes the invalid move.
        ([*TRADE, INVALID], "player_0", [-1.5, 0.5]),
        # player_1 trails after the trade; its invalid move ends the game at once.
        ([*TRADE, "[Pass]", INVALID], "player_1", [0.5, -1.5]),
        # Before any trade: accepting with nothing pending.
        (["[Accept]"], "player_0", [-1.5, 0.5]),
    ],
)
def test_spiral_invalid_move_by_either_seat_scores_minus_1_5_and_plus_0_5(
    replies, offender, returns
) -> None:
    env = selfplay_envs.make("negotiation_v0", preset="spiral")
    assert env.invalid_move.mode.value == "loss"  # the preset's default
    got, final = play(env, replies)
    assert got == returns
    assert final[offender]["outcome"] == "loss"
    assert final[offender]["invalid_reason"].startswith("illegal: ")


def test_the_same_episodes_without_a_preset_score_the_zero_sum_forfeit() -> None:
    env = selfplay_envs.make("negotiation_v0", invalid_move="loss")
    assert play(env, [*TRADE, INVALID])[0] == [-1.0, 1.0]
    assert play(env, [*TRADE, "[Pass]", INVALID])[0] == [1.0, -1.0]
    # Played out, the trade decides: player_0's gain 70 beats player_1's -10.
    assert play(env, [*TRADE, *["[Pass]"] * 8])[0] == [1.0, -1.0]


def test_spiral_scores_the_preset_after_retries_too() -> None:
    env = selfplay_envs.make("negotiation_v0", preset="spiral", invalid_move="retry")
    # 2 retries, then the forfeit on the third invalid reply.
    assert play(env, [TRADE[0], INVALID, INVALID, INVALID])[0] == [0.5, -1.5]


def test_spiral_scores_an_unmasked_numeric_action_too() -> None:
    env = selfplay_envs.make("negotiation_v0", preset="spiral", view="numeric")
    # Deny with nothing pending is not in player_0's mask.
    assert play(env, [ActionCodec.DENY])[0] == [-1.5, 0.5]


def test_the_preset_is_not_zero_sum_and_the_default_is_unchanged() -> None:
    spiral = selfplay_envs.make("negotiation_v0", preset="spiral")
    assert spiral.metadata["zero_sum"] is False
    default = selfplay_envs.make("negotiation_v0")
    assert default.metadata["zero_sum"] is True
    assert default.invalid_move.mode.value == "retry"
    game = default.unwrapped.game
    assert game.config.invalid_returns is None
    assert (game.info.min_utility, game.info.max_utility) == (-1.0, 1.0)
    # The default is SPIRAL's set-up: the preset differs by its invalid returns only.
    spiral_config = spiral.unwrapped.game.config
    assert spiral_config.invalid_returns == (-1.5, 0.5)
    assert game.config == dataclasses.replace(spiral_config, invalid_returns=None)
    assert game.config.resources == ("Wood", "Gold")
    assert game.config.values == ((5.0, 15.0), (15.0, 5.0))
    assert selfplay_envs.make("negotiation_v0", preset="textarena").metadata["zero_sum"]


def test_an_explicit_value_wins_over_the_preset_and_mixes_without_it() -> None:
    env = selfplay_envs.make(
        "negotiation_v0", preset="spiral", invalid_returns=(-1, 1), invalid_move="retry"
    )
    assert env.metadata["zero_sum"] is True
    assert env.invalid_move.mode.value == "retry"
    assert play(env, [INVALID] * 3)[0] == [-1.0, 1.0]
    env = selfplay_envs.make(
        "negotiation_v0", invalid_returns=(-2, 0.25), invalid_move="loss"
    )
    assert env.metadata["zero_sum"] is False
    assert play(env, ["[Pass]", INVALID])[0] == [0.25, -2.0]


@pytest.mark.parametrize(
    ("value", "given"),
    [
        ((-1.5,), r"got \(-1\.5,\): 1 item"),
        ("-1.5", r"got '-1\.5' \(a str\)"),
        ((-1.5, "a"), r"got \(-1\.5, 'a'\): item 1 is 'a' \(a str\)"),
        ((float("nan"), 0.5), r"got \(nan, 0\.5\): item 0 is nan"),
    ],
)
def test_bad_invalid_returns_are_refused_at_make(value, given) -> None:
    with pytest.raises(ConfigError) as err:
        selfplay_envs.make("negotiation_v0", invalid_returns=value)
    message = str(err.value)
    assert "negotiation_v0 parameter invalid_returns: " in message
    assert (
        "expected a pair of the offender's number and the other's, or None" in message
    )
    assert re.search(given, message)


def test_bad_preset_is_refused_naming_the_parameter_and_the_choices() -> None:
    with pytest.raises(ConfigError) as err:
        selfplay_envs.make("negotiation_v0", preset="spirall")
    message = str(err.value)
    assert "parameter preset: expected one of 'spiral', 'textarena', or None" in message
    assert "got 'spirall'" in message
