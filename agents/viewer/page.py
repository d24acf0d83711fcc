"""The single-file HTML page: inline CSS and JS, the episodes as embedded JSON.

Every fragment is built in Python with its text escaped (``games.esc``); the page's
script only swaps these fragments in, so a model's reply stays text. The page reads
its position from the URL fragment, ``#ep=0&turn=3&seat=1&all=1`` (and ``cw=N`` for
Core War's animation frame), and writes it back as you step.
"""

from __future__ import annotations

import json
from typing import Any

from selfplay_agents.viewer import games
from selfplay_agents.viewer.games import esc

__all__ = ["build_page", "episode_data"]


def episode_data(trace: dict[str, Any]) -> dict[str, Any]:
    """What the page needs of one trace: pre-rendered fragments per frame and seat."""
    frames = []
    for index, frame in enumerate(trace["frames"]):
        views = []
        for seat in range(len(trace["seats"])):
            plain = games.render(trace, index, seat, False)
            revealed = games.render(trace, index, seat, True)
            info = json.dumps(frame["infos"][seat], indent=1, sort_keys=True)
            views.append([
                plain, None if revealed == plain else revealed,
                f'<pre class="obs">{esc(frame["obs"][seat])}</pre>',
                f'<pre class="info">{esc(info)}</pre>',
            ])  # fmt: skip
        frames.append({"move": _move(trace, frame), "views": views})
    return {
        "title": trace["title"],
        "header": _header(trace),
        "seats": trace["seats"],
        "images": trace["images"],
        "corewar": trace.get("corewar"),
        "log": [_move(trace, f, 90) for f in trace["frames"]],
        "frames": frames,
    }


def _move(trace: dict[str, Any], frame: dict[str, Any], limit: int = 300) -> str:
    """One line about the move that led to ``frame`` (the log cuts replies shorter)."""
    if frame["actor"] is None:
        return "<b>start</b>: the position after reset"
    record = frame["record"] or {}
    full = str(frame["action"])
    # One line in the move bar and the log; a long or multi-line reply in full below.
    reply = " ".join(full.split())
    parsed = record.get("parsed")
    parsed = None if parsed is None else " ".join(str(parsed).split())
    if not record.get("valid", True):
        verdict = f'<span class="bad">invalid</span>: {esc(record.get("reason", ""))}'
    elif parsed is None or parsed.strip() == reply.strip():
        verdict = '<span class="ok">valid</span>'
    else:
        verdict = f'<span class="ok">valid</span>, parsed as <code>{esc(_short(parsed, min(limit, 160)))}</code>'
    policy = trace["agents"].get(frame["actor"])
    who = f"{frame['actor']} ({policy})" if policy else frame["actor"]
    rewards = ", ".join(f"{a} {r:+g}" for a, r in frame["rewards"].items() if r)
    return (
        f"<b>step {frame['step']}</b>: {esc(who)} replied "
        f'<code class="reply">{esc(_short(reply, min(limit, 160)))}</code> &rarr; {verdict}'
        + (f"; rewards {esc(rewards)}" if rewards else "")
        + (
            f'<details><summary>full reply</summary><pre class="reply">{esc(full)}</pre></details>'
            if limit >= 300 and (len(full) > 160 or "\n" in full.strip())
            else ""
        )
    )


def _short(text: Any, limit: int = 300) -> str:
    text = str(text)
    if len(text) <= limit:
        return text
    return text[:limit] + f"... ({len(text)} characters)"


def _header(trace: dict[str, Any]) -> str:
    config = json.dumps(trace["config"]) if trace["config"] else "defaults"
    notes = "".join(f'<li class="note">{esc(n)}</li>' for n in trace["notes"])
    returns = trace.get("returns")
    result = (
        ", ".join(f"{a} {r:+g}" for a, r in returns.items()) if returns else "unknown"
    )
    return (
        f"<h1>{esc(trace['title'])}</h1><p>{esc(trace['env_id'])}, seed "
        f"{esc(trace['seed'])}, config {esc(config)}; returns: <b>{esc(result)}</b></p>"
        + (f"<ul>{notes}</ul>" if notes else "")
    )


def build_page(traces: list[dict[str, Any]]) -> str:
    """The whole HTML document for ``traces`` (one or more episodes)."""
    data = [episode_data(t) for t in traces]
    # "<" escaped inside the JSON: no text in it can close the script element.
    payload = json.dumps(data).replace("<", "\\u003c")
    title = esc(traces[0]["title"]) if traces else "episodes"
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{CSS}</style></head><body>{BODY}"
        f'<script type="application/json" id="data">{payload}</script>'
        f"<script>{JS}</script></body></html>"
    )


BODY = """
<div id="header"></div>
<div class="controls">
 <select id="ep"></select>
 <button id="prev">&larr; prev</button>
 <input type="range" id="turn" min="0" value="0">
 <button id="next">next &rarr;</button>
 <span id="pos"></span>
 seat <select id="seat"></select>
 <label><input type="checkbox" id="all"> show all</label>
</div>
<div id="move" class="move"></div>
<div class="main">
 <div class="left"><div id="game" class="game"></div></div>
 <div class="right">
  <h3>What <span id="seatname"></span> sees</h3><div id="obs"></div>
  <details><summary>infos (full)</summary><div id="info"></div></details>
  <h3>Moves</h3><ol id="log" start="0"></ol>
 </div>
</div>
"""

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:12px;background:#fafafa;color:#222}
h1{font-size:20px;margin:4px 0} h3{margin:10px 0 4px} h4{margin:10px 0 4px}
.controls{position:sticky;top:0;background:#eef;padding:6px;border-radius:6px}
.controls input[type=range]{width:260px;vertical-align:middle}
.move{margin:8px 0;padding:6px;background:#fff;border:1px solid #ddd;border-radius:6px}
.ok{color:#080;font-weight:bold}.bad{color:#c00;font-weight:bold}
code.reply{background:#f3f3f3;white-space:pre-wrap}
.main{display:flex;gap:16px}.left{flex:3;min-width:0}.right{flex:2;min-width:0}
pre{white-space:pre-wrap;word-break:break-word;background:#fff;border:1px solid #ddd;
 padding:6px;max-height:420px;overflow:auto;font-size:12px}
pre.diff{background:#f8fff8}
#log li{cursor:pointer;font-size:12px}#log li.cur{background:#ffd}
table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #ccc;padding:2px 6px}
.ttt{display:grid;grid-template-columns:repeat(3,90px);gap:4px}
.ttt .cell{width:90px;height:90px;background:#fff;border:2px solid #555;font-size:56px;
 display:flex;align-items:center;justify-content:center;font-weight:bold}
.ttt .cell[data-mark=X]{color:#1f5fbf}.ttt .cell[data-mark=O]{color:#c0392b}
.ttt .cell.last{background:#ffefb0}
.cards{display:flex;gap:30px}.hand{text-align:center}
.card{width:70px;height:100px;border:2px solid #333;border-radius:8px;background:#fff;
 font-size:44px;display:flex;align-items:center;justify-content:center;margin:auto}
.card.back{background:repeating-linear-gradient(45deg,#36c,#36c 6px,#249 6px,#249 12px);color:#fff}
.chat .msg{margin:4px 0;padding:6px;border-radius:8px;max-width:80%}
.chat .p0{background:#dde8ff}.chat .p1{background:#ffe3dd;margin-left:auto}
.offer{display:inline-block;background:#fff;border:1px solid #999;border-radius:4px;padding:0 4px;font-size:12px}
.sides{display:flex;gap:20px}
.items{display:flex;gap:12px;flex-wrap:wrap}.item{margin:0;text-align:center}
.item img{width:240px;border:3px solid #888}.item.spy img{border-color:#c00}
.word{font-size:20px;padding:20px;border:2px solid #888;background:#fff;white-space:pre-wrap}
.passage{background:#fff;border:1px solid #ddd;margin:4px 0;padding:4px;font-size:12px}
.corewar canvas{border:1px solid #333;background:#111;max-width:100%}
.legend>span{margin-right:12px}.w0{color:#3b82f6}.w1{color:#ef4444}.w2{color:#22c55e}.w3{color:#eab308}
.note{color:#a40}
"""

JS = r"""
const DATA = JSON.parse(document.getElementById('data').textContent);
const $ = id => document.getElementById(id);
const state = {ep: 0, turn: 0, seat: 0, all: false, cw: null};
const COLORS = ['#3b82f6', '#ef4444', '#22c55e', '#eab308', '#a855f7', '#14b8a6'];
const BRIGHT = ['#bfdbfe', '#fecaca', '#bbf7d0', '#fef08a', '#e9d5ff', '#99f6e4'];
let timer = null;

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const num = (k, d) => params.has(k) && !isNaN(parseInt(params.get(k))) ? parseInt(params.get(k)) : d;
  state.ep = Math.min(Math.max(num('ep', 0), 0), DATA.length - 1);
  const frames = DATA[state.ep].frames.length;
  const turn = params.get('turn') === 'last' ? frames - 1 : num('turn', 0);
  state.turn = Math.min(Math.max(turn, 0), frames - 1);
  state.seat = Math.min(Math.max(num('seat', 0), 0), DATA[state.ep].seats.length - 1);
  state.all = params.get('all') === '1';
  state.cw = params.has('cw') ? num('cw', null) : null;
}

function writeHash() {
  const h = `#ep=${state.ep}&turn=${state.turn}&seat=${state.seat}&all=${state.all ? 1 : 0}`;
  history.replaceState(null, '', h);
}

function show() {
  const ep = DATA[state.ep];
  const frame = ep.frames[state.turn];
  const view = frame.views[state.seat];
  $('header').innerHTML = ep.header;
  $('ep').value = state.ep;
  $('turn').max = ep.frames.length - 1; $('turn').value = state.turn;
  $('pos').textContent = `step ${state.turn} of ${ep.frames.length - 1}`;
  fillOptions($('seat'), ep.seats);
  $('seat').value = state.seat; $('all').checked = state.all;
  $('seatname').textContent = ep.seats[state.seat];
  $('move').innerHTML = frame.move;
  $('game').innerHTML = (state.all && view[1] !== null) ? view[1] : view[0];
  $('game').dataset.turn = state.turn; $('game').dataset.seat = state.seat;
  $('obs').innerHTML = view[2]; $('info').innerHTML = view[3];
  $('log').innerHTML = ep.log.map((m, i) => `<li data-step="${i}"${i === state.turn ? ' class="cur"' : ''}>${m}</li>`).join('');
  for (const img of $('game').querySelectorAll('img[data-img]')) img.src = ep.images[img.dataset.img];
  if ($('core')) setupCore(ep.corewar);
  writeHash();
}

function setupCore(cw) {
  const slider = $('cwframe');
  slider.max = cw.frames.length - 1;
  const start = state.cw === null ? cw.frames.length - 1 : Math.min(state.cw, cw.frames.length - 1);
  slider.value = start; drawCore(cw, start);
  slider.oninput = () => { stopCore(); drawCore(cw, +slider.value); };
  $('cwplay').onclick = () => {
    if (timer) { stopCore(); return; }
    let i = +slider.value >= cw.frames.length - 1 ? 0 : +slider.value;
    $('cwplay').textContent = 'pause';
    timer = setInterval(() => {
      slider.value = i; drawCore(cw, i);
      if (++i >= cw.frames.length) stopCore();
    }, 60);
  };
}

function stopCore() {
  if (timer) clearInterval(timer);
  timer = null;
  if ($('cwplay')) $('cwplay').textContent = 'play';
}

function drawCore(cw, index) {
  const canvas = $('core'), ctx = canvas.getContext('2d');
  const frame = cw.frames[index], size = cw.core_size;
  const cols = Math.ceil(Math.sqrt(size * 2)), rows = Math.ceil(size / cols);
  const w = canvas.width / cols, h = canvas.height / rows;
  ctx.fillStyle = '#111'; ctx.fillRect(0, 0, canvas.width, canvas.height);
  for (let c = 0; c < size; c++) {
    const o = frame.owner[c];
    ctx.fillStyle = o === '.' ? '#2a2a2a' : COLORS[+o % COLORS.length];
    ctx.fillRect((c % cols) * w + 1, Math.floor(c / cols) * h + 1, w - 2, h - 2);
  }
  for (const [c, k] of frame.writes) {
    ctx.fillStyle = BRIGHT[k % BRIGHT.length];
    ctx.fillRect((c % cols) * w + 1, Math.floor(c / cols) * h + 1, w - 2, h - 2);
  }
  ctx.strokeStyle = '#fff'; ctx.lineWidth = 2;
  for (const pcs of frame.pcs) for (const c of pcs)
    ctx.strokeRect((c % cols) * w + 1, Math.floor(c / cols) * h + 1, w - 2, h - 2);
  canvas.dataset.frame = index;
  for (const b of document.querySelectorAll('[data-procs]')) b.textContent = frame.processes[+b.dataset.procs];
  for (const w of document.querySelectorAll('[data-procs-word]'))
    w.textContent = frame.processes[+w.dataset.procsWord] === 1 ? 'process' : 'processes';
  $('cwstep').textContent = `step ${frame.step} of ${cw.frames[cw.frames.length - 1].step}`;
}

function go(turn) {
  const n = DATA[state.ep].frames.length;
  state.turn = Math.min(Math.max(turn, 0), n - 1); state.cw = null; stopCore(); show();
}

function fillOptions(select, names) {
  select.textContent = '';
  names.forEach((name, i) => select.add(new Option(`${i}: ${name}`, i)));
}

fillOptions($('ep'), DATA.map(e => e.title));
$('ep').onchange = () => { state.ep = +$('ep').value; state.turn = 0; state.seat = 0; show(); };
$('prev').onclick = () => go(state.turn - 1);
$('next').onclick = () => go(state.turn + 1);
$('turn').oninput = () => go(+$('turn').value);
$('seat').onchange = () => { state.seat = +$('seat').value; show(); };
$('all').onchange = () => { state.all = $('all').checked; show(); };
$('log').onclick = e => { const li = e.target.closest('li'); if (li) go(+li.dataset.step); };
document.addEventListener('keydown', e => {
  // A focused slider or menu moves by itself: stepping here too would skip a step.
  if (e.target.closest && e.target.closest('input, select, textarea')) return;
  if (e.key === 'ArrowRight') go(state.turn + 1);
  if (e.key === 'ArrowLeft') go(state.turn - 1);
});
window.addEventListener('hashchange', () => { readHash(); show(); });
readHash(); show();
"""
