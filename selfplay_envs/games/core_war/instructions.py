"""Redcode instruction encoding shared by the assembler, the load-file reader and the MARS.

An instruction is six small integers so that the simulator can hold the core in flat
``numpy`` arrays: opcode, modifier, A-mode, A-number, B-mode, B-number. Numbers are kept
normalised to ``0 <= n < core_size`` inside the simulator; the assembler keeps them as
written (already reduced mod core size) and the load-file writer prints them signed.
"""

from __future__ import annotations

import dataclasses
import enum


class Opcode(enum.IntEnum):
    """ICWS'94 opcodes. ``CMP`` and ``SEQ`` behave the same but print differently."""

    DAT = 0
    MOV = 1
    ADD = 2
    SUB = 3
    MUL = 4
    DIV = 5
    MOD = 6
    JMP = 7
    JMZ = 8
    JMN = 9
    DJN = 10
    CMP = 11
    SEQ = 12
    SNE = 13
    SLT = 14
    SPL = 15
    NOP = 16
    LDP = 17
    STP = 18


class Modifier(enum.IntEnum):
    """ICWS'94 instruction modifiers."""

    A = 0
    B = 1
    AB = 2
    BA = 3
    F = 4
    X = 5
    I = 6  # noqa: E741 - the standard's name


class Mode(enum.IntEnum):
    """The eight ICWS'94 addressing modes, in the order of ``MODE_SYMBOLS``."""

    IMMEDIATE = 0  # '#'
    DIRECT = 1  # '$'
    B_INDIRECT = 2  # '@'
    B_PREDECREMENT = 3  # '<'
    B_POSTINCREMENT = 4  # '>'
    A_INDIRECT = 5  # '*'
    A_PREDECREMENT = 6  # '{'
    A_POSTINCREMENT = 7  # '}'


MODE_SYMBOLS = "#$@<>*{}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Instruction:
    """One assembled instruction; numbers are already reduced modulo the core size."""

    opcode: Opcode
    modifier: Modifier
    a_mode: Mode
    a_number: int
    b_mode: Mode
    b_number: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Warrior:
    """An assembled warrior: its code, its entry point and its metadata."""

    instructions: tuple[Instruction, ...]
    start: int = 0  # offset of the first instruction to execute (ORG / END label)
    name: str = "Unknown"
    author: str = "Anonymous"
    strategy: str = ""
    pin: int | None = None  # P-space identifier; None means the warrior's own P-space
    source: str = ""

    def __len__(self) -> int:
        return len(self.instructions)
