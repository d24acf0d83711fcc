"""The Leduc CFR+ player, its disk cache, and exact exploitability against OpenSpiel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyspiel
import pytest
from open_spiel.python.algorithms import exploitability as openspiel_exploitability

import selfplay_envs
from selfplay_agents.analysis import leduc
from selfplay_agents.opponents import leduc_poker as opponents
from selfplay_agents.opponents import make_opponent
from selfplay_agents.policy import Turn

ITERATIONS = 20  # a short solve: the default 1000 takes seconds


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SELFPLAY_ENVS_CACHE", str(tmp_path))
    opponents.solve_cfr_plus.cache_clear()
    yield tmp_path
    opponents.solve_cfr_plus.cache_clear()


def test_solve_is_cached_on_disk_and_read_back(cache: Path) -> None:
    table = opponents.solve_cfr_plus("leduc_poker", ITERATIONS)
    files = list((cache / "cfr_plus").glob("*.json"))
    assert [f.name for f in files] == [f"leduc_poker_{ITERATIONS}.json"]
    assert len(table) == 936
    opponents.solve_cfr_plus.cache_clear()
    assert opponents.solve_cfr_plus("leduc_poker", ITERATIONS) == table


def test_exploitability_matches_openspiel_on_the_solver_policy(cache: Path) -> None:
    game = pyspiel.load_game("leduc_poker")
    solver = pyspiel.CFRPlusSolver(game)
    for _ in range(ITERATIONS):
        solver.evaluate_and_update_policy()
    expected = openspiel_exploitability.exploitability(game, solver.average_policy())
    policy = make_opponent("leduc_poker_v0", "cfr", seed=0, iterations=ITERATIONS)
    for view in ("text", "numeric"):
        assert leduc.exploitability(policy, view=view) == pytest.approx(expected)
    assert 0.0 < expected < 0.5


def test_uniform_random_exploitability() -> None:
    states = leduc.representative_states()

    def uniform(key: str) -> dict[int, float]:
        state = states[key]
        legal = state.legal_actions(state.current_players()[0])
        return {a: 1.0 / len(legal) for a in legal}

    assert leduc.exploitability(uniform) == pytest.approx(2.373611111111111)


@pytest.mark.parametrize("view", ["text", "numeric"])
def test_cfr_player_plays_whole_matches(cache: Path, view: str) -> None:
    env = selfplay_envs.make("leduc_poker_v0", view=view, num_hands=5, infos="full")
    players = [
        make_opponent("leduc_poker_v0", "cfr", seed=s, iterations=ITERATIONS)
        for s in (0, 1)
    ]
    for seed in range(10):
        env.reset(seed=seed)
        for agent in env.agent_iter():
            observation, _, termination, truncation, info = env.last()
            if termination or truncation:
                assert info["invalid_moves"] == 0
                env.step(None)
                continue
            turn = Turn(
                env_id="leduc_poker_v0",
                agent=agent,
                observation=observation,
                info=info,
                view=view,
            )
            env.step(players[int(agent[-1])].act([turn])[0])
        assert np.isclose(sum(env.episode.state.returns()), 0.0)
