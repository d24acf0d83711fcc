"""A read-only trace of one Core War round: who owns each cell, over time.

The simulator reports no per-cycle history, so this replays the first round of a
recorded battle on the single-stepping :class:`Mars` (the same kernel as the battle),
one instruction at a time, and attributes each changed cell to the warrior that just
executed. A write that leaves a cell's value unchanged is not seen. The engine is
only read, never changed: the core array is compared between steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["trace_round"]

# Frames kept per round: enough for a smooth animation, small enough for the page.
MAX_FRAMES = 160


def trace_round(
    info: dict[str, Any], *, max_steps: int = 50_000
) -> dict[str, Any] | None:
    """The first round of the first battle in a final Core War ``info``, or None.

    Returns ``{"core_size", "warriors", "positions", "frames": [{"step", "cycle",
    "owner", "writes", "processes"}], "death_cycles", "recorded_death_cycles"}``;
    ``owner`` is one character per cell: ``"."`` for none, else the warrior's index.
    """
    from selfplay_envs.games.core_war.loadfile import parse_load_file
    from selfplay_envs.games.core_war.mars import Mars, MarsSettings

    try:
        submission = info["battles"][-1]
        battle = submission["battles"][0]
        first_round = battle["round_log"][0]
        names = battle["warriors"]
        index = submission.get("submission", 0)
        settings = MarsSettings(**info["settings"])
        warriors = [
            parse_load_file(info["load_files"][n][index], settings.core_size, name=n)
            for n in names
        ]
    except (KeyError, IndexError, TypeError, ValueError):
        return None  # no battle recorded (an invalid warrior, another mode)
    positions = [int(p) for p in first_round["positions"]]
    mars = Mars(settings)
    mars.load(warriors, positions, first=int(first_round["first"]))
    size = settings.core_size
    owner = np.full(size, -1, np.int8)
    for w, (warrior, start) in enumerate(zip(warriors, positions, strict=True)):
        owner[(start + np.arange(len(warrior.instructions))) % size] = w
    expected = int(first_round["cycles"]) * len(warriors)
    stride = max(1, min(expected, max_steps) // MAX_FRAMES)
    frames = [_snapshot(mars, owner, [], 0, len(warriors))]
    writes: list[list[int]] = []
    previous = mars._core.reshape(size, 4).copy()  # read-only access to the core
    while not mars.finished and mars.steps < max_steps:
        actor = mars.next_warrior
        mars.step(1)
        cells = mars._core.reshape(size, 4)
        changed = np.flatnonzero((cells != previous).any(axis=1))
        if changed.size:
            owner[changed] = actor
            writes.extend([int(c), actor] for c in changed)
            previous[changed] = cells[changed]
        if mars.steps % stride == 0 or mars.finished:
            frames.append(_snapshot(mars, owner, writes, mars.steps, len(warriors)))
            writes = []
    if frames[-1]["step"] != mars.steps:  # cut at max_steps between two frames
        frames.append(_snapshot(mars, owner, writes, mars.steps, len(warriors)))
    return {
        "core_size": size,
        "warriors": names,
        "positions": positions,
        "frames": frames,
        # A long round is traced only so far (about 0.15 ms a step here): say so.
        "complete": mars.finished,
        "death_cycles": list(mars.death_cycles),
        "recorded_death_cycles": first_round.get("death_cycles"),
        "wins": battle.get("wins"),
        "ties": battle.get("ties"),
        "losses": battle.get("losses"),
        "scores": battle.get("scores"),
        "rounds": battle.get("rounds"),
    }


def _snapshot(
    mars: Any, owner: np.ndarray, writes: list[list[int]], step: int, n: int
) -> dict[str, Any]:
    cells = "".join("." if o < 0 else str(int(o)) for o in owner)
    return {
        "step": step,
        "cycle": step // max(1, n),
        "owner": cells,
        "writes": writes,
        "processes": [len(mars.queue(w)) for w in range(n)],
        "pcs": [list(mars.queue(w)[:1]) for w in range(n)],
    }
