"""Benchmark the Core War MARS engines (C and numba) against exhaust-ma, side by side.

Run from the repository root::

    pip install exhaust-ma  # benchmark-only dependency
    python benchmarks/bench_core_war.py [--pairs 10] [--rounds 20] [--repeat 3]

What is counted: a *step* is one warrior executing one instruction (pMARS counts its
cycle limit in these: a round lasts at most ``2 * max_cycles`` steps with two warriors).
Steps come from our engine; exhaust-ma (a C MARS whose results equal pMARS) plays
exactly the same rounds (same load positions, same first mover, read back from our
per-round log) so it executes the same steps, and the benchmark checks that every
engine agrees on every round's outcome.

For each hill (cores 800, 8000 and 55440) and each of ``--repeat`` repetitions, in an
order that rotates each repetition (the machine may be shared: only ratios taken
side by side mean anything), it times:

1. the C engine on one core: ``battle()`` per pair;
2. the numba engine on one core (compile cache already warm);
3. exhaust-ma on one core, through its low-level C functions (``sim_clear_core``,
   ``sim_load_warrior``, ``sim_mw``), one call per round;
4. each engine's ``battle_many()`` on ``--workers`` threads (default 2), all pairs in
   one call.

and reports each engine's time ratio to exhaust-ma's single core, per repetition:
the median and the range, and for ``battle_many`` its speed-up over the same engine
on one core. ``--small N`` (default 500) then times N one-round battles on the
core-800 hill, a Red Queen evaluation's shape, where the cost per battle outside the
simulator weighs: ``battle()`` per battle, one ``battle_many(workers=1)`` call for
them all (one C call), and exhaust-ma. ``--startup`` also measures a fresh process's first battle,
imports included: on the C engine, and on numba with an empty cache (NUMBA_CACHE_DIR
pointing at an empty temporary folder) and then with that cache warm.

Warriors: the pairs of the pMARS golden battle list (``../shared/corewar``), assembled
by our assembler for each hill; pairs that do not fit a hill (too long) are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfplay_envs.games.core_war import mars  # noqa: E402
from selfplay_envs.games.core_war.assembler import (  # noqa: E402
    AssemblerSettings,
    assemble,
)
from selfplay_envs.games.core_war.instructions import Warrior  # noqa: E402
from selfplay_envs.games.core_war.mars import (  # noqa: E402
    BattleJob,
    BattleResult,
    MarsSettings,
    battle,
    battle_many,
)

SHARED = ROOT.parent / "shared" / "corewar"
GOLDEN = SHARED / "golden"
WARRIORS = SHARED / "warriors"
# The hills: tiny (pMARS -s 800 ...), the ICWS'94 KOTH hill, and the large 55440 one.
HILLS = {
    800: MarsSettings(
        core_size=800, max_cycles=8000, max_processes=800, max_length=20,
        min_distance=20,
    ),
    8000: MarsSettings(),
    55440: MarsSettings(
        core_size=55440, max_cycles=500000, max_processes=10000, max_length=200,
        min_distance=200,
    ),
}  # fmt: skip
SETTINGS = HILLS[8000]

# exhaust-ma's encodings (insn.h): opcode, modifier and mode numbers differ from ours.
_EX_OPS = {
    "DAT": 0, "SPL": 1, "MOV": 2, "DJN": 3, "ADD": 4, "JMZ": 5, "SUB": 6, "SEQ": 7,
    "CMP": 7, "SNE": 8, "SLT": 9, "JMN": 10, "JMP": 11, "NOP": 12, "MUL": 13,
    "MOD": 14, "DIV": 15, "LDP": 16, "STP": 17,
}  # fmt: skip
_EX_MODS = {"F": 0, "A": 1, "B": 2, "AB": 3, "BA": 4, "X": 5, "I": 6}
_EX_MODES = (1, 0, 2, 3, 4, 5, 6, 7)  # ours (# $ @ < > * { }) -> exhaust


def load_pairs(count: int, settings: MarsSettings = SETTINGS) -> list[tuple]:
    """The first ``count`` standard golden pairs that fit ``settings``'s hill, each
    assembled for it: (warrior 1, warrior 2, fixed position)."""
    asm = AssemblerSettings(
        core_size=settings.core_size, max_cycles=settings.max_cycles,
        max_processes=settings.max_processes, max_length=settings.max_length,
        min_distance=settings.min_distance,
    )  # fmt: skip
    pairs = []
    with open(GOLDEN / "battles_public.jsonl") as f:
        for line in f:
            rec = json.loads(line)
            if rec["kind"] != "standard":
                continue
            try:
                ws = tuple(_warrior(rec[k], asm) for k in ("w1", "w2"))
            except ValueError:
                continue  # does not assemble or fit on this hill
            if max(len(w) for w in ws) > settings.max_length:
                continue
            span = settings.core_size - 2 * settings.min_distance
            position = settings.min_distance + rec["fixed_position"] % span
            pairs.append((*ws, position))
            if len(pairs) == count:
                break
    return pairs


def _warrior(path: str, asm: AssemblerSettings) -> Warrior:
    return assemble((WARRIORS / path).read_text(errors="replace"), asm)


def run_ours(pairs, rounds: int, settings: MarsSettings) -> list[BattleResult]:
    return [battle(w[:2], rounds, settings, fixed_position=w[2]) for w in pairs]


def run_batched(
    pairs, rounds: int, settings: MarsSettings, workers: int
) -> list[BattleResult]:
    jobs = [
        BattleJob(warriors=w[:2], rounds=rounds, settings=settings, fixed_position=w[2])
        for w in pairs
    ]
    return battle_many(jobs, workers=workers)


class Exhaust:
    """exhaust-ma's C simulator, driven round by round."""

    def __init__(self, settings: MarsSettings) -> None:
        import _exhaust_ma  # noqa: PLC0415 - optional, benchmark only

        self.ffi = _exhaust_ma.ffi
        self.lib = _exhaust_ma.lib
        self.settings = s = settings
        self.lib.sim_alloc_bufs2(
            2, s.core_size, s.max_processes, s.max_cycles, s.effective_pspace_size
        )
        self.pos_tab = self.ffi.new("field_t[]", 2)
        self.death_tab = self.ffi.new("unsigned int[]", 2)

    def close(self) -> None:
        self.lib.sim_free_bufs()

    def code(self, w: Warrior):
        arr = self.ffi.new("insn_t[]", len(w))
        for i, ins in enumerate(w.instructions):
            op = (_EX_OPS[ins.opcode.name] << 3) | _EX_MODS[ins.modifier.name]
            word = (op << 6) | (_EX_MODES[ins.b_mode] << 3) | _EX_MODES[ins.a_mode]
            setattr(arr[i], "in", word)
            arr[i].a = ins.a_number
            arr[i].b = ins.b_number
        return arr

    def replay(self, pairs, ours: list[BattleResult]) -> tuple[float, int]:
        """Play the rounds our engine played; (seconds, mismatching rounds)."""
        lib, m = self.lib, self.settings.core_size
        jobs = []
        for (w1, w2, _), res in zip(pairs, ours, strict=True):
            ws = (w1, w2)
            codes = [self.code(w) for w in ws]
            for r in range(res.rounds):
                jobs.append((ws, codes, res.positions[r], int(res.first[r]), res, r))
        outcomes = []
        start = time.perf_counter()
        for ws, codes, pos, first, _, _ in jobs:
            lib.sim_clear_core()
            for i in (0, 1):
                lib.sim_load_warrior(int(pos[i]), codes[i], len(ws[i]))
            order = (first, 1 - first)
            for slot, i in enumerate(order):
                self.pos_tab[slot] = (int(pos[i]) + ws[i].start) % m
            alive = lib.sim_mw(2, self.pos_tab, self.death_tab)
            outcomes.append((alive, order[self.death_tab[0]] if alive < 2 else -1))
        seconds = time.perf_counter() - start
        mismatches = 0
        for (alive, dead), (*_, res, r) in zip(outcomes, jobs, strict=True):
            survivors = (res.death_cycles[r] < 0).tolist()
            ours_dead = -1 if all(survivors) else survivors.index(False)
            mismatches += (alive, dead) != (sum(survivors), ours_dead)
        return seconds, mismatches


def timed(func, *args):
    start = time.perf_counter()
    out = func(*args)
    return time.perf_counter() - start, out


def bench_hill(core: int, args: argparse.Namespace) -> None:
    """Time every engine on one hill, rotating the order each repetition."""
    settings = HILLS[core]
    pairs = load_pairs(args.pairs, settings)
    for name in ("c", "numba"):  # compile / cache load outside the timings
        with mars.use_engine(name):
            run_ours(pairs[:1], 1, settings)
            run_batched(pairs[:2], 1, settings, args.workers)
    exhaust = Exhaust(settings)
    times: dict[str, list[float]] = {}
    reference = None
    mismatches = 0
    runs = ["c", "numba", "exhaust", "c many", "numba many"]
    for rep in range(args.repeat):
        shift = rep % len(runs)
        for run in runs[shift:] + runs[:shift]:
            if run == "exhaust":
                if reference is None:
                    with mars.use_engine("c"):
                        reference = run_ours(pairs, args.rounds, settings)
                seconds, bad = exhaust.replay(pairs, reference)
                mismatches = bad  # the same rounds every repetition
            else:
                name, _, many = run.partition(" ")
                with mars.use_engine(name):
                    if many:
                        seconds, results = timed(
                            run_batched, pairs, args.rounds, settings, args.workers
                        )
                    else:
                        seconds, results = timed(run_ours, pairs, args.rounds, settings)
                if reference is None:
                    reference = results
                assert results == reference, f"{run} differs from the other engines"
            times.setdefault(run, []).append(seconds)
    exhaust.close()
    steps = sum(r.steps for r in reference)
    print(f"\ncore {core}: {len(pairs)} pairs x {args.rounds} rounds, {steps:,} steps; "
          f"rounds differing from exhaust-ma: {mismatches}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"  {'engine':24s} {'median s':>9s} {'M steps/s':>10s}   "
          "x exhaust-ma 1 core: median [range]")  # fmt: skip
    own = {"c many": "c", "numba many": "numba"}
    for run in runs:
        label = {
            "c": "C, 1 core", "numba": "numba, 1 core", "exhaust": "exhaust-ma, 1 core",
            "c many": f"C, battle_many {args.workers} thr",
            "numba many": f"numba, battle_many {args.workers} thr",
        }[run]  # fmt: skip
        median = statistics.median(times[run])
        ratios = [ex / t for ex, t in zip(times["exhaust"], times[run], strict=True)]
        line = (f"  {label:24s} {median:9.3f} {steps / median / 1e6:10.1f}   "
                f"{statistics.median(ratios):.2f}x [{min(ratios):.2f}-"
                f"{max(ratios):.2f}]")  # fmt: skip
        if run in own:  # the speed-up over the same engine's single core
            mine = [a / t for a, t in zip(times[own[run]], times[run], strict=True)]
            line += (f"   x own 1 core: {statistics.median(mine):.2f}x "
                     f"[{min(mine):.2f}-{max(mine):.2f}]")  # fmt: skip
        print(line)


def bench_small(args: argparse.Namespace) -> None:
    """Many one-round battles on the core-800 hill (a Red Queen evaluation's shape):
    ``battle()`` per battle, ``battle_many(workers=1)`` (one C call for them all) and
    exhaust-ma, per battle, rotating the order each repetition."""
    settings = HILLS[800]
    pairs = load_pairs(args.pairs, settings)
    battles = [pairs[k % len(pairs)] for k in range(args.small)]
    jobs = [
        BattleJob(warriors=w[:2], rounds=1, settings=settings, fixed_position=w[2])
        for w in battles
    ]
    exhaust = Exhaust(settings)
    with mars.use_engine("c"):
        reference = [battle(w[:2], 1, settings, fixed_position=w[2]) for w in battles]
        battle_many(jobs[:2], workers=1)

        def each() -> None:
            for w in battles:
                battle(w[:2], 1, settings, fixed_position=w[2])

        runs = {
            "C, battle() each": each,
            "C, battle_many 1 thr": lambda: battle_many(jobs, workers=1),
            "exhaust-ma": lambda: exhaust.replay(battles, reference),
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        names = list(runs)
        for rep in range(args.repeat):
            shift = rep % len(names)
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter()
                runs[name]()
                times[name].append(time.perf_counter() - start)
    exhaust.close()
    steps = sum(r.steps for r in reference)
    print(f"\ncore 800, {len(battles)} one-round battles, {steps:,} steps "
          f"({steps / len(battles):,.0f} a battle)")  # fmt: skip
    print(f"  {'engine':24s} {'us/battle':>9s}   x exhaust-ma: median [range]")
    for name in names:
        ratios = [e / t for e, t in zip(times["exhaust-ma"], times[name], strict=True)]
        print(f"  {name:24s} {statistics.median(times[name]) / len(battles) * 1e6:9.1f}"
              f"   {statistics.median(ratios):.2f}x [{min(ratios):.2f}-"
              f"{max(ratios):.2f}]")  # fmt: skip


STARTUP = """
import time
start = time.perf_counter()
from selfplay_envs.games.core_war import mars
from selfplay_envs.games.core_war.assembler import assemble
imp = assemble("mov 0, 1")
dwarf = assemble("add #4, 3\\nmov 2, @2\\njmp -2\\ndat #0, #0")
mars.battle([imp, dwarf], 1, seed=1)
print(mars.engine(), time.perf_counter() - start)
"""


def startup() -> None:
    """A fresh process's first battle, imports included (wall, from the parent)."""
    print("\nstart-up: a fresh process, imports + first battle (wall s)")
    with tempfile.TemporaryDirectory() as cache:
        cases = (
            ("C engine", {mars.ENGINE_VARIABLE: "c"}),
            ("numba, empty cache", {mars.ENGINE_VARIABLE: "numba",
                                    "NUMBA_CACHE_DIR": cache}),
            ("numba, that cache warm", {mars.ENGINE_VARIABLE: "numba",
                                        "NUMBA_CACHE_DIR": cache}),
        )  # fmt: skip
        for label, extra in cases:
            env = {**os.environ, **extra}
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", STARTUP], cwd=ROOT, env=env, check=True,
                capture_output=True, text=True,
            )  # fmt: skip
            wall = time.perf_counter() - start
            engine, inside = done.stdout.split()
            print(f"  {label:24s} {wall:6.2f} s (engine {engine}; "
                  f"{float(inside):.2f} s after the interpreter started)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--cores", type=int, nargs="+", default=sorted(HILLS), choices=sorted(HILLS)
    )
    parser.add_argument("--startup", action="store_true", help="also time start-up")
    parser.add_argument(
        "--small", type=int, default=500,
        help="one-round core-800 battles for the many-small-battles run (0: skip)",
    )  # fmt: skip
    args = parser.parse_args()
    if not GOLDEN.exists():
        sys.exit(f"{GOLDEN} not found: the benchmark warriors come from it")
    if args.startup:
        startup()
    for core in args.cores:
        bench_hill(core, args)
    if args.small:
        bench_small(args)


if __name__ == "__main__":
    main()
