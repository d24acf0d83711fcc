"""Sandboxes that run untrusted commands in a working copy.

Two backends share the ``Sandbox`` interface (``run(command, timeout=...)`` ->
``CommandResult`` with exit code, stdout, stderr and a timed-out flag):

* ``"local"``: bubblewrap, the embedded default (``BwrapSandbox``). Where bwrap cannot
  run, ``unsafe_subprocess=True`` allows plain subprocesses with rlimits only
  (``UnsafeSubprocessSandbox``), with a loud warning.
* ``"docker"``: one container per episode from an image built offline on this machine
  (``DockerSandbox``).

``SandboxSpec`` is the picklable recipe an env keeps; calling it with a working copy
makes a sandbox. Every sandbox proves it works before its first command
(``Sandbox.self_test``), and bwrap caps the totals of a command where the host allows
it (``caps.py``; ``SandboxSpec.missing_caps`` lists what it cannot cap).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from selfplay_envs.games.bug_repair.sandbox.base import (
    SANDBOX_WORKDIR,
    CommandResult,
    Sandbox,
    SandboxError,
    SandboxLimits,
    SandboxUnavailable,
    SelfTest,
)
from selfplay_envs.games.bug_repair.sandbox.local import (
    BwrapSandbox,
    UnsafeSubprocessSandbox,
    bwrap_available,
    bwrap_caps,
)

__all__ = [
    "BACKENDS",
    "SANDBOX_WORKDIR",
    "BwrapSandbox",
    "CommandResult",
    "Sandbox",
    "SandboxError",
    "SandboxLimits",
    "SandboxSpec",
    "SandboxUnavailable",
    "SelfTest",
    "UnsafeSubprocessSandbox",
    "bwrap_available",
    "bwrap_caps",
    "docker_available",
]

BACKENDS = ("local", "docker")


def docker_available() -> tuple[bool, str]:
    """Whether a Docker engine answers (imports the docker SDK lazily)."""
    from selfplay_envs.games.bug_repair.sandbox.docker import docker_available as probe

    return probe()


@dataclasses.dataclass(frozen=True, kw_only=True)
class SandboxSpec:
    """Which backend to use and how; ``spec(workdir)`` returns a new sandbox.

    Attributes:
        backend: ``"local"`` (bubblewrap) or ``"docker"``.
        limits: Resource limits of every command.
        allow_network: Let commands use the network (off by default).
        unsafe_subprocess: With ``backend="local"`` and no usable bwrap, run plain
            subprocesses (no isolation) instead of failing.
        extra_env: Environment variables for every command.
        extra_distributions: Installed distributions to add to the docker image.
    """

    backend: str = "local"
    limits: SandboxLimits = SandboxLimits()
    allow_network: bool = False
    unsafe_subprocess: bool = False
    extra_env: tuple[tuple[str, str], ...] = ()
    extra_distributions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"expected sandbox in {BACKENDS}, got {self.backend!r}")

    def check(self) -> str:
        """Raise ``SandboxUnavailable`` unless the backend can run; returns the backend
        that will actually be used (``"bwrap"``, ``"unsafe-subprocess"`` or
        ``"docker"``)."""
        if self.backend == "docker":
            ok, reason = docker_available()
            if not ok:
                raise SandboxUnavailable(reason)
            return "docker"
        ok, reason = bwrap_available()
        if ok:
            return "bwrap"
        if self.unsafe_subprocess:
            return "unsafe-subprocess"
        raise SandboxUnavailable(reason)

    def missing_caps(self) -> tuple[str, ...]:
        """The totals the chosen backend cannot cap on this machine, with reasons.

        Empty for docker (its container's cgroup and tmpfs bound everything) and for
        the unsafe fallback (which warns on its own); for bwrap, see ``bwrap_caps``.
        """
        if self.check() != "bwrap":
            return ()
        return bwrap_caps()

    def __call__(self, workdir: Path) -> Sandbox:
        env = dict(self.extra_env)
        if self.backend == "docker":
            from selfplay_envs.games.bug_repair.sandbox.docker import DockerSandbox

            return DockerSandbox(
                workdir,
                self.limits,
                allow_network=self.allow_network,
                extra_env=env,
                extra_distributions=self.extra_distributions,
            )
        if bwrap_available()[0]:
            return BwrapSandbox(
                workdir, self.limits, allow_network=self.allow_network, extra_env=env
            )
        if self.unsafe_subprocess:
            return UnsafeSubprocessSandbox(workdir, self.limits, extra_env=env)
        raise SandboxUnavailable(bwrap_available()[1])
