"""The pMARS load-file reader used to feed golden warriors to the MARS."""

from __future__ import annotations

import dataclasses

import pytest

from selfplay_envs.games.core_war.assembler import RedcodeError
from selfplay_envs.games.core_war.instructions import (
    Instruction,
    Mode,
    Modifier,
    Opcode,
)
from selfplay_envs.games.core_war.loadfile import parse_load_file
from selfplay_envs.games.core_war.mars import battle

DWARF = """\
       ORG          1
       DAT.F  #     0, #     0     
       ADD.AB #     4, $     3     
       MOV.I  $     2, @     2     
       JMP.B  $    -2, $     0     
       PIN         42
       END
"""  # noqa: W291 - pMARS pads instruction lines with trailing spaces


def test_parse_dwarf() -> None:
    w = parse_load_file(DWARF, 8000, name="dwarf")
    assert w.start == 1
    assert w.pin == 42
    assert w.name == "dwarf"
    assert len(w) == 4
    assert w.instructions[3] == Instruction(
        opcode=Opcode.JMP,
        modifier=Modifier.B,
        a_mode=Mode.DIRECT,
        a_number=7998,
        b_mode=Mode.DIRECT,
        b_number=0,
    )
    assert w.instructions[2].b_mode is Mode.B_INDIRECT


def test_every_mode_and_pspace_opcodes() -> None:
    text = "LDP.AB {  -1, }  2\nSTP.BA * 3, < 4\nSNE.X > 5, # 6\nNOP.F @ 0, $ 0\nEND\n"
    w = parse_load_file(text, 10)
    assert [i.opcode for i in w.instructions] == [
        Opcode.LDP,
        Opcode.STP,
        Opcode.SNE,
        Opcode.NOP,
    ]
    modes = [(i.a_mode, i.b_mode) for i in w.instructions]
    assert modes == [
        (Mode.A_PREDECREMENT, Mode.A_POSTINCREMENT),
        (Mode.A_INDIRECT, Mode.B_PREDECREMENT),
        (Mode.B_POSTINCREMENT, Mode.IMMEDIATE),
        (Mode.B_INDIRECT, Mode.DIRECT),
    ]
    assert w.instructions[0].a_number == 9  # -1 mod 10


def test_stops_at_end() -> None:
    w = parse_load_file("MOV.I $0, $1\nEND\nthis is not parsed\n", 8000)
    assert len(w) == 1


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("MOV.I $0 $1\n", "line 1, col 1: Not an ORG, PIN, END or instruction line"),
        ("FOO.I $0, $1\n", "line 1, col 1: Not an ORG, PIN, END or instruction line"),
        ("nop\nMOV.Q $0, $1\n", "line 1, col 1: .*\n.*line 2, col 1"),
        ("       ORG 0\n       END\n", "instruction"),
    ],
)
def test_errors(text: str, match: str) -> None:
    # The reader is the assembler's: a RedcodeError (a ValueError) naming every line.
    with pytest.raises(RedcodeError, match=match):
        parse_load_file(text, 8000)


def test_org_outside_the_code_starts_there_as_in_pmars() -> None:
    warrior = parse_load_file("ORG 3\nMOV.I $0, $1\n", 8000)  # pMARS reads it too
    assert warrior.start == 3
    # pMARS only warns: the first process starts at load address + 3, an empty cell
    # here, so the warrior that moves first dies on the first cycle.
    result = battle([warrior, warrior], 1, fixed_position=4000)
    assert (result.wins, result.losses, list(result.cycles)) == ((0, 1), (1, 0), [1])
    with pytest.raises(ValueError, match="start"):  # outside the core: not a start
        battle([dataclasses.replace(warrior, start=8000), warrior], 1)


def test_core_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive integer core_size"):
        parse_load_file("MOV.I $0, $1\n", 0)
