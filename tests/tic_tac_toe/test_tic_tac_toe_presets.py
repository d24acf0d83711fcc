"""SPIRAL's and MARS's presets held to the papers' numbers on constructed episodes."""

from __future__ import annotations

import pytest
from envs import play_replies

import selfplay_envs
from selfplay_envs.core.errors import ConfigError
from selfplay_envs.core.presets import strict_answer

# A drawn game, seat 0 first: x 0, 2, 3, 7, 8 and o 1, 4, 5, 6 complete no line.
DRAW = (0, 1, 2, 4, 3, 5, 7, 6, 8)


play = play_replies


def strict(cell: int) -> str:
    return f"<think>cell {cell} looks good</think>\n<answer>{cell}</answer>"


def test_spiral_invalid_move_scores_minus_1_5_and_plus_0_5() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0", preset="spiral", invalid_move="loss")
    final, returns = play(env, ["4", "4"])  # player_1 takes a taken cell
    assert returns == [0.5, -1.5]
    assert final["player_1"]["last_move"]["reason"] == "illegal: cell 4 is taken"


def test_spiral_invalid_after_retries_also_scores_the_preset() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0", preset="spiral", invalid_move="retry")
    _, returns = play(env, ["no move"] * 3)  # 2 retries, then the forfeit
    assert returns == [-1.5, 0.5]


@pytest.mark.parametrize("preset", ["spiral", "mars"])
def test_a_preset_ends_the_game_at_the_first_invalid_move(preset) -> None:
    env = selfplay_envs.make("tic_tac_toe_v0", preset=preset)
    assert env.invalid_move.mode.value == "loss"
    final, _ = play(env, ["no move"])
    assert final["player_0"]["outcome"] == "loss"
    # Without a preset, and with an explicit policy, the env's retries remain.
    for env in (
        selfplay_envs.make("tic_tac_toe_v0"),
        selfplay_envs.make("tic_tac_toe_v0", preset=preset, invalid_move="retry"),
    ):
        assert env.invalid_move.mode.value == "retry"


def test_presets_are_not_zero_sum_and_the_default_is() -> None:
    assert selfplay_envs.make("tic_tac_toe_v0").metadata["zero_sum"] is True
    for preset in ("spiral", "mars"):
        env = selfplay_envs.make("tic_tac_toe_v0", preset=preset)
        assert env.metadata["zero_sum"] is False


def test_mars_draw_scores_0_1_each_and_reports_the_format_bonus() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0", preset="mars")
    final, returns = play(env, [strict(cell) for cell in DRAW])
    assert returns == [0.1, 0.1]
    # 5 and 4 well-formatted replies at 0.05 each, not summed into the returns.
    assert final["player_0"]["format_bonus"] == pytest.approx(0.25)
    assert final["player_1"]["format_bonus"] == pytest.approx(0.20)


def test_mars_unformatted_reply_is_invalid_and_scores_minus_10() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0", preset="mars", invalid_move="loss")
    final, returns = play(env, [strict(4), "\\boxed{0}"])
    assert returns == [0.0, -10.0]
    reason = final["player_1"]["last_move"]["reason"]
    assert reason.startswith("no action found: expected a reply of the form <think>")


def test_mars_illegal_move_in_the_format_scores_minus_10() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0", preset="mars", invalid_move="loss")
    _, returns = play(env, [strict(4), strict(4)])
    assert returns == [0.0, -10.0]


def test_default_draw_is_zero_and_a_point_mixes_without_a_preset() -> None:
    _, returns = play(selfplay_envs.make("tic_tac_toe_v0"), [str(c) for c in DRAW])
    assert returns == [0.0, 0.0]
    env = selfplay_envs.make("tic_tac_toe_v0", draw_score=0.5)
    assert play(env, [str(c) for c in DRAW])[1] == [0.5, 0.5]
    env = selfplay_envs.make("tic_tac_toe_v0", preset="spiral", draw_score=0.1)
    assert play(env, [str(c) for c in DRAW])[1] == [0.1, 0.1]


def test_textarena_marks_player_0_plays_o_and_moves_first() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0", marks="textarena", render_mode="ansi")
    env.reset(seed=0)
    assert env.agent_selection == "player_0"
    assert env.infos["player_0"]["role"] == "O"
    assert "as 'O'" in env.observe("player_0")["text"]
    env.step("4")
    assert "4" not in env.infos["player_1"]["legal_actions"]
    assert env.render().startswith(". | . | .\n---------\n. | O | .")


def test_bad_preset_is_refused_naming_the_parameter_and_the_choices() -> None:
    with pytest.raises(ConfigError) as err:
        selfplay_envs.make("tic_tac_toe_v0", preset="spirall")
    message = str(err.value)
    assert "preset" in message and "'spirall'" in message
    assert "'spiral'" in message and "'mars'" in message


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("<think>a</think><answer>4</answer>", "4"),
        ("  <think></think>\n <answer> 1,1 </answer>\n", "1,1"),
        ("<answer>4</answer>", None),
        ("<think>a</think>", None),
        ("<think>a</think><answer>4</answer> more", None),
        ("<think>a</think><answer>4</answer><answer>5</answer>", None),
        ("x <think>a</think><answer>4</answer>", None),
        ("<think>a</think><answer>", None),
    ],
)
def test_strict_answer(reply: str, answer: str | None) -> None:
    assert strict_answer(reply) == answer


def test_mars_example_replies_are_strict_and_valid() -> None:
    # Test drivers (the conformance suite) reply with example_actions: under the
    # strict format they must still play, not forfeit. Lowest free cell each turn:
    # x 0, 2, 4, 6 completes the 2-4-6 diagonal.
    env = selfplay_envs.make("tic_tac_toe_v0", preset="mars", invalid_move="loss")
    env.reset(seed=0)
    while not any(env.terminations.values()):
        state = env.episode.state
        env.step(state.example_actions(state.to_move)[0])
    assert env.rewards == {"player_0": 1.0, "player_1": -1.0}
    assert env.episode.forfeit is None
