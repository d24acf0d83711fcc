"""The declared parameters of ``bug_repair_v0`` (see ``selfplay_envs.core.config``).

Checked before any sandbox is probed or repository read: a local repository must be a
directory holding pytest test modules, ``test_command`` a pytest command the verdict
accepts (``verdict.verdict_options``), ``extra_env`` names and strings, and every limit
is bounded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from selfplay_envs.core.config import (
    Bool,
    Choice,
    Dict,
    Float,
    Instance,
    Int,
    OneOf,
    Param,
    Params,
    PathArg,
    Seq,
    Str,
    Where,
)
from selfplay_envs.games.bug_repair.artifact import WeakeningCheck
from selfplay_envs.games.bug_repair.repos import (
    DEFAULT_TEST_COMMAND,
    RepoSpec,
    is_test_module,
    shipped_repos,
)
from selfplay_envs.games.bug_repair.rules import RewardMode
from selfplay_envs.games.bug_repair.sandbox import BACKENDS
from selfplay_envs.games.bug_repair.verdict import verdict_options

__all__ = ["PARAMETERS", "PRESETS", "is_local_repo", "resolve_preset"]

#: The points of each preset; each is also a plain parameter, and a point given
#: explicitly wins over the preset's value.
PRESETS: dict[str, dict[str, Any]] = {
    # Self-play SWE-RL (Wei et al. 2025): the injector's reward punishes bugs that are
    # solved always or never (alpha = 0.8), and check 5 only asks the weakening to
    # hide some of the failures the bug causes.
    "ssr": {
        "reward_mode": RewardMode.SSR.value,
        "alpha": 0.8,
        "weakening_check": WeakeningCheck.SOME_PASS.value,
    },
}

#: Today's value of each preset point (the parameter's ``None``).
_PLAIN: dict[str, Any] = {
    "reward_mode": RewardMode.ZERO_SUM.value,
    "alpha": 0.8,
    "weakening_check": WeakeningCheck.ALL_PASS.value,
}


def resolve_preset(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` without ``preset``: each unset point from the preset, else today's."""
    rules = dict(config)
    preset = PRESETS.get(rules.pop("preset", None) or "", {})
    for name, plain in _PLAIN.items():
        if rules.get(name) is None:
            rules[name] = preset.get(name, plain)
    return rules


_WALK_LIMIT = 5000  # directories searched for a test module before giving up looking


def is_local_repo(item: Any) -> bool:
    """Whether a ``repos`` entry names a local directory (else a shipped name)."""
    return isinstance(item, os.PathLike) or "/" in str(item) or Path(str(item)).is_dir()


def _has_test_module(root: Path) -> bool:
    for count, (_, dirs, files) in enumerate(os.walk(root)):
        if any(is_test_module(name) for name in files):
            return True
        if count >= _WALK_LIMIT:
            return True  # too large to search here: loading it will tell
        dirs[:] = [d for d in dirs if not d.startswith(".")]
    return False


def _repo_problem(item: Any) -> str | None:
    if isinstance(item, RepoSpec):
        return None
    if is_local_repo(item):
        path = Path(os.fspath(item)).expanduser()
        if not path.is_dir():
            return f"{str(item)!r} is not a directory"
        if not _has_test_module(path):
            return f"{str(item)!r} holds no pytest test module (test_*.py, *_test.py)"
        return None
    names = [spec.name for spec in shipped_repos()]
    if item not in names:
        return f"{item!r} is neither a directory nor a shipped repository {names}"
    return None


def _repos(value: Any) -> str | None:
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        problem = _repo_problem(item)
        if problem:
            return problem
    return None


_REPO = OneOf(Str(), PathArg(), Instance(RepoSpec))


def _pytest_command(command: Any) -> str | None:
    options, reason = verdict_options(command)
    return reason if options is None else None


PARAMETERS = Params(
    Param(
        "repos",
        Where(
            OneOf(_REPO, Seq(_REPO, min_len=1)),
            _repos,
            desc="a shipped repository's name, the path of a local directory with "
            "pytest tests, a RepoSpec, or a non-empty list of them",
        ),
        None,
        "one is drawn per episode",
        shown_default="every shipped repository",
    ),
    Param(
        "test_command",
        Where(Str(max_len=1000), _pytest_command, desc="a pytest command"),
        DEFAULT_TEST_COMMAND,
        "for local paths in `repos`: `pytest`, `py.test` or `python -m pytest` and "
        "only the options `-q -qq -v -vv -x --exitfirst --strict-markers -k -m "
        "--tb= -r`",
    ),
    Param("sandbox", Choice(*BACKENDS), "local", "bubblewrap, or one Docker container"),
    Param(
        "unsafe_subprocess",
        Bool(),
        False,
        'with `sandbox="local"` and no usable bwrap, run plain subprocesses (NO '
        "isolation; warns)",
    ),
    Param("allow_network", Bool(), False, "let sandboxed commands use the network"),
    Param("injector_max_turns", Int(1, 1000), 30, "tool calls of the injector"),
    Param("solver_max_turns", Int(1, 1000), 30, "tool calls per solver attempt"),
    Param("solver_attempts", Int(1, 100), 2, "`n`: solver attempts per artifact"),
    Param("min_passing_tests", Int(1, 100_000), 5, "check 2: tests passing at first"),
    Param("min_bug_files", Int(1, 1000), 1, "check 3: `m`, files the bug changes"),
    Param(
        "min_failing_tests", Int(1, 100_000), 1, "check 4: `k`, tests the bug breaks"
    ),
    Param(
        "preset",
        Choice(*PRESETS),
        None,
        "`ssr`: Self-play SWE-RL's rules (each point below, when not given); "
        "`None`: today's rules",
    ),
    Param(
        "weakening_check",
        Choice(*(c.value for c in WeakeningCheck)),
        None,
        "check 5: `all_pass`, no test fails with the weakening applied; "
        "`some_pass`, at least one test the bug broke no longer fails",
        shown_default="'all_pass' (ssr: 'some_pass')",
    ),
    Param(
        "alpha",
        Float(0, 1),
        None,
        "SSR's `alpha` in the injector reward",
        shown_default="0.8 (ssr: 0.8)",
    ),
    Param(
        "reward_mode",
        Choice(*(m.value for m in RewardMode)),
        None,
        "see Rewards",
        shown_default="'zero_sum' (ssr: 'ssr')",
    ),
    Param(
        "command_timeout",
        Float(0, 3600, min_open=True),
        30.0,
        "seconds of one shell tool call",
    ),
    Param(
        "test_timeout",
        Float(0, 3600, min_open=True),
        60.0,
        "seconds of one test run of a check or of scoring",
    ),
    Param("memory_mb", Int(64, 1 << 20), 1024, "memory of a sandboxed process (MiB)"),
    Param("max_processes", Int(1, 65536), 64, "processes of a sandbox"),
    Param("cpu_seconds", Int(1, 86400), 60, "CPU time of a sandboxed process"),
    Param(
        "disk_mb",
        Int(1, 65536),
        512,
        "size of the sandbox's `/tmp` and of the working copy's tmpfs (MiB, memory)",
    ),
    Param(
        "max_output_chars",
        Int(1, 1_000_000),
        6000,
        "tool output kept per call in the observation",
    ),
    Param(
        "max_observation_chars",
        Int(1000, 60000),
        32000,
        "size the prompt is kept under",
    ),
    Param(
        "extra_env",
        Dict(
            Str(pattern=r"[A-Za-z_][A-Za-z0-9_]*", what="a variable name"),
            Str(min_len=0, max_len=65536, pattern=r"[^\0]*", what="a str without NUL"),
            max_len=256,
        ),
        None,
        "environment variables for sandboxed commands",
        shown_default="none",
    ),
    Param(
        "extra_distributions",
        Seq(
            Str(pattern=r"[A-Za-z0-9][A-Za-z0-9._-]*", what="a distribution name"),
            max_len=256,
        ),
        (),
        "installed distributions added to the docker image",
    ),
    game="bug_repair_v0",
)
