"""Leduc poker's SPIRAL and MARS presets held to the papers' numbers on constructed
episodes (the same points as Kuhn poker's; docs/papers.md)."""

from __future__ import annotations

import pytest
from envs import play_replies

import selfplay_envs

play = play_replies


def strict(word: str) -> str:
    return f"<think>my card and the board say {word}</think><answer>{word}</answer>"


@pytest.mark.parametrize(
    ("replies", "returns"),
    [
        (["no move"], [-1.5, 0.5]),  # the opener names no move
        (["raise", "no move"], [0.5, -1.5]),  # the responder, facing a raise
    ],
)
def test_spiral_invalid_move_scores_minus_1_5_and_plus_0_5(replies, returns) -> None:
    env = selfplay_envs.make("leduc_poker_v0", preset="spiral")
    assert env.invalid_move.mode.value == "loss"  # the preset's default
    assert play(env, replies)[1] == returns


def test_spiral_invalid_in_a_match_replaces_the_chips_won_so_far() -> None:
    env = selfplay_envs.make("leduc_poker_v0", preset="spiral", num_hands=2)
    # Hand 1: player_0 raises, player_1 folds (player_0 is 1 chip up). Hand 2
    # (player_1 opens): player_1 names no move.
    assert play(env, ["raise", "fold", "no move"])[1] == [0.5, -1.5]


def test_mars_invalid_in_round_two_scores_minus_stake_minus_10() -> None:
    env = selfplay_envs.make("leduc_poker_v0", preset="mars")
    replies = [strict("raise"), strict("call"), strict("raise"), "\\boxed{call}"]
    final, returns = play(env, replies)
    # player_1 has the ante and the called raise of 2 in: -(1 + 2) - 10; the other 0.
    assert returns == [0.0, -13.0]
    reason = final["player_1"]["invalid_reason"]
    assert reason.startswith("no action found: expected a reply of the form <think>")
    # player_0's two strict replies at 0.05 each, not in the returns.
    assert final["player_0"]["format_bonus"] == pytest.approx(0.1)


def test_presets_are_not_zero_sum_and_the_default_is() -> None:
    default = selfplay_envs.make("leduc_poker_v0")
    assert default.metadata["zero_sum"] is True
    assert default.invalid_move.mode.value == "retry"
    # The default forfeit is the worst result, 13 chips a hand.
    env = selfplay_envs.make("leduc_poker_v0", invalid_move="loss")
    assert play(env, ["no move"])[1] == [-13.0, 13.0]
    for preset in ("spiral", "mars"):
        env = selfplay_envs.make("leduc_poker_v0", preset=preset)
        assert env.metadata["zero_sum"] is False
