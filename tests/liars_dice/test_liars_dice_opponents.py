"""The Liar's Dice CFR+ player, its cache, and exact exploitability against OpenSpiel.

Small games keep the solves short: 1 die of 3 sides has 192 information states.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyspiel
import pytest
from open_spiel.python.algorithms import exploitability as openspiel_exploitability

import selfplay_envs
from selfplay_agents.analysis import liars_dice
from selfplay_agents.opponents import leduc_poker as solver_cache
from selfplay_agents.opponents import make_opponent
from selfplay_agents.opponents.liars_dice import cfr_table, game_string
from selfplay_agents.policy import Turn

ITERATIONS = 30
SMALL = {"dice_per_player": 1, "sides": 3}


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SELFPLAY_ENVS_CACHE", str(tmp_path))
    solver_cache.solve_cfr_plus.cache_clear()
    yield tmp_path
    solver_cache.solve_cfr_plus.cache_clear()


def test_exploitability_matches_openspiel_on_the_solver_policy(cache: Path) -> None:
    game = pyspiel.load_game(game_string(1, 3))
    solver = pyspiel.CFRPlusSolver(game)
    for _ in range(ITERATIONS):
        solver.evaluate_and_update_policy()
    expected = openspiel_exploitability.exploitability(game, solver.average_policy())
    table = cfr_table(ITERATIONS, **SMALL)
    assert len(table) == 3 * 2**6
    assert list((cache / "cfr_plus").glob("*.json"))
    assert liars_dice.exploitability(table, **SMALL) == pytest.approx(expected)
    policy = make_opponent(
        "liars_dice_v0", "cfr", seed=0, iterations=ITERATIONS, **SMALL
    )
    assert liars_dice.exploitability(policy, **SMALL) == pytest.approx(expected)
    assert 0.0 < expected < 0.2


def test_too_large_a_game_is_refused_naming_the_bound() -> None:
    with pytest.raises(ValueError, match="dice_per_player=5, sides=6"):
        cfr_table(1, dice_per_player=5, sides=6)


@pytest.mark.parametrize("view", ["text", "numeric"])
def test_cfr_player_plays_whole_games(cache: Path, view: str) -> None:
    env = selfplay_envs.make("liars_dice_v0", view=view, infos="full", **SMALL)
    players = [
        make_opponent("liars_dice_v0", "cfr", seed=s, iterations=ITERATIONS, **SMALL)
        for s in (0, 1)
    ]
    for seed in range(20):
        env.reset(seed=seed)
        for agent in env.agent_iter():
            observation, _, termination, truncation, info = env.last()
            if termination or truncation:
                assert info["invalid_moves"] == 0
                env.step(None)
                continue
            turn = Turn(
                env_id="liars_dice_v0",
                agent=agent,
                observation=observation,
                info=info,
                view=view,
            )
            env.step(players[int(agent[-1])].act([turn])[0])
        assert np.isclose(sum(env.episode.state.returns()), 0.0)
