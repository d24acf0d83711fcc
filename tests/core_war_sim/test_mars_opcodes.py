"""Opcode, modifier and addressing-mode semantics on hand-written micro-programs.

Each test loads a tiny warrior into a small core, single-steps it with ``Mars.step`` and
checks the exact core cells and process queue against pMARS 0.9.4's ``sim.c`` semantics.
"""

from __future__ import annotations

import re

import pytest

from selfplay_envs.games.core_war.instructions import (
    MODE_SYMBOLS,
    Instruction,
    Mode,
    Modifier,
    Opcode,
    Warrior,
)
from selfplay_envs.games.core_war.mars import Mars, MarsSettings

M = 64
SETTINGS = MarsSettings(
    core_size=M, max_cycles=50, max_processes=4, max_length=16, min_distance=16
)
_INS = re.compile(r"(\w+)\.(\w+)\s+([#$@<>*{}])(-?\d+),\s*([#$@<>*{}])(-?\d+)")


def ins(text: str) -> Instruction:
    """``ins("MOV.I $0, $1")``; numbers are reduced modulo the core size."""
    match = _INS.fullmatch(text.strip())
    assert match, text
    op, mod, am, a, bm, b = match.groups()
    return Instruction(
        opcode=Opcode[op],
        modifier=Modifier[mod],
        a_mode=Mode(MODE_SYMBOLS.index(am)),
        a_number=int(a) % M,
        b_mode=Mode(MODE_SYMBOLS.index(bm)),
        b_number=int(b) % M,
    )


def warrior(*lines: str, start: int = 0) -> Warrior:
    return Warrior(instructions=tuple(ins(x) for x in lines), start=start)


def run(*lines: str, steps: int = 1, start: int = 0, settings=SETTINGS) -> Mars:
    """Load one warrior at address 0 and execute ``steps`` instructions."""
    mars = Mars(settings)
    mars.load([warrior(*lines, start=start)], positions=[0])
    mars.step(steps)
    return mars


def cells(mars: Mars, first: int, count: int) -> list[Instruction]:
    return [mars.cell(first + i) for i in range(count)]


DAT0 = ins("DAT.F $0, $0")


# ----------------------------------------------------------------------- basics


def test_imp_copies_itself() -> None:
    mars = run("MOV.I $0, $1", steps=3)
    assert cells(mars, 0, 5) == [ins("MOV.I $0, $1")] * 4 + [DAT0]
    assert mars.queue(0) == (3,)


def test_empty_core_is_dat_f_direct_zero() -> None:
    mars = run("NOP.F $0, $0")
    assert mars.cell(40) == DAT0


def test_dat_kills_the_only_process() -> None:
    mars = run("DAT.F #1, #2")
    assert mars.finished
    assert mars.alive == (False,)
    assert mars.queue(0) == ()


def test_start_offset() -> None:
    mars = run("DAT.F #0, #0", "NOP.F $0, $0", start=1)
    assert mars.queue(0) == (2,)
    assert not mars.finished


# ------------------------------------------------------------------------- MOV

MOV_CASES = {
    # modifier: expected cell 2 after "MOV.x $1, $2" with cell 1 = "DAT.F #5, #7"
    # and cell 2 = "SPL.B $3, >4".
    "A": "SPL.B $5, >4",
    "B": "SPL.B $3, >7",
    "AB": "SPL.B $3, >5",
    "BA": "SPL.B $7, >4",
    "F": "SPL.B $5, >7",
    "X": "SPL.B $7, >5",
    "I": "DAT.F #5, #7",
}


@pytest.mark.parametrize("mod", list(MOV_CASES))
def test_mov_modifiers(mod: str) -> None:
    mars = run(f"MOV.{mod} $1, $2", "DAT.F #5, #7", "SPL.B $3, >4")
    assert mars.cell(2) == ins(MOV_CASES[mod])
    assert mars.cell(1) == ins("DAT.F #5, #7")
    assert mars.queue(0) == (1,)


# ----------------------------------------------------------------- arithmetic

# "OP.x $1, $2" with A cell "DAT.F #a1, #b1" and B cell "DAT.F #a2, #b2".
ARITH = [
    ("ADD", "A", (3, 5), (10, 20), (13, 20)),
    ("ADD", "B", (3, 5), (10, 20), (10, 25)),
    ("ADD", "AB", (3, 5), (10, 20), (10, 23)),
    ("ADD", "BA", (3, 5), (10, 20), (15, 20)),
    ("ADD", "F", (3, 5), (10, 20), (13, 25)),
    ("ADD", "I", (3, 5), (10, 20), (13, 25)),
    ("ADD", "X", (3, 5), (10, 20), (15, 23)),
    ("ADD", "F", (60, 50), (10, 20), (6, 6)),  # wraps modulo 64
    ("SUB", "A", (3, 5), (10, 20), (7, 20)),
    ("SUB", "B", (3, 5), (10, 20), (10, 15)),
    ("SUB", "AB", (3, 5), (10, 20), (10, 17)),
    ("SUB", "BA", (3, 5), (10, 20), (5, 20)),
    ("SUB", "F", (3, 5), (10, 20), (7, 15)),
    ("SUB", "X", (3, 5), (10, 20), (5, 17)),
    ("SUB", "I", (30, 25), (10, 20), (44, 59)),  # negative results wrap
    ("MUL", "A", (3, 5), (10, 20), (30, 20)),
    ("MUL", "B", (3, 5), (10, 20), (10, 36)),  # 100 mod 64
    ("MUL", "AB", (3, 5), (10, 20), (10, 60)),
    ("MUL", "BA", (3, 5), (10, 20), (50, 20)),
    ("MUL", "F", (3, 5), (10, 20), (30, 36)),
    ("MUL", "X", (3, 5), (10, 20), (50, 60)),
    ("DIV", "A", (3, 5), (10, 20), (3, 20)),
    ("DIV", "B", (3, 5), (10, 20), (10, 4)),
    ("DIV", "AB", (3, 5), (10, 20), (10, 6)),
    ("DIV", "BA", (3, 5), (10, 20), (2, 20)),
    ("DIV", "F", (3, 5), (10, 20), (3, 4)),
    ("DIV", "I", (3, 5), (10, 20), (3, 4)),
    ("DIV", "X", (3, 5), (10, 20), (2, 6)),
    ("MOD", "A", (3, 5), (10, 20), (1, 20)),
    ("MOD", "B", (3, 6), (10, 20), (10, 2)),
    ("MOD", "AB", (3, 6), (10, 20), (10, 2)),
    ("MOD", "BA", (3, 6), (10, 20), (4, 20)),
    ("MOD", "F", (3, 6), (10, 20), (1, 2)),
    ("MOD", "X", (3, 6), (10, 20), (4, 2)),
]


@pytest.mark.parametrize(("op", "mod", "a", "b", "want"), ARITH)
def test_arithmetic(op: str, mod: str, a, b, want) -> None:
    mars = run(
        f"{op}.{mod} $1, $2", f"DAT.F #{a[0]}, #{a[1]}", f"DAT.F #{b[0]}, #{b[1]}"
    )
    assert mars.cell(2) == ins(f"DAT.F #{want[0]}, #{want[1]}")
    assert mars.cell(1) == ins(f"DAT.F #{a[0]}, #{a[1]}")
    assert mars.queue(0) == (1,)
    assert mars.alive == (True,)


def test_mul_reduces_large_products() -> None:
    big = MarsSettings(
        core_size=65536, max_cycles=5, max_processes=4, max_length=16, min_distance=16
    )
    mars = Mars(big)
    code = [
        Instruction(opcode=Opcode.MUL, modifier=Modifier.A, a_mode=Mode.DIRECT,
                    a_number=1, b_mode=Mode.DIRECT, b_number=1),
        Instruction(opcode=Opcode.DAT, modifier=Modifier.F, a_mode=Mode.IMMEDIATE,
                    a_number=65535, b_mode=Mode.IMMEDIATE, b_number=0),
    ]  # fmt: skip
    mars.load([Warrior(instructions=tuple(code))], positions=[0])
    mars.step()
    assert mars.cell(1).a_number == (65535 * 65535) % 2**32 % 65536 == 1


# DIV/MOD by zero: the process dies; with .F/.I/.X the half whose divisor is non-zero
# is still written (pMARS sim.c). Cell 1 = A operand "DAT.F #a1, #b1", cell 2 = B.
DIV_ZERO = [
    ("DIV", "A", (0, 5), (10, 20), (10, 20)),
    ("DIV", "B", (3, 0), (10, 20), (10, 20)),
    ("DIV", "AB", (0, 5), (10, 20), (10, 20)),
    ("DIV", "BA", (3, 0), (10, 20), (10, 20)),
    ("DIV", "F", (0, 5), (10, 20), (10, 4)),
    ("DIV", "F", (3, 0), (10, 20), (3, 20)),
    ("DIV", "I", (0, 0), (10, 20), (10, 20)),
    ("DIV", "X", (0, 5), (10, 20), (2, 20)),
    ("DIV", "X", (3, 0), (10, 20), (10, 6)),
    ("MOD", "F", (0, 6), (10, 20), (10, 2)),
    ("MOD", "X", (3, 0), (10, 20), (10, 2)),
    ("MOD", "A", (0, 6), (10, 20), (10, 20)),
]


@pytest.mark.parametrize(("op", "mod", "a", "b", "want"), DIV_ZERO)
def test_division_by_zero_kills_but_writes_the_other_half(
    op: str, mod: str, a, b, want
) -> None:
    mars = run(
        f"{op}.{mod} $1, $2", f"DAT.F #{a[0]}, #{a[1]}", f"DAT.F #{b[0]}, #{b[1]}"
    )
    assert mars.cell(2) == ins(f"DAT.F #{want[0]}, #{want[1]}")
    assert mars.alive == (False,)
    assert mars.queue(0) == ()


def test_division_by_zero_removes_only_that_process() -> None:
    mars = run("SPL.B $1, $0", "DIV.A #0, $0", steps=2)
    # Step 1: SPL queues 1 (next) then 1 (target). Step 2: DIV kills one of them.
    assert mars.queue(0) == (1,)
    assert mars.alive == (True,)


# ------------------------------------------------------------------------ jumps


def test_jmp() -> None:
    mars = run("JMP.B $5, $0")
    assert mars.queue(0) == (5,)


@pytest.mark.parametrize(
    ("line", "target", "jumps"),
    [
        ("JMZ.A $4, $1", "DAT.F #0, #7", True),
        ("JMZ.BA $4, $1", "DAT.F #1, #0", False),
        ("JMZ.B $4, $1", "DAT.F #7, #0", True),
        ("JMZ.AB $4, $1", "DAT.F #0, #7", False),
        ("JMZ.F $4, $1", "DAT.F #0, #0", True),
        ("JMZ.X $4, $1", "DAT.F #0, #1", False),
        ("JMZ.I $4, $1", "DAT.F #1, #0", False),
        ("JMN.A $4, $1", "DAT.F #3, #0", True),
        ("JMN.B $4, $1", "DAT.F #3, #0", False),
        ("JMN.F $4, $1", "DAT.F #0, #2", True),  # either field non-zero
        ("JMN.X $4, $1", "DAT.F #2, #0", True),
        ("JMN.I $4, $1", "DAT.F #0, #0", False),
    ],
)
def test_jmz_jmn(line: str, target: str, jumps: bool) -> None:
    mars = run(line, target)
    assert mars.queue(0) == ((4,) if jumps else (1,))


@pytest.mark.parametrize(
    ("line", "before", "after", "jumps"),
    [
        ("DJN.A $4, $1", "DAT.F #2, #2", "DAT.F #1, #2", True),
        ("DJN.A $4, $1", "DAT.F #1, #2", "DAT.F #0, #2", False),
        ("DJN.BA $4, $1", "DAT.F #0, #2", "DAT.F #63, #2", True),
        ("DJN.B $4, $1", "DAT.F #5, #1", "DAT.F #5, #0", False),
        ("DJN.AB $4, $1", "DAT.F #5, #3", "DAT.F #5, #2", True),
        ("DJN.F $4, $1", "DAT.F #1, #1", "DAT.F #0, #0", False),
        ("DJN.F $4, $1", "DAT.F #1, #2", "DAT.F #0, #1", True),
        ("DJN.X $4, $1", "DAT.F #3, #1", "DAT.F #2, #0", True),
        ("DJN.I $4, $1", "DAT.F #1, #1", "DAT.F #0, #0", False),
    ],
)
def test_djn(line: str, before: str, after: str, jumps: bool) -> None:
    mars = run(line, before)
    assert mars.cell(1) == ins(after)
    assert mars.queue(0) == ((4,) if jumps else (1,))


def test_djn_tests_the_register_not_the_core() -> None:
    # ">0" makes the B operand the instruction itself (B-field 0 -> target pc) and
    # post-increments it to 1 after the B register (B-field 0) is read. DJN then
    # decrements the core B-field back to 0, but tests the register: 0 != 1, so jump.
    mars = run("DJN.B $5, >0")
    assert mars.cell(0) == ins("DJN.B $5, >0")
    assert mars.queue(0) == (5,)


def test_spl_queues_next_then_target() -> None:
    mars = run("SPL.B $3, $0")
    assert mars.queue(0) == (1, 3)
    mars.step()  # executes cell 1 (DAT): that process dies
    assert mars.queue(0) == (3,)


def test_process_limit() -> None:
    # SPL 0 / JMP -1 gains a process per SPL until max_processes = 4; at the limit
    # SPL only queues the next instruction.
    mars = run("SPL.B $0, $0", "JMP.B $-1, $0", steps=1)
    assert mars.queue(0) == (1, 0)
    mars.step(29)
    assert len(mars.queue(0)) == SETTINGS.max_processes
    for _ in range(10):
        head = mars.queue(0)[0]
        mars.step()
        assert len(mars.queue(0)) == 4
        assert mars.queue(0)[-1] == (1 if head == 0 else 0)


def test_nop() -> None:
    mars = run("NOP.F $3, $4")
    assert mars.queue(0) == (1,)
    assert mars.cell(0) == ins("NOP.F $3, $4")


# -------------------------------------------------------------------- compares

CMP_CASES = [
    # (modifier, A cell, B cell, equal?)
    ("A", "DAT.F #1, #2", "DAT.F #1, #9", True),
    ("B", "DAT.F #1, #2", "DAT.F #9, #2", True),
    ("AB", "DAT.F #4, #2", "DAT.F #9, #4", True),
    ("BA", "DAT.F #1, #4", "DAT.F #4, #9", True),
    ("F", "DAT.F #1, #2", "DAT.F #1, #2", True),
    ("F", "DAT.F #1, #2", "DAT.F #1, #3", False),
    ("X", "DAT.F #1, #2", "DAT.F #2, #1", True),
    ("X", "DAT.F #1, #2", "DAT.F #1, #2", False),
    ("I", "DAT.F #1, #2", "DAT.F #1, #2", True),
    ("I", "DAT.F #1, #2", "DAT.A #1, #2", False),  # modifier differs
    ("I", "DAT.F #1, #2", "DAT.F $1, #2", False),  # mode differs
    ("I", "SEQ.I #1, #2", "CMP.I #1, #2", False),  # pMARS keeps CMP and SEQ apart
]


@pytest.mark.parametrize(("mod", "a", "b", "equal"), CMP_CASES)
@pytest.mark.parametrize("op", ["CMP", "SEQ", "SNE"])
def test_compare(op: str, mod: str, a: str, b: str, equal: bool) -> None:
    mars = run(f"{op}.{mod} $1, $2", a, b)
    skips = equal != (op == "SNE")
    assert mars.queue(0) == ((2,) if skips else (1,))


@pytest.mark.parametrize(
    ("mod", "a", "b", "skips"),
    [
        ("A", "DAT.F #1, #9", "DAT.F #2, #0", True),
        ("A", "DAT.F #2, #9", "DAT.F #2, #0", False),
        ("B", "DAT.F #9, #1", "DAT.F #0, #2", True),
        ("AB", "DAT.F #1, #9", "DAT.F #0, #2", True),
        ("BA", "DAT.F #9, #1", "DAT.F #2, #0", True),
        ("F", "DAT.F #1, #1", "DAT.F #2, #2", True),
        ("F", "DAT.F #1, #3", "DAT.F #2, #2", False),
        ("I", "DAT.F #1, #1", "DAT.F #2, #1", False),
        ("X", "DAT.F #1, #1", "DAT.F #2, #2", True),
        ("X", "DAT.F #1, #2", "DAT.F #2, #2", False),
    ],
)
def test_slt(mod: str, a: str, b: str, skips: bool) -> None:
    mars = run(f"SLT.{mod} $1, $2", a, b)
    assert mars.queue(0) == ((2,) if skips else (1,))


def test_skip_wraps_around_the_core() -> None:
    mars = Mars(SETTINGS)
    mars.load([warrior("SEQ.F $0, $0")], positions=[M - 1])
    mars.step()
    assert mars.queue(0) == (1,)


# ------------------------------------------------------------- addressing modes

MODE_CASES = [
    # (A operand of "MOV.I <A>, $8" with cells 1..3 = "DAT.F #1, #1", "DAT.F #3, #3",
    #  "DAT.F #2, #1"; the cell copied to 8; cell 1 afterwards if changed)
    ("#3", "MOV.I #3, $8", None),
    ("$2", "DAT.F #3, #3", None),
    ("@1", "DAT.F #3, #3", None),  # cell 1 B=1 -> cell 2
    ("*1", "DAT.F #3, #3", None),  # cell 1 A=1 -> cell 2
    ("<1", "DAT.F #1, #0", "DAT.F #1, #0"),  # B of cell 1 -> 0 -> cell 1
    ("{1", "DAT.F #0, #1", "DAT.F #0, #1"),
    (">1", "DAT.F #3, #3", "DAT.F #1, #2"),  # post-increment after the read
    ("}1", "DAT.F #3, #3", "DAT.F #2, #1"),
]


@pytest.mark.parametrize(("a_operand", "copied", "cell1"), MODE_CASES)
def test_a_modes(a_operand: str, copied: str, cell1: str | None) -> None:
    mars = run(f"MOV.I {a_operand}, $8", "DAT.F #1, #1", "DAT.F #3, #3", "DAT.F #2, #1")
    assert mars.cell(8) == ins(copied)
    assert mars.cell(1) == ins(cell1 or "DAT.F #1, #1")


@pytest.mark.parametrize(
    ("b_operand", "target", "cell1"),
    [
        ("$2", 2, "DAT.F #1, #1"),
        ("@1", 2, "DAT.F #1, #1"),
        ("*1", 2, "DAT.F #1, #1"),
        ("<1", 1, "DAT.F #1, #0"),
        ("{1", 1, "DAT.F #0, #1"),
        (">1", 2, "DAT.F #1, #2"),
        ("}1", 2, "DAT.F #2, #1"),
    ],
)
def test_b_modes(b_operand: str, target: int, cell1: str) -> None:
    mars = run(f"MOV.AB #9, {b_operand}", "DAT.F #1, #1", "DAT.F #3, #3")
    assert mars.cell(target).b_number == 9
    if target != 1:
        assert mars.cell(1) == ins(cell1)
    else:
        assert mars.cell(1).a_number == ins(cell1).a_number


def test_in_register_copy_mov_0_postinc_0() -> None:
    # The A register is taken before B's post-increment: MOV 0, >0 leaves itself as is.
    mars = run("MOV.I $0, >0")
    assert mars.cell(0) == ins("MOV.I $0, >0")


def test_a_operand_increments_happen_before_b_evaluation() -> None:
    # "}0" post-increments cell 0's A-field (0 -> 1) while evaluating A. The B operand
    # "$0" is then read from the core: B register A-field 1, A register A-field 0.
    mars = run("SEQ.A }0, $0")
    assert mars.cell(0) == ins("SEQ.A }1, $0")
    assert mars.queue(0) == (1,)  # 0 != 1: no skip


def test_immediate_b_reads_the_core_after_a_increments() -> None:
    # pMARS reads an immediate B operand from the core at pc, so it sees the A
    # operand's post-increment: ADD.A writes 1 (B register) + 0 (A register).
    mars = run("ADD.A }0, #0")
    assert mars.cell(0) == ins("ADD.A }1, #0")
    mars = run("SEQ.A }0, #0")
    assert mars.queue(0) == (1,)  # B register A-field is 1, A register's is 0


def test_immediate_a_uses_the_fetched_instruction() -> None:
    # "<0" in B pre-decrements the instruction's own B-field; the A register of an
    # immediate A operand is the fetched copy, so MOV.I copies the old B-field (0).
    mars = run("MOV.I #5, <0")
    assert mars.cell(63) == ins("MOV.I #5, <0")
    assert mars.cell(0) == ins("MOV.I #5, <63")


def test_predecrement_wraps() -> None:
    mars = run("MOV.AB #7, <1", "DAT.F #0, #0")
    assert mars.cell(1) == ins("DAT.F #0, #63")
    assert mars.cell(0).b_number == 7  # target 1 + 63 = 64 wraps to cell 0


def test_postincrement_wraps() -> None:
    mars = run("MOV.AB #7, >1", "DAT.F #0, #63")
    assert mars.cell(1) == ins("DAT.F #0, #0")
    assert mars.cell(0).b_number == 7  # target 1 + 63 = 64 = cell 0


# --------------------------------------------------------------------- P-space


def test_ldp_stp_and_last_result() -> None:
    s = MarsSettings(
        core_size=M, max_cycles=50, max_processes=4, max_length=16, min_distance=16,
        pspace_size=8,
    )  # fmt: skip
    mars = Mars(s)
    code = warrior(
        "STP.AB #5, #3",  # P-space 3 = 5
        "STP.AB #6, #11",  # 11 mod 8 = 3: P-space 3 = 6
        "LDP.AB #3, $5",  # cell 7 B = P-space 3 = 6
        "LDP.A #0, $5",  # cell 8 A = P-space 0 = last result: core_size - 1
        "LDP.B $0, $5",  # B register of itself is 5 -> P-space 5 = 0
        "STP.BA $0, #0",  # P-space 0 (own last result) = B register A-field 0
    )
    mars.load([code], positions=[0])
    mars.step(6)
    assert mars.pspace(0)[3] == 6
    assert mars.cell(7).b_number == 6
    assert mars.cell(8).a_number == M - 1
    assert mars.cell(9).b_number == 0
    assert mars.pspace(0)[0] == 0


def test_pspace_persists_and_cell_zero_is_last_result() -> None:
    mars = Mars(SETTINGS)
    imp = warrior("MOV.I $0, $1")
    mars.load([warrior("STP.AB #9, #2", "JMP.B $0, $0"), imp])
    mars.step(2)
    assert mars.pspace(0)[2] == 9
    assert mars.pspace(0)[0] == M - 1  # nothing played yet
    mars.next_round()
    assert mars.pspace(0)[2] == 9
    assert mars.pspace(0)[0] == 2  # both alive: 2 survivors
    assert mars.pspace(1)[2] == 0  # P-spaces are private


def test_shared_pspace_with_equal_pins() -> None:
    a = Warrior(instructions=(ins("STP.AB #4, #1"),), pin=7)
    b = Warrior(instructions=(ins("JMP.B $0, $0"),), pin=7)
    mars = Mars(SETTINGS)
    mars.load([a, b])
    mars.step(1)
    assert mars.pspace(1)[1] == 4


# ------------------------------------------------------------ read/write limits


def test_write_limit_folds_writes() -> None:
    s = MarsSettings(
        core_size=M, max_cycles=50, max_processes=4, max_length=16, min_distance=16,
        read_limit=16, write_limit=16,
    )  # fmt: skip
    mars = run("MOV.I $0, $20", settings=s)
    assert mars.cell(4) == ins("MOV.I $0, $20")  # 20 folds to 4
    assert mars.cell(20) == DAT0
    mars = run("MOV.I $0, $-20", settings=s)
    assert mars.cell(-4) == ins("MOV.I $0, $-20")  # -20 (44) folds to -4


def test_read_limit_folds_reads_separately() -> None:
    s = MarsSettings(
        core_size=M, max_cycles=50, max_processes=4, max_length=16, min_distance=16,
        read_limit=8, write_limit=16,
    )  # fmt: skip
    # Reading $6 with read limit 8: 6 > 4 so it folds to 6 - 8 = -2.
    mars = Mars(s)
    mars.load([warrior("NOP.F $0, $0", "NOP.F $0, $0", "MOV.I $6, $3")], positions=[0])
    mars.step(3)
    assert mars.cell(5) == ins("NOP.F $0, $0")  # copied from 2 - 2 = 0
    # JMP targets are read-folded too.
    mars = run("JMP.B $6, $0", settings=s)
    assert mars.queue(0) == (62,)


def test_no_limits_equals_limits_of_core_size() -> None:
    a = run("MOV.I $0, $20")
    s = MarsSettings(
        core_size=M, max_cycles=50, max_processes=4, max_length=16, min_distance=16,
        read_limit=M, write_limit=M,
    )  # fmt: skip
    b = run("MOV.I $0, $20", settings=s)
    assert a.core == b.core


# ------------------------------------------------------- round end and counter


def test_round_counter_shrinks_on_death_like_pmars() -> None:
    mars = Mars(SETTINGS)
    dead = warrior("DAT.F #0, #0")
    imp = warrior("MOV.I $0, $1")
    mars.load([dead, imp, imp], positions=[0, 20, 40])
    c = 3 * SETTINGS.max_cycles
    assert mars.counter == c
    mars.step()
    assert mars.alive == (False, True, True)
    assert mars.counter == c - 1 - (c - 1) // 3 - 1
    assert mars.death_cycles == (0, None, None)


def test_tie_after_max_cycles() -> None:
    mars = Mars(SETTINGS)
    imp = warrior("MOV.I $0, $1")
    mars.load([imp, imp], positions=[0, 32])
    mars.run()
    assert mars.finished
    assert mars.steps == 2 * SETTINGS.max_cycles
    assert mars.alive == (True, True)
