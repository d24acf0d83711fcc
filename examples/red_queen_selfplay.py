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

The held-out set is the DRQ warrior collection in ``../shared/corewar/warriors/drq``
when present (a seeded sample of ``--held-out`` of them), else the shipped classics
that are not initial opponents.

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

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "envs_assets" / "core_war" / "warriors"
SHARED = ROOT.parent / "shared" / "corewar" / "warriors" / "drq"
INITIAL = ("imp.red", "dwarf.red")


def held_out_set(size: int, seed: int) -> tuple[list[str], str]:
    """Held-out warriors (sources) and where they come from."""
    if SHARED.is_dir():
        paths = sorted(SHARED.glob("*.red"))
        chosen = np.random.default_rng(seed).choice(len(paths), size, replace=False)
        return [paths[i].read_text(encoding="latin-1") for i in sorted(chosen)], str(
            SHARED
        )
    paths = [p for p in sorted(SHIPPED.glob("*.red")) if p.name not in INITIAL]
    return [p.read_text(encoding="latin-1") for p in paths], str(SHIPPED)


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


def plot(rounds: list[dict[str, Any]], out: Path) -> None:
    """Generality per round, and the champions' phenotype."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    x = [r["round"] for r in rounds]
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.plot(x, [r["generality"] for r in rounds], marker="o", label="beats or ties")
    axis.plot(
        x, [r["mean_share"] / 2 for r in rounds], marker="s", label="mean share / 2"
    )
    axis.set_xlabel("round")
    axis.set_ylabel("against the held-out warriors")
    axis.set_ylim(0, 1)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_title("Red Queen champions: generality per round")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out / "generality.png", dpi=120)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(6, 4.5))
    points = axis.scatter(
        [r["tsp"] + 1 for r in rounds],
        [r["mc"] + 1 for r in rounds],
        c=x,
        cmap="viridis",
        s=60,
    )
    for r in rounds:
        axis.annotate(
            str(r["round"]),
            (r["tsp"] + 1, r["mc"] + 1),
            xytext=(5, 5),
            textcoords="offset points",
            fontsize=8,
        )
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("tsp + 1 (total spawned processes)")
    axis.set_ylabel("mc + 1 (memory coverage, cells)")
    axis.set_title("Champions' phenotype (DRQ's descriptors)")
    figure.colorbar(points, label="round")
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
    held_out, source = held_out_set(args.held_out, args.seed)
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
            f"mc {champion.mc:.0f}, beats or ties {measured['generality']:.2f} of "
            f"{measured['opponents']} held-out, mean share {measured['mean_share']:.3f}"
        )
    print(f"held-out warriors from {source}")
    args.out.mkdir(parents=True, exist_ok=True)
    plot(rounds, args.out)
    (args.out / "rounds.json").write_text(
        json.dumps({"held_out": source, "rounds": rounds}, indent=1)
    )
    print(f"plots: {args.out / 'generality.png'}, {args.out / 'phenotype.png'}")
    return rounds


if __name__ == "__main__":
    main()
