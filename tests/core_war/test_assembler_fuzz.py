"""Fuzz tests: no input makes the assembler fail other than with RedcodeError.

Whatever a language model writes goes through :func:`assemble`, so token soup and
arbitrary text must give either a valid warrior or a RedcodeError, quickly.
"""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from selfplay_envs.games.core_war.assembler import (
    AssemblerSettings,
    RedcodeError,
    assemble,
    extract_redcode,
    parse_load_file,
    to_load_file,
)

STANDARD = AssemblerSettings()
TINY = AssemblerSettings(core_size=800, max_length=20, min_distance=20)

TOKENS = [
    *"mov add sub mul div mod jmp jmz jmn djn cmp seq sne slt spl nop dat".split(),
    *"ldp stp org end pin equ for rof MOV DAT Jmp EQU FOR ROF".split(),
    *".a .b .ab .ba .f .x .i .I .Q".split(),
    *"# $ @ < > * { } , . : & && || ! = == != <= >= ( ) + - / % ; \\".split(),
    *"0 1 2 7 -1 8000 4001 99999999999999999999999 10000000000".split(),
    *"a i j x lbl start step ptr CURLINE CORESIZE MAXLENGTH VERSION".split(),
    *";redcode ;name ;author ;strategy ;assert ;debug".split(),
    " ",
    "\t",
    "\n",
    "\r\n",
    "\\\n",
]

token_soup = st.lists(st.sampled_from(TOKENS), max_size=80).map(" ".join)
tight_soup = st.lists(st.sampled_from(TOKENS), max_size=80).map("".join)
line_soup = st.lists(
    st.lists(st.sampled_from(TOKENS), max_size=8).map(" ".join), max_size=25
).map("\n".join)


def _check(source: str, hill: AssemblerSettings = STANDARD) -> None:
    started = time.perf_counter()
    try:
        warrior = assemble(source, hill)
    except RedcodeError as exc:
        assert exc.errors
        assert all(issue.line >= 0 and issue.column >= 0 for issue in exc.errors)
        assert str(exc)
    else:
        assert 1 <= len(warrior) <= hill.max_length
        assert 0 <= warrior.start < hill.core_size
        for ins in warrior.instructions:
            assert 0 <= ins.a_number < hill.core_size
            assert 0 <= ins.b_number < hill.core_size
        text = to_load_file(warrior, hill.core_size)
        back = parse_load_file(text, hill.core_size)
        assert back.instructions == warrior.instructions
    assert time.perf_counter() - started < 5


@settings(max_examples=200, deadline=None)
@given(token_soup)
def test_token_soup_only_raises_redcode_error(source: str) -> None:
    _check(source)


@settings(max_examples=100, deadline=None)
@given(tight_soup)
def test_glued_tokens_only_raise_redcode_error(source: str) -> None:
    _check(source, TINY)


@settings(max_examples=150, deadline=None)
@given(line_soup)
def test_line_soup_only_raises_redcode_error(source: str) -> None:
    _check(source)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_only_raises_redcode_error(source: str) -> None:
    _check(source)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_extract_redcode_never_raises(text: str) -> None:
    code = extract_redcode(text)
    assert isinstance(code, str)
    _check(code)


def test_pathological_sources_are_bounded() -> None:
    doubling = "".join(f"e{i} equ e{i - 1} e{i - 1}\n" for i in range(1, 40))
    sources = [
        " for 65534\n for 65534\n rof\n rof\n",
        " for 1000000000\n dat 0\n rof\n",
        "e0 equ 1\n" + doubling + " dat e39\n",
        "".join(f"m{i} equ m{i + 1}\n" for i in range(500)) + " dat m0\n",
        " dat m0\n" + "".join(f"m{i} equ m{i + 1}\n" for i in range(3000)),
        " dat " + "(" * 3000 + "1" + ")" * 3000 + "\n",
        " dat " + "-" * 7000 + "1\n",
        " dat 1" + "+1" * 3500 + "\n",
        "x" * 100_000 + "\n",
        " mov 0, 1\\\n" * 2000,
        "a b c d e f g h i j k l m n o p mov 0, 1\n",
    ]
    for source in sources:
        _check(source)
