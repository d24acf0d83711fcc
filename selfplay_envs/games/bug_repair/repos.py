"""Repositories the game runs on: the shipped ones, or any local git repository.

A ``RepoSpec`` names a source (a git bundle, a local git repository, or a plain
directory) and its test command. ``load_repo`` reads it once per process into an
in-memory ``RepoSnapshot``: the tracked files at ``HEAD`` and, for git sources, the
``.git`` directory of a fresh clone (so the injector can read the history). Episodes
only ever copy from the snapshot: the caller's repository is never written to.

The shipped repositories live in ``envs_assets/repos`` (found by the core asset
locator): ``<name>.bundle`` holds the history (no nested ``.git`` in this project) and
``<name>/`` the same tree at ``HEAD``; ``manifest.json`` lists them.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import json
import os
import posixpath
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

from selfplay_envs.core.assets import asset_path
from selfplay_envs.games.bug_repair.patches import Tree

__all__ = [
    "RepoSpec",
    "RepoSnapshot",
    "load_repo",
    "shipped_repos",
    "is_test_path",
    "is_test_module",
    "is_config_path",
    "DEFAULT_TEST_COMMAND",
]

DEFAULT_TEST_COMMAND = "python -m pytest -q"
#: Largest ``.git`` directory copied into the injector's working copy.
MAX_HISTORY_BYTES = 64 * 1024 * 1024
_TEST_NAMES = ("test_*.py", "*_test.py", "conftest.py")
_TEST_DIRS = {"tests", "test", "testing"}
_CONFIG_NAMES = {"pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml", ".pytest.ini"}
_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_AUTHOR_NAME": "selfplay-envs",
    "GIT_AUTHOR_EMAIL": "selfplay-envs@invalid",
    "GIT_COMMITTER_NAME": "selfplay-envs",
    "GIT_COMMITTER_EMAIL": "selfplay-envs@invalid",
}


def is_test_path(path: str) -> bool:
    """A test file: ``test_*.py``, ``*_test.py``, ``conftest.py``, or under ``tests/``."""
    parts = path.split("/")
    name = parts[-1]
    if any(fnmatch.fnmatch(name, pattern) for pattern in _TEST_NAMES):
        return True
    return any(part in _TEST_DIRS for part in parts[:-1])


def is_test_module(path: str) -> bool:
    """A file pytest collects by default: ``test_*.py`` or ``*_test.py``."""
    name = posixpath.basename(path)
    return fnmatch.fnmatch(name, "test_*.py") or fnmatch.fnmatch(name, "*_test.py")


def is_config_path(path: str) -> bool:
    """A file that configures pytest (its selection or plugins)."""
    return posixpath.basename(path) in _CONFIG_NAMES


@dataclasses.dataclass(frozen=True, kw_only=True)
class RepoSpec:
    """Where a repository comes from and how its tests run.

    Attributes:
        name: Short name shown to the agents.
        source: A git bundle file, a git repository (its ``HEAD`` is used), or a
            plain directory (no history).
        test_command: A pytest command run from the repository root; the verdict
            keeps its allowed options and runs the oracle test files with them.
        description: One line shown to the agents.
        history: Give the injector the ``.git`` directory (skipped anyway above
            ``MAX_HISTORY_BYTES``).
    """

    name: str
    source: str
    test_command: str = DEFAULT_TEST_COMMAND
    description: str = ""
    history: bool = True

    @classmethod
    def local(
        cls, path: str | os.PathLike[str], test_command: str = DEFAULT_TEST_COMMAND
    ) -> RepoSpec:
        """A spec for a local git repository or directory."""
        resolved = Path(path).expanduser().resolve()
        if not resolved.is_dir():
            raise ValueError(f"expected a directory, got {str(path)!r}")
        return cls(name=resolved.name, source=str(resolved), test_command=test_command)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RepoSnapshot:
    """A repository read into memory.

    Attributes:
        spec: Where it came from.
        files: Tracked files at ``HEAD`` (no ``.git``).
        git: The ``.git`` directory of a clone (relative paths under ``.git/``), or
            empty when the source has no history.
        commit: The ``HEAD`` commit id, or "".
    """

    spec: RepoSpec
    files: Tree
    git: Tree
    commit: str = ""

    @property
    def name(self) -> str:
        """The repository's name."""
        return self.spec.name

    @property
    def test_files(self) -> list[str]:
        """Python test modules (``conftest.py`` excluded), sorted."""
        return sorted(p for p in self.files if is_test_module(p))

    @property
    def source_files(self) -> list[str]:
        """Python files that are neither tests nor configuration, sorted."""
        return sorted(
            p
            for p in self.files
            if p.endswith(".py") and not is_test_path(p) and not is_config_path(p)
        )

    def with_history(self) -> Tree:
        """Files plus the ``.git`` directory: the injector's working copy."""
        return {**self.files, **self.git}


@functools.lru_cache(maxsize=1)
def _manifest() -> dict[str, dict[str, str]]:
    return json.loads(asset_path("repos", "manifest.json").read_text())["repos"]


def shipped_repos(names: Sequence[str] | None = None) -> list[RepoSpec]:
    """Specs of the shipped repositories (all, or those in ``names``)."""
    manifest = _manifest()
    wanted = list(manifest) if names is None else list(names)
    unknown = [n for n in wanted if n not in manifest]
    if unknown:
        raise ValueError(
            f"expected repository names in {sorted(manifest)}, got {unknown}"
        )
    return [
        RepoSpec(
            name=name,
            source=str(asset_path("repos", f"{name}.bundle")),
            test_command=manifest[name].get("test_command", DEFAULT_TEST_COMMAND),
            description=manifest[name].get("description", ""),
        )
        for name in wanted
    ]


def _fingerprint(source: Path) -> str:
    """Changes when the source changes: file size and mtime, or the git HEAD."""
    if source.is_file():
        info = source.stat()
        return f"file:{info.st_size}:{info.st_mtime_ns}"
    if (source / ".git").exists() and shutil.which("git"):
        head = _git(["rev-parse", "HEAD"], cwd=source, check=False)
        # --no-optional-locks: do not even refresh the caller's index file.
        status = _git(
            ["--no-optional-locks", "status", "--porcelain"], cwd=source, check=False
        )
        return f"git:{head.strip()}:{hash(status)}"
    latest = max(
        (p.stat().st_mtime_ns for p in source.rglob("*") if p.is_file()), default=0
    )
    return f"dir:{latest}"


def load_repo(spec: RepoSpec) -> RepoSnapshot:
    """Read ``spec`` into memory (cached per process while the source is unchanged)."""
    source = Path(spec.source)
    if not source.exists():
        raise FileNotFoundError(
            f"expected a repository at {spec.source}, found nothing"
        )
    return _load(spec, _fingerprint(source))


@functools.lru_cache(maxsize=32)
def _load(spec: RepoSpec, fingerprint: str) -> RepoSnapshot:
    del fingerprint  # Part of the cache key only.
    source = Path(spec.source)
    is_git = source.is_file() or (source / ".git").exists()
    if is_git and shutil.which("git") is None:
        warnings.warn(
            f"git is not installed: {spec.name} is loaded without its history",
            RuntimeWarning,
            stacklevel=3,
        )
        return _from_directory(spec, _plain_fallback(spec))
    if not is_git:
        return _from_directory(spec, source)
    with tempfile.TemporaryDirectory(prefix="selfplay-clone-") as tmp:
        clone = Path(tmp) / spec.name
        _git(
            ["clone", "--quiet", "--no-hardlinks", str(source), str(clone)],
            cwd=Path(tmp),
        )
        commit = _git(["rev-parse", "HEAD"], cwd=clone).strip()
        tracked = _git(["ls-files", "-z"], cwd=clone).split("\0")
        files = {
            rel: (clone / rel).read_bytes()
            for rel in tracked
            if rel and (clone / rel).is_file() and not (clone / rel).is_symlink()
        }
        # A fresh clone's remote points at this machine's path; drop it.
        _git(["remote", "remove", "origin"], cwd=clone, check=False)
        git = _read_git_dir(clone) if spec.history else {}
    return RepoSnapshot(spec=spec, files=files, git=git, commit=commit)


def _read_git_dir(clone: Path) -> Tree:
    paths = [
        p for p in (clone / ".git").rglob("*") if p.is_file() and not p.is_symlink()
    ]
    if sum(p.stat().st_size for p in paths) > MAX_HISTORY_BYTES:
        warnings.warn(
            f"{clone.name}: .git is over {MAX_HISTORY_BYTES >> 20} MiB; the injector "
            "gets no history",
            RuntimeWarning,
            stacklevel=4,
        )
        return {}
    return {p.relative_to(clone).as_posix(): p.read_bytes() for p in paths}


def _plain_fallback(spec: RepoSpec) -> Path:
    source = Path(spec.source)
    if source.is_file() and source.suffix == ".bundle":
        return source.with_suffix("")  # the shipped tree next to the bundle
    return source


def _from_directory(spec: RepoSpec, root: Path) -> RepoSnapshot:
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in (".git", "__pycache__", ".pytest_cache") for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink():
            files[rel.as_posix()] = path.read_bytes()
    return RepoSnapshot(spec=spec, files=files, git={})


def _git(args: list[str], *, cwd: Path, check: bool = True) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, **_GIT_ENV},
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {result.stderr.strip()[:300]}")
    return result.stdout
