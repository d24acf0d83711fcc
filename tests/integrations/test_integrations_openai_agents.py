"""This project and the openai-agents SDK in one environment, installed in either order.

openai-agents ships a top-level ``agents`` package. Our ``agents/`` folder installs as
``selfplay_agents`` (setup.py), so neither distribution owns a file of the other and
uninstalling one leaves the other whole.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A bare ``agents`` import in our code or docs would load openai-agents' package, or
# the checkout's folder under a second name: either way not the module we meant.
BARE_IMPORT = re.compile(r"^\s*(from agents(\.\w+)* import|import agents\b)", re.M)


def test_nothing_in_the_repository_imports_the_bare_agents_name() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    offenders = [
        path
        for path in tracked
        if (ROOT / path).is_file()
        and (ROOT / path) != Path(__file__)  # this file imports the SDK on purpose
        and BARE_IMPORT.search((ROOT / path).read_text())
    ]
    assert offenders == []


def test_the_import_name_maps_to_the_agents_folder() -> None:
    import selfplay_agents

    assert Path(selfplay_agents.__file__).parent == ROOT / "agents"


# ---- a scratch venv with both ----------------------------------------------------------

PIP_ENV = {
    **os.environ,
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
    # The checkout must not be on the path: the venv's own copies are under test.
    "PYTHONPATH": "",
}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Our wheel, built from the checkout, and openai-agents' from the registry."""
    folder = tmp_path_factory.mktemp("wheels")
    fetched = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "openai-agents"]
        + ["--dest", str(folder), "--quiet"],
        capture_output=True,
        text=True,
        env=PIP_ENV,
    )
    if fetched.returncode != 0:
        pytest.skip(
            "needs the package registry to fetch openai-agents: "
            + fetched.stderr[-300:]
        )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(folder), "--quiet", str(ROOT)],
        check=True,
        env=PIP_ENV,
    )
    found = {
        "openai-agents": sorted(folder.glob("openai_agents-*.whl")),
        "selfplay-envs": sorted(folder.glob("selfplay_envs-*.whl")),
    }
    return {name: paths[-1] for name, paths in found.items()}


def _venv(folder: Path) -> Path:
    """A venv over this interpreter's packages; its own site-packages come first."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "venv",
            "--system-site-packages",
            "--without-pip",
            folder,
        ],
        check=True,
    )
    return folder / ("Scripts" if os.name == "nt" else "bin") / "python"


def _run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *args], cwd=cwd, env=PIP_ENV, capture_output=True, text=True
    )


def _install(python: Path, wheel: Path, cwd: Path) -> None:
    # --force-reinstall: this interpreter already has selfplay-envs (editable); pip
    # leaves that one alone and puts a real copy in the venv. openai-agents gets its
    # dependencies from the registry where this interpreter lacks them.
    extra = ["--no-deps", "--force-reinstall"] if "selfplay" in wheel.name else []
    done = _run(python, "-m", "pip", "install", "--quiet", *extra, str(wheel), cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr


CHECK_BOTH = """
import json, sys
import agents, selfplay_agents
from agents import Agent, Runner              # the SDK's own entry points
from selfplay_agents import LLMPolicy         # ours
from selfplay_agents.opponents import make_opponent
import selfplay_envs
env = selfplay_envs.make("tic_tac_toe_v0")
env.reset(seed=0)
policy = make_opponent("tic_tac_toe_v0", "random", seed=0)
print(json.dumps({"agents": agents.__file__, "selfplay_agents": selfplay_agents.__file__,
                  "prefix": sys.prefix}))
"""


def _owned_files(python: Path, cwd: Path) -> dict[str, set[str]]:
    listing = _run(
        python,
        "-c",
        "import json, importlib.metadata as m\n"
        "print(json.dumps({d: sorted(str(f) for f in m.files(d) or [])"
        " for d in ('openai-agents', 'selfplay-envs')}))",
        cwd=cwd,
    )
    assert listing.returncode == 0, listing.stderr
    return {name: set(files) for name, files in json.loads(listing.stdout).items()}


@pytest.mark.slow
@pytest.mark.parametrize("first", ["openai-agents", "selfplay-envs"])
def test_both_install_in_either_order_and_each_survives_the_others_removal(
    tmp_path: Path, wheels: dict[str, Path], first: str
) -> None:
    python = _venv(tmp_path / "venv")
    second = "selfplay-envs" if first == "openai-agents" else "openai-agents"
    _install(python, wheels[first], tmp_path)
    _install(python, wheels[second], tmp_path)

    both = _run(python, "-c", CHECK_BOTH, cwd=tmp_path)
    assert both.returncode == 0, both.stderr
    where = json.loads(both.stdout.strip().splitlines()[-1])
    venv_prefix = where["prefix"]
    # Each import resolves to the venv's installed copy, not the checkout.
    assert where["agents"].startswith(venv_prefix), where
    assert where["selfplay_agents"].startswith(venv_prefix), where

    owned = _owned_files(python, tmp_path)
    assert owned["openai-agents"] and owned["selfplay-envs"]
    assert owned["openai-agents"].isdisjoint(owned["selfplay-envs"])
    assert not any(f.startswith("agents/") for f in owned["selfplay-envs"])

    # Removing the one installed second leaves the first whole.
    removed = _run(python, "-m", "pip", "uninstall", "--yes", second, cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    module = "selfplay_agents.cli" if first == "selfplay-envs" else "agents.run"
    left = _run(python, "-c", f"import {module} as m; print(m.__file__)", cwd=tmp_path)
    assert left.returncode == 0, left.stderr
    assert left.stdout.strip().startswith(venv_prefix), left.stdout
    if first == "selfplay-envs":
        listing = _run(python, "-m", "selfplay_agents.cli", "list", cwd=tmp_path)
        assert listing.returncode == 0, listing.stderr
        assert "tic_tac_toe_v0" in listing.stdout
