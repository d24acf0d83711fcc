"""Reader for pMARS load files (the output of ``pmars -A``).

A load file is assembled Redcode in a fixed, already-resolved form::

           ORG          0
           MOV.I  $     0, $     1
           END

The reader lives with the writer in ``assembler`` (one format, one implementation);
this module keeps the simulator-side signature, which also names the warrior.
"""

from __future__ import annotations

import dataclasses

from selfplay_envs.games.core_war import assembler
from selfplay_envs.games.core_war.instructions import Warrior

__all__ = ["parse_load_file"]


def parse_load_file(text: str, core_size: int, *, name: str = "Unknown") -> Warrior:
    """Parse a pMARS load file into a :class:`Warrior` called ``name``.

    Raises:
        RedcodeError: (a ``ValueError``) on a malformed line, with its line number.
    """
    warrior = assembler.parse_load_file(text, core_size)
    return dataclasses.replace(warrior, name=name)
