"""The Liar's Dice speed benchmark: it runs end to end (tiny sizes; the figures are not
checked), and its TextArena runner plays only moves TextArena accepts."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_liars_dice.py"
TA = "textarena LiarsDice-v0"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_liars_dice", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_runner_of_ours_plays_and_every_ratio_is_paired(tmp_path: Path):
    out = tmp_path / "bench.json"
    argv = ["--steps", "40", "--repeats", "1", "--num-envs", "4", "--dice", "2"]
    argv += ["--fast-num-envs", "4", "--text-num-envs", "4,8", "--fast-steps", "80"]
    argv += ["--rounds", "2", "--paired-steps", "40", "--out", str(out)]
    assert _bench().main(argv) == 0
    payload = json.loads(out.read_text())
    ours = [r for r in payload["results"] if r["name"].startswith("ours")]
    assert len(ours) == 7
    for result in ours:
        assert result["available"], result
        assert result["moves"] >= 40, result
        assert result["steps_per_second"] > 0, result
    targets = {(row["ours"], row["peer"]): row["target"] for row in payload["ratios"]}
    assert targets[("ours aec text", TA)] == 2.0
    assert targets[("ours batched text fast (N=8)", TA)] == 2.0
    assert targets[("ours aec numeric", "pyspiel + observation")] is None
    for row in payload["ratios"]:  # TextArena comes with the bench extra only
        if row["ratio"] is None:
            continue
        assert row["paired"]["rounds"] == 2
        assert 0 < row["paired"]["min"] <= row["paired"]["median"]
        if row["target"] is None:
            assert row["met"] is None
        else:
            assert row["met"] == (row["paired"]["median"] >= row["target"])
    assert "| target | met |" in payload["markdown"]


def test_textarena_moves_are_what_its_liars_dice_accepts() -> None:
    ta = pytest.importorskip("textarena", reason="TextArena is in the bench extra")
    moves = _bench()._textarena_moves
    assert len(moves(0, 0, 10)) == 60 and "[Call]" not in moves(0, 0, 10)
    assert moves(10, 6, 10) == ("[Call]",)
    assert "[Bid: 2, 2]" not in moves(2, 2, 4) and "[Bid: 3, 1]" not in moves(2, 2, 4)
    rng = np.random.default_rng(0)
    env = ta.make("LiarsDice-v0", num_dice=2)
    for game in range(20):
        env.reset(num_players=2, seed=game)
        done, steps = False, 0
        while not done:
            state = env.state.game_state
            bid, left = state["current_bid"], sum(state["remaining_dice"].values())
            legal = moves(bid["quantity"], bid["face_value"], left)
            done, _ = env.step(legal[rng.integers(len(legal))])
            steps += 1
        messages = [message for _, message in env.state.logs]
        assert not any("invalid move" in m for m in messages), messages
        assert steps >= 4  # two rounds at least (2 dice each), a bid and a call each
        env.close()
