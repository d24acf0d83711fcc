"""``BatchInferenceAdapter``: many games, one batched backend call per policy group.

The adapter drives ``num_envs`` games of one env with a mapping from seat (agent name,
seat index or role) to policy:

* self-play: one ``LLMPolicy`` for every seat;
* a frozen opponent: another ``LLMPolicy`` (its own backend, e.g. an old checkpoint);
* a scripted opponent: any ``Policy`` from ``selfplay_agents.opponents``.

Each step it collects the pending turn of every game, groups the turns by backend (LLM
policies sharing a backend share the call) or by policy (scripted ones), makes one
batched call per group, and steps every game. Finished games reset at once and refill
the batch, so games of different lengths keep the backend busy.

Two modes:

* sync (``trajectories`` / ``run``): lockstep over a ``BatchedEnv``;
* async continuous (``atrajectories`` / ``arun``): every game advances on its own as soon
  as its move comes back; a per-group batcher sends whatever is queued when the backend
  is free (up to ``max_concurrent_batches`` calls at once, many for a remote server).

Episode budget: with ``num_episodes=K`` exactly the first K episodes started (ids
``0..K-1``) are played and returned, so long games are not under-sampled. In sync mode a
game whose next episode is past the budget is drained with empty answers (no backend
call) and its episode is discarded; in async mode the game simply stops.

Trajectories record, per turn: seat, role, policy, the prompt and completion token ids,
the logprobs, the completion, the parsed action, the invalid-move reason, the reward
and the hashes of the prompt's images; rows go to a JSONL file (one line per turn) and
the ``Trajectory`` objects to the caller as an iterator.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from selfplay_agents.inference.base import image_hash
from selfplay_agents.llm import (
    CallMeter,
    Decision,
    LLMPolicy,
    adecide_many,
    decide_many,
)
from selfplay_agents.policy import Policy, Turn
from selfplay_envs.core.episode import InvalidMovePolicy, View
from selfplay_envs.wrappers.batched import BatchedEnv, BatchStep

__all__ = [
    "BatchInferenceAdapter",
    "RunResult",
    "RunStats",
    "Trajectory",
    "TrajectoryWriter",
    "TurnSample",
    "read_turns",
]

DEFAULT_SEAT = "*"


@dataclasses.dataclass(frozen=True, kw_only=True)
class TurnSample:
    """One attempted move of one seat, with everything a trainer needs.

    Attributes:
        episode_id: Id of the episode (ids count up in start order).
        game_index: Slot of the game in the batch.
        step: Index of this attempt in the episode (invalid attempts count).
        turn: Index of the game move this attempt belongs to.
        seat: Seat index; ``agent`` is its PettingZoo name, ``role`` its game role.
        policy: Name of the policy that acted.
        observation: The observation text (empty in the numeric view).
        completion: The reply sent to the env (the action as text).
        prompt_token_ids: Prompt tokens, or ``None`` for policies without a model.
        completion_token_ids: Completion tokens, or ``None``.
        logprobs: Logprob per completion token, or ``None``.
        finish_reason: The backend's finish reason (``""`` without a model).
        parsed_action: Canonical text of the parsed action; ``None`` if invalid.
        valid: Whether the env accepted the move.
        invalid_reason: The env's reason, ``""`` when valid.
        fallback: The env played a fallback move instead (penalty policy).
        reward: Reward this seat got on this step (the final return on the last step).
        episode_return: This seat's final return in the episode.
        rejected: Completions the policy discarded before this one (pre-check), as
            dicts with tokens and logprobs.
        error: The backend's error, if any.
        phase: The game's phase at this turn (``infos["phase"]``, e.g. the spy
            game's ``"clue"`` or ``"vote"``), ``""`` for games without phases.
        images: ``selfplay_agents.inference.base.image_hash`` of each image the policy's prompt
            carried this turn, in order (the spy game's picture for a VLM policy);
            empty for text prompts and policies without a model.
    """

    episode_id: int
    game_index: int
    step: int
    turn: int
    seat: int
    agent: str
    role: str
    policy: str
    observation: str
    completion: str
    prompt_token_ids: list[int] | None
    completion_token_ids: list[int] | None
    logprobs: list[float] | None
    finish_reason: str
    parsed_action: str | None
    valid: bool
    invalid_reason: str
    fallback: bool
    reward: float
    episode_return: float
    rejected: list[dict[str, Any]]
    error: str | None
    phase: str = ""
    images: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Trajectory:
    """One finished episode.

    Attributes:
        episode_id: Episode id (start order).
        env_id: The env.
        game_index: Slot of the game in the batch.
        returns: Final return per agent.
        outcomes: ``"win"``, ``"loss"``, ``"draw"`` or ``"truncated"`` per agent.
        terminated: Ended by the rules (or a forfeit).
        truncated: Cut off by the attempt limit.
        policies: Policy name per agent.
        turns: Every attempted move, in order.
        seed: The seed the episode started from: known for each game's first
            episode of a run (later ones continue its random stream), else ``None``.
        final_infos: Each agent's final ``infos`` entry (outcome, the game's end
            data such as the spy game's votes or search QA's pool refill), without
            the ``episode`` record that ``turns`` already hold.
    """

    episode_id: int
    env_id: str
    game_index: int
    returns: dict[str, float]
    outcomes: dict[str, str]
    terminated: bool
    truncated: bool
    policies: dict[str, str]
    turns: tuple[TurnSample, ...]
    seed: int | None = None
    final_infos: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-friendly dict per turn, with the episode's fields added."""
        extra = {
            "env_id": self.env_id,
            "terminated": self.terminated,
            "truncated": self.truncated,
            "seed": self.seed,
        }
        return [
            {**turn.to_dict(), **extra, "outcome": self.outcomes.get(turn.agent, "")}
            for turn in self.turns
        ]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunStats:
    """Throughput of one run.

    ``overhead_s`` is wall time spent in neither the backends, the envs nor scripted
    policies: the adapter's own bookkeeping and prompt building. ``env_steps`` counts
    moves submitted, ``batch_steps`` lockstep steps of the sync mode (one ``step`` of
    the batched env each). In async mode backend calls overlap, so only the rates are
    meaningful there.
    """

    mode: str
    num_envs: int
    wall_s: float
    backend_s: float
    env_s: float
    scripted_s: float
    backend_calls: int
    requests: int
    prompt_tokens: int
    completion_tokens: int
    env_steps: int
    batch_steps: int
    episodes: int

    @property
    def overhead_s(self) -> float:
        """Wall time outside backends, envs and scripted policies."""
        return max(0.0, self.wall_s - self.backend_s - self.env_s - self.scripted_s)

    @property
    def overhead_fraction(self) -> float:
        """``overhead_s`` as a fraction of backend time."""
        return self.overhead_s / self.backend_s if self.backend_s else 0.0

    @property
    def requests_per_s(self) -> float:
        """Backend requests (retries included) per second."""
        return self.requests / self.wall_s if self.wall_s else 0.0

    @property
    def tokens_per_s(self) -> float:
        """Generated tokens per second."""
        return self.completion_tokens / self.wall_s if self.wall_s else 0.0

    @property
    def mean_batch_size(self) -> float:
        """Requests per backend call."""
        return self.requests / self.backend_calls if self.backend_calls else 0.0

    @property
    def env_steps_per_s(self) -> float:
        """Moves submitted to the envs per second."""
        return self.env_steps / self.wall_s if self.wall_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Every field and rate."""
        rates = (
            "overhead_s",
            "overhead_fraction",
            "requests_per_s",
            "tokens_per_s",
            "mean_batch_size",
            "env_steps_per_s",
        )
        return {
            **dataclasses.asdict(self),
            **{name: getattr(self, name) for name in rates},
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunResult:
    """What ``run`` returns: the trajectories and the throughput."""

    trajectories: list[Trajectory]
    stats: RunStats


class TrajectoryWriter:
    """Appends trajectories to a JSONL file, one line per turn."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, trajectory: Trajectory) -> None:
        """Write every turn of ``trajectory`` and flush."""
        for row in trajectory.rows():
            self._file.write(json.dumps(row) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> TrajectoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_turns(path: str | Path) -> Iterator[dict[str, Any]]:
    """Read back the rows a ``TrajectoryWriter`` wrote."""
    with Path(path).open(encoding="utf-8") as file:
        for line in file:
            if line.strip():
                yield json.loads(line)


@dataclasses.dataclass
class _Meters:
    """Mutable counters of one run."""

    calls: CallMeter = dataclasses.field(default_factory=CallMeter)
    env_s: float = 0.0
    scripted_s: float = 0.0
    env_steps: int = 0
    batch_steps: int = 0
    episodes: int = 0
    start: float = dataclasses.field(default_factory=time.perf_counter)
    end: float | None = None


@dataclasses.dataclass
class _OpenEpisode:
    """Turns of an episode in progress."""

    episode_id: int
    game_index: int
    turns: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    policies: dict[str, str] = dataclasses.field(default_factory=dict)
    seed: int | None = None


class BatchInferenceAdapter:
    """Drive many games of one env with LLM and scripted policies.

    Args:
        env_id: A registered env id.
        policies: One policy for every seat (self-play), or a mapping whose keys are
            agent names (``"player_0"``), seat indices (``0``), roles (``"x"``) or
            ``"*"`` (every other seat). Lookup order: agent, seat, role, ``"*"``.
        num_envs: Games played at once.
        seed: Game ``i`` is seeded with ``seed + i // group_size`` on its first reset.
        group_size: Games that share a start (GRPO groups): with ``group_size=G``
            games ``0..G-1`` start from ``seed``, ``G..2G-1`` from ``seed + 1``...
            Each first episode records its seed (``Trajectory.seed``).
        view: ``"text"`` (LLMs) or ``"numeric"`` (scripted policies only).
        invalid_move: The env's invalid-move policy.
        trajectory_path: Append every finished episode to this JSONL file.
        max_batch_size: Most turns in one backend call in async mode (``None``: no cap).
        batch_window_s: Async mode: wait this long after the first queued turn before
            calling the backend, to gather more (0: send what is queued at once).
        **config: Game parameters.
    """

    def __init__(
        self,
        env_id: str,
        policies: Policy | Mapping[str | int, Policy],
        *,
        num_envs: int = 8,
        seed: int | None = 0,
        group_size: int = 1,
        view: str | View = View.TEXT,
        invalid_move: InvalidMovePolicy | None = None,
        trajectory_path: str | Path | None = None,
        max_batch_size: int | None = None,
        batch_window_s: float = 0.0,
        **config: Any,
    ):
        if num_envs < 1:
            raise ValueError(f"expected num_envs >= 1, got {num_envs}")
        if group_size < 1 or num_envs % group_size:
            raise ValueError(
                f"expected group_size >= 1 dividing num_envs={num_envs}, "
                f"got {group_size}"
            )
        self.env_id = env_id
        self.policies = _policy_table(policies)
        self.num_envs = num_envs
        self.seed = seed
        self.group_size = group_size
        self.view = View(view)
        self.invalid_move = invalid_move
        self.trajectory_path = trajectory_path
        self.max_batch_size = max_batch_size
        self.batch_window_s = batch_window_s
        self.config = config
        self._meters = _Meters()
        self._mode = "sync"
        self._seats: dict[str, int] = {}

    # ---- policies -------------------------------------------------------------------

    def policy_for(self, seat: int, agent: str, role: str) -> Policy:
        """The policy of a seat: by agent name, seat index, role, then ``"*"``."""
        for key in (agent, seat, role, DEFAULT_SEAT):
            if key in self.policies:
                return self.policies[key]
        raise KeyError(
            f"expected a policy for {agent!r} (seat {seat}, role {role!r}), "
            f"got keys {sorted(map(str, self.policies))}"
        )

    def _decide(self, turns: Mapping[int, Turn]) -> dict[int, Decision]:
        """One batched call per backend (LLM policies) or per policy (scripted)."""
        groups: dict[tuple[str, int], list[tuple[int, Policy, Turn]]] = defaultdict(
            list
        )
        for i, turn in turns.items():
            policy = self._policy_of(turn)
            groups[_group_key(policy)].append((i, policy, turn))
        decisions: dict[int, Decision] = {}
        for (kind, _), items in groups.items():
            if kind == "backend":
                decisions.update(self._decide_llm(items))
            else:
                decisions.update(self._decide_scripted(items))
        return decisions

    def _policy_of(self, turn: Turn) -> Policy:
        seat = self._seats.get(turn.agent, -1)
        return self.policy_for(seat, turn.agent, str(turn.info.get("role", "")))

    def _decide_llm(self, items: list[tuple[int, Policy, Turn]]) -> dict[int, Decision]:
        jobs, slots = _jobs(items)
        results = decide_many(jobs, self._meters.calls)
        return _unjob(slots, results)

    def _decide_scripted(
        self, items: list[tuple[int, Policy, Turn]]
    ) -> dict[int, Decision]:
        policy = items[0][1]
        start = time.perf_counter()
        actions = policy.act([turn for _, _, turn in items])
        self._meters.scripted_s += time.perf_counter() - start
        if len(actions) != len(items):
            raise ValueError(
                f"expected {len(items)} actions from {policy.name}, got {len(actions)}"
            )
        name = getattr(policy, "name", type(policy).__name__)
        return {
            i: Decision(action=a, policy=name)
            for (i, _, _), a in zip(items, actions, strict=True)
        }

    # ---- sync mode ------------------------------------------------------------------

    def trajectories(self, num_episodes: int | None = None) -> Iterator[Trajectory]:
        """Play in lockstep and yield each episode as it finishes.

        Args:
            num_episodes: Play exactly the episodes with ids ``0..num_episodes-1``;
                ``None`` plays until the caller stops iterating.
        """
        self._meters, self._mode = _Meters(), "sync"
        env = BatchedEnv(
            self.env_id,
            self.num_envs,
            view=self.view,
            invalid_move=self.invalid_move,
            **self.config,
        )
        self._seats = {agent: seat for seat, agent in enumerate(env.agents)}
        writer = (
            TrajectoryWriter(self.trajectory_path) if self.trajectory_path else None
        )
        try:
            start = time.perf_counter()
            observations, infos = env.reset(
                seed=[self._game_seed(i) for i in range(self.num_envs)]
                if self.seed is not None
                else None
            )
            self._meters.env_s += time.perf_counter() - start
            acting = env.acting
            ids = list(range(self.num_envs))
            next_id = self.num_envs
            open_episodes = {
                i: _OpenEpisode(ids[i], i, seed=self._game_seed(i))
                for i in range(self.num_envs)
            }
            while True:
                live = [
                    i for i in range(self.num_envs) if _in_budget(ids[i], num_episodes)
                ]
                if not live:
                    break
                turns = {
                    i: self._turn(
                        env.agents[int(acting[i])], observations, infos, i, ids[i]
                    )
                    for i in live
                }
                decisions = self._decide(turns)
                actions = [
                    decisions[i].action if i in decisions else self._drain_action()
                    for i in range(self.num_envs)
                ]
                start = time.perf_counter()
                step = env.step(actions)
                self._meters.env_s += time.perf_counter() - start
                self._meters.env_steps += len(live)
                self._meters.batch_steps += 1
                for i in live:
                    episode = open_episodes[i]
                    self._record(
                        episode, turns[i], decisions[i], step, i, int(acting[i])
                    )
                    if step.terminated[i] or step.truncated[i]:
                        trajectory = self._close(episode, step, i, env.agents)
                        if writer:
                            writer.write(trajectory)
                        ids[i], next_id = next_id, next_id + 1
                        open_episodes[i] = _OpenEpisode(ids[i], i)
                        yield trajectory
                observations, infos, acting = step.observations, step.infos, step.acting
        finally:
            self._meters.end = time.perf_counter()
            if writer:
                writer.close()

    def run(self, num_episodes: int) -> RunResult:
        """Play ``num_episodes`` episodes in sync mode; return them and the stats."""
        trajectories = list(self.trajectories(num_episodes))
        return RunResult(trajectories=trajectories, stats=self.stats)

    def _drain_action(self) -> Any:
        """An answer for a game past the budget: invalid, cheap, ends the game soon."""
        return "" if self.view is View.TEXT else -1

    def _turn(
        self,
        agent: str,
        observations: Any,
        infos: list[dict[str, Any]],
        i: int,
        episode: int,
    ) -> Turn:
        if self.view is View.TEXT:
            observation = observations[i]
        else:
            observation = {key: value[i] for key, value in observations.items()}
        return Turn(
            env_id=self.env_id,
            agent=agent,
            observation=observation,
            info=infos[i],
            view=self.view.value,
            game_index=i,
            episode=episode,
        )

    # ---- records --------------------------------------------------------------------

    def _record(
        self,
        episode: _OpenEpisode,
        turn: Turn,
        decision: Decision,
        step: BatchStep,
        i: int,
        seat: int,
    ) -> None:
        done = bool(step.terminated[i] or step.truncated[i])
        info = step.infos[i]
        record = (
            info["final_info"][turn.agent]["episode"][-1] if done else info["last_move"]
        )
        generation = decision.generation
        episode.policies[turn.agent] = decision.policy
        episode.turns.append(
            {
                "episode_id": episode.episode_id,
                "game_index": episode.game_index,
                "step": len(episode.turns),
                "turn": int(record["turn"]),
                "seat": seat,
                "agent": turn.agent,
                "role": record["role"],
                "policy": decision.policy,
                "observation": str(turn.observation.get("text", "")),
                "completion": _as_text(decision.action),
                "prompt_token_ids": _ids(generation, "prompt_token_ids"),
                "completion_token_ids": _ids(generation, "completion_token_ids"),
                "logprobs": None
                if generation is None or generation.logprobs is None
                else list(generation.logprobs),
                "finish_reason": generation.finish_reason if generation else "",
                "parsed_action": record["parsed"],
                "valid": bool(record["valid"]),
                "invalid_reason": record["reason"],
                "fallback": bool(record.get("fallback", False)),
                "reward": float(step.rewards[i, seat]),
                "rejected": [g.to_dict() for g in decision.rejected],
                "error": generation.error if generation else None,
                "phase": str(turn.info.get("phase", "")),
                "images": self._image_ids(turn),
            }
        )

    def _image_ids(self, turn: Turn) -> list[str]:
        """Hashes of the images an LLM policy sent with this turn's prompt."""
        policy = self._policy_of(turn)
        if not isinstance(policy, LLMPolicy):
            return []
        return [image_hash(image) for image in policy.images_for(turn)]

    def _close(
        self, episode: _OpenEpisode, step: BatchStep, i: int, agents: Sequence[str]
    ) -> Trajectory:
        finals = step.infos[i]["final_info"]
        returns = {
            agent: float(step.rewards[i, seat]) for seat, agent in enumerate(agents)
        }
        turns = tuple(
            TurnSample(**row, episode_return=returns[row["agent"]])
            for row in episode.turns
        )
        self._meters.episodes += 1
        return Trajectory(
            episode_id=episode.episode_id,
            env_id=self.env_id,
            game_index=episode.game_index,
            returns=returns,
            outcomes={agent: finals[agent]["outcome"] for agent in agents},
            terminated=bool(step.terminated[i]),
            truncated=bool(step.truncated[i]),
            policies=dict(episode.policies),
            turns=turns,
            seed=episode.seed,
            final_infos={
                agent: {k: v for k, v in finals[agent].items() if k != "episode"}
                for agent in agents
            },
        )

    def _game_seed(self, i: int) -> int | None:
        """The seed of game ``i``'s first episode (see ``group_size``)."""
        return None if self.seed is None else self.seed + i // self.group_size

    @property
    def stats(self) -> RunStats:
        """Throughput of the current or last run."""
        meters = self._meters
        end = meters.end if meters.end is not None else time.perf_counter()
        calls = meters.calls
        return RunStats(
            mode=self._mode,
            num_envs=self.num_envs,
            wall_s=end - meters.start,
            backend_s=calls.seconds,
            env_s=meters.env_s,
            scripted_s=meters.scripted_s,
            backend_calls=calls.calls,
            requests=calls.requests,
            prompt_tokens=calls.prompt_tokens,
            completion_tokens=calls.completion_tokens,
            env_steps=meters.env_steps,
            batch_steps=meters.batch_steps,
            episodes=meters.episodes,
        )

    # ---- async continuous mode ------------------------------------------------------

    async def atrajectories(
        self, num_episodes: int | None = None
    ) -> AsyncIterator[Trajectory]:
        """Play every game on its own and yield each episode as it finishes.

        Game ``i`` is a single-game ``BatchedEnv`` seeded as game ``i`` of the sync
        mode (``seed + i // group_size``), so its
        episodes match game ``i`` of the sync mode given the same moves.
        """
        self._meters, self._mode = _Meters(), "async"
        outbox: asyncio.Queue[Any] = asyncio.Queue()
        batchers: dict[tuple[str, int], _Batcher] = {}
        counter = iter(range(self.num_envs, 2**62))
        writer = (
            TrajectoryWriter(self.trajectory_path) if self.trajectory_path else None
        )
        agents = BatchedEnv(self.env_id, 1, view=self.view, **self.config).agents
        self._seats = {agent: seat for seat, agent in enumerate(agents)}

        def batcher_for(policy: Policy) -> _Batcher:
            key = _group_key(policy)
            if key not in batchers:
                batchers[key] = self._make_batcher(policy, key[0])
            return batchers[key]

        async def play(i: int) -> None:
            episode_id = i
            env = BatchedEnv(
                self.env_id,
                1,
                view=self.view,
                invalid_move=self.invalid_move,
                **self.config,
            )
            observations, infos = env.reset(seed=self._game_seed(i))
            episode = _OpenEpisode(episode_id, i, seed=self._game_seed(i))
            while _in_budget(episode_id, num_episodes):
                seat = int(env.acting[0])
                turn = self._turn(env.agents[seat], observations, infos, 0, episode_id)
                turn = dataclasses.replace(turn, game_index=i)
                policy = self._policy_of(turn)
                decision = await batcher_for(policy).submit(turn, policy)
                start = time.perf_counter()
                step = env.step([decision.action])
                self._meters.env_s += time.perf_counter() - start
                self._meters.env_steps += 1
                self._record(episode, turn, decision, step, 0, seat)
                if step.terminated[0] or step.truncated[0]:
                    trajectory = self._close(episode, step, 0, env.agents)
                    if writer:
                        writer.write(trajectory)
                    await outbox.put(trajectory)
                    episode_id = next(counter)
                    episode = _OpenEpisode(episode_id, i)
                observations, infos = step.observations, step.infos

        async def play_all() -> None:
            try:
                await asyncio.gather(*(play(i) for i in range(self.num_envs)))
                await outbox.put(_DONE)
            except BaseException as error:  # handed to the consumer, which re-raises
                await outbox.put(error)

        runner = asyncio.create_task(play_all())
        try:
            while True:
                item = await outbox.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            runner.cancel()
            for batcher in batchers.values():
                batcher.close()
            with contextlib.suppress(BaseException):
                await runner
            self._meters.end = time.perf_counter()
            if writer:
                writer.close()

    async def arun(self, num_episodes: int) -> RunResult:
        """Play ``num_episodes`` episodes in async continuous mode."""
        trajectories = [t async for t in self.atrajectories(num_episodes)]
        return RunResult(trajectories=trajectories, stats=self.stats)

    def _make_batcher(self, policy: Policy, kind: str) -> _Batcher:
        if kind == "backend":
            inflight = int(getattr(policy.backend, "max_concurrent_batches", 1))

            async def run_llm(items: list[tuple[Turn, Policy]]) -> list[Decision]:
                jobs, slots = _jobs([(k, p, t) for k, (t, p) in enumerate(items)])
                results = await adecide_many(jobs, self._meters.calls)
                decided = _unjob(slots, results)
                return [decided[k] for k in range(len(items))]

            return _Batcher(run_llm, self.max_batch_size, inflight, self.batch_window_s)

        async def run_scripted(items: list[tuple[Turn, Policy]]) -> list[Decision]:
            decided = self._decide_scripted(
                [(k, p, t) for k, (t, p) in enumerate(items)]
            )
            return [decided[k] for k in range(len(items))]

        return _Batcher(run_scripted, self.max_batch_size, 1, 0.0)


_DONE = object()


class _Batcher:
    """Queues turns of one group; sends what is queued whenever a call slot is free."""

    def __init__(self, run: Any, max_batch: int | None, inflight: int, window_s: float):
        self.run = run
        self.max_batch = max_batch
        self.window_s = window_s
        self.slots = asyncio.Semaphore(max(1, inflight))
        self.queue: asyncio.Queue[tuple[Turn, Policy, asyncio.Future[Decision]]] = (
            asyncio.Queue()
        )
        self.worker: asyncio.Task[None] | None = None
        self.calls: set[asyncio.Task[None]] = set()

    async def submit(self, turn: Turn, policy: Policy) -> Decision:
        """Queue one turn and wait for its decision."""
        future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        await self.queue.put((turn, policy, future))
        if self.worker is None:
            self.worker = asyncio.create_task(self._work())
        return await future

    async def _work(self) -> None:
        while True:
            first = await self.queue.get()
            # Wait for a free call slot first: turns keep queuing meanwhile, so the
            # next call takes all of them (continuous batching at turn granularity).
            await self.slots.acquire()
            if self.window_s:
                await asyncio.sleep(self.window_s)
            items = [first]
            while not self.queue.empty() and (
                self.max_batch is None or len(items) < self.max_batch
            ):
                items.append(self.queue.get_nowait())
            call = asyncio.create_task(self._call(items))
            self.calls.add(call)
            call.add_done_callback(self.calls.discard)

    async def _call(
        self, items: list[tuple[Turn, Policy, asyncio.Future[Decision]]]
    ) -> None:
        try:
            decisions = await self.run([(turn, policy) for turn, policy, _ in items])
            for (_, _, future), decision in zip(items, decisions, strict=True):
                if not future.done():
                    future.set_result(decision)
        except BaseException as error:
            for _, _, future in items:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
        finally:
            self.slots.release()

    def close(self) -> None:
        """Cancel the worker and calls in flight."""
        if self.worker is not None:
            self.worker.cancel()
        for call in list(self.calls):
            call.cancel()


def _policy_table(
    policies: Policy | Mapping[str | int, Policy],
) -> dict[str | int, Policy]:
    if isinstance(policies, Mapping):
        if not policies:
            raise ValueError("expected at least one policy, got an empty mapping")
        table = dict(policies)
    else:
        table = {DEFAULT_SEAT: policies}
    for key, policy in table.items():
        if not hasattr(policy, "act"):
            raise TypeError(
                f"expected a Policy for seat {key!r}, got {type(policy).__name__}"
            )
    return table


def _group_key(policy: Policy) -> tuple[str, int]:
    if isinstance(policy, LLMPolicy):
        return ("backend", id(policy.backend))
    return ("policy", id(policy))


def _jobs(
    items: Sequence[tuple[int, Policy, Turn]],
) -> tuple[list[tuple[LLMPolicy, list[Turn]]], list[list[int]]]:
    """Group turns by policy, keeping which slot each came from."""
    by_policy: dict[int, tuple[LLMPolicy, list[Turn], list[int]]] = {}
    for i, policy, turn in items:
        entry = by_policy.setdefault(id(policy), (policy, [], []))  # type: ignore[arg-type]
        entry[1].append(turn)
        entry[2].append(i)
    jobs = [(policy, turns) for policy, turns, _ in by_policy.values()]
    slots = [slots for _, _, slots in by_policy.values()]
    return jobs, slots


def _unjob(
    slots: list[list[int]], results: list[list[Decision]]
) -> dict[int, Decision]:
    return {
        i: d
        for job_slots, decided in zip(slots, results, strict=True)
        for i, d in zip(job_slots, decided, strict=True)
    }


def _in_budget(episode_id: int, num_episodes: int | None) -> bool:
    return num_episodes is None or episode_id < num_episodes


def _as_text(action: Any) -> str:
    if isinstance(action, (np.integer, np.ndarray)):
        return str(np.asarray(action).item())
    return action if isinstance(action, str) else str(action)


def _ids(generation: Any, field: str) -> list[int] | None:
    return None if generation is None else list(getattr(generation, field))
