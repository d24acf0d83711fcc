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


#: Every paper preset of every game; the other presets are not papers' (negotiation's
#: "textarena", core_war's hills).
PAPER_PRESETS = {
    "tic_tac_toe_v0": ("spiral", "mars"),
    "kuhn_poker_v0": ("spiral", "mars"),
    "leduc_poker_v0": ("spiral", "mars"),
    "liars_dice_v0": ("spiral", "mars"),
    "negotiation_v0": ("spiral",),
    "who_is_the_spy_v0": ("vision_zero",),
    "core_war_v0": ("drq",),
    "bug_repair_v0": ("ssr",),
    "search_qa_v0": ("ssp",),
}
PAPERS = {
    "spiral": "SPIRAL",
    "mars": "MARS",
    "vision_zero": "Vision-Zero",
    "drq": "Digital Red Queen",
    "ssr": "Self-play SWE-RL",
    "ssp": "Search Self-play",
}


def _overview() -> dict[str, set[str]]:
    """The page's first table: each paper's preset and the games that take it."""
    games: dict[str, set[str]] = {}
    for line in PAGE.read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        preset = re.search(r'preset="(\w+)"', cells[2]) if len(cells) == 4 else None
        if preset:
            names = set(re.findall(r"`(\w+_v\d+)`", cells[1]))
            games.setdefault(preset.group(1), set()).update(names)
    return games


def test_every_paper_preset_is_on_the_page() -> None:
    overview = _overview()
    text = PAGE.read_text()
    for env_id, names in PAPER_PRESETS.items():
        params = type(selfplay_envs.make_game(env_id)).parameters
        choices = params.params["preset"].kind.choices
        for name in names:
            assert name in choices, (env_id, name)
            assert env_id in overview.get(name, set()), (env_id, name)
            assert f"{PAPERS[name]} (20" in text, name
    # No game takes a paper's name as a preset without being listed here.
    for env_id in selfplay_envs.list_envs():
        params = getattr(selfplay_envs.spec(env_id).load(), "parameters", None)
        if params is None or "preset" not in params:
            continue
        paper_names = set(params.params["preset"].kind.choices) & set(PAPERS)
        assert paper_names <= set(PAPER_PRESETS.get(env_id, ())), env_id
