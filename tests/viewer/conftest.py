"""Fixtures of the viewer tests: each game's sample trace, and the headless browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from selfplay_agents.viewer.capture import capture
from selfplay_agents.viewer.page import build_page
from selfplay_agents.viewer.screenshots import chromium, dump_dom, sample_episode

_TRACES: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="session")
def browser() -> str:
    """Chromium's path; the DOM tests skip without it."""
    path = chromium()
    if path is None:
        pytest.skip(
            "chromium not installed: the viewer's DOM tests need a real headless "
            "browser (apt-get install -y chromium, see .ci/system_deps.sh)"
        )
    return path


def sample_trace(env_id: str) -> dict[str, Any]:
    """The trace of ``env_id``'s sample episode, built once per session."""
    if env_id not in _TRACES:
        if env_id == "bug_repair_v0":
            from selfplay_envs.games.bug_repair.sandbox import bwrap_available

            ok, reason = bwrap_available()
            if not ok:
                pytest.skip(f"bubblewrap sandbox unavailable here: {reason}")
        _TRACES[env_id] = capture(sample_episode(env_id))
    return _TRACES[env_id]


class Page:
    """A written page of one trace, opened in chromium at a fragment."""

    def __init__(self, trace: dict[str, Any], folder: Path):
        self.trace = trace
        self.path = folder / f"{trace['env_id']}.html"
        self.path.write_text(build_page([trace]), encoding="utf-8")

    def dom(self, fragment: str) -> str:
        dom = dump_dom(self.path, fragment)
        assert 'id="game"' in dom, f"chromium dumped no page for #{fragment}"
        return dom


@pytest.fixture
def page(tmp_path: Path, browser: str):
    return lambda trace: Page(trace, tmp_path)


def game_panel(dom: str) -> str:
    """The game panel's HTML in a dumped DOM."""
    match = re.search(
        r'<div id="game".*?</div>\s*</div>\s*<div class="right">', dom, re.S
    )
    assert match, "no game panel in the DOM"
    return match.group(0)
