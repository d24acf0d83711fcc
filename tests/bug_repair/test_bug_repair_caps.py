"""Caps on a bwrap sandbox's totals: memory and processes (cgroups) and disk (tmpfs).

rlimits bound each process; these tests prove that the sum over a command's processes
is bounded too. They need what they test: cgroup ``memory`` and ``pids`` controllers this
process may use, and root for the working copy's tmpfs; they skip with the reason where
the machine lacks it (CI runs as root on a machine that has both).
"""

from __future__ import annotations

import contextlib
import os
import resource
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import selfplay_envs
from selfplay_envs.games.bug_repair.repos import RepoSpec
from selfplay_envs.games.bug_repair.sandbox import (
    BwrapSandbox,
    SandboxError,
    SandboxLimits,
    SandboxSpec,
    caps,
    local,
)

MB = 1 << 20


# The checks of validation, reporting and parsing below need no bwrap; the rest do.
@pytest.fixture
def need_cgroups(need_bwrap: None) -> caps.CgroupSupport:
    support = caps.cgroup_support()
    for name in ("memory", "pids"):
        if not support.has(name):
            pytest.skip(f"no usable {name} cgroup here: {support.reason(name)}")
    return support


@pytest.fixture
def need_disk_caps(need_bwrap: None) -> None:
    if not local.bwrap_tmpfs_size():
        pytest.skip("this bwrap cannot size a tmpfs (--size needs bwrap >= 0.7)")
    reason = caps.directory_cap_support()
    if reason:
        pytest.skip(f"the working copy cannot be capped here: {reason}")


@contextlib.contextmanager
def _sandbox(tmp_path: Path, **limits: int) -> Iterator[BwrapSandbox]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    box = BwrapSandbox(work, SandboxLimits(timeout=20, **limits))
    try:
        yield box
    finally:
        box.close()


def _own_cgroups(support: caps.CgroupSupport) -> list[str]:
    """Per-command cgroups of this process that still exist."""
    mine = f"{caps.CGROUP_PREFIX}{os.getpid()}-"
    return [
        name
        for parent in {c.parent for c in support.controllers}
        for name in os.listdir(parent)
        if name.startswith(mine)
    ]


def _healthy(box: BwrapSandbox) -> None:
    result = box.run("echo alive")
    assert (result.exit_code, result.stdout) == (0, "alive\n"), result.stderr


# ---- memory -------------------------------------------------------------------------

# Six children of 100 MB each: every one is within RLIMIT_AS (300 MB), their sum is not.
_HOGS = """
import os, time
pids = []
for _ in range(6):
    pid = os.fork()
    if pid == 0:
        try:
            block = b"x" * (100 << 20)  # written, so resident
        except MemoryError:
            os._exit(3)
        time.sleep(1.5)  # long enough for all six to be alive at once
        os._exit(0)
    pids.append(pid)
codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
print(" ".join(map(str, codes)))
"""


def test_memory_of_all_processes_together_is_capped(
    need_cgroups: caps.CgroupSupport, tmp_path: Path
) -> None:
    with _sandbox(tmp_path, memory_mb=300, max_processes=32) as box:
        assert box.cgroup_capped
        result = box.run(f"python3 -c '{_HOGS}'")
        assert result.oom_killed, (result.stdout, result.stderr)
        assert "memory cap" in result.describe()
        if result.stdout.strip():  # the parent survived (the hogs are bigger)
            codes = [int(c) for c in result.stdout.split()]
            assert codes.count(0) <= 2, codes  # 3 x 100 MB would not fit in 300 MB
            assert codes.count(-9) >= 3, codes
        _healthy(box)
        assert not _own_cgroups(need_cgroups)


def test_a_command_within_the_memory_cap_is_not_flagged(
    need_cgroups: caps.CgroupSupport, tmp_path: Path
) -> None:
    with _sandbox(tmp_path, memory_mb=300) as box:
        result = box.run("python3 -c 'x = b\"x\" * (150 << 20); print(len(x))'")
        assert result.exit_code == 0 and not result.oom_killed, result.stderr
        assert result.stdout.strip() == str(150 * MB)


def test_a_command_that_cannot_join_its_cgroup_is_a_sandbox_error(
    need_cgroups: caps.CgroupSupport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never a result of the command: a launcher that cannot join the cgroup (what a
    cgroup that refuses processes does) fails the run, and the cgroup is removed."""
    monkeypatch.setattr(caps, "_JOIN", "exit 125")
    with _sandbox(tmp_path) as box:
        with pytest.raises(SandboxError, match="cannot start the sandboxed command"):
            box.run("echo never")
        assert not _own_cgroups(need_cgroups)


# ---- processes ----------------------------------------------------------------------

_FORKER = """
import os, time
n = 0
try:
    while n < 200:
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        n += 1
except OSError as err:
    print("refused", n, err.errno)
else:
    print("all", n)
"""


@pytest.fixture
def no_nproc_rlimit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lift RLIMIT_NPROC in the sandbox (to this process's hard limit), so that only
    the pids cgroup counts."""
    original = local._launcher_argv
    ceiling = resource.getrlimit(resource.RLIMIT_NPROC)[1]

    def launcher(limits, uid, nproc, command, interpreter=None):  # noqa: ANN001
        return original(limits, uid, ceiling, command, interpreter)

    monkeypatch.setattr(local, "_launcher_argv", launcher)


def test_processes_of_a_command_are_capped_by_the_pids_cgroup(
    need_cgroups: caps.CgroupSupport, no_nproc_rlimit: None, tmp_path: Path
) -> None:
    with _sandbox(tmp_path, max_processes=16) as box:
        result = box.run(f"python3 -c '{_FORKER}'")
        assert result.exit_code == 0, result.stderr
        verdict, count, *_ = result.stdout.split()
        assert verdict == "refused", result.stdout
        assert int(count) < 16  # the forker itself counts too
        _healthy(box)
        assert not _own_cgroups(need_cgroups)


def test_a_fork_bomb_stops_at_the_pids_cgroup(
    need_cgroups: caps.CgroupSupport, no_nproc_rlimit: None, tmp_path: Path
) -> None:
    with _sandbox(tmp_path, max_processes=24) as box:
        result = box.run("f(){ f|f& }; f; sleep 1", timeout=5)
        assert "fork" in result.stderr.lower(), result.stderr[-500:]
        assert result.duration < 20
        _healthy(box)
        survivors = box.run("ls /proc | grep -c '^[0-9]'")
        assert int(survivors.stdout) <= 6
        assert not _own_cgroups(need_cgroups)


# ---- disk ---------------------------------------------------------------------------


def test_tmp_is_a_tmpfs_of_disk_mb(need_disk_caps: None, tmp_path: Path) -> None:
    # Files of 8 MB: under RLIMIT_FSIZE (64 MB), so only the tmpfs can stop them.
    with _sandbox(tmp_path, disk_mb=16) as box:
        result = box.run(
            "for i in 1 2 3 4; do dd if=/dev/zero of=/tmp/f$i bs=1M count=8 "
            "status=none || exit 9; done"
        )
        assert result.exit_code == 9
        assert "No space left on device" in result.stderr
        # A fresh tmpfs for each command (it may hold the mount point of an
        # interpreter that lives under /tmp, nothing the last command wrote).
        assert not {"f1", "f2", "f3", "f4"} & set(box.run("ls /tmp").stdout.split())


def test_the_working_copy_is_capped_at_disk_mb(
    need_disk_caps: None, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "src").mkdir()
    (work / "src" / "given.py").write_text("GIVEN = 1\n")
    os.symlink("src/given.py", work / "link")
    with _sandbox(tmp_path, disk_mb=16) as box:
        assert box.capped_workdir and os.path.ismount(work)
        seen = box.run("cat src/given.py; readlink link")
        assert seen.stdout == "GIVEN = 1\nsrc/given.py\n"  # the copy moved in
        (work / "from_host.txt").write_text("host\n")  # the host keeps its path
        result = box.run(
            "cat from_host.txt; for i in 1 2 3 4; do dd if=/dev/zero of=fill$i "
            "bs=1M count=8 status=none || exit 9; done"
        )
        assert result.stdout == "host\n"
        assert result.exit_code == 9
        assert "No space left on device" in result.stderr
        used = sum(p.stat().st_size for p in work.glob("fill*"))
        assert used <= 16 * MB
        box.run("rm -f fill*; echo kept > made.txt")
    # Closed: the tmpfs is gone and its contents are back in the directory.
    assert not os.path.ismount(work)
    assert (work / "made.txt").read_text() == "kept\n"
    assert (work / "src" / "given.py").read_text() == "GIVEN = 1\n"
    assert os.readlink(work / "link") == "src/given.py"
    assert not list(work.glob("fill*"))


def test_a_working_copy_larger_than_disk_mb_is_refused(
    need_disk_caps: None, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "big.bin").write_bytes(b"\0" * (3 * MB))
    with pytest.raises(SandboxError, match="does not fit its 2 MB cap.*disk_mb"):
        BwrapSandbox(work, SandboxLimits(disk_mb=2))
    assert not os.path.ismount(work)
    assert (work / "big.bin").stat().st_size == 3 * MB


def test_workspace_cleanup_removes_a_capped_working_copy(
    need_disk_caps: None,
) -> None:
    """A sandbox never closed leaves its tmpfs on the workspace: deleting the
    workspace unmounts it first, so nothing is left."""
    from selfplay_envs.games.bug_repair.workspace import Workspace

    workspace = Workspace()
    workspace.write_bytes("a.py", b"A = 1\n")
    box = BwrapSandbox(workspace.path, SandboxLimits(disk_mb=8))
    assert os.path.ismount(workspace.path)
    base = workspace.path.parent
    workspace.cleanup()
    assert not base.exists()
    box._disk_finalizer.detach()  # what a crashed or leaked sandbox leaves
    box.close()


# ---- limits and reporting -------------------------------------------------------------


def test_disk_mb_is_validated() -> None:
    with pytest.raises(ValueError, match="disk_mb > 0"):
        SandboxLimits(disk_mb=0)


def test_bwrap_caps_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        local,
        "cgroup_support",
        lambda: caps.CgroupSupport((), (("memory", "no memory controller"),)),
    )
    monkeypatch.setattr(local, "bwrap_tmpfs_size", lambda: False)
    monkeypatch.setattr(local, "geteuid", lambda: 1000)
    missing = " | ".join(local.bwrap_caps())
    assert "memory of all processes" in missing and "no memory controller" in missing
    assert "size of /tmp" in missing and "--size" in missing
    assert "size of the working copy (it needs root)" in missing


def test_the_env_warns_at_construction_when_totals_are_not_capped(
    need_bwrap: None, tiny_repo: RepoSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        local,
        "cgroup_support",
        lambda: caps.CgroupSupport((), (("memory", "no memory controller"),)),
    )
    with pytest.warns(RuntimeWarning, match="sandbox='docker' for a hard bound"):
        env = selfplay_envs.make("bug_repair_v0", repos=[tiny_repo])
    env.close()


def test_the_env_is_quiet_where_everything_is_capped(
    need_cgroups: caps.CgroupSupport, need_disk_caps: None, tiny_repo: RepoSpec
) -> None:
    assert SandboxSpec().missing_caps() == ()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        env = selfplay_envs.make("bug_repair_v0", repos=[tiny_repo])
    env.close()


def test_cgroup_v2_delegation_is_read_from_the_hierarchy(tmp_path: Path) -> None:
    """A v2 cgroup offers a controller to its children only when it is available and
    enabled in its subtree (a fake hierarchy: plain files)."""
    own = tmp_path / "user.slice"
    own.mkdir()
    (own / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.subtree_control").write_text("memory\n")
    found, reason = caps._v2_controller("memory", str(tmp_path), "/user.slice")
    assert found == caps.Controller("memory", 2, str(own)) and not reason
    found, reason = caps._v2_controller("hugetlb", str(tmp_path), "/user.slice")
    assert found is None and "not available" in reason
