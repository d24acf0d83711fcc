"""The shipped repositories: real libraries with real histories and passing suites."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from selfplay_envs.core.assets import asset_path
from selfplay_envs.games.bug_repair.env import BugRepairGame
from selfplay_envs.games.bug_repair.report import Outcome
from selfplay_envs.games.bug_repair.repos import (
    RepoSpec,
    is_config_path,
    is_test_path,
    load_repo,
    shipped_repos,
)

REPOS = [spec.name for spec in shipped_repos()]
ROOT = asset_path("repos")


def test_at_least_six_repositories() -> None:
    assert len(REPOS) >= 6


def test_no_nested_git_directory_in_the_project() -> None:
    assert not list(ROOT.rglob(".git"))


@pytest.mark.parametrize("name", REPOS)
def test_library_size_and_test_count(name: str) -> None:
    repo = load_repo(shipped_repos([name])[0])
    lines = sum(repo.files[p].count(b"\n") for p in repo.source_files)
    assert 200 <= lines <= 1000, f"{name}: {lines} lines of library code"
    assert repo.test_files and repo.source_files


@pytest.mark.parametrize("name", REPOS)
def test_bundle_head_matches_the_readable_tree(name: str) -> None:
    repo = load_repo(shipped_repos([name])[0])
    tree = {
        path.relative_to(ROOT / name).as_posix(): path.read_bytes()
        for path in (ROOT / name).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert repo.files == tree


@pytest.mark.parametrize("name", REPOS)
def test_history_is_real(name: str, tmp_path: Path) -> None:
    clone = tmp_path / name
    subprocess.run(
        ["git", "clone", "-q", str(ROOT / f"{name}.bundle"), str(clone)], check=True
    )
    log = subprocess.run(
        ["git", "log", "--format=%s"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    subjects = log.splitlines()
    assert len(subjects) >= 3
    assert any(s.startswith("Fix") for s in subjects)  # a bug fix to learn from
    # The injector's copy carries the same history.
    repo = load_repo(shipped_repos([name])[0])
    assert any(path.startswith(".git/") for path in repo.git)
    assert ".git/config" in repo.git and b"[remote" not in repo.git[".git/config"]


@pytest.mark.parametrize("name", REPOS)
def test_suite_passes_in_the_sandbox_with_at_least_30_tests(
    need_bwrap: None, name: str
) -> None:
    game = BugRepairGame(repos=[name])
    state = game.new_initial_state(np.random.default_rng(0))
    try:
        report = state.run_tests(
            state.repo.files, state.repo.spec.test_command, tuple(state.repo.test_files)
        )
    finally:
        state.release()
    assert report.error == "", report.summary()
    assert len(report.passed) >= 30, report.summary()
    assert set(report.outcomes.values()) == {Outcome.PASSED}, report.summary()


def test_local_directory_without_git(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/m.py").write_text("X = 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_m.py").write_text("def test_x():\n    pass\n")
    (tmp_path / "pkg/__pycache__").mkdir()
    (tmp_path / "pkg/__pycache__/m.pyc").write_bytes(b"\0")
    repo = load_repo(RepoSpec.local(tmp_path))
    assert sorted(repo.files) == ["pkg/m.py", "tests/test_m.py"]
    assert repo.git == {} and repo.test_files == ["tests/test_m.py"]


def test_local_spec_needs_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected a directory"):
        RepoSpec.local(tmp_path / "missing")


def test_unknown_shipped_name() -> None:
    with pytest.raises(ValueError, match="expected repository names"):
        shipped_repos(["nope"])


@pytest.mark.parametrize(
    ("path", "test", "config"),
    [
        ("tests/test_a.py", True, False),
        ("pkg/a_test.py", True, False),
        ("tests/helpers.py", True, False),
        ("conftest.py", True, False),
        ("pkg/core.py", False, False),
        ("pyproject.toml", False, True),
        ("sub/pytest.ini", False, True),
    ],
)
def test_path_classes(path: str, test: bool, config: bool) -> None:
    assert is_test_path(path) is test
    assert is_config_path(path) is config
