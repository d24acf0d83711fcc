"""The injector's bug artifact and the six validity checks of Self-play SWE-RL.

An artifact is a bug patch, a test-weakening patch, the oracle test files and a pytest
command. The env, not the injector, runs the tests and reads their JUnit XML report.
The checks, in order (the first one that fails is the reason reported):

1. ``test_files_exist``: every oracle test file exists in the original repository, and
   the test command runs pytest.
2. ``original_passes``: at least ``min_passing_tests`` oracle tests pass on the original.
3. ``bug_touches_files``: the bug patch applies, changes at least ``min_bug_files``
   files, and changes no test or pytest configuration file.
4. ``bug_breaks_tests``: at least ``min_failing_tests`` tests that passed now fail.
5. ``weakening_hides_bug``: the weakening patch changes only oracle test files and,
   applied on top of the bug, leaves no failing test (``weakening_check="all_pass"``,
   the default), or makes at least one of the tests the bug broke stop failing
   (``"some_pass"``, Self-play SWE-RL's rule: it passes, or the weakening removed it).
6. ``each_file_matters``: undoing the bug in any single file it changed makes at least
   one of the failing tests pass again.

``combine_artifacts`` builds a higher-order bug from two valid artifacts of the same
repository: both bug patches and both weakenings applied together, then checked again.

Static checks (1's file part, 3, and 5's patch part) run before any test, so a malformed
artifact costs no sandbox time; test runs of identical trees are run once.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from selfplay_envs.games.bug_repair.patches import (
    PatchError,
    Tree,
    apply_patch,
    changed_paths,
    make_patch,
    normalise_path,
)
from selfplay_envs.games.bug_repair.report import TestReport
from selfplay_envs.games.bug_repair.repos import is_config_path, is_test_path
from selfplay_envs.games.bug_repair.verdict import pytest_command, verdict_options

__all__ = [
    "Check",
    "WeakeningCheck",
    "BugArtifact",
    "CheckResult",
    "Validation",
    "ValidationConfig",
    "artifact_from_args",
    "validate_artifact",
    "Combination",
    "combine_artifacts",
    "tree_key",
    "pytest_command",
]

MAX_PATCH_CHARS = 64 * 1024
MAX_TEST_FILES = 64
#: A test runner: tree, pytest command, oracle files -> report.
TestRunner = Callable[[Mapping[str, bytes], str, tuple[str, ...]], TestReport]


class Check(str, enum.Enum):
    """The validity checks, numbered as in Self-play SWE-RL."""

    TEST_FILES_EXIST = "1_test_files_exist"
    ORIGINAL_PASSES = "2_original_passes"
    BUG_TOUCHES_FILES = "3_bug_touches_files"
    BUG_BREAKS_TESTS = "4_bug_breaks_tests"
    WEAKENING_HIDES_BUG = "5_weakening_hides_bug"
    EACH_FILE_MATTERS = "6_each_file_matters"


class WeakeningCheck(str, enum.Enum):
    """What check 5 asks of the weakening patch, applied on top of the bug."""

    ALL_PASS = "all_pass"  # no test that passed on the original fails
    SOME_PASS = "some_pass"  # at least one test the bug broke no longer fails (SSR)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ValidationConfig:
    """The thresholds of the checks (``m``, ``k`` and the pass threshold) and the
    rule of check 5."""

    min_passing_tests: int = 5
    min_bug_files: int = 1
    min_failing_tests: int = 1
    weakening_check: WeakeningCheck = WeakeningCheck.ALL_PASS


@dataclasses.dataclass(frozen=True, kw_only=True)
class BugArtifact:
    """What the injector submits."""

    bug_patch: str
    weaken_patch: str
    test_files: tuple[str, ...]
    test_command: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {**dataclasses.asdict(self), "test_files": list(self.test_files)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class CheckResult:
    """One check: passed or not, and the evidence."""

    check: Check
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"check": self.check.value, "passed": self.passed, "detail": self.detail}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Validation:
    """The outcome of validating an artifact.

    Attributes:
        checks: The checks run, in order; the last failed one is the reason.
        original: Tree of the original repository.
        buggy: Original plus the bug patch (what scoring starts from).
        solver_tree: Buggy plus the weakening patch (what the solver sees).
        spec_patch: The reversed weakening patch: the solver's only specification.
        target_tests: Oracle tests that passed on the original (all must pass to solve).
        failing_tests: Of those, the ones the bug breaks.
        reports: Test reports by run name (``original``, ``buggy``, ``weakened``...).
    """

    checks: tuple[CheckResult, ...]
    original: Tree
    buggy: Tree = dataclasses.field(default_factory=dict)
    solver_tree: Tree = dataclasses.field(default_factory=dict)
    spec_patch: str = ""
    target_tests: frozenset[str] = frozenset()
    failing_tests: frozenset[str] = frozenset()
    reports: Mapping[str, TestReport] = dataclasses.field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """All six checks passed."""
        return len(self.checks) == len(Check) and all(c.passed for c in self.checks)

    @property
    def reason(self) -> str:
        """The failed check and why, or "" when valid."""
        for result in self.checks:
            if not result.passed:
                return f"check {result.check.value} failed: {result.detail}"
        return "" if self.valid else "validation did not finish"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly evidence."""
        return {
            "valid": self.valid,
            "reason": self.reason,
            "checks": [c.to_dict() for c in self.checks],
            "target_tests": len(self.target_tests),
            "failing_tests": sorted(self.failing_tests)[:100],
            "reports": {name: r.to_dict() for name, r in self.reports.items()},
        }


def tree_key(tree: Mapping[str, bytes]) -> str:
    """A content hash of a tree (to run identical trees once)."""
    digest = hashlib.sha256()
    for path in sorted(tree):
        digest.update(path.encode() + b"\0" + hashlib.sha256(tree[path]).digest())
    return digest.hexdigest()


# ---- building an artifact from the submit call -------------------------------------


def artifact_from_args(
    args: Mapping[str, Any],
    read_file: Callable[[str], bytes],
    default_command: str,
) -> tuple[BugArtifact | None, str]:
    """Build the artifact from submit arguments; returns ``(artifact, "")`` or
    ``(None, reason)``.

    ``bug_patch``/``weaken_patch`` hold diff text, or ``bug_patch_file``/
    ``weaken_patch_file`` name a file in the working copy. ``test_files`` is a list or
    a comma/space separated string.
    """
    patches = {}
    for key in ("bug_patch", "weaken_patch"):
        text, error = _patch_text(args, key, read_file)
        if error:
            return None, error
        patches[key] = text
    files = args.get("test_files", args.get("oracle_test_files"))
    if isinstance(files, str):
        files = files.replace(",", " ").split()
    if (
        not isinstance(files, list)
        or not files
        or not all(isinstance(f, str) for f in files)
    ):
        return None, "test_files must be a non-empty list of paths"
    if len(files) > MAX_TEST_FILES:
        return None, f"at most {MAX_TEST_FILES} test files"
    try:
        files = sorted({normalise_path(f.strip()) for f in files})
    except PatchError as err:
        return None, f"test_files: {err}"
    command = args.get("test_command") or default_command
    if not isinstance(command, str):
        return None, "test_command must be a string"
    return (
        BugArtifact(
            bug_patch=patches["bug_patch"],
            weaken_patch=patches["weaken_patch"],
            test_files=tuple(files),
            test_command=command.strip(),
        ),
        "",
    )


def _patch_text(
    args: Mapping[str, Any], key: str, read_file: Callable[[str], bytes]
) -> tuple[str, str]:
    if isinstance(args.get(key), str) and args[key].strip():
        text = args[key]
    elif isinstance(args.get(f"{key}_file"), str):
        try:
            text = read_file(args[f"{key}_file"]).decode("utf-8", "replace")
        except (ValueError, OSError) as err:
            return "", f"{key}_file: {err}"
    else:
        return "", f"submit needs {key} (diff text) or {key}_file (a path)"
    if len(text) > MAX_PATCH_CHARS:
        return "", f"{key} is longer than {MAX_PATCH_CHARS} characters"
    return text, ""


# ---- the checks --------------------------------------------------------------------


class _Runs:
    """Runs the tests of trees, once per distinct tree."""

    def __init__(self, runner: TestRunner, artifact: BugArtifact):
        self.runner = runner
        self.artifact = artifact
        self.cache: dict[str, TestReport] = {}
        self.reports: dict[str, TestReport] = {}

    def run(self, name: str, tree: Mapping[str, bytes]) -> TestReport:
        key = tree_key(tree)
        if key not in self.cache:
            self.cache[key] = self.runner(
                tree, self.artifact.test_command, self.artifact.test_files
            )
        self.reports[name] = self.cache[key]
        return self.cache[key]


def _tampered(name: str, report: TestReport) -> str:
    return f"tampering detected in the {name} run: {report.tampering[0]}"


def _weakening_problem(
    rule: WeakeningCheck,
    failing: frozenset[str],
    runs: tuple[TestReport, TestReport, TestReport],
) -> str:
    """Why check 5 fails under ``rule`` ("" when it passes); ``runs`` are the
    original, buggy and weakened reports."""
    original, buggy, weakened = runs
    if not weakened.outcomes:
        return (
            f"tests still fail after weakening: ['<no test ran: {weakened.summary()}>']"
        )
    if rule is WeakeningCheck.SOME_PASS:
        # A weakening that breaks what the bug left alone (a test module that no
        # longer imports, say) would "hide" failures by removing every test.
        new = sorted(weakened.failing - buggy.failing - original.failing)
        if new:
            return (
                f"tests fail after weakening that did not fail with the bug: {new[:5]}"
            )
        # A test the weakening deleted no longer fails: hiding by removal counts.
        if not failing - weakened.failing:
            return (
                "no test the bug broke stops failing after weakening: "
                f"{sorted(failing)[:5]}"
            )
        return ""
    # Tests that already failed on the original code are not the bug's doing.
    still = sorted(weakened.failing - original.failing)
    if still:
        return f"tests still fail after weakening: {still[:5]}"
    return ""


def _hidden_text(failing: frozenset[str], weakened: TestReport) -> str:
    """How many of the bug's failures the weakening hides, in words."""
    hidden = len(failing - weakened.failing)
    return f"the weakening hides {hidden} of {len(failing)} failing tests"


def validate_artifact(
    artifact: BugArtifact,
    original: Mapping[str, bytes],
    runner: TestRunner,
    config: ValidationConfig,
) -> Validation:
    """Run the six checks; stops at the first failure."""
    original = dict(original)
    checks: list[CheckResult] = []
    runs = _Runs(runner, artifact)

    def stop(check: Check, detail: str, **fields: Any) -> Validation:
        checks.append(CheckResult(check=check, passed=False, detail=detail))
        return Validation(
            checks=tuple(checks), original=original, reports=runs.reports, **fields
        )

    def ok(check: Check, detail: str) -> None:
        checks.append(CheckResult(check=check, passed=True, detail=detail))

    # 1 (static part) and the static parts of 3 and 5: no test run yet.
    missing = [f for f in artifact.test_files if f not in original]
    if missing:
        return stop(Check.TEST_FILES_EXIST, f"not in the repository: {missing[:5]}")
    not_tests = [
        f for f in artifact.test_files if not (is_test_path(f) and f.endswith(".py"))
    ]
    if not_tests:
        return stop(Check.TEST_FILES_EXIST, f"not Python test files: {not_tests[:5]}")
    _, option_error = verdict_options(artifact.test_command)
    if option_error:
        return stop(Check.TEST_FILES_EXIST, option_error)
    ok(Check.TEST_FILES_EXIST, f"{len(artifact.test_files)} oracle test files")
    # Static parts of checks 3 and 5: patches that do not apply cost no test run.
    try:
        buggy = apply_patch(original, artifact.bug_patch)
    except PatchError as err:
        return stop(Check.BUG_TOUCHES_FILES, f"the bug patch does not apply: {err}")
    bug_files = changed_paths(original, buggy)
    protected = [
        p
        for p in bug_files
        if is_test_path(p) or is_config_path(p) or p.startswith(".git/")
    ]
    if protected:
        return stop(
            Check.BUG_TOUCHES_FILES,
            f"the bug patch changes test or config files: {protected[:5]}",
        )
    if len(bug_files) < config.min_bug_files:
        return stop(
            Check.BUG_TOUCHES_FILES,
            f"the bug patch changes {len(bug_files)} files, need {config.min_bug_files}",
        )
    try:
        weakened = apply_patch(buggy, artifact.weaken_patch)
    except PatchError as err:
        return stop(
            Check.WEAKENING_HIDES_BUG, f"the weakening patch does not apply: {err}"
        )
    weak_files = changed_paths(buggy, weakened)
    outside = [p for p in weak_files if p not in artifact.test_files]
    if outside:
        return stop(
            Check.WEAKENING_HIDES_BUG,
            f"the weakening patch changes non-oracle files: {outside[:5]}",
        )
    if not weak_files:
        return stop(Check.WEAKENING_HIDES_BUG, "the weakening patch changes nothing")

    # 2
    report = runs.run("original", original)
    if report.tampering:
        return stop(Check.ORIGINAL_PASSES, _tampered("original", report))
    target = frozenset(report.passed)
    if len(target) < config.min_passing_tests:
        return stop(
            Check.ORIGINAL_PASSES,
            f"{len(target)} tests pass on the original code, need {config.min_passing_tests} "
            f"({report.summary()})",
        )
    ok(Check.ORIGINAL_PASSES, f"{len(target)} tests pass on the original code")
    # 3 (its static part passed above)
    ok(Check.BUG_TOUCHES_FILES, f"changes {bug_files}")

    # 4
    bug_report = runs.run("buggy", buggy)
    if bug_report.tampering:
        return stop(Check.BUG_BREAKS_TESTS, _tampered("buggy", bug_report))
    failing = frozenset(bug_report.not_passing(target))
    if len(failing) < config.min_failing_tests:
        return stop(
            Check.BUG_BREAKS_TESTS,
            f"{len(failing)} passing tests fail with the bug, need {config.min_failing_tests}",
        )
    ok(Check.BUG_BREAKS_TESTS, f"{len(failing)} tests fail with the bug")

    # 5 (its static part passed above)
    weak_report = runs.run("weakened", weakened)
    if weak_report.tampering:
        return stop(Check.WEAKENING_HIDES_BUG, _tampered("weakened", weak_report))
    problem = _weakening_problem(
        config.weakening_check, failing, (report, bug_report, weak_report)
    )
    if problem:
        return stop(Check.WEAKENING_HIDES_BUG, problem)
    ok(
        Check.WEAKENING_HIDES_BUG,
        f"{_hidden_text(failing, weak_report)} ({weak_report.summary()})",
    )

    # 6
    for path in bug_files:
        partial = dict(buggy)
        if path in original:
            partial[path] = original[path]
        else:
            partial.pop(path, None)
        revert_report = runs.run(f"revert:{path}", partial)
        if revert_report.tampering:
            return stop(
                Check.EACH_FILE_MATTERS, _tampered(f"revert:{path}", revert_report)
            )
        if not failing & revert_report.passed:
            return stop(
                Check.EACH_FILE_MATTERS,
                f"reverting {path} alone fixes none of the failing tests",
            )
    ok(Check.EACH_FILE_MATTERS, f"each of {len(bug_files)} files matters")

    spec = make_patch(
        {p: weakened[p] for p in artifact.test_files if p in weakened},
        {p: original[p] for p in artifact.test_files},
    )
    return Validation(
        checks=tuple(checks),
        original=original,
        buggy=buggy,
        solver_tree=weakened,
        spec_patch=spec,
        target_tests=target,
        failing_tests=failing,
        reports=runs.reports,
    )


# ---- higher-order bugs -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Combination:
    """A higher-order bug: the combined artifact and its validation, or why not.

    Attributes:
        artifact: Both bugs and both weakenings in one artifact (``None`` when the
            components are invalid, conflict or differ in their test command).
        validation: The six checks of the combined artifact (``None`` likewise).
        reason: Why there is no valid combination ("" when there is one).
    """

    artifact: BugArtifact | None
    validation: Validation | None
    reason: str

    @property
    def valid(self) -> bool:
        """Both components and the combination passed every check."""
        return self.validation is not None and self.validation.valid


def combine_artifacts(
    first: BugArtifact,
    second: BugArtifact,
    original: Mapping[str, bytes],
    runner: TestRunner,
    config: ValidationConfig,
) -> Combination:
    """Combine two artifacts of the repository ``original`` into one bug.

    Each component must be valid on its own first; then both bug patches are applied
    to the original and both weakenings on top, and the result is validated again
    (with the union of the oracle files). Patches that conflict (the second does not
    apply after the first) are a refusal with a reason, not an exception.
    """
    original = dict(original)
    for number, part in enumerate((first, second), start=1):
        check = validate_artifact(part, original, runner, config)
        if not check.valid:
            return _refused(f"component {number} is invalid: {check.reason}")
    if first.test_command != second.test_command:
        return _refused(
            "the components run different test commands: "
            f"{first.test_command!r} and {second.test_command!r}"
        )
    buggy, error = _apply_both(original, first.bug_patch, second.bug_patch)
    if error:
        return _refused(f"the bug patches conflict: {error}")
    weakened, error = _apply_both(original, first.weaken_patch, second.weaken_patch)
    if error:
        return _refused(f"the weakening patches conflict: {error}")
    artifact = BugArtifact(
        bug_patch=_patch_between(original, buggy),
        weaken_patch=_patch_between(original, weakened),
        test_files=tuple(sorted(set(first.test_files) | set(second.test_files))),
        test_command=first.test_command,
    )
    validation = validate_artifact(artifact, original, runner, config)
    reason = "" if validation.valid else f"the combination: {validation.reason}"
    return Combination(artifact=artifact, validation=validation, reason=reason)


def _refused(reason: str) -> Combination:
    return Combination(artifact=None, validation=None, reason=reason)


def _apply_both(tree: Tree, first: str, second: str) -> tuple[Tree, str]:
    """``tree`` with ``first`` then ``second`` applied, or the error of either."""
    try:
        return apply_patch(apply_patch(tree, first), second), ""
    except PatchError as err:
        return tree, str(err)


def _patch_between(old: Tree, new: Tree) -> str:
    paths = changed_paths(old, new)
    return make_patch(
        {p: old[p] for p in paths if p in old}, {p: new[p] for p in paths if p in new}
    )
