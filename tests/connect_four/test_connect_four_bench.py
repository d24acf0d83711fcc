"""The Connect Four speed benchmark runs end to end (tiny sizes; figures unchecked)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_connect_four.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_connect_four", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_runner_of_ours_plays_and_the_targets_are_reported(tmp_path: Path):
    out = tmp_path / "bench.json"
    argv = ["--steps", "40", "--repeats", "1", "--num-envs", "4"]
    argv += ["--fast-num-envs", "4,8", "--fast-steps", "64", "--out", str(out)]
    argv += ["--text-num-envs", "4", "--rounds", "2", "--paired-steps", "40"]
    assert _load().main(argv) == 0
    payload = json.loads(out.read_text())
    ours = [r for r in payload["results"] if r["name"].startswith("ours")]
    assert len(ours) == 7
    for result in ours:
        assert result["available"], result
        assert result["moves"] >= 40, result
        assert result["steps_per_second"] > 0, result
    peer = "pettingzoo classic connect_four_v3"
    targets = {(row["ours"], row["peer"]): row["target"] for row in payload["ratios"]}
    assert targets[("ours aec numeric", peer)] == 3.0
    assert targets[("ours batched numeric fast (N=4)", peer)] == 20.0
    assert targets[("ours batched numeric fast (N=8)", peer)] == 20.0
    for row in payload["ratios"]:  # the peer needs pygame, from the bench extra
        if row["target"] is not None and row["ratio"] is not None:
            assert row["paired"]["rounds"] == 2
            assert 0 < row["paired"]["min"] <= row["paired"]["median"]
            assert row["met"] == (row["paired"]["median"] >= row["target"])
    assert "| target | met |" in payload["markdown"]
