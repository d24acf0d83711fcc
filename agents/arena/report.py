"""Summaries, plots and the Markdown report of an arena run.

Errored games (``"status": "error"`` in ``results.jsonl``) count in no pairing, rating
or metric; each game's summary counts them, per pairing too, with their reasons.

The same records give byte-identical files: records are taken in key order (not in the
order games finished), the bootstrap is seeded from the run's seed, and the PNGs carry
no matplotlib version or date. Only the report's header, when given ``run_info``,
changes from run to run: its date line (and machine, version, git revision).
"""

from __future__ import annotations

import csv
import json
import os
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from selfplay_agents.arena.runner import finished, is_errored, score_table
from selfplay_agents.arena.stats import (
    Rating,
    bootstrap_ratings,
    weng_lin_update,
    wilson_interval,
)

__all__ = [
    "summarize",
    "write_report",
    "played",
    "bootstrap_seed",
    "run_info",
    "ratings_figure",
    "winrate_figure",
    "text_colour",
]

# No "Software" entry (matplotlib's version) in the PNGs: the same results give the
# same bytes on any install.
PNG_METADATA = {"Software": None}


def _agents_of(records: Sequence[dict[str, Any]], env_id: str) -> list[str]:
    names = {r["a"] for r in records if r["env_id"] == env_id}
    names |= {r["b"] for r in records if r["env_id"] == env_id}
    return sorted(names)


def bootstrap_seed(seed: int, env_id: str) -> list[int]:
    """The bootstrap's seed for ``env_id`` in a run seeded ``seed`` (stable across
    processes and Python versions, unlike ``hash``)."""
    return [seed, zlib.crc32(env_id.encode())]


def summarize(
    records: Sequence[dict[str, Any]], *, bootstrap: int = 200, seed: int = 0
) -> dict[str, Any]:
    """Per game: pairings with W/D/L and Wilson intervals, ratings with intervals.

    Errored games are left out of every statistic; ``"errored"`` counts them per game
    and per pairing with their reasons, and ``"all_errored"`` says that the game has
    no result at all. The result depends on the records, not on their order, and on
    ``seed`` (the run's seed), which seeds each game's bootstrap.
    """
    # The order games finished in (parallel workers, resumes) must not matter: it
    # changes the bootstrap's resamples and the last digits of sums.
    records = sorted(records, key=lambda r: r["key"])
    summary: dict[str, Any] = {}
    errored = [r for r in records if is_errored(r)]
    records = finished(records)
    table = score_table(records)
    for env_id in sorted({r["env_id"] for r in records}):
        agents = _agents_of(records, env_id)
        pairings = []
        for (game, a, b), (w, d, lost) in sorted(table.items()):
            if game != env_id:
                continue
            n = int(w + d + lost)
            low, high = wilson_interval(w + 0.5 * d, n)
            pairings.append(
                {
                    "a": a,
                    "b": b,
                    "wins": int(w),
                    "draws": int(d),
                    "losses": int(lost),
                    "games": n,
                    "score": (w + 0.5 * d) / n,
                    "score_low": low,
                    "score_high": high,
                }
            )
        returns: dict[tuple[str, str], list[float]] = {}
        for r in records:
            if r["env_id"] == env_id:
                returns.setdefault((r["a"], r["b"]), []).append(r["return_a"])
        for p in pairings:
            p["mean_return"] = float(np.mean(returns[(p["a"], p["b"])]))
        games = [
            (agents.index(r["a"]), agents.index(r["b"]), r["score_a"])
            for r in records
            if r["env_id"] == env_id
        ]
        ratings, low, high = bootstrap_ratings(
            games, len(agents), samples=bootstrap, seed=bootstrap_seed(seed, env_id)
        )
        summary[env_id] = {
            "agents": agents,
            "pairings": pairings,
            "ratings": {
                a: {
                    "elo": float(ratings[i]),
                    "low": float(low[i]),
                    "high": float(high[i]),
                }
                for i, a in enumerate(agents)
            },
            "skill": _team_skill(records, env_id, agents),
            "metrics": _metric_means(records, env_id),
            "all_errored": False,
        }
    for env_id in sorted({r["env_id"] for r in errored} - set(summary)):
        summary[env_id] = {
            "agents": _agents_of(errored, env_id),
            "pairings": [],
            "ratings": {},
            "skill": {},
            "metrics": {},
            "all_errored": True,
        }
    for env_id, game in summary.items():
        game["errored"] = _errors(errored, env_id)
        for p in game["pairings"]:
            p["errored"] = game["errored"]["pairings"].get(f"{p['a']} vs {p['b']}", 0)
    return dict(sorted(summary.items()))


def _errors(errored: Sequence[dict[str, Any]], env_id: str) -> dict[str, Any]:
    """Errored games of ``env_id``: how many, per pairing, and each reason's count."""
    mine = [r for r in errored if r["env_id"] == env_id]
    reasons = Counter(r.get("error") or "unknown error" for r in mine)
    pairings = Counter(f"{r['a']} vs {r['b']}" for r in mine)
    return {
        "games": len(mine),
        "pairings": dict(sorted(pairings.items())),
        "reasons": [
            {"reason": reason, "count": count}
            for reason, count in sorted(reasons.items(), key=lambda x: (-x[1], x[0]))
        ],
    }


def played(summary: Mapping[str, Any]) -> list[str]:
    """The games of ``summary`` with at least one result (not every game errored)."""
    return [g for g, game in summary.items() if not game.get("all_errored", False)]


def _team_skill(records, env_id, agents) -> dict[str, dict[str, float]]:
    """Weng-Lin (OpenSkill) ratings, played in record order; meant for team games."""
    ratings = {a: Rating() for a in agents}
    ordered = sorted(
        (r for r in records if r["env_id"] == env_id),
        key=lambda r: (r["index"], r["key"]),
    )
    for r in ordered:
        rank_a = 0 if r["score_a"] > 0.5 else 1 if r["score_a"] < 0.5 else 0
        rank_b = 0 if r["score_a"] < 0.5 else 1 if r["score_a"] > 0.5 else 0
        (new_a,), (new_b,) = weng_lin_update(
            [[ratings[r["a"]]], [ratings[r["b"]]]], [rank_a, rank_b]
        )
        ratings[r["a"]], ratings[r["b"]] = new_a, new_b
    return {
        a: {"mu": x.mu, "sigma": x.sigma, "ordinal": x.conservative}
        for a, x in ratings.items()
    }


def _metric_means(records, env_id) -> dict[str, dict[str, float]]:
    """Mean of each game-reported metric per agent (e.g. exact match, solve rate)."""
    sums: dict[str, dict[str, list[float]]] = {}
    for r in records:
        if r["env_id"] != env_id:
            continue
        for side, spec in (("a", r["a"]), ("b", r["b"])):
            for name, value in r.get("metrics", {}).get(side, {}).items():
                sums.setdefault(spec, {}).setdefault(name, []).append(value)
    return {
        spec: {name: float(np.mean(values)) for name, values in metrics.items()}
        for spec, metrics in sums.items()
    }


def write_report(
    run_dir: Path,
    summary: dict[str, Any],
    gold: dict[str, Any],
    skipped: Mapping[str, str] | None = None,
    *,
    baselines: Mapping[str, str] | None = None,
    run: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write summary.json, summary.csv, the PNG plots and report.md; return the paths.

    ``skipped`` maps each game that was not played to why (it could not be built);
    ``baselines`` maps each game played against built-in baselines (it declares
    fewer than two opponents) to which were used; ``run`` (``run_info``) gives the
    header's run details. The plots show only games with results.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    skipped = dict(skipped or {})
    baselines = dict(baselines or {})
    paths = [run_dir / "summary.json", run_dir / "summary.csv"]
    paths[0].write_text(
        json.dumps(
            {
                "games": summary,
                "gold": gold,
                "skipped": skipped,
                "baselines": baselines,
            },
            indent=2,
            sort_keys=True,
        )
    )
    with paths[1].open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "env_id",
                "a",
                "b",
                "games",
                "wins",
                "draws",
                "losses",
                "score",
                "score_low",
                "score_high",
                "mean_return",
                "errored",
            ]
        )
        for env_id, game in summary.items():
            for p in game["pairings"]:
                writer.writerow(
                    [
                        env_id,
                        p["a"],
                        p["b"],
                        p["games"],
                        p["wins"],
                        p["draws"],
                        p["losses"],
                        f"{p['score']:.4f}",
                        f"{p['score_low']:.4f}",
                        f"{p['score_high']:.4f}",
                        f"{p['mean_return']:.4f}",
                        p["errored"],
                    ]
                )
    paths += _plots(run_dir, {g: summary[g] for g in played(summary)})
    paths.append(_markdown(run_dir, summary, gold, skipped, baselines, run))
    return paths


# Panels per row of the win-rate grid: seven games make a 3 x 3 grid, near square.
GRID_COLUMNS = 3
# Inches per win-rate panel, and per agent row of a ratings panel.
PANEL_INCHES = 4.6
RATING_ROW_INCHES = 0.42
MATRIX_CMAP = "RdYlGn"
COLORBAR_LABEL = "row agent's score against the column agent (win 1, draw 0.5)"


def text_colour(rgba: Sequence[float]) -> str:
    """Black or white, whichever reads better on the background colour ``rgba``.

    Uses the relative luminance of sRGB (ITU-R BT.709 weights on linearised channels):
    light cells get black text, dark cells white.
    """

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(float(c)) for c in rgba[:3])
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if luminance > 0.179 else "white"


def ratings_figure(summary: Mapping[str, Any]) -> Any:
    """One panel per game: each agent's Bradley-Terry rating with its interval."""
    import matplotlib.pyplot as plt

    games = list(summary)
    heights = [1.0 + RATING_ROW_INCHES * len(summary[g]["agents"]) for g in games]
    fig, axes = plt.subplots(
        len(games),
        1,
        figsize=(8, 0.6 + sum(heights)),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
        layout="constrained",
    )
    fig.suptitle("Bradley-Terry rating (Elo scale, mean 0) with 95% bootstrap interval")
    for ax, env_id in zip(axes[:, 0], games, strict=False):
        ratings = summary[env_id]["ratings"]
        names = sorted(ratings, key=lambda a: ratings[a]["elo"])
        elo = np.array([ratings[a]["elo"] for a in names])
        err = np.array(
            [
                [elo[i] - ratings[a]["low"], ratings[a]["high"] - elo[i]]
                for i, a in enumerate(names)
            ]
        ).T
        ax.errorbar(elo, range(len(names)), xerr=np.maximum(err, 0), fmt="o", capsize=4)
        ax.set_yticks(range(len(names)), names)
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.set_title(env_id, loc="left", fontsize=11)
        ax.set_xlabel("Elo rating (0 = the pool's mean)")
        ax.axvline(0, color="grey", lw=0.5)
        ax.grid(axis="x", lw=0.3, alpha=0.5)
    return fig


def winrate_figure(summary: Mapping[str, Any]) -> Any:
    """A grid of win-rate matrices, one panel per game, sharing one labelled colour
    bar; each cell's number is black or white by its background's luminance."""
    import matplotlib.pyplot as plt

    games = list(summary)
    cols = min(GRID_COLUMNS, len(games))
    rows = -(-len(games) // cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        # At least 7 x 5.5 inches: one game's titles and colour bar label fit.
        figsize=(
            max(PANEL_INCHES * cols + 1.2, 7.0),
            max(PANEL_INCHES * rows + 0.4, 5.5),
        ),
        squeeze=False,
        layout="constrained",
    )
    cmap = plt.get_cmap(MATRIX_CMAP)
    image = None
    for ax, env_id in zip(axes.flat, games, strict=False):
        agents = summary[env_id]["agents"]
        matrix = np.full((len(agents), len(agents)), np.nan)
        for p in summary[env_id]["pairings"]:
            i, j = agents.index(p["a"]), agents.index(p["b"])
            matrix[i, j], matrix[j, i] = p["score"], 1 - p["score"]
        image = ax.imshow(matrix, vmin=0, vmax=1, cmap=cmap)
        labels = [_short(a) for a in agents]
        ax.set_xticks(range(len(agents)), labels, rotation=35, ha="right")
        ax.set_yticks(range(len(agents)), labels)
        size = 11 if len(agents) <= 4 else 9
        for (i, j), value in np.ndenumerate(matrix):
            if not np.isnan(value):
                ax.text(
                    j,
                    i,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=size,
                    color=text_colour(cmap(value)),
                )
        ax.set_title(env_id, fontsize=11)
    for ax in axes.flat[len(games) :]:
        ax.set_visible(False)  # the grid's spare cells
    fig.suptitle("Win-rate matrix: row agent's score against the column agent")
    bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6)
    bar.set_label(COLORBAR_LABEL)
    return fig


def _short(spec: str, width: int = 22) -> str:
    """An axis label for an agent spec: an import path keeps its object's name."""
    name = (
        spec.rsplit(":", 1)[-1] if ":" in spec and not spec.startswith("llm:") else spec
    )
    return name if len(name) <= width else name[: width - 1] + "…"


def _plots(run_dir: Path, summary: dict[str, Any]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not summary:
        return []  # nothing was played: no plot to draw
    paths = []
    for name, draw in (
        ("ratings.png", ratings_figure),
        ("winrate_matrix.png", winrate_figure),
    ):
        fig = draw(summary)
        path = run_dir / name
        fig.savefig(path, dpi=100, metadata=PNG_METADATA)
        plt.close(fig)
        paths.append(path)
    return paths


def run_info(settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the report's header says of a run: its settings (``run_settings``), the
    package version, the git revision when the code sits in a git checkout, the date
    (UTC) and the machine."""
    import datetime
    import importlib.metadata
    import platform
    import subprocess

    try:
        version = importlib.metadata.version("selfplay-envs")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown (not installed)"
    try:
        revision = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        revision = ""
    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "settings": dict(settings or {}),
        "version": version,
        "revision": revision or "unknown (not a git checkout)",
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.node() or 'unknown host'}, {platform.platform()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs",
    }


# One line per number of the report: what it is and where it comes from.
DEFINITIONS = [
    "**W-D-L of a**: wins, draws and losses of agent `a` against `b`, from the "
    "final returns in `results.jsonl` (the side with the higher return wins; equal "
    "returns are a draw), over both seat orders.",
    "**score of a**: (wins + draws / 2) / games, with its 95% Wilson score interval.",
    "**mean return of a**: the mean of `a`'s return from the env (chips in Kuhn "
    "poker, +1 / 0 / -1 where a game scores only the outcome).",
    "**Elo, 95% CI**: Bradley-Terry strengths fitted to every game of the game (MM "
    "algorithm), on the Elo scale with mean 0 over the pool; the interval is the "
    "2.5-97.5 percentile of bootstrap resamples of the games (200 in `selfplay bench`). A difference of "
    "+191 Elo means a 75% expected score.",
    "**OpenSkill ordinal**: mu - 3 sigma of a Weng-Lin (OpenSkill Bradley-Terry) "
    "rating that starts at mu = 25, sigma = 8.33 and is updated game by game in seed "
    "order: a cautious skill estimate (the true skill is very likely above it), on "
    "its own scale (not Elo); it also rates the multi-player spy game by teams.",
    "**errored**: games whose judge failed (an `InfrastructureError`: a sandbox, a "
    "kernel, a retriever); they count in no other number and are played again on "
    "resume. **Skipped** games could not be built here and were not played.",
    '**Game metrics**: numbers each game reports itself in `info["metrics"]` at '
    "the end of a game, averaged per agent over its games. They are *not* the "
    "table's outcomes: see each metric's line below its table.",
    "**Gold standard**: numbers that do not depend on the pool: exact Kuhn "
    "exploitability (NashConv / 2; sampled for black-box policies), the share of "
    "games lost to minimax in tic-tac-toe, and to MCTS with 100 and 1000 "
    "simulations in Connect Four, and OpenSpiel's exact exploitability in Leduc "
    "hold'em (sampled for black-box policies) and Liar's Dice (exact policies only).",
]

# What each game-reported metric measures, where the report knows it.
METRIC_MEANINGS = {
    "score": "Core War: pMARS points over the most possible, per battle",
    "win_rate": "Core War: share of the battle's rounds won",
    "tie_rate": "Core War: share of the battle's *rounds* that tied (a game is one "
    "battle of many rounds, so a game with many tied rounds still has a winner: "
    "the table's draws count whole games with equal returns)",
    "loss_rate": "Core War: share of the battle's rounds lost",
    "survival": "Core War: DRQ's survival share of the battle (the warriors' shares "
    "sum to the number of warriors, so 1 is par)",
    "valid_artifact": "bug repair: the injector's bug was valid",
    "solve_rate": "bug repair: share of valid bugs the solver fixed",
    "question_valid": "search QA: the proposer's question was valid",
    "exact_match": "search QA: the solver's answer matched exactly",
    "f1": "search QA: token F1 of the solver's answer",
}


def _header(
    summary: Mapping[str, Any],
    skipped: Mapping[str, str],
    run: Mapping[str, Any] | None,
) -> list[str]:
    """The report's first lines: what was run, on what, and how many games counted."""
    run = run or {}
    settings = run.get("settings") or {}
    plans = settings.get("games") or {}
    seed = settings.get("seed")
    lines = ["## Run", ""]
    finished_games = sum(p["games"] for g in summary.values() for p in g["pairings"])
    errored = sum(g["errored"]["games"] for g in summary.values())
    lines.append(
        f"- games: {finished_games} finished, {errored} errored (not counted), "
        f"{len(skipped)} of {len(set(summary) | set(skipped))} games skipped"
    )
    for env_id in sorted(set(summary) | set(plans)):
        plan = plans.get(env_id)
        agents = plan["agents"] if plan else summary[env_id]["agents"]
        text = f"- {env_id}: {len(agents)} agents"
        if plan:
            games = plan["games"]
            text += f", {games} seeds per pairing x 2 seat orders"
            if seed is not None:
                text += f" (seeds {seed}..{seed + games - 1})"
            if plan.get("config"):
                config = ", ".join(
                    f"{k}={v!r}" for k, v in sorted(plan["config"].items())
                )
                text += f", config {config}"
        if env_id in skipped:
            text += ": skipped"
        lines.append(text)
    if seed is not None:
        lines.append(f"- base seed: {seed} (`--seed`; also seeds the bootstrap)")
    for field in ("version", "revision", "date", "machine"):
        if field in run:
            name = {"version": "selfplay-envs", "revision": "git revision"}.get(
                field, field
            )
            lines.append(f"- {name}: {run[field]}")
    return [*lines, ""]


def _markdown(
    run_dir: Path,
    summary: dict[str, Any],
    gold: dict[str, Any],
    skipped: Mapping[str, str],
    baselines: Mapping[str, str],
    run: Mapping[str, Any] | None = None,
) -> Path:
    lines = ["# Arena report", ""]
    lines += _header(summary, skipped, run)
    lines += ["## How to read it", ""]
    lines += [f"- {line}" for line in DEFINITIONS] + [""]
    if played(summary):
        lines += [
            "![ratings](ratings.png)",
            "",
            "![win-rate matrix](winrate_matrix.png)",
            "",
        ]
    else:
        lines += ["**No game has a result**: nothing to rate.", ""]
    errored = {g: s["errored"]["games"] for g, s in summary.items()}
    if any(errored.values()):
        lines += [
            "Errored games are infrastructure failures, not results: they count in no "
            "score, rating or metric, and a re-run with the same `--out` plays them "
            "again.",
            "",
        ]
        for env_id, count in errored.items():
            if count:
                lines.append(f"- {env_id}: {count} errored")
        lines.append("")
    if skipped:
        lines += ["## Skipped games", ""]
        for env_id, reason in skipped.items():
            lines.append(f"- {env_id}: {reason}")
        lines.append("")
    if baselines:
        lines += ["## Games played against built-in baselines", ""]
        for env_id, note in baselines.items():
            lines.append(f"- {env_id}: {note}")
        lines.append("")
    for env_id, game in summary.items():
        lines += [f"## {env_id}", ""]
        if env_id in baselines:
            lines += [f"Baselines: {baselines[env_id]}.", ""]
        if game["all_errored"]:
            lines += [
                f"**Every game of {env_id} errored** ({game['errored']['games']} "
                "games): no result, no rating.",
            ]
        else:
            lines += _result_tables(game)
        lines += _error_lines(game["errored"])
        own = _gold_only(gold.get(env_id) or {}, game["metrics"])
        if own:
            lines += ["", "Gold standard:", ""]
            for name, value in own.items():
                lines.append(f"- {name}: {value}")
        lines.append("")
    path = run_dir / "report.md"
    path.write_text("\n".join(lines))
    return path


def _gold_only(
    gold: Mapping[str, Any], metrics: Mapping[str, Mapping[str, float]]
) -> dict[str, Any]:
    """The gold standards that are not game metrics: ``gold_standards`` also lists
    every game metric as ``"name (agent)"``, which "Game metrics" already shows."""
    repeated = {f"{name} ({spec})" for spec, m in metrics.items() for name in m}
    return {k: v for k, v in gold.items() if k not in repeated}


def _result_tables(game: dict[str, Any]) -> list[str]:
    lines = [
        "| agent | Elo | 95% CI | OpenSkill ordinal |",
        "|---|---|---|---|",
    ]
    ratings = game["ratings"]
    for agent in sorted(ratings, key=lambda a: -ratings[a]["elo"]):
        r = ratings[agent]
        lines.append(
            f"| {agent} | {r['elo']:+.0f} | [{r['low']:+.0f}, {r['high']:+.0f}] "
            f"| {game['skill'][agent]['ordinal']:.1f} |"
        )
    lines += [
        "",
        "| a | b | games | W-D-L of a | score of a (95% Wilson) | mean return of a "
        "| errored |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in game["pairings"]:
        lines.append(
            f"| {p['a']} | {p['b']} | {p['games']} | {p['wins']}-{p['draws']}-"
            f"{p['losses']} | {p['score']:.2f} [{p['score_low']:.2f}, "
            f"{p['score_high']:.2f}] | {p['mean_return']:+.3f} | {p['errored']} |"
        )
    if game["metrics"]:
        lines += [
            "",
            'Game metrics (reported by the game in `info["metrics"]`, mean per '
            "agent over its games):",
            "",
        ]
        for spec, metrics in sorted(game["metrics"].items()):
            text = ", ".join(f"{k} = {v:.3f}" for k, v in sorted(metrics.items()))
            lines.append(f"- {spec}: {text}")
        names = sorted({k for m in game["metrics"].values() for k in m})
        lines += ["", "Where they come from:", ""]
        for name in names:
            meaning = METRIC_MEANINGS.get(name, "as the game's docs define it")
            lines.append(f"- `{name}`: {meaning}")
    return lines


def _error_lines(errored: dict[str, Any]) -> list[str]:
    if not errored["games"]:
        return []
    pairings = ", ".join(f"{k}: {v}" for k, v in errored["pairings"].items())
    lines = [
        "",
        f"Errored games (not counted): {errored['games']} ({pairings}). Reasons:",
        "",
    ]
    for item in errored["reasons"]:
        reason = " ".join(item["reason"].split())  # one line per reason
        lines.append(f"- {item['count']} x {reason}")
    return lines
