"""Liar's Dice's SPIRAL and MARS presets held to the papers' numbers on constructed
episodes (docs/papers.md)."""

from __future__ import annotations

import pytest
from envs import play_replies

import selfplay_envs

play = play_replies


def strict(move: str) -> str:
    return f"<think>my dice say {move}</think><answer>{move}</answer>"


@pytest.mark.parametrize(
    ("replies", "returns"),
    [
        (["liar"], [-1.5, 0.5]),  # a call with no bid to call
        (["bid 1 1", "bid 1 1"], [0.5, -1.5]),  # a bid that does not raise
    ],
)
def test_spiral_invalid_move_scores_minus_1_5_and_plus_0_5(replies, returns) -> None:
    env = selfplay_envs.make("liars_dice_v0", preset="spiral")
    assert env.invalid_move.mode.value == "loss"  # the preset's default
    assert play(env, replies)[1] == returns


def test_mars_unformatted_reply_scores_minus_10_and_the_other_0() -> None:
    env = selfplay_envs.make("liars_dice_v0", preset="mars")
    final, returns = play(env, [strict("bid 1 1"), "\\boxed{liar}"])
    assert returns == [0.0, -10.0]
    reason = final["player_1"]["invalid_reason"]
    assert reason.startswith("no action found: expected a reply of the form <think>")
    assert final["player_0"]["format_bonus"] == pytest.approx(0.05)


def test_presets_are_not_zero_sum_and_the_default_is() -> None:
    default = selfplay_envs.make("liars_dice_v0")
    assert default.metadata["zero_sum"] is True
    assert default.invalid_move.mode.value == "retry"
    env = selfplay_envs.make("liars_dice_v0", invalid_move="loss")
    assert play(env, ["liar"])[1] == [-1.0, 1.0]
    for preset in ("spiral", "mars"):
        env = selfplay_envs.make("liars_dice_v0", preset=preset)
        assert env.metadata["zero_sum"] is False
