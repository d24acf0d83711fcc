"""What every sandbox backend shares: limits, results, the interface, output capture."""

from __future__ import annotations

import abc
import dataclasses
import json
import os
import secrets
import selectors
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from selfplay_envs.core.errors import InfrastructureError

__all__ = [
    "SandboxError",
    "SandboxUnavailable",
    "SandboxLimits",
    "CommandResult",
    "Sandbox",
    "SelfTest",
    "SANDBOX_WORKDIR",
    "capture",
    "python_bin_dir",
    "python_roots",
    "base_environment",
]

#: Where the working copy appears inside the isolating backends.
SANDBOX_WORKDIR = "/workspace"


class SandboxError(InfrastructureError):
    """The sandbox itself failed (not the command run inside it)."""


class SandboxUnavailable(SandboxError):
    """The backend cannot run on this machine; the message says how to fix it."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SandboxLimits:
    """Resource limits of every command run in a sandbox.

    Attributes:
        timeout: Default wall-clock limit of one command, in seconds.
        cpu_seconds: CPU time of one process (``RLIMIT_CPU``).
        memory_mb: Address space of one process (``RLIMIT_AS``), and the memory of all
            processes of a command together (a cgroup: the container's for docker, a
            per-command one for bwrap where the host has cgroups).
        max_processes: Processes the sandbox may run at once (``RLIMIT_NPROC`` under a
            dedicated uid for bwrap, plus its pids cgroup where the host has one; the
            pids cgroup for docker).
        max_file_mb: Largest file a process may write (``RLIMIT_FSIZE``).
        disk_mb: Size of the sandbox's ``/tmp`` (a tmpfs), and of the working copy
            where it can be put on a size-capped tmpfs (bwrap and docker, as root);
            writes past it fail with ``ENOSPC``. Both live in memory.
        max_open_files: Open file descriptors per process (``RLIMIT_NOFILE``).
        max_output_bytes: Output kept per stream; the rest is dropped.
        kill_output_bytes: Output after which the command is killed (a runaway
            ``yes`` must not burn the timeout).
        cpus: CPU share of a docker container.
    """

    timeout: float = 30.0
    cpu_seconds: int = 60
    memory_mb: int = 1024
    max_processes: int = 64
    max_file_mb: int = 64
    disk_mb: int = 512
    max_open_files: int = 256
    max_output_bytes: int = 64 * 1024
    kill_output_bytes: int = 8 * 1024 * 1024
    cpus: float = 1.0

    def __post_init__(self) -> None:
        for name in ("timeout", "cpu_seconds", "memory_mb", "max_processes", "disk_mb"):
            if getattr(self, name) <= 0:
                raise ValueError(f"expected {name} > 0, got {getattr(self, name)}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class CommandResult:
    """What a command did.

    Attributes:
        exit_code: The exit status; ``-N`` when killed by signal N.
        stdout: Captured standard output (decoded, possibly truncated).
        stderr: Captured standard error (decoded, possibly truncated).
        timed_out: Killed at the wall-clock limit.
        output_truncated: Some output was dropped.
        output_killed: Killed for writing more than ``kill_output_bytes``.
        duration: Wall-clock seconds.
        oom_killed: The kernel killed a process of the command for the sandbox's
            memory cap (bwrap with cgroups).
    """

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    output_truncated: bool = False
    output_killed: bool = False
    duration: float = 0.0
    oom_killed: bool = False

    @property
    def ok(self) -> bool:
        """Exit code 0 within the limits."""
        return self.exit_code == 0 and not self.timed_out and not self.output_killed

    def describe(self) -> str:
        """One line for an observation: exit status and any limit that was hit."""
        parts = [f"exit code {self.exit_code}"]
        if self.exit_code < 0:
            parts.append(
                f"killed by signal {-self.exit_code} ({_signal_name(-self.exit_code)})"
            )
        if self.oom_killed:
            parts.append("a process was KILLED for exceeding the sandbox's memory cap")
        elif self.exit_code in (137, 152, 153) and not (
            self.timed_out or self.output_killed
        ):
            parts.append("killed (out of memory, CPU time or file size limit?)")
        if self.timed_out:
            parts.append("TIMED OUT and killed")
        if self.output_killed:
            parts.append("KILLED for producing too much output")
        elif self.output_truncated:
            parts.append("output truncated")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for infos)."""
        return dataclasses.asdict(self)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SelfTest:
    """What a sandbox's self-test found (``Sandbox.self_test``).

    Attributes:
        backend: The backend tested.
        interpreter: The interpreter run inside the sandbox.
        python_version: Its version, as it reported it from inside.
        pytest_version: The version of pytest it imported.
        imported: The modules imported from the working copy.
        cached: The interpreter part was proven earlier in this process.
    """

    backend: str
    interpreter: str
    python_version: str
    pytest_version: str
    imported: tuple[str, ...] = ()
    cached: bool = False


# Passed self-tests of this process, by ``Sandbox._self_test_key()``.
_SELF_TESTS: dict[tuple[Any, ...], SelfTest] = {}
_SELF_TEST_LOCK = threading.Lock()

# Run by the interpreter under test, inside the sandbox: python -c PROBE MARK NAMES...
_PROBE = """
import importlib, json, sys
report = {"executable": sys.executable, "version": sys.version.split()[0]}
try:
    import pytest
    report["pytest"] = pytest.__version__
except BaseException as err:
    report["pytest_error"] = f"{type(err).__name__}: {err}"
errors = {}
for name in sys.argv[2:]:
    try:
        importlib.import_module(name)
    except BaseException as err:
        errors[name] = f"{type(err).__name__}: {err}"
report["import_errors"] = errors
sys.stdout.write("\\n" + sys.argv[1] + json.dumps(report) + "\\n")
sys.stdout.flush()
"""


class Sandbox(abc.ABC):
    """Runs commands in one working copy, in isolation, under ``SandboxLimits``.

    One sandbox serves one episode: the caller may rewrite the working copy between
    commands (the docker backend keeps one container for all of them). ``close``
    releases everything; it is safe to call twice and runs on garbage collection.

    Before its first command each backend runs ``self_test`` (once per process for a
    given backend and interpreter), so a sandbox that cannot run the interpreter or
    import pytest fails with a ``SandboxError`` that says why, not with a test run
    that fails for reasons that have nothing to do with the code under test.
    """

    backend: str = "abstract"
    #: True when the backend isolates the command from the host.
    isolated: bool = True

    def __init__(self, workdir: Path, limits: SandboxLimits, *, allow_network: bool):
        self.workdir = Path(workdir)
        self.limits = limits
        self.allow_network = allow_network
        #: The interpreter that runs inside the sandbox (first on its ``PATH``).
        self.interpreter = sys.executable
        self._self_tested = False

    @abc.abstractmethod
    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        stdin: bytes | None = None,
        stdout_limit: int | None = None,
    ) -> CommandResult:
        """Run ``command`` with ``sh -c`` in the working copy.

        ``stdin`` is written to the command's standard input, which is then closed
        (without it the command reads an empty input). ``stdout_limit`` replaces
        ``limits.max_output_bytes`` for standard output (the verdict channel needs
        more room than a shell's output).
        """

    def close(self) -> None:  # noqa: B027 - optional hook; most backends need it
        """Release the backend's resources (containers, processes)."""

    # ---- self-test ---------------------------------------------------------------

    def self_test(self, import_names: Sequence[str] = ()) -> SelfTest:
        """Prove that the sandbox works: run ``self.interpreter`` inside it, import
        pytest, and import each of ``import_names`` from the working copy.

        The interpreter part runs once per process for a given backend and interpreter
        (``_self_test_key``); later calls without ``import_names`` return the cached
        result without running anything. The backends call it before their first
        command, so its command never mixes with the caller's.

        Raises:
            SandboxError: naming the cause and the fix: the sandbox cannot run the
                interpreter, pytest is not importable inside it, or a module of
                ``import_names`` is not importable from the working copy.
        """
        names = tuple(import_names)
        key = self._self_test_key()
        with _SELF_TEST_LOCK:
            cached = _SELF_TESTS.get(key)
        if cached is not None and not names:
            self._self_tested = True
            return dataclasses.replace(cached, cached=True)
        token = secrets.token_hex(8)
        shell_mark, mark = f"selfplay-shell-{token}", f"selfplay-self-test-{token}:"
        command = f"echo {shell_mark}; exec " + shlex.join(
            [self.interpreter, "-c", _PROBE, mark, *names]
        )
        # The probe goes through run(), which runs the self-test first: not again.
        self._self_tested = True
        try:
            result = self.run(command, timeout=max(self.limits.timeout, 60.0))
            found = self._self_test_verdict(result, shell_mark, mark, names, key)
        except BaseException:
            self._self_tested = False
            raise
        return found

    def _self_test_key(self) -> tuple[Any, ...]:
        """What the interpreter part of the self-test depends on (its cache key)."""
        return (self.backend, self.interpreter)

    def _self_test_verdict(
        self,
        result: CommandResult,
        shell_mark: str,
        mark: str,
        names: tuple[str, ...],
        key: tuple[Any, ...],
    ) -> SelfTest:
        where = f"inside the {self.backend} sandbox"
        lines = [ln for ln in result.stdout.splitlines() if ln.startswith(mark)]
        if not lines:
            detail = " ".join((result.stderr or result.stdout).split())[-600:]
            detail = detail or result.describe()
            if result.timed_out:
                raise SandboxError(
                    f"the self-test {where} timed out ({detail}); fix: check that the "
                    "machine is not overloaded, or raise the command timeout"
                )
            started = shell_mark in result.stdout
            raise SandboxError(
                f"{self.backend} cannot exec the interpreter {self.interpreter} "
                f"{'from its shell ' if started else ''}{where}: {detail}; "
                f"fix: {self._interpreter_fix(detail)}"
            )
        try:
            report = json.loads(lines[-1][len(mark) :])
        except ValueError as err:
            raise SandboxError(
                f"the self-test {where} printed an unreadable report: {lines[-1]!r}"
            ) from err
        if "pytest_error" in report:
            error = report["pytest_error"]
            fix = f"{self.interpreter} -m pip install pytest"
            if "MemoryError" in error:
                fix = f"raise memory_mb (now {self.limits.memory_mb})"
            raise SandboxError(
                f"pytest is not importable {where} by {self.interpreter}: {error}; "
                f"fix: {fix}"
            )
        found = SelfTest(
            backend=self.backend,
            interpreter=self.interpreter,
            python_version=str(report.get("version", "")),
            pytest_version=str(report.get("pytest", "")),
        )
        with _SELF_TEST_LOCK:
            _SELF_TESTS[key] = found
        errors = report.get("import_errors") or {}
        for name in names:
            if name in errors:
                raise SandboxError(
                    f"the repository's module {name!r} is not importable from the "
                    f"working copy {where}: {errors[name]}; fix: check the name, that "
                    "the working copy holds it at its top level (a src/ layout needs "
                    "extra_env={'PYTHONPATH': 'src'}), and that what it imports is "
                    f"installed for {self.interpreter}"
                    + (
                        " and listed in extra_distributions"
                        if self.backend == "docker"
                        else ""
                    )
                )
        return dataclasses.replace(found, imported=names)

    def _interpreter_dirs(self) -> list[str]:
        """The host directories the interpreter needs inside the sandbox."""
        return python_roots()

    def _interpreter_fix(self, detail: str) -> str:
        """How to fix a sandbox that cannot exec the interpreter (``detail``: what
        it printed)."""
        dirs = ", ".join(self._interpreter_dirs()) or "(none outside /usr)"
        if "Permission denied" in detail:
            return (
                "make the interpreter's directories readable by every user "
                f"(chmod -R a+rX on {dirs}), or use sandbox='docker'"
            )
        if "shared librar" in detail:
            return (
                "the interpreter links a library outside /usr and its prefix; use a "
                "Python whose libraries live there, or sandbox='docker'"
            )
        return (
            f"the sandbox shows the interpreter's directories ({dirs}) read-only; "
            f"check that {self.interpreter} exists and lies in one of them (a "
            "virtual environment's base interpreter too), or use sandbox='docker'"
        )

    def _ensure_self_tested(self) -> None:
        """Run the self-test before the first command (a no-op afterwards)."""
        if not self._self_tested:
            self.self_test()

    @property
    def inner_workdir(self) -> str:
        """Where commands see the working copy (``/workspace`` when isolated)."""
        return SANDBOX_WORKDIR if self.isolated else str(self.workdir)

    @property
    def uid(self) -> int | None:
        """The uid commands run as, when it differs from the caller's; files in the
        working copy must belong to it."""
        return None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- capture of a child's output with limits ----------------------------------------


def capture(
    process: subprocess.Popen[bytes],
    limits: SandboxLimits,
    timeout: float,
    kill: Any,
    *,
    stdin: bytes | None = None,
    stdout_limit: int | None = None,
) -> CommandResult:
    """Read a child's stdout and stderr under the limits, killing it when one is hit.

    ``kill()`` must stop the child and everything it started. ``stdin`` is fed to
    the child's standard input (a pipe) and the pipe is closed.
    """
    start = time.monotonic()
    if process.stdin is not None:
        feeder = threading.Thread(
            target=_feed, args=(process.stdin, stdin or b""), daemon=True
        )
        feeder.start()
    caps = {
        "stdout": limits.max_output_bytes if stdout_limit is None else stdout_limit,
        "stderr": limits.max_output_bytes,
    }
    deadline = start + timeout
    kept = {"stdout": bytearray(), "stderr": bytearray()}
    total = 0
    truncated = timed_out = output_killed = False
    selector = selectors.DefaultSelector()
    assert process.stdout is not None and process.stderr is not None
    selector.register(process.stdout, selectors.EVENT_READ, "stdout")
    selector.register(process.stderr, selectors.EVENT_READ, "stderr")
    while selector.get_map():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            kill()
            break
        for key, _ in selector.select(timeout=min(remaining, 0.5)):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                selector.unregister(key.fileobj)
                continue
            total += len(chunk)
            buffer = kept[key.data]
            room = caps[key.data] - len(buffer)
            if room > 0:
                buffer += chunk[:room]
            if len(chunk) > max(room, 0):
                truncated = True
            if total > limits.kill_output_bytes:
                output_killed = True
                kill()
                break
        if output_killed:
            break
    selector.close()
    exit_code = _reap(process, kill)
    return CommandResult(
        exit_code=exit_code,
        stdout=kept["stdout"].decode("utf-8", "replace"),
        stderr=kept["stderr"].decode("utf-8", "replace"),
        timed_out=timed_out,
        output_truncated=truncated or output_killed,
        output_killed=output_killed,
        duration=round(time.monotonic() - start, 3),
    )


def _feed(pipe: Any, data: bytes) -> None:
    """Write ``data`` to a child's stdin and close it; a child that died early
    (broken pipe) is reported by its exit status, not here."""
    try:
        pipe.write(data)
    except (BrokenPipeError, OSError):
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def _reap(process: subprocess.Popen[bytes], kill: Any) -> int:
    try:
        code = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        kill()
        code = process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    return code


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group the child leads (it was started in a new session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ---- the host's Python, made visible inside the sandbox -----------------------------


def python_bin_dir() -> str:
    """Directory of the interpreter running this process (first on the sandbox PATH)."""
    return str(Path(sys.executable).parent)


def python_roots() -> list[str]:
    """Host directories holding this interpreter, its stdlib and site-packages.

    Paths under ``/usr`` are left out: the sandboxes mount ``/usr`` anyway.
    """
    import sysconfig

    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            candidates.add(path)
    try:
        import pytest

        candidates.add(str(Path(pytest.__file__).resolve().parents[1]))
    except ImportError:  # no pytest: test runs will report it inside the sandbox
        pass
    roots = []
    for path in sorted(candidates, key=len):
        resolved = os.path.realpath(path)
        if resolved.startswith("/usr/") or not os.path.isdir(resolved):
            continue
        if any(resolved == r or resolved.startswith(r + "/") for r in roots):
            continue
        roots.append(resolved)
    return roots


def base_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of sandboxed commands: nothing inherited from the host."""
    env = {
        "PATH": f"{python_bin_dir()}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "USER": "sandbox",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONUNBUFFERED": "1",
        # Third-party pytest plugins of the host would slow every run and change
        # its behaviour; repositories that need one load it with ``-p``.
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
    }
    env.update(extra or {})
    return env
