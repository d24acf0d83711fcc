"""``import selfplay_envs`` and ``list_envs()`` load neither PettingZoo nor any game.

Each check runs in a fresh interpreter: this test process has imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("pettingzoo", "gymnasium", "numba", "numpy")


def _run(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_import_and_list_envs_load_no_pettingzoo_gymnasium_or_game() -> None:
    result = _run(
        """
        import json, sys
        import selfplay_envs
        ids = selfplay_envs.list_envs()
        heavy = [m for m in sys.modules if m.split(".")[0] in HEAVY]
        games = [m for m in sys.modules if m.startswith("selfplay_envs.games.")]
        print(json.dumps({"ids": ids, "heavy": heavy, "games": games}))
        """.replace("HEAVY", repr(HEAVY))
    )
    assert "tic_tac_toe_v0" in result["ids"]
    assert result["heavy"] == []
    assert result["games"] == []


def test_make_works_after_list_envs_and_envs_are_pettingzoo_envs() -> None:
    result = _run(
        """
        import json
        import selfplay_envs
        selfplay_envs.list_envs()
        env = selfplay_envs.make("tic_tac_toe_v0")
        env.reset(seed=0)
        par = selfplay_envs.make_parallel("tic_tac_toe_v0")
        from pettingzoo import AECEnv, ParallelEnv
        print(json.dumps({
            "agent": env.agent_selection,
            "aec": isinstance(env, AECEnv),
            "parallel": isinstance(par, ParallelEnv),
        }))
        """
    )
    assert result == {"agent": "player_0", "aec": True, "parallel": True}


@pytest.mark.parametrize("package", ["selfplay_envs", "selfplay_envs.core"])
def test_every_public_name_resolves(package: str) -> None:
    result = _run(
        f"""
        import importlib, json
        module = importlib.import_module({package!r})
        missing = [n for n in module.__all__ if getattr(module, n, None) is None]
        print(json.dumps({{"missing": missing, "count": len(module.__all__)}}))
        """
    )
    assert result["missing"] == []
    assert result["count"] > 0


def test_unknown_attribute_still_raises_attribute_error() -> None:
    import selfplay_envs
    import selfplay_envs.core

    with pytest.raises(AttributeError):
        selfplay_envs.no_such_name  # noqa: B018
    with pytest.raises(AttributeError):
        selfplay_envs.core.no_such_name  # noqa: B018


@pytest.mark.parametrize("pettingzoo_first", [False, True])
def test_ids_reach_pettingzoo_registry_whichever_is_imported_first(
    pettingzoo_first: bool,
) -> None:
    first = "import pettingzoo.env_registry" if pettingzoo_first else "pass"
    result = _run(
        f"""
        import json
        {first}
        import selfplay_envs
        selfplay_envs.register(
            "late_tic_tac_toe_v0",
            "selfplay_envs.games.tic_tac_toe.env:TicTacToeGame",
        )
        from pettingzoo.env_registry import registration
        env = registration.make("aec", "selfplay/tic_tac_toe_v0")
        env.reset(seed=0)
        late = registration.make("parallel", "selfplay/late_tic_tac_toe_v0")
        late.reset(seed=0)
        print(json.dumps({{"agent": env.agent_selection, "late": late.agents}}))
        """
    )
    assert result == {"agent": "player_0", "late": ["player_0", "player_1"]}
