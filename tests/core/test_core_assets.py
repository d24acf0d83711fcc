"""The shipped assets reach every kind of install: a checkout, and a built wheel."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from selfplay_envs.core.assets import ASSETS_ENV, asset_path, assets_dir

ROOT = Path(__file__).resolve().parents[2]


def _tracked_assets() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the tracked assets")
    out = subprocess.run(
        ["git", "ls-files", "envs_assets"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(out.stdout.split())


def test_pyproject_ships_every_tracked_asset_in_its_folder() -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data_files = config["tool"]["setuptools"]["data-files"]
    shipped = []
    for target, files in data_files.items():
        for name in files:
            # each file lands in the share folder that mirrors its own folder
            assert target == f"share/selfplay-envs/{name.rsplit('/', 1)[0]}", name
            shipped.append(name)
    assert sorted(shipped) == _tracked_assets()


def test_checkout_assets_are_found_and_a_missing_one_says_how_to_fix_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(ASSETS_ENV, raising=False)
    assert assets_dir() == ROOT / "envs_assets"
    monkeypatch.setenv(ASSETS_ENV, str(tmp_path))
    assert assets_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match=ASSETS_ENV):
        asset_path("core_war", "warriors")


@pytest.mark.slow
def test_a_wheel_install_finds_its_assets(tmp_path: Path) -> None:
    """Build the wheel, install it into a fresh venv and load a warrior from there."""
    _tracked_assets()  # skips outside a checkout
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("building the wheel without isolation needs setuptools installed")
    # Build from a copy of the work tree: setuptools writes build/ and egg-info there.
    source = tmp_path / "source"
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for name in listed.stdout.split("\n"):
        if name and (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["-q", "-w", str(wheels), str(source)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    env = tmp_path / "venv"
    # The venv sees this interpreter's packages (numpy, gymnasium, ...) but gets its
    # own copy of selfplay_envs from the wheel, away from the checkout.
    venv.create(env, system_site_packages=True, with_pip=False)
    python = env / "bin" / "python"
    wheel = next(wheels.glob("*.whl"))
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    script = (
        "import selfplay_envs.core.assets as a\n"
        "from selfplay_envs.games.core_war.rules import shipped_warrior_paths\n"
        "print(a.__file__)\n"
        "print(a.assets_dir())\n"
        "print(len(shipped_warrior_paths()))\n"
    )
    run = subprocess.run(
        [str(python), "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    module, found, warriors = run.stdout.split()
    assert Path(module).is_relative_to(env)  # the wheel's copy, not the checkout
    assert Path(found) == env / "share" / "selfplay-envs" / "envs_assets"
    assert int(warriors) > 0
