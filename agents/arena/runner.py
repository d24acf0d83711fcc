"""Playing matches: jobs, paired seeds, parallel workers, an append-only results file.

A *pairing* is two agents on one game. Each pairing plays ``games`` seeds in both seat
orders, so both agents see the same deals and positions from each side. Each finished
game is one JSON line in ``results.jsonl``, written with a single ``write`` and an
``fsync``: a killed run loses at most the games in flight, and a re-run skips every
game whose key is already in the file. A line that does not parse is reported by file
and line number (``CorruptRecordWarning``) and skipped: every other record is kept, and
only the games without a record are played again.

``run.json`` holds the settings of the run in its folder (``run_settings``):
``prepare_run_dir`` refuses to resume a folder whose run had other games, agents,
configs or seed (``RunMismatch``), so two runs are never mixed in one report.

A game whose play raises ``InfrastructureError`` (a sandbox that cannot start, a MARS
kernel that does not compile, a retriever that is down) is no result: its record has
``"status": "error"`` and the ``"error"`` message, counts in no score, rating or metric,
and is played again on resume. Any other exception is a bug and propagates.
"""

from __future__ import annotations

import concurrent.futures as futures
import dataclasses
import itertools
import json
import os
import signal
import statistics
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import selfplay_envs
from selfplay_agents.arena.specs import build_policy
from selfplay_agents.policy import Turn
from selfplay_envs.core.errors import InfrastructureError

__all__ = [
    "CorruptRecordWarning",
    "RunMismatch",
    "RUN_FILE",
    "RESULTS_FILE",
    "run_settings",
    "prepare_run_dir",
    "Job",
    "make_jobs",
    "play_game",
    "run_jobs",
    "read_results",
    "latest_records",
    "is_errored",
    "finished",
    "interleave",
    "agents_to_prepare",
    "prepare_agents",
    "Eta",
]


RUN_FILE = "run.json"
RESULTS_FILE = "results.jsonl"
# What a run writes besides results.jsonl and run.json (``report.write_report``).
OUTPUT_FILES = (
    "summary.json",
    "summary.csv",
    "ratings.png",
    "winrate_matrix.png",
    "report.md",
)


class CorruptRecordWarning(UserWarning):
    """A line of ``results.jsonl`` that is no record; it is skipped, never fatal."""


class RunMismatch(ValueError):
    """A run folder holds a run with other settings than the one asked for."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Job:
    """One game to play: agent ``a`` takes side 0 when ``order == 0``, else side 1."""

    env_id: str
    a: str
    b: str
    order: int
    index: int
    seed: int
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    # Keep the whole episode (its moves, seed and config) in the record, so that
    # ``selfplay replay`` can play it again; no part of the game's key.
    record: bool = False

    @property
    def key(self) -> str:
        """Unique id of the game in a run; resume skips keys already recorded."""
        return f"{self.env_id}|{self.a}|{self.b}|{self.order}|{self.index}"


def make_jobs(
    env_id: str,
    agents: Sequence[str],
    games: int,
    *,
    base_seed: int = 0,
    config: dict[str, Any] | None = None,
    record: int = 0,
) -> list[Job]:
    """Every unordered pair of distinct agents, ``games`` paired seeds, both orders.

    The first ``record`` seeds of each pairing (both seat orders) keep their episode
    in the record (``"episode"``: env id, seed, config, moves), for ``selfplay replay``.
    """
    jobs = []
    for i, a in enumerate(agents):
        for b in agents[i + 1 :]:
            for index in range(games):
                for order in (0, 1):
                    jobs.append(
                        Job(
                            env_id=env_id,
                            a=a,
                            b=b,
                            order=order,
                            index=index,
                            seed=base_seed + index,
                            config=dict(config or {}),
                            record=index < record,
                        )
                    )
    return jobs


def _sides(env: Any) -> list[list[str]]:
    """Split the seats into two sides: by seat for two players, by role otherwise."""
    if len(env.possible_agents) == 2:
        return [[env.possible_agents[0]], [env.possible_agents[1]]]
    roles: dict[str, list[str]] = {}
    for agent in env.possible_agents:
        roles.setdefault(env.infos[agent]["role"], []).append(agent)
    groups = sorted(roles.values(), key=len)  # the smaller group (the spy) is side 0
    if len(groups) != 2:
        raise ValueError(f"expected two roles to split into sides, got {sorted(roles)}")
    return groups


def is_errored(record: dict[str, Any]) -> bool:
    """Whether ``record`` is an errored game (no result) rather than a finished one."""
    return record.get("status") == "error"


def finished(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records that are results: every one but the errored games."""
    return [r for r in records if not is_errored(r)]


def play_game(job: Job) -> dict[str, Any]:
    """Play one game and return its JSON record.

    An ``InfrastructureError`` while building or playing the game gives an errored
    record (``"status": "error"`` and the message) instead of a result.
    """
    try:
        return _play(job)
    except InfrastructureError as e:
        return {
            **_job_fields(job),
            "status": "error",
            "error": f"{type(e).__name__}: {e}",
        }


def _job_fields(job: Job) -> dict[str, Any]:
    """What every record of ``job`` starts with, finished or errored."""
    return {
        "key": job.key,
        "env_id": job.env_id,
        "a": job.a,
        "b": job.b,
        "order": job.order,
        "index": job.index,
        "seed": job.seed,
    }


def _play(job: Job) -> dict[str, Any]:
    env = selfplay_envs.make(job.env_id, **job.config)
    env.reset(seed=job.seed)
    sides = _sides(env)
    side_of_a = job.order
    owner = {
        agent: (job.a if s == side_of_a else job.b)
        for s, group in enumerate(sides)
        for agent in group
    }
    policies = {
        spec: build_policy(spec, job.env_id, seed=job.seed * 2 + k, config=job.config)
        for k, spec in enumerate((job.a, job.b))
    }
    actions: list[Any] = []
    for agent in env.agent_iter():
        observation, _, termination, truncation, info = env.last()
        if termination or truncation:
            env.step(None)
            continue
        turn = Turn(env_id=job.env_id, agent=agent, observation=observation, info=info)
        action = policies[owner[agent]].act([turn])[0]
        actions.append(action.tolist() if hasattr(action, "tolist") else action)
        env.step(action)
    # PettingZoo drops each agent's infos as it leaves; read the final ones from the
    # episode itself.
    final = {a: env.episode.info(p) for p, a in enumerate(env.possible_agents)}
    returns = env.episode.returns()
    names = env.possible_agents
    side_return = [sum(returns[names.index(a)] for a in group) for group in sides]
    ret_a, ret_b = side_return[side_of_a], side_return[1 - side_of_a]
    score_a = 1.0 if ret_a > ret_b else 0.5 if ret_a == ret_b else 0.0
    records = env.episode.records
    return {
        **_job_fields(job),
        "status": "ok",
        "return_a": ret_a,
        "return_b": ret_b,
        "score_a": score_a,
        "moves": env.episode.move_index,
        "invalid_a": sum(1 for r in records if not r.valid and owner[r.agent] == job.a),
        "invalid_b": sum(1 for r in records if not r.valid and owner[r.agent] == job.b),
        "truncated": env.episode.truncated and not env.episode.terminal,
        "metrics": _metrics(final, owner, job),
        **({"episode": _episode(job, actions, owner)} if job.record else {}),
    }


def _episode(job: Job, actions: list[Any], owner: dict[str, str]) -> dict[str, Any]:
    """What ``selfplay replay`` needs to play the game again, move by move."""
    return {
        "env_id": job.env_id,
        "seed": job.seed,
        "config": dict(job.config),
        "actions": actions,
        "agents": dict(owner),
    }


def _metrics(
    final: dict[str, dict[str, Any]], owner: dict[str, str], job: Job
) -> dict[str, Any]:
    """Numeric game metrics a game reports in ``info["metrics"]``, per agent spec."""
    out: dict[str, dict[str, float]] = {}
    for agent, info in final.items():
        for name, value in (info.get("metrics") or {}).items():
            if isinstance(value, (int, float)):
                side = "a" if owner[agent] == job.a else "b"
                out.setdefault(side, {})[name] = float(value)
    return out


def _warn(message: str) -> None:
    warnings.warn(message, CorruptRecordWarning, stacklevel=3)


def read_results(
    path: Path, *, on_corrupt: Callable[[str], None] | None = None
) -> list[dict[str, Any]]:
    """Every record in ``path``, in file order.

    A torn last line (a kill in the middle of a write: no newline, no JSON) is cut off
    the file. Any other line that is not a JSON record with a ``"key"`` is skipped and
    reported, naming the file and the line number, to ``on_corrupt`` (by default a
    ``CorruptRecordWarning``); it is left in the file, and every record after it is
    kept, so a resume plays only the games that have no record.
    """
    if not path.exists():
        return []
    report = _warn if on_corrupt is None else on_corrupt
    records: list[dict[str, Any]] = []
    size = offset = 0
    tail = b""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            size += len(line)
            if not line.endswith(b"\n"):
                tail = line  # only the last line can lack its newline
                break
            offset = size
            if not line.strip():
                continue
            record, why = _parse_record(line)
            if record is None:
                report(
                    f"{path}:{number}: skipped a corrupt record ({why}); the other "
                    "records are kept and its game, if any, is played again"
                )
            else:
                records.append(record)
    if tail:
        record, _ = _parse_record(tail)
        with path.open("r+b") as handle:
            if record is None:  # torn by a kill: drop it, the game is played again
                handle.truncate(offset)
            else:  # complete but for its newline: end it, so appends start anew
                handle.seek(0, os.SEEK_END)
                handle.write(b"\n")
                records.append(record)
    return records


def _parse_record(line: bytes) -> tuple[dict[str, Any] | None, str]:
    """The record on ``line``, or ``None`` and why it is not one."""
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return None, f"not JSON: {e}"
    if not isinstance(record, dict) or not isinstance(record.get("key"), str):
        return None, "not a game record: no string 'key'"
    return record, ""


def latest_records(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The last record of each key: a game re-played after an error replaces it."""
    return {r["key"]: r for r in records}


def _append(path: Path, record: dict[str, Any]) -> None:
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one write of one line: other lines are never torn
        os.fsync(fd)
    finally:
        os.close(fd)


def interleave(jobs: Sequence[Job]) -> list[Job]:
    """``jobs`` taken round-robin across games: every game's games start early, so
    per-game durations (and the ETA built on them) are known from the start."""
    by_game: dict[str, list[Job]] = {}
    for job in jobs:
        by_game.setdefault(job.env_id, []).append(job)
    rounds = itertools.zip_longest(*by_game.values())
    return [job for batch in rounds for job in batch if job is not None]


def run_jobs(
    jobs: Iterable[Job],
    results_path: Path,
    *,
    workers: int | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    on_corrupt: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Play every job without a result in ``results_path``; return the run's records.

    The returned list holds the latest record of each job's key, errored games
    included (``is_errored``), ordered by key (records in the file for other keys are
    left out); errored games are played again. ``on_corrupt`` gets each corrupt line's
    report (``read_results``). Each record written gets ``"seconds"``, the game's
    play time. Games are started round-robin across games (``interleave``).

    A ``KeyboardInterrupt`` (Ctrl-C) stops the workers at once and propagates; every
    game finished before it is in ``results_path``, and a re-run resumes from there.
    """
    jobs = list(jobs)
    done = latest_records(read_results(results_path, on_corrupt=on_corrupt))
    todo = [job for job in jobs if job.key not in done or is_errored(done[job.key])]
    todo = interleave(todo)
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(todo) <= 1:
        for job in todo:
            _finish(timed_play(job), results_path, done, on_result)
    else:
        _run_pool(todo, workers, results_path, done, on_result)
    keys = sorted({job.key for job in jobs})
    return [done[key] for key in keys if key in done]


def timed_play(job: Job) -> dict[str, Any]:
    """``play_game`` with the seconds it took in the record."""
    start = time.perf_counter()
    record = play_game(job)
    return {**record, "seconds": round(time.perf_counter() - start, 4)}


def _ignore_sigint() -> None:
    # Ctrl-C goes to the whole process group: the parent alone handles it, so the
    # workers print no traceback of their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_pool(todo, workers, results_path, done, on_result) -> None:
    pool = futures.ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint)
    try:
        pending = {pool.submit(timed_play, job) for job in todo}
        for future in futures.as_completed(pending):
            _finish(future.result(), results_path, done, on_result)
    except BaseException:
        # Ctrl-C (or a bug): do not wait for the games in flight, which can take
        # minutes (a sandboxed test suite); they are played again on resume.
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _stop_pool(pool: futures.ProcessPoolExecutor) -> None:
    """Stop ``pool`` without waiting for the work in flight."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def _finish(record, path, done, on_result) -> None:
    _append(path, record)
    done[record["key"]] = record
    if on_result is not None:
        on_result(record)


def _prepare_one(env_id: str, name: str, config: dict[str, Any]) -> tuple[float, str]:
    """Build ``name`` once; the seconds it took and the error, if any (``""``)."""
    start = time.perf_counter()
    try:
        build_policy(name, env_id, seed=0, config=config)
    except Exception as e:  # the game reports it (as a bug or an errored game)
        return time.perf_counter() - start, f"{type(e).__name__}: {e}"
    return time.perf_counter() - start, ""


def agents_to_prepare(jobs: Iterable[Job]) -> list[tuple[str, str, dict[str, Any]]]:
    """The named opponents of ``jobs`` (not the built-in baselines, LLMs or
    ``module:attr`` specs), once per game and config: ``(env_id, name, config)``."""
    from selfplay_agents.opponents import BASELINES

    seen: dict[tuple[str, str, str], tuple[str, str, dict[str, Any]]] = {}
    for job in jobs:
        for name in (job.a, job.b):
            if ":" in name or name in BASELINES:
                continue
            key = (job.env_id, name, json.dumps(job.config, sort_keys=True))
            seen.setdefault(key, (job.env_id, name, job.config))
    return list(seen.values())


def prepare_agents(
    jobs: Iterable[Job],
    *,
    workers: int | None = None,
    on_prepared: Callable[[str, str, float, str], None] | None = None,
) -> None:
    """Build each named opponent of ``jobs`` once, before the games and their clock.

    An opponent's one-off set-up (the CFR+ solve of Leduc's and Liar's Dice's ``cfr``,
    cached on disk) is then paid here, once and in parallel, not inside the first
    game of each of its pairings in each worker; the games that follow load it from
    the cache. ``on_prepared(env_id, name, seconds, error)`` is called for each; an
    error is left for the game to report. A ``KeyboardInterrupt`` stops at once.
    """
    todo = agents_to_prepare(jobs)
    workers = min(workers or os.cpu_count() or 1, len(todo))
    if workers <= 1:
        for env_id, name, config in todo:
            seconds, error = _prepare_one(env_id, name, config)
            if on_prepared is not None:
                on_prepared(env_id, name, seconds, error)
        return
    pool = futures.ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint)
    try:
        pending = {pool.submit(_prepare_one, *item): item for item in todo}
        for future in futures.as_completed(pending):
            env_id, name, _ = pending[future]
            seconds, error = future.result()
            if on_prepared is not None:
                on_prepared(env_id, name, seconds, error)
    except BaseException:
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _pairing(env_id: str, a: str, b: str) -> tuple[str, str, str]:
    """A pairing's key, either seat order."""
    first, second = sorted((a, b))
    return env_id, first, second


# A game's duration over this many times its pairing's low median is a one-off.
OUTLIER = 10.0


def _typical(seconds: Sequence[float]) -> float:
    """The mean of ``seconds`` less the one-offs: those over ``OUTLIER`` times the
    low median (which is a sample, and so never one of them)."""
    median = statistics.median_low(seconds)
    kept = [x for x in seconds if x <= OUTLIER * median]
    return sum(kept) / len(kept)


class Eta:
    """Time left in a run, from the durations of the games finished so far.

    A run mixes games of very different lengths (tic-tac-toe in milliseconds, bug
    repair in tens of seconds), so a rate of games per second says little. Instead:
    the seconds still to play are each remaining game's typical duration for its
    pairing, divided by the parallelism measured so far (seconds played per wall
    second). A pairing not yet seen takes its game's, and a game not yet seen takes
    the run's. No estimate until ``warmup`` games finished.

    The typical duration is the mean of the durations seen less those over
    ``OUTLIER`` times their low median: a one-off cost paid inside a pairing's first
    game (a solve, a model load, a compile) is left out once a second game of the
    pairing is in, instead of being spread over every game left.
    """

    def __init__(self, todo: Sequence[Job], *, warmup: int = 5) -> None:
        self.remaining: dict[tuple[str, str, str], int] = {}
        for job in todo:
            key = _pairing(job.env_id, job.a, job.b)
            self.remaining[key] = self.remaining.get(key, 0) + 1
        # Durations by pairing and by game.
        self.pairings: dict[tuple[str, str, str], list[float]] = {}
        self.seconds: dict[str, list[float]] = {}
        self.warmup = min(warmup, max(len(todo), 1))
        self.start = time.monotonic()

    def update(self, record: dict[str, Any]) -> None:
        """Count one finished (or errored) game."""
        env_id = record["env_id"]
        key = _pairing(env_id, record.get("a", ""), record.get("b", ""))
        if key in self.remaining:
            self.remaining[key] = max(self.remaining[key] - 1, 0)
        seconds = float(record.get("seconds", 0.0))
        self.pairings.setdefault(key, []).append(seconds)
        self.seconds.setdefault(env_id, []).append(seconds)

    def seconds_left(self, now: float | None = None) -> float | None:
        """Estimated wall seconds to the end, or ``None`` while too few games ended."""
        played = [x for values in self.seconds.values() for x in values]
        if len(played) < self.warmup:
            return None
        elapsed = max((now if now is not None else time.monotonic()) - self.start, 1e-6)
        parallelism = max(sum(played) / elapsed, 1e-6)
        overall = _typical(played)
        work = 0.0
        for key, count in self.remaining.items():
            if not count:
                continue
            seen = self.pairings.get(key) or self.seconds.get(key[0])
            work += count * (_typical(seen) if seen else overall)
        return float(work / parallelism)

    def text(self) -> str:
        """``"ETA 4m 05s"``, or ``"ETA -"`` before the estimate exists."""
        left = self.seconds_left()
        if left is None:
            return "ETA -"
        minutes, seconds = divmod(int(round(left)), 60)
        hours, minutes = divmod(minutes, 60)
        if hours:
            return f"ETA {hours}h {minutes:02d}m"
        return f"ETA {minutes}m {seconds:02d}s" if minutes else f"ETA {seconds}s"


def run_settings(games: dict[str, dict[str, Any]], *, seed: int) -> dict[str, Any]:
    """What fixes a run's games: per env id its agents, games per pairing and seat
    order, and game config; and the base seed. Stored in ``run.json``."""
    return {
        "seed": seed,
        "games": {
            env_id: {
                "agents": list(plan["agents"]),
                "games": int(plan["games"]),
                "config": dict(plan.get("config") or {}),
            }
            for env_id, plan in sorted(games.items())
        },
    }


def _describe_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changes = []
    if old.get("seed") != new.get("seed"):
        changes.append(f"seed {old.get('seed')} -> {new.get('seed')}")
    before, after = old.get("games", {}), new.get("games", {})
    for env_id in sorted(set(before) | set(after)):
        if env_id not in after:
            changes.append(f"{env_id} left out (it was in the run)")
        elif env_id not in before:
            changes.append(f"{env_id} added (it was not in the run)")
        else:
            for field in ("agents", "games", "config"):
                a, b = before[env_id].get(field), after[env_id].get(field)
                if a != b:
                    changes.append(f"{env_id} {field} {a} -> {b}")
    return changes or ["the settings differ"]


def prepare_run_dir(run_dir: Path, settings: dict[str, Any], *, force: bool) -> None:
    """Make ``run_dir`` ready for the run ``settings`` describes (``run_settings``).

    A new or empty folder gets ``run.json``. A folder holding the same run is resumed.
    A folder holding a run with other settings, or results without a ``run.json``
    (its settings are unknown), raises ``RunMismatch`` saying what differs, unless
    ``force``: then its results and reports are deleted and the run starts over.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    run_file, results = run_dir / RUN_FILE, run_dir / RESULTS_FILE
    settings = json.loads(json.dumps(settings))  # as it reads back from the file
    if force:
        for name in (RESULTS_FILE, RUN_FILE, *OUTPUT_FILES):
            (run_dir / name).unlink(missing_ok=True)
    elif run_file.exists():
        try:
            stored = json.loads(run_file.read_text())
        except json.JSONDecodeError as e:
            raise RunMismatch(
                f"{run_file} is not valid JSON ({e}): cannot tell which run the folder "
                "holds; choose a new --out, or pass --force to start over"
            ) from e
        if stored != settings:
            changes = "; ".join(_describe_changes(stored, settings))
            raise RunMismatch(
                f"{run_dir} holds a run with other settings ({changes}); its results "
                "would be mixed with this run's. Choose a new --out, or pass --force "
                "to delete its results and start over"
            )
        return
    elif results.exists() and results.stat().st_size:
        raise RunMismatch(
            f"{run_dir} holds results but no {RUN_FILE}, so its settings are unknown "
            "and its results could be mixed with this run's. Choose a new --out, or "
            "pass --force to delete its results and start over"
        )
    run_file.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")


def score_table(
    records: Sequence[dict[str, Any]],
) -> dict[tuple[str, str, str], np.ndarray]:
    """``(env_id, a, b) -> [wins, draws, losses]`` of ``a``; errored games left out."""
    table: dict[tuple[str, str, str], np.ndarray] = {}
    for r in finished(records):
        counts = table.setdefault((r["env_id"], r["a"], r["b"]), np.zeros(3, dtype=int))
        counts[{1.0: 0, 0.5: 1, 0.0: 2}[r["score_a"]]] += 1
    return table
