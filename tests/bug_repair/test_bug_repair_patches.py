"""Unified diffs: written by us, by git, and by hand (as models do)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from selfplay_envs.games.bug_repair.patches import (
    PatchError,
    apply_patch,
    changed_paths,
    make_patch,
    normalise_path,
    parse_patch,
    reverse_patch,
)

OLD = {
    "pkg/a.py": b"def f(x):\n    if x < 1:\n        return 0\n    return x\n",
    "pkg/b.py": b"no final newline",
    "gone.txt": b"bye\n",
}
NEW = {
    "pkg/a.py": b"def f(x):\n    if x <= 1:\n        return 0\n    return x\n",
    "pkg/b.py": b"no final newline\n",
    "added.txt": b"hello\nworld",
}


def test_round_trip_through_our_diff() -> None:
    patch = make_patch(OLD, NEW)
    assert apply_patch(OLD, patch) == NEW
    assert apply_patch(NEW, reverse_patch(patch)) == OLD


def test_make_patch_of_equal_trees_is_empty() -> None:
    assert make_patch(OLD, dict(OLD)) == ""


def test_changed_paths() -> None:
    assert changed_paths(OLD, NEW) == ["added.txt", "gone.txt", "pkg/a.py", "pkg/b.py"]


def test_applies_git_diff_output(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    for path, data in OLD.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_bytes(data)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "old"], cwd=repo, check=True)
    (repo / "gone.txt").unlink()
    for path, data in NEW.items():
        (repo / path).write_bytes(data)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    diff = subprocess.run(
        ["git", "diff", "--cached"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert apply_patch(OLD, diff) == NEW


def test_our_diff_applies_with_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for path, data in OLD.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_bytes(data)
    (repo / "p.diff").write_text(make_patch(OLD, NEW))
    subprocess.run(["git", "apply", "p.diff"], cwd=repo, check=True)
    for path, data in NEW.items():
        assert (repo / path).read_bytes() == data
    assert not (repo / "gone.txt").exists()


def test_hand_written_diff_with_wrong_counts_and_bare_blank_lines() -> None:
    old = {"m.py": b"a = 1\n\nb = 2\n\nc = 3\n"}
    diff = "--- m.py\n+++ m.py\n@@ -1,99 +1,99 @@\n a = 1\n\n-b = 2\n+b = 20\n"
    assert apply_patch(old, diff) == {"m.py": b"a = 1\n\nb = 20\n\nc = 3\n"}


def test_hunk_found_at_an_offset() -> None:
    old = {"m.py": b"".join(f"line {i}\n".encode() for i in range(50))}
    diff = "--- a/m.py\n+++ b/m.py\n@@ -3,3 +3,3 @@\n line 40\n-line 41\n+LINE 41\n line 42\n"
    result = apply_patch(old, diff)["m.py"].decode().splitlines()
    assert result[41] == "LINE 41" and len(result) == 50


def test_trailing_whitespace_tolerated_as_a_last_resort() -> None:
    old = {"m.py": b"x = 1   \ny = 2\n"}
    diff = "--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,2 @@\n x = 1\n-y = 2\n+y = 3\n"
    assert apply_patch(old, diff)["m.py"] == b"x = 1\ny = 3\n"


def test_prose_around_the_diff_is_ignored() -> None:
    diff = "Here is my fix:\n--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\nHope it helps.\n"
    assert apply_patch({"m.py": b"x = 1\n"}, diff) == {"m.py": b"x = 2\n"}


@pytest.mark.parametrize(
    ("diff", "message"),
    [
        ("just text", "no '--- a/file'"),
        ("--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-nope\n+x\n", "does not apply"),
        ("--- a/missing.py\n+++ b/missing.py\n@@ -1 +1 @@\n-x\n+y\n", "does not exist"),
        ("--- /dev/null\n+++ b/m.py\n@@ -0,0 +1 @@\n+x\n", "already exists"),
        ("--- a/m.py\n+++ b/m.py\nwhat\n", "expected '@@"),
        ("--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n x = 1\n", "changes nothing"),
    ],
)
def test_bad_diffs_say_why(diff: str, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        apply_patch({"m.py": b"x = 1\n"}, diff)


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../outside.py", "a/../../b", "", "x\x00y"]
)
def test_paths_that_leave_the_tree_are_refused(path: str) -> None:
    with pytest.raises(PatchError):
        normalise_path(path)
    with pytest.raises(PatchError):
        parse_patch(f"--- {path}\n+++ {path}\n@@ -1 +1 @@\n-a\n+b\n")


def test_normalise_path_cleans() -> None:
    assert normalise_path("./pkg//a.py") == "pkg/a.py"


def test_input_tree_is_not_modified() -> None:
    tree = dict(OLD)
    apply_patch(tree, make_patch(OLD, NEW))
    assert tree == OLD
