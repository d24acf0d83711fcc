"""Replay an episode through its env and keep, at every step, what each seat saw.

A trace is a plain JSON-friendly dict (the page embeds it):

``{"title", "env_id", "seed", "config", "notes", "seats", "agents", "images",
"frames": [{"step", "actor", "action", "record", "rewards", "obs", "infos",
"images"}]}``. Frame 0 is the position after ``reset``; frame k the position after
the k-th recorded action. ``obs``, ``infos`` and ``images`` hold one entry per seat;
``images`` are keys into the trace's ``images`` (PNG data URLs, each picture once).
"""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

import numpy as np

from selfplay_agents.viewer.games import prepare
from selfplay_agents.viewer.load import Episode

__all__ = ["capture", "trace_from_turns"]

# Longer strings in infos are cut: a page stays small enough to open.
MAX_STRING = 20_000


def capture(episode: Episode) -> dict[str, Any]:
    """The trace of ``episode``: replayed when it can be, else from its turns."""
    if not episode.replayable:
        return trace_from_turns(episode)
    import selfplay_envs

    env = selfplay_envs.make(episode.env_id, **episode.config)
    env.reset(seed=episode.seed)
    trace = _header(episode, list(env.possible_agents))
    trace["frames"].append(_frame(env, trace, 0, None, None))
    for step, action in enumerate(episode.actions, start=1):
        if env.episode.done:
            trace["notes"].append(
                f"the game ended before move {step - 1}: the file holds more moves"
            )
            break
        actor = env.agent_selection
        seen = len(env.episode.records)
        env.step(action)
        records = env.episode.records[seen:]
        record = records[-1].to_dict() if records else None
        trace["frames"].append(_frame(env, trace, step, actor, action, record))
    if not env.episode.done:
        trace["notes"].append("the recorded moves end before the game does")
    trace["returns"] = dict(
        zip(env.possible_agents, env.episode.returns(), strict=True)
    )
    prepare(trace)  # what a game's panel needs beyond the frames
    return trace


def trace_from_turns(episode: Episode) -> dict[str, Any]:
    """A trace from a trajectory's own rows: each turn's prompt and reply, no env."""
    seats = sorted({t.get("agent", "?") for t in episode.turns})
    trace = _header(episode, seats)
    empty = {"obs": [""] * len(seats), "infos": [{}] * len(seats)}
    trace["frames"].append({"step": 0, "actor": None, "action": None, "record": None,
                            "rewards": {}, "images": [None] * len(seats), **empty})  # fmt: skip
    for step, turn in enumerate(episode.turns, start=1):
        agent = turn.get("agent", "?")
        obs = [""] * len(seats)
        obs[seats.index(agent)] = turn.get("observation") or turn.get("prompt") or ""
        record = {
            "agent": agent,
            "parsed": turn.get("parsed_action"),
            "valid": bool(turn.get("valid", True)),
            "reason": turn.get("invalid_reason", ""),
        }
        trace["frames"].append({
            "step": step, "actor": agent, "action": turn.get("completion"),
            "record": record, "rewards": {agent: turn.get("reward", 0.0)},
            "obs": obs, "infos": [{}] * len(seats), "images": [None] * len(seats),
        })  # fmt: skip
    return trace


def _header(episode: Episode, seats: list[str]) -> dict[str, Any]:
    return {
        "title": episode.title,
        "env_id": episode.env_id,
        "seed": episode.seed,
        "config": episode.config,
        "notes": list(episode.notes),
        "seats": seats,
        "agents": dict(episode.agents),
        "replayed": episode.replayable,
        "images": {},
        "frames": [],
    }


def _frame(
    env: Any,
    trace: dict[str, Any],
    step: int,
    actor: str | None,
    action: Any,
    record: dict[str, Any] | None = None,
) -> dict[str, Any]:
    episode = env.episode
    obs, infos, images = [], [], []
    for player in range(len(env.possible_agents)):
        observation = episode.observe(player)
        obs.append(observation.get("text", ""))
        images.append(_image_key(observation.get("image"), trace["images"]))
        infos.append(jsonable(episode.info(player)))
    rewards = {a: float(env.rewards.get(a, 0.0)) for a in env.possible_agents}
    return {
        "step": step,
        "actor": actor,
        "action": None if action is None else str(action),
        "record": record,
        "rewards": rewards,
        "obs": obs,
        "infos": infos,
        "images": images,
    }


def _image_key(image: Any, images: dict[str, str]) -> str | None:
    """Store ``image`` (an HxWx3 array) once as a PNG data URL; return its key."""
    if image is None:
        return None
    from PIL import Image

    array = np.asarray(image)
    key = hashlib.sha1(array.tobytes()).hexdigest()[:12]
    if key not in images:
        buffer = io.BytesIO()
        Image.fromarray(array.astype(np.uint8)).save(buffer, format="PNG")
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        images[key] = "data:image/png;base64," + encoded
    return key


def jsonable(value: Any) -> Any:
    """``value`` with arrays as lists, tuples as lists and long strings cut."""
    if isinstance(value, dict):
        # The numeric view's mask and the episode log (its own frames) add nothing.
        return {str(k): jsonable(v) for k, v in value.items() if k != "action_mask"}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str) and len(value) > MAX_STRING:
        return value[:MAX_STRING] + f"... ({len(value) - MAX_STRING} more characters)"
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
