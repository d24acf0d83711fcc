"""Liar's Dice: parsing of model replies, configuration, the SPIRAL preset, docs."""

from __future__ import annotations

from pathlib import Path

import pytest

import selfplay_envs
import selfplay_envs.games.liars_dice.env as liars_env
from selfplay_envs.core.errors import ConfigError
from selfplay_envs.core.parsing import InvalidReason
from selfplay_envs.games.liars_dice.rules import LiarsDiceState

PAGE = Path(__file__).resolve().parents[2] / "docs" / "games" / "liars_dice.md"


def _state(*actions: int) -> LiarsDiceState:
    state = LiarsDiceState(((2, 5), (6, 1)), 6)  # 2 dice each, 4 in all
    for action in actions:
        state.apply_action(len(state.actions) % 2, action)
    return state


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("\\boxed{bid 2 5}", 10),
        ("I think so. [Bid: 3, 4]", 15),
        ("<answer>2-6</answer>", 11),
        ("\\boxed{4 1}", 18),
        ("[Call]", 24),
        ("\\boxed{liar}", 24),
        ("\\boxed{\\text{Liar!}}", 24),
    ],
)
def test_replies_parse(reply: str, expected: int) -> None:
    state = _state(3)  # the standing bid is 1 x 4
    assert state.parse_action(1, reply).action == expected


@pytest.mark.parametrize(
    ("actions", "reply", "reason", "words"),
    [
        ((), "\\boxed{liar}", InvalidReason.ILLEGAL, "no bid yet"),
        ((9,), "\\boxed{bid 2 3}", InvalidReason.ILLEGAL, "above the standing bid 2 4"),
        ((9,), "\\boxed{bid 2 4}", InvalidReason.ILLEGAL, "above the standing bid"),
        ((), "\\boxed{bid 5 2}", InvalidReason.ILLEGAL, "quantity in 1-4"),
        ((), "\\boxed{bid 1 7}", InvalidReason.ILLEGAL, "face in 1-6"),
        ((), "\\boxed{bid 1 " + "9" * 5000 + "}", InvalidReason.ILLEGAL, "in 1-4"),
        ((), "\\boxed{bid 1 2 3}", InvalidReason.UNPARSEABLE, "two numbers"),
        ((), "\\boxed{raise}", InvalidReason.UNPARSEABLE, "two numbers"),
    ],
)
def test_bad_replies_are_invalid_with_a_reason(
    actions: tuple[int, ...], reply: str, reason: InvalidReason, words: str
) -> None:
    state = _state(*actions)
    result = state.parse_action(len(actions) % 2, reply)
    assert not result.ok
    assert result.reason == reason
    assert words in result.detail


def test_numeric_checks() -> None:
    state = _state(9)
    assert not state.check_numeric(1, 9).ok
    assert not state.check_numeric(1, 25).ok
    assert state.check_numeric(1, 24).ok
    with pytest.raises(ValueError):
        state.apply_action(1, 3)


def test_the_highest_face_is_wild() -> None:
    # Faces 2, 5 and 6, 1: two dice count as 5s (the 5 and the wild 6).
    assert _state().count(5) == 2
    # Player 0 bids 2 x 4, player 1 calls: only the wild 6 counts, the bidder loses.
    assert _state(9, 24).returns() == [-1.0, 1.0]
    # Player 0 bids 2 x 5, player 1 calls: the 5 and the 6 count, the caller loses.
    assert _state(10, 24).returns() == [1.0, -1.0]


def test_spiral_preset_rolls_five_dice() -> None:
    env = selfplay_envs.make("liars_dice_v0", preset="spiral", view="numeric")
    env.reset(seed=0)
    assert len(env.episode.state.dice[0]) == 5
    assert env.action_space("player_0").n == 61
    env = selfplay_envs.make("liars_dice_v0", preset="spiral", dice_per_player=2)
    env.reset(seed=0)
    assert len(env.episode.state.dice[0]) == 2


@pytest.mark.parametrize(
    ("config", "name"),
    [
        ({"dice_per_player": 0}, "dice_per_player"),
        ({"dice_per_player": 11}, "dice_per_player"),
        ({"sides": 1}, "sides"),
        ({"sides": 6.0}, "sides"),
        ({"preset": "textarena"}, "preset"),
    ],
)
def test_bad_config_is_refused_at_make(config: dict, name: str) -> None:
    with pytest.raises(ConfigError) as err:
        selfplay_envs.make("liars_dice_v0", **config)
    assert name in str(err.value)
    assert repr(next(iter(config.values()))) in str(err.value)


def test_doc_page_starts_with_the_env_docstring() -> None:
    assert PAGE.read_text().startswith(liars_env.__doc__.rstrip("\n") + "\n")
