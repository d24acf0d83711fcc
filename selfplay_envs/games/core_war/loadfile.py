"""Reader for pMARS load files (the output of ``pmars -A``).

A load file is assembled Redcode in a fixed, already-resolved form::

           ORG          0
           MOV.I  $     0, $     1
           END

Optionally a ``PIN n`` line comes before ``END``. Numbers are printed signed; they are
reduced modulo the core size here, as the MARS expects. Blank lines and ``;`` comments
are skipped so that hand-written load files can carry notes.
"""

from __future__ import annotations

import re

from selfplay_envs.games.core_war.instructions import (
    MODE_SYMBOLS,
    Instruction,
    Mode,
    Modifier,
    Opcode,
    Warrior,
)

__all__ = ["parse_load_file"]

_INSTRUCTION = re.compile(
    r"^([A-Za-z]{3})\.([A-Za-z]{1,2})\s*([#$@<>*{}])\s*([-+]?\d+)\s*,"
    r"\s*([#$@<>*{}])\s*([-+]?\d+)$"
)
_DIRECTIVE = re.compile(r"^(ORG|PIN)\s+([-+]?\d+)$", re.IGNORECASE)


def parse_load_file(text: str, core_size: int, *, name: str = "Unknown") -> Warrior:
    """Parse a pMARS load file into a :class:`Warrior`.

    Args:
        text: The load file's text.
        core_size: Core size the numbers are reduced modulo (e.g. 8000).
        name: Name to give the warrior (load files carry none).

    Returns:
        The warrior, with ``start`` from the ``ORG`` line and ``pin`` from ``PIN``.

    Raises:
        ValueError: On a line that is not ``ORG``, ``PIN``, ``END`` or an instruction,
            on an unknown opcode or modifier, or when there is no instruction.
    """
    if not isinstance(core_size, int) or core_size < 1:
        raise ValueError(f"expected a positive integer core_size, got {core_size!r}")
    instructions: list[Instruction] = []
    start = 0
    pin: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.upper() == "END":
            break
        directive = _DIRECTIVE.match(line)
        if directive:
            if directive.group(1).upper() == "ORG":
                start = int(directive.group(2))
            else:
                pin = int(directive.group(2))
            continue
        instructions.append(_parse_instruction(line, number, core_size))
    if not instructions:
        raise ValueError("expected at least one instruction in the load file, got none")
    if not 0 <= start < len(instructions):
        raise ValueError(
            f"expected ORG in [0, {len(instructions)}), got {start} in the load file"
        )
    return Warrior(instructions=tuple(instructions), start=start, name=name, pin=pin)


def _parse_instruction(line: str, number: int, core_size: int) -> Instruction:
    match = _INSTRUCTION.match(line)
    if match is None:
        raise ValueError(
            f"expected 'OPC.MOD mode number, mode number' on line {number}, "
            f"got {line!r}"
        )
    opcode, modifier, a_mode, a_number, b_mode, b_number = match.groups()
    try:
        op = Opcode[opcode.upper()]
        mod = Modifier[modifier.upper()]
    except KeyError:
        raise ValueError(
            f"expected a known opcode and modifier on line {number}, got {line!r}"
        ) from None
    return Instruction(
        opcode=op,
        modifier=mod,
        a_mode=Mode(MODE_SYMBOLS.index(a_mode)),
        a_number=int(a_number) % core_size,
        b_mode=Mode(MODE_SYMBOLS.index(b_mode)),
        b_number=int(b_number) % core_size,
    )
