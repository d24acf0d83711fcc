"""Infrastructure failures are errored games, never results; unbuildable games are skipped.

The failures are injected into the real tic-tac-toe rules (``apply_action`` raises an
``InfrastructureError`` subclass mid-game), so the runner, the report and the CLI run
exactly as in a bench.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selfplay_agents.arena.gold import gold_standards
from selfplay_agents.arena.report import summarize, write_report
from selfplay_agents.arena.runner import (
    finished,
    is_errored,
    latest_records,
    make_jobs,
    play_game,
    read_results,
    run_jobs,
)
from selfplay_agents.cli import main
from selfplay_envs.core.errors import DependencyNotInstalled, InfrastructureError
from selfplay_envs.games.bug_repair.sandbox import SandboxUnavailable
from selfplay_envs.games.kuhn_poker.env import KuhnPokerGame
from selfplay_envs.games.tic_tac_toe.env import TicTacToeGame
from selfplay_envs.games.tic_tac_toe.rules import TicTacToeState

AGENTS = ["random", "selfplay_agents.policy:RandomPolicy", "minimax"]
REASON = "the judge is down: start it with `judge --serve`"
CORNERS = (0, 2, 6, 8)


class JudgeDown(InfrastructureError):
    """A stand-in for a sandbox or retriever that fails in the middle of a game."""


def _break_third_move(monkeypatch, *, corners_only: bool) -> None:
    """The third move of a game raises ``JudgeDown`` (only after a corner opening)."""
    original = TicTacToeState.apply_action

    def apply_action(self, player, action):
        if len(self.moves) == 2 and (not corners_only or self.moves[0] in CORNERS):
            raise JudgeDown(REASON)
        original(self, player, action)

    monkeypatch.setattr(TicTacToeState, "apply_action", apply_action)


def _corner_games(jobs) -> set[str]:
    """Keys of the jobs whose game (unbroken) opens in a corner: those that break."""
    keys = set()
    for job in jobs:
        state_moves: list[int] = []
        original = TicTacToeState.apply_action

        def apply_action(self, player, action, moves=state_moves, original=original):
            if not self.moves:
                moves.append(action)
            return original(self, player, action)

        TicTacToeState.apply_action = apply_action
        try:
            assert play_game(job)["status"] == "ok"
        finally:
            TicTacToeState.apply_action = original
        if state_moves[0] in CORNERS:
            keys.add(job.key)
    return keys


def test_infrastructure_error_mid_game_is_an_errored_record(monkeypatch) -> None:
    _break_third_move(monkeypatch, corners_only=False)
    job = make_jobs("tic_tac_toe_v0", AGENTS[:2], 1)[0]
    record = play_game(job)
    assert is_errored(record)
    assert record["error"] == f"JudgeDown: {REASON}"
    assert record["key"] == job.key and record["seed"] == job.seed
    # No result of any kind: nothing a report could count as a win, draw or loss.
    assert not {"score_a", "return_a", "return_b", "metrics"} & set(record)


def test_programmer_errors_still_propagate(monkeypatch, tmp_path: Path) -> None:
    def apply_action(self, player, action):
        raise ZeroDivisionError("a bug in the rules")

    monkeypatch.setattr(TicTacToeState, "apply_action", apply_action)
    job = make_jobs("tic_tac_toe_v0", AGENTS[:2], 1)[0]
    with pytest.raises(ZeroDivisionError, match="a bug in the rules"):
        play_game(job)
    with pytest.raises(ZeroDivisionError):
        run_jobs([job], tmp_path / "results.jsonl", workers=1)


def test_errored_games_are_left_out_of_stats_and_reported(
    monkeypatch, tmp_path: Path
) -> None:
    jobs = make_jobs("tic_tac_toe_v0", AGENTS, 6)
    broken = _corner_games(jobs)
    assert 0 < len(broken) < len(jobs)  # some games break, some finish
    _break_third_move(monkeypatch, corners_only=True)
    records = run_jobs(jobs, tmp_path / "results.jsonl", workers=1)
    assert {r["key"] for r in records if is_errored(r)} == broken
    ok = finished(records)
    assert len(ok) == len(jobs) - len(broken)

    summary = summarize(records, bootstrap=20)
    game = summary["tic_tac_toe_v0"]
    clean = summarize(ok, bootstrap=20)["tic_tac_toe_v0"]
    # Every statistic is the one of the finished games alone.
    assert game["ratings"] == clean["ratings"]
    assert game["skill"] == clean["skill"]
    for p, q in zip(game["pairings"], clean["pairings"], strict=True):
        assert {k: v for k, v in p.items() if k != "errored"} == {
            k: v for k, v in q.items() if k != "errored"
        }
    assert sum(p["games"] for p in game["pairings"]) == len(ok)
    assert game["all_errored"] is False
    errored = game["errored"]
    assert errored["games"] == len(broken)
    assert errored["reasons"] == [
        {"reason": f"JudgeDown: {REASON}", "count": len(broken)}
    ]
    by_pairing: dict[str, int] = {}
    for job in jobs:
        if job.key in broken:
            name = f"{job.a} vs {job.b}"
            by_pairing[name] = by_pairing.get(name, 0) + 1
    assert errored["pairings"] == by_pairing
    assert {f"{p['a']} vs {p['b']}": p["errored"] for p in game["pairings"]} == {
        f"{p['a']} vs {p['b']}": by_pairing.get(f"{p['a']} vs {p['b']}", 0)
        for p in game["pairings"]
    }
    gold = gold_standards(summary, records)
    assert gold == gold_standards(summarize(ok, bootstrap=20), ok)

    out = tmp_path / "run"
    write_report(out, summary, gold)
    report = (out / "report.md").read_text()
    assert f"Errored games (not counted): {len(broken)}" in report
    assert f"- {len(broken)} x JudgeDown: {REASON}" in report
    assert report.count(REASON) == 1  # the reason is deduplicated
    saved = json.loads((out / "summary.json").read_text())
    assert saved["games"]["tic_tac_toe_v0"]["errored"]["games"] == len(broken)
    header, *rows = (out / "summary.csv").read_text().splitlines()
    assert header.endswith(",errored")
    assert sum(int(row.rsplit(",", 1)[1]) for row in rows) == len(broken)


def test_errored_games_are_played_again_on_resume(monkeypatch, tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    jobs = make_jobs("tic_tac_toe_v0", AGENTS[:2], 8)
    broken = _corner_games(jobs)
    assert broken
    _break_third_move(monkeypatch, corners_only=True)
    first = run_jobs(jobs, results, workers=1)
    assert {r["key"] for r in first if is_errored(r)} == broken

    # Still broken: a resume plays the errored games again, and only those.
    seen: list[dict] = []
    run_jobs(jobs, results, workers=1, on_result=seen.append)
    assert sorted(r["key"] for r in seen) == sorted(broken)

    monkeypatch.undo()  # the judge is back
    seen.clear()
    records = run_jobs(jobs, results, workers=1, on_result=seen.append)
    assert sorted(r["key"] for r in seen) == sorted(broken)
    assert not any(is_errored(r) for r in seen)
    assert len(records) == len(jobs) and not any(is_errored(r) for r in records)
    # The file keeps its history; the latest record of each key is the result.
    lines = read_results(results)
    assert len(lines) == len(jobs) + 2 * len(broken)
    assert latest_records(lines) == {r["key"]: r for r in records}
    summary = summarize(records, bootstrap=20)["tic_tac_toe_v0"]
    assert summary["errored"]["games"] == 0
    assert sum(p["games"] for p in summary["pairings"]) == len(jobs)

    seen.clear()
    run_jobs(jobs, results, workers=1, on_result=seen.append)
    assert seen == []  # nothing left to play


def test_every_game_errored_is_said_clearly(
    monkeypatch, tmp_path: Path, capsys
) -> None:
    _break_third_move(monkeypatch, corners_only=False)
    config = tmp_path / "bench.toml"
    config.write_text(
        'env = ["tic_tac_toe_v0"]\nagents = ["random", "selfplay_agents.policy:RandomPolicy"]\n'
        "games = 3\n"
    )
    out = tmp_path / "run"
    code = main(["bench", "--config", str(config), "--out", str(out), "--workers", "1"])
    assert code == 1  # a run with errored games is not complete
    err = capsys.readouterr().err
    assert "6 tic_tac_toe_v0 games errored" in err and "re-run with --out" in err
    summary = json.loads((out / "summary.json").read_text())["games"]
    game = summary["tic_tac_toe_v0"]
    assert game["all_errored"] is True and game["pairings"] == []
    assert game["ratings"] == {} and game["errored"]["games"] == 6
    report = (out / "report.md").read_text()
    assert "**Every game of tic_tac_toe_v0 errored** (6 games)" in report
    assert f"- 6 x JudgeDown: {REASON}" in report
    assert "No game has a result" in report
    assert not (out / "ratings.png").exists()
    records = read_results(out / "results.jsonl")
    assert len(records) == 6 and all(is_errored(r) for r in records)

    monkeypatch.undo()  # fixed: the same command finishes the run
    code = main(["bench", "--config", str(config), "--out", str(out), "--workers", "1"])
    assert code == 0
    game = json.loads((out / "summary.json").read_text())["games"]["tic_tac_toe_v0"]
    assert game["all_errored"] is False and game["errored"]["games"] == 0
    assert game["pairings"][0]["games"] == 6


def _cannot_build(error: Exception):
    def init(self, *args, **kwargs):
        raise error

    return init


def test_bench_with_every_game_skipped_exits_non_zero_with_reasons(
    monkeypatch, tmp_path: Path, capsys
) -> None:
    monkeypatch.setattr(
        TicTacToeGame,
        "__init__",
        _cannot_build(SandboxUnavailable("bubblewrap is missing: apt install bwrap")),
    )
    monkeypatch.setattr(
        KuhnPokerGame,
        "__init__",
        _cannot_build(DependencyNotInstalled.for_extra("open_spiel", "kuhn")),
    )
    out = tmp_path / "run"
    code = main(
        ["bench", "--env", "tic_tac_toe_v0", "kuhn_poker_v0", "--out", str(out)]
        + ["--games", "1", "--workers", "1"]
    )
    assert code == 1
    captured = capsys.readouterr()
    assert "nothing to play, every game was skipped" in captured.err
    assert "tic_tac_toe_v0: tic_tac_toe_v0 cannot run on this machine: bubble" in (
        captured.err
    )
    assert (
        "kuhn_poker_v0: kuhn_poker_v0 cannot run on this machine: open_spiel is "
        in (captured.err)
    )
    assert "skipping tic_tac_toe_v0" in captured.out


def test_bench_skips_a_game_that_cannot_be_built_and_reports_why(
    monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        KuhnPokerGame,
        "__init__",
        _cannot_build(SandboxUnavailable("no sandbox: install bubblewrap")),
    )
    out = tmp_path / "run"
    code = main(
        ["bench", "--env", "tic_tac_toe_v0", "kuhn_poker_v0", "--out", str(out)]
        + ["--agents", "random", "selfplay_agents.policy:RandomPolicy"]
        + ["--games", "2", "--workers", "1"]
    )
    assert code == 0
    saved = json.loads((out / "summary.json").read_text())
    assert list(saved["games"]) == ["tic_tac_toe_v0"]
    assert "no sandbox: install bubblewrap" in saved["skipped"]["kuhn_poker_v0"]
    report = (out / "report.md").read_text()
    assert "## Skipped games" in report
    assert "- kuhn_poker_v0: kuhn_poker_v0 cannot run on this machine: no sandbox" in (
        report
    )
