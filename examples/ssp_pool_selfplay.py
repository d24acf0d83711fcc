"""Search Self-play's question pool at work: rounds of search QA with refills.

``SSPLoop`` plays rounds of ``search_qa_v0`` episodes under the SSP preset (an
invalid question scores 0, five solver attempts, distinct searches only) with one
question pool shared by every round. The players are the scripted proposer and
solver of the synthetic encyclopedia; a knob, ``--invalid``, makes the proposer spoil
that share of its questions (a question the filters refuse), so the refills show:
the solver of a spoilt episode is served a valid question from the pool instead.
This shows the loop's plumbing, not learning.

    python examples/ssp_pool_selfplay.py            # 20 rounds of 16 episodes
    python examples/ssp_pool_selfplay.py --quick    # the CI size

Writes ``rounds.png`` and ``rounds.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from selfplay_agents.opponents.search_qa import ScriptedSearchQA
from selfplay_agents.policy import Turn
from selfplay_agents.selfplay.ssp import SSPLoop
from selfplay_envs.games.search_qa.pool import FifoQuestionPool

SPOILT = "<question>too short</question>"


class SpoilingPlayers:
    """The scripted players; the proposer spoils a share ``invalid`` of its questions."""

    name = "scripted-spoiling"

    def __init__(self, seed: int, invalid: float):
        self.inner = ScriptedSearchQA(seed=seed)
        self.rng = np.random.default_rng(seed)
        self.invalid = invalid

    def act(self, turns: Sequence[Turn]) -> list[str]:
        moves = self.inner.act(turns)
        return [
            SPOILT
            if turn.info.get("role") == "proposer"
            and move.startswith("<question>")
            and self.rng.random() < self.invalid
            else move
            for turn, move in zip(turns, moves, strict=True)
        ]


def plot(history: list[dict[str, Any]], path: Path) -> None:
    """Valid questions and refills per round, and the pool's size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    rounds = [h["round"] for h in history]
    figure, (counts, pool) = plt.subplots(1, 2, figsize=(10, 3.6))
    counts.plot(
        rounds,
        [h["valid_questions"] for h in history],
        marker="o",
        label="valid questions",
    )
    counts.plot(
        rounds,
        [h["refills"] for h in history],
        marker="s",
        label="refills from the pool",
    )
    counts.set_xlabel("round")
    counts.set_ylabel("episodes")
    counts.set_title("Per round")
    counts.legend(fontsize=8)
    pool.plot(rounds, [h["pool_size"] for h in history], marker="o", color="tab:green")
    pool.set_xlabel("round")
    pool.set_ylabel("stored questions")
    pool.set_title("Question pool (FIFO, bounded)")
    for axis in (counts, pool):
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the rounds, print each, write the plot and the history."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run for CI")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--episodes", type=int, default=16, help="episodes per round")
    parser.add_argument("--invalid", type=float, default=0.3, help="share spoilt")
    parser.add_argument("--capacity", type=int, default=64, help="pool capacity")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/ssp_pool"))
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.episodes = 5, 8
    loop = SSPLoop(
        lambda seed: SpoilingPlayers(seed, args.invalid),
        episodes_per_round=args.episodes,
        pool=FifoQuestionPool(args.capacity),
        seed=args.seed,
        corpus_size=2000,
        cache_dir="",
    )
    for _ in tqdm(range(args.rounds), desc="rounds", leave=False):
        loop.run_round()
    for h in loop.history:
        print(
            f"round {h['round']:2d}: {h['valid_questions']:2d}/{h['episodes']} valid, "
            f"{h['refills']:2d} refilled, solver {h['solver_score']:.2f}, "
            f"pool {h['pool_size']}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    plot(loop.history, args.out / "rounds.png")
    (args.out / "rounds.json").write_text(json.dumps(loop.history, indent=1))
    print(f"plot: {args.out / 'rounds.png'}")
    return loop.history


if __name__ == "__main__":
    main()
