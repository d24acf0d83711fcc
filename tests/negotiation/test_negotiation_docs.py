"""docs/games/negotiation.md: its examples run and its transcripts are the real ones."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import selfplay_envs

DOC = Path(__file__).resolve().parents[2] / "docs" / "games" / "negotiation.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.DOTALL)


def _run(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), {"__name__": "__docs__"})  # noqa: S102
    return out.getvalue()


def test_python_examples_run() -> None:
    blocks = _blocks("python")
    assert len(blocks) == 2
    for code in blocks:
        _run(code)


def test_example_episode_transcript_is_what_the_example_prints() -> None:
    printed = _run(_blocks("python")[0])
    assert printed == _blocks("text")[0]


def test_prompt_transcript_is_the_real_text_view() -> None:
    env = selfplay_envs.make("negotiation_v0")
    env.reset(seed=0)
    env.step("Hi! Gold is what I need. [Offer: 1 Wood -> 5 Gold]")
    env.step("No way. [Deny]")
    env.step(
        "<think>they refused 1:5; try 2:5</think>"
        "Fine, a better rate: [Offer: 2 Wood -> 5 Gold]"
    )
    assert env.observe("player_1")["text"] + "\n" == _blocks("text")[1]
