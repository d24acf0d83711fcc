"""Fixed opponents for ``core_war_v0``: the shipped classic warriors, and random ones.

* ``pool``: for each submission, a warrior drawn uniformly from the classics shipped
  in ``envs_assets/core_war/warriors/`` (imp, stones, papers, scanners, clears, a
  vampire, an imp ring, ...), among those that assemble under the game's hill. A
  learner's mean ``metrics["score"]`` in games against it, which the arena reports,
  is its Core War score against the warrior pool.
* ``imp``, ``dwarf``: always that classic, the two reference points of Core War (imp
  ties almost everything, dwarf kills about a quarter of imps).
* ``random``: a random warrior of 1 to 8 instructions, every field drawn at random
  (opcode, modifier, modes, numbers, start), that always assembles. A floor, not a
  strategy.

All of them answer with the warrior in a ```redcode fenced block and read the hill from
``turn.info["settings"]``, never from the prompt. Each owns its ``numpy`` Generator.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from selfplay_agents.policy import Turn
from selfplay_envs.games.core_war.assembler import (
    AssemblerSettings,
    RedcodeError,
    assemble,
)
from selfplay_envs.games.core_war.instructions import MODE_SYMBOLS, Modifier, Opcode
from selfplay_envs.games.core_war.rules import shipped_warrior_paths

__all__ = ["WarriorPool", "ClassicWarrior", "RandomWarrior", "imp", "dwarf"]

_MAX_RANDOM_LENGTH = 8
_SMALL = 10  # half of the numbers are small offsets, the rest anywhere in the core


def fenced(source: str) -> str:
    """A warrior as a reply: one ```redcode block."""
    return f"```redcode\n{source.strip()}\n```"


@functools.lru_cache(maxsize=1)
def _classics() -> tuple[tuple[str, str], ...]:
    """``(stem, source)`` of every shipped warrior."""
    return tuple(
        (path.stem, path.read_text(encoding="latin-1"))
        for path in shipped_warrior_paths()
    )


def _settings(info: dict[str, Any]) -> AssemblerSettings:
    hill = info["settings"]
    return AssemblerSettings(
        core_size=hill["core_size"],
        max_cycles=hill["max_cycles"],
        max_processes=hill["max_processes"],
        max_length=hill["max_length"],
        min_distance=hill["min_distance"],
        warriors=info.get("warriors_per_battle", 2),
        rounds=info.get("rounds", 1),
    )


@functools.lru_cache(maxsize=32)
def _eligible(settings: AssemblerSettings) -> tuple[tuple[str, str], ...]:
    """The classics that assemble under ``settings`` (asserts, length)."""
    out = []
    for stem, source in _classics():
        try:
            assemble(source, settings)
        except RedcodeError:
            continue
        out.append((stem, source))
    return tuple(out)


class WarriorPool:
    """A classic warrior drawn at random for each episode.

    Args:
        seed: Seed of the policy's own Generator.
        names: Restrict the pool to these warrior file stems (e.g. ``["dwarf"]``);
            default every shipped warrior.
    """

    name = "pool"

    def __init__(self, seed: int | None = None, names: Sequence[str] | None = None):
        stems = [stem for stem, _ in _classics()]
        unknown = sorted(set(names or ()) - set(stems))
        if unknown:
            raise ValueError(f"expected warrior names among {stems}, got {unknown}")
        self.names = tuple(names) if names else None
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed, so a seeded episode replays the same warriors."""
        self.rng = np.random.default_rng(seed)

    def act(self, turns: Sequence[Turn]) -> list[str]:
        """The episode's warrior for each turn, fenced."""
        return [fenced(self._source(turn)) for turn in turns]

    def _source(self, turn: Turn) -> str:
        pool = [
            (stem, source)
            for stem, source in _eligible(_settings(turn.info))
            if self.names is None or stem in self.names
        ]
        if not pool:
            raise ValueError(
                f"expected a pool warrior that fits the hill {turn.info['settings']}, "
                f"got none of {self.names or 'the shipped warriors'}"
            )
        return pool[int(self.rng.integers(len(pool)))][1]


class ClassicWarrior(WarriorPool):
    """Always the same shipped warrior, e.g. ``ClassicWarrior("dwarf")``."""

    def __init__(self, warrior: str, seed: int | None = None):
        super().__init__(seed=seed, names=[warrior])
        self.name = warrior


def imp(seed: int | None = None) -> ClassicWarrior:
    """The Imp: ``MOV.I $0, $1``."""
    return ClassicWarrior("imp", seed=seed)


def dwarf(seed: int | None = None) -> ClassicWarrior:
    """The Dwarf: a DAT bomb on every fourth cell."""
    return ClassicWarrior("dwarf", seed=seed)


class RandomWarrior:
    """Random warriors of 1-8 instructions that always assemble.

    Every field is drawn from this policy's Generator: opcode (all 19), modifier,
    both modes and numbers (half small offsets in [-10, 10], half anywhere in the
    core), and the start instruction.
    """

    name = "random"

    def __init__(self, seed: int | None = None):
        self.rng = np.random.default_rng(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed, so a seeded episode replays the same warriors."""
        self.rng = np.random.default_rng(seed)

    def act(self, turns: Sequence[Turn]) -> list[str]:
        """A fresh random warrior for each turn, fenced."""
        return [fenced(self.source(turn.info)) for turn in turns]

    def source(self, info: dict[str, Any]) -> str:
        """The Redcode of one random warrior fitting ``info["settings"]``."""
        hill = info["settings"]
        length = int(
            self.rng.integers(1, min(_MAX_RANDOM_LENGTH, hill["max_length"]) + 1)
        )
        start = int(self.rng.integers(length))
        lines = [";redcode-94", ";name Random", ";author selfplay-envs"]
        for k in range(length):
            label = "start" if k == start else ""
            lines.append(f"{label:<8}{self._instruction(hill['core_size'])}")
        lines.append("        end     start")
        return "\n".join(lines) + "\n"

    def _instruction(self, core_size: int) -> str:
        opcode = Opcode(int(self.rng.integers(len(Opcode)))).name.lower()
        modifier = Modifier(int(self.rng.integers(len(Modifier)))).name.lower()
        a, b = (
            f"{MODE_SYMBOLS[int(self.rng.integers(8))]}{self._number(core_size)}"
            for _ in range(2)
        )
        return f"{opcode}.{modifier:<3}{a}, {b}"

    def _number(self, core_size: int) -> int:
        if self.rng.random() < 0.5:
            return int(self.rng.integers(-_SMALL, _SMALL + 1))
        half = core_size // 2
        return int(self.rng.integers(-half + 1, half + 1))
