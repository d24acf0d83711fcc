"""Read recorded episodes from every file format the project writes.

An episode is what it takes to play a game again: ``(env_id, config, seed,
actions)``. The formats:

* ``selfplay play --record``: one JSON line ``{"env_id", "seed", "config", "actions"}``;
* a bench ``results.jsonl``: records with a ``"key"``, and an ``"episode"`` (the same
  fields, plus ``"agents"``) in the first ``--record K`` games of each pairing;
* adapter trajectories (``TrajectoryWriter``, or ``selfplay_agents.export.write_jsonl``): one
  line per turn with ``episode_id``, ``step``, ``completion`` and, for each game's
  first episode of a run only, ``seed``. They record no config: the env's defaults
  are assumed, and a trajectory without a seed is shown from its recorded turns
  (no replay).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

__all__ = ["FORMATS", "Episode", "load_episodes"]

FORMATS = (
    "a JSONL file of episodes: a `selfplay play --record` file, a bench results.jsonl "
    "with recorded episodes (`selfplay bench --record K`), or adapter trajectories "
    "(TrajectoryWriter or selfplay_agents.export.write_jsonl rows)"
)


@dataclasses.dataclass
class Episode:
    """One recorded episode.

    ``seed`` is None when the file did not record it: the episode cannot be replayed
    and is shown from ``turns`` (the trajectory's own rows) instead.
    """

    env_id: str
    seed: int | None
    config: dict[str, Any]
    actions: list[Any]
    title: str
    agents: dict[str, str] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)
    turns: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def replayable(self) -> bool:
        return self.seed is not None


def load_episodes(path: str | Path) -> list[Episode]:
    """Every episode in ``path``; a one-line ValueError says what was expected."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read {path}: {e}") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            raise ValueError(
                f"expected {FORMATS}; {path} line {number} is not JSON"
            ) from None
    episodes: list[Episode] = []
    bench_games = 0
    trajectories: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        if not isinstance(row, dict) or "env_id" not in row:
            continue
        if "key" in row:  # a bench record; only --record K games keep their episode
            bench_games += 1
            if isinstance(row.get("episode"), dict):
                episodes.append(_bench_episode(row))
        elif "actions" in row:  # a play --record file
            episodes.append(_play_episode(row))
        elif "completion" in row and "step" in row:  # a trajectory turn
            key = (row.get("game_id"), row["env_id"], row.get("episode_id"))
            trajectories.setdefault(key, []).append(row)
    episodes.extend(_trajectory_episode(k, t) for k, t in trajectories.items())
    if not episodes:
        found = (
            f"it holds {bench_games} bench games but no recorded episode (run "
            "`selfplay bench --record K` to keep K per pairing)"
            if bench_games
            else "it holds no episode"
        )
        raise ValueError(f"expected {FORMATS}; {path}: {found}")
    return episodes


def _play_episode(row: dict[str, Any]) -> Episode:
    seed = row.get("seed")
    return Episode(
        env_id=row["env_id"],
        seed=seed,
        config=dict(row.get("config") or {}),
        actions=list(row["actions"]),
        title=f"{row['env_id']} seed {seed}",
        agents=dict(row.get("agents") or {}),
    )


def _bench_episode(row: dict[str, Any]) -> Episode:
    episode = _play_episode(row["episode"])
    episode.title = (
        f"{row['env_id']} seed {row.get('seed')}: {row.get('a')} vs {row.get('b')}"
    )
    return episode


def _trajectory_episode(key: tuple[Any, ...], turns: list[dict[str, Any]]) -> Episode:
    game_id, env_id, episode_id = key
    turns.sort(key=lambda r: r["step"])
    seed = turns[0].get("seed")
    notes = ["the trajectory records no config: the env's defaults are assumed"]
    steps = [t["step"] for t in turns]
    if seed is None:
        notes.append(
            "the trajectory records no seed (only each game's first episode of a run "
            "has one), so it cannot be replayed: shown from its recorded turns"
        )
    elif steps != list(range(len(steps))):
        seed = None
        notes.append(
            "the trajectory lacks turns (export it with keep_untokenized=True), so it "
            "cannot be replayed: shown from its recorded turns"
        )
    policies = {t["agent"]: t.get("policy", "") for t in turns if "agent" in t}
    return Episode(
        env_id=env_id,
        seed=seed,
        config={},
        actions=[t["completion"] for t in turns],
        title=f"{env_id} trajectory {game_id or episode_id}",
        agents=policies,
        notes=notes,
        turns=turns,
    )
