"""The embedded sandbox: bubblewrap (``bwrap``), and an explicit unsafe fallback.

Each command is a fresh ``bwrap`` process tree in new pid, ipc, uts and network
namespaces. It sees a read-only ``/usr`` (and the ``/bin``, ``/lib`` links), a synthetic
``/etc``, a private ``/tmp`` (a fresh tmpfs of ``disk_mb`` for each command), the host's
Python read-only (mounted after ``/tmp``, so an interpreter or virtual environment
under ``/tmp`` stays visible), and the working copy read-write at ``/workspace``;
nothing else of the host exists in it (no home directory, no project checkout, no
``/var`` or docker socket). Killing the ``bwrap`` process kills the whole namespace, so
nothing outlives a command.

Limits are rlimits set by a tiny launcher inside the sandbox: CPU time, address space,
file size, open files and process count. ``RLIMIT_NPROC`` counts processes per real
uid and never applies to root, so when the caller is root each sandbox runs its
commands under its own unprivileged uid (from ``UID_BASE``) and the working copy is
chowned to it; otherwise commands keep the caller's uid and the process limit is
counted on top of the caller's current processes.

Totals are capped where the host allows it (``caps.py``): each command runs in its own
memory and pids cgroup (memory of all its processes together at ``memory_mb``), and,
when the caller is root, the working copy is put on a tmpfs of ``disk_mb``.
``bwrap_caps`` lists what this host cannot cap.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
import weakref
from pathlib import Path

from selfplay_envs.games.bug_repair.sandbox.base import (
    SANDBOX_WORKDIR,
    CommandResult,
    Sandbox,
    SandboxError,
    SandboxLimits,
    SandboxUnavailable,
    base_environment,
    capture,
    kill_group,
    python_roots,
)
from selfplay_envs.games.bug_repair.sandbox.caps import (
    DirectoryCap,
    RunCgroup,
    cgroup_support,
    directory_cap_support,
)

__all__ = [
    "BwrapSandbox",
    "UnsafeSubprocessSandbox",
    "bwrap_available",
    "bwrap_caps",
    "UID_BASE",
]

_LOG = logging.getLogger(__name__)

#: First uid handed to sandboxes when the caller is root (60000 uids are used).
UID_BASE = 200_000
_UID_SPAN = 60_000
_uid_counter = itertools.count()
#: Processes of bwrap itself in a command's cgroup (its monitor and the namespace's
#: init); the pids cgroup allows them on top of ``max_processes``.
BWRAP_PROCESSES = 2

# Runs inside the sandbox (or the unsafe subprocess): close inherited descriptors, set
# rlimits, drop to the sandbox uid, exec the shell. ``python -S`` keeps it to a few
# milliseconds.
_LAUNCHER = """
import os, resource, sys
os.closerange(3, 1 << 20)
uid, cpu, mem, nproc, fsize, nofile = (int(v) for v in sys.argv[1:7])
limits = [
    (resource.RLIMIT_CORE, 0, 0),
    (resource.RLIMIT_CPU, cpu, cpu + 1),
    (resource.RLIMIT_AS, mem, mem),
    (resource.RLIMIT_FSIZE, fsize, fsize),
    (resource.RLIMIT_NOFILE, nofile, nofile),
    (resource.RLIMIT_NPROC, nproc, nproc),
]
for which, soft, hard in limits:
    try:
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError) as err:
        sys.stderr.write(f"sandbox: cannot set rlimit {which}: {err}\\n")
        sys.exit(126)
if uid >= 0:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
os.execv("/bin/sh", ["sh", "-c", sys.argv[7]])
"""


def _launcher_argv(
    limits: SandboxLimits,
    uid: int,
    nproc: int,
    command: str,
    interpreter: str | None = None,
) -> list[str]:
    return [
        interpreter or sys.executable,
        "-S",
        "-c",
        _LAUNCHER,
        str(uid),
        str(int(limits.cpu_seconds)),
        str(int(limits.memory_mb) * 1024 * 1024),
        str(int(nproc)),
        str(int(limits.max_file_mb) * 1024 * 1024),
        str(int(limits.max_open_files)),
        command,
    ]


def _processes_of(uid: int) -> int:
    """How many processes ``uid`` runs now (``RLIMIT_NPROC`` counts them all)."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def _chown_tree(root: Path, uid: int) -> None:
    """Give every entry under ``root`` to ``uid`` without following symlinks."""
    os.lchown(root, uid, uid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            try:
                os.lchown(os.path.join(dirpath, name), uid, uid)
            except FileNotFoundError:
                continue


def _empty_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o755)


_ETC_FILES = {
    "passwd": "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    "sandbox:x:{uid}:{uid}:sandbox:/tmp:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "group": "root:x:0:\nsandbox:x:{uid}:\nnogroup:x:65534:\n",
    "hosts": "127.0.0.1 localhost sandbox\n::1 localhost\n",
    "hostname": "sandbox\n",
}


class BwrapSandbox(Sandbox):
    """Commands run under ``bwrap`` with no network and a read-only system.

    Args:
        workdir: The working copy, mounted read-write at ``/workspace``.
        limits: Resource limits of each command.
        allow_network: Share the host's network (and its resolver files); off by
            default, so even the host's loopback is unreachable.
        extra_env: Environment variables added for every command.
    """

    backend = "bwrap"

    def __init__(
        self,
        workdir: Path,
        limits: SandboxLimits | None = None,
        *,
        allow_network: bool = False,
        extra_env: dict[str, str] | None = None,
    ):
        # First: close() (and __del__) must work whatever the rest raises.
        self._state: Path | None = None
        self._disk: DirectoryCap | None = None
        self._disk_finalizer: weakref.finalize | None = None
        super().__init__(
            workdir, limits or SandboxLimits(), allow_network=allow_network
        )
        available, reason = bwrap_available()
        if not available:
            raise SandboxUnavailable(reason)
        self.extra_env = dict(extra_env or {})
        self._root = geteuid() == 0
        self._uid = _next_uid() if self._root else os.getuid()
        self._roots = tuple(python_roots())
        self._python = _python_mounts(self._roots)
        self._tmpfs = bwrap_tmpfs_size()
        cgroups = cgroup_support()
        self._cgroups = cgroups if cgroups.controllers else None
        if self._root and not directory_cap_support():
            disk = DirectoryCap(self.workdir, self.limits.disk_mb)
            if disk.active:
                self._disk = disk
                self._disk_finalizer = weakref.finalize(self, disk.release)
        self._state = Path(tempfile.mkdtemp(prefix="selfplay-bwrap-"))
        self._tmp = self._state / "tmp"
        self._etc = self._state / "etc"
        self._etc.mkdir()
        for name, text in _ETC_FILES.items():
            (self._etc / name).write_text(text.format(uid=self._uid))
        if allow_network:
            for name in ("resolv.conf", "ssl", "ca-certificates"):
                (self._etc / name).mkdir() if os.path.isdir(f"/etc/{name}") else None
        # The dynamic loader's index of library paths; not a secret.
        if os.path.isfile("/etc/ld.so.cache"):
            shutil.copyfile("/etc/ld.so.cache", self._etc / "ld.so.cache")

    @property
    def uid(self) -> int | None:
        """The dedicated uid when the caller is root, else ``None`` (the caller's)."""
        return self._uid if self._root else None

    @property
    def capped_workdir(self) -> bool:
        """True while the working copy lives on a tmpfs of ``disk_mb``."""
        return self._disk is not None and self._disk.active

    @property
    def cgroup_capped(self) -> bool:
        """True when each command runs in a memory (and pids) cgroup."""
        return self._cgroups is not None and self._cgroups.has("memory")

    def _self_test_key(self) -> tuple[object, ...]:
        return (self.backend, self.interpreter, self._python, self._root)

    def _interpreter_dirs(self) -> list[str]:
        return list(self._roots)

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        stdin: bytes | None = None,
        stdout_limit: int | None = None,
    ) -> CommandResult:
        """Run ``command`` in a fresh sandbox; ``/tmp`` starts empty."""
        if self._state is None:
            raise SandboxUnavailable("expected an open sandbox, got a closed one")
        self._ensure_self_tested()
        if not self._tmpfs:
            _empty_dir(self._tmp)
        if self._root:
            _chown_tree(self.workdir, self._uid)
            if not self._tmpfs:
                _chown_tree(self._tmp, self._uid)
        nproc = self.limits.max_processes
        if not self._root:
            nproc += _processes_of(self._uid)
        argv = self._argv(
            _launcher_argv(
                self.limits,
                self._uid if self._root else -1,
                nproc,
                command,
                self.interpreter,
            )
        )
        popen = {
            "stdin": subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            "stdout": subprocess.PIPE,
            "stderr": subprocess.PIPE,
            "start_new_session": True,
            "env": {"PATH": "/usr/bin:/bin"},
        }
        group: RunCgroup | None = None
        if self._cgroups is not None:
            group = RunCgroup(
                self._cgroups,
                memory_bytes=int(self.limits.memory_mb) << 20,
                max_pids=int(self.limits.max_processes) + BWRAP_PROCESSES,
            )
            process = group.launch(argv, **popen)
        else:
            try:
                process = subprocess.Popen(argv, **popen)  # type: ignore[call-overload]
            except OSError as err:
                raise SandboxError(
                    f"cannot start bwrap: {err}; fix: install bubblewrap"
                ) from err

        def kill() -> None:
            kill_group(process)
            if group is not None:
                group.kill()

        oom_kills = 0
        try:
            result = capture(
                process,
                self.limits,
                timeout or self.limits.timeout,
                kill,
                stdin=stdin,
                stdout_limit=stdout_limit,
            )
        finally:
            if group is not None:
                oom_kills = group.oom_kills()
                group.remove()
        if oom_kills:
            result = dataclasses.replace(result, oom_killed=True)
        return result

    def _argv(self, inner: list[str]) -> list[str]:
        argv = [
            "bwrap",
            "--die-with-parent",
            "--new-session",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--hostname",
            "sandbox",
        ]
        if not self.allow_network:
            argv.append("--unshare-net")
        if not self._root:
            argv.append("--unshare-user")
        # bwrap mounts in order, a later mount over an earlier one: the system first,
        # then /tmp, then the interpreter (which may live under /tmp or /dev/shm).
        argv += ["--ro-bind", "/usr", "/usr"]
        argv += _system_links()
        argv += ["--ro-bind", str(self._etc), "/etc"]
        if self.allow_network:
            for path in ("/etc/resolv.conf", "/etc/ssl", "/etc/ca-certificates"):
                if os.path.exists(path):
                    argv += ["--ro-bind", path, path]
        argv += ["--proc", "/proc", "--dev", "/dev"]
        if self._tmpfs:
            size = str(int(self.limits.disk_mb) << 20)
            argv += ["--perms", "1777", "--size", size, "--tmpfs", "/tmp"]
        else:
            argv += ["--bind", str(self._tmp), "/tmp"]
        argv += self._python
        argv += [
            "--bind",
            str(self.workdir),
            SANDBOX_WORKDIR,
            "--chdir",
            SANDBOX_WORKDIR,
        ]
        argv.append("--clearenv")
        for key, value in base_environment(self.extra_env).items():
            argv += ["--setenv", key, value]
        if self._root:
            # Only the launcher uses these, to switch to the sandbox uid; setuid
            # drops every capability.
            argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        return [*argv, "--", *inner]

    def close(self) -> None:
        """Remove the sandbox's private ``/tmp`` and ``/etc``; move the working copy
        back from its tmpfs to its directory."""
        state, self._state = self._state, None
        if state is not None:
            shutil.rmtree(state, ignore_errors=True)
        finalizer, self._disk_finalizer = self._disk_finalizer, None
        if finalizer is not None:
            finalizer()

    def __del__(self) -> None:
        self.close()


class UnsafeSubprocessSandbox(Sandbox):
    """Plain subprocesses with rlimits: NO isolation of files or network.

    Only for machines without bubblewrap or Docker, and only when asked for with
    ``unsafe_subprocess=True``. Code under test can read and write anything the
    caller can, and reach the network. It warns on creation.
    """

    backend = "unsafe-subprocess"
    isolated = False

    def __init__(
        self,
        workdir: Path,
        limits: SandboxLimits | None = None,
        *,
        allow_network: bool = True,
        extra_env: dict[str, str] | None = None,
    ):
        super().__init__(workdir, limits or SandboxLimits(), allow_network=True)
        message = (
            "bug_repair is running untrusted code WITHOUT a sandbox "
            "(unsafe_subprocess=True): it can read and write your files and use the "
            "network. Install bubblewrap or use sandbox='docker' for isolation."
        )
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        _LOG.warning(message)
        self.extra_env = dict(extra_env or {})
        self._state = Path(tempfile.mkdtemp(prefix="selfplay-unsafe-"))

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        stdin: bytes | None = None,
        stdout_limit: int | None = None,
    ) -> CommandResult:
        """Run ``command`` in the working copy with rlimits only."""
        tmp = self._state / "tmp"
        _empty_dir(tmp)
        env = base_environment({"HOME": str(tmp), "TMPDIR": str(tmp), **self.extra_env})
        self._ensure_self_tested()
        nproc = self.limits.max_processes + _processes_of(os.getuid())
        try:
            process = subprocess.Popen(
                _launcher_argv(self.limits, -1, nproc, command, self.interpreter),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                env=env,
            )
        except OSError as err:
            raise SandboxError(
                f"cannot start the interpreter {self.interpreter} for the unsafe "
                f"subprocess backend: {err}; fix: point it at an existing Python"
            ) from err
        return capture(
            process,
            self.limits,
            timeout or self.limits.timeout,
            lambda: kill_group(process),
            stdin=stdin,
            stdout_limit=stdout_limit,
        )

    def close(self) -> None:
        """Remove the private temporary directory."""
        shutil.rmtree(self._state, ignore_errors=True)


def geteuid() -> int:
    """The effective uid (a function so tests can see which mode applies)."""
    return os.geteuid()


def _next_uid() -> int:
    return UID_BASE + (os.getpid() * 7919 + next(_uid_counter)) % _UID_SPAN


@functools.lru_cache(maxsize=1)
def _system_links() -> tuple[str, ...]:
    """Mirror the host's ``/bin``, ``/lib*``, ``/sbin`` (links into /usr, or dirs)."""
    args: list[str] = []
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return tuple(args)


#: Mount points the sandbox makes before the interpreter's mounts.
_SANDBOX_MOUNTS = frozenset(
    {"/usr", "/etc", "/proc", "/dev", "/tmp", SANDBOX_WORKDIR, "/bin", "/sbin"}
    | {"/lib", "/lib32", "/lib64", "/libx32"}
)


@functools.lru_cache(maxsize=8)
def _python_mounts(roots: tuple[str, ...]) -> tuple[str, ...]:
    """Read-only mounts of the host interpreter's directories (``roots``, from
    ``python_roots()``), with world-readable parent dirs.

    The parents are created with mode 0755 so that the sandbox uid can reach a Python
    installed under a private home directory (pyenv under ``/root``); mount points the
    sandbox made before (``/tmp``) are left as they are. Roots that would hide one of
    them (``/tmp`` itself, or ``/`` ) are skipped.
    """
    args: list[str] = []
    made: set[str] = set()
    for root in roots:
        if root in _SANDBOX_MOUNTS or root == "/":
            continue
        parts = Path(root).parts
        for depth in range(2, len(parts)):
            parent = str(Path(*parts[:depth]))
            if parent not in made and parent not in _SANDBOX_MOUNTS:
                args += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        args += ["--ro-bind", root, root]
    return tuple(args)


@functools.lru_cache(maxsize=1)
def bwrap_tmpfs_size() -> bool:
    """Whether the installed bwrap can size a tmpfs (``--size``, bwrap >= 0.7)."""
    try:
        text = subprocess.run(
            ["bwrap", "--help"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    help_text = text.stdout + text.stderr
    return "--size" in help_text and "--perms" in help_text


def bwrap_caps() -> tuple[str, ...]:
    """The totals the bwrap sandbox cannot cap on this machine, each with its reason
    (empty when memory, ``/tmp`` and the working copy are all capped).

    Process totals are always bounded: ``RLIMIT_NPROC`` counts every process of the
    sandbox's uid.
    """
    missing = []
    support = cgroup_support()
    if not support.has("memory"):
        missing.append(
            "the memory of all processes of a command together "
            f"({support.reason('memory')})"
        )
    if not bwrap_tmpfs_size():
        missing.append("the size of /tmp (this bwrap has no --size; bwrap >= 0.7 has)")
    reason = directory_cap_support() if geteuid() == 0 else "it needs root"
    if reason:
        missing.append(f"the size of the working copy ({reason})")
    return tuple(missing)


@functools.lru_cache(maxsize=1)
def bwrap_available() -> tuple[bool, str]:
    """Whether ``bwrap`` can create a sandbox here, and why not if it cannot."""
    if shutil.which("bwrap") is None:
        return False, (
            "bubblewrap (bwrap) is not installed: `apt-get install bubblewrap` (Debian, "
            "Ubuntu), `dnf install bubblewrap` (Fedora); or use sandbox='docker', or "
            "unsafe_subprocess=True to run without isolation"
        )
    probe = subprocess.run(
        [
            "bwrap",
            "--ro-bind",
            "/usr",
            "/usr",
            *_system_links(),
            "--unshare-all",
            *([] if geteuid() == 0 else ["--unshare-user"]),
            "--",
            "/bin/true",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        return False, (
            f"bwrap cannot create namespaces here ({probe.stderr.strip()[:200]}); "
            "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)"
            " or run as root, or use sandbox='docker'"
        )
    return True, ""
