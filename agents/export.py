"""Trajectories as trainer-ready rows: JSONL, Parquet, and a Hugging Face dataset.

``BatchInferenceAdapter`` records every attempted move with its prompt and completion
token ids and the sampling logprobs (``selfplay_agents.adapter.TurnSample``). This module turns
those records into one flat row per model turn, the shape that LLM RL trainers (verl,
OpenRLHF, TRL) consume:

=================  ===========================================================
``game_id``        ``"<env_id>/<run_id>/<episode_id>"``: unique per episode
``env_id``         the env
``episode_id``     the episode (start order within its run)
``step``/``turn``  attempt index in the episode / game move it belongs to
``agent``/``seat`` who acted; ``role`` the game role (``x``, ``opener``...)
``policy``         name of the policy that acted
``prompt_ids``     prompt token ids (chat template applied)
``completion_ids`` generated token ids
``logprobs``       sampling logprob of each completion token
``prompt``         the observation text (not the chat-templated prompt)
``completion``     the completion text
``valid``          whether the env accepted the move; ``invalid_reason`` if not
``reward``         reward of this step (the outcome on the last step, else 0)
``episode_return`` the seat's final return: the usual REINFORCE/GRPO target
``outcome``        ``win``/``loss``/``draw``/``truncated`` for this seat
``advantage``      filled by one of the estimators below, else null
``seed``           the seed the episode started from, where known (GRPO groups)
``phase``          the game's phase at the turn (the spy game's clue or vote)
``trainable``      whether the turn carries gradient (Iterative-SPO marks the
                   other stage's turns False); trainers mask the rest out
``images``         ``image_hash`` of each image in the turn's prompt (VLM
                   policies), to rebuild the pixel inputs; empty for text
=================  ===========================================================

Advantage estimators, one per paper (each returns new rows):

* ``player_advantages``: SPIRAL's role-conditioned baseline, keyed by player;
* ``role_advantages``: the same keyed by the turn's game role;
* ``turn_advantages``: MARS's turn-level reward-to-go, normalised per player;
* ``group_advantages``: GRPO's group normalisation; ``by_seed_and_seat`` groups the
  episodes that started from one seed (``BatchInferenceAdapter(group_size=G)``).

Turns without tokens (scripted opponents) are left out unless asked for: a trainer
cannot score them. Parquet needs ``pyarrow``; ``load_dataset`` needs ``datasets``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from selfplay_agents.adapter import Trajectory, read_turns
from selfplay_envs.core.errors import DependencyNotInstalled

__all__ = [
    "TrainerRow",
    "RoleBaseline",
    "trainer_rows",
    "rows_from_turn_log",
    "role_advantages",
    "group_advantages",
    "player_advantages",
    "turn_advantages",
    "by_seed_and_seat",
    "write_jsonl",
    "read_jsonl",
    "write_parquet",
    "read_parquet",
    "load_dataset",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainerRow:
    """One model turn, as a trainer consumes it (see the module docstring)."""

    game_id: str
    env_id: str
    episode_id: int
    step: int
    turn: int
    agent: str
    seat: int
    role: str
    policy: str
    prompt_ids: list[int]
    completion_ids: list[int]
    logprobs: list[float] | None
    prompt: str
    completion: str
    valid: bool
    invalid_reason: str
    reward: float
    episode_return: float
    outcome: str
    advantage: float | None = None
    seed: int | None = None
    phase: str = ""
    trainable: bool = True
    images: list[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return dataclasses.asdict(self)


def trainer_rows(
    trajectories: Iterable[Trajectory],
    *,
    run_id: str = "run",
    policies: Sequence[str] | None = None,
    keep_untokenized: bool = False,
) -> list[TrainerRow]:
    """Flatten trajectories into one row per turn.

    Args:
        trajectories: ``Trajectory`` objects from ``BatchInferenceAdapter``.
        run_id: Goes into ``game_id``, so that episodes of several runs stay distinct.
        policies: Keep only turns played by these policy names (e.g. the learner).
        keep_untokenized: Keep turns without token ids (scripted policies).
    """
    rows = []
    for trajectory in trajectories:
        for turn in trajectory.turns:
            if policies is not None and turn.policy not in policies:
                continue
            if turn.prompt_token_ids is None and not keep_untokenized:
                continue
            rows.append(
                TrainerRow(
                    game_id=f"{trajectory.env_id}/{run_id}/{trajectory.episode_id}",
                    env_id=trajectory.env_id,
                    episode_id=trajectory.episode_id,
                    step=turn.step,
                    turn=turn.turn,
                    agent=turn.agent,
                    seat=turn.seat,
                    role=turn.role,
                    policy=turn.policy,
                    prompt_ids=list(turn.prompt_token_ids or []),
                    completion_ids=list(turn.completion_token_ids or []),
                    logprobs=None if turn.logprobs is None else list(turn.logprobs),
                    prompt=turn.observation,
                    completion=turn.completion,
                    valid=turn.valid,
                    invalid_reason=turn.invalid_reason,
                    reward=turn.reward,
                    episode_return=turn.episode_return,
                    outcome=trajectory.outcomes.get(turn.agent, ""),
                    seed=trajectory.seed,
                    phase=turn.phase,
                    images=list(turn.images),
                )
            )
    return rows


def rows_from_turn_log(
    path: str | Path, *, run_id: str = "run", keep_untokenized: bool = False
) -> list[TrainerRow]:
    """Trainer rows from the JSONL turn log a ``BatchInferenceAdapter`` wrote."""
    rows = []
    for turn in read_turns(path):
        if turn["prompt_token_ids"] is None and not keep_untokenized:
            continue
        rows.append(
            TrainerRow(
                game_id=f"{turn['env_id']}/{run_id}/{turn['episode_id']}",
                env_id=turn["env_id"],
                episode_id=turn["episode_id"],
                step=turn["step"],
                turn=turn["turn"],
                agent=turn["agent"],
                seat=turn["seat"],
                role=turn["role"],
                policy=turn["policy"],
                prompt_ids=list(turn["prompt_token_ids"] or []),
                completion_ids=list(turn["completion_token_ids"] or []),
                logprobs=turn["logprobs"],
                prompt=turn["observation"],
                completion=turn["completion"],
                valid=turn["valid"],
                invalid_reason=turn["invalid_reason"],
                reward=turn["reward"],
                episode_return=turn["episode_return"],
                outcome=turn["outcome"],
                seed=turn.get("seed"),
                phase=turn.get("phase", ""),
                images=list(turn.get("images") or []),
            )
        )
    return rows


# ---- advantage estimates ------------------------------------------------------------


class RoleBaseline:
    """SPIRAL's role-conditioned baseline: a moving average of the return per role.

    Args:
        decay: Weight of the old value in each update (SPIRAL uses 0.95).
    """

    def __init__(self, decay: float = 0.95):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"expected 0 <= decay < 1, got {decay}")
        self.decay = decay
        self.values: dict[tuple[str, str], float] = {}

    def value(self, env_id: str, role: str) -> float:
        """The current baseline of ``role`` in ``env_id`` (0 before any update)."""
        return self.values.get((env_id, role), 0.0)

    def update(self, env_id: str, role: str, episode_return: float) -> None:
        """Fold one episode's return of ``role`` into its average."""
        old = self.values.get((env_id, role), 0.0)
        self.values[(env_id, role)] = (
            self.decay * old + (1 - self.decay) * episode_return
        )


def role_advantages(
    rows: Sequence[TrainerRow], baseline: RoleBaseline | None = None
) -> list[TrainerRow]:
    """Advantage = episode return - the baseline of the acting role (RAE).

    With a ``RoleBaseline`` the advantages use its values before this batch, then the
    batch's episodes update it, once per episode and role (not once per turn: a role
    that moves more often must not weigh more). Without one, the baseline is the
    batch's mean return of each role, over episodes.
    """
    episodes = _episode_returns(rows)
    if baseline is None:
        by_role: dict[tuple[str, str], list[float]] = defaultdict(list)
        for (env_id, _, role), value in episodes.items():
            by_role[(env_id, role)].append(value)
        means = {key: sum(v) / len(v) for key, v in by_role.items()}
        return [
            _with(row, row.episode_return - means[(row.env_id, row.role)])
            for row in rows
        ]
    result = [
        _with(row, row.episode_return - baseline.value(row.env_id, row.role))
        for row in rows
    ]
    for (env_id, _, role), value in episodes.items():
        baseline.update(env_id, role, value)
    return result


def player_advantages(
    rows: Sequence[TrainerRow], baseline: RoleBaseline
) -> list[TrainerRow]:
    """SPIRAL's RAE keyed by player (seat): A = R - b, then b <- decay*b + (1-decay)*R.

    Keyed by (env_id, agent), not by the turn's game role: in an N-hand match each
    seat alternates roles, so a role key mixes the two seats' returns. The baseline
    used is the one before this batch; it updates once per episode and player.
    """
    result = [
        _with(row, row.episode_return - baseline.value(row.env_id, row.agent))
        for row in rows
    ]
    returns: dict[tuple[str, str, str], float] = {}
    for row in rows:
        returns[(row.env_id, row.game_id, row.agent)] = row.episode_return
    for (env_id, _, agent), value in returns.items():
        baseline.update(env_id, agent, value)
    return result


def group_advantages(
    rows: Sequence[TrainerRow],
    key: Callable[[TrainerRow], Any] = lambda row: (row.env_id, row.role),
    *,
    normalize: bool = True,
    epsilon: float = 1e-6,
) -> list[TrainerRow]:
    """GRPO-style advantages: (return - group mean) / group std, over episodes.

    Groups default to (env, role), which makes this RAE with a batch baseline and a
    per-role scale. Statistics are over episodes, one return per episode and seat.
    """
    returns: dict[Any, dict[tuple[str, str], float]] = defaultdict(dict)
    for row in rows:
        returns[key(row)][(row.game_id, row.agent)] = row.episode_return
    stats = {}
    for group, values in returns.items():
        mean = sum(values.values()) / len(values)
        var = sum((v - mean) ** 2 for v in values.values()) / len(values)
        stats[group] = (mean, math.sqrt(var) + epsilon if normalize else 1.0)
    return [
        _with(row, (row.episode_return - stats[key(row)][0]) / stats[key(row)][1])
        for row in rows
    ]


def by_seed_and_seat(row: TrainerRow) -> tuple[str, int, str]:
    """GRPO's group key: the episodes of one seat that started from one seed.

    Raises ``ValueError`` for a row whose seed is unknown (an episode that began by
    auto-reset): play each group with ``BatchInferenceAdapter(group_size=G)`` and
    ``run(num_episodes=num_envs)``, so every episode is a first episode.
    """
    if row.seed is None:
        raise ValueError(
            f"row of {row.game_id} has no seed: GRPO groups need episodes that start "
            "from a known seed (BatchInferenceAdapter(group_size=G), "
            "run(num_episodes=num_envs))"
        )
    return (row.env_id, row.seed, row.agent)


def turn_advantages(
    rows: Sequence[TrainerRow],
    *,
    gamma: float = 1.0,
    key: Callable[[TrainerRow], Any] = lambda row: (row.env_id, row.agent),
    epsilon: float = 1e-6,
) -> list[TrainerRow]:
    """MARS's turn-level advantages with per-player normalisation.

    Each turn's return is the reward-to-go of its player from that turn on,
    ``G_t = r_t + gamma * G_{t+1}`` over the player's own turns in its episode. The
    outcome counts on the player's last turn, even when the other seat's move ended
    the game; shaping such as a format bonus counts on the turn that earned it. Then, per
    player (``key``) over the batch: centre on the mean of the returns, divide by
    their standard deviation, and re-centre so the player's distinct values average
    zero (so a long episode's many equal returns do not pull the zero point).
    """
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"expected 0 <= gamma <= 1, got {gamma}")
    to_go = _rewards_to_go(rows, gamma)
    groups: dict[Any, list[float]] = defaultdict(list)
    for row, value in zip(rows, to_go, strict=True):
        groups[key(row)].append(value)
    scale = {}
    for group, values in groups.items():
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        unique = sorted({(v - mean) / (std + epsilon) for v in values})
        scale[group] = (mean, std + epsilon, sum(unique) / len(unique))
    result = []
    for row, value in zip(rows, to_go, strict=True):
        mean, std, centre = scale[key(row)]
        result.append(_with(row, (value - mean) / std - centre))
    return result


def _rewards_to_go(rows: Sequence[TrainerRow], gamma: float) -> list[float]:
    """Each row's discounted sum of its player's rewards from its step on."""
    by_player: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_player[(row.game_id, row.agent)].append(index)
    to_go = [0.0] * len(rows)
    for indices in by_player.values():
        indices.sort(key=lambda i: rows[i].step, reverse=True)
        # A seat's outcome arrives on whichever seat's step ends the game: the part
        # of its return that no turn of its own carries belongs to its last turn.
        rest = rows[indices[0]].episode_return - sum(rows[i].reward for i in indices)
        running = 0.0
        for n, index in enumerate(indices):
            running = rows[index].reward + (rest if n == 0 else 0.0) + gamma * running
            to_go[index] = running
    return to_go


def _episode_returns(rows: Sequence[TrainerRow]) -> dict[tuple[str, str, str], float]:
    """One return per (episode, seat), keyed by (env, game and agent, role)."""
    returns: dict[tuple[str, str, str], float] = {}
    for row in rows:
        returns[(row.env_id, f"{row.game_id}#{row.agent}", row.role)] = (
            row.episode_return
        )
    return returns


def _with(row: TrainerRow, advantage: float) -> TrainerRow:
    return dataclasses.replace(row, advantage=float(advantage))


# ---- files ----------------------------------------------------------------------------


def write_jsonl(rows: Iterable[TrainerRow], path: str | Path) -> Path:
    """Write one JSON object per row."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row.to_dict()) + "\n")
    return path


def read_jsonl(path: str | Path) -> Iterator[TrainerRow]:
    """Read rows written by ``write_jsonl``."""
    with Path(path).open(encoding="utf-8") as file:
        for line in file:
            if line.strip():
                yield TrainerRow(**json.loads(line))


def _arrow_schema() -> Any:
    pa = _pyarrow()
    return pa.schema(
        [
            ("game_id", pa.string()),
            ("env_id", pa.string()),
            ("episode_id", pa.int64()),
            ("step", pa.int32()),
            ("turn", pa.int32()),
            ("agent", pa.string()),
            ("seat", pa.int32()),
            ("role", pa.string()),
            ("policy", pa.string()),
            ("prompt_ids", pa.list_(pa.int32())),
            ("completion_ids", pa.list_(pa.int32())),
            ("logprobs", pa.list_(pa.float32())),
            ("prompt", pa.string()),
            ("completion", pa.string()),
            ("valid", pa.bool_()),
            ("invalid_reason", pa.string()),
            ("reward", pa.float32()),
            ("episode_return", pa.float32()),
            ("outcome", pa.string()),
            ("advantage", pa.float32()),
            ("seed", pa.int64()),
            ("phase", pa.string()),
            ("trainable", pa.bool_()),
            ("images", pa.list_(pa.string())),
        ]
    )


def write_parquet(rows: Sequence[TrainerRow], path: str | Path) -> Path:
    """Write rows to one Parquet file with a fixed schema (token ids as int32 lists)."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = _arrow_schema()
    columns = {name: [getattr(row, name) for row in rows] for name in schema.names}
    pq.write_table(pa.table(columns, schema=schema), path)
    return path


def read_parquet(path: str | Path) -> list[TrainerRow]:
    """Read rows written by ``write_parquet``."""
    _pyarrow()
    import pyarrow.parquet as pq

    # float32 columns (logprobs, rewards) come back as the nearest double.
    return [TrainerRow(**record) for record in pq.read_table(path).to_pylist()]


def load_dataset(path: str | Path) -> Any:
    """A Hugging Face ``datasets.Dataset`` over a ``.parquet`` or ``.jsonl`` export."""
    try:
        import datasets
    except ImportError as e:
        raise DependencyNotInstalled.for_extra("datasets", "trainers") from e
    path = Path(path)
    if path.suffix == ".parquet":
        return datasets.Dataset.from_parquet(str(path))
    if path.suffix in (".jsonl", ".json"):
        return datasets.Dataset.from_json(str(path))
    raise ValueError(f"expected a .parquet or .jsonl file, got {path.name!r}")


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError as e:
        raise DependencyNotInstalled.for_extra("pyarrow", "trainers") from e
    return pyarrow
