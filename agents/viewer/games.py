"""One HTML panel per game, built from a trace frame (see ``capture``).

``render(trace, index, seat, reveal)`` returns the game panel of frame ``index`` as
seat ``seat`` sees it; with ``reveal`` every seat's private data is shown. Each game's
renderer reads the frame's infos (the env's own structured data), so the panel shows
exactly what the env recorded. Every piece of text is escaped with ``esc``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

__all__ = ["esc", "prepare", "render"]


def esc(value: Any) -> str:
    """``value`` as HTML text: model replies must never become markup."""
    return html.escape(str(value), quote=True)


def _pre(text: Any, cls: str = "") -> str:
    return f'<pre class="{cls}">{esc(text)}</pre>'


def _table(header: list[str], rows: list[list[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table class="{cls}"><tr>{head}</tr>{body}</table>'


def _name(trace: dict[str, Any], player: int) -> str:
    seats = trace["seats"]
    return seats[player] if 0 <= player < len(seats) else f"player {player}"


# ---- tic-tac-toe ------------------------------------------------------------------


def tic_tac_toe(trace: dict[str, Any], index: int, seat: int, reveal: bool) -> str:
    info = trace["frames"][index]["infos"][seat]
    board = info.get("board") or [-1] * 9
    record = trace["frames"][index]["record"] or {}
    last = record.get("parsed") if record.get("valid") else None
    cells = []
    for i, mark in enumerate(board):
        text = {0: "X", 1: "O"}.get(mark, "")
        cls = "cell last" if last == str(i) else "cell"
        cells.append(
            f'<div class="{cls}" data-cell="{i}" data-mark="{text}">{text}</div>'
        )
    return f'<div class="ttt">{"".join(cells)}</div>'


# ---- Kuhn poker -------------------------------------------------------------------


def _kuhn_bets(history: str) -> list[str]:
    """Kuhn's history letters as words: p is check or fold, b is bet or call."""
    words, bet = [], False
    for letter in history:
        if letter == "b":
            words.append("call" if bet else "bet")
            bet = True
        else:
            words.append("fold" if bet else "check")
    return words


def kuhn_poker(trace: dict[str, Any], index: int, seat: int, reveal: bool) -> str:
    infos = trace["frames"][index]["infos"]
    cards = []
    for player, info in enumerate(infos):
        shown = reveal or player == seat
        card = info.get("card", "?") if shown else "?"
        cls = "card" if shown else "card back"
        cards.append(
            f'<div class="hand"><div class="{cls}" data-seat="{player}">{esc(card)}'
            f"</div><div>{esc(_name(trace, player))} ({esc(info.get('role', ''))})"
            f"</div></div>"
        )
    info = infos[seat]
    bets = _kuhn_bets(info.get("betting", ""))
    results = [
        [int(r.get("hand", 0)) + 1, ", ".join(_kuhn_bets(r.get("history", ""))),
         r.get("card"), r.get("opponent_card") or "(not shown: a fold)", r.get("chips")]
        for r in info.get("hand_results") or []
    ]  # fmt: skip
    return (
        f'<div class="cards">{"".join(cards)}</div>'
        f'<p class="bets">Betting: <b>{esc(", ".join(bets) or "none yet")}</b></p>'
        f'<p class="pot">Pot: <b>{esc(info.get("pot", "?"))}</b> chips; hand '
        f"{esc(int(info.get('hand', 0)) + 1)} of {esc(info.get('num_hands', 1))}; "
        f"chips won so far by {esc(_name(trace, seat))}: {esc(info.get('chips', 0))}</p>"
        + (
            _table(["hand", "bets", "card", "opponent", "chips"], results)
            if results
            else ""
        )
    )


# ---- negotiation ------------------------------------------------------------------


def negotiation(trace: dict[str, Any], index: int, seat: int, reveal: bool) -> str:
    infos = trace["frames"][index]["infos"]
    chat = []
    for event in infos[seat].get("events") or []:
        player = int(event.get("player", 0))
        offer = ""
        if event.get("give") is not None:
            give = ", ".join(f"{n} {r}" for r, n in event["give"].items())
            get = ", ".join(f"{n} {r}" for r, n in (event.get("receive") or {}).items())
            offer = f' <span class="offer">{esc(event.get("kind"))}: {esc(give)} &rarr; {esc(get)}</span>'
        chat.append(
            f'<div class="msg p{player}"><b>{esc(_name(trace, player))}</b>: '
            f"{esc(event.get('message', ''))}{offer}</div>"
        )
    sides = []
    for player, info in enumerate(infos):
        values = info.get("values") or {}
        if not (reveal or player == seat):
            values = {r: "private" for r in values}
        rows = [[r, (info.get("inventory") or {}).get(r), v] for r, v in values.items()]
        sides.append(
            f'<div class="side" data-seat="{player}"><h4>{esc(_name(trace, player))}'
            f" (gain {esc(info.get('gain', 0))})</h4>"
            + _table(["resource", "units", "value per unit"], rows, "values")
            + "</div>"
        )
    pending = infos[seat].get("pending_offer")
    note = f"<p>Pending offer: {esc(json.dumps(pending))}</p>" if pending else ""
    return (
        f'<div class="chat">{"".join(chat) or "<i>no messages yet</i>"}</div>'
        f'<div class="sides">{"".join(sides)}</div>{note}'
    )


# ---- Who is the spy ---------------------------------------------------------------


def who_is_the_spy(trace: dict[str, Any], index: int, seat: int, reveal: bool) -> str:
    frame = trace["frames"][index]
    infos = frame["infos"]
    shown = range(len(infos)) if reveal else [seat]
    items, seen = [], set()
    for player in shown:
        info = infos[player]
        role = "spy" if info.get("is_spy") else "civilian"
        key = frame["images"][player]
        what = key or json.dumps(info.get("item"), sort_keys=True)
        if reveal and what in seen:
            continue  # the civilians' items are the same: show each item once
        seen.add(what)
        label = f"{_name(trace, player)} ({role})" if not reveal else role
        body = (
            f'<img data-img="{esc(key)}" alt="{esc(role)} picture">'
            if key
            else f'<div class="word">{esc(_item_text(info.get("item")))}</div>'
        )
        items.append(
            f'<figure class="item {role}">{body}<figcaption>{esc(label)}</figcaption></figure>'
        )
    info = infos[seat]
    clues = [
        f'<li data-player="{c.get("player")}"><b>{esc(_name(trace, int(c.get("player", 0))))}</b>'
        f" (round {esc(c.get('round'))}): {esc(c.get('text', ''))}</li>"
        for c in info.get("clues") or []
    ]
    votes = info.get("votes")
    vote_html = ""
    if votes:
        rows = [[_name(trace, p), _vote(trace, v)] for p, v in enumerate(votes)]
        vote_html = "<h4>Votes</h4>" + _table(["voter", "vote"], rows, "votes")
        caught = "caught" if info.get("spy_caught") else "not caught"
        vote_html += f"<p>The spy was {esc(_name(trace, int(info.get('spy', 0))))}: {caught}.</p>"
    return (
        f"<p>Phase: <b>{esc(info.get('phase', ''))}</b></p>"
        f'<div class="items">{"".join(items)}</div>'
        f'<h4>Clues</h4><ol class="clues">{"".join(clues) or "<i>none yet</i>"}</ol>{vote_html}'
    )


def _vote(trace: dict[str, Any], vote: Any) -> str:
    """A vote as the env writes it (``"2"`` is Player 2, the second seat)."""
    if vote is None:
        return "(does not vote: the spy)"
    if str(vote).isdigit():
        return f"Player {vote} ({_name(trace, int(vote) - 1)})"
    return str(vote)


def _item_text(item: Any) -> str:
    """A word item as its word and attributes; anything else as JSON."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and "word" in item:
        attributes = "".join(f"\n- {a}" for a in item.get("attributes") or [])
        return f"{item['word']}{attributes}"
    return json.dumps(item, indent=1, sort_keys=True)


# ---- Core War ---------------------------------------------------------------------


def prepare(trace: dict[str, Any]) -> None:
    """Add what a game's panel needs beyond the frames (Core War's round trace)."""
    if trace["env_id"].startswith("core_war") and trace["frames"] and trace["replayed"]:
        from selfplay_agents.viewer.corewar_trace import trace_round

        final = trace["frames"][-1]["infos"][0]
        trace["corewar"] = trace_round(final)


def core_war(trace: dict[str, Any], index: int, seat: int, reveal: bool) -> str:
    info = trace["frames"][index]["infos"][seat]
    battles = info.get("battles") or []
    if not battles:
        mode = info.get("mode", "")
        return f"<p>Warriors are being written ({esc(mode)} mode); the battle runs once every seat has submitted.</p>"
    parts = []
    for submission in battles:
        for battle in submission.get("battles", []):
            names = battle.get("warriors", [])
            rows = [
                [
                    n,
                    battle["wins"][k],
                    battle["ties"][k],
                    battle["losses"][k],
                    battle["scores"][k],
                ]
                for k, n in enumerate(names)
            ]
            parts.append(
                f"<p>Battle of {esc(battle.get('rounds'))} rounds, rewards "
                f"{esc(submission.get('rewards'))}</p>"
                + _table(["warrior", "wins", "ties", "losses", "score"], rows, "battle")
            )
    core = ""
    if trace.get("corewar") and index == len(trace["frames"]) - 1:
        names = trace["corewar"]["warriors"]
        last = trace["corewar"]["frames"][-1]["step"]
        cut = "" if trace["corewar"]["complete"] else f", its first {last} steps"
        legend = "".join(
            f'<span class="w{k}">&#9632; {esc(n)}: <b data-procs="{k}">0</b> '
            f'<span data-procs-word="{k}">processes</span></span> '
            for k, n in enumerate(names)
        )
        core = (
            f"<h4>Round 1, replayed step by step{cut} (cell owners; bright: written since the last frame)</h4>"
            '<div class="corewar"><canvas id="core" width="640" height="320"></canvas>'
            f'<div class="legend">{legend}</div><div class="cwctl"><button id="cwplay">play</button>'
            '<input type="range" id="cwframe" min="0" value="0"> <span id="cwstep"></span></div></div>'
        )
    sources = info.get("sources") or []
    src = "".join(
        f"<details><summary>warrior {k} source</summary>{_pre(s)}</details>"
        for k, s in enumerate(sources)
    )
    return core + "".join(parts) + src


# ---- bug repair -------------------------------------------------------------------


def bug_repair(trace: dict[str, Any], index: int, seat: int, reveal: bool) -> str:
    frame = trace["frames"][index]
    infos = frame["infos"]
    info = infos[seat]
    parts = [
        f"<p>Phase: <b>{esc(info.get('phase', ''))}</b>, repository "
        f"<b>{esc(info.get('repo', ''))}</b>, solver attempt {esc(info.get('attempt', 0))}"
        f" of {esc(info.get('solver_attempts', ''))}</p>"
    ]
    actor = frame["actor"]
    if actor is not None:
        parts.append(
            f"<h4>Tool call of {esc(actor)}</h4>{_pre(frame['action'], 'tool')}"
        )
    results = [
        (p, i.get("tool_result")) for p, i in enumerate(infos) if i.get("tool_result")
    ]
    for player, result in results:
        if reveal or player == seat:
            output = result.get("output", result)
            parts.append(
                f"<h4>Tool result ({esc(_name(trace, player))}, exit "
                f"{esc(result.get('exit_code', ''))})</h4>{_pre(output, 'result')}"
            )
    if info.get("spec_patch") and (reveal or seat == 1):
        parts.append(
            f"<h4>The solver's specification patch</h4>{_pre(info['spec_patch'], 'diff')}"
        )
    final = next((i for i in infos if "validation" in i), None)
    if final is not None:
        parts.append(_bug_final(trace, index, final))
    return "".join(parts)


def _bug_final(trace: dict[str, Any], index: int, info: dict[str, Any]) -> str:
    """The verdict first (checks, test runs, attempts), then the diffs."""
    artifact = info.get("artifact") or {}
    validation = info.get("validation") or {}
    checks = [[c.get("check"), "pass" if c.get("passed") else "FAIL", c.get("detail")]
              for c in validation.get("checks", [])]  # fmt: skip
    reports = [
        [n, r.get("summary")] for n, r in (validation.get("reports") or {}).items()
    ]
    attempts = [
        [k + 1, "solved" if a.get("solved") else "not solved", a.get("ended_by"),
         (a.get("report") or {}).get("tests"),
         ", ".join((a.get("report") or {}).get("changed_files", []))]
        for k, a in enumerate(info.get("attempt_results") or [])
    ]  # fmt: skip
    header = ["attempt", "result", "ended by", "tests", "changed files"]
    parts = [
        "<h4>Validation</h4>" + _table(["check", "result", "detail"], checks, "checks"),
        "<h4>Test runs</h4>" + _table(["run", "tests"], reports, "tests"),
        "<h4>Solver attempts</h4>" + _table(header, attempts, "attempts"),
        f"<h4>The injected bug (bug_patch)</h4>{_pre(artifact.get('bug_patch', ''), 'diff')}",
    ]
    if artifact.get("weaken_patch"):
        parts.append(
            _details(
                "Weakening patch (hides the bug from the tests)",
                artifact["weaken_patch"],
            )
        )
    # The env keeps the files the solver changed, not its diff: show its edits.
    edits = [
        f["action"] for f in trace["frames"][1 : index + 1]
        if f["actor"] == trace["seats"][-1] and f["action"]
        and any(t in f["action"] for t in ("apply_patch", "write_file"))
    ]  # fmt: skip
    parts.extend(
        _details(f"The solver's edit: {e.splitlines()[0][:80]}", e) for e in edits
    )
    return "".join(parts)


def _details(summary: str, text: str) -> str:
    return f"<details><summary>{esc(summary)}</summary>{_pre(text, 'diff')}</details>"


# ---- search QA --------------------------------------------------------------------


def search_qa(trace: dict[str, Any], index: int, seat: int, reveal: bool) -> str:
    infos = trace["frames"][index]["infos"]
    parts = []
    for player, info in enumerate(infos):
        if not (reveal or player == seat):
            continue
        role = info.get("role", "")
        lines = [
            f"<h4>{esc(_name(trace, player))} ({esc(role)}), phase {esc(info.get('phase', ''))}</h4>"
        ]
        if info.get("question"):
            lines.append(
                f'<p class="question">Question: <b>{esc(info["question"])}</b></p>'
            )
        if "target" in info and (role == "proposer" or reveal):
            lines.append(
                f'<p>Answer to reach: <b class="target">{esc(info["target"])}</b> ({esc(info.get("hops"))} hops)</p>'
            )
        queries = "".join(f"<li>{esc(q)}</li>" for q in info.get("queries") or [])
        lines.append(
            f'<p>Queries:</p><ol class="queries">{queries or "<i>none</i>"}</ol>'
        )
        passages = "".join(
            f'<div class="passage"><b>{esc(e.get("title", ""))}</b> <small>{esc(e.get("id", ""))}</small>'
            f"<br>{esc(e.get('text', ''))}</div>"
            for e in info.get("evidence") or []
        )
        lines.append(
            f"<details open><summary>Retrieved passages</summary>{passages or '<i>none</i>'}</details>"
        )
        attempts = [[k + 1, a.get("answer"), "correct" if a.get("correct") else "wrong", a.get("f1")]
                    for k, a in enumerate(info.get("solver_attempts") or [])]  # fmt: skip
        if attempts:
            lines.append(
                _table(["attempt", "answer", "verdict", "F1"], attempts, "answers")
            )
        validity = info.get("validity")
        if validity and not validity.get("valid"):
            lines.append(
                f"<p>The question is invalid: {esc('; '.join(validity.get('failures', [])))}</p>"
            )
        parts.append('<div class="sqa">' + "".join(lines) + "</div>")
    return "".join(parts)


RENDERERS: dict[str, Callable[[dict[str, Any], int, int, bool], str]] = {
    "tic_tac_toe": tic_tac_toe,
    "kuhn_poker": kuhn_poker,
    "negotiation": negotiation,
    "who_is_the_spy": who_is_the_spy,
    "core_war": core_war,
    "bug_repair": bug_repair,
    "search_qa": search_qa,
}


def render(trace: dict[str, Any], index: int, seat: int, reveal: bool) -> str:
    """The game panel of frame ``index`` for ``seat`` ("" for an unknown game)."""
    game = trace["env_id"].rsplit("_v", 1)[0]
    renderer = RENDERERS.get(game)
    if renderer is None or not trace["frames"][index]["infos"][seat]:
        return ""  # no infos (a trajectory shown from its turns): the text view only
    return renderer(trace, index, seat, reveal)
