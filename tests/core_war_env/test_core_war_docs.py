"""The doc page is the env module's docstring plus examples: keep them in sync."""

from __future__ import annotations

from pathlib import Path

import selfplay_envs.games.core_war.env as core_war_env

PAGE = Path(__file__).resolve().parents[2] / "docs" / "games" / "core_war.md"


def test_doc_page_starts_with_the_env_docstring() -> None:
    assert PAGE.read_text().startswith(core_war_env.__doc__.rstrip("\n") + "\n")


def test_doc_page_lists_every_shipped_warrior() -> None:
    from selfplay_envs.games.core_war.rules import shipped_warrior_paths

    text = PAGE.read_text()
    for path in shipped_warrior_paths():
        assert f"`{path.name}`" in text
