"""Digital Red Queen's outer loop: rounds of MAP-Elites against a growing archive.

Digital Red Queen (DRQ, Kumar et al. 2026; ``src/drq.py`` of SakanaAI/drq) evolves
Core War warriors in rounds. In round ``r`` every candidate fights one melee against
the initial opponents plus the champions of the last ``k`` rounds, and its fitness is
DRQ's survival share (``core_war_v0`` with ``preset="drq"``). A round keeps a
MAP-Elites grid over the behaviour descriptors ``(tsp, mc)`` (``descriptors.drq_cell``):
it starts with ``n_init`` new warriors, then each iteration asks the variation operator
for a new warrior with probability ``p_new`` (always while the grid is empty) or for a
mutation of a uniformly drawn elite; once the round's best fitness exceeds
``fitness_threshold`` its remaining iterations are skipped, as DRQ does. The round's
champion (its best elite) joins the archive for the rounds after it.

The variation operator is a protocol (``Variation``): DRQ's is an LLM asked to write or
mutate a warrior; ``ScriptedMutator`` is a scripted one (opcode, modifier, mode and
number mutations, insertion, deletion, crossover with a second elite) for tests and
baselines. ``RedQueen.state_dict()`` holds everything the loop needs, the random
generator included, so a killed run resumes with identical results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

import selfplay_envs
from selfplay_envs.games.core_war.assembler import (
    AssemblerSettings,
    RedcodeError,
    assemble,
    to_load_file,
)
from selfplay_envs.games.core_war.instructions import (
    Instruction,
    Mode,
    Modifier,
    Opcode,
    Warrior,
)

__all__ = [
    "Elite",
    "LLMVariation",
    "RedQueen",
    "ScriptedMutator",
    "Variation",
    "redcode_block",
]

ENV_ID = "core_war_v0"


@runtime_checkable
class Variation(Protocol):
    """Writes warriors: new ones, and variations of elites (Redcode source text)."""

    def new(self, rng: np.random.Generator) -> str:
        """A new warrior."""
        ...

    def mutate(self, parent: str, donor: str | None, rng: np.random.Generator) -> str:
        """A variation of ``parent``; ``donor`` is a second elite for crossover."""
        ...


@dataclasses.dataclass(frozen=True, kw_only=True)
class Elite:
    """One evaluated warrior: its source, fitness and behaviour cell."""

    source: str
    fitness: float
    tsp: float
    mc: float
    cell: tuple[int, int]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {**dataclasses.asdict(self), "cell": list(self.cell)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Elite:
        """The inverse of ``to_dict``."""
        return cls(**{**data, "cell": tuple(data["cell"])})


# ---- the scripted variation operator ---------------------------------------------

_OPCODES = tuple(op for op in Opcode if op not in (Opcode.LDP, Opcode.STP))


class ScriptedMutator:
    """A scripted ``Variation``: random warriors and point mutations of elites.

    Warriors are assembled, changed as instructions and written back as load files
    (``assembler.to_load_file``), so every result assembles. A mutation is one of:
    opcode, modifier, A/B mode, A/B number (a small step or anywhere in the core),
    insertion of a random instruction, deletion, or crossover (a prefix of the parent
    and a suffix of the donor) when a donor is given.

    Args:
        core_size: The hill's core size (numbers are drawn in it).
        max_length: The hill's longest warrior.
        new_length: Most instructions of a new warrior.
    """

    OPERATORS = (
        "opcode",
        "modifier",
        "mode",
        "number",
        "insert",
        "delete",
        "crossover",
    )

    def __init__(
        self, *, core_size: int = 8000, max_length: int = 100, new_length: int = 8
    ):
        self.core_size = core_size
        self.max_length = max_length
        self.new_length = min(new_length, max_length)
        self._settings = AssemblerSettings(core_size=core_size, max_length=max_length)

    def new(self, rng: np.random.Generator) -> str:
        """A random warrior of 1 to ``new_length`` instructions."""
        length = int(rng.integers(1, self.new_length + 1))
        code = [self.random_instruction(rng) for _ in range(length)]
        return self._source(code, int(rng.integers(0, length)))

    def mutate(self, parent: str, donor: str | None, rng: np.random.Generator) -> str:
        """One random operator applied to ``parent`` (crossover only with a donor).

        A parent that does not assemble under this hill (it may need the env's
        constants) gets a new warrior instead; a donor that does not is left out.
        """
        try:
            code, start = self._parse(parent)
        except RedcodeError:
            return self.new(rng)
        other = None
        if donor is not None:
            try:
                other, _ = self._parse(donor)
            except RedcodeError:
                other = None
        names = self.OPERATORS if other is not None else self.OPERATORS[:-1]
        name = names[int(rng.integers(0, len(names)))]
        if name == "crossover" and other is not None:
            cut_a = int(rng.integers(0, len(code) + 1))
            cut_b = int(rng.integers(0, len(other)))
            code = self.crossover(code, other, cut_a, cut_b)
        elif name == "insert":
            at = int(rng.integers(0, len(code) + 1))
            code = self.insert(code, at, self.random_instruction(rng))
        elif name == "delete":
            code = self.delete(code, int(rng.integers(0, len(code))))
        else:
            at = int(rng.integers(0, len(code)))
            code[at] = self._point(code[at], name, rng)
        return self._source(code, min(start, len(code) - 1))

    # The operators, deterministic given their positions (tests call them directly).

    def insert(
        self, code: list[Instruction], at: int, new: Instruction
    ) -> list[Instruction]:
        """``new`` before position ``at``; unchanged when the warrior is full."""
        if len(code) >= self.max_length:
            return list(code)
        return [*code[:at], new, *code[at:]]

    def delete(self, code: list[Instruction], at: int) -> list[Instruction]:
        """Without position ``at``; a one-instruction warrior is kept."""
        if len(code) <= 1:
            return list(code)
        return [*code[:at], *code[at + 1 :]]

    def crossover(
        self,
        code: list[Instruction],
        other: list[Instruction],
        cut: int,
        cut_other: int,
    ) -> list[Instruction]:
        """``code[:cut] + other[cut_other:]``, at most ``max_length`` long."""
        child = [*code[:cut], *other[cut_other:]] or list(code)
        return child[: self.max_length]

    def random_instruction(self, rng: np.random.Generator) -> Instruction:
        """Any opcode (but P-space), modifier and modes; numbers near or anywhere."""
        return Instruction(
            opcode=_OPCODES[int(rng.integers(0, len(_OPCODES)))],
            modifier=Modifier(int(rng.integers(0, len(Modifier)))),
            a_mode=Mode(int(rng.integers(0, len(Mode)))),
            a_number=self._number(rng),
            b_mode=Mode(int(rng.integers(0, len(Mode)))),
            b_number=self._number(rng),
        )

    def _point(
        self, ins: Instruction, name: str, rng: np.random.Generator
    ) -> Instruction:
        field_b = bool(rng.integers(0, 2))
        if name == "opcode":
            return dataclasses.replace(
                ins, opcode=_OPCODES[int(rng.integers(0, len(_OPCODES)))]
            )
        if name == "modifier":
            return dataclasses.replace(
                ins, modifier=Modifier(int(rng.integers(0, len(Modifier))))
            )
        if name == "mode":
            mode = Mode(int(rng.integers(0, len(Mode))))
            return dataclasses.replace(ins, **{"b_mode" if field_b else "a_mode": mode})
        key = "b_number" if field_b else "a_number"
        if rng.random() < 0.5:  # a small step, as a tweak of a constant
            step = int(rng.integers(1, 11)) * (1 if rng.random() < 0.5 else -1)
            value = (getattr(ins, key) + step) % self.core_size
        else:
            value = int(rng.integers(0, self.core_size))
        return dataclasses.replace(ins, **{key: value})

    def _number(self, rng: np.random.Generator) -> int:
        if rng.random() < 0.7:  # most constants in warriors are small offsets
            return int(rng.integers(-20, 21)) % self.core_size
        return int(rng.integers(0, self.core_size))

    def _parse(self, source: str) -> tuple[list[Instruction], int]:
        warrior = assemble(source, self._settings)
        return list(warrior.instructions), warrior.start

    def _source(self, code: list[Instruction], start: int) -> str:
        warrior = Warrior(instructions=tuple(code), start=start)
        return to_load_file(warrior, self.core_size)


# ---- the loop -----------------------------------------------------------------------


# ---- the LLM variation operator ------------------------------------------------------

NEW_PROMPT = """You are an expert Core War player. Write a new warrior in ICWS'94 Redcode for
a hill with core size {core_size}, at most {max_length} instructions, {max_processes}
processes and {max_cycles} cycles before a tie. It will fight one melee against a set of
opponents; its score is how long it survives, shared with the warriors still alive.
Think about a strategy (a bomber, a scanner, a replicator, an imp, or a mix), then give
the whole program in one ```redcode fenced block, with an ORG or END naming its start."""

MUTATE_PROMPT = """You are an expert Core War player. Here is a warrior in ICWS'94 Redcode
for a hill with core size {core_size}, at most {max_length} instructions, {max_processes}
processes and {max_cycles} cycles before a tie:

```redcode
{parent}
```

Change it to make it survive longer in a melee against strong opponents: tune its
constants, change its strategy, or combine it with another idea. Give the whole new
program in one ```redcode fenced block, with an ORG or END naming its start."""


def redcode_block(text: str) -> str:
    """The last ```redcode (or plain ```) fenced block of ``text``, else the text.

    One pass of ``rfind`` per fence, so linear in the reply's length. The program is
    then judged by the env's assembler, whose error makes the warrior invalid (it is
    never placed in the grid), never an exception.
    """
    end = text.rfind("```")
    start = text.rfind("```", 0, end) if end >= 0 else -1
    if start < 0:
        return text.strip()
    body = text[start + 3 : end]
    newline = body.find("\n")
    header = body[:newline] if newline >= 0 else body
    if header.strip().isalnum() or not header.strip():  # the fence's language tag
        body = body[newline + 1 :] if newline >= 0 else ""
    return body.strip()


class LLMVariation:
    """DRQ's variation operator: an LLM asked to write or mutate a warrior.

    Works over any ``selfplay_agents.inference`` backend (transformers, vLLM, an OpenAI
    server). Each request is seeded from the driver's generator, so a run with a
    seeded backend is reproducible. A backend failure raises ``InfrastructureError``
    naming the backend and the cause: an outage is never a warrior, invalid or not.

    Args:
        backend: An ``InferenceBackend``.
        sampling: Sampling of each request (DRQ samples at temperature 1).
        core_size, max_length, max_processes, max_cycles: The hill, for the prompts.
    """

    def __init__(
        self,
        backend: Any,
        *,
        sampling: Any = None,
        core_size: int = 8000,
        max_length: int = 100,
        max_processes: int = 8000,
        max_cycles: int = 80000,
    ):
        from selfplay_agents.inference.base import SamplingParams

        self.backend = backend
        self.sampling = sampling or SamplingParams(max_tokens=1024, temperature=1.0)
        self.hill = {
            "core_size": core_size,
            "max_length": max_length,
            "max_processes": max_processes,
            "max_cycles": max_cycles,
        }

    def new(self, rng: np.random.Generator) -> str:
        """A new warrior from the model."""
        return self._ask(NEW_PROMPT.format(**self.hill), rng)

    def mutate(self, parent: str, donor: str | None, rng: np.random.Generator) -> str:
        """A variation of ``parent`` from the model (DRQ mutates one parent)."""
        del donor
        return self._ask(MUTATE_PROMPT.format(parent=parent.strip(), **self.hill), rng)

    def _ask(self, prompt: str, rng: np.random.Generator) -> str:
        from selfplay_agents.inference.base import Message, Request
        from selfplay_envs.core.errors import InfrastructureError

        request = Request(
            messages=(Message(role="user", content=prompt),),
            sampling=self.sampling,
            seed=int(rng.integers(0, 2**31 - 1)),
        )
        try:
            (result,) = self.backend.generate([request])
        except Exception as error:  # noqa: BLE001 - any backend failure is an outage
            raise InfrastructureError(
                f"the Red Queen's LLM backend {type(self.backend).__name__} failed: "
                f"{error}; check that the model server is up"
            ) from error
        if not result.ok:
            raise InfrastructureError(
                f"the Red Queen's LLM backend {type(self.backend).__name__} returned "
                f"an error: {result.error}"
            )
        return redcode_block(result.text)


class RedQueen:
    """DRQ's rounds: MAP-Elites per round against initial opponents + last champions.

    Args:
        variation: Writes new warriors and mutations (``Variation``).
        initial_opponents: Redcode sources or ``.red`` paths (DRQ's initial opponents).
        n_rounds: Rounds; each ends with a champion.
        n_iters: Iterations per round after the ``n_init`` new warriors.
        n_init: New warriors that start each round.
        last_k: Champions of the last ``k`` rounds fought; None: every champion.
        p_new: Probability that an iteration asks for a new warrior (DRQ: 0.1).
        fitness_threshold: A round stops once its best fitness exceeds this (DRQ: 0.8).
        map_elites: Keep one elite per ``(tsp, mc)`` cell; False: a single cell.
        seed: Seeds the driver's generator; every evaluation uses ``eval_seed``, so
            all candidates of a run meet the same placements (as DRQ's fixed seeds).
        eval_seed: The env seed of every evaluation.
        **config: Parameters of ``core_war_v0``; ``preset`` is ``"drq"`` unless given.
    """

    def __init__(
        self,
        variation: Variation,
        initial_opponents: Sequence[str | Path],
        *,
        n_rounds: int = 10,
        n_iters: int = 100,
        n_init: int = 8,
        last_k: int | None = None,
        p_new: float = 0.1,
        fitness_threshold: float = 0.8,
        map_elites: bool = True,
        seed: int = 0,
        eval_seed: int = 0,
        **config: Any,
    ):
        if not initial_opponents:
            raise ValueError("expected at least one initial opponent, got none")
        if not 0.0 <= p_new <= 1.0:
            raise ValueError(f"expected p_new in [0, 1], got {p_new}")
        self.variation = variation
        self.initial = [_read(entry) for entry in initial_opponents]
        self.n_rounds, self.n_iters, self.n_init = n_rounds, n_iters, n_init
        self.last_k, self.p_new = last_k, p_new
        self.fitness_threshold = fitness_threshold
        self.map_elites = map_elites
        self.eval_seed = eval_seed
        self.config = {"preset": "drq", **config}
        self.rng = np.random.default_rng(seed)
        self.round = 0
        self.iteration = 0  # within the round; 0 also means "the round is not begun"
        self.grid: dict[tuple[int, int], Elite] = {}
        self.champions: list[Elite] = []
        self.history: list[dict[str, Any]] = []  # one entry per evaluation

    # ---- running ---------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Every round has been played."""
        return self.round >= self.n_rounds

    def opponents(self) -> list[str]:
        """This round's melee: the initial opponents and the last ``k`` champions."""
        champions = (
            self.champions
            if self.last_k is None
            else (self.champions[-self.last_k :] if self.last_k > 0 else [])
        )
        return [*self.initial, *(c.source for c in champions)]

    def step(self) -> None:
        """One iteration: the round's start (``n_init`` new warriors) before its first,
        then a new warrior or a mutation, unless the threshold is reached; the round's
        last iteration crowns its champion."""
        if self.done:
            return
        if not self._solved():
            if self.iteration == 0:
                for _ in range(self.n_init):
                    self._evaluate(self.variation.new(self.rng), "new")
            if self.rng.random() < self.p_new or not self.grid:
                self._evaluate(self.variation.new(self.rng), "new")
            else:
                parent, donor = self._draw(), self._draw()
                child = self.variation.mutate(parent.source, donor.source, self.rng)
                self._evaluate(child, "mutate")
        self.iteration += 1
        if self.iteration >= self.n_iters:
            self._end_round()

    def run(self, steps: int | None = None) -> None:
        """Step until done, or ``steps`` iterations."""
        count = 0
        while not self.done and (steps is None or count < steps):
            self.step()
            count += 1

    def best(self) -> Elite | None:
        """The round's best elite so far (the first of equals in cell order, so that a
        resumed run, whose grid is rebuilt in that order, picks the same)."""
        if not self.grid:
            return None
        return max(sorted(self.grid.items()), key=lambda item: item[1].fitness)[1]

    def evaluate(self, source: str) -> Elite | None:
        """One melee against this round's opponents; None if it does not assemble."""
        game = selfplay_envs.make_game(ENV_ID, archive=self.opponents(), **self.config)
        state = game.new_initial_state(np.random.default_rng(self.eval_seed))
        parsed = state.parse_action(0, source)
        if not parsed.ok:
            return None
        state.apply_action(0, parsed.action)
        info = state.info(0)
        cell = tuple(info["drq_cell"]) if self.map_elites else (0, 0)
        return Elite(
            source=source,
            fitness=float(state.returns()[0]),
            tsp=float(info["tsp"]),
            mc=float(info["mc"]),
            cell=cell,
        )

    def _solved(self) -> bool:
        best = self.best()
        return best is not None and best.fitness > self.fitness_threshold

    def _draw(self) -> Elite:
        cells = sorted(self.grid)
        return self.grid[cells[int(self.rng.integers(0, len(cells)))]]

    def _evaluate(self, source: str, how: str) -> None:
        elite = self.evaluate(source)
        placed = elite is not None and (
            elite.cell not in self.grid or elite.fitness > self.grid[elite.cell].fitness
        )
        if placed:
            self.grid[elite.cell] = elite
        self.history.append(
            {
                "round": self.round,
                "iteration": self.iteration,
                "how": how,
                "valid": elite is not None,
                "placed": placed,
                "fitness": None if elite is None else elite.fitness,
                "cell": None if elite is None else list(elite.cell),
            }
        )

    def _end_round(self) -> None:
        best = self.best()
        if best is not None:  # a round with no valid warrior adds no champion
            self.champions.append(best)
        self.round += 1
        self.iteration = 0
        self.grid = {}

    # ---- resuming --------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Round, iteration, grid, champions, history and the generator (JSON)."""
        return {
            "round": self.round,
            "iteration": self.iteration,
            "grid": [e.to_dict() for _, e in sorted(self.grid.items())],
            "champions": [c.to_dict() for c in self.champions],
            "history": [dict(h) for h in self.history],
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (the settings come from ``__init__``)."""
        self.round = int(state["round"])
        self.iteration = int(state["iteration"])
        elites = [Elite.from_dict(e) for e in state["grid"]]
        self.grid = {e.cell: e for e in elites}
        self.champions = [Elite.from_dict(c) for c in state["champions"]]
        self.history = [dict(h) for h in state["history"]]
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = state["rng"]


def _read(entry: str | Path) -> str:
    """Redcode text of an opponent: a source (with a newline) or a ``.red`` path."""
    if isinstance(entry, str) and "\n" in entry:
        return entry
    try:
        return Path(entry).read_text(encoding="latin-1")
    except OSError as err:
        raise ValueError(
            f"expected Redcode source (with newlines) or a readable .red file, got "
            f"{str(entry)[:80]!r}"
        ) from err
