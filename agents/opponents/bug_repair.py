"""Scripted players of ``bug_repair_v0``: a mutation injector and a patch-search solver.

Both act only through the env's tools, one call per turn, and read what they need from
``turn.info`` (file lists, the specification patch, their own last tool result). They
write a small helper script into their working copy and run it in the sandbox, so that
many candidate edits cost one turn:

* ``MutationInjector``: reads the source files, draws AST mutations (flip a comparison,
  off-by-one, swap arguments, drop a branch, change a constant) in a seeded order, and
  has the helper try them until one breaks between ``k`` tests and 40% of the suite.
  The bug patch is that one-line edit; the weakening patch deletes the broken tests;
  the oracle files are all test modules.
* ``PatchSearchSolver``: applies the specification patch to bring the hidden tests
  back, runs them under a line tracer (spectrum-based fault localisation, Ochiai
  score), reads the most suspicious files, and has the helper try inverse mutations
  and small edits on the most suspicious lines first, keeping the first edit that makes
  the tests pass. A dropped branch is beyond it, so it does not solve everything.

Each class also plays the other role, weakly (an injector that cannot break anything, a
solver that submits at once), so the arena can seat any of them in either chair.
``ScriptedPlayer`` combines the two strong roles; ``RandomBugRepairPlayer`` makes
random valid tool calls.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections.abc import Sequence
from typing import Any

import numpy as np

from selfplay_agents.policy import Turn
from selfplay_envs.games.bug_repair.mutations import (
    Mutation,
    inverse_candidates,
    is_valid,
    raw_mutations,
    remove_tests,
)
from selfplay_envs.games.bug_repair.patches import make_patch

__all__ = [
    "MutationInjector",
    "PatchSearchSolver",
    "ScriptedPlayer",
    "RandomBugRepairPlayer",
    "mutation_injector",
    "removal_injector",
    "patch_search_solver",
    "scripted",
    "random_player",
]

HELPER_PATH = ".agent_helper.py"
_MARK = "@@AGENT_RESULT@@"
_MAX_FAIL_FRACTION = 0.4

# The helper runs inside the sandbox with the repository's Python and pytest.
_HELPER = r"""
import contextlib, io, json, math, os, sys, time
import xml.etree.ElementTree as ET

import pytest

MARK = "@@AGENT_RESULT@@"
JUNIT = "/tmp/agent_junit.xml"


def emit(data):
    print(MARK + json.dumps(data))


def pytest_args(job):
    # The words after "pytest" / "python -m pytest" of the test command.
    words = job["command"]
    return words[words.index("pytest") + 1 :] if "pytest" in words else []


def run_forked(args, timeout):
    # pytest.main in a forked child: no interpreter or pytest start-up per run.
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = int(pytest.main(args))
        finally:
            os._exit(code)
    deadline = time.monotonic() + max(timeout, 0.5)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.005)


def run_tests(job, timeout):
    try:
        os.unlink(JUNIT)
    except OSError:
        pass
    args = pytest_args(job) + job["files"] + ["--junitxml=" + JUNIT, "-p", "no:cacheprovider"]
    if run_forked(args, timeout) is None:
        return None, {}
    outcomes = {}
    try:
        root = ET.parse(JUNIT).getroot()
    except (OSError, ET.ParseError):
        return 1, outcomes
    for case in root.iter("testcase"):
        key = case.get("classname", "") + "::" + case.get("name", "")
        bad = case.find("failure") is not None or case.find("error") is not None
        if bad or outcomes.get(key) == "failed":
            outcomes[key] = "failed"
        else:
            outcomes[key] = "skipped" if case.find("skipped") is not None else "passed"
    return 0, outcomes


def apply(edit):
    with open(edit["path"], encoding="utf-8") as handle:
        source = handle.read()
    with open(edit["path"], "w", encoding="utf-8") as handle:
        handle.write(source[: edit["start"]] + edit["text"] + source[edit["end"] :])
    return source


def restore(edit, source):
    with open(edit["path"], "w", encoding="utf-8") as handle:
        handle.write(source)


def probe(job, start):
    deadline = time.monotonic() + job["budget"]
    began = time.monotonic()
    _, base = run_tests(job, job["budget"])
    # A mutation whose tests run much slower than the original (a loop that no longer
    # ends) would make the env's own test runs time out: skip it.
    slow = 3 * (time.monotonic() - began) + 2
    passing = sorted(t for t, o in base.items() if o == "passed")
    limit = max(job["min_failing"], int(job["max_fraction"] * len(passing)))
    for index in range(start, len(job["candidates"])):
        if time.monotonic() > deadline:
            return emit({"found": None, "next": index})
        edit = job["candidates"][index]
        source = apply(edit)
        try:
            _, outcomes = run_tests(job, min(slow, deadline - time.monotonic()))
        finally:
            restore(edit, source)
        broken = [t for t in passing if outcomes.get(t) != "passed"]
        missing = [t for t in broken if t not in outcomes or t.startswith("::")]
        if outcomes and not missing and job["min_failing"] <= len(broken) <= limit:
            return emit({"found": index, "broken": broken, "passing": len(passing)})
    emit({"found": None, "next": len(job["candidates"])})


def diagnose(job):
    root = os.getcwd() + os.sep
    skip = set(job.get("skip", []))
    lines, outcome, current = {}, {}, [None]

    def local(frame, event, arg):
        if event == "line" and current[0] is not None:
            rel = frame.f_code.co_filename[len(root):]
            lines.setdefault(current[0], set()).add((rel, frame.f_lineno))
        return local

    def tracer(frame, event, arg):
        name = frame.f_code.co_filename
        if not name.startswith(root) or name[len(root):] in skip:
            return None
        return local

    class Plugin:
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_call(self, item):
            current[0] = item.nodeid
            sys.settrace(tracer)
            try:
                yield
            finally:
                sys.settrace(None)
                current[0] = None

        def pytest_runtest_logreport(self, report):
            if report.failed:
                outcome[report.nodeid] = "failed"
            elif report.when == "call":
                outcome.setdefault(report.nodeid, "passed")

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        pytest.main(["-q", "-p", "no:cacheprovider", *job["files"]], plugins=[Plugin()])
    failed = sorted(t for t, o in outcome.items() if o == "failed")
    counts = {}
    for test, seen in lines.items():
        bad = outcome.get(test) == "failed"
        for key in seen:
            f, p = counts.get(key, (0, 0))
            counts[key] = (f + bad, p + (not bad))
    total = max(len(failed), 1)
    scored = []
    for (path, line), (f, p) in counts.items():
        if f:
            scored.append([path, line, round(f / math.sqrt(total * (f + p)), 4)])
    scored.sort(key=lambda item: (-item[2], item[0], item[1]))
    emit({"failing": failed[:50], "lines": scored[:150]})


def search(job, start):
    deadline = time.monotonic() + job["budget"]
    quick = pytest_args(job) + ["-x", "-p", "no:cacheprovider"] + job["failing"]
    full = pytest_args(job) + ["-x", "-p", "no:cacheprovider"] + job["files"]
    began = time.monotonic()
    run_forked(pytest_args(job) + ["-p", "no:cacheprovider"] + job["files"], job["run_timeout"])
    # Edits that make a loop spin are cut off soon after a normal run's time.
    limit = min(job["run_timeout"], 3 * (time.monotonic() - began) + 1)
    for index in range(start, len(job["candidates"])):
        left = deadline - time.monotonic()
        if left <= 0:
            return emit({"found": None, "next": index})
        edit = job["candidates"][index]
        source = apply(edit)
        timeout = min(limit, left)
        # The failing tests first (most candidates fail them fast), then everything.
        if run_forked(quick, timeout) == 0 and run_forked(full, timeout) == 0:
            return emit({"found": index})
        restore(edit, source)
    emit({"found": None, "next": len(job["candidates"])})
"""
_HELPER_MAIN = """
if __name__ == "__main__":
    start = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    {"probe": probe, "diagnose": lambda job, _: diagnose(job), "search": search}[JOB["mode"]](JOB, start)
"""


def _tool(name: str, body: str | None = None, **attrs: str) -> str:
    attributes = "".join(f' {k}="{v}"' for k, v in attrs.items())
    if body is None:
        return f'<tool name="{name}"{attributes}/>'
    return f'<tool name="{name}"{attributes}>\n{body}</tool>'


def _helper_file(job: dict[str, Any]) -> str:
    """The helper script with its job embedded."""
    return f"{_HELPER}\nJOB = json.loads({json.dumps(json.dumps(job))})\n{_HELPER_MAIN}"


def _result(info: dict[str, Any]) -> dict[str, Any] | None:
    """The helper's JSON result from the last shell call, if there is one."""
    stdout = (info.get("tool_result") or {}).get("stdout", "")
    for line in reversed(stdout.splitlines()):
        if line.startswith(_MARK):
            try:
                return json.loads(line[len(_MARK) :])
            except json.JSONDecodeError:
                return None
    return None


def _command(info: dict[str, Any]) -> list[str]:
    return shlex.split(info.get("test_command") or "python -m pytest -q")


def _budget(info: dict[str, Any]) -> float:
    return max(float(info.get("command_timeout") or 30.0) - 8.0, 5.0)


def _run_helper(start: int = 0) -> str:
    return f"python {HELPER_PATH} {start}"


# ---- memory per game and seat ----------------------------------------------------------


@dataclasses.dataclass
class _Memory:
    """What one player remembers about one game's current phase or attempt."""

    stage: str = "start"
    to_read: list[str] = dataclasses.field(default_factory=list)
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    candidates: list[Mutation] = dataclasses.field(default_factory=list)
    next_index: int = 0
    rounds: int = 0
    found: dict[str, Any] | None = None
    tests: dict[str, str] = dataclasses.field(default_factory=dict)


class _Player:
    """Memory bookkeeping shared by the scripted players."""

    name = "bug_repair_player"

    def __init__(self, seed: int | None = None):
        self.rng = np.random.default_rng(seed)
        self._memory: dict[tuple[int, str], _Memory] = {}

    def reset(self, seed: int | None = None) -> None:
        """Reseed and forget every game."""
        self.rng = np.random.default_rng(seed)
        self._memory.clear()

    def memory(self, turn: Turn) -> _Memory:
        """This seat's memory, fresh at the first turn of a phase or attempt."""
        key = (turn.game_index, turn.agent)
        if turn.info.get("phase_turn") == 0 or key not in self._memory:
            self._memory[key] = _Memory()
        return self._memory[key]

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """One tool call per turn."""
        return [self.one(turn) for turn in turns]

    def one(self, turn: Turn) -> str:
        """The tool call of one turn."""
        if turn.info.get("role") == "injector":
            return self.inject(turn, self.memory(turn))
        return self.solve(turn, self.memory(turn))

    def inject(self, turn: Turn, memory: _Memory) -> str:
        """A weak injector: an artifact no test can catch (it scores -1)."""
        del memory  # Stateless.
        return _noop_artifact(turn.info)

    def solve(self, turn: Turn, memory: _Memory) -> str:
        """A weak solver: submit at once."""
        del turn, memory  # Stateless.
        return _tool("submit")


def _noop_artifact(info: dict[str, Any]) -> str:
    """A well-formed artifact whose 'bug' is a comment: it fails check 4."""
    source = (info.get("source_files") or info.get("files") or ["README.md"])[0]
    tests = info.get("test_files") or []
    test = tests[0] if tests else source
    bug = f"--- a/{source}\n+++ b/{source}\n@@ -1,0 +1,1 @@\n+# no bug here\n"
    weak = f"--- a/{test}\n+++ b/{test}\n@@ -1,0 +1,1 @@\n+# weakened\n"
    return _tool(
        "submit",
        json.dumps(
            {"bug_patch": bug, "weaken_patch": weak, "test_files": tests or [test]}
        ),
    )


# ---- the mutation injector ----------------------------------------------------------


class MutationInjector(_Player):
    """Injects a one-edit AST mutation that some tests catch; weak as a solver.

    Args:
        seed: Seeds the order in which files and mutations are tried.
        candidates_per_round: Mutations the helper may try per shell call.
        max_rounds: Shell calls spent searching before giving up.
        mode: ``"edit"`` (operator and constant changes) or ``"removal"`` (SSR's
            removal-style bugs: a function body or a branch deleted,
            ``bug_repair.mutations``).
    """

    name = "mutation_injector"

    def __init__(
        self,
        seed: int | None = None,
        *,
        candidates_per_round: int = 40,
        max_rounds: int = 4,
        mode: str = "edit",
    ):
        super().__init__(seed)
        self.candidates_per_round = candidates_per_round
        self.max_rounds = max_rounds
        self.mode = mode
        if mode == "removal":
            self.name = "removal_injector"

    def inject(self, turn: Turn, memory: _Memory) -> str:
        """The next tool call of the injection."""
        info = turn.info
        result = info.get("tool_result") or {}
        if memory.stage == "start":
            files = [
                f for f in info.get("source_files", []) if not f.endswith("__init__.py")
            ]
            files = files or list(info.get("source_files", []))
            memory.to_read = [files[i] for i in self.rng.permutation(len(files))]
            memory.stage = "read_sources"
        elif memory.stage == "read_sources" and "content" in result:
            memory.sources[result["path"]] = result["content"]
        elif memory.stage == "probe" and result.get("tool") == "shell":
            found = _result(info)
            if found and found.get("found") is not None:
                memory.found = {"mutation": memory.candidates[found["found"]], **found}
                memory.stage = "read_tests"
                memory.to_read = _test_files_of(
                    found["broken"], info.get("test_files", [])
                )
            else:
                memory.next_index = (
                    found.get("next", len(memory.candidates))
                    if found
                    else len(memory.candidates)
                )
                memory.stage = "search"
        elif memory.stage == "read_tests" and "content" in result:
            memory.tests[result["path"]] = result["content"]
        return self._next(info, memory)

    def _next(self, info: dict[str, Any], memory: _Memory) -> str:
        if memory.stage == "read_sources":
            if memory.to_read:
                return _tool("read_file", path=memory.to_read.pop(0))
            memory.candidates = self._draw(memory.sources)
            memory.stage = "search"
        if memory.stage == "search":
            if memory.rounds >= self.max_rounds or memory.next_index >= len(
                memory.candidates
            ):
                return _noop_artifact(info)  # nothing breaks: give up, validly
            memory.rounds += 1
            memory.stage = "probe"
            if memory.rounds == 1:
                return _tool(
                    "write_file",
                    _helper_file(self._job(info, memory)),
                    path=HELPER_PATH,
                )
            return _tool("shell", _run_helper(memory.next_index))
        if memory.stage == "probe":
            return _tool("shell", _run_helper(memory.next_index))
        if memory.stage == "read_tests":
            if memory.to_read:
                return _tool("read_file", path=memory.to_read.pop(0))
            return self._submit(info, memory)
        raise AssertionError(f"unexpected stage {memory.stage}")

    def _draw(self, sources: dict[str, str]) -> list[Mutation]:
        raw = [
            m
            for path in sorted(sources)
            for m in raw_mutations(path, sources[path], inverse=False, mode=self.mode)
        ]
        order = self.rng.permutation(len(raw))
        wanted = self.candidates_per_round * self.max_rounds
        chosen: list[Mutation] = []
        for index in order:
            mutation = raw[int(index)]
            if is_valid(sources[mutation.path], mutation):
                chosen.append(mutation)
                if len(chosen) >= wanted:
                    break
        return chosen

    def _job(self, info: dict[str, Any], memory: _Memory) -> dict[str, Any]:
        checks = info.get("checks") or {}
        return {
            "mode": "probe",
            "command": _command(info),
            "files": list(info.get("test_files", [])),
            "candidates": [m.to_dict() for m in memory.candidates],
            "budget": _budget(info),
            "min_failing": int(checks.get("min_failing_tests", 1)),
            "max_fraction": _MAX_FAIL_FRACTION,
        }

    def _submit(self, info: dict[str, Any], memory: _Memory) -> str:
        assert memory.found is not None
        mutation: Mutation = memory.found["mutation"]
        source = memory.sources[mutation.path]
        mutated = source[: mutation.start] + mutation.text + source[mutation.end :]
        bug = make_patch(
            {mutation.path: source.encode()}, {mutation.path: mutated.encode()}
        )
        names = _test_names(memory.found["broken"])
        weakened = {
            path: remove_tests(text, names) for path, text in memory.tests.items()
        }
        weak = make_patch(
            {p: t.encode() for p, t in memory.tests.items()},
            {p: t.encode() for p, t in weakened.items()},
        )
        artifact = {
            "bug_patch": bug,
            "weaken_patch": weak,
            "test_files": list(info.get("test_files", [])),
        }
        return _tool("submit", json.dumps(artifact))


def _test_files_of(test_ids: Sequence[str], test_files: Sequence[str]) -> list[str]:
    """Test modules holding the JUnit ids ``package.module[.Class]::name``."""
    found = []
    for test_id in test_ids:
        dotted = test_id.split("::")[0]
        parts = dotted.split(".")
        for cut in (len(parts), len(parts) - 1):
            path = "/".join(parts[:cut]) + ".py"
            if path in test_files and path not in found:
                found.append(path)
                break
    return found


def _test_names(test_ids: Sequence[str]) -> set[str]:
    return {test_id.split("::")[-1].split("[")[0] for test_id in test_ids}


# ---- the patch-search solver ----------------------------------------------------------


class PatchSearchSolver(_Player):
    """Repairs by fault localisation and a search over inverse mutations; weak as an
    injector.

    Args:
        seed: Unused by the search (it is deterministic); kept for the factory.
        max_files: Most suspicious source files read.
        max_lines: Most suspicious lines searched.
        max_rounds: Shell calls spent on the search.
    """

    name = "patch_search_solver"

    def __init__(
        self,
        seed: int | None = None,
        *,
        max_files: int = 3,
        max_lines: int = 40,
        max_rounds: int = 3,
    ):
        super().__init__(seed)
        self.max_files = max_files
        self.max_lines = max_lines
        self.max_rounds = max_rounds

    def solve(self, turn: Turn, memory: _Memory) -> str:
        """The next tool call of the repair."""
        info = turn.info
        result = info.get("tool_result") or {}
        if memory.stage == "start":
            memory.stage = "restore_tests"
            return _tool("apply_patch", info.get("spec_patch", ""))
        if memory.stage == "restore_tests":
            memory.stage = "write_diagnose"
            job = {
                "mode": "diagnose",
                "files": list(info.get("test_files", [])),
                "skip": [
                    HELPER_PATH,
                    *(f for f in info.get("files", []) if _is_test(f)),
                ],
            }
            return _tool("write_file", _helper_file(job), path=HELPER_PATH)
        if memory.stage == "write_diagnose":
            memory.stage = "diagnose"
            return _tool("shell", _run_helper(0))
        if memory.stage == "diagnose":
            return self._after_diagnose(info, memory, _result(info))
        if memory.stage == "read_sources":
            if "content" in result:
                memory.sources[result["path"]] = result["content"]
            if memory.to_read:
                return _tool("read_file", path=memory.to_read.pop(0))
            return self._start_search(info, memory)
        if memory.stage == "write_search":
            memory.stage = "search"
            memory.rounds += 1
            return _tool("shell", _run_helper(0))
        if memory.stage == "search":
            found = _result(info) or {}
            if found.get("found") is not None:
                memory.stage = "cleanup"
                return _tool("shell", f"rm -f {HELPER_PATH}")
            memory.next_index = int(found.get("next", len(memory.candidates)))
            if memory.rounds < self.max_rounds and memory.next_index < len(
                memory.candidates
            ):
                memory.rounds += 1
                return _tool("shell", _run_helper(memory.next_index))
            memory.stage = "cleanup"
            return _tool("shell", f"rm -f {HELPER_PATH}")
        return _tool("submit")

    def _after_diagnose(
        self, info: dict[str, Any], memory: _Memory, found: dict[str, Any] | None
    ) -> str:
        if not found or not found.get("failing"):
            return _tool("submit")  # nothing fails: nothing to search for
        scores: dict[str, float] = {}
        memory.found = {"lines": found["lines"], "failing": found["failing"]}
        for path, _, score in found["lines"]:
            scores[path] = max(scores.get(path, 0.0), score)
        ranked = sorted(scores, key=lambda p: (-scores[p], p))
        memory.to_read = [p for p in ranked if p.endswith(".py")][: self.max_files]
        if not memory.to_read:
            return _tool("submit")
        memory.stage = "read_sources"
        return _tool("read_file", path=memory.to_read.pop(0))

    def _start_search(self, info: dict[str, Any], memory: _Memory) -> str:
        assert memory.found is not None
        lines = [(p, n, s) for p, n, s in memory.found["lines"] if p in memory.sources]
        lines = lines[: self.max_lines]
        score = {(p, n): s for p, n, s in lines}
        candidates: list[tuple[float, int, Mutation]] = []
        for path, source in memory.sources.items():
            wanted = {n for p, n, _ in lines if p == path}
            for order, mutation in enumerate(
                inverse_candidates(path, source, lines=wanted)
            ):
                candidates.append(
                    (-score.get((path, mutation.line), 0.0), order, mutation)
                )
        candidates.sort(key=lambda item: (item[0], item[2].path, item[1]))
        memory.candidates = [m for _, _, m in candidates]
        if not memory.candidates:
            return _tool("submit")
        memory.stage = "write_search"
        job = {
            "mode": "search",
            "command": _command(info),
            "files": list(info.get("test_files", [])),
            "failing": memory.found["failing"],
            "candidates": [m.to_dict() for m in memory.candidates],
            "budget": _budget(info),
            "run_timeout": 10,
        }
        return _tool("write_file", _helper_file(job), path=HELPER_PATH)


def _is_test(path: str) -> bool:
    from selfplay_envs.games.bug_repair.repos import is_test_path

    return is_test_path(path)


# ---- both roles, and random -----------------------------------------------------------


class ScriptedPlayer(_Player):
    """The mutation injector as injector, the patch-search solver as solver."""

    name = "scripted"

    def __init__(self, seed: int | None = None):
        super().__init__(seed)
        self._injector = MutationInjector(seed)
        self._solver = PatchSearchSolver(seed)

    def reset(self, seed: int | None = None) -> None:
        """Reseed both roles."""
        super().reset(seed)
        self._injector.reset(seed)
        self._solver.reset(seed)

    def one(self, turn: Turn) -> str:
        """Delegate to the role's player."""
        player = self._injector if turn.info.get("role") == "injector" else self._solver
        return player.one(turn)


class RandomBugRepairPlayer(_Player):
    """Random valid tool calls, then a submission (a random one-line artifact).

    Args:
        seed: Seeds every choice.
        max_calls: Tool calls before it submits.
    """

    name = "random"

    def __init__(self, seed: int | None = None, *, max_calls: int = 3):
        super().__init__(seed)
        self.max_calls = max_calls

    def one(self, turn: Turn) -> str:
        """A random tool call, or a submission once ``max_calls`` were made."""
        info = turn.info
        files = list(info.get("files") or ["README.md"])
        if (info.get("phase_turn") or 0) >= self.max_calls:
            if info.get("role") == "injector":
                return _noop_artifact(info)
            return _tool("submit")
        choice = int(self.rng.integers(4))
        path = files[int(self.rng.integers(len(files)))]
        if choice == 0:
            return _tool("read_file", path=path)
        if choice == 1:
            return _tool(
                "shell",
                str(
                    self.rng.choice(
                        [
                            "ls -la",
                            "python -m pytest -q -x",
                            "wc -l " + shlex.quote(path),
                        ]
                    )
                ),
            )
        if choice == 2:
            return _tool(
                "write_file",
                f"random note {int(self.rng.integers(1000))}\n",
                path="notes.txt",
            )
        return _tool("shell", "git status --short 2>/dev/null || true")


def mutation_injector(seed: int | None = None) -> MutationInjector:
    """Factory for ``OPPONENTS``: the AST mutation injector."""
    return MutationInjector(seed)


def removal_injector(seed: int | None = None) -> MutationInjector:
    """Factory for ``OPPONENTS``: the injector of SSR's removal-style bugs."""
    return MutationInjector(seed, mode="removal")


def patch_search_solver(seed: int | None = None) -> PatchSearchSolver:
    """Factory for ``OPPONENTS``: the inverse-mutation search solver."""
    return PatchSearchSolver(seed)


def scripted(seed: int | None = None) -> ScriptedPlayer:
    """Factory for ``OPPONENTS``: both scripted roles."""
    return ScriptedPlayer(seed)


def random_player(seed: int | None = None) -> RandomBugRepairPlayer:
    """Factory for ``OPPONENTS``: random valid tool calls."""
    return RandomBugRepairPlayer(seed)
