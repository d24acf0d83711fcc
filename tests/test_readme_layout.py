"""README.md's layout says what each folder holds: keep it true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GAMES = ROOT / "selfplay_envs" / "games"


def _layout() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1]
    return re.search(r"```\n(.*?)```", section, re.DOTALL).group(1)


def test_every_game_folder_holds_what_the_layout_names() -> None:
    layout = _layout()
    assert "env.py" in layout and "rules.py" in layout
    folders = [p for p in GAMES.iterdir() if (p / "__init__.py").is_file()]
    assert len(folders) >= 7
    for folder in folders:
        for name in ("env.py", "rules.py"):
            assert (folder / name).is_file(), f"{folder.name} has no {name}"
        doc = (folder / "env.py").read_text(encoding="utf-8")
        assert doc.lstrip().startswith('"""'), f"{folder.name}/env.py: no docstring"


def test_the_files_the_layout_names_as_examples_exist() -> None:
    layout = _layout()
    assert "negotiation's observer.py" in layout
    assert (GAMES / "negotiation" / "observer.py").is_file()
    assert "who_is_the_spy's prompts.py" in layout
    assert (GAMES / "who_is_the_spy" / "prompts.py").is_file()


def test_every_top_level_folder_of_the_layout_exists() -> None:
    for line in _layout().splitlines():
        match = re.match(r"( *)([a-z_]+)/ ", line)
        if match is None:
            continue
        indent, name = match.groups()
        base = ROOT / "selfplay_envs" if indent else ROOT
        assert (base / name).is_dir(), f"the layout names {name}/, which is missing"
