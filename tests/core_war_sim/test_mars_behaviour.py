"""DRQ's behaviour descriptors (tsp, mc) on battles whose counts follow by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selfplay_envs.games.core_war.assembler import AssemblerSettings, assemble
from selfplay_envs.games.core_war.descriptors import drq_cell, mc_bin, tsp_bin
from selfplay_envs.games.core_war.instructions import Warrior
from selfplay_envs.games.core_war.loadfile import parse_load_file
from selfplay_envs.games.core_war.mars import (
    BattleJob,
    MarsSettings,
    battle,
    battle_many,
)

GOLDEN = Path(__file__).resolve().parents[3] / "shared" / "corewar" / "golden"


def _settings(cycles: int, processes: int = 800, core: int = 800) -> MarsSettings:
    return MarsSettings(
        core_size=core,
        max_cycles=cycles,
        max_processes=processes,
        max_length=20,
        min_distance=20,
    )


def _warrior(source: str) -> Warrior:
    return assemble(source, AssemblerSettings(core_size=800, max_length=20))


IMP = "mov.i $0, $1"
DIES = "dat.f #0, #0"


def test_a_lone_imp_covers_one_cell_per_cycle_and_spawns_nothing() -> None:
    # 50 cycles alone: it executes 0..49, and 50 is queued when the round ends.
    result = battle([_warrior(IMP)], 1, _settings(50), seed=1, track_behaviour=True)
    assert result.steps == 50
    assert result.tsp == (0.0,) and result.mc == (51.0,)


def test_an_imp_that_laps_the_core_covers_all_of_it() -> None:
    settings = MarsSettings(
        core_size=80, max_cycles=200, max_length=10, min_distance=10
    )
    result = battle([_warrior(IMP)], 1, settings, seed=1, track_behaviour=True)
    assert result.mc == (80.0,)


def test_spl_0_spawns_on_every_other_step() -> None:
    # Step 1 splits (queue: 1, 0), step 2 runs the DAT at 1 and loses that process,
    # step 3 splits again...: 50 steps spawn 25 processes, on addresses 0 and 1 only.
    result = battle([_warrior("spl 0")], 1, _settings(50), seed=1, track_behaviour=True)
    assert result.tsp == (25.0,) and result.mc == (2.0,)


def test_a_split_with_the_queue_full_spawns_nothing() -> None:
    # SPL 0 / JMP -1 never loses a process: it grows to the limit of 4 processes with
    # 3 successful splits, then every SPL finds the queue full.
    warrior = _warrior("spl 0\njmp -1")
    result = battle([warrior], 1, _settings(400, 4), seed=1, track_behaviour=True)
    assert result.tsp == (3.0,) and result.mc == (2.0,)
    roomy = battle([warrior], 1, _settings(400, 800), seed=1, track_behaviour=True)
    assert roomy.tsp[0] > 3


def test_a_warrior_that_never_runs_still_covers_its_start_averaged_over_rounds() -> (
    None
):
    # Round 1: the DAT moves first and dies, ending the round before the imp runs
    # (mc 1: its queued start). Round 2: the imp runs once first (mc 2: 0 executed,
    # 1 queued), then the DAT dies. DRQ averages over rounds: 1.5.
    ws = [_warrior(DIES), _warrior(IMP)]
    result = battle(ws, 2, _settings(1000), seed=5, track_behaviour=True)
    assert result.mc_rounds.tolist() == [[1, 1], [1, 2]]
    assert result.mc == (1.0, 1.5) and result.tsp == (0.0, 0.0)


def test_descriptors_are_none_unless_asked_for() -> None:
    result = battle([_warrior(IMP)], 1, _settings(50), seed=1)
    assert result.tsp is None and result.mc is None


def _golden_pairs(count: int) -> list[tuple[Warrior, Warrior, int]]:
    if not GOLDEN.exists():
        pytest.skip(f"{GOLDEN} not found (pMARS reference data)")
    pairs = []
    with open(GOLDEN / "battles_public.jsonl") as f:
        for line in f:
            rec = json.loads(line)
            if rec["kind"] != "standard":
                continue
            ws = []
            for key in ("w1", "w2"):
                load = GOLDEN / "assembled" / rec[key].replace(".red", ".load")
                ws.append(parse_load_file(load.read_text(), 8000, name=rec[key]))
            pairs.append((ws[0], ws[1], rec["fixed_position"]))
            if len(pairs) == count:
                return pairs
    return pairs


def test_tracking_leaves_the_pmars_results_alone_and_batches_the_same() -> None:
    pairs = _golden_pairs(6)
    jobs = [
        BattleJob(warriors=w[:2], rounds=4, fixed_position=w[2], track_behaviour=True)
        for w in pairs
    ]
    plain = [battle(j.warriors, 4, fixed_position=j.fixed_position) for j in jobs]
    tracked = [
        battle(j.warriors, 4, fixed_position=j.fixed_position, track_behaviour=True)
        for j in jobs
    ]
    for a, b in zip(plain, tracked, strict=True):
        assert (a.results, a.steps, a.death_cycles.tolist()) == (
            b.results,
            b.steps,
            b.death_cycles.tolist(),
        )
        assert all(1 <= mc <= 8000 for mc in b.mc) and all(t >= 0 for t in b.tsp)
    assert battle_many(jobs, workers=1) == tracked


@pytest.mark.parametrize(
    ("tsp", "expected"),
    [(0, 0), (0.5, 0), (1, 1), (9.99, 1), (10, 2), (999, 3), (9999, 4), (10000, 5)],
)
def test_tsp_bins_are_drqs(tsp: float, expected: int) -> None:
    assert tsp_bin(tsp) == expected


@pytest.mark.parametrize(
    ("mc", "expected"),
    [(1, 0), (9, 0), (10, 1), (99.5, 1), (100, 2), (499, 2), (500, 3), (4000, 5)],
)
def test_mc_bins_are_drqs(mc: float, expected: int) -> None:
    assert mc_bin(mc) == expected


def test_drq_cell_pairs_the_bins_and_refuses_a_negative() -> None:
    assert drq_cell(0.0, 51.0) == (0, 1)
    assert drq_cell(25.0, 8000.0) == (2, 5)
    with pytest.raises(ValueError, match="non-negative tsp"):
        tsp_bin(-1)
    with pytest.raises(TypeError, match="number mc"):
        mc_bin("many")
