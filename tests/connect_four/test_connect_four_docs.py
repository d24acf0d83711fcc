"""The doc page is the env module's docstring plus examples: keep them in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

import selfplay_envs.games.connect_four.env as connect_four_env
from selfplay_agents.arena.runner import make_jobs, play_game

PAGE = Path(__file__).resolve().parents[2] / "docs" / "games" / "connect_four.md"


def test_doc_page_starts_with_the_env_docstring() -> None:
    assert PAGE.read_text().startswith(connect_four_env.__doc__.rstrip("\n") + "\n")


@pytest.mark.slow
def test_random_loses_almost_every_game_to_mcts100_in_the_arena() -> None:
    # The page's loss rate, on the first 10 of its 50 seeds (both seat orders).
    jobs = make_jobs("connect_four_v0", ["random", "mcts100"], 10)
    scores = [play_game(job)["score_a"] for job in jobs]  # random is agent a
    assert len(scores) == 20
    assert sum(score == 0.0 for score in scores) >= 18
