"""Bug injection vs bug repair (Self-play SWE-RL) as a two-seat, turn-based game.

Seat 0 is the **injector**, seat 1 the **solver**. One episode:

1. *Injection.* The injector works in a copy of a repository (with its git history)
   through tool calls, one per turn, and submits a bug artifact. The env validates it
   with the six checks of ``artifact.py``; an invalid artifact ends the game.
2. *Repair.* The solver gets ``solver_attempts`` independent attempts. Each starts
   from a fresh copy of the buggy repository with the weakening applied and no
   ``.git``; its only specification is the reversed weakening patch. An attempt ends
   when the solver submits or its turn budget runs out; it is scored by re-running the
   oracle tests on the solver's source files with the original test files restored.

Every tool call is a turn; its output is the acting seat's next observation and the
same seat acts again until it submits. Workspaces and sandboxes are created on the
first tool call that needs them, so episodes that never reach a tool are cheap.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from selfplay_envs.core.game import State
from selfplay_envs.core.parsing import InvalidReason, ParseResult
from selfplay_envs.games.bug_repair.artifact import (
    BugArtifact,
    Validation,
    ValidationConfig,
    WeakeningCheck,
    artifact_from_args,
    tree_key,
    validate_artifact,
)
from selfplay_envs.games.bug_repair.patches import Tree
from selfplay_envs.games.bug_repair.report import TestReport
from selfplay_envs.games.bug_repair.repos import (
    RepoSnapshot,
    is_config_path,
    is_test_path,
)
from selfplay_envs.games.bug_repair.sandbox.base import Sandbox
from selfplay_envs.games.bug_repair.tools import (
    SYNTAX_HELP,
    ToolCall,
    ToolName,
    ToolResult,
    format_tool_call,
    parse_tool_call,
    run_file_tool,
    run_shell,
    truncate_middle,
)
from selfplay_envs.games.bug_repair.verdict import run_verdict, verdict_options
from selfplay_envs.games.bug_repair.workspace import Workspace

__all__ = [
    "Phase",
    "RewardMode",
    "BugRepairConfig",
    "AttemptResult",
    "BugRepairState",
    "ssr_injector_reward",
    "INJECTOR",
    "SOLVER",
]

INJECTOR, SOLVER = 0, 1
ROLES = ("injector", "solver")
_MAX_INFO_CONTENT = 256 * 1024


class Phase(str, enum.Enum):
    """Where the episode is."""

    INJECT = "inject"
    SOLVE = "solve"
    DONE = "done"


class RewardMode(str, enum.Enum):
    """How final returns are computed (see the env's doc page)."""

    ZERO_SUM = "zero_sum"  # solver: mean of +-1 per attempt; injector: its negation
    SSR = "ssr"  # injector: SSR's reward; solver: mean of +-1 (not zero-sum)


def ssr_injector_reward(solve_rate: float, alpha: float) -> float:
    """SSR's injector reward for a valid artifact: ``-alpha`` if the solve rate is 0
    or 1, else ``1 - (1 + alpha) * s``."""
    if solve_rate <= 0.0 or solve_rate >= 1.0:
        return -alpha
    return 1.0 - (1.0 + alpha) * solve_rate


@dataclasses.dataclass(frozen=True, kw_only=True)
class BugRepairConfig:
    """Every parameter of an episode (built by ``BugRepairGame``)."""

    make_sandbox: Callable[[Any], Sandbox]
    validation: ValidationConfig = ValidationConfig()
    injector_max_turns: int = 30
    solver_max_turns: int = 30
    solver_attempts: int = 2
    alpha: float = 0.8
    reward_mode: RewardMode = RewardMode.ZERO_SUM
    command_timeout: float = 30.0
    test_timeout: float = 60.0
    max_output_chars: int = 6000
    max_observation_chars: int = 32000


@dataclasses.dataclass(frozen=True, kw_only=True)
class AttemptResult:
    """One solver attempt."""

    solved: bool
    turns: int
    ended_by: str  # "submit", "turn budget" or "forfeit"
    report: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return dataclasses.asdict(self)


class BugRepairState(State):
    """One episode: an injection phase, then ``solver_attempts`` repair attempts."""

    def __init__(self, config: BugRepairConfig, repo: RepoSnapshot):
        self.config = config
        self.repo = repo
        self.phase = Phase.INJECT
        self.turn = 0  # tool calls made in the current phase (or attempt)
        self.history: list[tuple[str, str]] = []  # (call, output) of the current phase
        self.last_results: dict[int, ToolResult] = {}
        self.artifact: BugArtifact | None = None
        self.validation: Validation | None = None
        self.invalid_artifact = ""  # why the injector lost, when it did
        self.attempt = 0
        self.attempt_results: list[AttemptResult] = []
        self._workspace: Workspace | None = None
        self._sandbox: Sandbox | None = None
        self._loaded: str | None = None  # label of the tree in the workspace
        #: What the verdict runner caught, one entry per tampered run (for infos).
        self.tampering: list[dict[str, Any]] = []

    # ---- pickling: live resources are rebuilt on demand ------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_sandbox"] = None
        return state

    # ---- who acts ----------------------------------------------------------------

    @property
    def num_players(self) -> int:
        """Two seats: the injector and the solver."""
        return 2

    def role(self, player: int) -> str:
        """``"injector"`` or ``"solver"``."""
        return ROLES[player]

    def current_players(self) -> list[int]:
        """The injector while injecting, the solver while repairing."""
        if self.phase is Phase.INJECT:
            return [INJECTOR]
        if self.phase is Phase.SOLVE:
            return [SOLVER]
        return []

    def is_terminal(self) -> bool:
        """The artifact was invalid, or every attempt is over."""
        return self.phase is Phase.DONE

    @property
    def solve_rate(self) -> float:
        """Solved attempts over ``solver_attempts`` (unplayed attempts count as failed)."""
        solved = sum(r.solved for r in self.attempt_results)
        return solved / self.config.solver_attempts

    def returns(self) -> list[float]:
        """Final returns; see ``RewardMode``."""
        if self.phase is not Phase.DONE:
            return [0.0, 0.0]
        return self._final_returns()

    def _final_returns(self) -> list[float]:
        zero_sum = self.config.reward_mode is RewardMode.ZERO_SUM
        if self.invalid_artifact:
            return [-1.0, 1.0 if zero_sum else 0.0]
        solver = 2.0 * self.solve_rate - 1.0
        injector = (
            -solver
            if zero_sum
            else ssr_injector_reward(self.solve_rate, self.config.alpha)
        )
        return [injector, solver]

    def forfeit_returns(self, loser: int) -> list[float]:
        """An injector forfeit is an invalid artifact; a solver forfeit fails the
        current and remaining attempts. Resources are released here."""
        if loser == INJECTOR:
            self.invalid_artifact = (
                self.invalid_artifact or "forfeit (too many invalid moves)"
            )
        elif self.phase is Phase.SOLVE:
            self.attempt_results.append(
                AttemptResult(
                    solved=False, turns=self.turn, ended_by="forfeit", report={}
                )
            )
        self.phase = Phase.DONE
        self.release()
        return self._final_returns()

    # ---- actions --------------------------------------------------------------------

    def parse_action(self, player: int, text: str) -> ParseResult:
        """Parse one tool call; the injector's submit must name its artifact."""
        result = parse_tool_call(text)
        if not result.ok:
            return result
        call: ToolCall = result.action
        if call.name is ToolName.SUBMIT and player == INJECTOR:
            missing = [
                key
                for key in ("bug_patch", "weaken_patch")
                if not (call.get(key) or call.get(f"{key}_file"))
            ]
            if not (call.get("test_files") or call.get("oracle_test_files")):
                missing.append("test_files")
            if missing:
                return ParseResult.invalid(
                    InvalidReason.UNPARSABLE, f"submit needs {', '.join(missing)}"
                )
        return result

    def example_actions(self, player: int) -> list[str]:
        """Cheap valid tool calls for test drivers (no sandbox command, no submission
        that would start a validation)."""
        if player not in self.current_players():
            return []
        files = sorted(
            self.validation.solver_tree
            if self.phase is Phase.SOLVE and self.validation
            else self.repo.files
        )
        replies = [f'<tool name="read_file" path="{path}"/>' for path in files[:2]]
        replies.append(
            '<tool name="write_file" path="notes.txt">\nnothing to see\n</tool>'
        )
        if player == SOLVER:
            replies.append('<tool name="submit"/>')
        return replies

    def action_to_string(self, player: int, action: Any) -> str:
        """The canonical tag of a tool call."""
        del player  # Same text for both seats.
        return format_tool_call(action) if isinstance(action, ToolCall) else str(action)

    def fallback_action(self, player: int, rng: np.random.Generator) -> ToolCall:
        """Under the penalty policy an invalid move becomes a skipped turn."""
        del player, rng  # Always the same pass.
        return ToolCall(name=ToolName.PASS)

    def apply_action(self, player: int, action: ToolCall) -> None:
        """Run one tool call (or a submission) of the acting seat."""
        self.turn += 1
        if action.name is ToolName.SUBMIT:
            self.history.append((format_tool_call(action), "submitted"))
            if player == INJECTOR:
                self._submit_artifact(action)
            else:
                self._finish_attempt("submit")
            return
        result = self._run_tool(action)
        self.last_results[player] = result
        self.history.append((format_tool_call(action), result.output))
        if self.phase is Phase.INJECT and self.turn >= self.config.injector_max_turns:
            self._end_injection_invalid(
                f"no submission within {self.config.injector_max_turns} turns"
            )
        elif self.phase is Phase.SOLVE and self.turn >= self.config.solver_max_turns:
            self._finish_attempt("turn budget")

    def _run_tool(self, call: ToolCall) -> ToolResult:
        if call.name is ToolName.PASS:
            return ToolResult(
                tool="pass", ok=False, output="invalid tool call: turn skipped"
            )
        self._prepare_workspace()
        limit = self.config.max_output_chars
        if call.name is ToolName.SHELL:
            return run_shell(
                call, self._get_sandbox(), self.config.command_timeout, limit
            )
        return run_file_tool(call, self._get_workspace(), limit)

    # ---- resources --------------------------------------------------------------------

    def _get_workspace(self) -> Workspace:
        if self._workspace is None or not self._workspace.alive:
            self._workspace = Workspace()
            self._loaded = None
        return self._workspace

    def _get_sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = self.config.make_sandbox(self._get_workspace().path)
        return self._sandbox

    def _load(self, label: str, tree: Mapping[str, bytes]) -> None:
        workspace = self._get_workspace()
        if self._loaded != label:
            workspace.load(tree)
            self._loaded = label

    def _prepare_workspace(self) -> None:
        """The acting seat's working copy, loaded on its first tool call."""
        if self.phase is Phase.INJECT:
            self._load("inject", self.repo.with_history())
        elif self.validation is not None:
            self._load(f"solve:{self.attempt}", self.validation.solver_tree)

    def close(self) -> None:
        """The env's release hook: same as ``release``."""
        self.release()

    def release(self) -> None:
        """Close the sandbox and delete the working copy (idempotent)."""
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None
        if self._workspace is not None:
            self._workspace.cleanup()
            self._workspace = None
        self._loaded = None

    def run_tests(
        self, tree: Mapping[str, bytes], command: str, files: tuple[str, ...]
    ) -> TestReport:
        """Run ``files`` of ``tree`` in the sandbox through the verdict runner."""
        options, error = verdict_options(command)
        if options is None:
            return TestReport(outcomes={}, error=error)
        self._loaded = None
        self._load(f"tests:{tree_key(tree)}", tree)
        report = run_verdict(
            self._get_sandbox(), tree, files, options, self.config.test_timeout
        )
        self._loaded = None  # the run may have changed the tree
        if report.tampering:
            self.tampering.append(
                {
                    "phase": self.phase.value,
                    "attempt": self.attempt if self.phase is Phase.SOLVE else None,
                    "caught": list(report.tampering[:10]),
                }
            )
        return report

    # ---- phase changes ------------------------------------------------------------------

    def _submit_artifact(self, call: ToolCall) -> None:
        self._prepare_workspace()
        artifact, error = artifact_from_args(
            call.args, self._read_for_submit, self.repo.spec.test_command
        )
        if artifact is None:
            self._end_injection_invalid(f"malformed artifact: {error}")
            return
        self.artifact = artifact
        self.validation = validate_artifact(
            artifact, self.repo.files, self.run_tests, self.config.validation
        )
        if not self.validation.valid:
            self._end_injection_invalid(self.validation.reason)
            return
        self.phase = Phase.SOLVE
        self._start_phase()

    def _read_for_submit(self, path: str) -> bytes:
        return self._get_workspace().read_bytes(path)

    def _end_injection_invalid(self, reason: str) -> None:
        self.invalid_artifact = reason
        self.phase = Phase.DONE
        self.release()

    def _start_phase(self) -> None:
        self.turn = 0
        self.history = []
        self._loaded = None

    def _finish_attempt(self, ended_by: str) -> None:
        report = self._score_attempt()
        self.attempt_results.append(
            AttemptResult(
                solved=report["solved"],
                turns=self.turn,
                ended_by=ended_by,
                report=report,
            )
        )
        self.attempt += 1
        if self.attempt >= self.config.solver_attempts:
            self.phase = Phase.DONE
            self.release()
        else:
            self._start_phase()

    def _score_attempt(self) -> dict[str, Any]:
        assert self.validation is not None and self.artifact is not None
        if self._loaded == f"solve:{self.attempt}":
            final = self._get_workspace().snapshot()
        else:
            final = dict(self.validation.solver_tree)  # no tool call touched it
        tree = scoring_tree(self.validation.buggy, final, self.artifact.test_files)
        if tree_key(tree) == tree_key(self.validation.buggy):
            report = self.validation.reports["buggy"]  # nothing changed: known result
        else:
            report = self.run_tests(
                tree, self.artifact.test_command, self.artifact.test_files
            )
        broken = sorted(report.not_passing(self.validation.target_tests))
        return {
            "solved": not broken and not report.tampering,
            "tampering": list(report.tampering[:10]),
            "still_failing": broken[:50],
            "changed_files": sorted(
                p
                for p in set(tree) | set(self.validation.buggy)
                if tree.get(p) != self.validation.buggy.get(p)
            ),
            "tests": report.summary(),
        }

    # ---- observations -----------------------------------------------------------------

    def observation_text(self, player: int) -> str:
        """The acting seat's task, tools and recent tool calls; a status line otherwise."""
        if self.phase is Phase.DONE:
            return self._final_text(player)
        if player not in self.current_players():
            if player == SOLVER:
                return "You are the solver. The injector is preparing a bug; wait for your turn."
            return (
                f"You are the injector. Your artifact is valid; the solver is on attempt "
                f"{self.attempt + 1} of {self.config.solver_attempts}."
            )
        header = (
            self._injector_header() if player == INJECTOR else self._solver_header()
        )
        text = self._with_history(header)
        return truncate_middle(text, self.config.max_observation_chars)

    def _budget(self) -> int:
        if self.phase is Phase.INJECT:
            return self.config.injector_max_turns
        return self.config.solver_max_turns

    def _injector_header(self) -> str:
        check = self.config.validation
        files = _listing(self.repo.files)
        history = (
            "with its git history: try `git log -p`"
            if self.repo.git
            else "without git history"
        )
        return f"""# Bug injection: you are the INJECTOR
Repository `{self.repo.name}`: {self.repo.spec.description or "a Python project"}.
Its working copy, {history}, is your current directory in a sandbox with no network.
Files:
{files}
Test command: `{self.repo.spec.test_command}`

Break the code in a way its tests catch, then hide the breakage from the visible tests.
Submit a bug artifact:
  bug_patch      unified diff of source files (not tests or pytest config), >= {check.min_bug_files} file(s)
  weaken_patch   unified diff of the oracle test files that hides the failures
  test_files     the oracle test files (tests run on them, before and after)
  test_command   optional; a pytest command (default above)
as <tool name="submit">{{"bug_patch": "...", "weaken_patch": "...", "test_files": ["tests/test_x.py"]}}</tool>
or name files in your working copy: bug_patch_file="bug.diff" weaken_patch_file="weak.diff" test_files="tests/test_x.py".
The env applies both patches to a clean copy and checks:
  (1) the test files exist; (2) >= {check.min_passing_tests} tests pass on the original code;
  (3) the bug patch changes >= {check.min_bug_files} source file(s); (4) >= {check.min_failing_tests} passing test(s) fail with the bug;
  (5) with the weakening applied, {self._check_5_text()}; (6) undoing the bug in any one changed file fixes a failing test.
An invalid artifact scores -1. The solver then sees the buggy code and your weakened tests, with the
reverse of your weakening patch as its only hint, and has {self.config.solver_attempts} attempt(s) to fix it.
{self._injector_reward_text()}

{SYNTAX_HELP}

Turn {self.turn + 1} of {self._budget()}."""

    def _check_5_text(self) -> str:
        if self.config.validation.weakening_check is WeakeningCheck.SOME_PASS:
            return "at least one test the bug broke no longer fails (and no other newly fails)"
        return "no test fails"

    def _injector_reward_text(self) -> str:
        if self.config.reward_mode is RewardMode.SSR:
            alpha = self.config.alpha
            return (
                f"If it fixes a share s of them you score 1 - {1 + alpha:g}*s, but -{alpha:g} "
                "if it fixes all or none: aim for a bug it fixes only sometimes."
            )
        return (
            "If it fixes a share s of them you score 1 - 2*s: the harder, the better."
        )

    def _solver_header(self) -> str:
        assert self.validation is not None and self.artifact is not None
        spec = truncate_middle(
            self.validation.spec_patch, self.config.max_observation_chars // 3
        )
        files = _listing(self.validation.solver_tree)
        return f"""# Bug repair: you are the SOLVER (attempt {self.attempt + 1} of {self.config.solver_attempts})
Repository `{self.repo.name}`: {self.repo.spec.description or "a Python project"}.
Its working copy is your current directory in a sandbox with no network (no git history).
Files:
{files}
Test command: `{self.artifact.test_command}`

The code has a bug, and some tests were weakened to hide it. This patch restores the
hidden tests; it is your only specification of the expected behaviour:
```diff
{spec}```
Fix the source code, then submit with <tool name="submit"/>. You are scored by running the
original tests of {", ".join(self.artifact.test_files)} on your code: all must pass. Your edits to test files and
pytest configuration are discarded.

{SYNTAX_HELP}

Turn {self.turn + 1} of {self._budget()}."""

    def _with_history(self, header: str) -> str:
        budget = self.config.max_observation_chars - len(header) - 200
        blocks = []
        for number, (call, output) in enumerate(self.history, start=1):
            output = truncate_middle(output, self.config.max_output_chars)
            blocks.append(f"## Call {number}\n{call}\n## Output {number}\n{output}")
        kept: list[str] = []
        used = 0
        for block in reversed(blocks):
            if used + len(block) > budget:
                break
            kept.append(block)
            used += len(block) + 2
        kept.reverse()
        omitted = len(blocks) - len(kept)
        note = f"[{omitted} earlier tool calls omitted]\n\n" if omitted else ""
        if not blocks:
            return header
        return f"{header}\n\n# Your tool calls so far\n{note}" + "\n\n".join(kept)

    def _final_text(self, player: int) -> str:
        returns = self.returns()
        if self.invalid_artifact:
            outcome = f"The artifact was invalid: {self.invalid_artifact[:500]}"
        else:
            solved = sum(r.solved for r in self.attempt_results)
            outcome = f"The solver fixed the bug in {solved} of {self.config.solver_attempts} attempts."
        return f"Game over. {outcome} Your return: {returns[player]:+.2f}."

    def info(self, player: int) -> dict[str, Any]:
        """Structured view of ``player`` (its own tool results only); evidence at the end."""
        info: dict[str, Any] = {
            "phase": self.phase.value,
            "repo": self.repo.name,
            "attempt": self.attempt,
            "solver_attempts": self.config.solver_attempts,
            "phase_turn": self.turn if player in self.current_players() else None,
            "turns_left": self._budget() - self.turn
            if player in self.current_players()
            else None,
            "command_timeout": self.config.command_timeout,
        }
        result = self.last_results.get(player)
        if result is not None and player in self.current_players() and self.turn > 0:
            info["tool_result"] = _info_result(result)
        if player == INJECTOR and self.phase is Phase.INJECT:
            info.update(
                files=sorted(self.repo.files),
                source_files=self.repo.source_files,
                test_files=self.repo.test_files,
                test_command=self.repo.spec.test_command,
                has_history=bool(self.repo.git),
                checks=_checks_info(self.config.validation),
            )
        if (
            player == SOLVER
            and self.phase is Phase.SOLVE
            and self.validation
            and self.artifact
        ):
            info.update(
                files=sorted(self.validation.solver_tree),
                spec_patch=self.validation.spec_patch,
                test_files=list(self.artifact.test_files),
                test_command=self.artifact.test_command,
            )
        if self.phase is Phase.DONE:
            info.update(self._evidence())
            # What the arena averages per agent: the solver's solve rate on valid
            # bugs, and how often the injector's artifact was valid.
            valid = not self.invalid_artifact
            info["metrics"] = (
                {"valid_artifact": float(valid)}
                if player == INJECTOR
                else ({"solve_rate": self.solve_rate} if valid else {})
            )
        return info

    def _evidence(self) -> dict[str, Any]:
        solver_rewards = [1.0 if r.solved else -1.0 for r in self.attempt_results]
        valid = not self.invalid_artifact
        return {
            "valid_artifact": valid,
            "artifact_invalid_reason": self.invalid_artifact,
            "artifact": self.artifact.to_dict() if self.artifact else None,
            "validation": self.validation.to_dict() if self.validation else None,
            "attempt_results": [r.to_dict() for r in self.attempt_results],
            "solve_rate": self.solve_rate if valid else None,
            "solver_rewards": solver_rewards,
            "tampering": list(self.tampering),
            "ssr_injector_reward": (
                ssr_injector_reward(self.solve_rate, self.config.alpha)
                if valid
                else -1.0
            ),
        }

    def render(self) -> str:
        """Everything, hidden parts included."""
        lines = [
            f"bug_repair on {self.repo.name}: phase {self.phase.value}, turn {self.turn}"
        ]
        if self.artifact:
            lines.append(f"artifact: oracle files {list(self.artifact.test_files)}")
            lines.append(self.artifact.bug_patch[:2000])
        if self.validation:
            lines.append(
                f"validation: {'valid' if self.validation.valid else self.validation.reason}"
            )
        for index, result in enumerate(self.attempt_results):
            lines.append(
                f"attempt {index + 1}: {'solved' if result.solved else 'failed'} ({result.ended_by})"
            )
        if self.phase is Phase.DONE:
            lines.append(f"returns: {self.returns()}")
        return "\n".join(lines)


def _checks_info(config: ValidationConfig) -> dict[str, Any]:
    """The check thresholds and check 5's rule, as plain JSON values."""
    data = dataclasses.asdict(config)
    data["weakening_check"] = config.weakening_check.value
    return data


def _listing(files: Mapping[str, bytes], limit: int = 200) -> str:
    paths = sorted(files)
    lines = [f"  {p}" for p in paths[:limit]]
    if len(paths) > limit:
        lines.append(f"  ... and {len(paths) - limit} more (list them with the shell)")
    return "\n".join(lines)


def _info_result(result: ToolResult) -> dict[str, Any]:
    data = result.to_dict()
    if isinstance(data.get("content"), str):
        data["content"] = data["content"][:_MAX_INFO_CONTENT]
    return data


def scoring_tree(buggy: Tree, final: Tree, oracle_files: tuple[str, ...]) -> Tree:
    """The tree the solver is scored on: its source files over the buggy tree.

    Test files, pytest configuration, the oracle files and ``.git`` always come from
    the buggy tree (whose test files are the originals), so edits to them are ignored.
    Files the solver added are ignored too: a fix edits or deletes existing files, and
    a new top-level ``pytest.py`` would otherwise shadow pytest itself.
    """
    tree: Tree = {}
    for path in sorted(set(buggy) | set(final)):
        protected = (
            path in oracle_files
            or is_test_path(path)
            or is_config_path(path)
            or path.startswith(".git/")
        )
        source = buggy if protected or path not in buggy else final
        if path in source:
            tree[path] = source[path]
    return tree
