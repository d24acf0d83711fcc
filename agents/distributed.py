"""Distributed rollouts on Ray: rollout workers stream trajectories, exactly once.

When one machine is not enough, ``DistributedRollouts`` runs rollout workers as Ray
actors. Each worker holds a ``BatchInferenceAdapter`` (and through it a ``BatchedEnv`` of
``num_envs`` games): it builds the prompts, batches the pending turns, steps the games
and records trajectories, exactly as on one machine. Models live elsewhere:

* in an ``InferenceServer`` actor (a GPU actor holding a transformers or vLLM backend,
  or a scripted policy): workers reach it through ``RemoteBackend`` (an
  ``InferenceBackend``) or ``RemotePolicy`` (a ``Policy``), one batched call per step;
* or behind a served model (vLLM, SGLang): workers use the ``openai`` backend directly.

Work is cut into tasks of a few episodes each. A worker runs a task with a fresh adapter
(seeded from the task) and streams every finished episode back as soon as it ends. If a
worker dies, Ray restarts it (``max_restarts``) and the driver sends a retry task for
the episodes of that task that had not arrived: each global episode id is delivered
exactly once, and no finished trajectory is lost. A retry plays new games (it is a new
sample), so a trajectory that arrived is never replaced by another.

The policies of a worker come from a picklable factory (a top-level function or a
``functools.partial``) called inside the worker, because backends and models do not
travel between processes; actor handles do.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from selfplay_agents.adapter import BatchInferenceAdapter, Trajectory
from selfplay_agents.inference.base import Request, Result
from selfplay_agents.policy import Policy, Turn
from selfplay_envs.core.errors import DependencyNotInstalled

__all__ = [
    "DistributedRollouts",
    "InferenceServer",
    "RemoteBackend",
    "RemotePolicy",
    "RolloutResult",
    "RolloutTask",
    "RolloutWorker",
    "import_ray",
]

PolicyFactory = Callable[[], Policy | Mapping[str | int, Policy]]


def import_ray() -> Any:
    """Import ray, or say which extra installs it."""
    try:
        import ray
    except ImportError as e:
        raise DependencyNotInstalled.for_extra("ray", "ray") from e
    return ray


@dataclasses.dataclass(frozen=True, kw_only=True)
class RolloutTask:
    """Episodes ``first_id .. first_id + num_episodes - 1``, or a retry of some of them.

    Attributes:
        task_id: Index of the task.
        episode_ids: Global ids the task's episodes get, in the adapter's id order.
        seed: Seed of the task's games (game ``i`` is seeded ``seed + i``).
        attempt: 0 for the first run, then 1, 2... for retries.
    """

    task_id: int
    episode_ids: tuple[int, ...]
    seed: int
    attempt: int = 0


@dataclasses.dataclass(frozen=True, kw_only=True)
class RolloutResult:
    """One finished episode, as streamed back by a worker.

    Attributes:
        episode_id: Global episode id (also set in the trajectory and its turns).
        task_id: The task it belongs to; ``attempt`` the run of that task.
        worker: Index of the worker that played it; ``pid`` its process.
        trajectory: The episode.
    """

    episode_id: int
    task_id: int
    attempt: int
    worker: int
    pid: int
    trajectory: Trajectory


class InferenceServer:
    """What an inference actor holds: a backend (``generate``) or a policy (``act``).

    Run it as a Ray actor: ``ray.remote(num_gpus=1)(InferenceServer).remote(factory)``.

    Args:
        factory: Builds the backend or policy inside the actor.
    """

    def __init__(self, factory: Callable[[], Any]):
        self.target = factory()
        self.calls = 0
        self.requests = 0

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        """One batched backend call."""
        self.calls += 1
        self.requests += len(requests)
        return self.target.generate(requests)

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """One batched policy call."""
        self.calls += 1
        self.requests += len(turns)
        return self.target.act(turns)

    def counts(self) -> dict[str, int]:
        """Calls and requests served so far."""
        return {"calls": self.calls, "requests": self.requests}


class RemoteBackend:
    """An ``InferenceBackend`` whose ``generate`` runs in an ``InferenceServer`` actor.

    Args:
        server: Handle of the actor.
        name: Backend name in records.
        max_concurrent_batches: Calls the async adapter may overlap (a remote engine
            batches them itself).
    """

    def __init__(
        self, server: Any, *, name: str = "ray", max_concurrent_batches: int = 4
    ):
        self.server = server
        self.name = name
        self.max_concurrent_batches = max_concurrent_batches

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        """Send the batch to the actor and wait for it."""
        return import_ray().get(self.server.generate.remote(list(requests)))


class RemotePolicy:
    """A ``Policy`` whose ``act`` runs in an ``InferenceServer`` actor."""

    def __init__(self, server: Any, name: str):
        self.server = server
        self.name = name

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """Send the batch of turns to the actor and wait for the actions."""
        return import_ray().get(self.server.act.remote(list(turns)))


class RolloutWorker:
    """What a rollout actor holds: the env config and its policies.

    Args:
        env_id: The env.
        policies: Factory of the seat -> policy table (see ``BatchInferenceAdapter``).
        num_envs: Games played at once.
        index: The worker's index, recorded in results.
        **config: Game parameters and adapter options (``view``, ``invalid_move``).
    """

    def __init__(
        self,
        env_id: str,
        policies: PolicyFactory,
        num_envs: int,
        index: int,
        **config: Any,
    ):
        self.env_id = env_id
        self.policies = policies()
        self.num_envs = num_envs
        self.index = index
        self.config = config

    def pid(self) -> int:
        """The worker's process id (it changes when Ray restarts the worker)."""
        return os.getpid()

    def run(self, task: RolloutTask) -> Iterator[RolloutResult]:
        """Play the task's episodes and yield each as soon as it finishes."""
        adapter = BatchInferenceAdapter(
            self.env_id,
            self.policies,
            num_envs=min(self.num_envs, len(task.episode_ids)),
            seed=task.seed,
            **self.config,
        )
        for trajectory in adapter.trajectories(len(task.episode_ids)):
            episode_id = task.episode_ids[trajectory.episode_id]
            yield RolloutResult(
                episode_id=episode_id,
                task_id=task.task_id,
                attempt=task.attempt,
                worker=self.index,
                pid=os.getpid(),
                trajectory=_renumber(trajectory, episode_id),
            )


def _renumber(trajectory: Trajectory, episode_id: int) -> Trajectory:
    turns = tuple(
        dataclasses.replace(t, episode_id=episode_id) for t in trajectory.turns
    )
    return dataclasses.replace(trajectory, episode_id=episode_id, turns=turns)


@dataclasses.dataclass
class _Progress:
    """Driver-side bookkeeping of one run (guarded by a lock)."""

    delivered: set[int] = dataclasses.field(default_factory=set)
    retries: int = 0
    failures: int = 0


class DistributedRollouts:
    """Rollout workers as Ray actors; trajectories stream back exactly once.

    Call ``ray.init`` first (``ray.init(address="auto")`` on a cluster).

    Args:
        env_id: The env.
        policies: Picklable factory of the seat -> policy table, called in each worker;
            or a list of factories, worker ``i`` taking ``policies[i % len(policies)]``
            (e.g. to spread workers over several inference actors).
        num_workers: Rollout actors.
        num_envs: Games per worker.
        episodes_per_task: Episodes per unit of work (what a worker death can cost).
        max_restarts: Ray restarts of a dead worker (-1: no limit).
        max_failures: Give up after this many failed task runs in one ``run``.
        worker_options: Extra ``.options()`` of the worker actors (``num_cpus``,
            ``resources``, ``runtime_env``, ``scheduling_strategy``...).
        **config: Game parameters and adapter options.
    """

    def __init__(
        self,
        env_id: str,
        policies: PolicyFactory | Sequence[PolicyFactory],
        *,
        num_workers: int = 2,
        num_envs: int = 8,
        episodes_per_task: int = 16,
        max_restarts: int = -1,
        max_failures: int = 20,
        worker_options: Mapping[str, Any] | None = None,
        **config: Any,
    ):
        ray = import_ray()
        if num_workers < 1 or episodes_per_task < 1:
            raise ValueError(
                "expected num_workers >= 1 and episodes_per_task >= 1, "
                f"got {num_workers} and {episodes_per_task}"
            )
        self.episodes_per_task = episodes_per_task
        self.max_failures = max_failures
        # Ray must not re-run a failed streaming call by itself: the driver retries only
        # the episodes that did not arrive.
        options = {"max_restarts": max_restarts, "max_task_retries": 0, "num_cpus": 0}
        options.update(worker_options or {})
        actor = ray.remote(RolloutWorker).options(**options)
        factories = list(policies) if isinstance(policies, Sequence) else [policies]
        self.workers = [
            actor.remote(
                env_id, factories[index % len(factories)], num_envs, index, **config
            )
            for index in range(num_workers)
        ]
        self.progress = _Progress()

    def run(self, num_episodes: int, *, seed: int = 0) -> Iterator[RolloutResult]:
        """Yield ``num_episodes`` finished episodes (ids ``0..num_episodes-1``), each once.

        Results arrive in completion order, from every worker at once.
        """
        self.progress = _Progress()
        tasks: queue.Queue[RolloutTask | None] = queue.Queue()
        for task_id, start in enumerate(range(0, num_episodes, self.episodes_per_task)):
            ids = tuple(range(start, min(start + self.episodes_per_task, num_episodes)))
            tasks.put(RolloutTask(task_id=task_id, episode_ids=ids, seed=seed + start))
        results: queue.Queue[RolloutResult | BaseException] = queue.Queue()
        lock = threading.Lock()
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=self._drive,
                args=(worker, tasks, results, lock, stop),
                daemon=True,
            )
            for worker in self.workers
        ]
        for thread in threads:
            thread.start()
        try:
            delivered = 0
            while delivered < num_episodes:
                item = results.get()
                if isinstance(item, BaseException):
                    raise item
                delivered += 1
                yield item
        finally:
            stop.set()
            for _ in threads:
                tasks.put(None)

    def _drive(
        self,
        worker: Any,
        tasks: queue.Queue[RolloutTask | None],
        results: queue.Queue[RolloutResult | BaseException],
        lock: threading.Lock,
        stop: threading.Event,
    ) -> None:
        """Feed one worker tasks, forward its results, retry what a failure lost."""
        ray = import_ray()
        while not stop.is_set():
            task = tasks.get()
            if task is None:
                return
            arrived: list[int] = []
            try:
                stream = worker.run.options(num_returns="streaming").remote(task)
                for ref in stream:
                    result: RolloutResult = ray.get(ref)
                    with lock:
                        fresh = result.episode_id not in self.progress.delivered
                        self.progress.delivered.add(result.episode_id)
                    arrived.append(result.episode_id)
                    if fresh and not stop.is_set():
                        results.put(result)
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                with lock:
                    self.progress.failures += 1
                    failures = self.progress.failures
                    missing = tuple(
                        i for i in task.episode_ids if i not in self.progress.delivered
                    )
                    self.progress.retries += bool(missing)
                if failures > self.max_failures:
                    results.put(
                        RuntimeError(
                            f"expected at most {self.max_failures} failed tasks, "
                            f"got {failures}"
                        )
                    )
                    return
                if missing:
                    tasks.put(_retry(task, missing))
                time.sleep(0.5)  # let Ray restart the actor before the next call
            except BaseException as error:  # noqa: BLE001 - handed to the consumer
                results.put(error)
                return

    @property
    def retries(self) -> int:
        """Retry tasks sent in the last run (one per task a worker failure cut short)."""
        return self.progress.retries

    def pids(self) -> list[int]:
        """The process id of every worker now."""
        ray = import_ray()
        return ray.get([worker.pid.remote() for worker in self.workers])

    def shutdown(self) -> None:
        """Kill the worker actors."""
        ray = import_ray()
        for worker in self.workers:
            ray.kill(worker, no_restart=True)


def _retry(task: RolloutTask, missing: tuple[int, ...]) -> RolloutTask:
    """A new run for the episodes that did not arrive, on games seeded afresh."""
    attempt = task.attempt + 1
    return RolloutTask(
        task_id=task.task_id,
        episode_ids=missing,
        seed=task.seed + 1_000_003 * attempt,
        attempt=attempt,
    )
