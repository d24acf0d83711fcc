"""Differential test against exhaust-ma, a C MARS whose results equal pMARS's.

Optional: runs only where ``pip install exhaust-ma`` was done. Random warriors (every
opcode but CMP, which exhaust-ma folds into SEQ, every modifier and mode, P-space
included) fight rounds in both simulators; after each round the surviving warriors and
every core cell must be the same. P-space persists over the rounds of a battle.
"""

from __future__ import annotations

import random

import pytest

from selfplay_envs.games.core_war.instructions import (
    Instruction,
    Mode,
    Modifier,
    Opcode,
    Warrior,
)
from selfplay_envs.games.core_war.mars import Mars, MarsSettings

ex = pytest.importorskip("_exhaust_ma")

M = 160
SETTINGS = MarsSettings(
    core_size=M, max_cycles=400, max_processes=12, max_length=10, min_distance=10
)
# exhaust-ma's encodings (its insn.h).
EX_OPS = {
    "DAT": 0, "SPL": 1, "MOV": 2, "DJN": 3, "ADD": 4, "JMZ": 5, "SUB": 6, "SEQ": 7,
    "SNE": 8, "SLT": 9, "JMN": 10, "JMP": 11, "NOP": 12, "MUL": 13, "MOD": 14,
    "DIV": 15, "LDP": 16, "STP": 17,
}  # fmt: skip
EX_MODS = {"F": 0, "A": 1, "B": 2, "AB": 3, "BA": 4, "X": 5, "I": 6}
EX_MODES = (1, 0, 2, 3, 4, 5, 6, 7)  # ours (# $ @ < > * { }) -> exhaust's
OPCODES = [op for op in Opcode if op is not Opcode.CMP]


@pytest.fixture(scope="module")
def exhaust():
    core = ex.lib.sim_alloc_bufs2(
        3,
        M,
        SETTINGS.max_processes,
        SETTINGS.max_cycles,
        SETTINGS.effective_pspace_size,
    )
    assert core != ex.ffi.NULL
    yield core
    ex.lib.sim_free_bufs()


def random_warrior(rnd: random.Random, start_anywhere: bool = False) -> Warrior:
    """A random warrior; with ``start_anywhere`` its start may lie outside its code
    (pMARS only warns about such an ORG, and starts at load address + start)."""
    n = rnd.randint(1, SETTINGS.max_length)
    code = tuple(
        Instruction(
            opcode=rnd.choice(OPCODES),
            modifier=rnd.choice(list(Modifier)),
            a_mode=rnd.choice(list(Mode)),
            a_number=rnd.randrange(M),
            b_mode=rnd.choice(list(Mode)),
            b_number=rnd.randrange(M),
        )
        for _ in range(n)
    )
    return Warrior(instructions=code, start=rnd.randrange(M if start_anywhere else n))


def ex_code(w: Warrior):
    arr = ex.ffi.new("insn_t[]", len(w))
    for i, ins in enumerate(w.instructions):
        op = (EX_OPS[ins.opcode.name] << 3) | EX_MODS[ins.modifier.name]
        word = (op << 6) | (EX_MODES[ins.b_mode] << 3) | EX_MODES[ins.a_mode]
        setattr(arr[i], "in", word)
        arr[i].a = ins.a_number
        arr[i].b = ins.b_number
    return arr


def ex_cell(cell) -> tuple:
    word = getattr(cell, "in")
    ops = {v: k for k, v in EX_OPS.items()}
    mods = {v: k for k, v in EX_MODS.items()}
    return (
        ops[word >> 9],
        mods[(word >> 6) & 7],
        EX_MODES.index(word & 7),
        cell.a,
        EX_MODES.index((word >> 3) & 7),
        cell.b,
    )


def our_cell(ins: Instruction) -> tuple:
    return (
        ins.opcode.name,
        ins.modifier.name,
        int(ins.a_mode),
        ins.a_number,
        int(ins.b_mode),
        ins.b_number,
    )


def positions(rnd: random.Random, n: int) -> list[int]:
    while True:
        pos = [0] + [rnd.randrange(M) for _ in range(n - 1)]
        gaps = [(b - a) % M for a in pos for b in pos if a != b]
        if len(set(pos)) == n and min(gaps) >= SETTINGS.min_distance:
            return pos


@pytest.mark.parametrize(
    ("seed", "start_anywhere"), [(s, False) for s in range(12)] + [(12, True)]
)
def test_same_cores_as_exhaust(exhaust, seed: int, start_anywhere: bool) -> None:
    rnd = random.Random(seed)
    pos_tab = ex.ffi.new("field_t[]", 3)
    death_tab = ex.ffi.new("unsigned int[]", 3)
    for _ in range(10):
        n = rnd.choice([2, 2, 3])
        warriors = [random_warrior(rnd, start_anywhere) for _ in range(n)]
        codes = [ex_code(w) for w in warriors]
        mars = Mars(SETTINGS)
        ex.lib.sim_reset_pspaces()
        for r in range(3):  # P-space carries over; exhaust's P-spaces follow slots
            pos = positions(rnd, n)
            if r == 0:
                mars.load(warriors, pos)
            else:
                mars.next_round(pos)
            mars.run()
            ex.lib.sim_clear_core()
            for w, code, p in zip(warriors, codes, pos, strict=True):
                ex.lib.sim_load_warrior(p, code, len(w))
            for k, w in enumerate(warriors):
                pos_tab[k] = (pos[k] + w.start) % M
            alive = ex.lib.sim_mw(n, pos_tab, death_tab)
            dead = {death_tab[k] for k in range(n - alive)}
            assert mars.alive == tuple(k not in dead for k in range(n))
            ours = [our_cell(mars.cell(i)) for i in range(M)]
            theirs = [ex_cell(exhaust[i]) for i in range(M)]
            assert ours == theirs
