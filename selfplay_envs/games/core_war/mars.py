"""An exact, fast ICWS'94 MARS that reproduces pMARS 0.9.4 battle for battle.

The interpreter has two engines on the same flat arrays, with the same results: a C
extension (``_mars.c``, built by ``pip install``) and a numba kernel
(``mars_kernel.py``), the readable reference and the fallback. A whole battle, every
round, runs in one call to either. This module validates inputs, packs warriors into
flat arrays, picks the engine and unpacks the results.

Engines: the C one when it was built, else numba with a warning that says why (numba
compiles on first use, ~30 s, then loads from its cache). ``SELFPLAY_MARS_ENGINE=numba``
(or ``c``) forces one for a process, :func:`use_engine` for a block of code, and
:func:`engine` says which runs. The C engine releases the GIL for a whole battle, so
:func:`battle_many` runs battles on threads; the numba one uses numba's threads.

What "exact" covers, all as in pMARS ``sim.c`` / ``pos.c`` (built with ``-DEXT94
-DPERMUTATE -DRWLIMIT``):

* the in-register evaluation order: the A operand, increments included, is evaluated
  before the B operand; an immediate B operand reads the core cell at the program
  counter (so it sees the A operand's increments) while an immediate A operand is the
  fetched copy;
* DIV/MOD by zero kill the process, with ``.F``/``.X``/``.I`` still writing the other
  half; DJN tests the B register (the value before the decrement);
* the step counter: a round lasts ``W * max_cycles`` steps, and each death shrinks
  the remaining count as pMARS does (``c = c - 1 - (c - 1) / alive``, then once more);
* placement (Park-Miller RNG, ``posit()``/``npos()`` for 3+ warriors, ``-P``
  permutation), the start order rotating each round, P-space (cell 0 = last round's
  result, starting at ``core_size - 1``), read/write limit folding, and the
  ``(W*W-1)/S`` score.

Cycles and steps: a *step* is one warrior executing one instruction. A *cycle* is one
step of every living warrior; the cycle of a step is ``max_cycles - ceil(c / alive)``,
where ``c`` is pMARS's remaining step counter at that step (0 for the first step of a
round, ``max_cycles - 1`` for the last one of a round that times out).

Where this differs from pMARS, on purpose:

* ``core_size`` is at most 65536 (cells are 16-bit, as in exhaust-ma).
* If, with 3+ warriors, one dies on the very last step of a round, pMARS's step counter
  goes negative and its round runs on (practically forever); here the round ends there.
* :func:`battle` stops a round early once a tie is certain (every living warrior has
  more processes than steps left to it) unless some warrior has STP; results are the
  same, and ``steps`` still counts the skipped steps. :class:`Mars` never does this.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import os
import secrets
import threading
import warnings
import weakref
from collections.abc import Iterator, Sequence
from types import ModuleType

import numpy as np

from selfplay_envs.core.errors import InfrastructureError
from selfplay_envs.games.core_war import kernel_layout as _k
from selfplay_envs.games.core_war.instructions import (
    Instruction,
    Mode,
    Modifier,
    Opcode,
    Warrior,
)

__all__ = [
    "BattleJob",
    "BattleResult",
    "KernelCompileError",
    "Mars",
    "MarsSettings",
    "RoundSummary",
    "battle",
    "battle_many",
    "default_pspace_size",
    "engine",
    "use_engine",
]

_MAX_SEED = _k.PARK_MILLER_MODULUS - 1  # largest state of the Park-Miller generator


class KernelCompileError(InfrastructureError):
    """The MARS engine is missing, or numba could not compile (or launch) its kernel.

    An installation problem, never a battle result: no warrior is scored for it.
    """


ENGINE_VARIABLE = "SELFPLAY_MARS_ENGINE"
ENGINES = ("c", "numba")
_forced_engine: str | None = None  # set by use_engine()


def engine() -> str:
    """The engine battles run on now: ``"c"`` or ``"numba"``.

    Raises:
        KernelCompileError: If ``SELFPLAY_MARS_ENGINE=c`` but the C engine is not
            built.
        ValueError: If ``SELFPLAY_MARS_ENGINE`` names no engine.
    """
    return _engine()[0]


@contextlib.contextmanager
def use_engine(name: str) -> Iterator[None]:
    """Run the block on engine ``name`` (``"c"`` or ``"numba"``), e.g. in tests.

    Not thread-safe: it sets the engine for the whole process while the block runs.
    """
    global _forced_engine  # noqa: PLW0603 - the process-wide choice is the point
    if name not in ENGINES:
        raise ValueError(f"expected an engine in {ENGINES}, got {name!r}")
    if name == "c":
        _c_engine(required=True)
    old, _forced_engine = _forced_engine, name
    try:
        yield
    finally:
        _forced_engine = old


def _engine() -> tuple[str, ModuleType]:
    """The chosen engine's name and module (``_mars`` or ``mars_kernel``)."""
    name = _forced_engine or os.environ.get(ENGINE_VARIABLE, "").strip().lower()
    if name and name not in ENGINES:
        raise ValueError(
            f"expected {ENGINE_VARIABLE} in {ENGINES} (or unset), got {name!r}"
        )
    if name != "numba":
        lib = _c_engine(required=name == "c")
        if lib is not None:
            return "c", lib
    return "numba", _numba_engine()


@functools.cache
def _c_engine_or_reason() -> tuple[ModuleType | None, str]:
    try:
        return importlib.import_module("selfplay_envs.games.core_war._mars"), ""
    except ImportError as err:
        return None, str(err)


def _c_engine(*, required: bool) -> ModuleType | None:
    """The C engine, or None (with a one-time warning) where it was not built."""
    lib, reason = _c_engine_or_reason()
    if lib is None:
        fix = (
            "reinstall with a C compiler present (`pip install -e .` or `pip install "
            ".`; gcc or clang)"
        )
        if required:
            raise KernelCompileError(
                f"the C MARS engine is not built ({reason}); {fix}, or unset "
                f"{ENGINE_VARIABLE} to use the numba engine"
            )
        _warn_fallback(reason, fix)
    return lib


@functools.cache
def _warn_fallback(reason: str, fix: str) -> None:
    warnings.warn(
        f"the Core War C engine was not built ({reason}: no compiler at install "
        f"time?); using numba, which compiles on first use (~30 s); {fix}",
        RuntimeWarning,
        stacklevel=5,
    )


def _numba_engine() -> ModuleType:
    from selfplay_envs.games.core_war import mars_kernel  # noqa: PLC0415 - numba

    return mars_kernel


@contextlib.contextmanager
def _kernel(name: str = "numba") -> Iterator[None]:
    """Run kernel calls; a numba compile or threading failure is a KernelCompileError.

    Inputs are validated before any kernel runs, and the kernels raise nothing at run
    time (``error_model="numpy"``), so a ``NumbaError`` here is numba failing to type,
    lower or load the kernel: a numba/llvmlite/NumPy mismatch or a broken cache. The C
    engine needs none of this (``name="c"``).
    """
    if name == "c":
        yield
        return
    import numba  # noqa: PLC0415 - only the numba engine needs it
    from numba.core.errors import NumbaError  # noqa: PLC0415

    try:
        yield
    except NumbaError as err:
        cause = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise KernelCompileError(
            f"the Core War MARS kernel failed to compile with numba "
            f"{numba.__version__} ({type(err).__name__}: {cause}); this is the "
            "installation, not a warrior: install a numba and llvmlite that support "
            "this Python and NumPy (`pip install -U numba llvmlite`), and if the "
            "error names a cached file, point NUMBA_CACHE_DIR at an empty writable "
            "folder"
        ) from err
    except ValueError as err:
        if "threading layer" not in str(err):
            raise
        detail = " ".join(str(err).split())
        raise KernelCompileError(
            f"numba has no threading layer for the parallel MARS kernel ({detail}); "
            "unset NUMBA_THREADING_LAYER or set it to workqueue, or install TBB "
            "(`pip install tbb`)"
        ) from err


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"expected an integer {name}, got {value!r}")
    if value < minimum:
        raise ValueError(f"expected {name} >= {minimum}, got {value}")


def default_pspace_size(core_size: int) -> int:
    """pMARS's default P-space size: ``core_size / i`` for the largest ``i <= 16``
    that divides the core size (500 for 8000)."""
    for i in range(16, 0, -1):
        if core_size % i == 0:
            return core_size // i
    raise AssertionError("unreachable: 1 divides every integer")


@dataclasses.dataclass(frozen=True, kw_only=True)
class MarsSettings:
    """Simulator parameters; the defaults are the ICWS'94 KOTH hill (pMARS defaults).

    Attributes:
        core_size: Number of core cells (pMARS ``-s``), 2..65536.
        max_cycles: Cycles before a round is a tie (``-c``).
        max_processes: Process limit per warrior (``-p``).
        max_length: Longest warrior allowed (``-l``).
        min_distance: Least distance between two warriors' first cells (``-d``);
            pMARS requires it to be at least ``max_length``.
        read_limit: Read limit (``-R``); None means ``core_size`` (no folding).
        write_limit: Write limit (``-W``); None means ``core_size``.
        pspace_size: P-space cells per warrior (``-S``); None means
            :func:`default_pspace_size`.
    """

    core_size: int = 8000
    max_cycles: int = 80000
    max_processes: int = 8000
    max_length: int = 100
    min_distance: int = 100
    read_limit: int | None = None
    write_limit: int | None = None
    pspace_size: int | None = None

    def __post_init__(self) -> None:
        for name in ("core_size", "max_cycles", "max_processes", "max_length"):
            _check_int(name, getattr(self, name), 1)
        _check_int("core_size", self.core_size, 2)
        if self.core_size > _k.MAX_CORE_SIZE:
            # The kernel keeps 16-bit cells (see mars_kernel), like exhaust.
            raise ValueError(
                f"expected core_size <= {_k.MAX_CORE_SIZE}, got {self.core_size}"
            )
        _check_int("min_distance", self.min_distance, self.max_length)
        for name in ("read_limit", "write_limit"):
            value = getattr(self, name)
            if value is None:
                continue
            _check_int(name, value, 1)
            if self.core_size % value:
                raise ValueError(
                    f"expected {name} dividing core_size {self.core_size}, got {value}"
                )
        if self.pspace_size is not None:
            _check_int("pspace_size", self.pspace_size, 1)
            if self.pspace_size > self.core_size:
                raise ValueError(
                    f"expected pspace_size <= core_size {self.core_size}, "
                    f"got {self.pspace_size}"
                )

    @property
    def effective_read_limit(self) -> int:
        """The read limit with None resolved to the core size."""
        return self.core_size if self.read_limit is None else self.read_limit

    @property
    def effective_write_limit(self) -> int:
        """The write limit with None resolved to the core size."""
        return self.core_size if self.write_limit is None else self.write_limit

    @property
    def effective_pspace_size(self) -> int:
        """The P-space size with None resolved to pMARS's default."""
        if self.pspace_size is None:
            return default_pspace_size(self.core_size)
        return self.pspace_size


@dataclasses.dataclass(frozen=True, kw_only=True)
class RoundSummary:
    """One round of a battle, for battle logs.

    Attributes:
        index: Round number, from 0.
        positions: Core address of each warrior's first instruction.
        first: Index of the warrior that executed first.
        survivors: Whether each warrior was alive at the end of the round.
        cycles: Cycles run: ``max_cycles`` for a round that timed out, else the cycle
            in which the deciding death happened, plus one.
        death_cycles: Cycle in which each warrior died, None for survivors.
    """

    index: int
    positions: tuple[int, ...]
    first: int
    survivors: tuple[bool, ...]
    cycles: int
    death_cycles: tuple[int | None, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class BattleResult:
    """Outcome of :func:`battle`; per-warrior tuples follow the order of the warriors.

    Attributes:
        rounds: Rounds fought.
        wins: Rounds each warrior survived alone (pMARS ``score[0]``).
        ties: Rounds each warrior survived together with others.
        losses: Rounds each warrior died in.
        scores: pMARS score: each survivor of a round gets ``(W*W-1) // S`` points,
            W warriors and S survivors (3 per win, 1 per tie with two warriors).
        results: pMARS's ``-b -k`` melee line per warrior: rounds survived alone, with
            1 other, ..., with W-1 others, then losses (W+1 numbers summing to rounds).
        survival: DRQ survival-share fitness per warrior when ``track_survival``, else
            None; see :func:`battle`.
        tsp: DRQ's total spawned processes per warrior, averaged over rounds, when
            ``track_behaviour``, else None; see :func:`battle`.
        mc: DRQ's memory coverage per warrior, averaged over rounds, when
            ``track_behaviour``, else None; see :func:`battle`.
        steps: Steps (warrior-instructions) pMARS executes over all rounds.
        positions: ``(rounds, W)`` load address of each warrior in each round.
        first: ``(rounds,)`` warrior that moved first in each round.
        death_cycles: ``(rounds, W)`` cycle of death, -1 for survivors.
        cycles: ``(rounds,)`` cycles run in each round (see :class:`RoundSummary`).
        tsp_rounds, mc_rounds: ``(rounds, W)`` per-round ``tsp`` and ``mc`` (empty
            without ``track_behaviour``).
    """

    rounds: int
    wins: tuple[int, ...]
    ties: tuple[int, ...]
    losses: tuple[int, ...]
    scores: tuple[int, ...]
    results: tuple[tuple[int, ...], ...]
    survival: tuple[float, ...] | None
    steps: int
    positions: np.ndarray = dataclasses.field(compare=False, repr=False)
    first: np.ndarray = dataclasses.field(compare=False, repr=False)
    death_cycles: np.ndarray = dataclasses.field(compare=False, repr=False)
    cycles: np.ndarray = dataclasses.field(compare=False, repr=False)
    tsp: tuple[float, ...] | None = None
    mc: tuple[float, ...] | None = None
    tsp_rounds: np.ndarray = dataclasses.field(
        default_factory=lambda: np.zeros((0, 0), np.int64), compare=False, repr=False
    )
    mc_rounds: np.ndarray = dataclasses.field(
        default_factory=lambda: np.zeros((0, 0), np.int64), compare=False, repr=False
    )

    @functools.cached_property
    def round_log(self) -> tuple[RoundSummary, ...]:
        """Per-round summaries, built on first access."""
        log = []
        for r in range(self.rounds):
            deaths = self.death_cycles[r].tolist()
            log.append(
                RoundSummary(
                    index=r,
                    positions=tuple(self.positions[r].tolist()),
                    first=int(self.first[r]),
                    survivors=tuple(d < 0 for d in deaths),
                    cycles=int(self.cycles[r]),
                    death_cycles=tuple(None if d < 0 else d for d in deaths),
                )
            )
        return tuple(log)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BattleJob:
    """The arguments of one :func:`battle` call, for :func:`battle_many`."""

    warriors: Sequence[Warrior]
    rounds: int
    settings: MarsSettings = MarsSettings()
    fixed_position: int | None = None
    seed: int | None = None
    permutate: bool = False
    track_survival: bool = False
    track_behaviour: bool = False


# --------------------------------------------------------------------------- battles


def battle(
    warriors: Sequence[Warrior],
    rounds: int,
    settings: MarsSettings = MarsSettings(),  # noqa: B008 - frozen, safe to share
    *,
    fixed_position: int | None = None,
    seed: int | None = None,
    permutate: bool = False,
    track_survival: bool = False,
    track_behaviour: bool = False,
) -> BattleResult:
    """Fight ``rounds`` rounds between ``warriors``, exactly as pMARS would.

    Warrior 1 always loads at address 0. Where the others load comes from the RNG seed:
    with ``fixed_position=P`` (pMARS ``-F P``) the seed is ``P - min_distance``, so a
    two-warrior battle puts warrior 2 at P in round 1; with ``seed`` it is the RNG's
    internal state directly (pMARS seeds it from the clock); with neither, a random one.
    The first warrior to move rotates each round (warrior 1 in round 1).

    Args:
        warriors: One or more warriors (pMARS compatible only for 2..36).
        rounds: Number of rounds, at least 1.
        settings: Simulator parameters.
        fixed_position: pMARS ``-F``; at least ``min_distance``.
        seed: Internal RNG state in ``[0, 2**31 - 2]``; exclusive with
            ``fixed_position``.
        permutate: pMARS ``-P`` (two warriors only): each round draws, without
            replacement, one of the ``2 * (core_size - 2 * min_distance + 1)``
            (position, first mover) pairs; with that many rounds every pair is played
            once. With ``fixed_position`` the seed is ``2 * (P - min_distance)``.
        track_survival: Also compute DRQ's survival-share fitness: in a round of
            ``T = max_cycles`` cycles with N warriors, warrior i scores
            ``(N / T) * sum_{t<T} alive_i(t) / n_alive(t)``, averaged over rounds.
            ``alive_i(t)`` is 1 for cycles before the one in which warrior i died (see
            the module docstring for cycles) and for every cycle up to T once it is the
            last one standing; survivors of a round that timed out count all T cycles.
            Shares of one round sum to N unless every warrior died.
        track_behaviour: Also count DRQ's MAP-Elites descriptors per warrior and
            round, as DRQ's simulator does, over the round as pMARS plays it (it ends
            when one warrior is left; DRQ's plays on to ``max_cycles``): ``tsp``, the
            SPLs that added a process (a SPL with the queue full adds none; the
            initial process is not counted, so a warrior that never splits has 0), and
            ``mc``, the number of distinct addresses that were ever in the warrior's
            process queue (its start, then every address queued: successors, jump
            targets and split targets that fit), i.e. the addresses it executed plus
            those still queued at the end. Both are averaged over rounds, as DRQ
            does. This turns off the tie shortcut (results are the same) so that
            they cover the whole round.

    Returns:
        The :class:`BattleResult`.

    Raises:
        ValueError: On invalid warriors, settings or arguments.
        KernelCompileError: If numba cannot compile the kernel, or the C engine is
            forced but not built (an installation problem, not a result).
    """
    job = BattleJob(
        warriors=warriors,
        rounds=rounds,
        settings=settings,
        fixed_position=fixed_position,
        seed=seed,
        permutate=permutate,
        track_survival=track_survival,
        track_behaviour=track_behaviour,
    )
    packed = _Packed.from_jobs([job])
    name, lib = _engine()
    if name == "c":
        packed.run_batch(lib)
        return packed.result(0, job, lib)
    with _kernel(name):
        packed.run(lib, 0)
        return packed.result(0, job, lib)


def battle_many(
    jobs: Sequence[BattleJob], workers: int | None = None
) -> list[BattleResult]:
    """Run many battles on all cores; results equal ``[battle(...) for job in jobs]``.

    Battles are dynamically scheduled one at a time over threads (battles differ a lot
    in length). Threads beat a process pool here: no pickling, no per-process start-up
    or cache loading, and both engines release the GIL for the whole batch. On the C
    engine every thread (the calling one included) makes one call that fights jobs
    until none is left, claiming them from a shared counter: there is no Python work
    per battle but packing its warriors (cached per warrior) and building its result.
    The numba engine runs one jitted ``prange`` loop, one battle per iteration, on
    numba's threading layer (with GNU OpenMP as that layer, a process that used this
    should not ``fork``: use the ``spawn`` start method).

    Args:
        jobs: The battles to fight.
        workers: Threads to use; None means all cores (numba's default thread count
            on the numba engine).

    Returns:
        One :class:`BattleResult` per job, in order.

    Raises:
        ValueError: On an invalid job (nothing runs then).
        KernelCompileError: If numba cannot compile or start the kernel.
    """
    jobs = list(jobs)
    if not jobs:
        return []
    if workers is not None:
        _check_int("workers", workers, 1)
    packed = _Packed.from_jobs(jobs)
    name, lib = _engine()
    if name == "c":
        packed.run_batch(lib, min(workers or os.cpu_count() or 1, len(jobs)))
        return [packed.result(j, job, lib) for j, job in enumerate(jobs)]
    import numba  # noqa: PLC0415 - only the numba engine needs it

    with _kernel():  # numba starts its threads (and may lack a layer) on first use
        threads = numba.get_num_threads()
        if workers is not None:
            numba.set_num_threads(min(workers, numba.config.NUMBA_NUM_THREADS))
        old_chunk = numba.set_parallel_chunksize(1)
        try:
            lib.battle_many_kernel(
                packed.params, packed.w_code, packed.w_off, packed.w_len,
                packed.w_start, packed.ps_index, packed.warrior_base,
                packed.score_base, packed.round_base, packed.cell_base, packed.scores,
                packed.death, packed.cycles, packed.pos, packed.first, packed.tsp,
                packed.mc, packed.steps,
            )  # fmt: skip
        finally:
            numba.set_parallel_chunksize(old_chunk)
            numba.set_num_threads(threads)
        return [packed.result(j, job, lib) for j, job in enumerate(jobs)]


# --------------------------------------------------------------------------- packing


@dataclasses.dataclass
class _Packed:
    """Jobs flattened into the arrays the kernels take, plus their output buffers."""

    params: np.ndarray
    w_code: np.ndarray
    w_off: np.ndarray
    w_len: np.ndarray
    w_start: np.ndarray
    ps_index: np.ndarray
    warrior_base: np.ndarray
    score_base: np.ndarray
    round_base: np.ndarray
    cell_base: np.ndarray
    scores: np.ndarray
    death: np.ndarray
    cycles: np.ndarray
    pos: np.ndarray
    first: np.ndarray
    tsp: np.ndarray
    mc: np.ndarray
    steps: np.ndarray
    bases: tuple[list[int], ...]  # warrior, score, round and cell bases as lists

    @classmethod
    def from_jobs(cls, jobs: Sequence[BattleJob]) -> _Packed:
        params: list[int] = []
        codes: list[np.ndarray] = []
        offsets: list[int] = []
        lens: list[int] = []
        starts: list[int] = []
        ps_index: list[int] = []
        warrior_base = [0]
        score_base = [0]
        round_base = [0]
        cell_base = [0]
        offset = 0
        for job in jobs:
            n_pspaces, seed = _check_job(job)
            s = job.settings
            params += (
                n_pspaces, s.core_size, s.max_cycles, s.max_processes, s.min_distance,
                s.effective_read_limit, s.effective_write_limit,
                s.effective_pspace_size, job.rounds, seed, int(job.permutate),
                int(job.track_behaviour),
            )  # fmt: skip
            for w in job.warriors:
                codes.append(_encode_warrior(w, s.core_size))
                offsets.append(offset)
                offset += len(w)
                lens.append(len(w))
                starts.append(w.start)
            ps_index += _pspace_indices(job.warriors)
            n = len(job.warriors)
            warrior_base.append(warrior_base[-1] + n)
            score_base.append(score_base[-1] + n * (2 * n - 1))
            round_base.append(round_base[-1] + job.rounds)
            cell_base.append(cell_base[-1] + job.rounds * n)
        # Two allocations, sliced: the inputs, then the zeroed outputs.
        nw, nj = len(lens), len(jobs)
        index = np.array(
            offsets + lens + starts + ps_index + warrior_base + score_base + round_base
            + cell_base, np.int64,
        )  # fmt: skip
        cells, rounds = cell_base[-1], round_base[-1]
        out = np.zeros(score_base[-1] + 4 * cells + 2 * rounds + nj, np.int64)
        return cls(
            np.array(params, np.int64).reshape(nj, 12),
            np.concatenate(codes, axis=0).reshape(-1),
            *_cut(index, (nw, nw, nw, nw, nj + 1, nj + 1, nj + 1, nj + 1)),
            *_cut(
                out, (score_base[-1], cells, rounds, cells, rounds, cells, cells, nj)
            ),
            bases=(warrior_base, score_base, round_base, cell_base),
        )

    def run_batch(self, lib: ModuleType, threads: int = 1) -> None:
        """Fight every job on the C engine: one ``battle_batch`` call per thread, the
        GIL released throughout, work claimed one unit at a time from a shared
        counter (battles differ a lot in length). The calling thread is one of the
        threads. On several threads every round is placed first, and then a battle
        whose rounds are independent (two warriors, no P-space instruction) is
        shared out in runs of rounds, so that one long battle does not leave the
        other threads idle at the end."""
        args = (
            self.params, self.w_code, self.w_off, self.w_len, self.w_start,
            self.ps_index, self.warrior_base, self.score_base, self.round_base,
            self.cell_base, self.scores, self.death, self.cycles, self.pos,
            self.first, self.tsp, self.mc, self.steps, np.zeros(1, np.int64),
        )  # fmt: skip
        if threads <= 1:
            lib.battle_batch(*args, 0)
            return
        lib.battle_batch(*args, 1)  # placements only
        errors: list[BaseException] = []

        def work() -> None:
            try:
                lib.battle_batch(*args, 2)
            except BaseException as err:  # noqa: BLE001 - re-raised below
                errors.append(err)

        helpers = [
            threading.Thread(target=work, name="mars", daemon=True)
            for _ in range(threads - 1)
        ]
        for t in helpers:
            t.start()
        work()
        for t in helpers:
            t.join()
        if errors:
            raise errors[0]

    def run(self, lib: ModuleType, j: int) -> None:
        """Fight job ``j`` on engine ``lib`` (``_mars`` or ``mars_kernel``)."""
        w0, w1 = self.warrior_base[j], self.warrior_base[j + 1]
        r0, r1 = self.round_base[j], self.round_base[j + 1]
        c0, c1 = self.cell_base[j], self.cell_base[j + 1]
        p = self.params[j].tolist()
        self.steps[j] = lib.battle_kernel(
            self.w_code, self.w_off[w0:w1], self.w_len[w0:w1], self.w_start[w0:w1],
            self.ps_index[w0:w1], *p[:10], bool(p[10]), bool(p[11]),
            self.scores[self.score_base[j] : self.score_base[j + 1]],
            self.death[c0:c1], self.cycles[r0:r1], self.pos[c0:c1],
            self.first[r0:r1], self.tsp[c0:c1], self.mc[c0:c1],
        )  # fmt: skip

    def result(self, j: int, job: BattleJob, lib: ModuleType) -> BattleResult:
        n = len(job.warriors)
        rounds = job.rounds
        r0, c0 = self.bases[2][j], self.bases[3][j]
        r1, c1 = r0 + rounds, c0 + rounds * n
        width = 2 * n - 1
        s0 = self.bases[1][j]
        flat = self.scores[s0 : s0 + n * width].tolist()
        results = tuple(
            (
                *flat[w * width : w * width + n],
                sum(flat[w * width + n : (w + 1) * width]),
            )
            for w in range(n)
        )
        points = [(n * n - 1) // s for s in range(1, n + 1)]
        survival = None
        if job.track_survival:
            shares = lib.survival_shares(
                self.death[c0:c1], n, rounds, job.settings.max_cycles
            )
            survival = tuple(float(x) for x in shares)
        tsp = mc = None
        tsp_rounds = mc_rounds = _NO_ROUNDS
        if job.track_behaviour:
            tsp_rounds = _frozen(self.tsp[c0:c1].reshape(rounds, n))
            mc_rounds = _frozen(self.mc[c0:c1].reshape(rounds, n))
            tsp = tuple(tsp_rounds.mean(axis=0).tolist())
            mc = tuple(mc_rounds.mean(axis=0).tolist())
        return BattleResult(
            rounds=rounds,
            wins=tuple(r[0] for r in results),
            ties=tuple(sum(r[1:n]) for r in results),
            losses=tuple(r[n] for r in results),
            scores=tuple(
                sum(c * p for c, p in zip(r, points, strict=False)) for r in results
            ),
            results=results,
            survival=survival,
            steps=int(self.steps[j]),
            positions=_frozen(self.pos[c0:c1].reshape(rounds, n)),
            first=_frozen(self.first[r0:r1]),
            death_cycles=_frozen(self.death[c0:c1].reshape(rounds, n)),
            cycles=_frozen(self.cycles[r0:r1]),
            tsp=tsp,
            mc=mc,
            tsp_rounds=tsp_rounds,
            mc_rounds=mc_rounds,
        )


def _cut(array: np.ndarray, sizes: Sequence[int]) -> list[np.ndarray]:
    """Consecutive slices of ``array`` of the given sizes."""
    parts, start = [], 0
    for size in sizes:
        parts.append(array[start : start + size])
        start += size
    return parts


def _frozen(array: np.ndarray) -> np.ndarray:
    array = array.copy()
    array.flags.writeable = False
    return array


_NO_ROUNDS = _frozen(np.zeros((0, 0), np.int64))  # tsp/mc rounds when not tracked


def _check_job(job: BattleJob) -> tuple[int, int]:
    """Validate a job; return its number of P-spaces and its internal seed."""
    s = job.settings
    if not isinstance(s, MarsSettings):
        raise ValueError(f"expected MarsSettings, got {type(s).__name__}")
    n = len(job.warriors)
    _check_int("number of warriors", n, 1)
    _check_int("rounds", job.rounds, 1)
    if s.core_size < n * s.min_distance:
        raise ValueError(
            f"expected core_size >= warriors * min_distance = {n * s.min_distance}, "
            f"got {s.core_size}"
        )
    for i, w in enumerate(job.warriors):
        _check_warrior(i, w, s)
    if job.permutate and n != 2:
        raise ValueError(f"expected 2 warriors with permutate, got {n}")
    return len(set(_pspace_indices(job.warriors))), _internal_seed(job)


def _internal_seed(job: BattleJob) -> int:
    s = job.settings
    if job.fixed_position is not None and job.seed is not None:
        raise ValueError(
            f"expected fixed_position or seed, not both; got fixed_position="
            f"{job.fixed_position} and seed={job.seed}"
        )
    if job.fixed_position is not None:
        _check_int("fixed_position", job.fixed_position, s.min_distance)
        if job.fixed_position >= 1 << 30:
            raise ValueError(
                f"expected fixed_position < 2**30, got {job.fixed_position}"
            )
        seed = job.fixed_position - s.min_distance
        return seed * len(job.warriors) if job.permutate else seed
    if job.seed is not None:
        _check_int("seed", job.seed, 0)
        if job.seed > _MAX_SEED:
            raise ValueError(f"expected seed <= {_MAX_SEED}, got {job.seed}")
        return int(job.seed)
    return 1 + secrets.randbelow(_MAX_SEED)


def _check_warrior(i: int, w: Warrior, s: MarsSettings) -> None:
    if not isinstance(w, Warrior):
        raise ValueError(f"expected a Warrior for warrior {i}, got {type(w).__name__}")
    if not 1 <= len(w) <= s.max_length:
        raise ValueError(
            f"expected 1..{s.max_length} instructions in warrior {i} ({w.name}), "
            f"got {len(w)}"
        )
    # pMARS only warns about a start outside the warrior ("ORG 5" in a one-line
    # warrior): its first process starts at load address + start, modulo the core,
    # wherever that lands. The assembler keeps such a start; so does the MARS.
    if (
        not isinstance(w.start, int)
        or isinstance(w.start, bool)
        or not 0 <= w.start < s.core_size
    ):
        raise ValueError(
            f"expected a start offset in [0, {s.core_size}) (the core) for warrior "
            f"{i} ({w.name}), got {w.start!r}"
        )


def _pspace_indices(warriors: Sequence[Warrior]) -> list[int]:
    """P-space of each warrior: warriors with equal PINs share one, as in pMARS."""
    index: list[int] = []
    by_pin: dict[int, int] = {}
    count = 0
    for w in warriors:
        if w.pin is None:
            index.append(count)
            count += 1
        else:
            if w.pin not in by_pin:
                by_pin[w.pin] = count
                count += 1
            index.append(by_pin[w.pin])
    return index


def _encode_warrior(w: Warrior, core_size: int) -> np.ndarray:
    """The warrior's cells in the kernel's layout: (code, A, B, case) per row.

    Cached per warrior object and core size (a Red Queen run fights each warrior in
    thousands of battles): a Warrior is frozen and its instructions are a tuple of
    frozen Instructions, so its encoding cannot change while it lives; the entry goes
    with the warrior (a weak reference's callback). The array is read-only.
    """
    key = id(w)
    entry = _ENCODED.get(key)
    if entry is not None and entry[0]() is w:
        cached = entry[1].get(core_size)
        if cached is not None:
            return cached
    code = np.array(
        [_encode(ins, core_size) for ins in w.instructions], np.uint16
    ).reshape(len(w), 4)
    code.flags.writeable = False
    if type(w.instructions) is not tuple:
        return code  # a list could change under the cache
    if entry is None or entry[0]() is not w:
        try:
            ref = weakref.ref(w, functools.partial(_forget_encoding, key))
        except TypeError:  # a Warrior subclass without weak references
            return code
        entry = _ENCODED[key] = (ref, {})
    entry[1][core_size] = code
    return code


# id(warrior) -> (weak reference to it, {core_size: encoded cells}).
_ENCODED: dict[int, tuple[weakref.ref, dict[int, np.ndarray]]] = {}


def _forget_encoding(key: int, ref: weakref.ref) -> None:
    entry = _ENCODED.get(key)
    if entry is not None and entry[0] is ref:
        del _ENCODED[key]


def _encode(ins: Instruction, core_size: int) -> tuple[int, int, int, int]:
    try:
        op = Opcode(ins.opcode)
        mod = Modifier(ins.modifier)
        a_mode = Mode(ins.a_mode)
        b_mode = Mode(ins.b_mode)
    except ValueError as err:
        raise ValueError(f"expected a valid instruction, got {ins!r}: {err}") from None
    for number in (ins.a_number, ins.b_number):
        if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
            raise ValueError(f"expected integer numbers, got {ins!r}")
    return (
        _k.encode(op, mod, a_mode, b_mode),
        ins.a_number % core_size,
        ins.b_number % core_size,
        _k.CASES[op * 8 + mod],
    )


def _decode(code: int, a_number: int, b_number: int) -> Instruction:
    return Instruction(
        opcode=Opcode(code >> 9),
        modifier=Modifier((code >> 6) & 7),
        a_mode=Mode((code >> 3) & 7),
        a_number=int(a_number),
        b_mode=Mode(code & 7),
        b_number=int(b_number),
    )


# --------------------------------------------------------------------------- stepping


class Mars:
    """A MARS you can single-step, for tests, debugging and visualisation.

    It runs the same kernel as :func:`battle`, a step at a time::

        mars = Mars(MarsSettings(core_size=80, min_distance=10, max_length=10))
        mars.load([imp], positions=[0])
        mars.step(3)
        mars.cell(3)  # MOV.I $0, $1

    Attributes:
        settings: The simulator parameters.
    """

    def __init__(self, settings: MarsSettings = MarsSettings()) -> None:  # noqa: B008
        """Create an empty simulator; call :meth:`load` before stepping."""
        self.settings = settings
        self._warriors: tuple[Warrior, ...] = ()

    def load(
        self,
        warriors: Sequence[Warrior],
        positions: Sequence[int] | None = None,
        *,
        first: int = 0,
    ) -> None:
        """Start a fresh battle: new P-spaces, then round setup as :meth:`next_round`.

        Args:
            warriors: The warriors, 1 or more.
            positions: Load address of each warrior; default ``k * min_distance``.
                Overlaps are allowed here (later warriors overwrite earlier ones).
            first: Index of the warrior that executes first.
        """
        s = self.settings
        job = BattleJob(warriors=warriors, rounds=1, settings=s, seed=0)
        n_pspaces, _ = _check_job(job)
        n = len(warriors)
        packed = _Packed.from_jobs([job])
        self._warriors = tuple(warriors)
        self._code = packed
        m = s.core_size
        self._engine, self._lib = _engine()
        with _kernel(self._engine):
            self._cap = int(self._lib.queue_capacity(s.max_processes))
        self._core = np.empty(4 * m, np.uint16)
        self._queue = np.zeros(n * self._cap, np.int32)
        self._wst = np.zeros(4 * n, np.int64)
        self._pspace = np.zeros(n_pspaces * s.effective_pspace_size, np.int32)
        self._ps_base = packed.ps_index * s.effective_pspace_size
        self._last_result = np.full(n, m - 1, np.int64)
        self._st = np.zeros(_k.ST_SIZE, np.int64)
        self._death_cycle = np.full(n, -1, np.int64)
        self._death_left = np.zeros(n, np.int64)
        self._spawned = np.zeros(n, np.int64)  # counted, not reported by Mars
        self._cover = np.zeros(1, np.uint8)  # Mars does not track coverage
        self._done = False
        self._setup(positions, first)

    def next_round(
        self, positions: Sequence[int] | None = None, *, first: int = 0
    ) -> None:
        """Start another round keeping P-space, as between pMARS rounds.

        Each warrior's P-space cell 0 gets the result of the round just played: the
        number of warriors left if it is alive, else 0.
        """
        self._require_loaded()
        left = int(self._st[_k.ST_LEFT])
        for w in range(len(self._warriors)):
            self._last_result[w] = left if self._tasks(w) > 0 else 0
        self._setup(positions, first)

    def _setup(self, positions: Sequence[int] | None, first: int) -> None:
        s = self.settings
        n = len(self._warriors)
        if positions is None:
            positions = [k * s.min_distance for k in range(n)]
        if len(positions) != n:
            raise ValueError(f"expected {n} positions, got {len(positions)}")
        for p in positions:
            _check_int("position", p, 0)
        if not (isinstance(first, int) and 0 <= first < n):
            raise ValueError(f"expected first in [0, {n}), got {first!r}")
        c = self._code
        with _kernel(self._engine):
            self._lib.load_round(
                self._core, self._queue, self._wst, self._st, c.w_code, c.w_off,
                c.w_len, c.w_start, np.asarray(positions, np.int64) % s.core_size,
                first, s.core_size, s.max_cycles, self._cap,
            )  # fmt: skip
        self._death_cycle[:] = -1
        self._done = False

    def step(self, steps: int = 1) -> bool:
        """Execute up to ``steps`` instructions (one per step, warriors in turn).

        Returns:
            True once the round is over (stepping further does nothing).
        """
        self._require_loaded()
        _check_int("steps", steps, 0)
        if self._done or steps == 0:
            return self._done
        s = self.settings
        self._st[_k.ST_BUDGET] = steps
        self._st[_k.ST_SHORTCUT] = 0  # the core must evolve exactly
        with _kernel(self._engine):
            done = self._lib.run_steps(
                self._core,
                self._queue,
                self._wst,
                self._pspace,
                self._ps_base,
                self._last_result,
                self._st,
                self._death_cycle,
                self._death_left,
                self._spawned,
                self._cover,
                s.core_size,
                s.effective_read_limit,
                s.effective_write_limit,
                s.max_processes,
                self._cap,
                s.effective_pspace_size,
                s.max_cycles,
            )
        self._done = bool(done)
        return self._done

    def run(self) -> None:
        """Run the current round to its end."""
        self.step(_k.NO_STEP_LIMIT)

    @property
    def finished(self) -> bool:
        """Whether the current round is over."""
        return self._done

    @property
    def steps(self) -> int:
        """Instructions executed in this round."""
        return int(self._st[_k.ST_STEPS])

    @property
    def counter(self) -> int:
        """pMARS's remaining step counter (``W * max_cycles`` at the start)."""
        return int(self._st[_k.ST_COUNTER])

    @property
    def next_warrior(self) -> int:
        """Index of the warrior that executes next."""
        return int(self._st[_k.ST_CUR])

    @property
    def alive(self) -> tuple[bool, ...]:
        """Whether each warrior still has a process."""
        return tuple(self._tasks(w) > 0 for w in range(len(self._warriors)))

    @property
    def death_cycles(self) -> tuple[int | None, ...]:
        """Cycle in which each warrior died this round; None while alive."""
        return tuple(None if d < 0 else int(d) for d in self._death_cycle)

    @property
    def core(self) -> tuple[Instruction, ...]:
        """A snapshot of the whole core."""
        return tuple(self.cell(i) for i in range(self.settings.core_size))

    def cell(self, address: int) -> Instruction:
        """The instruction at ``address`` (taken modulo the core size)."""
        self._require_loaded()
        i = address % self.settings.core_size
        return _decode(*(int(x) for x in self._core[4 * i : 4 * i + 3]))

    def queue(self, warrior: int) -> tuple[int, ...]:
        """The process queue of ``warrior``, next to execute first."""
        self._require_loaded()
        n = self._tasks(warrior)
        head = int(self._wst[4 * warrior + _k.W_HEAD])
        base = warrior * self._cap
        mask = self._cap - 1
        return tuple(int(self._queue[base + ((head + i) & mask)]) for i in range(n))

    def pspace(self, warrior: int) -> tuple[int, ...]:
        """The P-space ``warrior`` sees; element 0 is its last-round result."""
        self._require_loaded()
        size = self.settings.effective_pspace_size
        base = int(self._ps_base[warrior])
        cells = self._pspace[base : base + size].tolist()
        return (int(self._last_result[warrior]), *cells[1:])

    def _tasks(self, warrior: int) -> int:
        return int(self._wst[4 * warrior + _k.W_TASKS])

    def _require_loaded(self) -> None:
        if not self._warriors:
            raise RuntimeError("expected a loaded Mars, got none: call load() first")
