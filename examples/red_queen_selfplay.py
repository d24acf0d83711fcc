"""Digital Red Queen on CPU: rounds of MAP-Elites with the scripted Redcode mutator.

``RedQueen`` (``selfplay_agents.selfplay.red_queen``) runs DRQ's loop on ``core_war_v0`` with
``preset="drq"`` (the koth94 hill, survival fitness, one melee per evaluation): each
round evolves warriors against the initial opponents plus the last champions, over a
MAP-Elites grid of DRQ's behaviour descriptors (tsp, mc), and its champion joins the
archive. The variation operator here is ``ScriptedMutator`` (no model), so the figures
measure the loop and the scripted search, not an LLM.

After the run, each round's champion meets a held-out warrior set that never enters
the archive, one duel each (DRQ's settings: 24 rounds at koth94):

* generality: the share of held-out warriors the champion beats or ties, i.e. its
  survival share against them is at least 1 (of 2: both survive equally long);
* mean share: its mean survival share against them (0 to 2).

The held-out set is a seeded sample of ``--held-out`` warriors (all of them, when there
are fewer) of the DRQ warrior collection in ``../shared/corewar/warriors/drq`` when
present, else of the shipped classics.
None of the held-out warriors is in the archive: a candidate is left out when its file
name or ``;name`` is an initial opponent's (case aside), or when its assembled code
(under the duel's hill) is that of an initial opponent or of any champion.

    python examples/red_queen_selfplay.py              # 10 rounds of 150 iterations
    python examples/red_queen_selfplay.py --quick      # the CI size

Writes ``generality.png``, ``phenotype.png`` and ``rounds.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

import selfplay_envs
from selfplay_agents.selfplay.red_queen import RedQueen, ScriptedMutator
from selfplay_envs.games.core_war.assembler import (
    AssemblerSettings,
    RedcodeError,
    assemble,
    to_load_file,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "envs_assets" / "core_war" / "warriors"
SHARED = ROOT.parent / "shared" / "corewar" / "warriors" / "drq"
INITIAL = ("imp.red", "dwarf.red")


def duel_settings() -> AssemblerSettings:
    """The assembler settings of a held-out duel (the DRQ preset, two warriors)."""
    game = selfplay_envs.make_game(
        "core_war_v0", preset="drq", archive=[SHIPPED / INITIAL[0]]
    )
    return game.config.assembler_settings()


def names_of(path: Path, source: str) -> set[str]:
    """A warrior's names, lower-cased: its file name without ``.red`` and its
    ``;name`` line."""
    names = {path.stem.lower()}
    for line in source.splitlines():
        if line.strip().lower().startswith(";name"):
            names.add(line.strip()[len(";name") :].strip().lower())
    return names - {""}


def code_of(source: str, settings: AssemblerSettings) -> str | None:
    """The assembled warrior as a load file (start and instructions, no comments);
    None if it does not assemble."""
    try:
        return to_load_file(assemble(source, settings), settings.core_size)
    except RedcodeError:
        return None


def held_out_set(
    size: int, seed: int, champions: list[str], folder: Path | None = None
) -> tuple[list[str], str, list[str]]:
    """Held-out warriors (sources), none of them in the archive; where they come from;
    the file names of the candidates left out for being in it.

    The archive is the initial opponents and the ``champions``. A candidate is in it
    when its file name or ``;name`` is an initial opponent's, or when its assembled code
    is an initial opponent's or a champion's. The others are drawn from ``folder``
    (default: DRQ's collection if present, else the shipped classics), ``size`` of
    them with a generator seeded by ``seed``, or all of them if there are fewer.
    """
    if folder is None:
        folder = SHARED if SHARED.is_dir() else SHIPPED
    settings = duel_settings()
    initial = [(SHIPPED / name, (SHIPPED / name).read_text()) for name in INITIAL]
    archive_names = set().union(*(names_of(path, text) for path, text in initial))
    archive_codes = {code_of(text, settings) for _, text in initial}
    archive_codes |= {code_of(text, settings) for text in champions}
    archive_codes.discard(None)
    eligible, excluded = [], []
    for path in sorted(folder.glob("*.red")):
        text = path.read_text(encoding="latin-1")
        if names_of(path, text) & archive_names or code_of(text, settings) in (
            archive_codes
        ):
            excluded.append(path.name)
        else:
            eligible.append(text)
    if len(eligible) > size:
        chosen = np.random.default_rng(seed).choice(len(eligible), size, replace=False)
        eligible = [eligible[i] for i in sorted(chosen)]
    return eligible, str(folder), excluded


def duel_share(source: str, opponent: str, seed: int) -> float | None:
    """Survival share of ``source`` in one duel (DRQ settings); None if the opponent
    does not assemble under the hill."""
    try:
        game = selfplay_envs.make_game("core_war_v0", preset="drq", archive=[opponent])
    except Exception:  # noqa: BLE001 - an opponent the hill refuses is left out
        return None
    state = game.new_initial_state(np.random.default_rng(seed))
    parsed = state.parse_action(0, source)
    if not parsed.ok:
        return None
    state.apply_action(0, parsed.action)
    return float(state.returns()[0])


def generality(source: str, held_out: list[str], seed: int) -> dict[str, float]:
    """Beats-or-ties share and mean survival share against ``held_out``."""
    shares = [
        s for s in (duel_share(source, w, seed) for w in held_out) if s is not None
    ]
    return {
        "generality": float(np.mean([s >= 1.0 for s in shares])),
        "mean_share": float(np.mean(shares)),
        "opponents": len(shares),
    }


#: DRQ's MAP-Elites bin edges of tsp and mc (``descriptors.drq_cell``).
TSP_EDGES = (1, 10, 100, 1000, 10000)
MC_EDGES = (10, 100, 500, 1000, 4000)


def label_groups(
    points: list[tuple[float, float]], near: float = 0.08
) -> list[list[int]]:
    """Indices of points that lie within ``near`` decades of each other on both log
    axes, so that one label names them all instead of labels drawn over each other."""
    groups: list[list[int]] = []
    for i, (x, y) in enumerate(points):
        for group in groups:
            gx, gy = points[group[0]]
            if abs(np.log10(x / gx)) < near and abs(np.log10(y / gy)) < near:
                group.append(i)
                break
        else:
            groups.append([i])
    return groups


def plot(rounds: list[dict[str, Any]], held_out: int, out: Path) -> None:
    """Generality per round, and the champions' phenotype."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    x = [r["round"] for r in rounds]
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(
        x,
        [r["generality"] for r in rounds],
        marker="o",
        label="beats or ties (survival share at least 1 of 2)",
    )
    axis.plot(
        x,
        [r["mean_share"] / 2 for r in rounds],
        marker="s",
        label="mean survival share / 2 (0.5: even)",
    )
    axis.set_xlabel("round")
    axis.set_ylabel("share of the held-out warriors")
    axis.set_ylim(0, 1)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_title(
        f"Red Queen champions against {held_out} held-out warriors (none in the archive)"
    )
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "generality.png", dpi=120)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(7, 5))
    points = [(r["tsp"] + 1, r["mc"] + 1) for r in rounds]
    for edge in TSP_EDGES:
        axis.axvline(edge + 1, color="grey", linestyle=":", linewidth=0.8)
    for edge in MC_EDGES:
        axis.axhline(edge + 1, color="grey", linestyle=":", linewidth=0.8)
    dots = axis.scatter(
        [px for px, _ in points], [py for _, py in points], c=x, cmap="viridis", s=60
    )
    for group in label_groups(points):
        axis.annotate(
            ", ".join(str(rounds[i]["round"]) for i in group),
            points[group[0]],
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=9,
        )
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlim(0.5, 2 * (TSP_EDGES[-1] + 1))
    axis.set_ylim(5, 2 * 8000)  # mc is at most the core size
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    axis.xaxis.set_major_formatter(plain)
    axis.yaxis.set_major_formatter(plain)
    axis.set_xlabel("tsp + 1 (total spawned processes)")
    axis.set_ylabel("mc + 1 (memory coverage, cells)")
    axis.set_title(
        "Champions' phenotype (DRQ's descriptors), labelled by round\n"
        "dotted: DRQ's MAP-Elites bin edges"
    )
    figure.colorbar(dots, label="round")
    figure.tight_layout()
    figure.savefig(out / "phenotype.png", dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the rounds, measure each champion, write the plots and the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run for CI")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--iters", type=int, default=150, help="iterations per round")
    parser.add_argument("--held-out", type=int, default=40, help="held-out warriors")
    parser.add_argument("--last-k", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/red_queen"))
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.iters, args.held_out = 3, 12, 6
    loop = RedQueen(
        ScriptedMutator(),
        [SHIPPED / name for name in INITIAL],
        n_rounds=args.rounds,
        n_iters=args.iters,
        last_k=args.last_k,
        seed=args.seed,
    )
    with tqdm(total=args.rounds * args.iters, desc="iterations", leave=False) as bar:
        while not loop.done:
            loop.step()
            bar.update(1)
    champions = [champion.source for champion in loop.champions]
    held_out, source, excluded = held_out_set(args.held_out, args.seed, champions)
    rounds = []
    for r, champion in enumerate(tqdm(loop.champions, desc="held-out", leave=False)):
        measured = generality(champion.source, held_out, args.seed)
        rounds.append(
            {
                "round": r,
                "fitness": champion.fitness,
                "tsp": champion.tsp,
                "mc": champion.mc,
                "cell": list(champion.cell),
                "length": len(champion.source.strip().splitlines()),
                **measured,
            }
        )
        print(
            f"round {r}: fitness {champion.fitness:.3f}, tsp {champion.tsp:.0f}, "
            f"mc {champion.mc:.0f}, beats or ties {measured['generality']:.3f} of "
            f"{measured['opponents']} held-out, mean share {measured['mean_share']:.3f}"
        )
    print(
        f"{len(held_out)} held-out warriors from {source}; left out as in the archive: "
        f"{', '.join(excluded) or 'none'}"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    plot(rounds, len(held_out), args.out)
    (args.out / "rounds.json").write_text(
        json.dumps(
            {
                "held_out": source,
                "held_out_sources": held_out,
                "excluded": excluded,
                "rounds": rounds,
            },
            indent=1,
        )
    )
    print(f"plots: {args.out / 'generality.png'}, {args.out / 'phenotype.png'}")
    return rounds


if __name__ == "__main__":
    main()
