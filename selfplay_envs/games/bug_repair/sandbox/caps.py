"""Caps on a sandbox's totals, where the host provides them.

rlimits bound each process; these bound the sum over every process of one command:

* **cgroups** (``memory`` and ``pids`` controllers, v1 or delegated v2): each command
  runs in its own cgroup, a child of this process's cgroup, with the memory limit
  (swap included where the kernel accounts it) and the process limit of the sandbox.
  A tiny shell launcher writes its own pid into the cgroup and then ``exec``s the
  sandbox, so every process of the command is born inside it; afterwards whatever is
  left in it is killed and the cgroup removed. Cgroups left behind by a dead process
  are removed by the next process that creates one.
* **size-capped tmpfs**: bwrap's private ``/tmp`` is a tmpfs of ``disk_mb`` (see
  ``local.py``), and, when the caller is root, the working copy itself is moved onto a
  tmpfs of ``disk_mb`` mounted over its directory (``DirectoryCap``): the host keeps
  using the same path, writes past the cap get ``ENOSPC``, and the contents are
  copied back to the directory when the sandbox closes.

Where neither is available (an unprivileged caller without a delegated cgroup), the
docker backend is the hard bound; ``warn_missing_caps`` says so.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import functools
import itertools
import logging
import os
import select
import shutil
import signal
import stat
import subprocess
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from selfplay_envs.games.bug_repair.sandbox.base import SandboxError

__all__ = [
    "CgroupSupport",
    "RunCgroup",
    "DirectoryCap",
    "cgroup_support",
    "directory_cap_support",
    "unmount_below",
    "warn_missing_caps",
    "CGROUP_PREFIX",
]

_LOG = logging.getLogger(__name__)

#: Name prefix of the cgroups made for sandboxed commands.
CGROUP_PREFIX = "selfplay-sandbox-"
_counter = itertools.count()
_CONTROLLERS = ("memory", "pids")


# ---- cgroups ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Controller:
    """One usable controller: its cgroup version and the directory that gets the
    per-command cgroups (this process's own cgroup in that hierarchy)."""

    name: str
    version: int
    parent: str


@dataclasses.dataclass(frozen=True)
class CgroupSupport:
    """The usable controllers, and for each missing one why it is missing."""

    controllers: tuple[Controller, ...] = ()
    missing: tuple[tuple[str, str], ...] = ()

    def has(self, name: str) -> bool:
        return any(c.name == name for c in self.controllers)

    def reason(self, name: str) -> str:
        return dict(self.missing).get(name, "")


def _unescape(field: str) -> str:
    """Octal escapes of /proc/self/mountinfo (a space is ``\\040``)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _mounts() -> list[tuple[str, str, str]]:
    """``(fstype, mount point, super options)`` of every mount of this process."""
    mounts = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return mounts
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        mounts.append((tail[0], _unescape(fields[4]), tail[2]))
    return mounts


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under ``""`` the v2 one."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if not controllers:
            paths[""] = path
        for name in controllers.split(","):
            paths[name] = path
    return paths


def _join(mountpoint: str, path: str) -> str:
    full = os.path.join(mountpoint, path.lstrip("/"))
    # Inside a cgroup namespace the path may not exist under the mount: the mount's
    # root is then this process's cgroup.
    return full if os.path.isdir(full) else mountpoint


def _limit_file(name: str, version: int) -> str:
    if name == "memory":
        return "memory.limit_in_bytes" if version == 1 else "memory.max"
    return "pids.max"


def _probe(controller: Controller) -> str:
    """Create a cgroup under the controller's parent, set a limit, remove it; the
    error, or ``""``."""
    path = os.path.join(controller.parent, f"{CGROUP_PREFIX}probe-{os.getpid()}")
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except OSError as err:
        return f"cannot create a cgroup in {controller.parent}: {err.strerror}"
    try:
        limit = os.path.join(path, _limit_file(controller.name, controller.version))
        with open(limit, "w") as handle:
            handle.write("100000000" if controller.name == "memory" else "10")
    except OSError as err:
        return f"cannot set {controller.name} limits in {controller.parent}: {err}"
    finally:
        try:
            os.rmdir(path)
        except OSError:
            pass
    return ""


def _v2_controller(
    name: str, mountpoint: str, own: str
) -> tuple[Controller | None, str]:
    parent = _join(mountpoint, own)
    try:
        available = Path(parent, "cgroup.controllers").read_text().split()
        enabled = Path(parent, "cgroup.subtree_control").read_text().split()
    except OSError as err:
        return None, f"cannot read {parent}: {err.strerror}"
    if name not in available:
        return None, f"the cgroup v2 controller {name} is not available in {parent}"
    if name not in enabled:
        try:
            Path(parent, "cgroup.subtree_control").write_text(f"+{name}")
        except OSError as err:
            return None, (
                f"the cgroup v2 controller {name} is not delegated to {parent} and "
                f"cannot be enabled there ({err.strerror}; a cgroup that holds "
                "processes cannot enable controllers for its children); run under a "
                "delegated cgroup (systemd-run --scope -p Delegate=yes ...)"
            )
    return Controller(name, 2, parent), ""


@functools.lru_cache(maxsize=1)
def cgroup_support() -> CgroupSupport:
    """Which of the ``memory`` and ``pids`` controllers this process can use.

    A controller of a cgroup v1 hierarchy is preferred (hybrid hosts often mount the
    v2 hierarchy with no controllers); otherwise the v2 hierarchy, when it delegates
    the controller to this process's cgroup.
    """
    mounts = _mounts()
    own = _own_cgroups()
    found: list[Controller] = []
    missing: list[tuple[str, str]] = []
    for name in _CONTROLLERS:
        controller, reason = None, f"no cgroup hierarchy with the {name} controller"
        v1 = [m for m in mounts if m[0] == "cgroup" and name in m[2].split(",")]
        v2 = [m for m in mounts if m[0] == "cgroup2"]
        if v1:
            controller = Controller(name, 1, _join(v1[0][1], own.get(name, "/")))
        elif v2 and "" in own:
            controller, reason = _v2_controller(name, v2[0][1], own[""])
        if controller is not None:
            reason = _probe(controller)
            if not reason:
                found.append(controller)
                continue
        missing.append((name, reason))
    support = CgroupSupport(tuple(found), tuple(missing))
    if found:
        _sweep(support)
    return support


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep(support: CgroupSupport) -> None:
    """Remove the per-command cgroups of dead processes (killing what is left)."""
    for parent in {c.parent for c in support.controllers}:
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        for name in names:
            if not name.startswith(CGROUP_PREFIX):
                continue
            owner = name[len(CGROUP_PREFIX) :].split("-")[0]
            if owner.isdigit() and int(owner) != os.getpid() and not alive(int(owner)):
                _remove_cgroup_dir(os.path.join(parent, name), deadline=0.5)


def _read_pids(path: str) -> list[int]:
    try:
        return [int(v) for v in Path(path, "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _kill_dir(path: str) -> None:
    kill_file = os.path.join(path, "cgroup.kill")  # v2, Linux >= 5.14
    if os.path.exists(kill_file):
        try:
            Path(kill_file).write_text("1")
            return
        except OSError:
            pass
    for pid in _read_pids(path):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue


def _remove_cgroup_dir(path: str, deadline: float = 2.0) -> bool:
    """Kill everything in cgroup ``path`` and remove it; False if it is still busy."""
    end = time.monotonic() + deadline
    while True:
        try:
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return True
        except OSError as err:
            if err.errno != errno.EBUSY or time.monotonic() > end:
                return False
        _kill_dir(path)
        time.sleep(0.002)


# The launcher of a command in a cgroup: join every cgroup, say so on the status pipe,
# then become the sandbox. (dash cannot name descriptors above 9 in a redirection,
# hence /proc/self/fd; the sandbox's own launcher closes the descriptor, and its
# reading end is closed once "ok" is read, so the command cannot use it.)
_JOIN = (
    'fd=$1; shift; while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; '
    'shift; echo ok > "/proc/self/fd/$fd" || exit 125; exec "$@"'
)


class RunCgroup:
    """The cgroup(s) of one command, one directory per distinct hierarchy.

    Args:
        support: The usable controllers (``cgroup_support()``).
        memory_bytes: Memory limit (swap included where it is accounted).
        max_pids: Process (task) limit.
    """

    def __init__(self, support: CgroupSupport, *, memory_bytes: int, max_pids: int):
        name = f"{CGROUP_PREFIX}{os.getpid()}-{next(_counter)}"
        self._dirs: dict[str, list[Controller]] = {}
        for controller in support.controllers:
            path = os.path.join(controller.parent, name)
            self._dirs.setdefault(path, []).append(controller)
        self.paths = tuple(self._dirs)
        self._removed = False
        try:
            for path, controllers in self._dirs.items():
                os.mkdir(path)
                for controller in controllers:
                    self._limit(path, controller, memory_bytes, max_pids)
        except OSError as err:
            self.remove()
            raise SandboxError(
                f"cannot set up the sandbox's cgroup {name}: {err}; "
                "fix: check that this process may create cgroups under "
                f"{', '.join(c.parent for c in support.controllers)}"
            ) from err

    @staticmethod
    def _limit(path: str, controller: Controller, memory: int, pids: int) -> None:
        def write(file: str, value: int | str, optional: bool = False) -> None:
            try:
                Path(path, file).write_text(str(value))
            except OSError:
                if not optional:
                    raise

        if controller.name == "pids":
            write("pids.max", pids)
        elif controller.version == 1:
            write("memory.limit_in_bytes", memory)
            write("memory.memsw.limit_in_bytes", memory, optional=True)  # swapaccount
        else:
            write("memory.max", memory)
            write("memory.swap.max", 0, optional=True)

    def launch(self, argv: Sequence[str], **popen: object) -> subprocess.Popen[bytes]:
        """Start ``argv`` inside the cgroup; ``SandboxError`` if it cannot join it."""
        read_end, write_end = os.pipe()
        procs = [os.path.join(p, "cgroup.procs") for p in self.paths]
        try:
            process = subprocess.Popen(  # type: ignore[call-overload]
                ["/bin/sh", "-c", _JOIN, "sh", str(write_end), *procs, "--", *argv],
                pass_fds=(write_end,),
                **popen,
            )
        except BaseException:  # no launcher: nothing will read the pipe or the cgroup
            os.close(read_end)
            self.remove()
            raise
        finally:
            os.close(write_end)
        try:
            ready, _, _ = select.select([read_end], [], [], 30)
            status = os.read(read_end, 16) if ready else b""
        finally:
            os.close(read_end)
        if status != b"ok\n":
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            _, err = process.communicate()
            self.remove()
            message = (err or b"").decode("utf-8", "replace").strip()[-300:]
            raise SandboxError(
                f"cannot start the sandboxed command in its cgroup {self.paths}: "
                f"{message or 'no answer from the launcher'}; fix: check that this "
                "process may move processes into cgroups it creates"
            )
        return process

    def kill(self) -> None:
        """SIGKILL every process in the cgroup."""
        for path in self.paths:
            _kill_dir(path)

    def oom_kills(self) -> int:
        """Processes the kernel killed for the cgroup's memory limit."""
        for path, controllers in self._dirs.items():
            for controller in controllers:
                if controller.name != "memory":
                    continue
                file = (
                    "memory.oom_control" if controller.version == 1 else "memory.events"
                )
                try:
                    text = Path(path, file).read_text()
                except OSError:
                    return 0
                for line in text.splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        return 0

    def remove(self) -> None:
        """Kill what is left and remove the cgroup (idempotent); a cgroup that stays
        busy is logged and left to the next sweep."""
        if self._removed:
            return
        self._removed = True
        for path in self.paths:
            if not _remove_cgroup_dir(path):
                _LOG.warning("sandbox cgroup %s is still busy; left for later", path)


# ---- a size-capped tmpfs over a directory ------------------------------------------

_MS_NOSUID = 2
_MS_NODEV = 4
_MNT_DETACH = 2


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount_tmpfs(target: str, size_mb: int) -> None:
    # nr_inodes bounds a flood of empty files (their inodes are kernel memory).
    options = (
        f"size={int(size_mb)}m,nr_inodes={max(int(size_mb) * 256, 16384)},mode=0755"
    )
    code = _libc().mount(
        b"tmpfs",
        os.fsencode(target),
        b"tmpfs",
        _MS_NOSUID | _MS_NODEV,
        options.encode(),
    )
    if code != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number), target)


def _umount(target: str) -> None:
    libc = _libc()
    if libc.umount2(os.fsencode(target), 0) == 0:
        return
    if (
        ctypes.get_errno() == errno.EBUSY
        and libc.umount2(os.fsencode(target), _MNT_DETACH) == 0
    ):
        return
    number = ctypes.get_errno()
    raise OSError(number, os.strerror(number), target)


def unmount_below(path: str | os.PathLike[str]) -> None:
    """Detach every mount at or under ``path`` (deepest first); errors are ignored.

    A working copy whose directory still carries a ``DirectoryCap`` (a sandbox that was
    never closed) can then be removed like any other directory.
    """
    root = os.path.realpath(path)
    targets = [
        m[1]
        for m in _mounts()
        if m[1] == root or m[1].startswith(root.rstrip("/") + "/")
    ]
    for target in sorted(targets, key=len, reverse=True):
        try:
            _libc().umount2(os.fsencode(target), _MNT_DETACH)
        except OSError:
            continue


def directory_cap_support() -> str:
    """``""`` when working copies can be put on a size-capped tmpfs, else why not."""
    if os.geteuid() != 0:
        return "mounting a size-capped tmpfs for the working copy needs root"
    return _tmpfs_probe()


@functools.lru_cache(maxsize=1)
def _tmpfs_probe() -> str:
    import tempfile

    path = tempfile.mkdtemp(prefix="selfplay-tmpfs-probe-")
    try:
        _mount_tmpfs(path, 1)
        _umount(path)
    except OSError as err:
        return f"cannot mount a tmpfs here ({err.strerror})"
    finally:
        os.rmdir(path)
    return ""


def _copy_tree(source: str, target: str) -> None:
    """Copy directories, regular files and symlinks (never followed) with their
    modes, times and owners; sockets, fifos and devices are skipped."""
    todo = [(source, target)]
    dirs: list[tuple[str, os.stat_result]] = []
    while todo:
        src, dst = todo.pop()
        for entry in os.scandir(src):
            here, there = entry.path, os.path.join(dst, entry.name)
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                os.mkdir(there, 0o700)
                todo.append((here, there))
                dirs.append((there, info))
            elif stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(here), there)
            elif stat.S_ISREG(info.st_mode):
                fd = os.open(here, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                with os.fdopen(fd, "rb") as reader, open(there, "xb") as writer:
                    shutil.copyfileobj(reader, writer, 1 << 20)
                os.chmod(there, stat.S_IMODE(info.st_mode))
                os.utime(there, ns=(info.st_atime_ns, info.st_mtime_ns))
            else:
                continue
            os.lchown(there, info.st_uid, info.st_gid)
    for there, info in reversed(dirs):  # after their contents: keep the times
        os.chmod(there, stat.S_IMODE(info.st_mode))
        os.utime(there, ns=(info.st_atime_ns, info.st_mtime_ns))


def _clear(path: str) -> None:
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue


class DirectoryCap:
    """A tmpfs of ``size_mb`` mounted over ``path`` with the directory's contents.

    The host keeps the path; what is written there lives on the tmpfs until
    ``release`` copies it back to the directory underneath and unmounts. A directory
    that is already a mount point is left alone (``active`` is then False).
    """

    def __init__(self, path: str | os.PathLike[str], size_mb: int):
        self.path = os.path.realpath(path)
        self.size_mb = int(size_mb)
        self.active = False
        self._lock = threading.Lock()
        self._under: int | None = None
        if os.path.ismount(self.path):
            return
        self._under = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        info = os.fstat(self._under)
        try:
            _mount_tmpfs(self.path, self.size_mb)
        except OSError as err:
            os.close(self._under)
            self._under = None
            raise SandboxError(
                f"cannot mount the {self.size_mb} MB tmpfs over the working copy "
                f"{self.path}: {err}; fix: run as root with mount rights, or use "
                "sandbox='docker'"
            ) from err
        self.active = True
        try:
            os.chmod(self.path, stat.S_IMODE(info.st_mode))
            os.chown(self.path, info.st_uid, info.st_gid)
            _copy_tree(self._underneath, self.path)
        except OSError as err:
            self.release(copy_back=False)
            if err.errno == errno.ENOSPC:
                raise SandboxError(
                    f"the working copy {self.path} does not fit its {self.size_mb} MB "
                    "cap; fix: raise SandboxLimits.disk_mb"
                ) from err
            raise SandboxError(
                f"cannot copy the working copy onto its tmpfs at {self.path}: {err}"
            ) from err

    @property
    def _underneath(self) -> str:
        return f"/proc/self/fd/{self._under}"

    def release(self, *, copy_back: bool = True) -> None:
        """Copy the contents back to the directory underneath and unmount
        (idempotent; a directory deleted meanwhile is only unmounted)."""
        with self._lock:
            if not self.active:
                return
            self.active = False
            try:
                if copy_back and os.path.ismount(self.path):
                    _clear(self._underneath)
                    _copy_tree(self.path, self._underneath)
            except OSError as err:
                _LOG.warning(
                    "copying %s back from its tmpfs failed: %s", self.path, err
                )
            finally:
                try:
                    _umount(self.path)
                except OSError as err:
                    _LOG.warning("cannot unmount the tmpfs on %s: %s", self.path, err)
                if self._under is not None:
                    os.close(self._under)
                    self._under = None


# ---- saying what is not capped -------------------------------------------------------

_warned = False


def warn_missing_caps(backend: str, missing: Sequence[str]) -> None:
    """Warn (and log, once per process) that the totals listed in ``missing`` are
    not capped by the ``backend`` sandbox here, naming docker as the hard bound."""
    global _warned
    if not missing:
        return
    message = (
        f"bug_repair's {backend} sandbox cannot cap these totals on this machine: "
        f"{'; '.join(missing)}. Each process is still bounded by rlimits, but "
        "together a command's processes may exceed memory_mb or fill the disk; use "
        "sandbox='docker' for a hard bound."
    )
    warnings.warn(message, RuntimeWarning, stacklevel=3)
    if not _warned:
        _warned = True
        _LOG.warning(message)
