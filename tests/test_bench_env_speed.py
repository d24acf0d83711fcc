"""The env-speed benchmark runs end to end (tiny sizes; the figures are not checked)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_env_speed.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_env_speed", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_runner_of_ours_plays_and_the_targets_are_reported(tmp_path: Path):
    out = tmp_path / "bench.json"
    argv = ["--steps", "40", "--repeats", "1", "--num-envs", "4"]
    argv += ["--fast-num-envs", "4", "--fast-steps", "64", "--out", str(out)]
    argv += ["--text-num-envs", "4,8"]
    argv += ["--rounds", "2", "--paired-steps", "40"]
    assert _load().main(argv) == 0
    payload = json.loads(out.read_text())
    ours = [
        r for r in payload["results"] if r["name"].startswith(("ours", "harness floor"))
    ]
    assert len(ours) >= 10
    for result in ours:
        assert result["available"], result
        assert result["moves"] >= 40, result
        assert result["steps_per_second"] > 0, result
    targets = {(row["ours"], row["peer"]): row["target"] for row in payload["ratios"]}
    assert targets[("ours aec numeric", "pettingzoo classic tictactoe_v3")] == 3.0
    assert targets[("ours aec text", "textarena KuhnPoker-v0")] == 2.0
    assert targets[("ours batched text fast (N=8)", "textarena KuhnPoker-v0")] == 2.0
    assert targets[("ours batched text fast (N=4)", "textarena TicTacToe-v0")] == 2.0
    for row in payload["ratios"]:  # peers are installed with the bench extra only
        if row["target"] is not None and row["ratio"] is not None:
            assert row["paired"]["rounds"] == 2
            assert 0 < row["paired"]["min"] <= row["paired"]["median"]
            assert row["met"] == (row["paired"]["median"] >= row["target"])
    assert "| target | met |" in payload["markdown"]
