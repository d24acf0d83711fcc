"""Runs: paired seeds, resume after a kill, and the CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

from selfplay_agents.arena.runner import make_jobs, play_game, read_results, run_jobs
from selfplay_agents.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
AGENTS = ["random", "selfplay_agents.policy:RandomPolicy"]


def test_jobs_pair_seeds_across_seat_orders() -> None:
    jobs = make_jobs("tic_tac_toe_v0", AGENTS, 3, base_seed=10)
    assert len(jobs) == 6
    by_seed = {}
    for job in jobs:
        by_seed.setdefault(job.seed, []).append(job.order)
    assert by_seed == {10: [0, 1], 11: [0, 1], 12: [0, 1]}
    assert len({job.key for job in jobs}) == len(jobs)


def test_play_game_is_reproducible_and_zero_sum() -> None:
    job = make_jobs("tic_tac_toe_v0", AGENTS, 1)[1]
    first, second = play_game(job), play_game(job)
    assert first == second
    assert first["return_a"] + first["return_b"] == 0


def test_resume_after_kill_loses_no_finished_game_and_duplicates_none(
    tmp_path: Path,
) -> None:
    results = tmp_path / "results.jsonl"
    jobs = make_jobs("tic_tac_toe_v0", AGENTS, 5)
    run_jobs(jobs[:4], results, workers=1)
    # A kill in the middle of a write leaves a torn last line.
    with results.open("a") as handle:
        handle.write('{"key": "tic_tac_toe_v0|random|')
    seen = []
    records = run_jobs(jobs, results, workers=2, on_result=seen.append)
    keys = [r["key"] for r in read_results(results)]
    assert sorted(keys) == sorted(job.key for job in jobs)
    assert len(keys) == len(set(keys))
    assert len(seen) == len(jobs) - 4  # only the missing games were played
    assert len(records) == len(jobs)


def test_cli_bench_end_to_end(tmp_path: Path) -> None:
    config = tmp_path / "bench.toml"
    config.write_text(
        'env = ["tic_tac_toe_v0"]\nagents = ["random", "selfplay_agents.policy:RandomPolicy"]\n'
        "games = 4\n"
    )
    out = tmp_path / "run"
    assert (
        main(["bench", "--config", str(config), "--out", str(out), "--workers", "1"])
        == 0
    )
    for name in ("ratings.png", "winrate_matrix.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000
    summary = json.loads((out / "summary.json").read_text())
    pairing = summary["games"]["tic_tac_toe_v0"]["pairings"][0]
    assert pairing["games"] == 8
    assert pairing["wins"] + pairing["draws"] + pairing["losses"] == 8
    assert "## tic_tac_toe_v0" in (out / "report.md").read_text()
    lines = (out / "summary.csv").read_text().splitlines()
    assert lines[0].startswith("env_id,a,b,games") and len(lines) == 2


def test_cli_replay_steps_through_a_recorded_episode(tmp_path: Path, capsys) -> None:
    episode = {"env_id": "tic_tac_toe_v0", "seed": 0, "actions": ["4", "4", "0", "8"]}
    path = tmp_path / "episode.jsonl"
    path.write_text(json.dumps(episode) + "\n")
    assert main(["replay", str(path), "--no-pause"]) == 0
    out = capsys.readouterr().out
    assert "[1] player_1: '4' -> invalid (illegal: cell 4 is taken)" in out
    assert "[2] player_1: '0' -> valid" in out


def test_cli_list_names_games_and_opponents(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "tic_tac_toe_v0: text, numeric" in out


def test_cli_play_validates_input_and_records(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    answers = iter(["banana", "4", "0", "8", "2", "6", "1", "3", "5", "7"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    record = tmp_path / "game.jsonl"
    code = main(
        ["play", "tic_tac_toe_v0", "--opponent", "random", "--record", str(record)]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "invalid move: unparseable" in out
    assert "Game over:" in out
    # A typo is asked again, never submitted: the record holds the moves played.
    assert json.loads(record.read_text())["actions"][0] == "4"


def test_game_metrics_reach_the_record() -> None:
    # search QA reports the solver's exact match; the arena keeps it per side.
    job = make_jobs("search_qa_v0", ["scripted", "random"], 1)[0]
    record = play_game(job)
    assert set(record["metrics"]["a"]) == {"question_valid"}
    assert record["metrics"]["a"]["question_valid"] == 1.0  # scripted proposer
    assert set(record["metrics"]["b"]) == {"exact_match", "f1"}
    assert 0.0 <= record["metrics"]["b"]["exact_match"] <= 1.0


def _scripted_input(monkeypatch, capsys, answers: list[str]) -> list[str]:
    """Feed ``answers`` to ``input``; return what was printed before each prompt."""
    before: list[str] = []
    replies = iter(answers)

    def fake_input(prompt: str = "") -> str:
        before.append(capsys.readouterr().out)
        return next(replies)

    monkeypatch.setattr("builtins.input", fake_input)
    return before


def test_cli_play_hides_the_opponents_pending_warrior(monkeypatch, capsys) -> None:
    # Seat 1 of a simultaneous game: the opponent submits first, in secret.
    before = _scripted_input(monkeypatch, capsys, ["mov 0, 1"])
    code = main(["play", "core_war_v0", "--opponent", "dwarf", "--seat", "1"])
    assert code == 0
    after = capsys.readouterr().out
    assert len(before) == 1
    assert "Dwarf" not in before[0] and ";redcode-94" not in before[0]
    assert "player_0 (dwarf) has replied; its move stays hidden" in before[0]
    # Revealed once both warriors are in, before the battle's report.
    assert "player_0 (dwarf) played: ```redcode" in after
    assert after.index(";name Dwarf") < after.index("Game over:")


def test_cli_play_hides_the_opponents_pending_vote(monkeypatch, capsys) -> None:
    clue, vote = "\\boxed{There is a small cube.}", "\\boxed{N/A}"
    before = _scripted_input(monkeypatch, capsys, [clue, clue, vote])
    code = main(["play", "who_is_the_spy_v0", "--opponent", "scripted", "--seat", "1"])
    assert code == 0
    after = capsys.readouterr().out
    vote_prompt = before[-1]
    assert "It is time to vote" in vote_prompt
    # Clues are turn-based and shown; player_0's vote is in, but not what it is.
    assert "player_2 (scripted) plays: There is" in vote_prompt
    assert "player_0 (scripted) has replied; its move stays hidden" in vote_prompt
    assert "played:" not in vote_prompt
    assert "player_0 (scripted) plays" not in vote_prompt
    assert "player_0 (scripted) played: " in after
