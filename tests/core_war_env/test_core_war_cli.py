"""``selfplay corewar``: battles equal pMARS's golden results, load files, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from selfplay_agents.cli import main

ROOT = Path(__file__).resolve().parents[2]
# Indices into battles_public.jsonl: standard pairs, the tiny hill, both edge
# positions, every melee shape, and Imp vs Imp.
STANDARD = [3, 4, 5, 50, 120, 250, 399]
OTHERS = [2, 403, 405, 407, 410, 419, 427, 429, 438, 445]
HILL = ("core_size", "max_cycles", "max_processes", "max_length", "min_distance")


def _records(shared: Path) -> list[dict]:
    path = shared / "corewar" / "golden" / "battles_public.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def _argv(record: dict) -> list[str]:
    warriors = record.get("warriors") or [record["w1"], record["w2"]]
    argv = ["corewar", "battle", *warriors, "--rounds", str(record["rounds"]), "--json"]
    argv += ["--fixed-position", str(record["fixed_position"])]
    for key in HILL:
        argv += [f"--{key.replace('_', '-')}", str(record[key])]
    return argv


def _check(record: dict, out: dict) -> None:
    if record["kind"] == "melee":
        assert out["results"] == record["results"], record["command"]
        assert out["scores"] == record["scores"], record["command"]
    else:
        got = (out["wins"][0], out["wins"][1], out["ties"][0])
        assert got == (record["wins1"], record["wins2"], record["ties"]), record[
            "command"
        ]
        assert "results" not in out


@pytest.mark.parametrize("index", STANDARD + OTHERS)
def test_battle_json_equals_pmars(index, shared_dir, monkeypatch, capsys) -> None:
    record = _records(shared_dir)[index]
    monkeypatch.chdir(shared_dir / "corewar" / "warriors")  # as pMARS was run
    assert main(_argv(record)) == 0
    out = json.loads(capsys.readouterr().out)
    n = len(record.get("warriors") or "12")
    assert set(out) == {"warriors", "wins", "ties", "losses", "scores"} | (
        {"results"} if n >= 3 else set()
    )
    assert all(len(out[key]) == n for key in out)
    assert all(sum(row) == record["rounds"] for row in out.get("results", []))
    _check(record, out)


@pytest.mark.parametrize("index", [0, 1])
def test_imp_against_dwarf_1000_rounds(index, shared_dir, monkeypatch, capsys) -> None:
    record = _records(shared_dir)[index]
    monkeypatch.chdir(shared_dir / "corewar" / "warriors")
    assert main(_argv(record)) == 0
    _check(record, json.loads(capsys.readouterr().out))


def test_text_and_brief_output_as_pmars(shared_dir, monkeypatch, capsys) -> None:
    monkeypatch.chdir(shared_dir / "corewar" / "warriors")
    duel = ["corewar", "battle", "classic/imp.red", "classic/dwarf.red", "-r", "100"]
    assert main([*duel, "-F", "4000"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Imp by ") and " scores " in lines[0]
    assert lines[2].startswith("Results: 0 ")
    wins, ties = lines[2].split()[2:]
    assert main([*duel, "-F", "4000", "--brief"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"0 {ties}", f"{wins} {ties}"]
    melee = _records(shared_dir)[427]
    assert (
        main(["corewar", "battle", *melee["warriors"], "-r", "10", "-F", "2687", "-k"])
        == 0
    )
    brief = [
        [int(x) for x in line.split()] for line in capsys.readouterr().out.splitlines()
    ]
    assert brief == [
        [s, *r] for s, r in zip(melee["scores"], melee["results"], strict=True)
    ]


@pytest.mark.parametrize(
    "warrior", ["classic/dwarf.red", "drq/b2.red", "fsh94nop/sbi/revival.red"]
)
def test_assemble_prints_the_golden_load_file(warrior, shared_dir, capsys) -> None:
    source = shared_dir / "corewar" / "warriors" / warrior
    assert main(["corewar", "assemble", str(source)]) == 0
    golden = shared_dir / "corewar" / "golden" / "assembled" / warrior
    assert capsys.readouterr().out == golden.with_suffix(".load").read_text()


def test_assemble_extracts_from_model_output(tmp_path, capsys) -> None:
    reply = tmp_path / "reply.md"
    reply.write_text("Sure! Here it is:\n```redcode\nmov.i $0, $1\n```\nEnjoy.")
    assert main(["corewar", "assemble", "--extract", str(reply)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == [
        "MOV.I",
        "$",
        "0,",
        "$",
        "1",
    ]


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "selfplay_agents.cli", "corewar", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


def test_assembly_errors_exit_3_with_every_error_on_stderr(tmp_path) -> None:
    bad = tmp_path / "bad.red"
    bad.write_text(";redcode-94\nstart mov.i bomb, 1\n      add\n      jmp start\n")
    good = ROOT / "envs_assets" / "core_war" / "warriors" / "imp.red"
    done = _cli("battle", str(bad), str(good), "--rounds", "2", "--json")
    assert done.returncode == 3
    assert done.stdout == ""
    errors = done.stderr.splitlines()
    assert errors == [
        f"{bad}: line 2, col 13: Undefined label or symbol: 'bomb'",
        f"{bad}: line 3, col 7: Syntax error",
    ]


def test_usage_errors_exit_2(tmp_path) -> None:
    imp = str(ROOT / "envs_assets" / "core_war" / "warriors" / "imp.red")
    missing = _cli("battle", imp, str(tmp_path / "none.red"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    near = _cli("battle", imp, imp, "--fixed-position", "5")
    assert near.returncode == 2
    assert "expected fixed_position >= 100, got 5" in near.stderr
    both = _cli("battle", imp, imp, "--fixed-position", "500", "--seed", "3")
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_seeded_battle_is_reproducible(capsys) -> None:
    folder = ROOT / "envs_assets" / "core_war" / "warriors"
    argv = ["corewar", "battle", str(folder / "mice.red"), str(folder / "dwarf.red")]
    argv += ["--rounds", "6", "--seed", "424242", "--json"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(argv) == 0
    assert capsys.readouterr().out == first
    assert json.loads(first)["warriors"] == ["Mice", "Dwarf"]
