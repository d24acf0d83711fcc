"""The six validity checks, each failing for its own reason, on a tiny real repository.

Tests run for real in the sandbox and are read from pytest's JUnit XML.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from selfplay_envs.games.bug_repair.artifact import (
    BugArtifact,
    Check,
    ValidationConfig,
    artifact_from_args,
    pytest_command,
    validate_artifact,
)
from selfplay_envs.games.bug_repair.env import BugRepairGame
from selfplay_envs.games.bug_repair.patches import make_patch
from selfplay_envs.games.bug_repair.repos import RepoSpec
from selfplay_envs.games.bug_repair.rules import BugRepairState

TESTS = ("test_tiny.py", "test_tiny_util.py")


@pytest.fixture
def state(need_bwrap: None, tiny_repo: RepoSpec) -> Iterator[BugRepairState]:
    game = BugRepairGame(repos=[tiny_repo])
    state = game.new_initial_state(np.random.default_rng(0))
    yield state
    state.release()


def _edit(files: dict[str, bytes], path: str, old: str, new: str) -> str:
    text = files[path].decode()
    assert old in text
    return make_patch({path: files[path]}, {path: text.replace(old, new, 1).encode()})


def _drop_test(files: dict[str, bytes], name: str) -> str:
    text = files["test_tiny.py"].decode()
    start = text.index(f"def {name}(")
    end = text.find("\ndef ", start + 1) + 1 or len(text)
    return make_patch(
        {"test_tiny.py": files["test_tiny.py"]},
        {"test_tiny.py": (text[:start] + text[end:]).encode()},
    )


def _artifact(state: BugRepairState, **changes: object) -> BugArtifact:
    files = state.repo.files
    fields = {
        "bug_patch": _edit(files, "tiny.py", "        return hi", "        return lo"),
        "weaken_patch": _drop_test(files, "test_clamp_high"),
        "test_files": TESTS,
        "test_command": "python -m pytest -q",
        **changes,
    }
    return BugArtifact(**fields)


def _validate(state: BugRepairState, artifact: BugArtifact, **config: int):
    return validate_artifact(
        artifact, state.repo.files, state.run_tests, ValidationConfig(**config)
    )


def _failed(validation) -> Check:
    assert not validation.valid
    return next(c.check for c in validation.checks if not c.passed)


def test_a_valid_artifact(state: BugRepairState) -> None:
    validation = _validate(state, _artifact(state))
    assert validation.valid, validation.reason
    assert [c.check for c in validation.checks] == list(Check)
    assert validation.failing_tests == {"test_tiny.py::test_clamp_high"}
    assert len(validation.target_tests) == 8
    assert "+def test_clamp_high" in validation.spec_patch
    assert b"return lo" in validation.solver_tree["tiny.py"]
    assert b"test_clamp_high" not in validation.solver_tree["test_tiny.py"]
    assert validation.buggy["test_tiny.py"] == state.repo.files["test_tiny.py"]
    assert set(validation.reports) == {
        "original",
        "buggy",
        "weakened",
        "revert:tiny.py",
    }


def test_check_1_missing_test_file(state: BugRepairState) -> None:
    validation = _validate(state, _artifact(state, test_files=("test_nope.py",)))
    assert _failed(validation) is Check.TEST_FILES_EXIST
    assert "test_nope.py" in validation.reason
    assert not validation.reports  # nothing was run


def test_check_1_command_must_run_pytest(state: BugRepairState) -> None:
    validation = _validate(state, _artifact(state, test_command="make test"))
    assert _failed(validation) is Check.TEST_FILES_EXIST


def test_check_2_too_few_passing_tests(state: BugRepairState) -> None:
    validation = _validate(state, _artifact(state), min_passing_tests=50)
    assert _failed(validation) is Check.ORIGINAL_PASSES
    assert "8 tests pass" in validation.reason


def test_check_3_bug_must_not_touch_tests(state: BugRepairState) -> None:
    files = state.repo.files
    bug = _edit(files, "test_tiny_util.py", '"HI!"', '"HO!"')
    validation = _validate(state, _artifact(state, bug_patch=bug))
    assert _failed(validation) is Check.BUG_TOUCHES_FILES
    assert "test or config" in validation.reason


def test_check_3_needs_m_files(state: BugRepairState) -> None:
    validation = _validate(state, _artifact(state), min_bug_files=2)
    assert _failed(validation) is Check.BUG_TOUCHES_FILES
    assert "need 2" in validation.reason


def test_check_3_patch_must_apply(state: BugRepairState) -> None:
    bug = "--- a/tiny.py\n+++ b/tiny.py\n@@ -1 +1 @@\n-not there\n+x\n"
    validation = _validate(state, _artifact(state, bug_patch=bug))
    assert _failed(validation) is Check.BUG_TOUCHES_FILES
    assert "does not apply" in validation.reason


def test_check_4_bug_must_break_a_test(state: BugRepairState) -> None:
    bug = _edit(
        state.repo.files,
        "tiny.py",
        '"""Tiny arithmetic helpers."""',
        '"""Tiny helpers."""',
    )
    validation = _validate(state, _artifact(state, bug_patch=bug))
    assert _failed(validation) is Check.BUG_BREAKS_TESTS
    assert "0 passing tests fail" in validation.reason


def test_check_5_weakening_must_hide_the_failures(state: BugRepairState) -> None:
    weak = _drop_test(state.repo.files, "test_span")  # hides the wrong test
    validation = _validate(state, _artifact(state, weaken_patch=weak))
    assert _failed(validation) is Check.WEAKENING_HIDES_BUG
    assert "test_clamp_high" in validation.reason


def test_check_5_weakening_only_touches_oracle_files(state: BugRepairState) -> None:
    artifact = _artifact(state, test_files=("test_tiny_util.py",))
    validation = _validate(state, artifact)
    assert _failed(validation) is Check.WEAKENING_HIDES_BUG
    assert "non-oracle" in validation.reason


def test_check_6_every_changed_file_must_matter(state: BugRepairState) -> None:
    files = state.repo.files
    real = _edit(files, "tiny.py", "        return hi", "        return lo")
    decoy = _edit(
        files, "tiny_util.py", '"""String helpers."""', '"""Helpers for strings."""'
    )
    validation = _validate(state, _artifact(state, bug_patch=real + decoy))
    assert _failed(validation) is Check.EACH_FILE_MATTERS
    assert "tiny_util.py" in validation.reason


def test_artifact_from_args_reads_files_and_lists() -> None:
    files = {"bug.diff": b"BUG", "weak.diff": b"WEAK"}
    artifact, error = artifact_from_args(
        {
            "bug_patch_file": "bug.diff",
            "weaken_patch_file": "weak.diff",
            "test_files": "b.py, a.py",
        },
        lambda path: files[path],
        "pytest",
    )
    assert error == ""
    assert artifact == BugArtifact(
        bug_patch="BUG",
        weaken_patch="WEAK",
        test_files=("a.py", "b.py"),
        test_command="pytest",
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"weaken_patch": "x", "test_files": ["t.py"]}, "bug_patch"),
        ({"bug_patch": "x", "weaken_patch": "x", "test_files": []}, "non-empty"),
        ({"bug_patch": "x", "weaken_patch": "x", "test_files": ["../t.py"]}, "leaves"),
        (
            {"bug_patch": "x" * 70000, "weaken_patch": "x", "test_files": ["t.py"]},
            "longer",
        ),
    ],
)
def test_artifact_from_args_errors(args: dict, error: str) -> None:
    artifact, message = artifact_from_args(args, lambda path: b"", "pytest")
    assert artifact is None and error in message


def test_pytest_command() -> None:
    assert pytest_command("python -m pytest -q -x") == [
        "python",
        "-m",
        "pytest",
        "-q",
        "-x",
    ]
    assert pytest_command("pytest") == ["pytest"]
    assert pytest_command("bash -c pytest") is None
    assert pytest_command("python -m 'pytest") is None
