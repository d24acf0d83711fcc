"""Fixtures of the bug_repair tests: a tiny git repository and the sandbox backends."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from selfplay_envs.games.bug_repair.repos import RepoSpec
from selfplay_envs.games.bug_repair.sandbox import bwrap_available, docker_available

TINY_SOURCE = '''\
"""Tiny arithmetic helpers."""


def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


def mean(values):
    if not values:
        raise ValueError("empty")
    return sum(values) / len(values)


def span(values):
    return max(values) - min(values)
'''

TINY_UTIL = '''\
"""String helpers."""


def shout(text):
    return text.upper() + "!"
'''

TINY_TESTS = """\
import pytest

from tiny import clamp, mean, span


def test_clamp_inside():
    assert clamp(5, 0, 10) == 5


def test_clamp_low():
    assert clamp(-3, 0, 10) == 0


def test_clamp_high():
    assert clamp(12, 0, 10) == 10


def test_clamp_edges():
    assert clamp(0, 0, 10) == 0
    assert clamp(10, 0, 10) == 10


def test_mean():
    assert mean([1, 2, 3]) == 2


def test_mean_empty():
    with pytest.raises(ValueError):
        mean([])


def test_span():
    assert span([3, 9, 4]) == 6
"""

TINY_UTIL_TESTS = """\
from tiny_util import shout


def test_shout():
    assert shout("hi") == "HI!"
"""


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="session")
def tiny_repo(tmp_path_factory: pytest.TempPathFactory) -> RepoSpec:
    """A local git repository with 8 tests over two source files, two commits."""
    repo = tmp_path_factory.mktemp("tiny") / "tiny_project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "tiny.py").write_text(TINY_SOURCE)
    (repo / "test_tiny.py").write_text(TINY_TESTS)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tiny: clamp, mean, span")
    (repo / "tiny_util.py").write_text(TINY_UTIL)
    (repo / "test_tiny_util.py").write_text(TINY_UTIL_TESTS)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tiny: shout")
    return RepoSpec.local(repo)


def _skip_without(backend: str) -> None:
    ok, reason = bwrap_available() if backend == "bwrap" else docker_available()
    if not ok:
        pytest.skip(f"{backend} sandbox unavailable here: {reason}")


@pytest.fixture(params=["bwrap", "docker"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each isolating backend; skipped with the reason where it cannot run."""
    _skip_without(request.param)
    return request.param


@pytest.fixture
def need_bwrap() -> None:
    """Skip unless bubblewrap can create a sandbox."""
    _skip_without("bwrap")


@pytest.fixture(scope="session")
def tiny_files() -> dict[str, str]:
    """The tiny repository's source and first test file, as text."""
    return {"tiny.py": TINY_SOURCE, "test_tiny.py": TINY_TESTS}
