"""Tic-tac-toe text answers as language models write them, through the env."""

from __future__ import annotations

import pytest

import selfplay_envs
from selfplay_envs.games.tic_tac_toe.rules import TicTacToeState

# (reply, expected cell) on a board where x holds 0 and o holds 8.
LEGAL_REPLIES = [
    pytest.param(
        "The centre controls four lines, so taking it is strongest.\n\n\\boxed{4}",
        4,
        id="reasoning-then-boxed",
    ),
    pytest.param(
        "Cell 0 is already mine and 8 is taken by o. I considered 2 and 6, "
        "but I will block the diagonal with the centre. [4]",
        4,
        id="mentions-other-moves-then-bracket",
    ),
    pytest.param(
        "<think>Maybe [2]? Or \\boxed{6}? Let me count the threats.</think>\n"
        "<answer>6</answer>",
        6,
        id="think-block-ignored-answer-tag",
    ),
    pytest.param(
        "Options: [1], [2], [3]. Final choice: [3]", 3, id="last-bracket-wins"
    ),
    pytest.param("\\boxed{2} ... actually no. \\boxed{5}", 5, id="changed-mind-boxed"),
    pytest.param("x(1,1)", 4, id="openspiel-row-col"),
    pytest.param("I'll play [row 2, column 0].", 6, id="row-column-words"),
    pytest.param("**Answer:** $\\boxed{7}$", 7, id="markdown-and-math"),
    pytest.param("  5.  ", 5, id="bare-with-period"),
]

INVALID_REPLIES = [
    pytest.param("I will take the centre.", "unparseable", id="prose-without-cell"),
    pytest.param("\\boxed{0}", "illegal: cell 0 is taken", id="taken-cell"),
    pytest.param("[9]", "illegal: cell 9 is off the board", id="off-board"),
    pytest.param("", "no action found", id="empty"),
    pytest.param("\\boxed{}", "unparseable", id="empty-box"),
]


def _position() -> TicTacToeState:
    state = TicTacToeState()
    state.apply_action(0, 0)
    state.apply_action(1, 8)
    return state


@pytest.mark.parametrize(("reply", "cell"), LEGAL_REPLIES)
def test_legal_replies(reply: str, cell: int) -> None:
    result = _position().parse_action(0, reply)
    assert result.ok, result.message
    assert result.action == cell


@pytest.mark.parametrize(("reply", "reason"), INVALID_REPLIES)
def test_invalid_replies(reply: str, reason: str) -> None:
    result = _position().parse_action(0, reply)
    assert not result.ok
    assert result.message.startswith(reason)


def test_invalid_reply_reaches_infos_and_retry_keeps_the_turn() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0")
    env.reset(seed=0)
    env.step("\\boxed{4}")
    env.step("I'll take the centre too: \\boxed{4}")
    info = env.infos["player_1"]
    assert env.agent_selection == "player_1"
    assert info["invalid_reason"] == "illegal: cell 4 is taken"
    assert "Attempts left" in env.observe("player_1")["text"]
    env.step("[0]")
    assert env.infos["player_1"]["invalid_reason"] == ""
    assert env.infos["player_0"]["board"] == [1, -1, -1, -1, 0, -1, -1, -1, -1]


@pytest.mark.parametrize(
    "answer", ["1" * 5_000, "0" * 5_000 + "1" * 5_000, "1, " + "2" * 5_000]
)
def test_numbers_too_long_for_int_are_unparseable(answer: str) -> None:
    # int() raises past 4300 digits; such an answer names no cell.
    result = TicTacToeState().parse_action(0, f"\\boxed{{{answer}}}")
    assert result.reason is not None and "expected a cell 0-8" in result.message


def test_leading_zeros_still_name_a_cell() -> None:
    assert TicTacToeState().parse_action(0, "\\boxed{" + "0" * 5_000 + "4}").action == 4
