import difflib

import random

import pytest

from textkit import apply_opcodes, lcs_table, opcodes, similarity, unified_diff


def test_lcs_length():
    assert lcs_table("ABCBDAB", "BDCABA")[0][0] == 4


def test_lcs_of_identical():
    assert lcs_table("abc", "abc")[0][0] == 3


def test_opcodes_equal_sequences():
    assert opcodes(["a", "b"], ["a", "b"]) == [("equal", 0, 2, 0, 2)]


def test_opcodes_insert():
    assert opcodes(["a", "c"], ["a", "b", "c"]) == [
        ("equal", 0, 1, 0, 1),
        ("insert", 1, 1, 1, 2),
        ("equal", 1, 2, 2, 3),
    ]


def test_opcodes_delete():
    assert opcodes(["a", "b", "c"], ["a", "c"]) == [
        ("equal", 0, 1, 0, 1),
        ("delete", 1, 2, 1, 1),
        ("equal", 2, 3, 1, 2),
    ]


def test_opcodes_replace():
    assert opcodes(["a", "x", "c"], ["a", "y", "c"]) == [
        ("equal", 0, 1, 0, 1),
        ("replace", 1, 2, 1, 2),
        ("equal", 2, 3, 2, 3),
    ]


def test_opcodes_from_empty():
    assert opcodes([], ["a"]) == [("insert", 0, 0, 0, 1)]
    assert opcodes(["a"], []) == [("delete", 0, 1, 0, 0)]


@pytest.mark.parametrize("seed", range(5))
def test_apply_opcodes_rebuilds_target(seed):
    rng = random.Random(seed)
    a = rng.choices("abcde", k=20)
    b = rng.choices("abcde", k=15)
    assert apply_opcodes(a, b, opcodes(a, b)) == b


@pytest.mark.parametrize("seed", range(3))
def test_opcodes_equal_runs_form_an_lcs(seed):
    rng = random.Random(100 + seed)
    a = rng.choices("xyz", k=12)
    b = rng.choices("xyz", k=12)
    matched = sum(i2 - i1 for tag, i1, i2, _, _ in opcodes(a, b) if tag == "equal")
    assert matched == lcs_table(a, b)[0][0]


def test_similarity():
    assert similarity([], []) == 1.0
    assert similarity(["a"], ["b"]) == 0.0
    assert similarity(list("abcd"), list("abxd")) == pytest.approx(0.75)


def test_unified_diff_no_changes():
    assert unified_diff(["a"], ["a"]) == []


def test_unified_diff_matches_difflib_simple():
    a = [f"line {i}" for i in range(10)]
    b = list(a)
    b[5] = "changed"
    ours = unified_diff(a, b, "x", "y")
    theirs = list(difflib.unified_diff(a, b, "x", "y", lineterm=""))
    assert ours == theirs


def test_unified_diff_two_hunks_matches_difflib():
    a = [f"line {i}" for i in range(30)]
    b = list(a)
    b[2] = "first change"
    del b[20]
    ours = unified_diff(a, b)
    theirs = list(difflib.unified_diff(a, b, "a", "b", lineterm=""))
    assert ours == theirs
    assert sum(line.startswith("@@") for line in ours) == 2


def test_unified_diff_close_changes_share_hunk():
    a = [str(i) for i in range(20)]
    b = list(a)
    b[5] = "x"
    b[9] = "y"
    ours = unified_diff(a, b)
    assert sum(line.startswith("@@") for line in ours) == 1
    assert ours == list(difflib.unified_diff(a, b, "a", "b", lineterm=""))


def test_unified_diff_insert_at_start():
    ours = unified_diff(["b", "c"], ["a", "b", "c"])
    assert ours == list(difflib.unified_diff(["b", "c"], ["a", "b", "c"], "a", "b", lineterm=""))


def test_unified_diff_empty_to_content():
    ours = unified_diff([], ["a", "b"])
    assert ours[2] == "@@ -0,0 +1,2 @@"


def test_unified_diff_context_zero():
    a = ["a", "b", "c"]
    b = ["a", "x", "c"]
    assert unified_diff(a, b, context=0) == ["--- a", "+++ b", "@@ -2 +2 @@", "-b", "+x"]
