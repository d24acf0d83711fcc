"""The doc page is the env module's docstring plus examples: keep them in sync."""

from __future__ import annotations

from pathlib import Path

import selfplay_envs.games.tic_tac_toe.env as tic_tac_toe_env

PAGE = Path(__file__).resolve().parents[2] / "docs" / "games" / "tic_tac_toe.md"


def test_doc_page_starts_with_the_env_docstring() -> None:
    assert PAGE.read_text().startswith(tic_tac_toe_env.__doc__.rstrip("\n") + "\n")
