"""The run folder's records: corrupt lines, byte-identical reports, one run per folder."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from selfplay_agents.arena.gold import gold_standards
from selfplay_agents.arena.report import summarize, write_report
from selfplay_agents.arena.runner import (
    CorruptRecordWarning,
    RunMismatch,
    make_jobs,
    prepare_run_dir,
    read_results,
    run_jobs,
    run_settings,
)
from selfplay_agents.cli import main

AGENTS = ["random", "selfplay_agents.policy:RandomPolicy", "minimax"]
OUTPUTS = (
    "summary.json",
    "summary.csv",
    "report.md",
    "ratings.png",
    "winrate_matrix.png",
)


def _bench(out: Path, *extra: str, games: int = 3, agents=AGENTS[:2]) -> list[str]:
    return [
        "bench",
        "--env",
        "tic_tac_toe_v0",
        "--agents",
        *agents,
        "--games",
        str(games),
        "--out",
        str(out),
        "--workers",
        "1",
        *extra,
    ]


# ---- a corrupt line -----------------------------------------------------------------


def test_a_corrupt_line_mid_file_is_reported_and_only_its_game_replayed(
    tmp_path: Path,
) -> None:
    results = tmp_path / "results.jsonl"
    jobs = make_jobs("tic_tac_toe_v0", AGENTS[:2], 5)
    run_jobs(jobs, results, workers=1)
    lines = results.read_text().splitlines(keepends=True)
    lost = json.loads(lines[3])["key"]
    lines[3] = '{"key": "tic_tac_toe_v0|random|ag\x00 garbage\n'  # line 4 of 10
    lines[6] = "[1, 2, 3]\n"  # JSON, but no record: line 7
    lost = {lost, json.loads(results.read_text().splitlines()[6])["key"]}
    results.write_text("".join(lines))

    seen: list[dict] = []
    with pytest.warns(CorruptRecordWarning) as caught:
        records = run_jobs(jobs, results, workers=1, on_result=seen.append)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert messages[0].startswith(f"{results}:4: skipped a corrupt record (not JSON")
    assert messages[1].startswith(f"{results}:7: skipped a corrupt record (not a game")
    # Only the two games whose lines were lost are played again; every other record
    # (those after the bad lines too) is kept as it was.
    assert sorted(r["key"] for r in seen) == sorted(lost)
    assert sorted(r["key"] for r in records) == sorted(job.key for job in jobs)
    kept = [line for n, line in enumerate(lines) if n not in (3, 6)]
    assert results.read_text().startswith("".join(lines))  # nothing cut off
    assert all(line in results.read_text() for line in kept)

    with pytest.warns(CorruptRecordWarning):  # the bad lines stay, and are reported
        again = read_results(results)
    assert len(again) == len(jobs)


def test_a_complete_last_record_without_its_newline_is_kept(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    jobs = make_jobs("tic_tac_toe_v0", AGENTS[:2], 2)
    run_jobs(jobs, results, workers=1)
    results.write_bytes(results.read_bytes().rstrip(b"\n"))
    seen: list[dict] = []
    run_jobs(jobs, results, workers=1, on_result=seen.append)
    assert seen == []
    assert results.read_bytes().endswith(b"}\n")
    assert len(read_results(results)) == len(jobs)


def test_bench_names_the_corrupt_line_and_finishes_the_run(
    tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    assert main(_bench(out)) == 0
    results = out / "results.jsonl"
    lines = results.read_text().splitlines(keepends=True)
    lines[2] = "not json at all\n"
    results.write_text("".join(lines))
    capsys.readouterr()
    assert main(_bench(out)) == 0
    captured = capsys.readouterr()
    assert (
        f"selfplay bench: warning: {results}:3: skipped a corrupt record"
        in captured.err
    )
    assert captured.err.count(f"{results}:3:") == 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["games"]["tic_tac_toe_v0"]["pairings"][0]["games"] == 6


# ---- the same results, the same bytes -----------------------------------------------


def _records(tmp_path: Path) -> list[dict]:
    jobs = make_jobs("tic_tac_toe_v0", AGENTS, 4)
    return run_jobs(jobs, tmp_path / "results.jsonl", workers=1)


def test_summary_and_report_do_not_depend_on_record_order(tmp_path: Path) -> None:
    records = _records(tmp_path)
    shuffled = records[:]
    random.Random(1).shuffle(shuffled)
    outputs = []
    for n, batch in enumerate((records, shuffled)):
        summary = summarize(batch, bootstrap=50, seed=7)
        out = tmp_path / f"out{n}"
        write_report(out, summary, gold_standards(summary, batch))
        outputs.append({name: (out / name).read_bytes() for name in OUTPUTS})
    assert outputs[0] == outputs[1]


def test_the_bootstrap_is_seeded_by_the_runs_seed(tmp_path: Path) -> None:
    records = _records(tmp_path)

    def intervals(seed: int) -> dict:
        return summarize(records, bootstrap=50, seed=seed)["tic_tac_toe_v0"]["ratings"]

    assert intervals(3) == intervals(3)
    first, other = intervals(3), intervals(4)
    assert {a: r["elo"] for a, r in first.items()} == {
        a: r["elo"] for a, r in other.items()
    }  # the point estimates are no random draw
    assert first != other  # the intervals come from the seeded resamples


def test_pngs_carry_no_matplotlib_version(tmp_path: Path) -> None:
    records = _records(tmp_path)
    summary = summarize(records, bootstrap=20)
    write_report(tmp_path / "out", summary, {})
    for name in ("ratings.png", "winrate_matrix.png"):
        data = (tmp_path / "out" / name).read_bytes()
        assert b"Software" not in data and b"matplotlib" not in data


def _undated(path: Path) -> bytes:
    """The file's bytes, less report.md's header line of the date the report was
    written: the one line that changes between two runs of the same games."""
    data = path.read_bytes()
    if path.name != "report.md":
        return data
    return b"\n".join(x for x in data.split(b"\n") if not x.startswith(b"- date: "))


def test_two_clean_benches_give_byte_identical_reports(tmp_path: Path) -> None:
    # One run plays in one process, the other on two workers: games finish in another
    # order, and the files are still the same to the byte.
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(_bench(one, agents=AGENTS)) == 0
    argv = _bench(two, agents=AGENTS)
    argv[argv.index("--workers") + 1] = "2"
    assert main(argv) == 0
    for name in OUTPUTS:
        assert _undated(one / name) == _undated(two / name), name
    assert (one / "run.json").read_bytes() == (two / "run.json").read_bytes()


# ---- one run per folder -------------------------------------------------------------


def test_run_json_holds_the_runs_settings(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(_bench(out, "--seed", "5")) == 0
    assert json.loads((out / "run.json").read_text()) == {
        "seed": 5,
        "games": {
            "tic_tac_toe_v0": {"agents": AGENTS[:2], "games": 3, "config": {}},
        },
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--games", "2"], "tic_tac_toe_v0 games 3 -> 2"),
        (["--agents", "random", "minimax"], "tic_tac_toe_v0 agents"),
        (["--seed", "1"], "seed 0 -> 1"),
        (["--env", "tic_tac_toe_v0", "kuhn_poker_v0"], "kuhn_poker_v0 added"),
    ],
    ids=["games", "agents", "seed", "env"],
)
def test_other_settings_against_a_run_folder_are_refused(
    tmp_path: Path, capsys, change: list[str], message: str
) -> None:
    out = tmp_path / "run"
    assert main(_bench(out)) == 0
    before = {name: (out / name).read_bytes() for name in ("results.jsonl", *OUTPUTS)}
    capsys.readouterr()
    argv = _bench(out)
    flag = change[0]
    at = argv.index(flag) if flag in argv else None
    if at is None:
        argv += change
    else:  # replace the flag's values
        end = at + 1
        while end < len(argv) and not argv[end].startswith("--"):
            end += 1
        argv[at:end] = change
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "holds a run with other settings" in err and message in err
    assert "new --out" in err and "--force" in err
    # Nothing was played or rewritten: the folder is as the first run left it.
    assert {name: (out / name).read_bytes() for name in before} == before


def test_other_game_config_is_refused(tmp_path: Path, capsys) -> None:
    config = tmp_path / "bench.toml"
    config.write_text(
        'env = ["kuhn_poker_v0"]\nagents = ["random", "nash"]\ngames = 2\n'
        "[game_config.kuhn_poker_v0]\nnum_hands = 3\n"
    )
    out = tmp_path / "run"
    argv = ["bench", "--config", str(config), "--out", str(out), "--workers", "1"]
    assert main(argv) == 0
    config.write_text(config.read_text().replace("num_hands = 3", "num_hands = 4"))
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "kuhn_poker_v0 config {'num_hands': 3} -> {'num_hands': 4}" in err


def test_force_starts_the_folder_over(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(_bench(out, games=3)) == 0
    assert main(_bench(out, "--force", games=2)) == 0
    records = read_results(out / "results.jsonl")
    assert len(records) == 4 and {r["index"] for r in records} == {0, 1}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["games"]["tic_tac_toe_v0"]["pairings"][0]["games"] == 4
    assert (
        json.loads((out / "run.json").read_text())["games"]["tic_tac_toe_v0"]["games"]
        == 2
    )
    # And the same settings again resume it: nothing is played twice.
    assert main(_bench(out, games=2)) == 0
    assert len(read_results(out / "results.jsonl")) == 4


def test_results_without_run_json_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()  # a folder from before run.json existed
    jobs = make_jobs("tic_tac_toe_v0", AGENTS[:2], 2)
    run_jobs(jobs, out / "results.jsonl", workers=1)
    settings = run_settings(
        {"tic_tac_toe_v0": {"agents": AGENTS[:2], "games": 2, "config": {}}}, seed=0
    )
    with pytest.raises(RunMismatch, match="holds results but no run.json"):
        prepare_run_dir(out, settings, force=False)
    prepare_run_dir(out, settings, force=True)
    assert not (out / "results.jsonl").exists()
    prepare_run_dir(out, settings, force=False)  # now a fresh run with run.json
