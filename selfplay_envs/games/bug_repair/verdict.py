"""Verdicts the code under test cannot write: the host's side of the verdict channel.

A verdict (an injector artifact's validity checks, a solver attempt's score) comes from
``verdict_runner.py``, run inside the sandbox by the very interpreter the tests use, in
isolated mode (``-I``: no ``PYTHON*`` variables, no user site, no script directory on
``sys.path``). Its source and the request reach it on standard input; the request holds
a fresh 256-bit key and run id, so every record it writes to its standard output is
signed (HMAC-SHA256), numbered and bound to this run. Everything the code under test
prints goes to standard error, which is only shown, never read for a verdict.

The host accepts a run's results only when every line verifies, the numbers are
consecutive, the run starts, collects once and ends, and no record reports tampering.
Otherwise nothing passes, and the reason is kept as evidence (``TestReport.tampering``).
The expected test ids always come from a clean run on the original repository, so a
missing, skipped, deselected or xfailed test counts as not passing.

A run that never starts (the interpreter cannot be executed in the sandbox, pytest is
missing) happens before any code under test is loaded: it raises ``SandboxError``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from selfplay_envs.games.bug_repair.report import Outcome, TestReport
from selfplay_envs.games.bug_repair.repos import is_config_path, is_test_path
from selfplay_envs.games.bug_repair.sandbox.base import Sandbox, SandboxError

__all__ = [
    "run_verdict",
    "verdict_options",
    "pytest_command",
    "read_records",
    "BOOTSTRAP",
]

#: Runs in the sandbox: read the runner's source and the request from fd 0 (with
#: ``os.read``, so no Python buffer keeps a copy), then run it with a private copy of
#: the builtins, taken before any code under test can change them.
BOOTSTRAP = """\
import os
def _b():
    d = bytearray()
    while True:
        c = os.read(0, 65536)
        if not c:
            break
        d += c
    i = d.index(0)
    g = {"__name__": "__selfplay_verdict__", "__builtins__": dict(vars(__builtins__))}
    exec(compile(bytes(d[:i]), "<selfplay-verdict>", "exec"), g)
    del d[: i + 1]
    g["main"](d)
_b()
"""

#: pytest options an artifact's test command may carry (``-k``/``-m`` select tests
#: the same way in every run); anything else could load code or change collection.
_FLAGS = frozenset({"-q", "-qq", "-v", "-vv", "-x", "--exitfirst", "--strict-markers"})
_WITH_VALUE = frozenset({"-k", "-m"})
_PREFIXES = ("--tb=", "-r")
_PYTEST_HEADS = (
    ("pytest",),
    ("py.test",),
    ("python", "-m", "pytest"),
    ("python3", "-m", "pytest"),
)
_STDOUT_LIMIT = 16 * 1024 * 1024


def pytest_command(command: str) -> list[str] | None:
    """``command`` split into words if it runs pytest, else ``None``."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if any(tuple(words[: len(head)]) == head for head in _PYTEST_HEADS):
        return words
    return None


def verdict_options(command: str) -> tuple[list[str] | None, str]:
    """The options of a pytest command that the verdict passes on, or a reason.

    Positional paths are dropped: the oracle test files are always the ones run.
    """
    words = pytest_command(command)
    if words is None:
        return None, f"the test command must run pytest, got {command[:80]!r}"
    head = next(h for h in _PYTEST_HEADS if tuple(words[: len(h)]) == h)
    options: list[str] = []
    rest = iter(words[len(head) :])
    for word in rest:
        if word in _FLAGS or word.startswith(_PREFIXES):
            options.append(word)
        elif word in _WITH_VALUE:
            value = next(rest, None)
            if value is None:
                return None, f"the test command's {word} needs a value"
            options += [word, value]
        elif not word.startswith("-"):
            continue  # a path: the oracle files are what runs
        else:
            allowed = sorted(_FLAGS | _WITH_VALUE) + ["--tb=...", "-r..."]
            return None, (
                f"the test command's option {word!r} is not allowed "
                f"(allowed: {', '.join(allowed)})"
            )
    return options, ""


@functools.lru_cache(maxsize=1)
def _runner_source() -> bytes:
    return (Path(__file__).with_name("verdict_runner.py")).read_bytes()


def protected_paths(tree: Mapping[str, bytes]) -> list[str]:
    """The files whose bytes the verdict checks: tests, conftests, pytest config."""
    return sorted(
        p
        for p in tree
        if (is_test_path(p) or is_config_path(p)) and not p.startswith(".git/")
    )


def run_verdict(
    sandbox: Sandbox,
    tree: Mapping[str, bytes],
    files: tuple[str, ...],
    options: list[str],
    timeout: float,
) -> TestReport:
    """Run ``files`` of ``tree`` (already loaded in the sandbox's working copy)."""
    key = secrets.token_bytes(32)
    run_id = secrets.token_hex(8)
    protected = protected_paths(tree)
    request = {
        "key": key.hex(),
        "run": run_id,
        "root": sandbox.inner_workdir,
        "files": list(files),
        "options": list(options),
        "protected": {p: hashlib.sha256(tree[p]).hexdigest() for p in protected},
        "sources": sorted(p for p in tree if p.endswith(".py") and p not in protected),
    }
    payload = _runner_source() + b"\0" + json.dumps(request).encode()
    command = shlex.join([sys.executable, "-I", "-c", BOOTSTRAP])
    result = sandbox.run(
        command, timeout=timeout, stdin=payload, stdout_limit=_STDOUT_LIMIT
    )
    records = read_records(result.stdout, key, run_id)
    if records.started is False:
        raise SandboxError(
            "the verdict runner did not start in the "
            f"{sandbox.backend} sandbox ({result.describe()}): "
            f"{result.stderr.strip()[-600:] or 'no output'}. The interpreter "
            f"{sys.executable} and pytest must be runnable inside the sandbox "
            "(install pytest; with bwrap, the interpreter's directories must be "
            "mountable)"
        )
    tampering = list(records.tampering)
    if not records.ended:
        reason = "the test run stopped before its end record"
        if result.timed_out:
            reason = "the test run timed out"
        tampering.append(f"{reason} ({result.describe()})")
    return TestReport(
        outcomes=records.outcomes,
        messages=records.messages,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        error="; ".join(tampering[:3]),
        tampering=tuple(tampering[:50]),
        log=result.stderr[-4000:],
    )


class Records:
    """What a run's channel said, once checked."""

    def __init__(self) -> None:
        self.started = False
        self.ended = False
        self.collected = False
        self.outcomes: dict[str, Outcome] = {}
        self.messages: dict[str, str] = {}
        self.tampering: list[str] = []


def read_records(stdout: str, key: bytes, run_id: str) -> Records:
    """Verify every line of the channel; anything unexpected is tampering."""
    records = Records()
    expected_seq = 0
    for number, line in enumerate(stdout.splitlines(), 1):
        record = _verified(line, key)
        if record is None:
            records.tampering.append(f"line {number} of the verdict channel is forged")
            break
        if record.get("run") != run_id or record.get("seq") != expected_seq:
            records.tampering.append(f"line {number} is out of order or replayed")
            break
        expected_seq += 1
        problem = _apply(records, record)
        if problem:
            records.tampering.append(problem)
            break
    return records


def _verified(line: str, key: bytes) -> dict[str, Any] | None:
    signature, _, body = line.partition(" ")
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        record = json.loads(body)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def _apply(records: Records, record: dict[str, Any]) -> str:
    """Fold one record in; a record out of place is returned as tampering."""
    kind = record.get("kind")
    if records.ended:
        return "a record after the end record"
    if kind == "start":
        if records.started:
            return "a second start record"
        records.started = True
        if record.get("dumpable"):
            records.tampering.append("the runner could not make itself non-dumpable")
        return ""
    if not records.started:
        return "a record before the start record"
    if kind == "tamper":
        records.tampering.append(str(record.get("what", "tampering")))
    elif kind == "collected":
        if records.collected:
            return "a second collection"
        records.collected = True
    elif kind == "test":
        test_id = str(record.get("id", ""))
        if not records.collected or test_id in records.outcomes:
            return f"a test record out of place: {test_id}"
        try:
            records.outcomes[test_id] = Outcome(record.get("outcome"))
        except ValueError:
            return f"an unknown outcome for {test_id}"
        if record.get("message"):
            records.messages[test_id] = str(record["message"])
    elif kind == "end":
        records.ended = True
    else:
        return f"an unknown record kind {kind!r}"
    return ""
