"""Summaries, plots and the Markdown report of an arena run.

Errored games (``"status": "error"`` in ``results.jsonl``) count in no pairing, rating
or metric; each game's summary counts them, per pairing too, with their reasons.

The same records give byte-identical files: records are taken in key order (not in the
order games finished), the bootstrap is seeded from the run's seed, and the PNGs carry
no matplotlib version or date.
"""

from __future__ import annotations

import csv
import json
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.arena.runner import finished, is_errored, score_table
from agents.arena.stats import (
    Rating,
    bootstrap_ratings,
    weng_lin_update,
    wilson_interval,
)

__all__ = ["summarize", "write_report", "played", "bootstrap_seed"]

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
) -> list[Path]:
    """Write summary.json, summary.csv, the PNG plots and report.md; return the paths.

    ``skipped`` maps each game that was not played to why (it could not be built);
    ``baselines`` maps each game played against built-in baselines (it declares
    fewer than two opponents) to which were used. The plots show only games with
    results.
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
    paths.append(_markdown(run_dir, summary, gold, skipped, baselines))
    return paths


def _plots(run_dir: Path, summary: dict[str, Any]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    games = list(summary)
    if not games:
        return []  # nothing was played: no plot to draw
    fig, axes = plt.subplots(
        len(games),
        1,
        figsize=(7, 1.2 + 0.5 * sum(len(summary[g]["agents"]) for g in games)),
        squeeze=False,
    )
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
        ax.set_title(f"{env_id}: Bradley-Terry rating (Elo), 95% bootstrap interval")
        ax.axvline(0, color="grey", lw=0.5)
    fig.tight_layout()
    ratings_path = run_dir / "ratings.png"
    fig.savefig(ratings_path, dpi=100, metadata=PNG_METADATA)
    plt.close(fig)

    fig, axes = plt.subplots(
        1, len(games), figsize=(4.2 * len(games), 4), squeeze=False
    )
    for ax, env_id in zip(axes[0], games, strict=False):
        agents = summary[env_id]["agents"]
        matrix = np.full((len(agents), len(agents)), np.nan)
        for p in summary[env_id]["pairings"]:
            i, j = agents.index(p["a"]), agents.index(p["b"])
            matrix[i, j], matrix[j, i] = p["score"], 1 - p["score"]
        image = ax.imshow(matrix, vmin=0, vmax=1, cmap="RdYlGn")
        ax.set_xticks(range(len(agents)), agents, rotation=45, ha="right")
        ax.set_yticks(range(len(agents)), agents)
        for (i, j), value in np.ndenumerate(matrix):
            if not np.isnan(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8)
        ax.set_title(f"{env_id}\nrow's score vs column")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8)
    matrix_path = run_dir / "winrate_matrix.png"
    fig.savefig(matrix_path, dpi=100, bbox_inches="tight", metadata=PNG_METADATA)
    plt.close(fig)
    return [ratings_path, matrix_path]


def _markdown(
    run_dir: Path,
    summary: dict[str, Any],
    gold: dict[str, Any],
    skipped: Mapping[str, str],
    baselines: Mapping[str, str],
) -> Path:
    lines = ["# Arena report", ""]
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
        if env_id in gold and gold[env_id]:
            lines += ["", "Gold standard:", ""]
            for name, value in gold[env_id].items():
                lines.append(f"- {name}: {value}")
        lines.append("")
    path = run_dir / "report.md"
    path.write_text("\n".join(lines))
    return path


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
        lines += ["", "Game metrics (mean per agent):", ""]
        for spec, metrics in sorted(game["metrics"].items()):
            text = ", ".join(f"{k} = {v:.3f}" for k, v in sorted(metrics.items()))
            lines.append(f"- {spec}: {text}")
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
