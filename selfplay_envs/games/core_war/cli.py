"""``selfplay corewar``: assemble warriors and fight battles from the command line.

Two commands, shaped after pMARS::

    selfplay corewar assemble FILE
    selfplay corewar battle W1.red W2.red [W3.red ...] --rounds R
        [--fixed-position P | --seed S]
        [--core-size N --max-cycles N --max-processes N --max-length N --min-distance N]
        [--json | --brief]

``selfplay corewar build`` compiles the MARS kernels into numba's cache ahead of the
first battle (a one-time cost of tens of seconds; see docs/games/core_war.md).

``assemble`` prints the load file (``pmars -A``). ``battle`` prints pMARS's ``-b`` lines
(``-k``'s with ``--brief``), or one JSON object with ``--json``::

    {"warriors": [names], "wins": [..], "ties": [..], "losses": [..], "scores": [..]}

plus ``"results"`` with three or more warriors: per warrior the rounds it survived
alone, with 1 other, with 2 others, ..., then its losses (pMARS's ``-b -k`` line). With
two warriors ``wins[0]``, ``wins[1]`` and ``ties[0]`` equal pMARS's for the same ``-F``
and ``-r``. A warrior that does not assemble exits with status 3, as pMARS does, and
every assembler error on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from selfplay_envs.games.core_war.assembler import (
    AssemblerSettings,
    RedcodeError,
    assemble,
    extract_redcode,
    to_load_file,
)
from selfplay_envs.games.core_war.instructions import Warrior

__all__ = ["add_corewar_parser", "EXIT_ASSEMBLY_ERROR", "EXIT_USAGE"]

EXIT_USAGE = 2  # bad arguments or settings, unreadable file (argparse's status)
EXIT_ASSEMBLY_ERROR = 3  # a warrior does not assemble (pMARS's status)

_HILL = (  # option, dest, pMARS flag, default
    ("--core-size", "core_size", "-s", 8000),
    ("--max-cycles", "max_cycles", "-c", 80000),
    ("--max-processes", "max_processes", "-p", 8000),
    ("--max-length", "max_length", "-l", 100),
    ("--min-distance", "min_distance", "-d", 100),
)


class _UsageError(Exception):
    """A problem with the arguments or the files, reported with EXIT_USAGE."""


def add_corewar_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``corewar assemble`` and ``corewar battle`` to ``selfplay``'s subparsers.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.

    Returns:
        The ``corewar`` parser.
    """
    corewar = subparsers.add_parser(
        "corewar",
        help="assemble Redcode warriors and fight pMARS-exact battles",
        description=__doc__.split("\n\n")[0],
    )
    corewar.set_defaults(func=lambda args: _help(corewar))
    commands = corewar.add_subparsers(metavar="{assemble,battle,build}")

    assemble_cmd = commands.add_parser(
        "assemble", help="print a warrior's load file (pmars -A)"
    )
    assemble_cmd.add_argument("file", help="a .red file, or - for standard input")
    assemble_cmd.add_argument(
        "--extract",
        action="store_true",
        help="first pull the Redcode out of model output (Markdown fences, prose)",
    )
    _add_hill_options(assemble_cmd)
    assemble_cmd.set_defaults(func=_run(_assemble))

    battle = commands.add_parser(
        "battle", help="fight warriors and print pMARS's results"
    )
    battle.add_argument("warriors", nargs="+", metavar="WARRIOR", help=".red files")
    battle.add_argument(
        "--rounds",
        "-r",
        type=int,
        default=1,
        help="rounds to fight (pMARS -r, default 1)",
    )
    place = battle.add_mutually_exclusive_group()
    place.add_argument(
        "--fixed-position",
        "-F",
        type=int,
        help="pMARS -F: warrior 2's address in round 1 (it seeds the placement RNG)",
    )
    place.add_argument(
        "--seed", type=int, help="the placement RNG's internal state, in [0, 2**31-2]"
    )
    battle.add_argument(
        "--permutate", "-P", action="store_true", help="pMARS -P (two warriors only)"
    )
    _add_hill_options(battle)
    battle.add_argument("--read-limit", type=int, help="pMARS -R (default: core size)")
    battle.add_argument("--write-limit", type=int, help="pMARS -W (default: core size)")
    battle.add_argument("--pspace-size", type=int, help="pMARS -S (default as pMARS)")
    output = battle.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object")
    output.add_argument(
        "--brief", "-k", action="store_true", help="print pMARS's -b -k lines"
    )
    battle.set_defaults(func=_run(_battle))

    build = commands.add_parser(
        "build", help="compile the MARS engine into numba's cache now (once)"
    )
    build.set_defaults(func=_run(_build))
    return corewar


def _add_hill_options(parser: argparse.ArgumentParser) -> None:
    for option, dest, flag, default in _HILL:
        parser.add_argument(
            option,
            dest=dest,
            type=int,
            default=default,
            help=f"pMARS {flag} ({default})",
        )


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_USAGE


def _run(command: Any) -> Any:
    """Wrap a command: usage problems go to stderr with status 2, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except _UsageError as err:
            sys.stderr.write(f"selfplay corewar: error: {err}\n")
            return EXIT_USAGE

    return run


# ---- assemble ------------------------------------------------------------------------


def _assemble(args: argparse.Namespace) -> int:
    source = _read(args.file)
    if args.extract:
        source = extract_redcode(source)
    settings = _assembler_settings(args, warriors=2, rounds=1)
    try:
        warrior = assemble(source, settings)
    except RedcodeError as err:
        _report(args.file, err)
        return EXIT_ASSEMBLY_ERROR
    sys.stdout.write(to_load_file(warrior, args.core_size))
    return 0


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_bytes().decode("latin-1")  # pMARS reads bytes
    except OSError as err:
        raise _UsageError(f"cannot read {path}: {err.strerror}") from err


def _assembler_settings(
    args: argparse.Namespace, *, warriors: int, rounds: int
) -> AssemblerSettings:
    try:
        return AssemblerSettings(
            core_size=args.core_size,
            max_cycles=args.max_cycles,
            max_processes=args.max_processes,
            max_length=args.max_length,
            min_distance=args.min_distance,
            warriors=warriors,
            rounds=rounds,
            pspace_size=getattr(args, "pspace_size", None),
        )
    except ValueError as err:
        raise _UsageError(str(err)) from err


def _report(path: str, err: RedcodeError) -> None:
    for issue in err.errors:
        sys.stderr.write(f"{path}: {issue}\n")


# ---- battle --------------------------------------------------------------------------


def _battle(args: argparse.Namespace) -> int:
    settings = _assembler_settings(
        args, warriors=len(args.warriors), rounds=args.rounds
    )
    warriors: list[Warrior] = []
    failed = False
    for path in args.warriors:
        try:
            warriors.append(assemble(_read(path), settings))
        except RedcodeError as err:
            _report(path, err)
            failed = True
    if failed:
        return EXIT_ASSEMBLY_ERROR
    result = _fight(args, warriors)
    names = [_name(w, path) for w, path in zip(warriors, args.warriors, strict=True)]
    if args.json:
        sys.stdout.write(json.dumps(battle_json(names, result)) + "\n")
    elif args.brief:
        sys.stdout.write("".join(line + "\n" for line in brief_lines(result)))
    else:
        lines = result_lines(warriors, names, result)
        sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


def _fight(args: argparse.Namespace, warriors: list[Warrior]) -> Any:
    from selfplay_envs.games.core_war import mars  # lazy: numba

    try:
        settings = mars.MarsSettings(
            core_size=args.core_size,
            max_cycles=args.max_cycles,
            max_processes=args.max_processes,
            max_length=args.max_length,
            min_distance=args.min_distance,
            read_limit=args.read_limit,
            write_limit=args.write_limit,
            pspace_size=args.pspace_size,
        )
        return mars.battle(
            warriors,
            args.rounds,
            settings,
            fixed_position=args.fixed_position,
            seed=args.seed,
            permutate=args.permutate,
        )
    except ValueError as err:
        raise _UsageError(str(err)) from err


# ---- build ---------------------------------------------------------------------------


def _build(args: argparse.Namespace) -> int:
    """Fight one tiny battle of each kind so that every kernel lands in numba's cache.

    numba caches next to the source, or in a user-wide folder where that is read-only
    (a non-editable install); NUMBA_CACHE_DIR overrides both.
    """
    import time

    from selfplay_envs.games.core_war import mars  # lazy: numba

    sys.stderr.write("compiling the Core War engine (once; skipped where cached)...\n")
    start = time.perf_counter()
    imp = assemble("mov 0, 1\n", AssemblerSettings())
    settings = mars.MarsSettings()
    mars.battle([imp, imp], 1, settings, seed=1)
    mars.battle([imp, imp], 1, settings, seed=1, track_behaviour=True)
    mars.battle_many(
        [
            mars.BattleJob(warriors=[imp, imp], rounds=1, settings=settings, seed=1),
            mars.BattleJob(
                warriors=[imp, imp],
                rounds=1,
                settings=settings,
                seed=1,
                track_behaviour=True,
            ),
        ]
    )
    sys.stderr.write(
        f"the Core War engine is ready ({time.perf_counter() - start:.1f} s)\n"
    )
    return 0


def _name(warrior: Warrior, path: str) -> str:
    """The ``;name`` of the warrior, or its file name when it has none."""
    if warrior.name == "Unknown" and "\n;name" not in "\n" + warrior.source.lower():
        return Path(path).stem
    return warrior.name


def battle_json(names: Sequence[str], result: Any) -> dict[str, Any]:
    """The ``--json`` object of a battle result."""
    out: dict[str, Any] = {
        "warriors": list(names),
        "wins": list(result.wins),
        "ties": list(result.ties),
        "losses": list(result.losses),
        "scores": list(result.scores),
    }
    if len(names) >= 3:
        out["results"] = [list(r) for r in result.results]
    return out


def brief_lines(result: Any) -> list[str]:
    """pMARS ``-b -k``: ``wins ties`` per warrior for two, else score and results."""
    if len(result.wins) == 2:
        return [f"{w} {t}" for w, t in zip(result.wins, result.ties, strict=True)]
    return [
        " ".join(str(x) for x in (score, *row))
        for score, row in zip(result.scores, result.results, strict=True)
    ]


def result_lines(
    warriors: Sequence[Warrior], names: Sequence[str], result: Any
) -> list[str]:
    """pMARS ``-b``: a ``scores`` line per warrior, then the results."""
    two = len(warriors) == 2
    lines = []
    for k, warrior in enumerate(warriors):
        lines.append(f"{names[k]} by {warrior.author} scores {result.scores[k]}")
        if not two:
            lines.append("  Results: " + " ".join(str(x) for x in result.results[k]))
    if two:
        lines.append(f"Results: {result.wins[0]} {result.wins[1]} {result.ties[0]}")
    return lines
