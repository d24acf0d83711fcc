"""The per-episode working copy on the host, and safe file access to it.

Code under test writes into the working copy, so the host treats it as hostile: every
host-side read or write walks the path one component at a time without following
symlinks, and refuses anything that is not a plain file inside the copy. Loading a new
tree deletes the old contents first (``shutil.rmtree`` never follows links). The
directory is removed on ``cleanup``, on garbage collection and at interpreter exit.

A workspace pickles as its file contents and is rebuilt in a new temporary directory
when unpickled, so an env can be pickled mid-episode.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from selfplay_envs.games.bug_repair.patches import PatchError, Tree, normalise_path

__all__ = ["Workspace", "WorkspaceError", "SKIP_DIRS"]

#: Directories that snapshots leave out: caches that tools write as a side effect.
SKIP_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
_MAX_SNAPSHOT_FILE = 1024 * 1024
_MAX_SNAPSHOT_TOTAL = 64 * 1024 * 1024


class WorkspaceError(ValueError):
    """A file operation was refused or failed; the message is shown to the agent."""


def _remove(path: str) -> None:
    """Delete a directory tree, making unreadable directories readable on the way."""

    def retry(function: Any, failed: str, _excinfo: Any) -> None:
        try:
            os.chmod(os.path.dirname(failed), 0o700)
            os.chmod(failed, 0o700)
            function(failed)
        except OSError:
            pass

    if os.path.lexists(path):
        _unmount_below(path)
        shutil.rmtree(path, onerror=retry)


def _unmount_below(path: str) -> None:
    """Detach what a sandbox mounted in the working copy and never released (its
    size-capped tmpfs), so that the directory can be removed."""
    if os.geteuid() != 0:
        return  # only root mounts working copies
    from selfplay_envs.games.bug_repair.sandbox.caps import unmount_below

    unmount_below(path)  # reads the mount table; unmounts nothing when none is there


class Workspace:
    """A temporary directory holding one working copy.

    Args:
        prefix: Prefix of the temporary directory's name.
    """

    def __init__(self, prefix: str = "selfplay-bug-repair-"):
        self._prefix = prefix
        self._base = tempfile.mkdtemp(prefix=prefix)
        self.path = Path(self._base) / "work"
        self.path.mkdir()
        self._finalizer = weakref.finalize(self, _remove, self._base)

    # ---- lifetime ----------------------------------------------------------------

    @property
    def alive(self) -> bool:
        """False once ``cleanup`` ran."""
        return self._finalizer.alive

    def cleanup(self) -> None:
        """Delete the directory now (idempotent)."""
        self._finalizer()

    def __getstate__(self) -> dict[str, Any]:
        return {
            "prefix": self._prefix,
            "files": self.snapshot() if self.alive else None,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["prefix"])
        if state["files"] is None:
            self.cleanup()
        else:
            self.load(state["files"])

    # ---- whole trees ---------------------------------------------------------------

    def load(self, tree: Mapping[str, bytes]) -> None:
        """Replace the working copy's contents with ``tree``."""
        for entry in os.scandir(self.path):
            if entry.is_dir(follow_symlinks=False):
                _remove(entry.path)
            else:
                os.unlink(entry.path)
        for rel, data in tree.items():
            self.write_bytes(rel, data)

    def snapshot(
        self,
        *,
        skip_dirs: frozenset[str] = SKIP_DIRS,
        max_file_bytes: int = _MAX_SNAPSHOT_FILE,
        max_total_bytes: int = _MAX_SNAPSHOT_TOTAL,
    ) -> Tree:
        """Regular files of the working copy (symlinks and oversized files skipped)."""
        tree: Tree = {}
        total = 0
        for dirpath, dirnames, filenames in os.walk(self.path):
            dirnames[:] = sorted(d for d in dirnames if d not in skip_dirs)
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, self.path).replace(os.sep, "/")
                try:
                    info = os.lstat(full)
                except FileNotFoundError:
                    continue
                if not stat.S_ISREG(info.st_mode) or info.st_size > max_file_bytes:
                    continue
                if total + info.st_size > max_total_bytes:
                    return tree
                try:
                    tree[rel] = self.read_bytes(rel)
                except WorkspaceError:
                    continue
                total += len(tree[rel])
        return tree

    # ---- single files --------------------------------------------------------------

    def _parent_fd(self, rel: str, create: bool) -> tuple[int, str]:
        """An fd of the directory holding ``rel``, reached without following links."""
        try:
            clean = normalise_path(rel)
        except PatchError as err:
            raise WorkspaceError(str(err)) from err
        *dirs, name = clean.split("/")
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            for part in dirs:
                try:
                    child = os.open(
                        part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd
                    )
                except FileNotFoundError:
                    if not create:
                        raise WorkspaceError(f"{clean}: no such file") from None
                    os.mkdir(part, 0o755, dir_fd=fd)
                    child = os.open(
                        part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd
                    )
                except OSError as err:
                    raise WorkspaceError(
                        f"{clean}: {part} is not a plain directory"
                    ) from err
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd, name

    def read_bytes(self, rel: str, max_bytes: int = _MAX_SNAPSHOT_TOTAL) -> bytes:
        """The contents of plain file ``rel``; symlinks and special files are refused."""
        parent, name = self._parent_fd(rel, create=False)
        try:
            try:
                fd = os.open(
                    name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=parent
                )
            except FileNotFoundError:
                raise WorkspaceError(f"{rel}: no such file") from None
            except OSError as err:
                if err.errno == errno.ELOOP:
                    raise WorkspaceError(
                        f"{rel}: is a symbolic link; refusing to follow it"
                    ) from None
                raise WorkspaceError(f"{rel}: {err.strerror}") from None
            try:
                info = os.fstat(fd)
                if stat.S_ISDIR(info.st_mode):
                    raise WorkspaceError(f"{rel}: is a directory")
                if not stat.S_ISREG(info.st_mode):
                    raise WorkspaceError(f"{rel}: not a regular file")
                if info.st_size > max_bytes:
                    raise WorkspaceError(f"{rel}: larger than {max_bytes} bytes")
                chunks = []
                while chunk := os.read(fd, 1 << 20):
                    chunks.append(chunk)
                return b"".join(chunks)
            finally:
                os.close(fd)
        finally:
            os.close(parent)

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Create or replace plain file ``rel``; a symlink in its place is replaced."""
        parent, name = self._parent_fd(rel, create=True)
        try:
            try:
                info = os.lstat(name, dir_fd=parent)
            except FileNotFoundError:
                info = None
            if info is not None and stat.S_ISDIR(info.st_mode):
                raise WorkspaceError(f"{rel}: is a directory")
            if info is not None and not stat.S_ISREG(info.st_mode):
                os.unlink(name, dir_fd=parent)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
            fd = os.open(name, flags, 0o644, dir_fd=parent)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        finally:
            os.close(parent)

    def delete(self, rel: str) -> None:
        """Remove file ``rel`` if present (directories are refused)."""
        parent, name = self._parent_fd(rel, create=False)
        try:
            try:
                info = os.lstat(name, dir_fd=parent)
            except FileNotFoundError:
                return
            if stat.S_ISDIR(info.st_mode):
                raise WorkspaceError(f"{rel}: is a directory")
            os.unlink(name, dir_fd=parent)
        finally:
            os.close(parent)
