"""Playing matches: jobs, paired seeds, parallel workers, an append-only results file.

A *pairing* is two agents on one game. Each pairing plays ``games`` seeds in both seat
orders, so both agents see the same deals and positions from each side. Each finished
game is one JSON line in ``results.jsonl``, written with a single ``write`` and an
``fsync``: a killed run loses at most the games in flight, and a re-run skips every
game whose key is already in the file.

A game whose play raises ``InfrastructureError`` (a sandbox that cannot start, a MARS
kernel that does not compile, a retriever that is down) is no result: its record has
``"status": "error"`` and the ``"error"`` message, counts in no score, rating or metric,
and is played again on resume. Any other exception is a bug and propagates.
"""

from __future__ import annotations

import concurrent.futures as futures
import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import selfplay_envs
from agents.arena.specs import build_policy
from agents.policy import Turn
from selfplay_envs.core.errors import InfrastructureError

__all__ = [
    "Job",
    "make_jobs",
    "play_game",
    "run_jobs",
    "read_results",
    "latest_records",
    "is_errored",
    "finished",
]


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
) -> list[Job]:
    """Every unordered pair of distinct agents, ``games`` paired seeds, both orders."""
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
            "key": job.key,
            "env_id": job.env_id,
            "a": job.a,
            "b": job.b,
            "order": job.order,
            "index": job.index,
            "seed": job.seed,
            "status": "error",
            "error": f"{type(e).__name__}: {e}",
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
    for agent in env.agent_iter():
        observation, _, termination, truncation, info = env.last()
        if termination or truncation:
            env.step(None)
            continue
        turn = Turn(env_id=job.env_id, agent=agent, observation=observation, info=info)
        env.step(policies[owner[agent]].act([turn])[0])
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
        "key": job.key,
        "env_id": job.env_id,
        "a": job.a,
        "b": job.b,
        "order": job.order,
        "index": job.index,
        "seed": job.seed,
        "status": "ok",
        "return_a": ret_a,
        "return_b": ret_b,
        "score_a": score_a,
        "moves": env.episode.move_index,
        "invalid_a": sum(1 for r in records if not r.valid and owner[r.agent] == job.a),
        "invalid_b": sum(1 for r in records if not r.valid and owner[r.agent] == job.b),
        "truncated": env.episode.truncated and not env.episode.terminal,
        "metrics": _metrics(final, owner, job),
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


def read_results(path: Path) -> list[dict[str, Any]]:
    """Every complete record in ``path``; a torn last line from a kill is dropped."""
    if not path.exists():
        return []
    records, good_bytes = [], 0
    with path.open("rb") as handle:
        for line in handle:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a partial line can only be the last one
            good_bytes += len(line)
    if good_bytes != path.stat().st_size:
        with path.open("r+b") as handle:
            handle.truncate(good_bytes)
    return records


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


def run_jobs(
    jobs: Iterable[Job],
    results_path: Path,
    *,
    workers: int | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Play every job without a result in ``results_path``; return the run's records.

    The returned list holds the latest record of each key in the file, errored games
    included (``is_errored``); errored games are played again.
    """
    done = latest_records(read_results(results_path))
    todo = [job for job in jobs if job.key not in done or is_errored(done[job.key])]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(todo) <= 1:
        for job in todo:
            _finish(play_game(job), results_path, done, on_result)
        return list(done.values())
    with futures.ProcessPoolExecutor(max_workers=workers) as pool:
        pending = {pool.submit(play_game, job) for job in todo}
        for future in futures.as_completed(pending):
            _finish(future.result(), results_path, done, on_result)
    return list(done.values())


def _finish(record, path, done, on_result) -> None:
    _append(path, record)
    done[record["key"]] = record
    if on_result is not None:
        on_result(record)


def score_table(
    records: Sequence[dict[str, Any]],
) -> dict[tuple[str, str, str], np.ndarray]:
    """``(env_id, a, b) -> [wins, draws, losses]`` of ``a``; errored games left out."""
    table: dict[tuple[str, str, str], np.ndarray] = {}
    for r in finished(records):
        counts = table.setdefault((r["env_id"], r["a"], r["b"]), np.zeros(3, dtype=int))
        counts[{1.0: 0, 0.5: 1, 0.0: 2}[r["score_a"]]] += 1
    return table
