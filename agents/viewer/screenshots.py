"""Episodes of every game played by scripted opponents, and headless-browser shots.

``python -m selfplay_agents.viewer.screenshots [FOLDER]`` writes ``viewer_<game>.png`` for each
game (default ``docs/img``). The tests use the same episodes and browser helpers.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from selfplay_agents.viewer.load import Episode

__all__ = ["SAMPLES", "chromium", "dump_dom", "play", "screenshot", "sample_episode"]

# env id -> (config, opponent of each seat, the URL fragment a screenshot shows)
SAMPLES: dict[str, tuple[dict[str, Any], tuple[str, ...], str]] = {
    "tic_tac_toe_v0": ({}, ("minimax", "random"), "turn=5"),
    "kuhn_poker_v0": ({}, ("cfr", "random"), "turn=2&seat=0"),
    "negotiation_v0": ({}, ("greedy", "greedy"), "turn=6&all=1"),
    "who_is_the_spy_v0": ({}, ("scripted",) * 4, "turn=last&all=1"),
    "core_war_v0": ({"preset": "tiny"}, ("dwarf", "imp"), "turn=last&cw=60"),
    "bug_repair_v0": ({}, ("scripted", "scripted"), "turn=last&seat=1"),
    "search_qa_v0": (
        {"corpus_size": 200, "cache_dir": ""},
        ("scripted", "scripted"),
        "turn=8&seat=1",
    ),
}


def play(
    env_id: str, opponents: tuple[str, ...], config: dict[str, Any], seed: int = 1
) -> Episode:
    """One episode of ``env_id``, seat k played by the opponent ``opponents[k]``."""
    import selfplay_envs
    from selfplay_agents.opponents import list_opponents, make_opponent
    from selfplay_agents.policy import Turn

    known = set(list_opponents(env_id))
    env = selfplay_envs.make(env_id, **config)
    env.reset(seed=seed)
    seats = env.possible_agents
    names = [n if n in known else sorted(known)[0] for n in opponents]
    policies = {
        a: make_opponent(env_id, names[k % len(names)], seed=seed + k, **config)
        for k, a in enumerate(seats)
    }
    actions: list[Any] = []
    for agent in env.agent_iter():
        observation, _, termination, truncation, info = env.last()
        if termination or truncation:
            env.step(None)
            continue
        turn = Turn(env_id=env_id, agent=agent, observation=observation, info=info)
        action = policies[agent].act([turn])[0]
        actions.append(action)
        env.step(action)
    return Episode(
        env_id=env_id,
        seed=seed,
        config=dict(config),
        actions=actions,
        title=f"{env_id} seed {seed}",
        agents={a: names[k % len(names)] for k, a in enumerate(seats)},
    )


def sample_episode(env_id: str) -> Episode:
    """The sample episode of ``env_id`` (``SAMPLES``)."""
    config, opponents, _ = SAMPLES[env_id]
    return play(env_id, opponents, config)


def chromium() -> str | None:
    """The headless browser's path, or None (``apt-get install chromium``)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _browser(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    browser = chromium()
    if browser is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="viewer-chromium-") as profile:
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", f"--user-data-dir={profile}",
            "--virtual-time-budget=3000", *args,
        ]  # fmt: skip
        return subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )


def dump_dom(page: Path, fragment: str = "") -> str:
    """The page's DOM after its script ran, opened at ``#fragment``."""
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    return _browser(["--dump-dom", url]).stdout


def screenshot(
    page: Path, png: Path, fragment: str = "", size: str = "1280,1100"
) -> Path:
    """A PNG of the page opened at ``#fragment``."""
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    _browser(
        [
            f"--screenshot={png.resolve()}",
            f"--window-size={size}",
            "--hide-scrollbars",
            url,
        ]
    )
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot of {url}")
    return png


def main(argv: list[str] | None = None) -> int:
    from selfplay_agents.viewer.command import write_html

    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else "docs/img")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="viewer-shots-") as tmp:
        for env_id, (_, _, fragment) in SAMPLES.items():
            game = env_id.rsplit("_v", 1)[0]
            page = write_html([sample_episode(env_id)], Path(tmp) / f"{game}.html")
            png = screenshot(page, folder / f"viewer_{game}.png", fragment)
            print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
