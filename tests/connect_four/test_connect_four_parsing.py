"""Connect Four text answers as language models write them, through the env."""

from __future__ import annotations

import pytest

import selfplay_envs
from selfplay_envs.games.connect_four.rules import ConnectFourState

# (reply, expected column) for o, on a board where x holds 0 and 3 and o holds 3
# (column 3 has two pieces), after moves 3, 3, 0.
LEGAL_REPLIES = [
    pytest.param(
        "<think>\nx has pieces in columns 0 and 3 on the bottom row. If x gets 1 "
        "and 2 it threatens four, so I should block the middle of that row. "
        "Column 2 is the most urgent.\n</think>\n\n<answer><O(2)></answer>",
        2,
        id="mars-think-then-answer-tag-with-mark",
    ),
    pytest.param("<answer><o(4)></answer>", 4, id="mars-lowercase-mark"),
    pytest.param("<O(5)>", 5, id="mars-action-bare"),
    pytest.param("O(1)", 1, id="mark-without-angles"),
    pytest.param("o6", 6, id="openspiel-action-name"),
    pytest.param(
        "The centre column keeps the most lines open.\n\n\\boxed{3}",
        3,
        id="reasoning-then-boxed",
    ),
    pytest.param("I'll drop it in [column 1].", 1, id="column-words-in-brackets"),
    pytest.param("Options: [1], [2], [5]. Final choice: [5]", 5, id="last-wins"),
    pytest.param(
        "<think>Maybe [0]? Or \\boxed{6}?</think>\n<answer>4</answer>",
        4,
        id="think-block-ignored",
    ),
    pytest.param("**Answer:** $\\boxed{\\text{2}}$", 2, id="markdown-and-math"),
    pytest.param("  Column 0.  ", 0, id="bare-column-with-period"),
    pytest.param("\\boxed{" + "0" * 5_000 + "3}", 3, id="leading-zeros"),
]

INVALID_REPLIES = [
    pytest.param(
        "<answer><X(2)></answer>",
        "illegal: '<X(2)>' is a move for 'x'; you play 'o'",
        id="the-other-seats-mark",
    ),
    pytest.param("x1", "illegal: 'x1' is a move for 'x'", id="openspiel-other-mark"),
    pytest.param("[7]", "illegal: column 7 is off the board (0-6)", id="off-board"),
    pytest.param("<O(12)>", "illegal: column 12 is off the board", id="marked-off"),
    pytest.param("I will block the row.", "unparseable", id="prose-without-column"),
    pytest.param("<X()>", "unparseable", id="mark-without-column"),
    pytest.param("\\boxed{3, 4}", "unparseable", id="two-columns"),
    pytest.param("\\boxed{" + "1" * 5_000 + "}", "unparseable", id="huge-number"),
    pytest.param("", "no action found", id="empty"),
]


def _position() -> ConnectFourState:
    state = ConnectFourState()
    for player, column in ((0, 3), (1, 3), (0, 0)):
        state.apply_action(player, column)
    return state


@pytest.mark.parametrize(("reply", "column"), LEGAL_REPLIES)
def test_legal_replies(reply: str, column: int) -> None:
    result = _position().parse_action(1, reply)
    assert result.ok, result.message
    assert result.action == column


@pytest.mark.parametrize(("reply", "reason"), INVALID_REPLIES)
def test_invalid_replies(reply: str, reason: str) -> None:
    result = _position().parse_action(1, reply)
    assert not result.ok
    assert result.message.startswith(reason), result.message


def test_a_full_column_is_illegal() -> None:
    state = ConnectFourState()
    for turn in range(6):
        state.apply_action(turn % 2, 2)
    result = state.parse_action(0, "\\boxed{2}")
    assert result.message == "illegal: column 2 is full"
    assert state.legal_actions(0) == [0, 1, 3, 4, 5, 6]
    assert "Legal moves: 0, 1, 3, 4, 5, 6." in state.observation_text(0)
    assert state.check_numeric(0, 2).message == "illegal: column 2 is full"


def test_invalid_reply_reaches_infos_and_retry_keeps_the_turn() -> None:
    env = selfplay_envs.make("connect_four_v0")
    env.reset(seed=0)
    env.step("<answer><X(3)></answer>")
    env.step("<answer><X(3)></answer>")  # o answers with x's mark
    info = env.infos["player_1"]
    assert env.agent_selection == "player_1"
    assert info["invalid_reason"] == "illegal: '<X(3)>' is a move for 'x'; you play 'o'"
    assert "Attempts left" in env.observe("player_1")["text"]
    env.step("<answer><O(3)></answer>")
    assert env.infos["player_1"]["invalid_reason"] == ""
    assert env.infos["player_0"]["moves"] == [3, 3]
    board = env.infos["player_0"]["board"]
    assert board[0][3] == 0 and board[1][3] == 1 and board[2][3] == -1


def test_the_prompt_draws_the_board_top_down_under_the_column_numbers() -> None:
    text = _position().observation_text(1)
    assert text.startswith("You are playing Connect Four as 'o'")
    board = "\n".join(
        [
            "0 1 2 3 4 5 6",
            *[". . . . . . ."] * 4,
            ". . . o . . .",
            "x . . x . . .",
        ]
    )
    assert f"\n\n{board}\n\n" in text
    assert text.endswith("It is your turn ('o'). Legal moves: 0, 1, 2, 3, 4, 5, 6.")
    assert _position().observation_text(0).endswith("It is o's turn.")


def test_a_win_ends_the_game_and_both_seats_see_the_result() -> None:
    env = selfplay_envs.make("connect_four_v0", render_mode="ansi")
    env.reset(seed=0)
    final = {}
    replies = iter(["0", "6", "1", "6", "2", "6", "3"])  # x fills the bottom row
    for agent in env.agent_iter():
        _, reward, termination, truncation, info = env.last()
        if termination or truncation:
            final[agent] = (info["outcome"], reward)
            env.step(None)
            continue
        env.step(next(replies))
    assert final == {"player_0": ("win", 1.0), "player_1": ("loss", -1.0)}
    assert env.render().endswith("x x x x . . o\n'x' wins.")
