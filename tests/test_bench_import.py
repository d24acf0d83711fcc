"""The import benchmark runs end to end (one round; the figures are not checked)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_import.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_import", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_case_is_timed_and_the_ratios_are_reported(tmp_path: Path) -> None:
    bench = _load()
    out = tmp_path / "bench.json"
    assert bench.main(["--rounds", "1", "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert set(payload["cases"]) == set(bench.CASES)
    for row in payload["cases"].values():
        assert row["rounds"] == 1
        assert 0 < row["min_s"] <= row["median_s"] <= row["max_s"]
    pairs = {(row["case"], row["over"]) for row in payload["ratios"]}
    assert ("import selfplay_envs", "import pettingzoo") in pairs
    assert all(row["ratio"] > 0 for row in payload["ratios"])
    assert isinstance(payload["target_met"], bool)


def test_a_failing_case_raises_rather_than_being_timed() -> None:
    with pytest.raises(subprocess.CalledProcessError):
        _load().run_once("raise SystemExit(3)")
