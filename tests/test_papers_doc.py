"""docs/papers.md holds each preset to its paper: every test a table row names exists,
and every preset of every game has a section."""

from __future__ import annotations

import re
from pathlib import Path

import selfplay_envs

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "papers.md"


def _defined_tests() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names |= set(re.findall(r"^\s*def (test_\w+)", path.read_text(), re.MULTILINE))
    return names


def test_every_test_the_tables_name_exists() -> None:
    named = set(re.findall(r"`(test_\w+)`", PAGE.read_text()))
    assert len(named) > 40
    missing = sorted(named - _defined_tests())
    assert not missing, f"docs/papers.md names tests that do not exist: {missing}"


def test_every_paper_preset_is_on_the_page() -> None:
    text = PAGE.read_text()
    presets = {
        "tic_tac_toe_v0": ("spiral", "mars"),
        "kuhn_poker_v0": ("spiral", "mars"),
        "who_is_the_spy_v0": ("vision_zero",),
        "core_war_v0": ("drq",),
        "bug_repair_v0": ("ssr",),
        "search_qa_v0": ("ssp",),
    }
    for env_id, names in presets.items():
        params = type(selfplay_envs.make_game(env_id)).parameters
        choices = params.params["preset"].kind.choices
        for name in names:
            assert name in choices, (env_id, name)
            assert f'preset="{name}"' in text, (env_id, name)
