"""The viewer page of every game, loaded and stepped in a real headless browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from viewer_traces import game_panel, sample_trace

from selfplay_agents.viewer.capture import capture
from selfplay_agents.viewer.load import Episode
from selfplay_agents.viewer.page import build_page
from selfplay_agents.viewer.screenshots import dump_dom, screenshot


def _marks(dom: str) -> list[str]:
    return re.findall(r'data-cell="\d" data-mark="(X|O|)"', game_panel(dom))


def test_tic_tac_toe_board_follows_the_moves(page):
    trace = sample_trace("tic_tac_toe_v0")
    view = page(trace)
    for turn in (0, 3, len(trace["frames"]) - 1):
        expected = [""] * 9
        for k, frame in enumerate(trace["frames"][1 : turn + 1]):
            expected[int(frame["record"]["parsed"])] = "XO"[k % 2]
        dom = view.dom(f"turn={turn}")
        assert _marks(dom) == expected, f"board after turn {turn}"
        assert f"step {turn} of {len(trace['frames']) - 1}" in dom


def test_kuhn_shows_only_the_selected_seats_card(page):
    trace = sample_trace("kuhn_poker_v0")
    cards = [info["card"] for info in trace["frames"][1]["infos"]]
    view = page(trace)
    for seat in (0, 1):
        panel = game_panel(view.dom(f"turn=1&seat={seat}"))
        faces = re.findall(r'class="(card(?: back)?)" data-seat="(\d)">([^<]*)<', panel)
        assert faces == [
            ("card", str(p), cards[p]) if p == seat else ("card back", str(p), "?")
            for p in (0, 1)
        ]
    panel = game_panel(view.dom("turn=1&seat=0&all=1"))
    assert re.findall(r'class="card" data-seat="\d">([^<]*)<', panel) == cards
    assert "Pot: <b>" in panel


def test_negotiation_chat_offers_and_values(page):
    trace = sample_trace("negotiation_v0")
    view = page(trace)
    turn = 4
    events = trace["frames"][turn]["infos"][0]["events"]
    panel = game_panel(view.dom(f"turn={turn}&seat=0"))
    messages = re.findall(r'<div class="msg p(\d)">', panel)
    assert messages == [str(e["player"]) for e in events]
    assert panel.count("private") == len(trace["frames"][turn]["infos"][1]["values"])
    revealed = game_panel(view.dom(f"turn={turn}&seat=0&all=1"))
    assert "private" not in revealed
    for value in trace["frames"][turn]["infos"][1]["values"].values():
        assert f"<td>{value}</td>" in revealed


def test_spy_images_clues_and_votes(page):
    trace = sample_trace("who_is_the_spy_v0")
    final = trace["frames"][-1]["infos"][0]
    view = page(trace)
    panel = game_panel(view.dom("turn=last&seat=0"))
    assert (
        len(re.findall(r'<img data-img="\w+"[^>]*src="data:image/png;base64,', panel))
        == 1
    )
    assert len(re.findall(r'<li data-player="\d">', panel)) == len(final["clues"])
    votes = re.findall(r"<tr><td>(player_\d)</td><td>([^<]*)</td></tr>", panel)
    assert [v for _, v in votes if v.startswith("Player")] == [
        f"Player {v} (player_{int(v) - 1})" for v in final["votes"] if v and v.isdigit()
    ]
    everyone = game_panel(view.dom("turn=last&seat=0&all=1"))
    figures = re.findall(r'<figure class="item (spy|civilian)">', everyone)
    assert sorted(figures) == ["civilian", "spy"]  # one civilian picture, one spy's


def test_core_war_map_animation_and_process_counts(page):
    trace = sample_trace("core_war_v0")
    core = trace["corewar"]
    # The traced round ends as the battle's own log says it did.
    assert core["death_cycles"] == core["recorded_death_cycles"]
    view = page(trace)
    frame = 30
    panel = game_panel(view.dom(f"turn=last&cw={frame}"))
    assert re.search(rf'<canvas id="core"[^>]*data-frame="{frame}"', panel)
    counts = [int(c) for c in re.findall(r'data-procs="\d">(\d+)<', panel)]
    assert counts == core["frames"][frame]["processes"]
    wins = trace["frames"][-1]["infos"][0]["battles"][0]["battles"][0]["wins"]
    assert re.findall(r"<tr><td>player_\d</td><td>(\d+)</td>", panel) == [
        str(w) for w in wins
    ]


@pytest.mark.slow
def test_bug_repair_diff_tests_and_attempts(page):
    trace = sample_trace("bug_repair_v0")
    final = trace["frames"][-1]["infos"][1]
    panel = game_panel(page(trace).dom("turn=last&seat=1"))
    first_line = final["artifact"]["bug_patch"].splitlines()[0]
    assert first_line in panel.replace("&gt;", ">")
    checks = re.findall(r"<tr><td>(\d_\w+)</td><td>(pass|FAIL)</td>", panel)
    assert [c for c, _ in checks] == [c["check"] for c in final["validation"]["checks"]]
    solved = panel.count("<td>solved</td>")
    assert solved == sum(a["solved"] for a in final["attempt_results"])


def test_bug_repair_from_recorded_infos_only(page):
    """An episode that cannot be replayed here is drawn from its recorded infos."""
    info = {
        "phase": "done", "repo": "demo", "attempt": 1, "solver_attempts": 1,
        "artifact": {"bug_patch": "--- a/x.py\n+++ b/x.py\n-return 1\n+return 2\n"},
        "validation": {"checks": [{"check": "4_bug_breaks_tests", "passed": True, "detail": "1 fails"}],
                       "reports": {"buggy": {"summary": "1 failed"}}},
        "attempt_results": [{"solved": False, "ended_by": "turns", "report": {"tests": "1 failed"}}],
    }  # fmt: skip
    trace = {
        "title": "constructed", "env_id": "bug_repair_v0", "seed": None, "config": {},
        "notes": ["constructed infos"], "seats": ["player_0", "player_1"], "agents": {},
        "replayed": False, "images": {}, "frames": [{
            "step": 0, "actor": None, "action": None, "record": None, "rewards": {},
            "obs": ["", ""], "infos": [info, info], "images": [None, None],
        }],
    }  # fmt: skip
    panel = game_panel(page(trace).dom("turn=0&seat=1"))
    assert "+return 2" in panel and "<td>4_bug_breaks_tests</td><td>pass</td>" in panel
    assert "<td>not solved</td>" in panel


def test_search_qa_question_queries_passages(page):
    trace = sample_trace("search_qa_v0")
    turn = next(
        i for i, f in enumerate(trace["frames"]) if f["infos"][1].get("evidence")
    )
    info = trace["frames"][turn]["infos"][1]
    panel = game_panel(page(trace).dom(f"turn={turn}&seat=1"))
    assert (
        re.findall(r'<ol class="queries"><li>(.*?)</li>', panel)[0]
        == info["queries"][0]
    )
    titles = re.findall(r'<div class="passage"><b>([^<]*)</b>', panel)
    assert titles == [e["title"] for e in info["evidence"]]
    assert 'class="target"' not in panel  # the solver never sees the answer
    assert 'class="target"' in game_panel(page(trace).dom(f"turn={turn}&seat=1&all=1"))


def test_a_reply_with_markup_stays_text(tmp_path: Path, browser):
    reply = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"
    episode = Episode(
        env_id="tic_tac_toe_v0", seed=0, config={}, actions=[reply, "4"], title="t"
    )
    trace = capture(episode)
    assert trace["frames"][1]["record"]["valid"] is False
    path = tmp_path / "inject.html"
    path.write_text(build_page([trace]), encoding="utf-8")
    dom = dump_dom(path, "turn=1")
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom).group(1)
    assert dom.count("<script") == 2  # the page's data and its code, no other
    assert "onerror=" not in dom.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom


@pytest.mark.parametrize(
    "env_id", ["tic_tac_toe_v0", "kuhn_poker_v0", "negotiation_v0", "who_is_the_spy_v0",
               "core_war_v0", "search_qa_v0",
               # its episode runs the repo's tests in the bubblewrap sandbox
               pytest.param("bug_repair_v0", marks=pytest.mark.slow)],
)  # fmt: skip
def test_screenshot_of_every_game(env_id: str, tmp_path: Path, browser):
    from PIL import Image

    trace = sample_trace(env_id)
    path = tmp_path / "page.html"
    path.write_text(build_page([trace]), encoding="utf-8")
    png = screenshot(path, tmp_path / "shot.png", "turn=last")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    with Image.open(png) as image:
        assert image.size == (1280, 1100)
        # A drawn page: a page of one line of text has about 120 colours.
        assert len(image.convert("RGB").getcolors(1 << 22) or []) > 400


def test_the_fragment_picks_the_episode(tmp_path: Path, browser):
    episodes = [
        Episode(
            env_id="tic_tac_toe_v0", seed=0, config={}, actions=a, title=f"game {k}"
        )
        for k, a in enumerate((["4", "0"], ["8", "2", "6"]))
    ]
    path = tmp_path / "two.html"
    path.write_text(build_page([capture(e) for e in episodes]), encoding="utf-8")
    dom = dump_dom(path, "ep=1&turn=3")
    assert "<h1>game 1</h1>" in dom and "step 3 of 3" in dom
    assert [m for m in _marks(dom)].count("X") == 2 and _marks(dom)[2] == "O"
