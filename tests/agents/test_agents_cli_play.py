"""`selfplay play` at a real terminal (a pseudo-terminal through pexpect): typos are
asked again with the reason, the end names the winner and shows the final position,
and unknown names get one line with close matches."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from selfplay_agents.cli import main

pexpect = pytest.importorskip("pexpect")

TIMEOUT = 60


def _spawn(*args: str):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "120"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "selfplay_agents.cli", *args],
        encoding="utf-8",
        timeout=TIMEOUT,
        env=env,
    )


def _play_first_legal(child, typos: list[str]) -> str:
    """Answer each prompt with the first legal move, after ``typos`` on the first
    one; return everything printed from the game's end on."""
    pending = list(typos)
    while True:
        index = child.expect([r"Legal moves: ([^\r\n]*?)\.\r?\n", r"Game over: "])
        if index == 1:
            child.expect(pexpect.EOF)
            return "Game over: " + child.before
        legal = child.match.group(1).split(", ")
        child.expect_exact("your move> ")
        while pending:
            child.sendline(pending.pop(0))
            child.expect(r"invalid move: ([^\r\n]*)\r?\n")
            assert "try again" in child.match.group(1)
            child.expect_exact("your move> ")
        child.sendline(legal[0])


def test_typos_are_asked_again_with_the_reason_and_never_forfeit() -> None:
    child = _spawn("play", "tic_tac_toe_v0", "--opponent", "minimax")
    # More typos than the env's retries (2) before it forfeits an agent.
    typos = ["banana", "9", "hello", "-1", "x"]
    seen = []
    pending = list(typos)
    child.expect(r"Legal moves: ([^\r\n]*?)\.\r?\n")
    legal = child.match.group(1).split(", ")
    child.expect_exact("your move> ")
    while pending:
        child.sendline(pending.pop(0))
        child.expect(r"invalid move: ([^\r\n]*)\r?\n")
        seen.append(child.match.group(1))
        child.expect_exact("your move> ")
    assert len(seen) == len(typos)
    assert all(reason.endswith("; try again") for reason in seen)
    assert seen[0].startswith("unparseable")
    assert "forfeit" not in child.before
    child.sendline(legal[0])
    end = _play_first_legal(child, [])
    assert "forfeit" not in end
    child.close()


def test_the_end_names_the_winner_and_shows_the_final_position() -> None:
    child = _spawn("play", "tic_tac_toe_v0", "--opponent", "minimax", "--seed", "1")
    end = _play_first_legal(child, ["banana"])
    child.close()
    assert child.exitstatus == 0
    headline = end.splitlines()[0]
    position = end[end.index("Final position:") :]
    board = [line for line in position.splitlines() if "|" in line]
    assert len(board) == 3
    marks = "".join(board)
    # The final board holds the moves played, not an empty grid.
    assert marks.count("x") >= 3 and marks.count("o") >= 2
    if "'o' wins" in position:  # minimax (seat 1) won on the board
        assert headline.startswith("Game over: player_1 (minimax) wins")
    elif "'x' wins" in position:
        assert headline.startswith("Game over: player_0 (you) wins")
    else:
        assert headline.startswith("Game over: draw")
    assert "to move" not in position
    assert re.search(r"returns: player_0 \(you\) [+-]\d", end)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["play", "tic_tac_to"],
            "unknown game 'tic_tac_to'; did you mean tic_tac_toe_v0?",
        ),
        (
            ["play", "tic_tac_toe_v0", "--opponent", "minmax"],
            "unknown opponent 'minmax' for tic_tac_toe_v0; did you mean minimax?",
        ),
        (
            ["play", "kuhn_poker_v0", "--config", "num_handz=3"],
            "did you mean 'num_hands'?",
        ),
    ],
    ids=["game", "opponent", "config"],
)
def test_unknown_names_get_one_line_with_close_matches(
    argv: list[str], expected: str
) -> None:
    child = _spawn(*argv)
    child.expect(pexpect.EOF)
    child.close()
    out = child.before.strip()
    assert child.exitstatus == 1
    assert "Traceback" not in out
    assert len(out.splitlines()) == 1, out
    assert expected in out


def test_a_plain_text_spy_clue_is_taken_as_the_clue() -> None:
    child = _spawn("play", "who_is_the_spy_v0", "--opponent", "scripted")
    child.expect_exact("your move> ")
    # No \\boxed{}: the whole line, stripped, is the clue.
    child.sendline("  There is a red cube.  ")
    index = child.expect([r"invalid move: ([^\r\n]*)", r"plays: "])
    assert index == 1, child.match.group(1)
    child.expect_exact("Round 1, Player 1: There is a red cube.\r\n")
    child.expect_exact("your move> ")
    # A broken tag is no plain clue: asked again, with the format expected.
    child.sendline("\\boxed{There is a cube.")
    child.expect(r"invalid move: ([^\r\n]*)\r?\n")
    reason = child.match.group(1)
    assert "plain text" in reason and "\\boxed{...}" in reason, reason
    child.expect_exact("your move> ")
    child.sendline("There is a {big} thing.")
    child.expect_exact("Round 2, Player 1: There is a {big} thing.\r\n")
    child.expect_exact("your move> ")
    child.sendline("N/A")  # a vote, bare as before
    child.expect_exact("Game over: ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "invalid move" not in child.before


# ---- without a terminal: fast checks of the same command ------------------------------


def _answers(monkeypatch, answers: list[str]) -> None:
    replies = iter(answers)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(replies))


def test_help_lists_each_games_opponents_the_default_and_the_strongest(
    capsys,
) -> None:
    with pytest.raises(SystemExit):
        main(["play", "--help"])
    out = capsys.readouterr().out
    assert "default: random" in out
    assert "tic_tac_toe_v0: minimax, random (strongest: minimax)" in out
    assert "kuhn_poker_v0: cfr, nash, random (strongest: nash)" in out
    assert "--config KEY=VALUE" in out


def test_list_names_the_strongest_opponent(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "tic_tac_toe_v0: text, numeric; minimax, random (strongest: minimax)" in out


def test_plain_text_and_a_unique_start_of_a_move_are_accepted(
    monkeypatch, capsys, tmp_path: Path
) -> None:
    # "b" is the start of only "bet" (legal: check, bet); then "c" (call/check...).
    _answers(monkeypatch, ["b", "call", "check", "fold", "bet", "call"])
    record = tmp_path / "hand.jsonl"
    code = main(
        ["play", "kuhn_poker_v0", "--opponent", "nash", "--record", str(record)]
    )
    assert code == 0
    out = capsys.readouterr().out
    import json

    assert json.loads(record.read_text())["actions"][0] == "bet"
    assert "Betting in OpenSpiel's letters" in out and "b = bet" in out


def test_config_sets_a_game_option(monkeypatch, capsys) -> None:
    _answers(monkeypatch, ["check", "check", "fold", "call"] * 6)
    assert main(["play", "kuhn_poker_v0", "--config", "num_hands=3"]) == 0
    out = capsys.readouterr().out
    assert "Hand 3/3" in out


def test_spy_pictures_are_written_as_png_and_the_path_shown(
    monkeypatch, capsys
) -> None:
    clue, vote = "\\boxed{There is a small cube.}", "\\boxed{N/A}"
    _answers(monkeypatch, [clue, clue, vote])
    assert main(["play", "who_is_the_spy_v0", "--opponent", "scripted"]) == 0
    out = capsys.readouterr().out
    paths = re.findall(r"\(your picture: (\S+\.png)\)", out)
    assert paths
    assert Path(paths[0]).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_ctrl_c_at_the_prompt_ends_the_game_without_a_traceback() -> None:
    child = _spawn("play", "tic_tac_toe_v0")
    child.expect_exact("your move> ")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert "Traceback" not in child.before
    assert "selfplay play: interrupted" in child.before
    assert child.exitstatus == 130


def test_list_into_a_reader_that_leaves_early_exits_cleanly() -> None:
    """`selfplay list | head -1`: the closed pipe is no failure and prints no trace."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "selfplay_agents.cli", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.readline()
    proc.stdout.close()  # the reader leaves while the listing is still being written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err
