"""Wall time of ``import selfplay_envs`` in fresh interpreters, beside its peers.

Each round starts one fresh ``python -c`` per case, in an order rotated every round so
no case always runs first or last, after one untimed warm-up round (byte-code caches).
Cases:

* ``python -c pass``: the interpreter's own start, the floor;
* ``import pettingzoo``: the peer, what a plain import used to pay for;
* ``import selfplay_envs``: the target is a median of at most 0.5 s (issue 21);
* ``import selfplay_envs; selfplay_envs.list_envs()``: must not pay for PettingZoo.

Reported per case: median, min and max seconds; then the ratios of the medians.
Timings vary with the machine's load: compare figures from one run only.

Usage::

    python benchmarks/bench_import.py --rounds 10 --out bench_import.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CASES: dict[str, str] = {
    "python -c pass": "pass",
    "import pettingzoo": "import pettingzoo",
    "import selfplay_envs": "import selfplay_envs",
    "import selfplay_envs; list_envs()": (
        "import selfplay_envs; selfplay_envs.list_envs()"
    ),
}
TARGET_SECONDS = 0.5  # median wall time of ``import selfplay_envs``
# (numerator, denominator) of the medians reported as ratios
RATIOS: list[tuple[str, str]] = [
    ("import selfplay_envs", "python -c pass"),
    ("import selfplay_envs", "import pettingzoo"),
    ("import selfplay_envs; list_envs()", "python -c pass"),
    ("import pettingzoo", "python -c pass"),
]


def run_once(code: str) -> float:
    """Seconds of wall time for one fresh interpreter to run ``code``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def measure(rounds: int) -> dict[str, list[float]]:
    """``rounds`` timings per case, alternating the cases round by round."""
    names = list(CASES)
    for name in names:  # warm-up: byte-code caches, the OS's file cache
        run_once(CASES[name])
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(run_once(CASES[name]))
    return times


def summarize(times: dict[str, list[float]]) -> dict:
    """Median and range per case, the ratios of the medians, and the target check."""
    cases = {
        name: {
            "median_s": statistics.median(values),
            "min_s": min(values),
            "max_s": max(values),
            "rounds": len(values),
        }
        for name, values in times.items()
    }
    ratios = [
        {
            "case": num,
            "over": den,
            "ratio": cases[num]["median_s"] / cases[den]["median_s"],
        }
        for num, den in RATIOS
    ]
    median = cases["import selfplay_envs"]["median_s"]
    return {
        "python": sys.version.split()[0],
        "cases": cases,
        "ratios": ratios,
        "target_s": TARGET_SECONDS,
        "target_met": median <= TARGET_SECONDS,
    }


def to_text(summary: dict) -> str:
    lines = [f"{'case':<36} {'median s':>9} {'min s':>7} {'max s':>7}"]
    for name, row in summary["cases"].items():
        lines.append(
            f"{name:<36} {row['median_s']:>9.3f} {row['min_s']:>7.3f}"
            f" {row['max_s']:>7.3f}"
        )
    lines.append("")
    for row in summary["ratios"]:
        lines.append(f"{row['case']} / {row['over']}: {row['ratio']:.2f}x")
    verdict = "met" if summary["target_met"] else "MISSED"
    lines.append(f"target: import selfplay_envs <= {summary['target_s']} s: {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table; write JSON to ``--out`` when given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed runs per case")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"expected --rounds >= 1, got {args.rounds}")
    summary = summarize(measure(args.rounds))
    print(to_text(summary))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
