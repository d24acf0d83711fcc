"""A game is one folder or one outside package.

Its scripted opponents come from its own declaration (``Game.opponents``, import-path
strings), never from a table in ``agents``; bench plays every registered game (a game
with fewer than two opponents of its own against the built-in baselines, and the
report says which); and a package installed with a ``selfplay_envs.games`` entry
point reaches ``selfplay list``, ``bench`` and the conformance suite
(``examples/plugin_higher_number``, installed into a scratch venv).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import selfplay_envs
from selfplay_agents import opponents as opponents_module
from selfplay_agents.arena.specs import supports
from selfplay_agents.cli import main
from selfplay_agents.opponents import (
    BASELINES,
    OPPONENTS,
    baselines,
    list_opponents,
    make_opponent,
)
from selfplay_agents.policy import FirstLegalPolicy, RandomPolicy, Turn
from selfplay_envs.core import registry
from selfplay_envs.core.game import Game, GameInfo
from selfplay_envs.games import BUILTIN_GAMES

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "examples" / "plugin_higher_number"
GAMES = ROOT / "selfplay_envs" / "games"
ENV_ID = "higher_number_v0"

# Registering the id again per test re-registers it with PettingZoo, which warns.
pytestmark = pytest.mark.filterwarnings("ignore:Overriding environment:UserWarning")


@pytest.fixture
def higher_number(monkeypatch) -> str:
    """The example plugin's game, registered in this process for one test."""
    monkeypatch.syspath_prepend(str(PLUGIN))
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(opponents_module, "_TABLES", {})
    selfplay_envs.register(ENV_ID, "higher_number.game:HigherNumberGame")
    return ENV_ID


# ---- a game declares its opponents in its own folder -----------------------------------


def test_opponents_come_from_the_games_own_declaration(higher_number: str) -> None:
    assert list_opponents(higher_number) == ["highest"]
    assert dict(OPPONENTS[higher_number]) == {
        "highest": "higher_number.opponents:Highest"
    }
    assert higher_number in OPPONENTS
    assert make_opponent(higher_number, "highest", seed=0).name == "highest"


def test_every_existing_opponent_name_is_kept() -> None:
    assert {env_id: list_opponents(env_id) for env_id in BUILTIN_GAMES} == {
        "bug_repair_v0": [
            "mutation_injector",
            "patch_search_solver",
            "random",
            "removal_injector",
            "scripted",
        ],
        "connect_four_v0": ["mcts100", "mcts1000", "random"],
        "leduc_poker_v0": ["cfr", "random"],
        "liars_dice_v0": ["cfr", "random"],
        "core_war_v0": ["dwarf", "imp", "pool", "random"],
        "kuhn_poker_v0": ["cfr", "nash", "random"],
        "negotiation_v0": ["greedy", "random", "stubborn"],
        "search_qa_v0": ["random", "scripted"],
        "tic_tac_toe_v0": ["minimax", "random"],
        "who_is_the_spy_v0": ["random", "scripted"],
    }


def test_agents_holds_no_table_of_the_games_that_declare_theirs() -> None:
    """Each game folder that declares its opponents is their only source."""
    source = (ROOT / "agents" / "opponents" / "__init__.py").read_text()
    for env_id in BUILTIN_GAMES:
        game_class = selfplay_envs.spec(env_id).load()
        if "opponents" in vars(game_class):
            assert f'"{env_id}"' not in source, env_id
            folder = GAMES / env_id.rsplit("_v", 1)[0]
            assert Path(sys.modules[game_class.__module__].__file__).parent == folder


def test_a_game_declaring_no_opponents_has_none_and_unknown_ids_have_none() -> None:
    assert Game.opponents == {}
    assert list_opponents("no_such_game_v0") == []
    with pytest.raises(KeyError, match="no_such_game_v0"):
        make_opponent("no_such_game_v0", "random", seed=0)


def test_a_malformed_declaration_is_refused_naming_the_game(
    higher_number: str, monkeypatch
) -> None:
    game_class = selfplay_envs.spec(higher_number).load()
    monkeypatch.setattr(game_class, "opponents", {"highest": "no colon"})
    with pytest.raises(TypeError, match="HigherNumberGame.opponents of higher_number"):
        list_opponents(higher_number)


# ---- built-in baselines ---------------------------------------------------------------


def test_baselines_play_any_game_with_a_finite_action_set(higher_number: str) -> None:
    assert baselines(higher_number) == list(BASELINES) == ["random", "first_legal"]
    assert baselines("core_war_v0") == []  # free-form warriors: no baseline fits
    assert supports("first_legal", "tic_tac_toe_v0")
    assert not supports("first_legal", "core_war_v0")
    assert isinstance(
        make_opponent(higher_number, "first_legal", seed=0), FirstLegalPolicy
    )
    assert isinstance(make_opponent(higher_number, "random", seed=0), RandomPolicy)
    env = selfplay_envs.make("tic_tac_toe_v0", view="numeric", infos="full")
    env.reset(seed=0)
    _, _, _, _, info = env.last()
    turn = Turn(env_id="tic_tac_toe_v0", agent="player_0", observation={}, info=info)
    text = FirstLegalPolicy().act([turn])[0]
    assert text == f"\\boxed{{{info['legal_actions'][0]}}}"
    numeric = Turn(
        env_id="tic_tac_toe_v0",
        agent="player_0",
        observation={},
        info=info,
        view="numeric",
    )
    assert FirstLegalPolicy().act([numeric]) == [0]


def test_bench_plays_a_game_with_one_opponent_against_the_baselines(
    higher_number: str, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    argv = ["bench", "--env", higher_number, "--games", "2", "--workers", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    game = summary["games"][higher_number]
    assert sorted(game["agents"]) == ["first_legal", "highest", "random"]
    assert all(p["games"] == 4 for p in game["pairings"])
    assert summary["skipped"] == {}
    note = summary["baselines"][higher_number]
    assert "random, first_legal" in note and "(highest)" in note
    report = (out / "report.md").read_text()
    assert "## Games played against built-in baselines" in report
    assert f"- {higher_number}: played with the built-in baselines" in report
    assert f"{higher_number}: played with the built-in baselines" in (
        capsys.readouterr().out
    )


def test_bench_plays_a_game_with_no_opponents_of_its_own(
    higher_number: str, tmp_path: Path, monkeypatch
) -> None:
    game_class = selfplay_envs.spec(higher_number).load()
    monkeypatch.setattr(game_class, "opponents", {})
    out = tmp_path / "run"
    argv = ["bench", "--env", higher_number, "--games", "1", "--workers", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["games"][higher_number]["agents"]) == [
        "first_legal",
        "random",
    ]
    assert "(none)" in summary["baselines"][higher_number]


def test_bench_still_skips_with_a_reason_what_no_baseline_can_play(
    higher_number: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    game_class = selfplay_envs.spec(higher_number).load()
    monkeypatch.setattr(game_class, "opponents", {})
    init = game_class.__init__

    def free_form(self) -> None:
        init(self)
        self.info = GameInfo(name=ENV_ID, num_players=2, max_game_length=2)

    monkeypatch.setattr(game_class, "__init__", free_form)
    out = tmp_path / "run"
    argv = ["bench", "--env", higher_number, "--games", "1", "--workers", "1"]
    assert main([*argv, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "nothing to play, every game was skipped" in err
    assert "no finite action set for the built-in baselines" in err


def test_bench_of_the_builtin_games_keeps_their_pools(tmp_path: Path) -> None:
    out = tmp_path / "run"
    argv = ["bench", "--env", "tic_tac_toe_v0", "--games", "1", "--workers", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["games"]["tic_tac_toe_v0"]["agents"]) == [
        "minimax",
        "random",
    ]
    assert summary["baselines"] == {}


# ---- a third-party game is one outside package ----------------------------------------


def _scratch_venv(tmp_path: Path) -> Path:
    """A venv that sees this interpreter's packages (selfplay_envs among them)."""
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv],
        check=True,
    )
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    if sys.prefix != sys.base_prefix:  # this interpreter is a venv itself: chain it
        purelib = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        Path(purelib, "_parent_env.pth").write_text(
            sysconfig.get_paths()["purelib"] + "\n"
        )
    return python


@pytest.mark.slow
def test_an_installed_package_registers_its_game_through_the_entry_point(
    tmp_path: Path,
) -> None:
    package = tmp_path / "plugin_higher_number"
    shutil.copytree(PLUGIN, package, ignore=shutil.ignore_patterns("__pycache__"))
    python = _scratch_venv(tmp_path)
    env = {
        **os.environ,
        # The checkout, wherever this interpreter finds selfplay_envs and agents.
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
    }
    install = [python, "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*install, "--no-index", "--quiet", str(package)],
        check=True,
        env=env,
        cwd=tmp_path,
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, *args], env=env, cwd=tmp_path, capture_output=True, text=True
        )

    listing = run("-m", "selfplay_agents.cli", "list")
    assert listing.returncode == 0, listing.stderr
    assert f"  {ENV_ID}: text, numeric; highest\n" in listing.stdout

    out = tmp_path / "run"
    bench = run(
        "-m", "selfplay_agents.cli", "bench", "--env", ENV_ID, "--games", "2",
        "--workers", "1", "--out", str(out),
    )  # fmt: skip
    assert bench.returncode == 0, bench.stdout + bench.stderr
    report = (out / "report.md").read_text()
    assert f"## {ENV_ID}" in report
    assert "built-in baselines random, first_legal" in report
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(summary["games"][ENV_ID]["agents"]) == [
        "first_legal",
        "highest",
        "random",
    ]

    play = subprocess.run(
        [python, "-m", "selfplay_agents.cli", "play", ENV_ID, "--opponent", "highest"],
        env=env,
        cwd=tmp_path,
        input="\\boxed{2}\n",
        capture_output=True,
        text=True,
    )
    assert play.returncode == 0, play.stderr
    assert "player_1 (highest) plays: 2" in play.stdout
    assert "result: [0.0, 0.0]" in play.stdout

    conformance = run("-m", "selfplay_envs.test", ENV_ID)
    assert conformance.returncode == 0, conformance.stdout + conformance.stderr
    assert f"ok {ENV_ID} text" in conformance.stdout
    assert f"ok {ENV_ID} numeric" in conformance.stdout
