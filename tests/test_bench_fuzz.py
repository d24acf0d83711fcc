"""The fuzz benchmark runs end to end (a few replies per env; nothing may fail)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import selfplay_envs
from selfplay_envs.test import unavailable_reason

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_fuzz.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_fuzz", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_env_is_fuzzed_in_both_forms_without_a_failure(tmp_path: Path):
    out = tmp_path / "bench.json"
    argv = ["--replies", "60", "--long-every", "5", "--quiet", "--out", str(out)]
    assert _load().main(argv) == 0
    payload = json.loads(out.read_text())
    assert payload["failures"] == 0
    available = {e for e in selfplay_envs.list_envs() if not unavailable_reason(e)}
    seen = {(r["env_id"], r["api"]) for r in payload["results"]}
    assert seen == {(e, api) for e in available for api in ("aec", "parallel")}
    for result in payload["results"]:
        assert result["replies"] + result["skipped_valid"] >= 30, result
        assert result["exceptions"] == result["hangs"] == result["non_zero_sum"] == 0
        assert result["truncated_replies"] > 0, result  # the cut was exercised
    assert "| non-zero-sum |" in payload["markdown"]
