"""The episode viewer: one self-contained HTML file to step through recorded games.

``python -m selfplay_agents.viewer RUN_OR_FILE [-o out.html] [--no-open]`` reads every episode
in a file (``load.load_episodes``), replays each through its env (``capture``), and
writes a page with no server and no network (``page.build_page``).
"""

from __future__ import annotations

from selfplay_agents.viewer.command import main, render_html, write_html
from selfplay_agents.viewer.load import Episode, load_episodes

__all__ = ["Episode", "load_episodes", "main", "render_html", "write_html"]
