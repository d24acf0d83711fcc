"""Vision-Zero's Iterative-SPO stage scheduler on real Who-Is-the-Spy games.

Each iteration plays a batch of ``who_is_the_spy_v0`` games (the word version, 4
seats) with scripted players, reads the civilians' vote accuracy and N/A rate from
the games' final infos (``decision_stats``), and lets ``StageScheduler`` pick the
stage that trains next.

The players stand in for a model under training, with two skill knobs:

* ``vote_skill``: the chance that a civilian names the spy (it abstains with a
  chance that falls as the skill grows, and otherwise names a random seat);
* ``clue_skill``: how well the spy's clues hide it; each vote for the spy is undone
  (replaced by a random seat) with this chance.

Training a stage raises its knob by ``--lr`` an iteration. This is a stand-in, not
learning: it shows the scheduler switching stages on real game statistics, its
hysteresis, and a resumable run. With the paper's thresholds the run starts in the
clue stage, moves to the decision stage once the clues hide the spy, back to the
clue stage once the votes are good again, and so on.

    python examples/iterative_spo_spy.py              # 60 iterations, a few seconds
    python examples/iterative_spo_spy.py --quick      # the CI size

Writes ``stages.png`` and ``history.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from tqdm import tqdm

import selfplay_envs
from selfplay_agents.selfplay.iterative_spo import (
    DECISION,
    StageScheduler,
    decision_stats,
)

ENV_ID = "who_is_the_spy_v0"


def play_game(seed: int, vote_skill: float, clue_skill: float) -> dict[str, Any]:
    """One game with the scripted players; every seat's final info."""
    draws = random.Random(seed)
    env = selfplay_envs.make(ENV_ID, items="word")
    env.reset(seed=seed)
    seats = len(env.agents)
    spy = next(s for s, a in enumerate(env.agents) if env.infos[a]["is_spy"])
    finals: dict[str, Any] = {}
    for agent in env.agent_iter():
        _, _, terminated, truncated, info = env.last()
        if terminated or truncated:
            finals[agent] = info
            env.step(None)
        elif info["phase"] == "clue":
            # one distinct clue per seat and round: the game refuses a repeated clue
            env.step(f"\\boxed{{hint {info['seat']} {info['clue_round']}}}")
        else:
            env.step(
                f"\\boxed{{{_vote(draws, info['seat'], spy, seats, vote_skill, clue_skill)}}}"
            )
    env.close()
    return finals


def _vote(
    draws: random.Random, seat: int, spy: int, seats: int, skill: float, hiding: float
) -> str:
    """A civilian names the spy with chance ``skill`` (undone with chance ``hiding``),
    abstains with half the rest, else names a random seat; the spy names a random
    other seat."""
    others = [s for s in range(seats) if s != seat]
    roll = draws.random()
    if seat != spy and roll < skill:
        return str((spy if draws.random() >= hiding else draws.choice(others)) + 1)
    if seat != spy and roll < skill + (1 - skill) / 2:
        return "N/A"
    return str(draws.choice(others) + 1)


def run(
    iterations: int,
    games: int,
    lr: float,
    seed: int = 0,
    scheduler: StageScheduler | None = None,
    start: int = 0,
    skills: tuple[float, float] = (0.6, 0.0),
) -> tuple[StageScheduler, tuple[float, float]]:
    """Iterations ``start..iterations-1``; returns the scheduler and the knobs."""
    scheduler = scheduler or StageScheduler()
    vote_skill, clue_skill = skills
    for iteration in tqdm(range(start, iterations), desc="iterations", leave=False):
        stage = scheduler.stage
        finals = [
            play_game(seed * 1_000_003 + iteration * games + g, vote_skill, clue_skill)
            for g in range(games)
        ]
        scheduler.update(*decision_stats(finals))
        if stage == DECISION:
            vote_skill = min(1.0, vote_skill + lr)
        else:
            clue_skill = min(1.0, clue_skill + lr)
    return scheduler, (vote_skill, clue_skill)


def plot(history: list[dict[str, Any]], path: Path) -> None:
    """Accuracy and N/A EMAs per iteration over bands of the trained stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4))
    for i, entry in enumerate(history):
        if entry["stage"] == DECISION:
            axis.axvspan(i - 0.5, i + 0.5, color="tab:orange", alpha=0.15, linewidth=0)
    x = range(len(history))
    axis.plot(x, [h["accuracy_ema"] for h in history], label="vote accuracy (EMA)")
    axis.plot(x, [h["na_rate_ema"] for h in history], label="N/A rate (EMA)")
    axis.plot(
        [], [], color="tab:orange", alpha=0.3, linewidth=8, label="decision stage"
    )
    axis.set_xlabel("iteration")
    axis.set_ylabel("civilian votes")
    axis.set_ylim(0, 1)
    axis.set_title("Iterative-SPO stages (shaded: decision stage trains)")
    axis.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Run, print the switches, write the plot and the history."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run for CI")
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--games", type=int, default=16, help="games per iteration")
    parser.add_argument(
        "--lr", type=float, default=0.03, help="knob step per iteration"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/iterative_spo"))
    args = parser.parse_args(argv)
    if args.quick:
        args.iterations, args.games = 30, 8
    scheduler, _ = run(args.iterations, args.games, args.lr, args.seed)
    switches = [i for i, h in enumerate(scheduler.history) if h["switched"]]
    print(f"{len(switches)} stage switches, after iterations {switches}")
    args.out.mkdir(parents=True, exist_ok=True)
    plot(scheduler.history, args.out / "stages.png")
    (args.out / "history.json").write_text(json.dumps(scheduler.history, indent=1))
    print(f"plot: {args.out / 'stages.png'}")
    return scheduler.history


if __name__ == "__main__":
    main()
