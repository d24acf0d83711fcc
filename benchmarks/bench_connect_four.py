"""Env steps per second: our Connect Four against PettingZoo's ``connect_four_v3``.

The method of ``bench_env_speed.py``, whose helpers this script reuses: every runner
plays uniformly random legal moves until it has applied ``--steps`` moves (finishing
the episode it is in), resetting between episodes, in one process on one core. A step
is one applied move, and its time is everything a training loop pays per move
(observing, choosing from the legal moves the env reports, stepping, PettingZoo's dead
steps, resets). Speeds and ratios use the process's CPU time; wall-clock time is
recorded beside it. Each runner is timed ``--repeats`` times, interleaved, and the best
is kept.

Runners: our AEC env in both views, our ``BatchedEnv`` on the generic path
(``fast=False``) and on the vector path (``ConnectFourVectorRules``) at several batch
sizes in both views (batched text runners reply ``[column]``), PettingZoo classic
``connect_four_v3`` (its ``pygame`` import needs the ``bench`` extra), and OpenSpiel's
``connect_four`` (bare rules, and with the mover's observation tensor). A peer that
cannot be imported is reported unavailable, with the reason.

The targets (ours over PettingZoo: the AEC env in the numeric view >= 3x, the numeric
``BatchedEnv`` >= 20x) are then measured again in back-to-back pairs, ``--rounds``
rounds alternating which runs first (``bench_env_speed.paired_ratios``), and the
median of the per-round ratios decides whether a target is met.

Usage::

    python benchmarks/bench_connect_four.py --steps 20000 --out bench_connect_four.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_env_speed as speed  # noqa: E402 - the shared runners and tables

from selfplay_envs.wrappers.batched import BatchedEnv  # noqa: E402

Runner = speed.Runner
C4 = "connect_four_v0"
GAME = "connect four"
PZ = "pettingzoo classic connect_four_v3"


def _ours_batched(view: str, num_envs: int, fast: bool = True) -> Runner:
    """``BatchedEnv`` of Connect Four: uniformly random legal columns each step."""

    def run(steps: int, seed: int) -> int:
        rng = np.random.default_rng(seed)
        env = BatchedEnv(C4, num_envs, view=view, fast=fast)
        if env.fast != fast:
            raise RuntimeError(f"expected fast={fast} for {C4}, got {env.fast}")
        observations, _ = env.reset(seed=seed)
        moves = 0
        while moves < steps:
            if view == "numeric":
                mask = observations["action_mask"]
                actions = (rng.random(mask.shape) * mask).argmax(axis=1)
            else:
                mask = env.action_masks()
                picks = (rng.random(mask.shape) * mask).argmax(axis=1).tolist()
                actions = [f"[{column}]" for column in picks]
            observations = env.step(actions).observations
            moves += num_envs
        return moves

    return run


def _pettingzoo_connect_four() -> Runner:
    from pettingzoo.classic import connect_four_v3

    def run(steps: int, seed: int) -> int:
        rng = np.random.default_rng(seed)
        env = connect_four_v3.env()
        env.reset(seed=seed)
        moves = 0
        while moves < steps:
            for _ in env.agent_iter():
                observation, _, termination, truncation, _ = env.last()
                if termination or truncation:
                    env.step(None)
                    continue
                legal = np.flatnonzero(observation["action_mask"])
                env.step(int(legal[rng.integers(len(legal))]))
                moves += 1
            env.reset()
        return moves

    return run


def runners(
    num_envs: int, fast_sizes: list[int], fast_moves: int, text_sizes: list[int]
) -> list[tuple[str, Callable[[], Runner]]]:
    """(name, factory); a factory that raises marks the runner unavailable."""
    text_moves = fast_moves // 10
    fast = [
        (
            f"ours batched numeric fast (N={n})",
            lambda n=n: speed._at_least(fast_moves, _ours_batched("numeric", n)),
        )
        for n in fast_sizes
    ]
    text = [
        (
            f"ours batched text fast (N={n})",
            lambda n=n: speed._at_least(text_moves, _ours_batched("text", n)),
        )
        for n in text_sizes
    ]
    return [
        ("ours aec numeric", lambda: speed._ours_aec(C4, "numeric")),
        ("ours aec text", lambda: speed._ours_aec(C4, "text")),
        (
            f"ours batched numeric generic (N={num_envs})",
            lambda: _ours_batched("numeric", num_envs, fast=False),
        ),
        *fast,
        (
            f"ours batched text generic (N={num_envs})",
            lambda: _ours_batched("text", num_envs, fast=False),
        ),
        *text,
        (PZ, _pettingzoo_connect_four),
        ("pyspiel rules", lambda: speed._pyspiel("connect_four", False)),
        ("pyspiel + observation", lambda: speed._pyspiel("connect_four", True)),
    ]


def measure(
    steps: int,
    repeats: int,
    num_envs: int,
    seed: int,
    fast_sizes: tuple[int, ...] = (64, 256, 1024),
    fast_moves: int = 1_000_000,
    text_sizes: tuple[int, ...] = (64, 256),
) -> tuple[list[speed.Result], list[Runner | None]]:
    """Time every runner ``repeats`` times, interleaved; keep each one's best.

    Returns the results and, aligned with them, the runners (None if unavailable).
    """
    prepared: list[tuple[str, Runner | None, str]] = []
    for name, factory in runners(
        num_envs, list(fast_sizes), fast_moves, list(text_sizes)
    ):
        try:
            prepared.append((name, factory(), ""))
        except Exception as e:  # noqa: BLE001 - any import failure makes a peer unavailable
            prepared.append((name, None, f"{type(e).__name__}: {e}"))
    best: dict[int, tuple[int, float, float]] = {}
    for _ in range(repeats):
        for i, (_, runner, _) in enumerate(prepared):
            if runner is None:
                continue
            cpu, wall = time.process_time(), time.perf_counter()
            moves = runner(steps, seed)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if i not in best or moves / cpu > best[i][0] / best[i][1]:
                best[i] = (moves, cpu, wall)
    results = []
    for i, (name, runner, reason) in enumerate(prepared):
        if runner is None:
            results.append(
                speed.Result(
                    name=name,
                    game=GAME,
                    moves=0,
                    seconds=0.0,
                    wall_seconds=0.0,
                    available=False,
                    reason=reason,
                )
            )
        else:
            moves, cpu, wall = best[i]
            results.append(
                speed.Result(
                    name=name, game=GAME, moves=moves, seconds=cpu, wall_seconds=wall
                )
            )
    return results, [runner for _, runner, _ in prepared]


def ratios(results: list[speed.Result]) -> list[dict[str, Any]]:
    """Our speed over a peer's: the targets, then ratios reported for reference."""
    pairs: list[tuple[str, str, float | None]] = [
        ("ours aec numeric", PZ, 3.0),
        *[
            (r.name, PZ, 20.0)
            for r in results
            if r.name.startswith("ours batched numeric fast")
        ],
        ("ours aec text", PZ, None),
        ("ours batched numeric generic", PZ, None),
        ("ours aec numeric", "pyspiel + observation", None),
    ]
    by_name = {r.name: r for r in results}

    def find(prefix: str) -> speed.Result | None:
        if prefix in by_name:
            return by_name[prefix]
        return next((r for r in results if r.name.startswith(prefix)), None)

    rows = []
    for ours_name, peer_name, target in pairs:
        ours, peer = find(ours_name), find(peer_name)
        if ours is None or peer is None or not (ours.available and peer.available):
            ratio = None
        else:
            ratio = ours.steps_per_second / peer.steps_per_second
        rows.append(
            {
                "game": GAME,
                "ours": ours.name if ours else ours_name,
                "peer": peer_name,
                "ratio": ratio,
                "target": target,
                "met": None if ratio is None or target is None else ratio >= target,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the tables, and write JSON to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="moves per runner")
    parser.add_argument("--repeats", type=int, default=3, help="timings per runner")
    parser.add_argument(
        "--num-envs", type=int, default=64, help="games in the generic-path batches"
    )
    parser.add_argument(
        "--fast-num-envs",
        default="64,256,1024",
        help="comma-separated batch sizes of the numeric vector path",
    )
    parser.add_argument(
        "--text-num-envs",
        default="64,256",
        help="comma-separated batch sizes of the text vector path",
    )
    parser.add_argument(
        "--fast-steps",
        type=int,
        default=1_000_000,
        help="moves per vector-path runner (at least --steps; text: a tenth)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=9,
        help="back-to-back rounds per targeted ratio (0: skip the paired pass)",
    )
    parser.add_argument(
        "--paired-steps", type=int, default=5_000, help="moves per runner per round"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    results, runner_list = measure(
        args.steps,
        args.repeats,
        args.num_envs,
        args.seed,
        tuple(int(n) for n in args.fast_num_envs.split(",")),
        args.fast_steps,
        tuple(int(n) for n in args.text_num_envs.split(",")),
    )
    rows = ratios(results)
    if args.rounds:
        speed.paired_ratios(
            results, runner_list, rows, args.rounds, args.paired_steps, args.seed
        )
    table = speed.to_markdown(results, rows)
    sys.stdout.write(table + "\n")
    if args.out:
        payload = {
            "config": vars(args),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "results": [
                {
                    **dataclasses.asdict(r),
                    "steps_per_second": r.steps_per_second,
                    "wall_steps_per_second": r.wall_steps_per_second,
                }
                for r in results
            ],
            "ratios": rows,
            "markdown": table,
        }
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
