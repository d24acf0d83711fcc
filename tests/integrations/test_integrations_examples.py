"""The examples run at CI size and do what they claim, on a small scale.

The full-size numbers (Kuhn exploitability, the LLM's win-rate curve, the Red Queen
table) come from the full runs; here the quick runs check the whole pipeline and the
direction.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from selfplay_envs.games.core_war.assembler import RedcodeError, assemble

pytest.importorskip("torch", reason="the agents extra (torch) is not installed")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while defining them
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_kuhn_rae_example_quick(tmp_path: Path):
    curves = load("kuhn_rae_selfplay").main(["--quick", "--out", str(tmp_path)])
    assert set(curves) == {"none", "role", "player"}
    for (run,) in curves.values():  # one seed at --quick
        assert run["exploitability"][0] > 0.4  # the uniform start
        assert run["average_exploitability"][-1] < 0.3
        # Keyed by seat, the baselines of a zero-sum match are each other's negative.
        assert run["player_0_baseline"] == [-b for b in run["player_1_baseline"]]
        # Keyed by role, each role's baseline averages both seats' returns in a
        # 5-hand match (each seat opens and responds): it stays near 0 while
        # player_0's moves away with player_0's returns.
        assert max(map(abs, run["opener_baseline"])) < 0.1
        assert max(map(abs, run["player_0_baseline"])) > 0.3
    # Without a baseline the advantage is the return.
    none = curves["none"][0]
    assert none["advantage_ms"] == none["return_ms"]
    assert (tmp_path / "exploitability.png").stat().st_size > 0
    assert json.loads((tmp_path / "curves.json").read_text()) == curves


def test_kuhn_rae_example_baselines_are_the_librarys():
    """The example's advantages are ``player_advantages``'s and ``role_advantages``'s
    on the same 5-hand matches, over two batches (the second uses the baselines the
    first left)."""
    from selfplay_agents.export import (
        RoleBaseline,
        TrainerRow,
        player_advantages,
        role_advantages,
    )

    example = load("kuhn_rae_selfplay")
    collector = example.Collector(8, seed=0, num_hands=5)
    batches = [collector.collect(example.TabularPolicy(), 12) for _ in range(2)]
    for by, library in (("player", player_advantages), ("role", role_advantages)):
        ours, theirs = example.KeyedBaseline(0.95, by), RoleBaseline(0.95)
        for n, batch in enumerate(batches):
            rows = [
                TrainerRow(
                    game_id=f"batch{n}/episode{episode}",
                    env_id=example.ENV_ID,
                    episode_id=episode,
                    step=0,
                    turn=0,
                    agent=example.PLAYERS[player],
                    seat=player,
                    role=example.ROLES[role],
                    policy="tabular",
                    prompt_ids=[],
                    completion_ids=[],
                    logprobs=None,
                    prompt="",
                    completion="",
                    valid=True,
                    invalid_reason="",
                    reward=0.0,
                    episode_return=value,
                    outcome="",
                )
                for episode, player, role, value in zip(
                    batch.episode_ids.tolist(),
                    batch.players.tolist(),
                    batch.roles.tolist(),
                    batch.returns.tolist(),
                    strict=True,
                )
            ]
            expected = [row.advantage for row in library(rows, theirs)]
            assert ours.advantages(batch).tolist() == pytest.approx(expected)
            names = example.PLAYERS if by == "player" else example.ROLES
            assert ours.values() == pytest.approx(
                {name: theirs.value(example.ENV_ID, name) for name in names}
            )
        assert any(abs(value) > 0.01 for value in ours.values().values())


@pytest.fixture(scope="module")
def llm_run(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("llm")
    summary = load("llm_selfplay_tictactoe").main(["--quick", "--out", str(out)])
    return summary, out


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_llm_selfplay_example_quick(llm_run):
    summary, out = llm_run
    # What is trained is what was played: recomputed logprobs match the recorded ones.
    assert summary["max_logprob_mismatch"] < 1e-4
    assert summary["end"]["wins"] > summary["start"]["wins"]
    assert (out / "win_rate.png").stat().st_size > 0


@pytest.mark.slow
def test_llm_selfplay_export_is_trainer_ready(llm_run):
    pytest.importorskip("datasets", reason="the datasets package is not installed")
    from selfplay_agents.export import load_dataset

    _, out = llm_run
    dataset = load_dataset(out / "last_iteration_turns.parquet")
    assert len(dataset) > 0
    roles = set()
    for row in dataset:
        assert len(row["prompt_ids"]) > 0
        assert len(row["completion_ids"]) == len(row["logprobs"]) == 2  # cell, end
        assert row["valid"] and row["advantage"] is not None
        roles.add(row["role"])
    assert roles == {"x", "o"}
    assert len(set(dataset["game_id"])) == 32  # the last iteration's episodes


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_trl_grpo_example_runs(tmp_path: Path):
    pytest.importorskip("trl", reason="the trainers extra (trl) is not installed")
    pytest.importorskip(
        "datasets", reason="the trainers extra (datasets) is not installed"
    )
    result = load("trl_grpo_selfplay").main(["--steps", "2", "--out", str(tmp_path)])
    steps = [h for h in result["log"] if "loss" in h]
    assert [h["step"] for h in steps] == [1, 2]
    assert any(h["grad_norm"] > 0 for h in steps), (
        "the rollouts' rewards reached a gradient"
    )
    assert set(result["returns"]) <= {-1.0, 0.0, 1.0}
    assert len(set(result["returns"])) > 1  # real games: wins and losses


def test_iterative_spo_example_quick(tmp_path: Path):
    history = load("iterative_spo_spy").main(["--quick", "--out", str(tmp_path)])
    assert len(history) == 30
    # The scheduler switched at least once and the plotted stages follow its history.
    assert any(entry["switched"] for entry in history)
    assert {entry["stage"] for entry in history} == {"clue", "decision"}
    assert json.loads((tmp_path / "history.json").read_text()) == history
    assert (tmp_path / "stages.png").stat().st_size > 0


def test_ssp_pool_example_quick(tmp_path: Path):
    history = load("ssp_pool_selfplay").main(["--quick", "--out", str(tmp_path)])
    assert len(history) == 5
    assert sum(h["refills"] for h in history) > 0  # spoilt questions were refilled
    assert all(h["valid_questions"] + h["refills"] <= h["episodes"] for h in history)
    assert json.loads((tmp_path / "rounds.json").read_text()) == history
    assert (tmp_path / "rounds.png").stat().st_size > 0


def test_red_queen_example_quick(tmp_path: Path):
    rounds = load("red_queen_selfplay").main(["--quick", "--out", str(tmp_path)])
    assert [r["round"] for r in rounds] == [0, 1, 2]  # one champion per round
    for r in rounds:
        assert 0.0 <= r["generality"] <= 1.0 and 0.0 <= r["mean_share"] <= 2.0
        assert r["opponents"] > 0 and r["tsp"] >= 0 and r["mc"] >= 1
    saved = json.loads((tmp_path / "rounds.json").read_text())
    assert saved["rounds"] == rounds
    for name in ("generality.png", "phenotype.png"):
        assert (tmp_path / name).stat().st_size > 0
    # None of the held-out warriors is an initial opponent, by name or by code.
    example = load("red_queen_selfplay")
    initial = [(example.SHIPPED / name).read_text() for name in example.INITIAL]
    codes = {assemble(text).instructions for text in initial}
    for text in saved["held_out_sources"]:
        names = [line for line in text.lower().splitlines() if line.startswith(";name")]
        assert not any(n.split(None, 1)[-1].strip() in ("imp", "dwarf") for n in names)
        try:
            assert assemble(text).instructions not in codes
        except RedcodeError:
            pass  # does not assemble: it cannot be an archive warrior either


def test_red_queen_held_out_set_leaves_out_every_archive_warrior(tmp_path: Path):
    example = load("red_queen_selfplay")
    imp = (example.SHIPPED / "imp.red").read_text()
    champion = "spl 0\nmov 0, 1\n"
    files = {
        "IMP.red": ";name something else\ndat #0, #0\n",  # the name of an initial
        "other.red": ";name Dwarf\njmp 0\n",  # the ;name of an initial opponent
        "wow.red": ";name Wow\nmov 0, 1\n",  # the imp's code under another name
        "champ.red": ";name Champ\n" + champion,  # a champion's code
        "fresh.red": ";name Fresh\nmov 1, 2\nadd #3, -1\njmp -2\n",
        "fresh2.red": ";name Fresh 2\nspl 0\njmp -1\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    held_out, source, excluded = example.held_out_set(
        10, seed=0, champions=[champion], folder=tmp_path
    )
    assert source == str(tmp_path)
    assert sorted(excluded) == ["IMP.red", "champ.red", "other.red", "wow.red"]
    assert sorted(held_out) == sorted([files["fresh.red"], files["fresh2.red"]])
    assert imp not in held_out
    # More eligible warriors than asked for: a seeded sample.
    one, _, _ = example.held_out_set(1, seed=0, champions=[], folder=tmp_path)
    assert len(one) == 1 and one == example.held_out_set(1, 0, [], tmp_path)[0]
