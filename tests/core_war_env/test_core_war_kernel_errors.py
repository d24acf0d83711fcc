"""A MARS kernel that numba cannot compile or start is an InfrastructureError, not a result.

The broken kernels are real numba dispatchers whose compilation fails (a typing error),
swapped in for the shipped ones; the threading-layer failure is numba's own, in a
subprocess that asks for a layer this machine lacks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numba
import pytest

import selfplay_envs
from selfplay_envs.core.errors import InfrastructureError
from selfplay_envs.games.core_war import mars
from selfplay_envs.games.core_war import mars_kernel as kernel
from selfplay_envs.games.core_war.assembler import assemble

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = mars.MarsSettings(
    core_size=800, max_cycles=2000, max_processes=64, max_length=20, min_distance=20
)


@pytest.fixture(autouse=True)
def mars_engine():
    """These tests break the numba kernel: they run on the numba engine only."""
    with mars.use_engine("numba"):
        yield "numba"


@numba.njit
def _does_not_compile(*args):
    return args[0] + "not a number"  # an array plus a string: a typing error


def _imp() -> mars.Warrior:
    return assemble("mov 0, 1")


CALLS = {
    "battle_kernel": lambda: mars.battle([_imp(), _imp()], 2, SETTINGS, seed=3),
    "battle_many_kernel": lambda: mars.battle_many(
        [mars.BattleJob(warriors=[_imp(), _imp()], rounds=2, settings=SETTINGS, seed=3)]
    ),
    "run_steps": lambda: _step_once(),
}


def _step_once() -> None:
    sim = mars.Mars(SETTINGS)
    sim.load([_imp(), _imp()], positions=[0, 100])
    sim.step(1)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_kernel_that_does_not_compile_raises_kernel_compile_error(
    monkeypatch, name: str
) -> None:
    monkeypatch.setattr(kernel, name, _does_not_compile)
    with pytest.raises(mars.KernelCompileError) as caught:
        CALLS[name]()
    error = caught.value
    assert isinstance(error, InfrastructureError)
    message = str(error)
    assert "MARS kernel failed to compile" in message
    assert f"numba {numba.__version__}" in message and "TypingError" in message
    assert "pip install -U numba llvmlite" in message  # the fix
    assert isinstance(error.__cause__, numba.core.errors.TypingError)


def test_other_kernel_errors_are_not_relabelled(monkeypatch) -> None:
    def fails(*args):
        raise ValueError("a bug, not the installation")

    monkeypatch.setattr(kernel, "battle_kernel", fails)
    with pytest.raises(ValueError, match="a bug, not the installation"):
        CALLS["battle_kernel"]()


def test_env_step_raises_and_scores_nothing_when_the_kernel_does_not_compile(
    monkeypatch,
) -> None:
    monkeypatch.setattr(kernel, "battle_kernel", _does_not_compile)
    env = selfplay_envs.make("core_war_v0", rounds=2)
    env.reset(seed=0)
    env.step("mov 0, 1")  # the first warrior waits for the second: no battle yet
    with pytest.raises(mars.KernelCompileError, match="failed to compile"):
        env.step("mov 0, 1")
    assert not env.episode.terminal
    assert env.episode.returns() == [0.0, 0.0]
    assert all(r.valid for r in env.episode.records)  # no warrior was judged invalid


def test_a_missing_threading_layer_raises_kernel_compile_error() -> None:
    code = (
        "from selfplay_envs.games.core_war import mars\n"
        "from selfplay_envs.games.core_war.assembler import assemble\n"
        "imp = assemble('mov 0, 1')\n"
        "job = mars.BattleJob(warriors=[imp, imp], rounds=1, seed=3)\n"
        "try:\n"
        "    mars.battle_many([job])\n"
        "except mars.KernelCompileError as e:\n"
        "    print('ERROR', e)\n"
        "else:\n"
        "    print('RAN')\n"
    )
    env = {
        **os.environ,
        "NUMBA_THREADING_LAYER": "tbb",
        mars.ENGINE_VARIABLE: "numba",
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    if done.stdout.startswith("RAN"):
        pytest.skip("TBB is installed here: numba's tbb threading layer loads")
    assert done.stdout.startswith("ERROR numba has no threading layer"), done.stdout
    assert "No threading layer could be loaded" in done.stdout
    assert "NUMBA_THREADING_LAYER" in done.stdout and "pip install tbb" in done.stdout
