"""`selfplay replay` reads every episode file the project writes, and says in one line
what it expected when given another file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from selfplay_agents.cli import main


def _bench(out: Path, *extra: str) -> None:
    argv = [
        "bench",
        "--env",
        "tic_tac_toe_v0",
        "--agents",
        "random",
        "minimax",
        "--games",
        "3",
        "--out",
        str(out),
        "--workers",
        "1",
        *extra,
    ]
    assert main(argv) == 0


def _returns(out: str) -> list[float]:
    (line,) = [x for x in out.splitlines() if x.startswith("returns: ")]
    return json.loads(line.removeprefix("returns: "))


def test_bench_record_keeps_k_episodes_per_pairing_and_both_orders(
    tmp_path: Path,
) -> None:
    _bench(tmp_path, "--record", "2")
    records = [
        json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()
    ]
    kept = [r for r in records if "episode" in r]
    assert sorted((r["index"], r["order"]) for r in kept) == [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    ]
    episode = kept[0]["episode"]
    assert episode["env_id"] == "tic_tac_toe_v0" and episode["seed"] == kept[0]["seed"]
    assert episode["actions"] and "config" in episode


def test_replay_of_a_bench_record_ends_as_the_bench_game_did(
    tmp_path: Path, capsys
) -> None:
    _bench(tmp_path, "--record", "1")
    capsys.readouterr()
    results = tmp_path / "results.jsonl"
    kept = [
        r for r in map(json.loads, results.read_text().splitlines()) if "episode" in r
    ]
    assert main(["replay", str(results), "--list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == len(kept) == 2
    for number, record in enumerate(kept):
        assert (
            main(["replay", str(results), "--episode", str(number), "--no-pause"]) == 0
        )
        out = capsys.readouterr().out
        # Side 0 is player_0: agent a sat there when order is 0.
        a, b = record["return_a"], record["return_b"]
        assert _returns(out) == ([a, b] if record["order"] == 0 else [b, a])
        assert "Game over: " in out
        assert "invalid" not in out  # the fixed opponents play legal moves only


def test_replay_reads_adapter_trajectories(tmp_path: Path, capsys) -> None:
    from selfplay_agents.adapter import BatchInferenceAdapter
    from selfplay_agents.policy import RandomPolicy

    log = tmp_path / "turns.jsonl"
    result = BatchInferenceAdapter(
        "tic_tac_toe_v0", RandomPolicy(seed=1), num_envs=1, trajectory_path=log
    ).run(1)
    (trajectory,) = result.trajectories
    assert main(["replay", str(log), "--no-pause"]) == 0
    out = capsys.readouterr().out
    expected = [trajectory.returns[a] for a in ("player_0", "player_1")]
    assert _returns(out) == expected


def test_replay_quits_on_q(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "episode.jsonl"
    episode = {"env_id": "tic_tac_toe_v0", "seed": 0, "actions": ["4", "0", "8"]}
    path.write_text(json.dumps(episode) + "\n")
    prompts = []
    monkeypatch.setattr("builtins.input", lambda p="": prompts.append(p) or "q")
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert len(prompts) == 1 and "q: quit" in prompts[0]
    assert "[1]" not in out


@pytest.mark.parametrize("name", ["summary.json", "run.json", "report.md"])
def test_a_file_of_no_episodes_gets_one_line_saying_what_was_expected(
    tmp_path: Path, name: str
) -> None:
    _bench(tmp_path)
    with pytest.raises(SystemExit) as raised:
        main(["replay", str(tmp_path / name)])
    message = str(raised.value.code)
    assert "\n" not in message
    assert message.startswith("selfplay replay: expected a JSONL file of episodes")
    assert "selfplay play --record" in message and "--record K" in message


def test_bench_results_without_recorded_episodes_say_how_to_record(
    tmp_path: Path,
) -> None:
    _bench(tmp_path)
    with pytest.raises(SystemExit) as raised:
        main(["replay", str(tmp_path / "results.jsonl")])
    message = str(raised.value.code)
    assert re.search(r"holds 6 bench games but no recorded episode", message)
    assert "selfplay bench --record K" in message


def test_replay_reads_exported_trainer_rows(tmp_path: Path, capsys) -> None:
    from selfplay_agents.adapter import BatchInferenceAdapter
    from selfplay_agents.export import trainer_rows, write_jsonl
    from selfplay_agents.policy import RandomPolicy

    result = BatchInferenceAdapter(
        "tic_tac_toe_v0", RandomPolicy(seed=2), num_envs=1, seed=4
    ).run(1)
    (trajectory,) = result.trajectories
    rows = tmp_path / "rows.jsonl"
    write_jsonl(trainer_rows([trajectory], keep_untokenized=True), rows)
    assert main(["replay", str(rows), "--no-pause"]) == 0
    out = capsys.readouterr().out
    assert _returns(out) == [trajectory.returns[a] for a in ("player_0", "player_1")]


def test_replay_says_a_forfeit_is_why_the_game_ended(tmp_path: Path, capsys) -> None:
    path = tmp_path / "episode.jsonl"
    episode = {
        "env_id": "tic_tac_toe_v0",
        "seed": 0,
        "config": {"invalid_move": "loss"},  # one invalid move forfeits
        "actions": ["4", "banana"],
        "agents": {"player_0": "you", "player_1": "minimax"},
    }
    path.write_text(json.dumps(episode) + "\n")
    assert main(["replay", str(path), "--no-pause"]) == 0
    out = capsys.readouterr().out
    assert (
        "Game over: player_0 (you) wins (player_1 (minimax) forfeited on invalid "
        "moves, the last: unparseable" in out
    )
    assert _returns(out) == [1.0, -1.0]
