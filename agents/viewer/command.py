"""``python -m selfplay_agents.viewer``: episodes in, one HTML page out."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from selfplay_agents.viewer.capture import capture
from selfplay_agents.viewer.load import Episode, load_episodes
from selfplay_agents.viewer.page import build_page

__all__ = ["main", "render_html", "write_html"]


def render_html(episodes: list[Episode]) -> str:
    """The page for ``episodes``: each is replayed through its env first."""
    return build_page([capture(e) for e in episodes])


def write_html(episodes: list[Episode], path: str | Path) -> Path:
    """Write the page for ``episodes`` to ``path`` and return it."""
    path = Path(path)
    path.write_text(render_html(episodes), encoding="utf-8")
    return path


def _source(target: Path) -> Path:
    """The file of episodes: ``target`` itself, or a bench run folder's results."""
    if target.is_dir():
        results = target / "results.jsonl"
        if not results.exists():
            raise ValueError(
                f"expected a file of episodes or a bench run folder; {target} has no results.jsonl"
            )
        return results
    return target


def main(
    argv: list[str] | None = None, prog: str = "python -m selfplay_agents.viewer"
) -> int:
    """Write the viewer page for a file (or bench run folder) of episodes."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Write a self-contained HTML page to step through recorded "
        "episodes turn by turn, each seat's private view switchable.",
    )
    parser.add_argument(
        "source", type=Path, help="a file of episodes or a bench run folder"
    )
    parser.add_argument(
        "-o", "--output", type=Path, help="the HTML file (default: next to the source)"
    )
    parser.add_argument(
        "--no-open", action="store_true", help="print the path, open no browser"
    )
    args = parser.parse_args(argv)
    try:
        source = _source(args.source)
        episodes = load_episodes(source)
        output = args.output or source.with_suffix(".html")
        write_html(episodes, output)
    except ValueError as e:
        print(f"viewer: {e}", file=sys.stderr)
        return 2
    print(f"wrote {output} ({len(episodes)} episode{'s' * (len(episodes) != 1)})")
    if not args.no_open and _has_display():
        import webbrowser

        webbrowser.open(output.resolve().as_uri())
    return 0


def _has_display() -> bool:
    # On a headless machine webbrowser would start a text browser in the terminal.
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
