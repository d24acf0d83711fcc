"""Unit tests for the pMARS-dialect Redcode assembler.

Expected values that depend on pMARS's peculiarities (text substitution, ``dat 1 2``,
the stale buffer, the lost ``==``) were checked against pMARS 0.9.4 itself.
"""

from __future__ import annotations

import time

import pytest

from selfplay_envs.games.core_war.assembler import (
    AssemblerSettings,
    RedcodeError,
    RedcodeIssue,
    assemble,
    extract_redcode,
    parse_load_file,
    to_load_file,
)
from selfplay_envs.games.core_war.expressions import (
    ExpressionError,
    evaluate,
    new_registers,
)
from selfplay_envs.games.core_war.instructions import (
    Instruction,
    Mode,
    Modifier,
    Opcode,
    Warrior,
)

DWARF = """;redcode-94
;name Dwarf
;author A. K. Dewdney
;strategy Bombs every fourth cell.
;strategy Classic.
;assert CORESIZE % 4 == 0
        ORG     start
step    EQU     4
target  DAT.F   #0,      #0
start   ADD.AB  #step,   target
        MOV.AB  #0,      @target
        JMP.A   start
"""

DWARF_LOAD = """       ORG          1
       DAT.F  #     0, #     0     
       ADD.AB #     4, $    -1     
       MOV.AB #     0, @    -2     
       JMP.A  $    -2, $     0     
       END
"""  # noqa: W291 - pMARS pads instruction lines with trailing blanks


STANDARD = AssemblerSettings()


def load(source: str, settings: AssemblerSettings = STANDARD) -> str:
    """Assemble and render as a load file (the easiest thing to compare)."""
    return to_load_file(assemble(source, settings), settings.core_size)


def body(source: str) -> list[str]:
    """The instruction lines of the load file, blanks collapsed."""
    return [" ".join(line.split()) for line in load(source).splitlines()[1:-1]]


def only(source: str) -> Instruction:
    (instruction,) = assemble(source).instructions
    return instruction


def issues(source: str, settings: AssemblerSettings = STANDARD) -> list[RedcodeIssue]:
    with pytest.raises(RedcodeError) as info:
        assemble(source, settings)
    return info.value.errors


# ---------------------------------------------------------------------------------------
# Expressions


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("-7/2", -3),  # C division truncates toward zero
        ("7/-2", -3),
        ("-7%2", -1),  # and % takes the dividend's sign
        ("7%-2", 1),
        ("2+3*4", 14),
        ("(2+3)*4", 20),
        ("10-4-3", 3),
        ("2*3%4", 2),
        ("3>2", 1),
        ("3<2", 0),
        ("2<=2", 1),
        ("2>=3", 0),
        ("1==1", 1),
        ("1!=1", 0),
        ("1&&0", 0),
        ("0||3", 1),
        ("1&&2||0", 1),
        ("!5", 0),
        ("!0", 1),
        ("--3", 3),
        ("-(2+3)", -5),
        ("+4", 4),
        (" 1 +  2 ", 3),
        ("2*3==6", 1),
        ("1+2==3", 1),
    ],
)
def test_evaluate_c_semantics(expr: str, value: int) -> None:
    assert evaluate(expr) == value


def test_evaluate_wraps_like_a_64_bit_long() -> None:
    assert evaluate("9223372036854775807+1") == -(2**63)
    assert evaluate("99999999999999999999") == 2**63 - 1  # sscanf saturates


@pytest.mark.parametrize("expr", ["", "1 2", "(1", "1)", "1+", "*2", "1=2", "#1"])
def test_evaluate_rejects_malformed_text(expr: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expr)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # Python would give 8; pMARS's grammar has no "**".
        ("dat 2**3", "Bad expression"),
        ("dat 1 if 1 else 0", "Undefined label or symbol: 'if'"),
        ('dat __import__("os").getpid()', "Undefined label or symbol: '__import__'"),
    ],
)
def test_a_python_expression_is_a_redcode_error_never_run(
    source: str, message: str
) -> None:
    # DRQ's parser evaluates fields with Python's eval; ours reads pMARS's grammar.
    (issue,) = issues(source + "\n")
    assert issue.message == message
    with pytest.raises(ExpressionError):
        evaluate("2**3")


def test_evaluate_loses_a_handed_back_equality_like_pmars() -> None:
    # pMARS encodes '==' as 0, so it is dropped when handed back two levels up.
    with pytest.raises(ExpressionError):
        evaluate("1+2*3==7")
    assert evaluate("(1+2*3)==7") == 1


@pytest.mark.parametrize(("expr", "value"), [("7=17", 1), ("7 = 27", 0), ("5=37", 0)])
def test_evaluate_lone_equals_is_equality_minus_one_character(
    expr: str, value: int
) -> None:
    # pMARS swallows the character after a lone '=' and compares with '=='.
    assert evaluate(expr) == value


@pytest.mark.parametrize("expr", ["1/0", "5%0", "1+(2/(1-1))"])
def test_evaluate_division_by_zero(expr: str) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate(expr)
    assert info.value.division_by_zero


def test_registers_are_shared_between_expressions() -> None:
    registers = new_registers()
    assert evaluate("a=5", registers) == 5
    assert evaluate("a*2+b", registers) == 10


def test_deeply_nested_expression_fails_cleanly() -> None:
    with pytest.raises(ExpressionError):
        evaluate("(" * 5000 + "1" + ")" * 5000)
    assert evaluate("-" * 5000 + "1") == 1


def test_division_by_zero_in_a_field_reports_line_and_column() -> None:
    (issue,) = issues(";redcode\n  mov 0, 1\n  dat #0, 10/0\n")
    assert issue == RedcodeIssue(line=3, column=11, message="Division by zero")
    (issue,) = issues("mov 1%0, 1\n")
    assert (issue.line, issue.column, issue.message) == (1, 5, "Division by zero")


def test_field_arithmetic_and_mod_core_size() -> None:
    assert body("dat #-7/2, 7999+3\n") == ["DAT.F # -3, $ 2"]
    assert body("dat #123456789012, -4000\n") == ["DAT.F # -2988, $ 4000"]
    assert body("dat #CORESIZE-1, MAXLENGTH*(VERSION==94)\n") == ["DAT.F # -1, $ 100"]


def test_numbers_separated_by_blanks_run_together_like_pmars() -> None:
    assert body("dat 1 2\n") == ["DAT.F # 0, $ 12"]
    assert body("dat 1 -2\n") == ["DAT.F # 0, $ -1"]


# ---------------------------------------------------------------------------------------
# Labels, EQU


def test_labels_are_relative_and_case_sensitive() -> None:
    source = "top:  mov 0, 1\nTop   jmp top\n      jmp Top\n"
    assert body(source) == ["MOV.I $ 0, $ 1", "JMP.B $ -1, $ 0", "JMP.B $ -1, $ 0"]
    (issue,) = issues("start mov 0, 1\n jmp START\n")
    assert "Undefined label or symbol: 'START'" in issue.message


def test_opcodes_modifiers_and_pseudo_ops_are_case_insensitive() -> None:
    assert body("MoV.aB #1, 2\n Org 0\n eNd\n") == ["MOV.AB # 1, $ 2"]


def test_label_alone_on_a_line_labels_the_next_instruction() -> None:
    assert body("loop\n  spl 0\n  jmp loop\n") == ["SPL.B $ 0, $ 0", "JMP.B $ -1, $ 0"]


def test_several_labels_and_forward_references() -> None:
    source = "a b: jmp c\nc d  jmp a\n   jmp d\n"
    assert body(source) == ["JMP.B $ 1, $ 0", "JMP.B $ -1, $ 0", "JMP.B $ -1, $ 0"]


def test_equ_is_text_substitution_without_parentheses() -> None:
    source = "x equ 1+2\n dat #x*2, (x)*2\n"
    assert body(source) == ["DAT.F # 5, $ 6"]


def test_equ_may_carry_modes_and_refer_to_later_labels() -> None:
    source = "ptr equ @target\n mov #0, ptr\ntarget dat 0\n"
    assert body(source) == ["MOV.AB # 0, @ 1", "DAT.F # 0, $ 0"]


def test_multi_line_equ_expands_to_several_instructions() -> None:
    source = "pair equ mov 0, 1\n     equ jmp -1\nstart pair\n      jmp start\n"
    assert body(source) == ["MOV.I $ 0, $ 1", "JMP.B $ -1, $ 0", "JMP.B $ -2, $ 0"]


def test_multi_line_equ_may_wrap_for_rof() -> None:
    source = (
        "fill equ for 3-(CURLINE%3)\n"
        "     equ dat 0, 0\n"
        "     equ rof\n"
        " mov 0, 1\n"
        " fill\n"
        " jmp -1\n"
    )
    assert len(assemble(source)) == 4


def test_recursive_equ_is_an_error() -> None:
    errors = issues("x equ x+1\n dat x\n")  # the line is dropped, as in pMARS
    assert errors[0] == RedcodeIssue(
        line=1, column=1, message="Recursive reference of label 'x'"
    )


def test_redefined_label_line_is_dropped_like_pmars() -> None:
    # pMARS only warns "Ignored, redefinition of label" and drops the whole line.
    assert body("a dat 1\na dat 2\n  dat a\n") == ["DAT.F # 0, $ 1", "DAT.F # 0, $ -1"]


# ---------------------------------------------------------------------------------------
# FOR / ROF


def test_for_rof_repeats_with_a_two_digit_counter() -> None:
    source = "i for 3\n  dat #i, i*10\n  rof\n"
    assert body(source) == ["DAT.F # 1, $ 10", "DAT.F # 2, $ 20", "DAT.F # 3, $ 30"]


def test_for_counter_concatenates_with_ampersand() -> None:
    source = "n for 2\nlbl&n dat n\n rof\n jmp lbl01\n jmp lbl02\n"
    assert body(source)[2:] == ["JMP.B $ -2, $ 0", "JMP.B $ -2, $ 0"]


def test_nested_for_blocks() -> None:
    source = "i for 2\nj for 3\n dat i, j\n rof\n rof\n"
    assert [line.split("$")[-1].strip() for line in body(source)] == [
        "1",
        "2",
        "3",
    ] * 2


def test_for_zero_is_a_comment_block() -> None:
    source = " for 0\nThis is prose, not code! 42 #$@\n rof\n mov 0, 1\n"
    assert body(source) == ["MOV.I $ 0, $ 1"]


def test_for_uses_curline_and_predefined_constants() -> None:
    source = " nop 0\n for (MAXLENGTH/50)-CURLINE\n dat CURLINE\n rof\n"
    assert body(source) == ["NOP.F $ 0, $ 0", "DAT.F # 0, $ 1"]


def test_huge_for_count_is_a_bounded_error() -> None:
    started = time.perf_counter()
    (issue,) = issues(" for 1000000000\n dat 0\n rof\n")
    assert "FOR count" in issue.message
    (issue,) = issues(" for 60000\n dat 0\n rof\n")
    assert "Too many instructions" in issue.message
    (issue,) = issues(" for 60000\n for 60000\n rof\n rof\n")
    assert "work limit" in issue.message
    assert time.perf_counter() - started < 10


def test_label_on_the_line_before_for_becomes_its_counter() -> None:
    assert body("lbl\n for 2\n dat lbl\n rof\n") == ["DAT.F # 0, $ 1", "DAT.F # 0, $ 2"]


def test_missing_rof_ends_the_source_like_pmars() -> None:
    assert body(" dat 1\n for 3\n dat 2\n") == ["DAT.F # 0, $ 1", "DAT.F # 0, $ 2"]


def test_unopened_rof_is_an_error() -> None:
    (issue,) = issues(" mov 0, 1\n rof\n")
    assert (issue.line, issue.message) == (2, "Unopened FOR")


# ---------------------------------------------------------------------------------------
# Source framing and metadata


def test_redcode_header_skips_prose_before_it() -> None:
    source = (
        "Sure! Here is a warrior; it is an imp.\n"
        "It should beat paper. mov mov mov\n"
        ";redcode-94\n"
        ";name Imp\n"
        ";author Me\n"
        "imp mov.i 0, 1\n"
    )
    warrior = assemble(source)
    assert (warrior.name, warrior.author, len(warrior)) == ("Imp", "Me", 1)


def test_second_redcode_header_ends_the_warrior() -> None:
    assert len(assemble(";redcode\n mov 0, 1\n;redcode\n this is junk\n")) == 1


def test_redcode_header_needs_no_space_after_semicolon() -> None:
    (issue,) = issues("prose here.\n; redcode\n mov 0, 1\n")
    assert issue.line == 1


def test_metadata_from_comments() -> None:
    warrior = assemble(DWARF)
    assert warrior.name == "Dwarf"
    assert warrior.author == "A. K. Dewdney"
    assert warrior.strategy == "Bombs every fourth cell.\nClassic."
    assert warrior.start == 1
    assert warrior.pin is None
    assert assemble(" dat 0\n").name == "Unknown"


def test_end_stops_reading_and_sets_start() -> None:
    source = " dat 0\nstart mov 0, 1\n end start\n this is not code\n"
    assert assemble(source).start == 1


def test_org_wins_over_end() -> None:
    assert assemble(" org 1\n dat 0\n dat 0\n dat 0\n end 2\n").start == 1
    assert assemble(" org 0\n dat 0\n dat 0\n end 1\n").start == 1  # ORG 0 = unset


def test_out_of_range_org_is_kept_like_pmars() -> None:
    assert assemble(" org 5\n dat 1\n dat 2\n").start == 5


def test_line_continuation_with_backslash() -> None:
    assert body(" mov 0,\\\n 1\n") == ["MOV.I $ 0, $ 1"]


def test_crlf_line_endings() -> None:
    assert load(DWARF.replace("\n", "\r\n")) == DWARF_LOAD


# ---------------------------------------------------------------------------------------
# Operands and default modifiers


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("dat 5", "DAT.F # 0, $ 5"),  # the lone operand goes to the B-field
        ("dat #5", "DAT.F # 0, # 5"),
        ("dat <5", "DAT.F # 0, < 5"),
        ("jmp 3", "JMP.B $ 3, $ 0"),
        ("spl @2", "SPL.B @ 2, $ 0"),
        ("nop }1", "NOP.F } 1, $ 0"),
        ("jmp #, 1", "JMP.B # 0, $ 1"),
    ],
)
def test_one_operand_forms(source: str, expected: str) -> None:
    assert body(source + "\n") == [expected]


@pytest.mark.parametrize("source", ["mov 1", "add #1", "djn 2", "jmz 0", "seq 1"])
def test_one_operand_is_incomplete_for_other_opcodes(source: str) -> None:
    (issue,) = issues(source + "\n")
    assert issue.message.startswith("Incomplete operand")


@pytest.mark.parametrize("source", ["nop", "dat", "jmp", "mov 1,", "dat #"])
def test_missing_operands_are_a_syntax_error(source: str) -> None:
    (issue,) = issues(source + "\n")
    assert issue.message == "Syntax error"


@pytest.mark.parametrize(
    ("source", "modifier"),
    [
        ("mov #1, 2", "AB"),
        ("mov 1, #2", "B"),
        ("mov 1, 2", "I"),
        ("mov @1, <2", "I"),
        ("cmp #1, 2", "AB"),
        ("cmp 1, #2", "B"),
        ("cmp 1, 2", "I"),
        ("seq 1, 2", "I"),
        ("sne #1, #2", "AB"),
        ("add #1, 2", "AB"),
        ("add 1, #2", "B"),
        ("add 1, 2", "F"),
        ("sub 1, 2", "F"),
        ("mul #1, 2", "AB"),
        ("div 1, #2", "B"),
        ("mod 1, 2", "F"),
        ("slt #1, 2", "AB"),
        ("slt 1, 2", "B"),
        ("slt 1, #2", "B"),
        ("ldp #1, 2", "AB"),
        ("stp 1, 2", "B"),
        ("jmp 1, #2", "B"),
        ("jmz #1, 2", "B"),
        ("jmn 1, 2", "B"),
        ("djn 1, 2", "B"),
        ("spl #1, 2", "B"),
        ("dat 1, 2", "F"),
        ("dat #1, #2", "F"),
        ("nop 1, 2", "F"),
    ],
)
def test_default_modifiers_like_pmars(source: str, modifier: str) -> None:
    assert only(source + "\n").modifier is Modifier[modifier]


def test_all_modes() -> None:
    instruction = only("mov.i {1, }2\n")
    assert (instruction.a_mode, instruction.b_mode) == (
        Mode.A_PREDECREMENT,
        Mode.A_POSTINCREMENT,
    )
    assert body("mov *1, >2\n") == ["MOV.I * 1, > 2"]
    assert body("mov <1, @2\n") == ["MOV.I < 1, @ 2"]


def test_cmp_stays_cmp() -> None:
    assert only("cmp 1, 2\n").opcode is Opcode.CMP


def test_missing_comma_between_modes_is_an_error() -> None:
    # DRQ's stone.red, which pMARS rejects the same way.
    (issue,) = issues(" mov <2, 3\n dat #0 #0\n")
    assert (issue.line, issue.message) == (2, "Improper placement of '#'")


def test_opcode_glued_to_its_operand_reads_pmars_stale_buffer() -> None:
    # pMARS does not terminate the text copied after an opcode when no blank
    # follows, so the rest of an earlier, longer token comes along.
    assert body("start mov 0, 1\njmp-1\n")[1] == "JMP.B $ -1, $ 0"
    (issue,) = issues("verylonglabel mov 0, 1\njmp-1\n")
    assert issue.message == "Undefined label or symbol: 'ONGLABEL'"


def test_single_letter_unknown_symbols_are_pmars_registers() -> None:
    assert body("dat a=7, a*2\n") == ["DAT.F $ 7, $ 14"]
    # pMARS leaves W and S at the number of warriors (its score formula).
    assert body("dat w, s\n") == ["DAT.F $ 2, $ 2"]


# ---------------------------------------------------------------------------------------
# PIN, ;assert, limits, errors


def test_pin() -> None:
    warrior = assemble(" pin 5\n dat 0\n")
    assert warrior.pin == 5
    assert to_load_file(warrior).splitlines()[-2] == "       PIN          5"
    assert assemble(" dat 0\n pin -3\n").pin == -3  # an identifier: not reduced


def test_assert_failure_is_an_error() -> None:
    (issue,) = issues(";redcode\n;assert CORESIZE == 800\n mov 0, 1\n")
    assert (issue.line, issue.message) == (2, "Assertion in this line fails")
    tiny = AssemblerSettings(core_size=800, max_length=20, min_distance=20)
    assert len(assemble(";assert CORESIZE == 800\n mov 0, 1\n", tiny)) == 1


def test_missing_or_invalid_assert_is_fine() -> None:
    assert len(assemble(" mov 0, 1\n")) == 1
    assert len(assemble(";assert CORESIZE == \n mov 0, 1\n")) == 1  # only warned


def test_assert_with_a_single_equals_fails_like_pmars() -> None:
    # "8000 =8000" reads as 8000 == 000 in pMARS (see test_evaluate_lone_equals).
    (issue,) = issues(";assert CORESIZE = 8000\n mov 0, 1\n")
    assert issue.message == "Assertion in this line fails"


def test_predefined_constants_follow_settings() -> None:
    settings = AssemblerSettings(core_size=800, max_length=20, min_distance=20)
    source = (
        " dat CORESIZE, MAXLENGTH\n dat MINDISTANCE, PSPACESIZE\n"
        " dat VERSION, WARRIORS\n dat ROUNDS, MAXPROCESSES\n dat MAXCYCLES, 0\n"
    )
    numbers = [
        (i.a_number, i.b_number) for i in assemble(source, settings).instructions
    ]
    assert numbers == [(0, 20), (20, 50), (94, 2), (1, 0), (0, 0)]
    assert AssemblerSettings().predefined()["PSPACESIZE"] == 500
    assert AssemblerSettings(core_size=55440).predefined()["PSPACESIZE"] == 3465


def test_length_limit() -> None:
    assert len(assemble(" dat 0\n" * 100)) == 100
    (issue,) = issues(" dat 0\n" * 101)
    assert issue.message.startswith("Too many instructions")
    tiny = AssemblerSettings(max_length=20, min_distance=20)
    issues(" dat 0\n" * 21, tiny)


@pytest.mark.parametrize("source", ["", "\n\n", "; just a comment\n", "lonely\n"])
def test_empty_warrior_is_an_error(source: str) -> None:
    assert issues(source)[-1].message == "No instructions"


def test_every_error_is_collected_with_its_line() -> None:
    source = (
        ";redcode\n"
        "ok    mov 0, 1\n"
        "      mov 0\n"
        "      jmp nowhere\n"
        "      dat #1, 2/0\n"
        "      add.q 1, 2\n"
        "      dat 1, 2, 3\n"
    )
    errors = issues(source)
    assert [error.line for error in errors] == [3, 4, 5, 6, 7]
    assert errors[1].message == "Undefined label or symbol: 'nowhere'"
    assert errors[1].column == 11
    text = str(RedcodeError(errors))
    assert "line 4, col 11: Undefined label or symbol: 'nowhere'" in text
    assert text.count("\n") == 4


def test_redcode_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        assemble("mov\n")


# ---------------------------------------------------------------------------------------
# extract_redcode


def test_extract_prefers_the_last_redcode_fenced_block() -> None:
    answer = (
        "Here is my plan. First a draft:\n\n"
        "```redcode\nmov 0, 2\n```\n\n"
        "Some Python to check it:\n```python\nprint('hi')\n```\n"
        "And the final version:\n"
        "```asm\n;redcode-94\n;name Final\nimp mov.i 0, 1\n```\n"
        "Good luck!\n"
    )
    code = extract_redcode(answer)
    assert code == ";redcode-94\n;name Final\nimp mov.i 0, 1\n"
    assert assemble(code).name == "Final"


def test_extract_handles_unclosed_fence_and_plain_fences() -> None:
    assert extract_redcode("text\n```\nmov 0, 1\n") == "mov 0, 1\n"
    assert extract_redcode("```\n  jmp 0\n```") == "  jmp 0\n"


def test_extract_without_fences_drops_surrounding_prose() -> None:
    answer = (
        "I think an imp is best.\n"
        ";redcode\n;name Imp\nimp mov 0, 1\n     end imp\n\n"
        "This warrior copies itself forward forever.\n"
    )
    code = extract_redcode(answer)
    assert code.startswith(";redcode") and "forever" not in code
    assert len(assemble(code)) == 1


def test_extract_skips_think_blocks_and_prefers_the_last_header() -> None:
    answer = (
        "<think>mov 0, 1 could work, or spl 0</think>\n"
        "Draft:\n;redcode\n;name Draft\njmp 0\n\n"
        "Better:\n;name Final\n;redcode-94\nmov 0, 1\nThat is all.\n"
    )
    code = extract_redcode(answer)
    assert code == ";name Final\n;redcode-94\nmov 0, 1\n"
    assert assemble(code).name == "Final"


def test_extract_returns_text_without_code_unchanged() -> None:
    assert extract_redcode("no code here") == "no code here"
    assert extract_redcode("") == ""


# ---------------------------------------------------------------------------------------
# Load files


def test_load_file_format_is_exact() -> None:
    assert load(DWARF) == DWARF_LOAD


def test_load_file_numbers_are_signed_in_half_open_range() -> None:
    text = load("dat #7999, 4000\ndat #4001, 1\n")
    assert "#    -1, $  4000" in text
    assert "# -3999, $     1" in text


def test_load_file_roundtrip() -> None:
    warrior = assemble(DWARF + " pin 7\n")
    back = parse_load_file(to_load_file(warrior))
    assert back.instructions == warrior.instructions
    assert (back.start, back.pin) == (1, 7)
    assert to_load_file(back) == to_load_file(warrior)


def test_parse_load_file_reduces_numbers_and_rejects_junk() -> None:
    warrior = parse_load_file("ORG 0\nMOV.I $ -1, $ 8001\nEND\n")
    assert warrior.instructions[0].a_number == 7999
    assert warrior.instructions[0].b_number == 1
    with pytest.raises(RedcodeError):
        parse_load_file("MOV.Q $ 1, $ 1\n")
    with pytest.raises(RedcodeError):
        parse_load_file("ORG 0\nEND\n")


def test_to_load_file_of_a_hand_built_warrior() -> None:
    instruction = Instruction(
        opcode=Opcode.SPL,
        modifier=Modifier.B,
        a_mode=Mode.IMMEDIATE,
        a_number=799,
        b_mode=Mode.DIRECT,
        b_number=0,
    )
    text = to_load_file(Warrior(instructions=(instruction,)), core_size=800)
    assert text.splitlines()[1] == "       SPL.B  #    -1, $     0     "
