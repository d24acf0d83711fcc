"""The viewer page stepped as a person steps it: mouse clicks on prev/next, the slider
and the move list, the arrow keys, and Core War's play button, sent as real input
events through chromium's DevTools protocol (on a pipe: no port, no websocket
package)."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from viewer_traces import sample_trace

from selfplay_agents.viewer.page import build_page

TIMEOUT = 30.0
KEY_CODES = {"ArrowRight": 39, "ArrowLeft": 37}


class Chromium:
    """Headless chromium driven over ``--remote-debugging-pipe`` (it reads commands
    on fd 3 and writes replies and events on fd 4, each a JSON text ended by NUL)."""

    def __init__(self, path: str, size: tuple[int, int] = (1280, 900)):
        self.profile = tempfile.mkdtemp(prefix="viewer-cdp-")
        commands, self.commands = os.pipe()
        self.replies, replies = os.pipe()
        argv = [
            path, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
            f"--window-size={size[0]},{size[1]}", "about:blank",
        ]  # fmt: skip
        # bash (not dash, which knows fds 0-9 only) puts the two pipe ends at fds 3
        # and 4, then becomes chromium.
        script = f'exec "$@" 3<&{commands} 4>&{replies}'
        self.process = subprocess.Popen(
            ["bash", "-c", script, "bash", *argv],
            pass_fds=(commands, replies),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands)
        os.close(replies)
        self.buffer = b""
        self.last_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        attached = self.call("Target.attachToTarget", targetId=target, flatten=True)
        self.session = attached["sessionId"]
        self.call("Page.enable")

    def _message(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.replies], [], [], left)[0]:
                raise TimeoutError("chromium did not answer on its DevTools pipe")
            chunk = os.read(self.replies, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe")
            self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command; its result (events meanwhile are kept)."""
        self.last_id += 1
        message: dict[str, Any] = {"id": self.last_id, "method": method}
        message["params"] = params
        if self.session is not None:
            message["sessionId"] = self.session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self.last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def open(self, url: str) -> None:
        """Load ``url`` and wait for its load event (the page's script has run)."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._message())

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (to read it, not to act)."""
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str, where: float = 0.5) -> None:
        """A left click of the mouse on ``selector``, ``where`` across its width."""
        x, y = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            f" return [r.x + r.width * {where}, r.y + r.height / 2]; }})()"
        )
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=x,
                y=y,
                button="left",
                clickCount=1,
            )

    def key(self, key: str) -> None:
        """One press of ``key`` on the keyboard (to whatever has the focus)."""
        for kind in ("rawKeyDown", "keyUp"):
            self.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=key,
                windowsVirtualKeyCode=KEY_CODES.get(key, 0),
            )

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.commands)
        os.close(self.replies)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def chrome(browser: str):
    driver = Chromium(browser)
    yield driver
    driver.close()


def _open(chrome: Chromium, trace: dict[str, Any], folder: Path, fragment: str = ""):
    path = folder / f"{trace['env_id']}.html"
    path.write_text(build_page([trace]), encoding="utf-8")
    chrome.open(path.resolve().as_uri() + (f"#{fragment}" if fragment else ""))


def _shown(chrome: Chromium) -> dict[str, Any]:
    """What the page shows now: its step line, the board's marks, the fragment and
    the highlighted move."""
    return chrome.js(
        "({pos: document.getElementById('pos').textContent,"
        " turn: document.getElementById('game').dataset.turn,"
        " marks: [...document.querySelectorAll('#game [data-mark]')]"
        ".map(c => c.dataset.mark).join(''),"
        " hash: location.hash,"
        " current: document.querySelector('#log li.cur').dataset.step})"
    )


def _at(chrome: Chromium, step: int, last: int) -> dict[str, Any]:
    shown = _shown(chrome)
    assert shown["pos"] == f"step {step} of {last}", shown
    assert shown["turn"] == shown["current"] == str(step)
    assert f"turn={step}&" in shown["hash"]
    return shown


def test_prev_next_and_the_arrow_keys_step_the_turn(chrome, tmp_path: Path) -> None:
    trace = sample_trace("tic_tac_toe_v0")
    last = len(trace["frames"]) - 1
    _open(chrome, trace, tmp_path)
    assert _at(chrome, 0, last)["marks"] == ""
    chrome.click("#prev")  # nothing before the start
    _at(chrome, 0, last)
    steps = [("#next", 1), ("#next", 2), ("#prev", 1), ("ArrowRight", 2)]
    steps += [("ArrowRight", 3), ("ArrowLeft", 2)]
    for press, step in steps:
        chrome.click(press) if press.startswith("#") else chrome.key(press)
        shown = _at(chrome, step, last)
        # The board follows: one mark more per step of tic-tac-toe.
        assert len(shown["marks"]) == step, (press, shown)
    for _ in range(last + 2):  # past the end: the last step stays
        chrome.key("ArrowRight")
    _at(chrome, last, last)
    chrome.click("#next")
    _at(chrome, last, last)


def test_the_slider_and_the_move_list_step_once_per_press(
    chrome, tmp_path: Path
) -> None:
    trace = sample_trace("tic_tac_toe_v0")
    last = len(trace["frames"]) - 1
    _open(chrome, trace, tmp_path)
    chrome.click("#turn", where=0.02)  # the slider's left end: the start
    _at(chrome, 0, last)
    # The slider has the focus: an arrow key moves it, and the turn, by one step.
    chrome.key("ArrowRight")
    _at(chrome, 1, last)
    chrome.key("ArrowRight")
    _at(chrome, 2, last)
    chrome.key("ArrowLeft")
    _at(chrome, 1, last)
    chrome.click('#log li[data-step="4"]')
    _at(chrome, 4, last)


def test_core_war_play_button_animates_the_map(chrome, tmp_path: Path) -> None:
    trace = sample_trace("core_war_v0")
    frames = trace["corewar"]["frames"]
    _open(chrome, trace, tmp_path, "turn=last&cw=0")

    def core() -> dict[str, Any]:
        return chrome.js(
            "({frame: +document.getElementById('core').dataset.frame,"
            " button: document.getElementById('cwplay').textContent,"
            " legend: document.querySelector('.legend').textContent})"
        )

    assert core()["frame"] == 0 and core()["button"] == "play"
    chrome.click("#cwplay")
    assert core()["button"] == "pause"
    deadline = time.monotonic() + TIMEOUT
    while core()["frame"] < 5:  # a frame each 60 ms
        assert time.monotonic() < deadline, "the map did not move"
        time.sleep(0.05)
    chrome.click("#cwplay")
    stopped = core()
    assert stopped["button"] == "play"
    time.sleep(0.3)
    assert core()["frame"] == stopped["frame"]  # paused: the map stays
    # The legend counts each warrior's processes at the frame shown, in words.
    counts = frames[stopped["frame"]]["processes"]
    said = re.findall(r": (\d+) (process(?:es)?)", stopped["legend"])
    assert [int(n) for n, _ in said] == counts
    assert all((word == "process") == (n == "1") for n, word in said), said
