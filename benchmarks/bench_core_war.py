"""Benchmark the Core War MARS against exhaust-ma (a C MARS whose results equal pMARS).

Run from the repository root::

    pip install exhaust-ma  # benchmark-only dependency
    python benchmarks/bench_core_war.py [--pairs 12] [--rounds 20] [--repeat 3]

What is counted: a *step* is one warrior executing one instruction (pMARS counts its
cycle limit in these: a round lasts at most ``2 * max_cycles`` steps with two warriors).
Steps come from our engine; exhaust-ma plays exactly the same rounds (same load
positions, same first mover, read back from our per-round log) so it executes the same
steps, and the benchmark checks that both engines agree on every round's outcome.

Three figures, each the best of ``--repeat`` runs (the machine may be shared):

1. our engine on one core: ``battle()`` per pair, compile cache already warm;
2. exhaust-ma on one core, through its low-level C functions (``sim_clear_core``,
   ``sim_load_warrior``, ``sim_mw``), one call per round;
3. our engine batched on all cores: one ``battle_many()`` call for all pairs.

Pairs are drawn from the pMARS golden battle list (``../shared/corewar``), standard
settings (core 8000, 80000 cycles).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numba

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfplay_envs.games.core_war.instructions import Warrior  # noqa: E402
from selfplay_envs.games.core_war.loadfile import parse_load_file  # noqa: E402
from selfplay_envs.games.core_war.mars import (  # noqa: E402
    BattleJob,
    BattleResult,
    MarsSettings,
    battle,
    battle_many,
)

GOLDEN = ROOT.parent / "shared" / "corewar" / "golden"
SETTINGS = MarsSettings()

# exhaust-ma's encodings (insn.h): opcode, modifier and mode numbers differ from ours.
_EX_OPS = {
    "DAT": 0, "SPL": 1, "MOV": 2, "DJN": 3, "ADD": 4, "JMZ": 5, "SUB": 6, "SEQ": 7,
    "CMP": 7, "SNE": 8, "SLT": 9, "JMN": 10, "JMP": 11, "NOP": 12, "MUL": 13,
    "MOD": 14, "DIV": 15, "LDP": 16, "STP": 17,
}  # fmt: skip
_EX_MODS = {"F": 0, "A": 1, "B": 2, "AB": 3, "BA": 4, "X": 5, "I": 6}
_EX_MODES = (1, 0, 2, 3, 4, 5, 6, 7)  # ours (# $ @ < > * { }) -> exhaust


def load_pairs(count: int) -> list[tuple[Warrior, Warrior, int]]:
    """The first ``count`` standard golden battles: (warrior 1, warrior 2, -F)."""
    pairs = []
    with open(GOLDEN / "battles_public.jsonl") as f:
        for line in f:
            rec = json.loads(line)
            if rec["kind"] != "standard":
                continue
            ws = tuple(_warrior(rec[k]) for k in ("w1", "w2"))
            pairs.append((*ws, rec["fixed_position"]))
            if len(pairs) == count:
                break
    return pairs


def _warrior(path: str) -> Warrior:
    load = GOLDEN / "assembled" / path.replace(".red", ".load")
    return parse_load_file(load.read_text(), SETTINGS.core_size, name=path)


class Timer:
    """Best-of-N wall-clock and CPU (process) time of a repeated measurement."""

    def __init__(self) -> None:
        self.wall = float("inf")
        self.cpu = float("inf")

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = min(self.wall, time.perf_counter() - self._wall)
        self.cpu = min(self.cpu, time.process_time() - self._cpu)


def run_ours(pairs, rounds: int) -> list[BattleResult]:
    return [battle(w[:2], rounds, SETTINGS, fixed_position=w[2]) for w in pairs]


def run_batched(pairs, rounds: int, workers: int | None) -> list[BattleResult]:
    jobs = [
        BattleJob(warriors=w[:2], rounds=rounds, fixed_position=w[2]) for w in pairs
    ]
    return battle_many(jobs, workers=workers)


class Exhaust:
    """exhaust-ma's C simulator, driven round by round."""

    def __init__(self) -> None:
        import _exhaust_ma  # noqa: PLC0415 - optional, benchmark only

        self.ffi = _exhaust_ma.ffi
        self.lib = _exhaust_ma.lib
        s = SETTINGS
        self.lib.sim_alloc_bufs2(
            2, s.core_size, s.max_processes, s.max_cycles, s.effective_pspace_size
        )
        self.pos_tab = self.ffi.new("field_t[]", 2)
        self.death_tab = self.ffi.new("unsigned int[]", 2)

    def code(self, w: Warrior):
        arr = self.ffi.new("insn_t[]", len(w))
        for i, ins in enumerate(w.instructions):
            op = (_EX_OPS[ins.opcode.name] << 3) | _EX_MODS[ins.modifier.name]
            word = (op << 6) | (_EX_MODES[ins.b_mode] << 3) | _EX_MODES[ins.a_mode]
            setattr(arr[i], "in", word)
            arr[i].a = ins.a_number
            arr[i].b = ins.b_number
        return arr

    def replay(self, pairs, ours: list[BattleResult], timer: Timer) -> int:
        """Play the rounds our engine played (timed); return mismatching rounds."""
        lib, m = self.lib, SETTINGS.core_size
        jobs = []
        for (w1, w2, _), res in zip(pairs, ours, strict=True):
            ws = (w1, w2)
            codes = [self.code(w) for w in ws]
            for r in range(res.rounds):
                jobs.append((ws, codes, res.positions[r], int(res.first[r]), res, r))
        outcomes = []
        with timer:
            for ws, codes, pos, first, _, _ in jobs:
                lib.sim_clear_core()
                for i in (0, 1):
                    lib.sim_load_warrior(int(pos[i]), codes[i], len(ws[i]))
                order = (first, 1 - first)
                for slot, i in enumerate(order):
                    self.pos_tab[slot] = (int(pos[i]) + ws[i].start) % m
                alive = lib.sim_mw(2, self.pos_tab, self.death_tab)
                outcomes.append((alive, order[self.death_tab[0]] if alive < 2 else -1))
        mismatches = 0
        for (alive, dead), (*_, res, r) in zip(outcomes, jobs, strict=True):
            survivors = (res.death_cycles[r] < 0).tolist()
            ours_dead = -1 if all(survivors) else survivors.index(False)
            mismatches += (alive, dead) != (sum(survivors), ours_dead)
        return mismatches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    if not GOLDEN.exists():
        sys.exit(f"{GOLDEN} not found: the benchmark warriors come from it")
    pairs = load_pairs(args.pairs)

    start = time.perf_counter()
    battle(pairs[0][:2], 1, SETTINGS, fixed_position=pairs[0][2])
    warmup = time.perf_counter() - start
    start = time.perf_counter()
    battle_many([BattleJob(warriors=pairs[0][:2], rounds=1, fixed_position=200)])
    warmup_many = time.perf_counter() - start
    print(f"first call in this process: battle {warmup:.2f} s, "
          f"battle_many {warmup_many:.2f} s (compile or cache load)")  # fmt: skip

    exhaust = Exhaust()
    t_ours, t_ex, t_many = Timer(), Timer(), Timer()
    for _ in range(args.repeat):  # interleaved, so that load drifts hit all three
        with t_ours:
            results = run_ours(pairs, args.rounds)
        mismatches = exhaust.replay(pairs, results, t_ex)
        with t_many:
            batched = run_batched(pairs, args.rounds, args.workers)
    assert batched == results, "battle_many must give battle's results"
    steps = sum(r.steps for r in results)
    n_rounds = len(pairs) * args.rounds
    threads = args.workers or numba.get_num_threads()
    load = os.getloadavg()[0]
    print(f"{len(pairs)} pairs x {args.rounds} rounds = {n_rounds} rounds, "
          f"{steps:,} steps; rounds differing from exhaust-ma: {mismatches}; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    print("best of", args.repeat, "     wall s   M steps/s  |   CPU s   M steps/s")
    for name, t in (("ours, 1 core", t_ours), ("exhaust-ma, 1 core", t_ex)):
        print(f"{name:20s} {t.wall:7.3f} {steps / t.wall / 1e6:9.1f}  | "
              f"{t.cpu:7.3f} {steps / t.cpu / 1e6:9.1f}")  # fmt: skip
    name = f"ours, {threads} threads"
    print(f"{name:20s} {t_many.wall:7.3f} {steps / t_many.wall / 1e6:9.1f}  | "
          "(CPU time sums the threads)")  # fmt: skip
    print(f"single core, ours / exhaust-ma: {t_ex.wall / t_ours.wall:.2f}x wall, "
          f"{t_ex.cpu / t_ours.cpu:.2f}x CPU")  # fmt: skip
    print(f"battle_many ({threads} threads) / exhaust-ma single core: "
          f"{t_ex.wall / t_many.wall:.2f}x wall")  # fmt: skip


if __name__ == "__main__":
    main()
