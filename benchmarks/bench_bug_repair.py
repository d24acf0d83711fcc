"""Benchmark: sandbox overhead per command and test run, and scripted episodes per minute.

Part 1 runs the same commands ``--runs`` times in each backend, side by side:

* ``bare``: ``subprocess.run`` in the working copy, no limits, no isolation;
* ``unsafe``: the unsafe fallback (rlimits through a tiny launcher, no isolation);
* ``bwrap``: the embedded sandbox (a fresh bubblewrap namespace per command);
* ``docker``: one container per episode, one ``docker exec`` per command (container
  start-up, and the one-off image build, are timed separately).

The commands are ``true`` (pure launch cost), ``python -c pass``, the full pytest
suite of a shipped repository with a JUnit report (what the env ran for every check
before its verdicts were signed), and the same suite through the verdict runner (what
the env runs now: isolated interpreter, signed records, integrity checks after every
test), whose row gives its ratio to the JUnit run in the same backend.
Runs are interleaved (bare, unsafe, bwrap, docker, bare, ...) so that load changes on
a shared machine hit every backend alike; overhead is the backend's median minus the
bare median, and the minimum is shown too.

Part 2 plays ``--episodes`` whole episodes with the scripted players (mutation injector
vs patch-search solver, ``solver_attempts=1``) per isolating backend and reports
episodes per minute, the share of valid artifacts and the solve rate.

Prints a table and writes JSON (``--out``).

    python benchmarks/bench_bug_repair.py --runs 20 --episodes 6 --out bench_bug_repair.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import selfplay_envs
from selfplay_agents.opponents.bug_repair import ScriptedPlayer
from selfplay_agents.policy import Turn
from selfplay_envs.games.bug_repair.repos import load_repo, shipped_repos
from selfplay_envs.games.bug_repair.sandbox import (
    BwrapSandbox,
    SandboxLimits,
    UnsafeSubprocessSandbox,
    bwrap_available,
    docker_available,
)
from selfplay_envs.games.bug_repair.sandbox.base import base_environment
from selfplay_envs.games.bug_repair.verdict import run_verdict
from selfplay_envs.games.bug_repair.workspace import Workspace

LIMITS = SandboxLimits(timeout=120)


def _bare(workdir: Path) -> Callable[[str], int]:
    env = base_environment({"HOME": str(workdir), "TMPDIR": str(workdir)})

    def run(command: str) -> int:
        return subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=workdir,
            env=env,
            capture_output=True,
            check=False,
        ).returncode

    return run


def _timed(
    backends: dict[str, Callable[[str], Any]], command: str, runs: int
) -> dict[str, list[float]]:
    """Seconds per run of ``command`` in each backend, interleaved run by run so that
    a change in the machine's load hits every backend alike."""
    times: dict[str, list[float]] = {name: [] for name in backends}
    for run in backends.values():
        run(command)  # warm caches
    for _ in range(runs):
        for name, run in backends.items():
            start = time.perf_counter()
            run(command)
            times[name].append(time.perf_counter() - start)
    return times


def overhead(runs: int, repo_name: str) -> dict[str, Any]:
    """Median and p90 milliseconds per command, per backend."""
    repo = load_repo(shipped_repos([repo_name])[0])
    tests = " ".join(repo.test_files)
    files = tuple(repo.test_files)
    commands = {
        "true": "true",
        "python -c pass": "python -c pass",
        f"pytest {repo_name} ({len(repo.test_files)} files)": (
            f"python -m pytest -q -p no:cacheprovider --junitxml=.j.xml {tests}"
        ),
    }
    workspace = Workspace()
    workspace.load(repo.files)
    backends: dict[str, Any] = {"bare": _bare(workspace.path)}
    setup: dict[str, float] = {}
    closers = []
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        unsafe = UnsafeSubprocessSandbox(workspace.path, LIMITS)
    backends["unsafe"] = lambda c: unsafe.run(c)
    closers.append(unsafe.close)
    sandboxes: dict[str, Any] = {"unsafe": unsafe}
    if bwrap_available()[0]:
        box = BwrapSandbox(workspace.path, LIMITS)
        backends["bwrap"] = lambda c: box.run(c)
        sandboxes["bwrap"] = box
        closers.append(box.close)
    if docker_available()[0]:
        from selfplay_envs.games.bug_repair.sandbox.docker import (
            DockerSandbox,
            ensure_image,
        )

        start = time.perf_counter()
        ensure_image()
        setup["docker image (build or cache hit)"] = time.perf_counter() - start
        docker_box = DockerSandbox(workspace.path, LIMITS)
        start = time.perf_counter()
        docker_box.run("true")
        setup["docker container start + first exec"] = time.perf_counter() - start
        backends["docker"] = lambda c: docker_box.run(c)
        sandboxes["docker"] = docker_box
        closers.append(docker_box.close)
    verdicts = {
        name: (lambda _c, box=box: run_verdict(box, repo.files, files, [], 120))
        for name, box in sandboxes.items()
    }
    results: dict[str, dict[str, Any]] = {}
    try:
        timed = {label: (backends, command) for label, command in commands.items()}
        timed[f"verdict {repo_name}"] = (verdicts, "")
        for label, (runners, command) in timed.items():
            results[label] = {
                backend: {
                    "min_ms": 1000 * min(times),
                    "median_ms": 1000 * statistics.median(times),
                    "p90_ms": 1000 * sorted(times)[int(0.9 * (len(times) - 1))],
                }
                for backend, times in _timed(runners, command, runs).items()
            }
    finally:
        for close in closers:
            close()
        workspace.cleanup()
    return {"commands": results, "setup_s": setup}


def episodes(backend: str, count: int, repos: list[str]) -> dict[str, Any]:
    """Scripted injector vs scripted solver, ``count`` episodes, one per seed."""
    valid = solved = 0
    start = time.perf_counter()
    for seed in range(count):
        env = selfplay_envs.make(
            "bug_repair_v0", repos=repos, sandbox=backend, solver_attempts=1
        )
        env.reset(seed=seed)
        players = {
            a: ScriptedPlayer(seed=seed * 2 + i)
            for i, a in enumerate(env.possible_agents)
        }
        final: dict[str, Any] = {}
        for agent in env.agent_iter(max_iter=500):
            observation, _, termination, truncation, info = env.last()
            if termination or truncation:
                final = info
                env.step(None)
                continue
            turn = Turn(
                env_id="bug_repair_v0", agent=agent, observation=observation, info=info
            )
            env.step(players[agent].act([turn])[0])
        valid += bool(final.get("valid_artifact"))
        solved += sum(r["solved"] for r in final.get("attempt_results", []))
    minutes = (time.perf_counter() - start) / 60
    return {
        "episodes": count,
        "episodes_per_min": count / minutes,
        "valid_artifacts": valid / count,
        "solve_rate": solved / max(valid, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=20, help="timed runs per command and backend"
    )
    parser.add_argument(
        "--episodes", type=int, default=6, help="scripted episodes per backend"
    )
    parser.add_argument(
        "--repo", default="intervals", help="repository for the overhead runs"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="write the results as JSON here"
    )
    args = parser.parse_args()

    repos = [spec.name for spec in shipped_repos()]
    report: dict[str, Any] = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "overhead": overhead(args.runs, args.repo),
        "episodes": {},
    }
    for backend, (ok, reason) in (
        ("local", bwrap_available()),
        ("docker", docker_available()),
    ):
        if ok:
            report["episodes"][backend] = episodes(backend, args.episodes, repos)
        else:
            report["episodes"][backend] = {"skipped": reason}

    print(
        f"# bug_repair_v0 sandbox benchmark ({args.runs} runs per cell; load {os.getloadavg()[0]:.1f})"
    )
    commands = report["overhead"]["commands"]
    junit = next(
        cells for label, cells in commands.items() if label.startswith("pytest")
    )
    for label, cells in commands.items():
        if "bare" in cells:
            bare = cells["bare"]["median_ms"]
            row = "  ".join(
                f"{name} {cell['median_ms']:7.1f} ({cell['median_ms'] - bare:+6.1f})"
                for name, cell in cells.items()
            )
            print(f"{label:30s} median ms (overhead): {row}")
        else:
            row = "  ".join(
                f"{name} {cell['median_ms']:7.1f} "
                f"(x{cell['median_ms'] / junit[name]['median_ms']:.2f})"
                for name, cell in cells.items()
            )
            print(f"{label:30s} median ms (x JUnit):  {row}")
        row = "  ".join(f"{name} {cell['min_ms']:7.1f}" for name, cell in cells.items())
        print(f"{'':30s} min ms:                {row}")
    for name, seconds in report["overhead"]["setup_s"].items():
        print(f"{name:32s} {seconds:.2f} s")
    for backend, result in report["episodes"].items():
        if "skipped" in result:
            print(f"episodes [{backend}]: skipped ({result['skipped']})")
            continue
        print(
            f"episodes [{backend}]: {result['episodes_per_min']:.2f}/min over {result['episodes']} "
            f"(valid artifacts {result['valid_artifacts']:.0%}, solve rate {result['solve_rate']:.0%})"
        )
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
