"""The Docker backend: one locked-down container per episode, built offline.

The image is never pulled. On first use it is assembled from the host: this Python (its
stdlib, and from site-packages only pytest and its requirements plus any
``extra_distributions``), a shell, coreutils, grep, sed, find, diff and git, and the
shared libraries they link, imported with ``docker import`` as
``selfplay-envs-bug-repair:<variant>-<content hash>``; the hash covers every file's path,
size and modification time, so a changed host gets a new image (replacing the stale one)
and an unchanged one reuses it.

The container runs with ``network_mode="none"`` (no interface but its own loopback),
a read-only root, a private ``/tmp`` tmpfs of ``disk_mb``, every capability dropped,
``no-new-privileges``, memory, CPU and pids limits from the cgroup, and the rlimits of
``SandboxLimits`` as ulimits. The working copy is bind-mounted at ``/workspace``; when
the caller is root it first moves onto a tmpfs of ``disk_mb`` (``caps.DirectoryCap``).
An interpreter under ``/tmp`` (a virtual environment made there) would be hidden by
the ``/tmp`` tmpfs, so its directories are bind-mounted read-only over it. Each
command is a ``docker exec`` under ``timeout``; when it returns, every process it left
behind is killed, so nothing runs between commands. The container is removed by
``close``, on garbage collection, at interpreter exit, and containers left by dead
processes are swept when a new sandbox starts.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import shlex
import shutil
import socket
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import weakref
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from selfplay_envs.core.errors import DependencyNotInstalled
from selfplay_envs.games.bug_repair.sandbox.base import (
    SANDBOX_WORKDIR,
    CommandResult,
    Sandbox,
    SandboxError,
    SandboxLimits,
    SandboxUnavailable,
    base_environment,
    python_roots,
)
from selfplay_envs.games.bug_repair.sandbox.caps import (
    DirectoryCap,
    alive,
    directory_cap_support,
)
from selfplay_envs.games.bug_repair.sandbox.local import _chown_tree, _next_uid, geteuid

__all__ = ["DockerSandbox", "docker_available", "ensure_image", "IMAGE_REPOSITORY"]

IMAGE_REPOSITORY = "selfplay-envs-bug-repair"
LABEL = "selfplay_envs.bug_repair"
_RECIPE_VERSION = "3"
#: Container paths that docker mounts over the image: interpreter directories there
#: are bind-mounted from the host instead.
_HIDDEN = ("/tmp", "/dev")
_TOOLS = (
    "sh",
    "dash",
    "bash",
    "ls",
    "cat",
    "head",
    "tail",
    "wc",
    "grep",
    "egrep",
    "sed",
    "awk",
    "find",
    "xargs",
    "sort",
    "uniq",
    "cut",
    "tr",
    "diff",
    "cmp",
    "patch",
    "env",
    "mkdir",
    "rm",
    "rmdir",
    "cp",
    "mv",
    "ln",
    "touch",
    "chmod",
    "echo",
    "printf",
    "test",
    "true",
    "false",
    "sleep",
    "timeout",
    "kill",
    "pwd",
    "id",
    "basename",
    "dirname",
    "realpath",
    "readlink",
    "stat",
    "du",
    "tee",
    "nl",
    "seq",
    "date",
    "git",
    "yes",
)
_SKIP_STDLIB = {
    "test",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "site-packages",
    "dist-packages",
    "lib2to3",
    "pydoc_data",
}
# pid 1 of the container: reap orphans so they never pile up against the pids limit.
_INIT = b"""import os, signal, time
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        time.sleep(0.02)
"""
_ETC = {
    "passwd": "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "group": "root:x:0:\nnogroup:x:65534:\n",
    "hosts": "127.0.0.1 localhost sandbox\n::1 localhost\n",
}


def _client(timeout: float = 120.0) -> Any:
    try:
        import docker
    except ImportError as err:
        raise DependencyNotInstalled.for_extra("docker", "docker") from err
    return docker.from_env(timeout=int(timeout))


@functools.lru_cache(maxsize=1)
def docker_available() -> tuple[bool, str]:
    """Whether a Docker engine answers here, and why not if it does not."""
    try:
        client = _client(timeout=10)
        client.ping()
        client.close()
    except DependencyNotInstalled as err:
        return False, str(err)
    except Exception as err:  # noqa: BLE001 - any failure means "no engine"
        return (
            False,
            f"no Docker engine answers ({type(err).__name__}: {str(err)[:200]})",
        )
    return True, ""


# ---- the image -------------------------------------------------------------------


def _stdlib_files(stdlib: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(stdlib):
        rel = Path(dirpath).relative_to(stdlib)
        if rel.parts and rel.parts[0] in _SKIP_STDLIB:
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames if d not in ("tests", "test")]
        for name in filenames:
            if ".opt-" in name or name.startswith("_tkinter"):
                continue
            yield Path(dirpath) / name


def _distribution_files(names: Iterable[str]) -> Iterable[Path]:
    """Files of the named distributions and of everything they require."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or []:
            path = Path(dist.locate_file(file))
            if path.is_file():
                yield path
        for requirement in dist.requires or []:
            if "extra ==" in requirement:
                continue
            marker_free = requirement.split(";")[0]
            token = marker_free.replace("(", " ").replace(">", " ").replace("<", " ")
            token = token.replace("=", " ").replace("!", " ").replace("~", " ").split()
            if token:
                todo.append(token[0].split("[")[0])


def _elf_libraries(paths: Iterable[Path]) -> set[Path]:
    """Shared libraries (per ``ldd``) that the given executables need."""
    libs: set[Path] = set()
    paths = [str(p) for p in paths]
    if not paths:
        return libs
    probe = subprocess.run(
        ["ldd", *paths], capture_output=True, text=True, check=False, timeout=120
    )
    for line in probe.stdout.splitlines():
        for token in line.split():
            token = token.rstrip(":")
            if token.startswith("/") and token not in paths and os.path.exists(token):
                libs.add(Path(token))
    return libs


def _with_links(path: Path) -> set[Path]:
    """``path``, every symlink on the way to its target, and the target."""
    out = {path}
    current = path
    for _ in range(20):
        if not current.is_symlink():
            break
        target = Path(os.path.join(current.parent, os.readlink(current)))
        out.add(target)
        current = target
    out.add(Path(os.path.realpath(path)))
    return out


@functools.lru_cache(maxsize=4)
def image_manifest(extra_distributions: tuple[str, ...] = ()) -> list[Path]:
    """Every host file the image holds (before directory entries are added)."""
    files: set[Path] = set()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files.update(_stdlib_files(stdlib))
    prefix = Path(sys.base_prefix)
    for pattern in ("bin/python*", "lib/libpython*"):
        for path in prefix.glob(pattern):
            files |= _with_links(path)
    executable = Path(sys.executable)
    files |= _with_links(executable)
    # A virtual environment is one by its pyvenv.cfg: without it the interpreter would
    # not see the environment's site-packages.
    for config in (Path(sys.prefix) / "pyvenv.cfg", executable.parent / "pyvenv.cfg"):
        if config.is_file():
            files.add(config)
    files.update(
        _distribution_files(
            ["pytest", "iniconfig", "packaging", "pluggy", *extra_distributions]
        )
    )
    for script in ("pytest", "py.test"):
        path = executable.parent / script
        if path.exists():
            files.add(path)
    tools = {
        Path(p) for name in _TOOLS if (p := shutil.which(name, path="/usr/bin:/bin"))
    }
    for tool in list(tools):
        files |= _with_links(tool)
    elves = [
        p
        for p in files
        if p.suffix == ".so"
        or ".so." in p.name
        or p in tools
        or p == executable
        or p.name.startswith("python")
    ]
    for lib in _elf_libraries(sorted({Path(os.path.realpath(p)) for p in elves})):
        files |= _with_links(lib)
    return sorted(p for p in files if p.exists() or p.is_symlink())


def _manifest_hash(files: list[Path]) -> str:
    digest = hashlib.sha256(f"{_RECIPE_VERSION}|{sys.version}".encode())
    for path in files:
        info = path.lstat()
        digest.update(
            f"{path}|{info.st_size}|{info.st_mtime_ns}|{info.st_mode}\n".encode()
        )
    return digest.hexdigest()[:16]


def _add_file(tar: tarfile.TarFile, path: Path, seen: set[str]) -> None:
    name = str(path).lstrip("/")
    if name in seen:
        return
    for parent in reversed(path.parents[:-1]):
        _add_dir(tar, parent, seen)
    seen.add(name)
    info = tar.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if info.isreg():
        info.mode |= 0o444
        with open(path, "rb") as handle:
            tar.addfile(info, handle)
    else:
        tar.addfile(info)


def _add_dir(tar: tarfile.TarFile, path: Path, seen: set[str]) -> None:
    name = str(path).lstrip("/")
    if name in seen or not name:
        return
    seen.add(name)
    if path.is_symlink():  # /bin -> usr/bin and friends
        info = tarfile.TarInfo(name)
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(path)
        tar.addfile(info)
        return
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    tar.addfile(info)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def _write_rootfs(files: list[Path], target: Path) -> None:
    seen: set[str] = set()
    with tarfile.open(target, "w") as tar:
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            if Path(f"/{name}").is_symlink():
                _add_dir(tar, Path(f"/{name}"), seen)
        for path in files:
            # Store /lib/x/libc.so.6 as usr/lib/x/libc.so.6: /lib is a link entry.
            _add_file(tar, Path(os.path.realpath(path.parent)) / path.name, seen)
        for name in ("tmp", "workspace", "etc", "root"):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if name == "tmp" else 0o755
            if name not in seen:
                tar.addfile(info)
                seen.add(name)
        for name, text in _ETC.items():
            _add_bytes(tar, f"etc/{name}", text.encode())
        if os.path.isfile("/etc/ld.so.cache"):
            _add_bytes(tar, "etc/ld.so.cache", Path("/etc/ld.so.cache").read_bytes())
        _add_bytes(tar, "sandbox_init.py", _INIT)


def ensure_image(client: Any = None, extra_distributions: Iterable[str] = ()) -> str:
    """The tag of the sandbox image, building it from the host if it is missing."""
    extras = tuple(sorted(extra_distributions))
    files = image_manifest(extras)
    # The tag's first part names the variant (which interpreter, and which extra
    # distributions it holds), so that a rebuild replaces only earlier images of the
    # same variant: two interpreters of one machine (a venv) keep one image each.
    variant = (
        "py"
        + hashlib.sha256("\n".join([sys.executable, *extras]).encode()).hexdigest()[:6]
    )
    tag = f"{IMAGE_REPOSITORY}:{variant}-{_manifest_hash(files)}"
    return _ensure_tag(tag, tuple(files), client)


def _ensure_tag(tag: str, files: tuple[Path, ...], client: Any) -> str:
    own = client is None
    client = client or _client(timeout=600)
    try:
        import docker.errors

        try:
            client.images.get(tag)
            return tag
        except docker.errors.ImageNotFound:
            pass
        with tempfile.TemporaryDirectory(prefix="selfplay-rootfs-") as tmp:
            rootfs = Path(tmp) / "rootfs.tar"
            _write_rootfs(list(files), rootfs)
            repository, _, version = tag.partition(":")
            client.api.import_image_from_file(
                str(rootfs),
                repository=repository,
                tag=version,
                changes=[f"WORKDIR {SANDBOX_WORKDIR}"],
            )
        client.images.get(tag)  # raises if the import silently failed
        _remove_stale_images(client, tag)
        return tag
    finally:
        if own:
            client.close()


def _remove_stale_images(client: Any, keep: str) -> None:
    """Drop images of the same variant built for earlier host states, and those of
    the variant names before recipe 3 (``base-``, six hex digits), unused ones only;
    errors are ignored."""
    variant = keep.partition(":")[2].split("-")[0] + "-"

    def stale(tag: str) -> bool:
        name = tag.split("-")[0]
        legacy = name == "base" or len(name) == 6  # recipe 3: "py" + 6 hex digits
        return tag.startswith(variant) or legacy

    for image in client.images.list(name=IMAGE_REPOSITORY):
        tags = [t.partition(":")[2] for t in image.tags]
        if keep in image.tags or not any(stale(t) for t in tags):
            continue
        try:
            client.images.remove(image.id)
        except Exception:  # noqa: BLE001 - in use by a container, or already gone
            continue


@functools.lru_cache(maxsize=4)
def _cached_image(extra_distributions: tuple[str, ...]) -> str:
    return ensure_image(extra_distributions=extra_distributions)


# ---- the container ---------------------------------------------------------------


def _remove_container(client: Any, container_id: str) -> None:
    try:
        client.api.remove_container(container_id, force=True)
    except Exception:  # noqa: BLE001 - already gone, or the engine stopped
        pass
    try:
        client.close()
    except Exception:  # noqa: BLE001
        pass


def sweep_leaked_containers(client: Any) -> int:
    """Remove sandbox containers whose owning process (on this host) has died."""
    removed = 0
    host = socket.gethostname()
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        labels = container.labels or {}
        if labels.get(f"{LABEL}.host") != host:
            continue
        try:
            pid = int(labels.get(f"{LABEL}.pid", "0"))
        except ValueError:
            continue
        if pid > 0 and not alive(pid):
            container.remove(force=True)
            removed += 1
    return removed


def _with_stdin(client: Any, exec_id: str, data: bytes) -> Iterable[tuple[Any, Any]]:
    """Start an exec attached to its stdin: send ``data``, close the input, then
    yield ``(stdout, stderr)`` chunks as ``exec_start(demux=True)`` does."""
    from docker.utils.socket import frames_iter

    sock = client.api.exec_start(exec_id, socket=True)
    raw = getattr(sock, "_sock", sock)
    try:
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
        for stream_id, chunk in frames_iter(sock, tty=False):
            yield (chunk, None) if stream_id == 1 else (None, chunk)
    finally:
        sock.close()


_swept = False


class DockerSandbox(Sandbox):
    """Commands run by ``docker exec`` in one container, created on first use.

    Args:
        workdir: The working copy, bind-mounted read-write at ``/workspace``.
        limits: Resource limits (cgroup memory, CPU and pids limits, and ulimits).
        allow_network: Use the host's network instead of ``network_mode="none"``.
        extra_env: Environment variables added for every command.
        extra_distributions: More installed distributions to copy into the image
            (for repositories whose tests import third-party packages).
    """

    backend = "docker"

    def __init__(
        self,
        workdir: Path,
        limits: SandboxLimits | None = None,
        *,
        allow_network: bool = False,
        extra_env: dict[str, str] | None = None,
        extra_distributions: Iterable[str] = (),
    ):
        super().__init__(
            workdir, limits or SandboxLimits(), allow_network=allow_network
        )
        available, reason = docker_available()
        if not available:
            raise SandboxUnavailable(reason)
        self.extra_env = dict(extra_env or {})
        self.extra_distributions = tuple(sorted(extra_distributions))
        self._root = geteuid() == 0
        self._uid = _next_uid() if self._root else os.getuid()
        self._gid = self._uid if self._root else os.getgid()
        self._client: Any = None
        self._container_id: str | None = None
        self._finalizer: weakref.finalize | None = None
        self._disk: DirectoryCap | None = None
        self._disk_finalizer: weakref.finalize | None = None

    @property
    def uid(self) -> int | None:
        """The dedicated uid when the caller is root, else ``None`` (the caller's)."""
        return self._uid if self._root else None

    @property
    def container_id(self) -> str | None:
        """Id of the episode's container, once a command has started it."""
        return self._container_id

    @property
    def capped_workdir(self) -> bool:
        """True while the working copy lives on a tmpfs of ``disk_mb``."""
        return self._disk is not None and self._disk.active

    def _self_test_key(self) -> tuple[object, ...]:
        return (self.backend, self.interpreter, self.extra_distributions)

    def _interpreter_fix(self, detail: str) -> str:
        return (
            "the image holds a copy of this machine's interpreter, its stdlib and "
            f"pytest; check that {self.interpreter} runs on the host, remove stale "
            f"images (docker image rm $(docker images -q {IMAGE_REPOSITORY})) so that "
            "it is rebuilt, or use sandbox='local'"
        )

    def _start(self) -> str:
        if self._container_id is not None:
            return self._container_id
        try:
            return self._create()
        except SandboxError:
            raise
        except Exception as error:  # noqa: BLE001 - the engine, not the command
            raise SandboxError(
                f"docker cannot start the sandbox container: {type(error).__name__}: "
                f"{error}; fix: {self._interpreter_fix(str(error))}"
            ) from error

    def _create(self) -> str:
        global _swept
        image = _cached_image(self.extra_distributions)
        # DirectoryCap leaves a directory that is a mount point already alone.
        if self._root and self._disk is None and not directory_cap_support():
            disk = DirectoryCap(self.workdir, self.limits.disk_mb)
            if disk.active:
                self._disk = disk
                self._disk_finalizer = weakref.finalize(self, disk.release)
        volumes = {str(self.workdir): {"bind": SANDBOX_WORKDIR, "mode": "rw"}}
        for root in python_roots():
            if any(root == h or root.startswith(h + "/") for h in _HIDDEN):
                volumes[root] = {"bind": root, "mode": "ro"}
        self._client = _client(timeout=self.limits.timeout + 60)
        if not _swept:
            _swept = True
            sweep_leaked_containers(self._client)
        import docker.types

        limits = self.limits
        memory = f"{int(limits.memory_mb)}m"
        container = self._client.containers.create(
            image,
            command=[self.interpreter, "-S", "/sandbox_init.py"],
            network_mode="host" if self.allow_network else "none",
            user=f"{self._uid}:{self._gid}",
            working_dir=SANDBOX_WORKDIR,
            volumes=volumes,
            tmpfs={"/tmp": f"rw,size={int(limits.disk_mb)}m,mode=1777"},
            read_only=True,
            mem_limit=memory,
            memswap_limit=memory,
            nano_cpus=int(limits.cpus * 1e9),
            pids_limit=int(limits.max_processes),
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            ulimits=[
                docker.types.Ulimit(name="core", soft=0, hard=0),
                docker.types.Ulimit(
                    name="cpu", soft=limits.cpu_seconds, hard=limits.cpu_seconds + 1
                ),
                docker.types.Ulimit(
                    name="fsize",
                    soft=limits.max_file_mb << 20,
                    hard=limits.max_file_mb << 20,
                ),
                docker.types.Ulimit(
                    name="nofile",
                    soft=limits.max_open_files,
                    hard=limits.max_open_files,
                ),
            ],
            environment=base_environment(self.extra_env),
            hostname="sandbox",
            labels={
                LABEL: "1",
                f"{LABEL}.pid": str(os.getpid()),
                f"{LABEL}.host": socket.gethostname(),
            },
        )
        self._container_id = container.id
        self._finalizer = weakref.finalize(
            self, _remove_container, self._client, container.id
        )
        try:
            container.start()
        except BaseException:
            # A container that cannot start (its interpreter missing) is removed, not
            # left "created".
            self.close()
            raise
        return container.id

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        stdin: bytes | None = None,
        stdout_limit: int | None = None,
    ) -> CommandResult:
        """Run ``command`` with ``sh -c`` in the episode's container."""
        self._ensure_self_tested()
        limit = float(timeout or self.limits.timeout)
        if self._root:
            _chown_tree(self.workdir, self._uid)
        container_id = self._start()
        # /tmp starts empty; afterwards every process the command left is killed.
        # The address-space limit is set here, not as a container ulimit: runc's own
        # start-up would inherit it and fail. Python then raises MemoryError instead
        # of the container meeting the OOM killer.
        wrapper = (
            "rm -rf /tmp/* /tmp/.[!.]* 2>/dev/null; "
            f"ulimit -v {int(self.limits.memory_mb) * 1024}; "
            f"timeout -k 2 {limit:g} /bin/sh -c {shlex.quote(command)}; "
            # kill -1 spares only pid 1 and this shell; repeat until nothing is left,
            # so a fork bomb racing the first round cannot survive.
            "rc=$?; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do "
            "kill -9 -1 2>/dev/null || break; done; exit $rc"
        )
        start = time.monotonic()
        try:
            exec_id = self._client.api.exec_create(
                container_id,
                ["/bin/sh", "-c", wrapper],
                workdir=SANDBOX_WORKDIR,
                user=f"{self._uid}:{self._gid}",
                stdin=stdin is not None,
            )["Id"]
            if stdin is None:
                stream = self._client.api.exec_start(exec_id, stream=True, demux=True)
            else:
                stream = _with_stdin(self._client, exec_id, stdin)
            out, err, truncated, killed = self._read(stream, container_id, stdout_limit)
            exit_code = self._client.api.exec_inspect(exec_id).get("ExitCode")
        except Exception as error:  # noqa: BLE001 - the engine, not the command
            raise SandboxError(
                f"docker exec failed: {type(error).__name__}: {error}"
            ) from error
        duration = time.monotonic() - start
        exit_code = -9 if exit_code is None else int(exit_code)
        timed_out = exit_code in (124, 137) and duration >= limit - 0.5
        return CommandResult(
            exit_code=exit_code,
            stdout=out.decode("utf-8", "replace"),
            stderr=err.decode("utf-8", "replace"),
            timed_out=timed_out,
            output_truncated=truncated,
            output_killed=killed,
            duration=round(duration, 3),
        )

    def _read(
        self, stream: Any, container_id: str, stdout_limit: int | None = None
    ) -> tuple[bytes, bytes, bool, bool]:
        kept = [bytearray(), bytearray()]
        total = 0
        truncated = killed = False
        cap = self.limits.max_output_bytes
        caps = (cap if stdout_limit is None else stdout_limit, cap)
        for chunks in stream:
            for index, chunk in enumerate(chunks):
                if not chunk:
                    continue
                total += len(chunk)
                room = caps[index] - len(kept[index])
                if room > 0:
                    kept[index] += chunk[:room]
                if len(chunk) > max(room, 0):
                    truncated = True
            if total > self.limits.kill_output_bytes and not killed:
                killed = truncated = True
                self._kill_all(container_id)
        return bytes(kept[0]), bytes(kept[1]), truncated, killed

    def _kill_all(self, container_id: str) -> None:
        exec_id = self._client.api.exec_create(
            container_id,
            [
                "/bin/sh",
                "-c",
                "for i in 1 2 3 4 5 6 7 8; do kill -9 -1 2>/dev/null || break; done",
            ],
            user=f"{self._uid}:{self._gid}",
        )["Id"]
        # Detached: the running command's stream is not being read meanwhile, and a
        # blocking start would wait on the daemon behind it.
        self._client.api.exec_start(exec_id, detach=True)

    def close(self) -> None:
        """Remove the container (force) and close the client; move the working copy
        back from its tmpfs to its directory."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._container_id = None
        self._client = None
        finalizer, self._disk_finalizer = self._disk_finalizer, None
        if finalizer is not None:
            finalizer()
