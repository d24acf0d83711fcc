"""Helpers of the viewer tests: each game's sample trace, and the game panel of a DOM.

A module of its own, not conftest.py: ``from conftest import ...`` finds whichever
conftest was imported last when several test folders run in one session.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from selfplay_agents.viewer.capture import capture
from selfplay_agents.viewer.screenshots import sample_episode

_TRACES: dict[str, dict[str, Any]] = {}


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


def game_panel(dom: str) -> str:
    """The game panel's HTML in a dumped DOM."""
    match = re.search(
        r'<div id="game".*?</div>\s*</div>\s*<div class="right">', dom, re.S
    )
    assert match, "no game panel in the DOM"
    return match.group(0)
