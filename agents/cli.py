"""The ``selfplay`` command: bench, play, replay, list, and the Core War tools."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shlex
import sys
import textwrap
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
    # MCTS-1000 searches a thousand rollouts a move: 4 seeds keep it under 2 minutes.
    "connect_four_v0": 4,
    # A hand's outcome varies a lot with the cards: many cheap games separate cfr.
    "leduc_poker_v0": 40,  # 10-hand matches, as Kuhn
    "liars_dice_v0": 100,
}
FALLBACK_GAMES = 10
# Game settings of the default run. Kuhn poker is scored by chips over a 10-hand match:
# a single hand's winner says little (the Nash player folds weak hands on purpose).
DEFAULT_GAME_CONFIG = {
    "kuhn_poker_v0": {"num_hands": 10, "reward": "match"},
    "leduc_poker_v0": {"num_hands": 10, "reward": "match"},
    # One repair attempt per injected bug keeps a sandboxed game under a minute.
    "bug_repair_v0": {"solver_attempts": 1},
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``selfplay`` console script."""
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["view"]:  # every option, --help included, is the viewer's own
        from selfplay_agents.viewer.command import main as view_main

        return view_main(argv[1:], prog="selfplay view")
    args = parser.parse_args(argv)
    args.argv = argv  # how to run the command again (bench's resume line)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:  # Ctrl-C: a person's choice, not a failure to trace
        print(
            f"\nselfplay {args.func.__name__.strip('_')}: interrupted", file=sys.stderr
        )
        return 130
    except BrokenPipeError:  # `selfplay list | head`: the reader left, nothing failed
        # Point stdout at devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


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
        "--record",
        type=int,
        default=0,
        metavar="K",
        help="keep the first K seeds of every pairing (both seat orders) as whole "
        "episodes in results.jsonl (moves, seed, config), for `selfplay replay "
        "OUT/results.jsonl`",
    )
    bench.add_argument(
        "--force",
        action="store_true",
        help="if --out holds a run with other settings, delete its results and "
        "start over (without it, such a folder is refused)",
    )
    bench.set_defaults(func=_bench)

    listing = sub.add_parser("list", help="games, views, opponents and backends")
    listing.set_defaults(func=_list)

    play = sub.add_parser(
        "play",
        help="play a game against an agent in the terminal",
        # Wrapped here: the raw formatter keeps the games' list below as written.
        description=textwrap.fill(
            "Play a game against a fixed opponent in the terminal. Your invalid moves "
            "are never held against you: the reason is shown and you try again (the "
            "game's invalid-move policy applies to the agents only). A plain answer "
            "is enough (4, bet), or the start of exactly one legal move (b for bet).",
            width=88,
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    play.add_argument(
        "env_id", help="the game, e.g. tic_tac_toe_v0 (the games are listed below)"
    )
    play.add_argument(
        "--opponent",
        default="random",
        help="the agent you play against (default: random, the weakest); each "
        "game's opponents and its strongest are listed below",
    )
    play.add_argument("--seat", type=int, default=0, help="your seat (0 moves first)")
    play.add_argument(
        "--seed", type=int, default=0, help="the deal, position or pair of the game"
    )
    play.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a game option, repeatable (`selfplay list` shows each game's): "
        "--config num_hands=3 --config reward=match; VALUE is read as JSON "
        "(3, true, [1, 2]) where it parses, else as text",
    )
    play.add_argument(
        "--record", type=Path, help="save the episode for `selfplay replay`"
    )
    play.add_argument(
        "--images",
        type=Path,
        help="folder for the pictures of picture games (Who-Is-the-Spy); default: "
        "a temporary folder, whose path is shown",
    )
    play.set_defaults(func=_play)
    # The games and their opponents are listed only when help is asked for: reading
    # them imports every game.
    play.format_help = lambda: _help_with_games(play)

    replay = sub.add_parser(
        "replay",
        help="step through a recorded episode",
        description="Step through a recorded episode. Reads every episode file the "
        "project writes: a `selfplay play --record` file, a bench results.jsonl "
        "(the episodes `selfplay bench --record K` kept), and adapter trajectories "
        "(a TrajectoryWriter turn log, or selfplay_agents.export.write_jsonl rows). At each "
        "step: enter for the next one, q to quit.",
    )
    replay.add_argument("file", type=Path)
    replay.add_argument(
        "--episode",
        "--line",
        dest="episode",
        type=int,
        default=0,
        help="which episode of the file (0 = the first; --list shows them)",
    )
    replay.add_argument(
        "--list", action="store_true", help="list the file's episodes and stop"
    )
    replay.add_argument(
        "--no-pause", action="store_true", help="print every step at once"
    )
    replay.set_defaults(func=_replay)

    sub.add_parser(
        "view",
        help="write a self-contained HTML viewer of recorded episodes",
        description="Write one HTML file (no server, no network) that steps through "
        "recorded episodes turn by turn, each seat's private view switchable, with a "
        "rendering per game; it opens in the browser (or prints its path). Reads "
        "the files replay reads, or a bench run folder.",
        add_help=False,  # main() hands every option to the viewer's own parser
    )

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
    from selfplay_agents.arena.gold import gold_standards
    from selfplay_agents.arena.report import run_info, summarize, write_report
    from selfplay_agents.arena.runner import (
        RESULTS_FILE,
        RunMismatch,
        is_errored,
        latest_records,
        make_jobs,
        prepare_run_dir,
        read_results,
        run_settings,
    )
    from selfplay_agents.arena.specs import supports
    from selfplay_agents.opponents import baselines, list_opponents
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
        jobs += make_jobs(
            env_id,
            pool,
            games,
            base_seed=args.seed,
            config=env_config,
            record=args.record or int(config.get("record", 0)),
        )
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
    try:
        records = _run_with_progress(jobs, results_path, args.workers)
        summary = summarize(records, seed=args.seed)
        gold = gold_standards(summary, records)
        paths = write_report(
            args.out, summary, gold, skipped, baselines=added, run=run_info(settings)
        )
    except KeyboardInterrupt:
        saved = sum(
            1
            for r in latest_records(read_results(results_path)).values()
            if not is_errored(r)
        )
        total = len({job.key for job in jobs})
        # The same command, less --force: with it, a resume would delete the results.
        again = [a for a in args.argv if a != "--force"]
        print(
            f"\nselfplay bench: interrupted; {saved} of {total} games are saved in "
            f"{results_path}; resume with: selfplay {shlex.join(again)}",
            file=sys.stderr,
        )
        return 130
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
        f"(selfplay_agents.opponents.BASELINES) added, fewer than two agents of its own ({own})"
    )


# A line of the progress log (output not a terminal) at most this often, in seconds.
LOG_EVERY = 10.0


def _run_with_progress(jobs, results_path: Path, workers: int) -> list[dict[str, Any]]:
    """Run ``jobs``: a live bar on a terminal, else a line-based log."""
    from selfplay_agents.arena.runner import (
        Eta,
        is_errored,
        latest_records,
        read_results,
        run_jobs,
    )

    def on_corrupt(message: str) -> None:
        print(f"selfplay bench: warning: {message}", file=sys.stderr)

    latest = latest_records(read_results(results_path, on_corrupt=on_corrupt))
    done_keys = {key for key, r in latest.items() if not is_errored(r)}
    todo = [job for job in jobs if job.key not in done_keys]
    scores: dict[tuple[str, str, str], list[float]] = {}
    errors: dict[tuple[str, str, str], int] = {}

    def describe(record: dict[str, Any]) -> str:
        eta.update(record)
        key = (record["env_id"], record["a"], record["b"])
        if is_errored(record):
            errors[key] = errors.get(key, 0) + 1
            return (
                f"{key[0]} {key[1]} vs {key[2]}: {errors[key]} errored "
                f"({record['error'][:60]})"
            )
        scores.setdefault(key, []).append(record["score_a"])
        s = scores[key]
        return (
            f"{key[0]} {key[1]} vs {key[2]}: score {sum(s) / len(s):.2f} over {len(s)}"
        )

    def run(on_result) -> list[dict[str, Any]]:
        return run_jobs(
            jobs,
            results_path,
            workers=workers,
            on_result=on_result,
            on_corrupt=lambda message: None,  # reported above
        )

    print(
        f"selfplay bench: {len(todo)} games to play, {len(done_keys)} already done, "
        f"on {workers} workers",
        flush=True,
    )
    _prepare(todo, workers)
    eta = Eta(todo)  # the clock starts once the opponents are ready
    if not sys.stdout.isatty():
        return _run_logged(run, describe, eta, len(todo))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[eta]}"),
    ]
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task("starting", total=len(todo), eta=eta.text())

        def on_result(record: dict[str, Any]) -> None:
            description = describe(record)
            progress.update(task, advance=1, description=description, eta=eta.text())

        return run(on_result)


# An opponent whose set-up took at least this long (seconds) gets a line of its own.
SLOW_SETUP = 1.0


def _prepare(todo, workers: int) -> None:
    """Build each named opponent once before the games, so that a one-off set-up (a
    CFR+ solve) is neither paid in every worker nor counted as a game's duration."""
    from selfplay_agents.arena.runner import agents_to_prepare, prepare_agents

    count = len(agents_to_prepare(todo))
    if not count:
        return
    print(
        f"selfplay bench: preparing {count} opponent{'s' * (count != 1)} before the "
        "clock starts "
        "(a one-off set-up, such as a CFR+ solve, is paid here once and cached)",
        flush=True,
    )

    def on_prepared(env_id: str, name: str, seconds: float, error: str) -> None:
        if seconds >= SLOW_SETUP and not error:
            print(f"  {env_id} {name}: ready in {seconds:.0f} s", flush=True)

    prepare_agents(todo, workers=workers, on_prepared=on_prepared)


def _run_logged(run, describe, eta, total: int) -> list[dict[str, Any]]:
    """A progress line per ``LOG_EVERY`` seconds (and the first and last game), for
    logs and pipes, where a live bar would print escape codes."""
    import time

    count = 0
    last = -LOG_EVERY

    def on_result(record: dict[str, Any]) -> None:
        nonlocal count, last
        count += 1
        description = describe(record)
        now = time.monotonic()
        if count in (1, total) or now - last >= LOG_EVERY:
            last = now
            print(
                f"[{count}/{total}] {100 * count // max(total, 1)}% {eta.text()} | "
                f"{description}",
                flush=True,
            )

    return run(on_result)


# Off a terminal (a log, a pipe) nothing limits the line length: tables are printed
# this wide at most, so that no cell of theirs is cut or wrapped.
OFF_TERMINAL_WIDTH = 10_000


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        # Each table takes its natural width, not rich's default 80 columns.
        console = Console(width=OFF_TERMINAL_WIDTH)
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


# The strongest fixed opponent of each game, from `selfplay bench` on the embedded
# defaults (docs/arena.md): the top Bradley-Terry rating (Kuhn: nash, whose
# exploitability is 0, level with cfr).
STRONGEST_OPPONENT = {
    "tic_tac_toe_v0": "minimax",
    "kuhn_poker_v0": "nash",
    "negotiation_v0": "greedy",
    "who_is_the_spy_v0": "scripted",
    "core_war_v0": "dwarf",
    "bug_repair_v0": "scripted",
    "search_qa_v0": "scripted",
    "connect_four_v0": "mcts1000",
    "leduc_poker_v0": "cfr",
    "liars_dice_v0": "cfr",
}
DEFAULT_OPPONENT = "random"
# What a game's printed position leaves unsaid, shown under it by `play` and `replay`.
RENDER_NOTES = {
    "kuhn_poker_v0": "Betting in OpenSpiel's letters, in order: p = pass (a check, or "
    "a fold facing a bet), b = bet (a bet, or a call facing one); e.g. bp = a bet "
    "then a fold.",
    "tic_tac_toe_v0": "A dot is an empty cell.",
}


def _opponents_line(env_id: str) -> str:
    """``"minimax, random (strongest: minimax)"`` for ``env_id``."""
    from selfplay_agents.opponents import list_opponents

    names = list_opponents(env_id)
    strongest = STRONGEST_OPPONENT.get(env_id)
    text = ", ".join(names) or "-"
    return f"{text} (strongest: {strongest})" if strongest in names else text


def _help_with_games(parser: argparse.ArgumentParser) -> str:
    import selfplay_envs

    lines = ["games and their opponents (default opponent: random):"]
    for env_id in selfplay_envs.list_envs():
        try:
            lines.append(f"  {env_id}: {_opponents_line(env_id)}")
        except Exception as e:  # noqa: BLE001 - list what loads, say what does not
            lines.append(f"  {env_id}: unavailable ({type(e).__name__}: {e})")
    lines.append("game options: `selfplay list`")
    parser.epilog = "\n".join(lines)
    return argparse.ArgumentParser.format_help(parser)


def _list(args: argparse.Namespace) -> int:
    del args  # No options.
    import selfplay_envs
    from selfplay_agents.opponents import BASELINES
    from selfplay_envs.core.adapter import ENV_OPTIONS

    print("games (env id: views; fixed opponents, the strongest named), then each")
    print("  game's parameters (name=default: what it accepts; meaning), from the")
    print("  games' declarations")
    print(
        f"  (every game with a numeric view also plays the baselines "
        f"{', '.join(BASELINES)})"
    )
    for env_id in selfplay_envs.list_envs():
        params = None
        opponents = "-"
        try:
            params = getattr(selfplay_envs.spec(env_id).load(), "parameters", None)
            opponents = _opponents_line(env_id)
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


def _close_matches(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.5)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def _check_env_id(env_id: str) -> None:
    """Exit with one line, naming close matches, when ``env_id`` is no game."""
    import selfplay_envs

    games = selfplay_envs.list_envs()
    if env_id not in games:
        raise SystemExit(
            f"selfplay: unknown game {env_id!r}{_close_matches(env_id, games)} "
            f"(games: {', '.join(games)})"
        )


def _check_opponent(env_id: str, name: str) -> None:
    from selfplay_agents.opponents import BASELINES, list_opponents

    names = sorted({*list_opponents(env_id), *BASELINES})
    if name not in names:
        raise SystemExit(
            f"selfplay: unknown opponent {name!r} for {env_id}"
            f"{_close_matches(name, names)} (opponents: {', '.join(names)})"
        )


def _parse_config(items: Sequence[str]) -> dict[str, Any]:
    """``["num_hands=3", "reward=match"]`` -> ``{"num_hands": 3, "reward": "match"}``."""
    config: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"selfplay: expected --config KEY=VALUE, got {item!r}")
        try:
            config[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            config[key.strip()] = value
    return config


def _make_env(env_id: str, config: dict[str, Any]) -> Any:
    """The env in text view, or one line saying why it cannot be built."""
    import selfplay_envs
    from selfplay_envs.core.errors import Error

    try:
        return selfplay_envs.make(env_id, render_mode="ansi", **config)
    except (Error, TypeError, ValueError) as e:
        raise SystemExit(f"selfplay: cannot build {env_id}: {e}") from None


# How each answer format wraps a reply, for a person's plain-text answer.
_TAG_WRAPPERS = {
    "boxed": ("\\boxed{", "}"),
    "answer_tag": ("<answer>", "</answer>"),
    "bracket": ("[", "]"),
}
_TAG_MARKERS = ("\\boxed", "<answer", "</answer")


def _expected_format(formats: Sequence[Any]) -> str:
    """``"plain text, or tagged as \\boxed{...} or <answer>...</answer>"``."""
    tags = [
        _TAG_WRAPPERS[f.value][0] + "..." + _TAG_WRAPPERS[f.value][1]
        for f in formats
        if f.value in _TAG_WRAPPERS
    ]
    return "plain text, or tagged as " + " or ".join(tags)


def _plain_answer(state: Any, player: int, text: str) -> tuple[str | None, str]:
    """``text``, untagged where the game wants a tag (a spy clue), as the whole
    answer: the reply to submit, tagged in the game's format, or ``None`` and why not.

    Taken only where unambiguous: the line holds no (broken) tag of its own, and its
    tagged form parses to the same move as the line itself.
    """
    formats = state.answer_formats()
    answer = text.strip()
    if any(marker in answer.lower() for marker in _TAG_MARKERS):
        return None, "no action found: the tag is not well formed"
    plain = state.parse_answer(player, answer)
    if plain.reason is not None:
        return None, plain.message
    for fmt in formats:
        if fmt.value not in _TAG_WRAPPERS:
            continue
        opening, closing = _TAG_WRAPPERS[fmt.value]
        tagged = opening + answer + closing
        result = state.parse_action(player, tagged)
        if result.reason is None and result.action == plain.action:
            return tagged, ""
    return None, "no action found: the line cannot be tagged as it stands"


def _human_move(env: Any, agent: str, text: str) -> tuple[str | None, str]:
    """The move to submit for the person's ``text``, or ``None`` and why not.

    Judged with the game's own parser without submitting it, so a typo costs no
    retry. Text the game does not parse is matched against the legal moves: equal
    but for case and brackets, or the start of exactly one of them. Where the game
    wants a tagged answer (a spy clue in ``\\boxed{}``) and the line has no tag, the
    whole line is the answer; a refusal there says what format is expected.
    """
    player = env.possible_agents.index(agent)
    state = env.episode.state
    result = state.parse_action(player, text)
    if result.reason is None:
        return text, ""
    legal = env.infos.get(agent, {}).get("legal_actions") or []
    typed = text.strip().strip("[]").lower()
    if typed:
        same = [m for m in legal if m.strip("[]").lower() == typed]
        starts = [m for m in legal if m.strip("[]").lower().startswith(typed)]
        for found in (same, starts):
            if len(found) == 1:
                return found[0], ""
    formats = state.answer_formats()
    if any(f.value == "bare" for f in formats):
        return None, result.message
    reason = result.message
    if result.reason.value == "no action found":
        tagged, reason = _plain_answer(state, player, text)
        if tagged is not None:
            return tagged, ""
    return None, f"{reason} (expected {_expected_format(formats)})"


def _move_text(record: Any) -> str:
    """How a judged move reads: the parsed move, or the raw reply and why it failed."""
    if record.valid:
        # A program (a Core War warrior) reads best as written; its parsed form is
        # only a name.
        if record.parsed is None or "\n" in record.action.strip():
            return record.action
        return record.parsed
    raw = " ".join(record.action.split())
    raw = raw if len(raw) <= 80 else raw[:77] + "..."
    return f"{raw!r} (invalid: {record.reason})"


def _save_image(
    observation: dict[str, Any], folder: Path, name: str, written: dict[bytes, Path]
) -> Path | None:
    """Write the observation's picture, if it has one, to ``folder/name``.png; a
    picture already written (``written``, by content) is not written again."""
    image = observation.get("image") if isinstance(observation, dict) else None
    if image is None:
        return None
    key = bytes(image.tobytes()) + str(image.shape).encode()
    if key in written:
        return written[key]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    plt.imsave(path, image)
    written[key] = path
    return path


def _outcome(env: Any, names: dict[str, str]) -> str:
    """Who won and why, e.g. ``"player_1 (minimax) wins: player_0 forfeited"``."""
    episode = env.episode
    returns = episode.returns()
    agents = env.possible_agents
    if episode.truncated and not episode.terminal:
        return (
            f"no result: the game was cut off after {episode.attempts} attempted "
            "moves (the env's max_attempts)"
        )
    if max(returns) == min(returns):
        why = "every seat forfeited" if episode.forfeit is not None else "by the rules"
        return f"draw ({why})"
    best = max(returns)
    winners = [
        f"{a} ({names[a]})" for a, r in zip(agents, returns, strict=True) if r == best
    ]
    verb = "wins" if len(winners) == 1 else "win"
    if episode.forfeit is not None:
        invalid = [r for r in episode.records if not r.valid]
        loser = invalid[-1].agent if invalid else "a seat"
        why = f"{loser} ({names.get(loser, '?')}) forfeited on invalid moves"
        if invalid:
            why += f", the last: {invalid[-1].reason}"
    else:
        why = "by the rules of the game"
    return f"{' and '.join(winners)} {verb} ({why})"


def _final_position(env: Any, env_id: str) -> str:
    text = env.render() or ""
    note = RENDER_NOTES.get(env_id)
    return f"{text}\n({note})" if note else text


def _play(args: argparse.Namespace) -> int:
    import tempfile

    from selfplay_agents.opponents import make_opponent
    from selfplay_agents.policy import Turn

    _check_env_id(args.env_id)
    _check_opponent(args.env_id, args.opponent)
    config = _parse_config(args.config)
    env = _make_env(args.env_id, config)
    env.reset(seed=args.seed)
    if not 0 <= args.seat < len(env.possible_agents):
        raise SystemExit(
            f"selfplay: expected --seat in 0..{len(env.possible_agents) - 1}, "
            f"got {args.seat}"
        )
    human = env.possible_agents[args.seat]
    names = {a: args.opponent for a in env.possible_agents} | {human: "you"}
    try:
        opponent = make_opponent(args.env_id, args.opponent, seed=args.seed, **config)
    except TypeError as e:
        raise SystemExit(f"selfplay: cannot build {args.opponent}: {e}") from None
    images = args.images or Path(tempfile.mkdtemp(prefix="selfplay-images-"))
    pictures: dict[bytes, Path] = {}
    actions: list[Any] = []
    # Opponents' replies to a simultaneous move (a warrior, a vote), shown only once
    # the move is settled: the env hides them from the other seats until then.
    hidden: list[Any] = []
    hidden_turn = 0
    for agent in env.agent_iter():
        observation, _, termination, truncation, info = env.last()
        if termination or truncation:
            env.step(None)
            continue
        episode = env.episode
        joint = len(episode.state.current_players()) > 1 or bool(episode.pending)
        seen = len(episode.records)
        if agent == human:
            print("\n" + observation["text"])
            picture = _save_image(
                observation, images, f"{human}_turn{episode.move_index}", pictures
            )
            if picture is not None:
                print(f"(your picture: {picture})")
            action = None
            while action is None:
                action, reason = _human_move(env, agent, _ask("your move> "))
                if action is None:
                    print(f"invalid move: {reason}; try again")
        else:
            turn = Turn(
                env_id=args.env_id, agent=agent, observation=observation, info=info
            )
            action = opponent.act([turn])[0]
        actions.append(action.tolist() if hasattr(action, "tolist") else action)
        env.step(action)
        for record in episode.records[seen:]:
            if record.agent == human:
                continue
            if joint:
                hidden.append(record)
                hidden_turn = record.turn
                print(
                    f"\n{record.agent} ({args.opponent}) has replied; its move stays "
                    "hidden until every seat has moved"
                )
            else:
                print(f"\n{record.agent} ({args.opponent}) plays: {_move_text(record)}")
        if hidden and (episode.done or episode.move_index != hidden_turn):
            for record in hidden:  # the move is settled: reveal what was hidden
                print(
                    f"\n{record.agent} ({args.opponent}) played: {_move_text(record)}"
                )
            hidden.clear()
    print("\nGame over: " + _outcome(env, names) + ".")
    print("\nFinal position:\n" + _final_position(env, args.env_id))
    returns = ", ".join(
        f"{a} ({names[a]}) {r:+g}"
        for a, r in zip(env.possible_agents, env.episode.returns(), strict=True)
    )
    print(f"returns: {returns}")
    # The machine-readable line of earlier versions, which scripts may still read.
    print(f"result: {env.episode.returns()} ({human} is you)")
    if args.record:
        episode = {
            "env_id": args.env_id,
            "seed": args.seed,
            "config": config,
            "actions": actions,
            "agents": names,
        }
        args.record.write_text(json.dumps(episode) + "\n")
        print(f"recorded to {args.record} (selfplay replay {args.record})")
    return 0


# ---- replay ---------------------------------------------------------------------------

REPLAY_FORMATS = (
    "a JSONL file of episodes: a `selfplay play --record` file, a bench "
    "results.jsonl with recorded episodes (`selfplay bench --record K`), or adapter "
    "trajectories (a TrajectoryWriter turn log, or selfplay_agents.export.write_jsonl rows)"
)


def _replay_episodes(path: Path) -> list[dict[str, Any]]:
    """Every episode in ``path``, as ``{"env_id", "seed", "config", "actions",
    "title"}``; exits with one line saying what was expected when there is none."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise SystemExit(f"selfplay replay: cannot read {path}: {e}") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            hint = ""
            try:
                whole = json.loads(text)
            except json.JSONDecodeError:
                pass
            else:
                if isinstance(whole, dict) and "gold" in whole:
                    hint = " (it is a bench summary: replay the run's results.jsonl)"
                elif isinstance(whole, dict) and {"games", "seed"} <= set(whole):
                    hint = " (it is a bench run's settings: replay its results.jsonl)"
            raise SystemExit(
                f"selfplay replay: expected {REPLAY_FORMATS}; {path} line {number} "
                f"is not JSON{hint}"
            ) from None
    rows = [r for r in rows if isinstance(r, dict)]
    episodes: list[dict[str, Any]] = []
    bench_games = 0
    trajectories: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        if "key" in row and "env_id" in row:  # a bench record
            bench_games += 1
            if isinstance(row.get("episode"), dict):
                episode = dict(row["episode"])
                episode["title"] = (
                    f"{row['env_id']} seed {row['seed']}: {row['a']} vs {row['b']}, "
                    f"{row['a']} on side {row['order']}"
                )
                episodes.append(episode)
        elif "actions" in row and "env_id" in row:  # a play record
            episodes.append({**row, "title": f"{row['env_id']} seed {row.get('seed')}"})
        elif "completion" in row and "step" in row and "env_id" in row:
            key = (row.get("game_id"), row["env_id"], row.get("episode_id"))
            trajectories.setdefault(key, []).append(row)
    for (game_id, env_id, episode_id), turns in trajectories.items():
        turns.sort(key=lambda r: r["step"])
        episodes.append(
            {
                "env_id": env_id,
                "seed": turns[0].get("seed"),
                "config": {},
                "actions": [t["completion"] for t in turns],
                "steps": [t["step"] for t in turns],
                "title": f"{env_id} trajectory {game_id or episode_id}",
            }
        )
    if not episodes:
        found = (
            f"it holds {bench_games} bench games but no recorded episode (run "
            "`selfplay bench --record K` to keep K per pairing)"
            if bench_games
            else "it holds no episode"
        )
        raise SystemExit(f"selfplay replay: expected {REPLAY_FORMATS}; {path}: {found}")
    return episodes


def _replay(args: argparse.Namespace) -> int:
    episodes = _replay_episodes(args.file)
    if args.list:
        for i, episode in enumerate(episodes):
            print(f"{i}: {episode['title']} ({len(episode['actions'])} moves)")
        return 0
    if not 0 <= args.episode < len(episodes):
        raise SystemExit(
            f"selfplay replay: expected --episode in [0, {len(episodes)}), "
            f"got {args.episode}"
        )
    episode = episodes[args.episode]
    if episode.get("seed") is None:
        raise SystemExit(
            f"selfplay replay: {args.file}: the episode's seed was not recorded, so "
            "it cannot be replayed exactly"
        )
    steps = episode.get("steps")
    if steps is not None and steps != list(range(len(steps))):
        raise SystemExit(
            f"selfplay replay: {args.file}: the trajectory lacks turns (steps "
            f"{steps[:8]}...): export it with keep_untokenized=True to replay it"
        )
    env_id = episode["env_id"]
    _check_env_id(env_id)
    env = _make_env(env_id, episode.get("config") or {})
    env.reset(seed=episode["seed"])
    print(f"{episode['title']}, {len(episode['actions'])} moves")
    print(env.render())
    for step, action in enumerate(episode["actions"]):
        if env.episode.done:
            print(f"\n(the game ended before move {step}: the file holds more moves)")
            break
        agent = env.agent_selection
        env.step(action)
        record = env.episode.records[-1] if env.episode.records else None
        verdict = "valid" if record and record.valid else f"invalid ({record.reason})"
        print(f"\n[{step}] {agent}: {action!r} -> {verdict}")
        print(env.render())
        if not args.no_pause and _ask("(enter: next step, q: quit) ").strip() == "q":
            print("quit")
            return 0
    agents = episode.get("agents") or {}
    names = {a: agents.get(a, "recorded") for a in env.possible_agents}
    if env.episode.done:
        print("\nGame over: " + _outcome(env, names) + ".")
    else:
        print("\n(the recorded moves end before the game does)")
    note = RENDER_NOTES.get(env_id)
    if note:
        print(f"({note})")
    print(f"returns: {env.episode.returns()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
