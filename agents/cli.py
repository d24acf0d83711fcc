"""The ``selfplay`` command: bench, play, replay, list, and the Core War tools."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]

# Games per pairing and seat order on the embedded defaults: enough for intervals that
# separate the fixed opponents, small enough to finish in minutes on two cores.
DEFAULT_GAMES = {
    "tic_tac_toe_v0": 100,
    "kuhn_poker_v0": 150,
    "negotiation_v0": 40,
    "who_is_the_spy_v0": 60,
    "core_war_v0": 8,
    "bug_repair_v0": 3,
    "search_qa_v0": 20,
}
FALLBACK_GAMES = 10
# Game settings of the default run. Kuhn poker is scored by chips over a 10-hand match:
# a single hand's winner says little (the Nash player folds weak hands on purpose).
DEFAULT_GAME_CONFIG = {
    "kuhn_poker_v0": {"num_hands": 10, "reward": "match"},
    # One repair attempt per injected bug keeps a sandboxed game under a minute.
    "bug_repair_v0": {"solver_attempts": 1},
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``selfplay`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="selfplay", description=__doc__)
    sub = parser.add_subparsers()

    bench = sub.add_parser("bench", help="benchmark agents against fixed opponents")
    bench.add_argument(
        "--env", nargs="*", help="env ids (default: every registered game)"
    )
    bench.add_argument(
        "--agents", nargs="*", help="agent specs (default: every fixed opponent)"
    )
    bench.add_argument("--games", type=int, help="games per pairing and seat order")
    bench.add_argument(
        "--config", type=Path, help="TOML or YAML file with these options"
    )
    bench.add_argument(
        "--out", type=Path, default=Path("runs/bench"), help="run folder"
    )
    bench.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument(
        "--force",
        action="store_true",
        help="if --out holds a run with other settings, delete its results and "
        "start over (without it, such a folder is refused)",
    )
    bench.set_defaults(func=_bench)

    listing = sub.add_parser("list", help="games, views, opponents and backends")
    listing.set_defaults(func=_list)

    play = sub.add_parser("play", help="play a game against an agent in the terminal")
    play.add_argument("env_id")
    play.add_argument("--opponent", default="random")
    play.add_argument("--seat", type=int, default=0, help="your seat (0 moves first)")
    play.add_argument("--seed", type=int, default=0)
    play.add_argument(
        "--record", type=Path, help="save the episode for `selfplay replay`"
    )
    play.set_defaults(func=_play)

    replay = sub.add_parser("replay", help="step through a recorded episode")
    replay.add_argument("file", type=Path)
    replay.add_argument(
        "--line", type=int, default=0, help="which episode of a JSONL file"
    )
    replay.add_argument(
        "--no-pause", action="store_true", help="print every step at once"
    )
    replay.set_defaults(func=_replay)

    try:
        from selfplay_envs.games.core_war.cli import add_corewar_parser
    except ImportError:  # Core War's CLI is optional until the game is installed
        pass
    else:
        add_corewar_parser(sub)
    return parser


# ---- bench ----------------------------------------------------------------------------


def _load_config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as e:
            raise SystemExit("YAML configs need PyYAML: pip install pyyaml") from e
        return yaml.safe_load(text) or {}
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads(text)


def _bench(args: argparse.Namespace) -> int:
    import selfplay_envs
    from agents.arena.gold import gold_standards
    from agents.arena.report import run_info, summarize, write_report
    from agents.arena.runner import (
        RESULTS_FILE,
        RunMismatch,
        is_errored,
        make_jobs,
        prepare_run_dir,
        run_settings,
    )
    from agents.arena.specs import supports
    from agents.opponents import baselines, list_opponents
    from selfplay_envs.test import unavailable_reason

    config = _load_config(args.config)
    env_ids = args.env or config.get("env") or selfplay_envs.list_envs()
    agent_specs = args.agents or config.get("agents")
    game_config = {**DEFAULT_GAME_CONFIG, **config.get("game_config", {})}
    jobs = []
    skipped: dict[str, str] = {}
    # Games played with built-in baselines added to their pool, and which.
    added: dict[str, str] = {}
    # The run's settings, whether or not each game can be built here: what run.json
    # holds and a resume must match.
    plan: dict[str, dict[str, Any]] = {}
    for env_id in env_ids:
        pool = (
            [s for s in agent_specs if supports(s, env_id)]
            if agent_specs
            else list_opponents(env_id)
        )
        games = (
            args.games
            or config.get("games")
            or DEFAULT_GAMES.get(env_id, FALLBACK_GAMES)
        )
        env_config = game_config.get(env_id, {})
        reason = unavailable_reason(env_id, **env_config)
        if not reason and len(pool) < 2:
            # Every registered game is played: one with fewer than two agents plays
            # against the built-in baselines its action set allows.
            extra = [b for b in baselines(env_id, **env_config) if b not in pool]
            if extra:
                added[env_id] = _baseline_note(pool, extra)
                pool = [*pool, *extra]
                print(f"{env_id}: {added[env_id]}")
            else:
                reason = (
                    f"fewer than two agents can play it ({pool}), and it has no "
                    "finite action set for the built-in baselines (random, first_legal)"
                )
        plan[env_id] = {"agents": pool, "games": games, "config": env_config}
        if reason:
            print(f"skipping {env_id}: {reason}")
            skipped[env_id] = reason
            continue
        jobs += make_jobs(env_id, pool, games, base_seed=args.seed, config=env_config)
    if not jobs:
        lines = [f"  {env_id}: {reason}" for env_id, reason in skipped.items()]
        print(
            "selfplay bench: nothing to play, every game was skipped:\n"
            + "\n".join(lines or ["  (no game was asked for)"]),
            file=sys.stderr,
        )
        return 1
    settings = run_settings(plan, seed=args.seed)
    try:
        prepare_run_dir(args.out, settings, force=args.force)
    except RunMismatch as e:
        print(f"selfplay bench: {e}", file=sys.stderr)
        return 2
    results_path = args.out / RESULTS_FILE
    records = _run_with_progress(jobs, results_path, args.workers)
    summary = summarize(records, seed=args.seed)
    gold = gold_standards(summary, records)
    paths = write_report(
        args.out, summary, gold, skipped, baselines=added, run=run_info(settings)
    )
    _print_summary(summary)
    print("\nwrote " + ", ".join(str(p) for p in [results_path, *paths]))
    errored = Counter(r["env_id"] for r in records if is_errored(r))
    if errored:
        print(
            "selfplay bench: "
            + ", ".join(f"{n} {g} games errored" for g, n in sorted(errored.items()))
            + " (infrastructure failures, not results; reasons in report.md); "
            f"re-run with --out {args.out} to play them again",
            file=sys.stderr,
        )
        return 1
    return 0


def _baseline_note(pool: list[str], extra: list[str]) -> str:
    """What the report says of a game played with the built-in baselines ``extra``."""
    own = ", ".join(pool) if pool else "none"
    return (
        f"played with the built-in baselines {', '.join(extra)} "
        f"(agents.opponents.BASELINES) added, fewer than two agents of its own ({own})"
    )


def _run_with_progress(jobs, results_path: Path, workers: int) -> list[dict[str, Any]]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from agents.arena.runner import is_errored, latest_records, read_results, run_jobs

    def on_corrupt(message: str) -> None:
        print(f"selfplay bench: warning: {message}", file=sys.stderr)

    latest = latest_records(read_results(results_path, on_corrupt=on_corrupt))
    done_keys = {key for key, r in latest.items() if not is_errored(r)}
    todo = sum(1 for job in jobs if job.key not in done_keys)
    scores: dict[tuple[str, str, str], list[float]] = {}
    errors: dict[tuple[str, str, str], int] = {}
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task(f"{len(done_keys)} games already done", total=todo)

        def on_result(record: dict[str, Any]) -> None:
            key = (record["env_id"], record["a"], record["b"])
            if is_errored(record):
                errors[key] = errors.get(key, 0) + 1
                description = (
                    f"{key[0]} {key[1]} vs {key[2]}: {errors[key]} errored "
                    f"({record['error'][:60]})"
                )
            else:
                scores.setdefault(key, []).append(record["score_a"])
                s = scores[key]
                description = (
                    f"{key[0]} {key[1]} vs {key[2]}: score {sum(s) / len(s):.2f} "
                    f"over {len(s)}"
                )
            progress.update(task, advance=1, description=description)

        return run_jobs(
            jobs,
            results_path,
            workers=workers,
            on_result=on_result,
            on_corrupt=lambda message: None,  # reported above
        )


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for env_id, game in summary.items():
        errored = game["errored"]
        if game["all_errored"]:
            console.print(
                f"{env_id}: every game errored ({errored['games']}), no result",
                markup=False,
            )
        else:
            table = Table(title=env_id)
            for column in (
                "a",
                "b",
                "games",
                "W-D-L of a",
                "score of a [95% CI]",
                "errored",
            ):
                table.add_column(column)
            for p in game["pairings"]:
                table.add_row(
                    p["a"],
                    p["b"],
                    str(p["games"]),
                    f"{p['wins']}-{p['draws']}-{p['losses']}",
                    f"{p['score']:.2f} [{p['score_low']:.2f}, {p['score_high']:.2f}]",
                    str(p["errored"]),
                )
            console.print(table)
        for item in errored["reasons"]:
            console.print(
                f"  errored {item['count']} x: {item['reason']}", markup=False
            )


# ---- list, play, replay -----------------------------------------------------------------


def _list(args: argparse.Namespace) -> int:
    del args  # No options.
    import selfplay_envs
    from agents.opponents import BASELINES, list_opponents
    from selfplay_envs.core.adapter import ENV_OPTIONS

    print("games (env id: views; fixed opponents), then each game's parameters")
    print("  (name=default: what it accepts; meaning), from the games' declarations")
    print(
        f"  (every game with a numeric view also plays the baselines "
        f"{', '.join(BASELINES)})"
    )
    for env_id in selfplay_envs.list_envs():
        params = None
        opponents = "-"
        try:
            params = getattr(selfplay_envs.spec(env_id).load(), "parameters", None)
            opponents = ", ".join(list_opponents(env_id)) or "-"
            info = selfplay_envs.make_game(env_id).info
            views = "text, numeric" if info.num_actions is not None else "text"
        except Exception as e:  # noqa: BLE001 - list what loads, report what does not
            views = f"unavailable ({type(e).__name__}: {e})"
        print(f"  {env_id}: {views}; {opponents}")
        if params is not None:
            print("\n".join(params.lines()) if len(params) else "    (no parameters)")
    print("options of every make() call:")
    print("\n".join(ENV_OPTIONS.lines()))
    print(
        "inference backends: transformers, vllm, openai  (agent spec llm:BACKEND:MODEL)"
    )
    return 0


def _ask(prompt: str) -> str:
    try:
        return input(prompt)
    except EOFError:
        raise SystemExit("\ninput closed; game abandoned") from None


def _play(args: argparse.Namespace) -> int:
    import selfplay_envs
    from agents.opponents import make_opponent
    from agents.policy import Turn

    env = selfplay_envs.make(args.env_id, render_mode="ansi")
    env.reset(seed=args.seed)
    human = env.possible_agents[args.seat]
    opponent = make_opponent(args.env_id, args.opponent, seed=args.seed)
    actions: list[Any] = []
    # Opponents' replies to a simultaneous move (a warrior, a vote), shown only once
    # the move is settled: the env hides them from the other seats until then.
    hidden: list[tuple[str, Any]] = []
    hidden_turn = 0
    for agent in env.agent_iter():
        observation, _, termination, truncation, info = env.last()
        if termination or truncation:
            env.step(None)
            continue
        episode = env.episode
        joint = len(episode.state.current_players()) > 1 or bool(episode.pending)
        if agent == human:
            print("\n" + observation["text"])
            action = _ask("your move> ")
        else:
            action = opponent.act(
                [
                    Turn(
                        env_id=args.env_id,
                        agent=agent,
                        observation=observation,
                        info=info,
                    )
                ]
            )[0]
            if joint:
                hidden.append((agent, action))
                hidden_turn = episode.move_index
                print(
                    f"\n{agent} ({args.opponent}) has replied; its move stays hidden "
                    "until every seat has moved"
                )
            else:
                print(f"\n{agent} ({args.opponent}) plays: {action}")
        actions.append(action)
        env.step(action)
        reason = env.infos.get(agent, {}).get("invalid_reason")
        if agent == human and reason:
            print(f"invalid move: {reason}")
        if hidden and (episode.done or episode.move_index != hidden_turn):
            for who, move in hidden:  # the move is settled: reveal what was hidden
                print(f"\n{who} ({args.opponent}) played: {move}")
            hidden.clear()
    print("\n" + (env.render() or ""))
    print(f"result: {env.episode.returns()} ({human} is you)")
    if args.record:
        episode = {
            "env_id": args.env_id,
            "seed": args.seed,
            "config": {},
            "actions": actions,
        }
        args.record.write_text(json.dumps(episode) + "\n")
        print(f"recorded to {args.record}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    import selfplay_envs

    lines = [line for line in args.file.read_text().splitlines() if line.strip()]
    if not 0 <= args.line < len(lines):
        raise SystemExit(f"expected --line in [0, {len(lines)}), got {args.line}")
    episode = json.loads(lines[args.line])
    env = selfplay_envs.make(
        episode["env_id"], render_mode="ansi", **episode.get("config", {})
    )
    env.reset(seed=episode["seed"])
    print(env.render())
    for step, action in enumerate(episode["actions"]):
        agent = env.agent_selection
        env.step(action)
        record = env.episode.records[-1] if env.episode.records else None
        verdict = "valid" if record and record.valid else f"invalid ({record.reason})"
        print(f"\n[{step}] {agent}: {action!r} -> {verdict}")
        print(env.render())
        if not args.no_pause:
            _ask("(enter for next) ")
    print(f"\nreturns: {env.episode.returns()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
