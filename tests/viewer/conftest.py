"""Fixtures of the viewer tests: the headless browser and a page opened in it (the
sample traces are in viewer_traces.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from selfplay_agents.viewer.page import build_page
from selfplay_agents.viewer.screenshots import chromium, dump_dom


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
