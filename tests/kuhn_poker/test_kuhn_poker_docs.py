"""The doc page is the env module's docstring plus examples: keep them in sync."""

from __future__ import annotations

from pathlib import Path

import selfplay_envs.games.kuhn_poker.env as kuhn_env

PAGE = Path(__file__).resolve().parents[2] / "docs" / "games" / "kuhn_poker.md"


def test_doc_page_starts_with_the_env_docstring() -> None:
    assert PAGE.read_text().startswith(kuhn_env.__doc__.rstrip("\n") + "\n")
