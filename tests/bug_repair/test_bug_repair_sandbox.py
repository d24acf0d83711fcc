"""Security of the sandboxes: untrusted code stays in its working copy.

Every test runs real commands in a real sandbox (bubblewrap, and Docker where an engine
runs). Hostile commands try to read and write outside the working copy (the home
directory, the project checkout, ``/etc``), to reach the network (the host's loopback
included), and to exhaust the host (fork bomb, memory bomb, infinite loop, huge output);
each must be contained, reported in the result, and leave the host healthy.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from selfplay_envs.games.bug_repair.sandbox import (
    BwrapSandbox,
    Sandbox,
    SandboxError,
    SandboxLimits,
    SandboxSpec,
    UnsafeSubprocessSandbox,
    base,
    local,
)

PROJECT = Path(__file__).resolve().parents[2]
LIMITS = SandboxLimits(timeout=10, memory_mb=512, max_processes=32, cpu_seconds=20)


def _make(backend: str, workdir: Path) -> Sandbox:
    return SandboxSpec(
        backend="docker" if backend == "docker" else "local", limits=LIMITS
    )(workdir)


@pytest.fixture
def box(backend: str, tmp_path: Path) -> Iterator[Sandbox]:
    workdir = tmp_path / "work"
    workdir.mkdir()
    sandbox = _make(backend, workdir)
    yield sandbox
    sandbox.close()


@pytest.fixture
def home_canary() -> Iterator[tuple[Path, str]]:
    """A secret file in the real home directory, removed afterwards."""
    secret = uuid.uuid4().hex
    path = Path.home() / f".selfplay_canary_{secret[:8]}"
    path.write_text(secret)
    yield path, secret
    path.unlink(missing_ok=True)


# ---- files --------------------------------------------------------------------------


def test_working_copy_is_readable_and_writable(box: Sandbox) -> None:
    (box.workdir / "given.txt").write_text("from the host\n")
    result = box.run("cat given.txt && echo made > made.txt && pwd")
    assert result.exit_code == 0, result.stderr
    assert "from the host" in result.stdout
    assert result.stdout.strip().endswith("/workspace")
    assert (box.workdir / "made.txt").read_text() == "made\n"


def test_cannot_read_the_home_directory(
    box: Sandbox, home_canary: tuple[Path, str]
) -> None:
    path, secret = home_canary
    result = box.run(f"cat {path}; ls -a {path.parent}; cat ~/{path.name}")
    assert secret not in result.stdout + result.stderr
    assert result.exit_code != 0


def test_cannot_read_the_project_checkout(box: Sandbox) -> None:
    target = PROJECT / "pyproject.toml"
    assert target.is_file()
    result = box.run(f"cat {target}; ls {PROJECT}")
    assert "selfplay-envs" not in result.stdout
    assert result.exit_code != 0


def test_cannot_read_the_hosts_etc(box: Sandbox) -> None:
    result = box.run("cat /etc/shadow; cat /etc/passwd; ls /etc")
    assert "root:$" not in result.stdout and "root:*" not in result.stdout
    host_users = [
        line.split(":")[0] for line in Path("/etc/passwd").read_text().splitlines()
    ]
    extra = [u for u in host_users if u not in ("root", "nobody", "sandbox")]
    seen = {line.split(":")[0] for line in result.stdout.splitlines() if ":" in line}
    assert not seen & set(extra), f"host accounts visible: {seen & set(extra)}"
    assert "shadow" not in result.stdout.split()


@pytest.mark.parametrize("where", ["home", "project", "etc", "usr", "outside"])
def test_cannot_write_outside_the_working_copy(
    box: Sandbox, tmp_path: Path, where: str
) -> None:
    name = f"canary_{uuid.uuid4().hex[:8]}"
    target = {
        "home": Path.home() / name,
        "project": PROJECT / name,
        "etc": Path("/etc") / name,
        "usr": Path("/usr/local") / name,
        "outside": tmp_path / name,  # the working copy's own parent directory
    }[where]
    try:
        result = box.run(f"echo pwned > {target}")
        assert result.exit_code != 0
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


def test_a_symlink_leads_nowhere_outside(
    box: Sandbox, home_canary: tuple[Path, str]
) -> None:
    path, secret = home_canary
    result = box.run(f"ln -s {path} leak && cat leak")
    assert secret not in result.stdout
    assert (box.workdir / "leak").is_symlink()  # it exists, pointing at nothing visible


# ---- network ------------------------------------------------------------------------


@pytest.fixture
def host_server() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on the host's loopback that records what it receives."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                received.append(conn.recv(100) or b"<connected>")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    stop.set()
    thread.join(timeout=2)
    server.close()


def test_cannot_reach_the_hosts_loopback(
    box: Sandbox, host_server: tuple[int, list[bytes]]
) -> None:
    port, received = host_server
    script = (
        f"import socket; s = socket.create_connection(('127.0.0.1', {port}), timeout=2); "
        "s.sendall(b'escaped'); print('CONNECTED')"
    )
    result = box.run(f'python3 -c "{script}"')
    assert "CONNECTED" not in result.stdout
    assert result.exit_code != 0
    assert received == []


def test_cannot_reach_the_internet(box: Sandbox) -> None:
    script = "import socket; socket.create_connection(('1.1.1.1', 53), timeout=2); print('CONNECTED')"
    result = box.run(f'python3 -c "{script}"')
    assert "CONNECTED" not in result.stdout
    assert "unreachable" in result.stderr.lower() or "refused" in result.stderr.lower()


def test_only_a_loopback_interface(box: Sandbox) -> None:
    result = box.run("cat /proc/net/dev")
    interfaces = {
        line.split(":")[0].strip() for line in result.stdout.splitlines() if ":" in line
    }
    assert interfaces == {"lo"}


# ---- resource exhaustion -----------------------------------------------------------------


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                continue
    return count


def _assert_healthy(box: Sandbox) -> None:
    """The sandbox still runs commands, and nothing of the last one is left running."""
    result = box.run("echo alive; ls /proc | grep -c '^[0-9]'")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("alive")
    # The listing itself, its shell and grep, the container's init: a handful.
    assert int(result.stdout.split()[1]) <= 8
    if box.uid is not None and box.backend == "bwrap":
        assert _processes_of(box.uid) == 0


def test_fork_bomb_is_contained(box: Sandbox) -> None:
    result = box.run("f(){ f|f& }; f; sleep 2", timeout=6)
    assert "fork" in result.stderr.lower()  # forks were refused at the process limit
    assert result.duration < 30
    _assert_healthy(box)


def test_memory_bomb_is_contained(box: Sandbox) -> None:
    bomb = "x = []\nwhile True:\n    x.append(bytearray(64 * 1024 * 1024))"
    result = box.run(f"python3 -c '{bomb}'")
    assert result.exit_code != 0
    assert "MemoryError" in result.stderr
    _assert_healthy(box)


def test_infinite_loop_times_out(box: Sandbox) -> None:
    result = box.run("python3 -c 'while True: pass'", timeout=2)
    assert result.timed_out
    assert "TIMED OUT" in result.describe()
    assert result.duration < 15
    _assert_healthy(box)


def test_huge_output_is_cut_and_killed(box: Sandbox) -> None:
    result = box.run("yes")
    assert result.output_killed and result.output_truncated
    assert len(result.stdout) <= LIMITS.max_output_bytes
    assert "too much output" in result.describe()
    assert result.duration < 30
    _assert_healthy(box)


def test_background_processes_do_not_outlive_a_command(box: Sandbox) -> None:
    box.run("(sleep 300 &) ; echo started")
    result = box.run("ls /proc | grep -c '^[0-9]'")
    assert int(result.stdout.strip()) <= 8


def test_docker_container_is_removed(tmp_path: Path) -> None:
    from selfplay_envs.games.bug_repair.sandbox import docker_available

    ok, reason = docker_available()
    if not ok:
        pytest.skip(f"docker sandbox unavailable here: {reason}")
    import docker

    box = _make("docker", tmp_path)
    assert box.run("echo hi").stdout == "hi\n"
    container_id = box.container_id
    client = docker.from_env()
    container = client.containers.get(container_id)
    assert container.attrs["HostConfig"]["NetworkMode"] == "none"
    assert container.attrs["HostConfig"]["PidsLimit"] == LIMITS.max_processes
    assert container.attrs["HostConfig"]["Memory"] == LIMITS.memory_mb << 20
    assert container.attrs["HostConfig"]["ReadonlyRootfs"] is True
    box.run("echo again")
    assert box.container_id == container_id  # one container, reused
    box.close()
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(container_id)


# ---- the unsafe fallback --------------------------------------------------------------


def test_unsafe_subprocess_warns_and_still_limits(tmp_path: Path) -> None:
    with pytest.warns(RuntimeWarning, match="WITHOUT a sandbox"):
        box = UnsafeSubprocessSandbox(tmp_path, LIMITS)
    try:
        assert box.isolated is False
        result = box.run("python3 -c 'while True: pass'", timeout=2)
        assert result.timed_out
        result = box.run("python3 -c 'x = bytearray(2 * 1024 ** 3)'")
        assert "MemoryError" in result.stderr
    finally:
        box.close()


def test_bwrap_runs_as_its_own_uid_when_root(need_bwrap: None, tmp_path: Path) -> None:
    box = BwrapSandbox(tmp_path, LIMITS)
    try:
        result = box.run("id -u")
        if os.geteuid() == 0:
            assert int(result.stdout) == box.uid != 0
        else:
            assert int(result.stdout) == os.getuid()
    finally:
        box.close()


# ---- the interpreter, wherever it lives -------------------------------------------

# Run by another interpreter (a venv's): make a sandbox, self-test it, run python in it.
_DRIVER = """
import json, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from selfplay_envs.games.bug_repair.sandbox import SandboxError, SandboxLimits, SandboxSpec
out = {"executable": sys.executable}
box = SandboxSpec(backend=sys.argv[2], limits=SandboxLimits(timeout=30))(
    Path(tempfile.mkdtemp())
)
try:
    found = box.self_test()
    out["self_test"] = [found.interpreter, found.pytest_version]
    result = box.run("python -c 'import sys, pytest; print(sys.executable)'")
    out["run"] = result.to_dict()
except SandboxError as err:
    out["error"] = str(err)
finally:
    box.close()
print(json.dumps(out))
"""

# Under /tmp on purpose (a CI runner's venv); the fixed name lets a docker image built
# for it be replaced by the next session's instead of piling up.
VENV_ROOT = Path("/tmp") / f"selfplay-test-venvs-{os.getuid()}"


@pytest.fixture(scope="module")
def venvs() -> Iterator[dict[str, Path]]:
    """Two venvs under /tmp (no pip, so made in a fraction of a second): "system" sees
    the host's site-packages, pytest included; "bare" sees none, so has no pytest."""
    shutil.rmtree(VENV_ROOT, ignore_errors=True)
    made = {}
    for name, flags in (("system", ["--system-site-packages"]), ("bare", [])):
        path = VENV_ROOT / name
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", *flags, str(path)],
            check=True,
            timeout=120,
        )
        made[name] = path / "bin" / "python"
    yield made
    shutil.rmtree(VENV_ROOT, ignore_errors=True)


def _drive(python: Path, backend: str, tmp_path: Path, **env: str) -> dict:
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER)
    spec = "docker" if backend == "docker" else "local"
    done = subprocess.run(
        [str(python), str(driver), str(PROJECT), spec],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "backend",
    ["bwrap", pytest.param("docker", marks=pytest.mark.slow)],
    indirect=True,
)
def test_interpreter_of_a_venv_under_tmp_runs_in_the_sandbox(
    backend: str, venvs: dict[str, Path], tmp_path: Path
) -> None:
    """The sandbox's private /tmp must not hide an interpreter that lives under /tmp
    (bwrap mounted it over the interpreter; docker's /tmp tmpfs did the same)."""
    python = venvs["system"]
    out = _drive(python, backend, tmp_path)
    assert out["executable"] == str(python)
    assert "error" not in out, out["error"]
    assert out["self_test"][0] == str(python)
    run = out["run"]
    assert run["exit_code"] == 0, run["stderr"]
    assert run["stdout"].strip() == str(python)  # `python` is the venv's, under /tmp


# ---- the self-test ------------------------------------------------------------------


@pytest.fixture
def fresh_self_tests(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Forget the self-tests this process passed, so the next one really runs."""
    passed: dict = {}
    monkeypatch.setattr(base, "_SELF_TESTS", passed)
    return passed


def test_self_test_passes_and_is_cached(box: Sandbox, fresh_self_tests: dict) -> None:
    import pytest as host_pytest

    (box.workdir / "tiny_pkg").mkdir()
    (box.workdir / "tiny_pkg" / "__init__.py").write_text("VALUE = 1\n")
    found = box.self_test(["tiny_pkg"])
    assert found.interpreter == sys.executable
    assert found.pytest_version == host_pytest.__version__
    assert found.python_version == sys.version.split()[0]
    assert found.imported == ("tiny_pkg",) and not found.cached
    again = box.self_test()
    assert again.cached and again.pytest_version == found.pytest_version
    assert len(fresh_self_tests) == 1


def test_self_test_runs_before_the_first_command_apart_from_it(
    box: Sandbox, fresh_self_tests: dict
) -> None:
    result = box.run("echo hi; echo err >&2")
    assert fresh_self_tests, "the first run() did not self-test the sandbox"
    assert (result.exit_code, result.stdout, result.stderr) == (0, "hi\n", "err\n")


def test_self_test_names_a_module_missing_from_the_working_copy(
    box: Sandbox, fresh_self_tests: dict
) -> None:
    with pytest.raises(SandboxError, match="'no_such_pkg' is not importable from the"):
        box.self_test(["no_such_pkg"])
    assert fresh_self_tests  # the interpreter part passed, and is kept
    assert box.run("echo still").stdout == "still\n"


def test_self_test_fails_clearly_when_the_interpreter_cannot_run(
    backend: str, tmp_path: Path, fresh_self_tests: dict
) -> None:
    box = _make(backend, tmp_path)
    box.interpreter = "/nonexistent/bin/python3"
    try:
        with pytest.raises(SandboxError) as caught:
            box.run("echo never")
        message = str(caught.value)
        assert f"{box.backend} cannot" in message
        assert "/nonexistent/bin/python3" in message and "fix:" in message
        assert not fresh_self_tests
    finally:
        box.close()


def test_bwrap_self_test_names_unmounted_interpreter_dirs(
    need_bwrap: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_self_tests: dict,
) -> None:
    """An interpreter whose directories the sandbox does not mount (what a /tmp venv
    was before) fails at the self-test, naming the cause and the fix."""
    if os.path.realpath(sys.executable).startswith("/usr/"):
        pytest.skip("the interpreter lives under /usr, which every sandbox mounts")
    monkeypatch.setattr(local, "python_roots", lambda: [])
    box = BwrapSandbox(tmp_path, LIMITS)
    try:
        with pytest.raises(
            SandboxError,
            match=r"bwrap cannot exec the interpreter .*No such file.*; fix: ",
        ):
            box.self_test()
    finally:
        box.close()


def test_self_test_says_pytest_is_missing_inside_the_sandbox(
    need_bwrap: None, venvs: dict[str, Path], tmp_path: Path
) -> None:
    """A venv without pytest: the host side imports pytest through PYTHONPATH (which
    the sandbox does not inherit), so only the self-test can tell."""
    python = venvs["bare"]
    host_paths = [str(PROJECT), sysconfig.get_paths()["purelib"]]
    out = _drive(python, "bwrap", tmp_path, PYTHONPATH=os.pathsep.join(host_paths))
    assert out["executable"] == str(python)
    assert "pytest is not importable inside the bwrap sandbox" in out["error"]
    assert f"fix: {python} -m pip install pytest" in out["error"]


def test_the_unsafe_fallback_that_cannot_start_is_a_sandbox_error(tmp_path) -> None:
    import warnings

    from selfplay_envs.games.bug_repair.sandbox import SandboxError as Error
    from selfplay_envs.games.bug_repair.sandbox import UnsafeSubprocessSandbox

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        box = UnsafeSubprocessSandbox(tmp_path)
    box.interpreter = "/nonexistent/python3"
    box._self_tested = True  # the command itself, past the self-test
    try:
        with pytest.raises(Error, match="/nonexistent/python3"):
            box.run("true")
    finally:
        box.close()
