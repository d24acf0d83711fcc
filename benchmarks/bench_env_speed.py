"""Env steps per second: our tic-tac-toe and Kuhn poker against their peers, one run.

Every runner plays uniformly random legal moves until it has applied ``--steps`` moves
(finishing the episode it is in), resetting between episodes, in one process on one
core. A step is one applied move; the time includes everything a training loop pays
per move: observing (``env.last()`` builds the observation), choosing from the legal
moves the env reports, stepping, the dead steps PettingZoo needs at the end, and
resets. Each runner is timed ``--repeats`` times, interleaved, and the best is kept, to
damp noise from other processes on the machine. Speeds and ratios use the process's CPU
time (``time.process_time``), which is the per-core cost and stays meaningful on a
shared machine; wall-clock time is recorded beside it.

The batched env is timed on both paths, in both views: the generic one (a loop over
scalar episodes, ``fast=False``) and the vector one (``Game.vector_rules``, the
default) at several batch sizes; every game of the batch counts its move. The vector
runners play at least ``--fast-steps`` moves (text: a tenth of that), as they are too
fast to time over ``--steps``. Batched text runners reply ``[move]`` for a random
legal move taken from ``BatchedEnv.action_masks`` (Kuhn poker: OpenSpiel's ``pass``
and ``bet``, which the env accepts in every situation).

Peers: PettingZoo classic ``tictactoe_v3``; TextArena ``TicTacToe-v0`` and
``KuhnPoker-v0`` (with ``ta.make``'s default wrappers, as its users get them); OpenSpiel
(``pyspiel``), both the bare rules and with the acting player's observation tensor.
A peer that cannot be imported is reported as unavailable, with the reason.

Ratios with a target are then measured again in back-to-back pairs (``--rounds``
rounds of ``--paired-steps`` moves each, alternating which runs first), and the median
of the per-round ratios decides whether the target is met: bursts of load on a shared
machine last seconds, and hit both members of a pair alike.

The harness floor runs the same loop over an AEC env with no rules (fixed observations,
seven moves an episode): what the loop alone costs per move, under every AEC runner.

Usage::

    python benchmarks/bench_env_speed.py --steps 20000 --out bench_env_speed.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from pettingzoo import AECEnv

import selfplay_envs
from selfplay_envs.wrappers.batched import BatchedEnv

Runner = Callable[[int, int], int]  # (steps, seed) -> moves applied


@dataclasses.dataclass(frozen=True, kw_only=True)
class Result:
    """One runner's best timing."""

    name: str
    game: str
    moves: int
    seconds: float  # CPU seconds of this process
    wall_seconds: float
    available: bool = True
    reason: str = ""

    @property
    def steps_per_second(self) -> float:
        """Applied moves per CPU second (0 when unavailable)."""
        return self.moves / self.seconds if self.available and self.seconds else 0.0

    @property
    def wall_steps_per_second(self) -> float:
        """Applied moves per wall-clock second (0 when unavailable)."""
        if not self.available or not self.wall_seconds:
            return 0.0
        return self.moves / self.wall_seconds


# ---- our envs ------------------------------------------------------------------------


def _play_aec(env: Any, view: str, steps: int, seed: int) -> int:
    """Random legal play through PettingZoo's AEC loop; returns the moves applied."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    moves = 0
    while moves < steps:
        for _ in env.agent_iter():
            observation, _, termination, truncation, info = env.last()
            if termination or truncation:
                env.step(None)
                continue
            if view == "numeric":
                legal = np.flatnonzero(observation["action_mask"])
                env.step(int(legal[rng.integers(len(legal))]))
            else:
                legal_text = info["legal_actions"]
                env.step(f"[{legal_text[rng.integers(len(legal_text))]}]")
            moves += 1
        env.reset()
    return moves


def _ours_aec(env_id: str, view: str, **config: Any) -> Runner:
    def run(steps: int, seed: int) -> int:
        env = selfplay_envs.make(env_id, view=view, **config)
        return _play_aec(env, view, steps, seed)

    return run


# The reply text of each numeric action, for the batched text runners.
_REPLY_WORDS = {
    "tic_tac_toe_v0": tuple(str(cell) for cell in range(9)),
    "kuhn_poker_v0": ("pass", "bet"),
}


def _ours_batched(
    env_id: str, view: str, num_envs: int, fast: bool = True, **config: Any
) -> Runner:
    def run(steps: int, seed: int) -> int:
        rng = np.random.default_rng(seed)
        env = BatchedEnv(env_id, num_envs, view=view, fast=fast, **config)
        if env.fast != fast:
            raise RuntimeError(f"expected fast={fast} for {env_id}, got {env.fast}")
        words = _REPLY_WORDS[env_id]
        observations, _ = env.reset(seed=seed)
        moves = 0
        while moves < steps:
            if view == "numeric":
                mask = observations["action_mask"]
                actions = (rng.random(mask.shape) * mask).argmax(axis=1)
            else:
                mask = env.action_masks()
                picks = (rng.random(mask.shape) * mask).argmax(axis=1).tolist()
                actions = [f"[{words[a]}]" for a in picks]
            observations = env.step(actions).observations
            moves += num_envs
        return moves

    return run


def _at_least(moves: int, runner: Runner) -> Runner:
    """Play at least ``moves`` moves: fast runners need many to time reliably."""

    def run(steps: int, seed: int) -> int:
        return runner(max(steps, moves), seed)

    return run


class _NullAEC(AECEnv):
    """An AEC env with no rules: ``length`` moves per episode, fixed observations.

    Driven by the same loop as our envs, it measures what the loop itself costs per
    move (PettingZoo's ``agent_iter``, ``last``, the random choice, dead steps): the
    floor under any AEC env in this benchmark.
    """

    metadata: dict[str, Any] = {}
    possible_agents = ["player_0", "player_1"]

    def __init__(self, view: str, length: int = 7):
        self.length = length
        if view == "numeric":
            self.observation = {
                "observation": np.zeros((3, 3, 2), np.float32),
                "action_mask": np.ones(9, np.int8),
            }
        else:
            self.observation = {"text": "board"}
        self.info = {"legal_actions": [str(c) for c in range(9)]}

    def reset(self, seed: int | None = None, options: Any = None) -> None:
        self.agents = self.possible_agents[:]
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = dict.fromkeys(self.agents, self.info)
        self.agent_selection = "player_0"
        self.moves = 0

    def observe(self, agent: str) -> dict[str, Any]:
        return self.observation

    def step(self, action: Any) -> None:
        if self.terminations[self.agent_selection]:
            self._was_dead_step(action)
            return
        self.moves += 1
        if self.moves == self.length:
            self.terminations = dict.fromkeys(self.agents, True)
        self.agent_selection = _OTHER[self.agent_selection]


_OTHER = {"player_0": "player_1", "player_1": "player_0"}


def _harness_floor(view: str) -> Runner:
    def run(steps: int, seed: int) -> int:
        return _play_aec(_NullAEC(view), view, steps, seed)

    return run


# ---- peers ---------------------------------------------------------------------------


def _pettingzoo_tictactoe() -> Runner:
    from pettingzoo.classic import tictactoe_v3

    def run(steps: int, seed: int) -> int:
        rng = np.random.default_rng(seed)
        env = tictactoe_v3.env()
        env.reset(seed=seed)
        moves = 0
        while moves < steps:
            for _ in env.agent_iter():
                observation, _, termination, truncation, _ = env.last()
                if termination or truncation:
                    env.step(None)
                    continue
                legal = np.flatnonzero(observation["action_mask"])
                env.step(int(legal[rng.integers(len(legal))]))
                moves += 1
            env.reset()
        return moves

    return run


def _textarena(env_id: str) -> Runner:
    import textarena as ta

    def legal_moves(env: Any) -> list[str]:
        game_state = env.state.game_state
        if "board" in game_state:  # TicTacToe-v0
            board = game_state["board"]
            return [
                str(r * 3 + c) for r in range(3) for c in range(3) if not board[r][c]
            ]
        return list(game_state["current_legal_action_tree"])  # KuhnPoker-v0

    def _clear_history(env: Any) -> None:
        # TextArena's LLMObservationWrapper never clears its history on reset, so the
        # prompt would grow across episodes: clear it, in the peer's favour.
        while env is not None:
            if "full_observations" in vars(env):
                env.full_observations = {}
            env = vars(env).get("env")

    def run(steps: int, seed: int) -> int:
        rng = np.random.default_rng(seed)
        env = ta.make(env_id)
        moves, episode = 0, 0
        while moves < steps:
            _clear_history(env)
            env.reset(num_players=2, seed=seed + episode)
            done = False
            while not done:
                env.get_observation()
                legal = legal_moves(env)
                done, _ = env.step(f"[{legal[rng.integers(len(legal))]}]")
                moves += 1
            env.close()
            episode += 1
        return moves

    return run


def _pyspiel(game_name: str, observe: bool) -> Runner:
    import pyspiel

    game = pyspiel.load_game(game_name)
    info_state = game.get_type().provides_information_state_tensor

    def run(steps: int, seed: int) -> int:
        rng = np.random.default_rng(seed)
        moves = 0
        while moves < steps:
            state = game.new_initial_state()
            while not state.is_terminal():
                if state.is_chance_node():
                    outcomes = state.chance_outcomes()
                    state.apply_action(outcomes[rng.integers(len(outcomes))][0])
                    continue
                if observe:
                    player = state.current_player()
                    if info_state:
                        state.information_state_tensor(player)
                    else:
                        state.observation_tensor(player)
                legal = state.legal_actions()
                state.apply_action(legal[rng.integers(len(legal))])
                moves += 1
        return moves

    return run


# ---- the run -------------------------------------------------------------------------


def _fast_runners(
    game: str,
    env_id: str,
    sizes: list[int],
    moves: int,
    view: str = "numeric",
    **config: Any,
) -> list[tuple[str, str, Callable[[], Runner]]]:
    """The vector path of ``BatchedEnv`` at each batch size."""
    return [
        (
            f"ours batched {view} fast (N={n})",
            game,
            lambda n=n: _at_least(moves, _ours_batched(env_id, view, n, **config)),
        )
        for n in sizes
    ]


def _runners(
    num_envs: int, fast_sizes: list[int], fast_moves: int, text_sizes: list[int]
) -> list[tuple[str, str, Callable[[], Runner]]]:
    """(name, game, factory); a factory that raises marks the peer unavailable."""
    ttt, kuhn = "tic_tac_toe_v0", "kuhn_poker_v0"
    text_moves = fast_moves // 10
    return [
        ("ours aec numeric", "tic-tac-toe", lambda: _ours_aec(ttt, "numeric")),
        ("ours aec text", "tic-tac-toe", lambda: _ours_aec(ttt, "text")),
        (
            f"ours batched numeric generic (N={num_envs})",
            "tic-tac-toe",
            lambda: _ours_batched(ttt, "numeric", num_envs, fast=False),
        ),
        *_fast_runners("tic-tac-toe", ttt, fast_sizes, fast_moves),
        (
            f"ours batched text generic (N={num_envs})",
            "tic-tac-toe",
            lambda: _ours_batched(ttt, "text", num_envs, fast=False),
        ),
        *_fast_runners("tic-tac-toe", ttt, text_sizes, text_moves, "text"),
        ("pettingzoo classic tictactoe_v3", "tic-tac-toe", _pettingzoo_tictactoe),
        (
            "harness floor, null AEC env, numeric",
            "-",
            lambda: _harness_floor("numeric"),
        ),
        ("harness floor, null AEC env, text", "-", lambda: _harness_floor("text")),
        ("textarena TicTacToe-v0", "tic-tac-toe", lambda: _textarena("TicTacToe-v0")),
        ("pyspiel rules", "tic-tac-toe", lambda: _pyspiel("tic_tac_toe", False)),
        ("pyspiel + observation", "tic-tac-toe", lambda: _pyspiel("tic_tac_toe", True)),
        (
            "ours aec numeric",
            "kuhn (3 hands)",
            lambda: _ours_aec(kuhn, "numeric", num_hands=3),
        ),
        (
            "ours aec text",
            "kuhn (3 hands)",
            lambda: _ours_aec(kuhn, "text", num_hands=3),
        ),
        (
            f"ours batched numeric generic (N={num_envs})",
            "kuhn (3 hands)",
            lambda: _ours_batched(kuhn, "numeric", num_envs, fast=False, num_hands=3),
        ),
        *_fast_runners(
            "kuhn (3 hands)", kuhn, fast_sizes[-1:], fast_moves, num_hands=3
        ),
        (
            f"ours batched text generic (N={num_envs})",
            "kuhn (3 hands)",
            lambda: _ours_batched(kuhn, "text", num_envs, fast=False, num_hands=3),
        ),
        *_fast_runners(
            "kuhn (3 hands)", kuhn, text_sizes, text_moves, "text", num_hands=3
        ),
        (
            "textarena KuhnPoker-v0",
            "kuhn (3 hands)",
            lambda: _textarena("KuhnPoker-v0"),
        ),
        *_fast_runners("kuhn (1 hand)", kuhn, fast_sizes, fast_moves),
        ("pyspiel rules", "kuhn (1 hand)", lambda: _pyspiel("kuhn_poker", False)),
        (
            "pyspiel + observation",
            "kuhn (1 hand)",
            lambda: _pyspiel("kuhn_poker", True),
        ),
    ]


def measure(
    steps: int,
    repeats: int,
    num_envs: int,
    seed: int,
    fast_sizes: tuple[int, ...] = (64, 256, 1024),
    fast_moves: int = 1_000_000,
    text_sizes: tuple[int, ...] = (64, 256),
) -> tuple[list[Result], list[Runner | None]]:
    """Time every runner ``repeats`` times, interleaved; keep each one's best.

    Returns the results and, aligned with them, the runners (None if unavailable).
    """
    prepared: list[tuple[str, str, Runner | None, str]] = []
    for name, game, factory in _runners(
        num_envs, list(fast_sizes), fast_moves, list(text_sizes)
    ):
        try:
            prepared.append((name, game, factory(), ""))
        except Exception as e:  # noqa: BLE001 - any import failure makes a peer unavailable
            prepared.append((name, game, None, f"{type(e).__name__}: {e}"))
    best: dict[int, tuple[int, float, float]] = {}
    for _ in range(repeats):
        for i, (_, _, runner, _) in enumerate(prepared):
            if runner is None:
                continue
            cpu, wall = time.process_time(), time.perf_counter()
            moves = runner(steps, seed)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if i not in best or moves / cpu > best[i][0] / best[i][1]:
                best[i] = (moves, cpu, wall)
    results = []
    for i, (name, game, runner, reason) in enumerate(prepared):
        if runner is None:
            results.append(
                Result(
                    name=name,
                    game=game,
                    moves=0,
                    seconds=0.0,
                    wall_seconds=0.0,
                    available=False,
                    reason=reason,
                )
            )
        else:
            moves, cpu, wall = best[i]
            results.append(
                Result(
                    name=name, game=game, moves=moves, seconds=cpu, wall_seconds=wall
                )
            )
    return results, [runner for _, _, runner, _ in prepared]


# (game, ours, peer, target): the targets, plus ratios reported for reference.
# Names match by prefix.
PZ = "pettingzoo classic tictactoe_v3"
TA_TTT, TA_KUHN = "textarena TicTacToe-v0", "textarena KuhnPoker-v0"
# The ">= 2x TextArena" text target is checked on both forms of the text view: the
# AEC env (one game, one move per call) and the default batched env.
RATIOS = [
    ("tic-tac-toe", "ours aec numeric", PZ, 3.0),
    ("tic-tac-toe", "ours aec text", TA_TTT, 2.0),
    ("tic-tac-toe", "ours batched numeric generic", PZ, None),
    ("tic-tac-toe", "ours batched text generic", TA_TTT, None),
    ("tic-tac-toe", "ours aec numeric", "pyspiel + observation", None),
    ("kuhn", "ours aec text", TA_KUHN, 2.0),
    ("kuhn", "ours batched text generic", TA_KUHN, None),
    ("kuhn", "ours aec numeric", "pyspiel + observation", None),
]
# One row per batch size of the vector path, by (game, view): the issue's ">= 20x
# PettingZoo" target is for the default (fast) numeric BatchedEnv.
FAST_RATIOS = {
    ("tic-tac-toe", "numeric"): (PZ, 20.0),
    ("kuhn (1 hand)", "numeric"): ("pyspiel + observation", None),
    ("tic-tac-toe", "text"): (TA_TTT, 2.0),
    ("kuhn (3 hands)", "text"): (TA_KUHN, 2.0),
}


def _find(results: list[Result], game: str, prefix: str) -> int | None:
    for i, r in enumerate(results):
        if r.game.startswith(game) and r.name.startswith(prefix):
            return i
    return None


def ratios(results: list[Result]) -> list[dict[str, Any]]:
    """Our speed over a peer's, with the target where the issue sets one."""

    def find(game: str, prefix: str) -> Result | None:
        i = _find(results, game, prefix)
        return None if i is None else results[i]

    pairs = list(RATIOS)
    for r in results:
        for view in ("numeric", "text"):
            if r.name.startswith(f"ours batched {view} fast"):
                if (r.game, view) in FAST_RATIOS:
                    pairs.append((r.game, r.name, *FAST_RATIOS[r.game, view]))
    rows = []
    for game, ours_name, peer_name, target in pairs:
        ours, peer = find(game, ours_name), find(game, peer_name)
        if ours is None or peer is None or not (ours.available and peer.available):
            ratio = None
        else:
            ratio = ours.steps_per_second / peer.steps_per_second
        rows.append(
            {
                "game": game,
                "ours": ours.name if ours else ours_name,
                "peer": peer_name,
                "ratio": ratio,
                "target": target,
                "met": None if ratio is None or target is None else ratio >= target,
            }
        )
    return rows


def paired_ratios(
    results: list[Result],
    runners: list[Runner | None],
    rows: list[dict[str, Any]],
    rounds: int,
    steps: int,
    seed: int,
) -> None:
    """Re-measure every targeted ratio in back-to-back pairs, in place.

    Noise on a shared machine comes in bursts of seconds, longer than one runner but
    shorter than a pass over all of them, so best-of-N speeds taken minutes apart
    can put ours and the peer in different bursts. Here the two run back to back,
    ``rounds`` times, alternating which goes first; the row gets the median of the
    per-round ratios and their range, and ``met`` is decided by the median.
    """
    for row in rows:
        if row["target"] is None or row["ratio"] is None:
            continue
        ours = runners[_find(results, row["game"], row["ours"])]
        peer = runners[_find(results, row["game"], row["peer"])]
        assert ours is not None and peer is not None
        per_round = []
        for k in range(rounds):
            speed = {}
            for name, runner in (("ours", ours), ("peer", peer))[:: 1 - 2 * (k % 2)]:
                cpu = time.process_time()
                moves = runner(steps, seed + k)
                speed[name] = moves / (time.process_time() - cpu)
            per_round.append(speed["ours"] / speed["peer"])
        row["paired"] = {
            "rounds": rounds,
            "steps": steps,
            "median": statistics.median(per_round),
            "min": min(per_round),
            "max": max(per_round),
        }
        row["met"] = row["paired"]["median"] >= row["target"]


def to_markdown(results: list[Result], ratio_rows: list[dict[str, Any]]) -> str:
    """Two markdown tables: speeds, then ratios against targets."""
    lines = [
        "| game | env | steps/s (CPU) | steps/s (wall) | moves | CPU s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.available:
            lines.append(
                f"| {r.game} | {r.name} | {r.steps_per_second:,.0f} | "
                f"{r.wall_steps_per_second:,.0f} | {r.moves} | {r.seconds:.3f} |"
            )
        else:
            lines.append(f"| {r.game} | {r.name} | unavailable: {r.reason} | | | |")
    lines += [
        "",
        "| game | ours | peer | ratio (best of each) | paired median (range) "
        "| target | met |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for row in ratio_rows:
        ratio = "n/a" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        paired = "-"
        if "paired" in row:
            p = row["paired"]
            paired = f"{p['median']:.2f}x ({p['min']:.2f}-{p['max']:.2f})"
        target = "-" if row["target"] is None else f">= {row['target']:g}x"
        met = {None: "-", True: "yes", False: "**no**"}[row["met"]]
        cells = [row["game"], row["ours"], row["peer"], ratio, paired, target, met]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the tables, and write JSON to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000, help="moves per runner")
    parser.add_argument("--repeats", type=int, default=3, help="timings per runner")
    parser.add_argument(
        "--num-envs",
        type=int,
        default=64,
        help="games in the generic-path and text batched envs",
    )
    parser.add_argument(
        "--fast-num-envs",
        default="64,256,1024",
        help="comma-separated batch sizes of the numeric vector path",
    )
    parser.add_argument(
        "--text-num-envs",
        default="64,256",
        help="comma-separated batch sizes of the text vector path",
    )
    parser.add_argument(
        "--fast-steps",
        type=int,
        default=1_000_000,
        help="moves per vector-path runner (at least --steps)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=9,
        help="back-to-back rounds per targeted ratio (0: skip the paired pass)",
    )
    parser.add_argument(
        "--paired-steps", type=int, default=5_000, help="moves per runner per round"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    fast_sizes = tuple(int(n) for n in args.fast_num_envs.split(","))
    text_sizes = tuple(int(n) for n in args.text_num_envs.split(","))
    results, runners = measure(
        args.steps,
        args.repeats,
        args.num_envs,
        args.seed,
        fast_sizes,
        args.fast_steps,
        text_sizes,
    )
    ratio_rows = ratios(results)
    if args.rounds:
        paired_ratios(
            results, runners, ratio_rows, args.rounds, args.paired_steps, args.seed
        )
    table = to_markdown(results, ratio_rows)
    sys.stdout.write(table + "\n")
    if args.out:
        payload = {
            "config": vars(args),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "results": [
                {
                    **dataclasses.asdict(r),
                    "steps_per_second": r.steps_per_second,
                    "wall_steps_per_second": r.wall_steps_per_second,
                }
                for r in results
            ],
            "ratios": ratio_rows,
            "markdown": table,
        }
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
