"""What every sandbox backend shares: limits, results, the interface, output capture."""

from __future__ import annotations

import abc
import dataclasses
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from selfplay_envs.core.errors import InfrastructureError

__all__ = [
    "SandboxError",
    "SandboxUnavailable",
    "SandboxLimits",
    "CommandResult",
    "Sandbox",
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
        memory_mb: Address space of one process (``RLIMIT_AS``); the docker backend
            also caps the whole container's memory at this value.
        max_processes: Processes the sandbox may run at once (``RLIMIT_NPROC`` under a
            dedicated uid for bwrap; the pids cgroup for docker).
        max_file_mb: Largest file a process may write (``RLIMIT_FSIZE``).
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
    max_open_files: int = 256
    max_output_bytes: int = 64 * 1024
    kill_output_bytes: int = 8 * 1024 * 1024
    cpus: float = 1.0

    def __post_init__(self) -> None:
        for name in ("timeout", "cpu_seconds", "memory_mb", "max_processes"):
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
    """

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    output_truncated: bool = False
    output_killed: bool = False
    duration: float = 0.0

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


class Sandbox(abc.ABC):
    """Runs commands in one working copy, in isolation, under ``SandboxLimits``.

    One sandbox serves one episode: the caller may rewrite the working copy between
    commands (the docker backend keeps one container for all of them). ``close``
    releases everything; it is safe to call twice and runs on garbage collection.
    """

    backend: str = "abstract"
    #: True when the backend isolates the command from the host.
    isolated: bool = True

    def __init__(self, workdir: Path, limits: SandboxLimits, *, allow_network: bool):
        self.workdir = Path(workdir)
        self.limits = limits
        self.allow_network = allow_network

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
