"""# Bug repair (Self-play SWE-RL)

| | |
|---|---|
| Creation | `selfplay_envs.make("bug_repair_v0", sandbox="local" \\| "docker", ...)` |
| Agents | `player_0` (injector), `player_1` (solver) |
| Actions | text: one tool call per turn, `<tool name="shell">ls</tool>` (see Action) |
| Observation | `{"text": str}`: the task, the tools, and the seat's recent tool calls |
| Reference | Self-play SWE-RL (SSR): bug injection and repair specified only by tests |

An injector breaks a working repository so that its tests catch the bug, and hides the
failures by weakening the tests; a solver must repair the code with the reverse of the
weakening patch as its only specification. No issue text is written by people. Code
runs in a sandbox: bubblewrap by default (`sandbox="local"`), or one Docker container
per episode (`sandbox="docker"`); the caller's repository is never modified.

## Observation
The acting seat's prompt: its role, the repository's files and test command, the
artifact rules (injector) or the specification patch (solver), the tool syntax, its
turn budget, and its tool calls so far with their outputs (oldest dropped first when
the prompt would exceed `max_observation_chars`). `infos[agent]` carries the same data
structured for scripted agents: `files`, `source_files`, `test_files`,
`test_command`, `spec_patch` (solver), `tool_result` (the seat's last tool call:
`output`, `exit_code`, `stdout`, `stderr`, `content`...), `phase`, `turns_left`.

## Action
One tool call per reply in a `<tool>` tag; the last tag counts:

```
<tool name="shell">python -m pytest -q tests/test_parser.py</tool>
<tool name="read_file" path="inifile/parser.py"/>
<tool name="write_file" path="inifile/parser.py">...whole file...</tool>
<tool name="apply_patch">--- a/x.py\\n+++ b/x.py\\n@@ ... </tool>
<tool name="submit">{"bug_patch": "...", "weaken_patch": "...", "test_files": ["tests/test_x.py"]}</tool>
```

A tool call is a turn: its output is the seat's next observation and the same seat acts
again, until it submits or its turn budget (`injector_max_turns`, `solver_max_turns`)
runs out. The solver submits with `<tool name="submit"/>`. The injector's artifact may
instead name files of its working copy: `bug_patch_file`, `weaken_patch_file`.

## Rewards
With `solver_attempts = n` and solve rate `s` (solved attempts / n):

| reward_mode | injector | solver |
|---|---|---|
| `"zero_sum"` (default) | `1 - 2s`; `-1` for an invalid artifact | `2s - 1` (mean of +-1 per attempt); `+1` if the artifact is invalid |
| `"ssr"` (not zero-sum) | `-alpha` if `s` is 0 or 1, else `1 - (1 + alpha) s`; `-1` if invalid | `2s - 1`; `0` if invalid |

The zero-sum default keeps the game a two-player zero-sum game. SSR's own injector reward,
which punishes bugs the solver always or never fixes, is not zero-sum; it is always in
`infos[agent]["ssr_injector_reward"]` at the end (with `solver_rewards`, `solve_rate`,
`validation` and `attempt_results`), and `reward_mode="ssr"` makes it the return.
`preset="ssr"` sets `reward_mode="ssr"`, `alpha=0.8` and check 5's looser rule
`weakening_check="some_pass"` (each point given explicitly wins over the preset).

## Invalid moves
A reply without a well-formed `<tool>` call, an unknown tool, missing arguments or a
path outside the working copy is an invalid move with a reason; the env's invalid-move
policy decides what follows (a forfeit by the injector counts as an invalid artifact, by
the solver as failing the remaining attempts). A tool that fails when run (a missing
file, a diff that does not apply, a failing command) is a valid turn whose output says so.

## Version History
* v0: initial release.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from selfplay_envs.core.errors import DependencyNotInstalled
from selfplay_envs.core.game import Game, GameInfo
from selfplay_envs.games.bug_repair.artifact import ValidationConfig, WeakeningCheck
from selfplay_envs.games.bug_repair.params import (
    PARAMETERS,
    is_local_repo,
    resolve_preset,
)
from selfplay_envs.games.bug_repair.repos import (
    DEFAULT_TEST_COMMAND,
    RepoSpec,
    load_repo,
    shipped_repos,
)
from selfplay_envs.games.bug_repair.rules import (
    ROLES,
    BugRepairConfig,
    BugRepairState,
    RewardMode,
)
from selfplay_envs.games.bug_repair.sandbox import SandboxLimits, SandboxSpec
from selfplay_envs.games.bug_repair.sandbox.caps import warn_missing_caps

__all__ = ["BugRepairGame"]


def _repo_specs(
    repos: Sequence[str | RepoSpec | os.PathLike[str]] | None, test_command: str
) -> tuple[RepoSpec, ...]:
    if repos is None:
        return tuple(shipped_repos())
    if isinstance(repos, (str, RepoSpec, os.PathLike)):
        repos = [repos]
    specs: list[RepoSpec] = []
    shipped_names: list[str] = []
    for item in repos:
        if isinstance(item, RepoSpec):
            specs.append(item)
        elif is_local_repo(item):
            specs.append(RepoSpec.local(item, test_command))
        elif isinstance(item, str):
            shipped_names.append(item)
        else:
            raise TypeError(
                f"expected a repo name, path or RepoSpec, got {type(item).__name__}"
            )
    specs.extend(shipped_repos(shipped_names) if shipped_names else [])
    if not specs:
        raise ValueError("expected at least one repository, got none")
    return tuple(specs)


class BugRepairGame(Game):
    """Bug injection vs bug repair on real repositories.

    Args:
        repos: Shipped repository names (``"inifile"``), paths of local git
            repositories or directories, or ``RepoSpec``s; default: every shipped one.
            Each episode draws one from the seed.
        test_command: Pytest command for local paths given in ``repos``.
        sandbox: ``"local"`` (bubblewrap) or ``"docker"``.
        unsafe_subprocess: With ``sandbox="local"`` and no usable bwrap, run commands
            as plain subprocesses (NO isolation; warns) instead of failing.
        allow_network: Let sandboxed commands use the network.
        injector_max_turns: Tool calls of the injector before it must have submitted.
        solver_max_turns: Tool calls per solver attempt (the attempt is then scored).
        solver_attempts: Independent solver attempts ``n`` per artifact.
        min_passing_tests: Check 2 threshold.
        min_bug_files: Check 3 threshold ``m``.
        min_failing_tests: Check 4 threshold ``k``.
        preset: ``"ssr"``: Self-play SWE-RL's rules for each point below that is
            not given (``reward_mode="ssr"``, ``alpha=0.8``,
            ``weakening_check="some_pass"``); ``None``: today's rules.
        weakening_check: Check 5's rule: ``"all_pass"`` (no test fails with the
            weakening applied; the default) or ``"some_pass"`` (at least one test
            the bug broke no longer fails; SSR's).
        alpha: SSR's ``alpha`` in the injector reward (default 0.8).
        reward_mode: ``"zero_sum"`` (default) or ``"ssr"`` (see the doc page).
        command_timeout: Wall-clock limit of one shell tool call (seconds).
        test_timeout: Wall-clock limit of one test run by the env.
        memory_mb: Memory limit of each sandboxed process, and of all processes of
            a command together where the backend can cap totals.
        max_processes: Process limit of a sandbox.
        cpu_seconds: CPU-time limit of one sandboxed process.
        disk_mb: Size of the sandbox's ``/tmp``, and of the working copy where it
            can be capped (both tmpfs, so memory); writes past it get ``ENOSPC``.
        max_output_chars: Tool output kept per call in the observation.
        max_observation_chars: Size the prompt is kept under.
        extra_env: Environment variables for sandboxed commands.
        extra_distributions: Installed distributions to copy into the docker image
            (packages the repositories' tests import; the local backend sees the
            host's packages anyway).
    """

    #: The conformance suite also runs the non-zero-sum SSR reward with short budgets.
    conformance_configs = (
        {"reward_mode": "ssr", "solver_attempts": 1, "injector_max_turns": 3},
        {"preset": "ssr", "solver_attempts": 1, "injector_max_turns": 3},
    )

    parameters = PARAMETERS
    # Scripted opponents (``Game.opponents``), imported by agents on first use.
    opponents = {
        "random": "selfplay_agents.opponents.bug_repair:random_player",
        "mutation_injector": "selfplay_agents.opponents.bug_repair:mutation_injector",
        "removal_injector": "selfplay_agents.opponents.bug_repair:removal_injector",
        "patch_search_solver": "selfplay_agents.opponents.bug_repair:patch_search_solver",
        "scripted": "selfplay_agents.opponents.bug_repair:scripted",
    }

    def __init__(
        self,
        *,
        repos: Sequence[str | RepoSpec | os.PathLike[str]] | None = None,
        test_command: str = DEFAULT_TEST_COMMAND,
        sandbox: str = "local",
        unsafe_subprocess: bool = False,
        allow_network: bool = False,
        injector_max_turns: int = 30,
        solver_max_turns: int = 30,
        solver_attempts: int = 2,
        min_passing_tests: int = 5,
        min_bug_files: int = 1,
        min_failing_tests: int = 1,
        preset: str | None = None,
        weakening_check: str | None = None,
        alpha: float | None = None,
        reward_mode: str | None = None,
        command_timeout: float = 30.0,
        test_timeout: float = 60.0,
        memory_mb: int = 1024,
        max_processes: int = 64,
        cpu_seconds: int = 60,
        disk_mb: int = 512,
        max_output_chars: int = 6000,
        max_observation_chars: int = 32000,
        extra_env: Mapping[str, str] | None = None,
        extra_distributions: Sequence[str] = (),
    ):
        # Every argument has been checked against PARAMETERS (params.py).
        rules = resolve_preset(
            {
                "preset": preset,
                "weakening_check": weakening_check,
                "alpha": alpha,
                "reward_mode": reward_mode,
            }
        )
        self.repos = _repo_specs(repos, test_command)
        self.sandbox = SandboxSpec(
            backend=sandbox,
            limits=SandboxLimits(
                timeout=command_timeout,
                cpu_seconds=cpu_seconds,
                memory_mb=memory_mb,
                max_processes=max_processes,
                disk_mb=disk_mb,
            ),
            allow_network=allow_network,
            unsafe_subprocess=unsafe_subprocess,
            extra_env=tuple(sorted((extra_env or {}).items())),
            extra_distributions=tuple(extra_distributions),
        )
        _require_pytest()
        self.backend = self.sandbox.check()  # fail at make(), not mid-episode
        # Said once, here: what this machine cannot cap (docker is the hard bound).
        warn_missing_caps(self.backend, self.sandbox.missing_caps())
        self.config = BugRepairConfig(
            make_sandbox=self.sandbox,
            validation=ValidationConfig(
                min_passing_tests=min_passing_tests,
                min_bug_files=min_bug_files,
                min_failing_tests=min_failing_tests,
                weakening_check=WeakeningCheck(rules["weakening_check"]),
            ),
            injector_max_turns=injector_max_turns,
            solver_max_turns=solver_max_turns,
            solver_attempts=solver_attempts,
            alpha=rules["alpha"],
            reward_mode=RewardMode(rules["reward_mode"]),
            command_timeout=command_timeout,
            test_timeout=test_timeout,
            max_output_chars=max_output_chars,
            max_observation_chars=max_observation_chars,
        )
        self.info = GameInfo(
            name="bug_repair_v0",
            num_players=2,
            max_game_length=injector_max_turns + solver_attempts * solver_max_turns,
            zero_sum=self.config.reward_mode is RewardMode.ZERO_SUM,
            max_text_length=65536,
            roles=ROLES,
        )

    def new_initial_state(self, rng: np.random.Generator) -> BugRepairState:
        """Draw a repository and start the injection phase (no sandbox yet)."""
        spec = self.repos[int(rng.integers(len(self.repos)))]
        return BugRepairState(self.config, load_repo(spec))

    def observation_extra_spaces(self) -> dict[str, Any]:
        """The text view has no extra observation entries."""
        return {}


def _require_pytest() -> None:
    """The verdicts run pytest: without it no artifact could be valid, so refuse."""
    import importlib.util

    if importlib.util.find_spec("pytest") is None:
        raise DependencyNotInstalled(
            "bug_repair_v0 runs the repositories' tests with pytest, which is not "
            "installed: `pip install pytest` (it is part of selfplay-envs' base install)"
        )
