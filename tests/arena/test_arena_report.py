"""The report and its plots: a header with the run's details, one section per number,
legible plots (a grid of win-rate panels, a labelled colour bar, titles inside)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from selfplay_agents.arena.report import (  # noqa: E402
    ratings_figure,
    summarize,
    winrate_figure,
    write_report,
)
from selfplay_agents.cli import main  # noqa: E402

# Seven games with pools of the sizes `selfplay bench` plays by default.
POOLS = {
    "tic_tac_toe_v0": ["minimax", "random"],
    "kuhn_poker_v0": ["cfr", "nash", "random"],
    "negotiation_v0": ["greedy", "random", "stubborn"],
    "who_is_the_spy_v0": ["random", "scripted"],
    "core_war_v0": ["dwarf", "imp", "pool", "random"],
    "bug_repair_v0": ["mutation_injector", "patch_search_solver", "random", "scripted"],
    "search_qa_v0": ["random", "scripted"],
}


def _records(pools=POOLS, games: int = 4) -> list[dict]:
    """Finished-game records, as results.jsonl holds them, with random outcomes."""
    rng = random.Random(0)
    out = []
    for env_id, pool in pools.items():
        for i, a in enumerate(pool):
            for b in pool[i + 1 :]:
                for index in range(games):
                    for order in (0, 1):
                        score = rng.choice([0.0, 0.5, 1.0])
                        metrics = (
                            {"a": {"tie_rate": 0.45}, "b": {"tie_rate": 0.45}}
                            if env_id == "core_war_v0"
                            else {}
                        )
                        out.append(
                            {
                                "key": f"{env_id}|{a}|{b}|{order}|{index}",
                                "env_id": env_id,
                                "a": a,
                                "b": b,
                                "order": order,
                                "index": index,
                                "seed": index,
                                "status": "ok",
                                "return_a": 2 * score - 1,
                                "return_b": 1 - 2 * score,
                                "score_a": score,
                                "moves": 5,
                                "metrics": metrics,
                            }
                        )
    return out


@pytest.fixture(scope="module")
def seven_games() -> dict:
    return summarize(_records(), bootstrap=10)


# ---- plots --------------------------------------------------------------------------


def test_winrate_png_of_seven_games_is_a_grid_not_a_strip(
    tmp_path: Path, seven_games: dict
) -> None:
    write_report(tmp_path, seven_games, {})
    width, height = Image.open(tmp_path / "winrate_matrix.png").size
    # The old plot was one row of seven panels, 2155 x 407 pixels.
    assert 0.6 <= width / height <= 1.7, (width, height)
    assert width <= 1800 and height <= 1800


def test_winrate_panels_fill_several_rows_with_one_per_game(seven_games: dict) -> None:
    fig = winrate_figure(seven_games)
    fig.canvas.draw()
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert sorted(ax.get_title() for ax in panels) == sorted(POOLS)
    rows = {round(ax.get_position().y0, 2) for ax in panels}
    assert len(rows) >= 2
    # Row labels of one panel do not run into the panel on their left.
    renderer = fig.canvas.get_renderer()
    by_row: dict[float, list] = {}
    for ax in panels:
        by_row.setdefault(round(ax.get_position().y0, 2), []).append(ax)
    for row in by_row.values():
        row.sort(key=lambda ax: ax.get_position().x0)
        for left, right in zip(row, row[1:], strict=False):
            labels = right.get_yticklabels()
            leftmost = min(t.get_window_extent(renderer).x0 for t in labels)
            assert leftmost > left.get_window_extent(renderer).x1
    plt.close(fig)


def test_winrate_colour_bar_is_labelled(seven_games: dict) -> None:
    fig = winrate_figure(seven_games)
    bars = [ax for ax in fig.axes if not ax.get_title() and ax.get_visible()]
    assert len(bars) == 1
    assert "score" in bars[0].get_ylabel()
    plt.close(fig)


def test_cell_text_is_white_on_dark_cells_and_black_on_light_ones() -> None:
    pools = {"tic_tac_toe_v0": ["minimax", "random"]}
    records = [r for r in _records(pools) if r["env_id"] == "tic_tac_toe_v0"]
    for r in records:  # minimax wins every game: cells 1.00 (dark green), 0.00 (red)
        r["score_a"], r["return_a"], r["return_b"] = 1.0, 1.0, -1.0
    fig = winrate_figure(summarize(records, bootstrap=5))
    colours = {t.get_text(): t.get_color() for t in fig.axes[0].texts}
    assert colours == {"1.00": "white", "0.00": "white"}
    plt.close(fig)
    for r in records:  # every game drawn: 0.50 on pale yellow
        r["score_a"], r["return_a"], r["return_b"] = 0.5, 0.0, 0.0
    fig = winrate_figure(summarize(records, bootstrap=5))
    assert {t.get_color() for t in fig.axes[0].texts} == {"black"}
    plt.close(fig)


def test_ratings_titles_fit_and_x_axis_is_labelled(seven_games: dict) -> None:
    fig = ratings_figure(seven_games)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width = fig.bbox.width
    texts = [fig._suptitle] + [ax.title for ax in fig.axes]
    texts += [ax._left_title for ax in fig.axes]
    for text in texts:
        if text is not None and text.get_text():
            box = text.get_window_extent(renderer)
            assert 0 <= box.x0 and box.x1 <= width, text.get_text()
    assert all("Elo" in ax.get_xlabel() for ax in fig.axes)
    plt.close(fig)


# ---- the report ---------------------------------------------------------------------


def _tiny_bench(out: Path) -> list[str]:
    return [
        "bench",
        "--env",
        "tic_tac_toe_v0",
        "--agents",
        "random",
        "minimax",
        "--games",
        "2",
        "--seed",
        "3",
        "--out",
        str(out),
        "--workers",
        "1",
    ]


def test_report_header_gives_the_runs_details(tmp_path: Path) -> None:
    assert main(_tiny_bench(tmp_path)) == 0
    report = (tmp_path / "report.md").read_text()
    header = report[: report.index("## How to read it")]
    assert "tic_tac_toe_v0: 2 agents, 2 seeds per pairing x 2 seat orders" in header
    assert "(seeds 3..4)" in header
    assert "base seed: 3" in header
    assert re.search(r"- selfplay-envs: \d+\.\d+", header)
    assert "- git revision: " in header
    assert re.search(r"- date: \d{4}-\d\d-\d\d \d\d:\d\d UTC", header)
    assert "- machine: " in header
    assert "4 finished, 0 errored" in header


def test_every_number_of_the_report_is_explained(tmp_path: Path) -> None:
    assert main(_tiny_bench(tmp_path)) == 0
    report = (tmp_path / "report.md").read_text()
    explained = report[report.index("## How to read it") :].split("\n## ")[0]
    for column in ("W-D-L of a", "score of a", "mean return of a", "Elo, 95% CI"):
        assert f"**{column}**" in explained
    assert "**OpenSkill ordinal**: mu - 3 sigma" in explained
    assert "**errored**" in explained and "**Skipped**" in explained


def test_gold_standard_does_not_repeat_game_metrics(tmp_path: Path) -> None:
    from selfplay_agents.arena.gold import gold_standards

    pools = {"core_war_v0": POOLS["core_war_v0"]}
    records = _records(pools)
    summary = summarize(records, bootstrap=5)
    write_report(tmp_path, summary, gold_standards(summary, records))
    report = (tmp_path / "report.md").read_text()
    # One line per agent under "Game metrics", one saying what it counts.
    assert report.count("tie_rate") == len(pools["core_war_v0"]) + 1
    assert "tie_rate (imp)" not in report  # the gold standard's copy of the metric
    assert report.count("## core_war_v0") == 1


def test_core_war_tie_rate_says_it_counts_rounds_not_games(tmp_path: Path) -> None:
    records = _records({"core_war_v0": POOLS["core_war_v0"]})
    summary = summarize(records, bootstrap=5)
    write_report(tmp_path, summary, {})
    report = (tmp_path / "report.md").read_text()
    line = next(x for x in report.splitlines() if x.startswith("- `tie_rate`"))
    assert "rounds" in line and "games" in line
    assert 'reported by the game in `info["metrics"]`' in report


def test_errored_and_skipped_games_are_counted_in_the_header(tmp_path: Path) -> None:
    records = _records({"tic_tac_toe_v0": POOLS["tic_tac_toe_v0"]}, games=2)
    records[0] = {
        **{k: records[0][k] for k in ("key", "env_id", "a", "b", "order", "index")},
        "seed": 0,
        "status": "error",
        "error": "SandboxUnavailable: no bwrap",
    }
    summary = summarize(records, bootstrap=5)
    write_report(tmp_path, summary, {}, {"bug_repair_v0": "no bubblewrap"})
    report = (tmp_path / "report.md").read_text()
    assert (
        "- games: 3 finished, 1 errored (not counted), 1 of 2 games skipped" in report
    )


# ---- running output -----------------------------------------------------------------


def test_ctrl_c_stops_the_bench_within_two_seconds_with_one_line(
    tmp_path: Path,
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    argv = [sys.executable, "-m", "selfplay_agents.cli", *_tiny_bench(out)]
    argv[argv.index("--games") + 1] = "3000"  # far more than a test waits for
    argv[argv.index("--workers") + 1] = "2"
    argv.append("--force")
    child = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    # Off a terminal the progress is a line log: its first game line says play began.
    while not child.stdout.readline().startswith("[1/"):
        assert child.poll() is None, child.stderr.read()
    start = time.monotonic()
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=30)
    assert time.monotonic() - start < 2.0
    assert child.returncode == 130
    assert "Traceback" not in stdout + stderr
    (line,) = [x for x in stderr.splitlines() if x.strip()]
    found = re.search(r"interrupted; (\d+) of 6000 games are saved in", line)
    assert found, line
    saved = int(found[1])
    assert "resume with: selfplay bench" in line
    assert "--force" not in line  # a resume with --force would delete the results
    results = (out / "results.jsonl").read_text().splitlines()
    assert saved == len(results) >= 1


def test_progress_off_a_terminal_is_a_line_log(tmp_path: Path) -> None:
    import subprocess
    import sys

    argv = [sys.executable, "-m", "selfplay_agents.cli", *_tiny_bench(tmp_path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    log = [x for x in done.stdout.splitlines() if x.startswith("[")]
    assert log[0].startswith("[1/4] ") and log[-1].startswith("[4/4] 100%")
    assert "\x1b[" not in done.stdout  # no escape codes of a live bar


def test_eta_waits_for_games_and_weighs_each_game_by_its_duration() -> None:
    from selfplay_agents.arena.runner import Eta, make_jobs

    fast = make_jobs("tic_tac_toe_v0", ["random", "minimax"], 50)  # 100 games
    slow = make_jobs("bug_repair_v0", ["random", "scripted"], 5)  # 10 games
    eta = Eta(fast + slow, warmup=3)
    assert eta.seconds_left(now=eta.start + 1) is None
    assert eta.text() == "ETA -"
    # One worker: two 0.01 s tic-tac-toe games and one 20 s bug-repair game.
    ttt = {"env_id": "tic_tac_toe_v0", "a": "minimax", "b": "random", "seconds": 0.01}
    eta.update(ttt)
    eta.update({**ttt, "a": "random", "b": "minimax"})  # the other seat order
    assert eta.seconds_left(now=eta.start + 0.02) is None
    eta.update(
        {"env_id": "bug_repair_v0", "a": "random", "b": "scripted", "seconds": 20.0}
    )
    left = eta.seconds_left(now=eta.start + 20.02)
    # 98 x 0.01 s + 9 x 20 s = 180.98 s of play left, on one worker.
    assert left == pytest.approx(180.98, rel=0.01)


def test_eta_is_not_thrown_by_a_one_off_cost_in_a_pairings_first_game() -> None:
    from selfplay_agents.arena.runner import Eta, interleave, make_jobs

    # A cold start: the first game with Leduc's cfr pays a one-off solve, 300 times
    # a game's length (101 s on the fresh machine); the solve is cached afterwards.
    jobs = interleave(
        make_jobs("leduc_poker_v0", ["cfr", "random"], 40)
        + make_jobs("tic_tac_toe_v0", ["minimax", "random"], 40)
        + make_jobs("kuhn_poker_v0", ["cfr", "nash"], 40)
    )
    typical = {"leduc_poker_v0": 0.3, "tic_tac_toe_v0": 0.01, "kuhn_poker_v0": 0.05}
    seconds = [typical[job.env_id] for job in jobs]
    seconds[jobs.index(next(j for j in jobs if j.env_id == "leduc_poker_v0"))] *= 300
    eta = Eta(jobs)
    now = eta.start
    checked = 0
    for played, (job, duration) in enumerate(zip(jobs, seconds, strict=True), 1):
        now += duration  # one worker: the games end one after the other
        eta.update({"env_id": job.env_id, "a": job.a, "b": job.b, "seconds": duration})
        truth = sum(seconds[played:])
        # From a few games on (two of Leduc's), until the last tenth of the run.
        if played >= 6 and played <= 0.9 * len(jobs):
            left = eta.seconds_left(now=now)
            assert truth / 2 <= left <= 2 * truth, (played, left, truth)
            checked += 1
    assert checked > 150


def test_bench_builds_each_named_opponent_once_before_the_clock_starts(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    import selfplay_agents.arena.runner as runner

    events: list[str] = []
    build, start_clock = runner.build_policy, runner.Eta.__init__

    def logged_build(spec, env_id, **kwargs):
        events.append(spec)
        return build(spec, env_id, **kwargs)

    def logged_clock(self, todo, **kwargs):
        events.append("clock")
        start_clock(self, todo, **kwargs)

    monkeypatch.setattr(runner, "build_policy", logged_build)
    monkeypatch.setattr(runner.Eta, "__init__", logged_clock)
    assert main(_tiny_bench(tmp_path)) == 0
    out = capsys.readouterr().out
    # minimax once, before the clock (random is a built-in baseline); then the games.
    assert events[:2] == ["minimax", "clock"]
    assert events.count("minimax") == 1 + 4  # then once per game
    assert "preparing 1 opponent before the clock starts" in out


def test_the_opponents_to_prepare_are_the_named_ones_once_per_game_and_config() -> None:
    from selfplay_agents.arena.runner import (
        agents_to_prepare,
        make_jobs,
        prepare_agents,
    )

    pool = ["cfr", "nash", "random", "selfplay_agents.policy:RandomPolicy"]
    jobs = make_jobs("kuhn_poker_v0", pool, 2) + make_jobs(
        "kuhn_poker_v0", pool, 2, config={"num_hands": 3}
    )
    wanted = agents_to_prepare(jobs)
    assert sorted((e, n, c.get("num_hands", 1)) for e, n, c in wanted) == [
        ("kuhn_poker_v0", "cfr", 1),
        ("kuhn_poker_v0", "cfr", 3),
        ("kuhn_poker_v0", "nash", 1),
        ("kuhn_poker_v0", "nash", 3),
    ]
    ready = []
    prepare_agents(jobs, workers=2, on_prepared=lambda *item: ready.append(item))
    assert sorted(item[:2] for item in ready) == sorted(w[:2] for w in wanted)
    assert all(error == "" and seconds >= 0 for *_, seconds, error in ready)


def test_summary_tables_off_a_terminal_are_not_cut_at_80_columns(
    monkeypatch, capsys
) -> None:
    from selfplay_agents.cli import _print_summary

    monkeypatch.delenv("COLUMNS", raising=False)  # as in a plain redirect to a file
    long_name = "selfplay_agents.policy:RandomPolicy"
    pools = {"bug_repair_v0": [*POOLS["bug_repair_v0"], long_name]}
    summary = summarize(_records(pools), bootstrap=5)
    _print_summary(summary)  # into pytest's capture: not a terminal
    out = capsys.readouterr().out
    assert "\x1b[" not in out
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert len(rows) == len(summary["bug_repair_v0"]["pairings"]) == 10
    ci = re.compile(r"\d\.\d\d \[\d\.\d\d, \d\.\d\d\]")
    for row, pairing in zip(rows, summary["bug_repair_v0"]["pairings"], strict=True):
        # Each row is one line: both names whole, and the whole interval.
        assert f" {pairing['a']} " in row and f" {pairing['b']} " in row, row
        assert ci.search(row), row
    assert any(long_name in row for row in rows)
    assert "…" not in out


def test_one_games_winrate_titles_and_bar_label_fit_the_figure() -> None:
    pools = {
        "tic_tac_toe_v0": ["selfplay_agents.policy:RandomPolicy", "minimax", "random"]
    }
    fig = winrate_figure(summarize(_records(pools), bootstrap=5))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    bar = next(ax for ax in fig.axes if not ax.get_title())
    for text in (fig._suptitle, fig.axes[0].title, bar.yaxis.label):
        box = text.get_window_extent(renderer)
        assert 0 <= box.x0 and box.x1 <= fig.bbox.width, text.get_text()
        assert 0 <= box.y0 and box.y1 <= fig.bbox.height, text.get_text()
    plt.close(fig)


def test_connect_four_gold_standard_is_the_loss_rate_against_mcts() -> None:
    from selfplay_agents.arena.gold import gold_standards

    def game(a: str, b: str, score_a: float) -> dict:
        return {"env_id": "connect_four_v0", "a": a, "b": b, "score_a": score_a}

    # random loses 2 of 3 against mcts100 (one win as b), and 1 of 1 against mcts1000
    records = [
        game("mcts100", "random", 1.0),
        game("random", "mcts100", 0.0),
        game("mcts100", "random", 0.0),
        game("mcts1000", "random", 1.0),
    ]
    summary = {"connect_four_v0": {"agents": [], "metrics": {}, "pairings": [{}]}}
    gold = gold_standards(summary, records)["connect_four_v0"]
    assert gold["loss rate vs mcts100 (random)"] == round(2 / 3, 4)
    assert gold["loss rate vs mcts1000 (random)"] == 1.0


def test_solved_games_score_each_scriptable_agent_and_skip_llms(monkeypatch) -> None:
    from selfplay_agents.arena import gold

    seen = []

    def how(policy, exact):
        seen.append((type(policy).__name__, exact))
        return None if not exact else 0.25

    out = gold._exploitability("leduc_poker_v0", ["random", "llm:x"], how)
    assert out == {} and seen == [("RandomPolicy", False)]  # no number: none reported
    monkeypatch.setattr(gold, "_SOLVED_GAMES", {"leduc_poker_v0": lambda p, e: 0.5})
    summary = {
        "leduc_poker_v0": {"agents": ["random"], "metrics": {}, "pairings": [{}]}
    }
    records = [
        {"env_id": "leduc_poker_v0", "a": "random", "b": "random", "score_a": 0.5}
    ]
    result = gold.gold_standards(summary, records)["leduc_poker_v0"]
    assert result == {"exploitability (random)": 0.5}
