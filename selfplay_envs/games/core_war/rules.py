"""Core War rules: warriors written as Redcode text battle in an exact pMARS MARS.

Each episode has ``num_submissions`` submissions (one by default). In a submission every
player writes a warrior at the same time; the warriors are assembled as pMARS 0.9.4 would
(``assembler.assemble``) and fight ``rounds`` rounds in the MARS (``mars.battle``), with
load positions drawn from the episode's seed. Every player sees the summary of the last
battle before its next submission.

Two modes:

* ``"versus"``: the players' warriors fight each other, zero-sum. The reward is the
  outcome (the most pMARS points wins), a centred share of the points, or DRQ's
  survival share centred on par.
* ``"red_queen"``, after Digital Red Queen (DRQ): one learner (a one-seat game) writes a
  warrior that must beat an archive of earlier champions, all in one core (``"melee"``,
  as DRQ) or one at a time (``"pairwise"``, as a KOTH hill). The reward is the learner's
  pMARS score as a fraction of the maximum, or DRQ's survival-share fitness. It is not
  zero-sum: the archive is part of the environment.

The MARS module imports numba, so it is imported on the first battle, not here: building
and resetting the env, and rejecting warriors that do not assemble, never pay for it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from selfplay_envs.core.assets import asset_path
from selfplay_envs.core.game import State, forfeit_returns
from selfplay_envs.core.parsing import InvalidReason, ParseResult
from selfplay_envs.games.core_war.assembler import (
    AssemblerSettings,
    RedcodeError,
    assemble,
    extract_redcode,
    to_load_file,
)
from selfplay_envs.games.core_war.descriptors import drq_cell
from selfplay_envs.games.core_war.instructions import (
    Instruction,
    Mode,
    Modifier,
    Opcode,
    Warrior,
)

__all__ = [
    "ARCHIVE_BATTLES",
    "EXAMPLE_REPLIES",
    "MODES",
    "PRESETS",
    "RED_QUEEN",
    "REWARDS",
    "VERSUS",
    "ArchiveWarrior",
    "BattleSummary",
    "CoreSettings",
    "CoreWarConfig",
    "CoreWarState",
    "Submission",
    "load_archive",
    "load_file_digest",
    "run_battle",
    "shipped_warrior_paths",
    "warriors_dir",
]

VERSUS, RED_QUEEN = "versus", "red_queen"
MODES = (VERSUS, RED_QUEEN)
REWARDS = {
    VERSUS: ("outcome", "score_share", "survival"),
    RED_QUEEN: ("score", "survival"),
}
ARCHIVE_BATTLES = ("melee", "pairwise")
MAX_WARRIORS = 36  # pMARS's MAXWARRIOR: more would not be pMARS-compatible
MAX_SEED = 2**31 - 2  # largest state of pMARS's Park-Miller generator
SOURCE_CAP = 6000  # characters of a warrior's source shown in an observation
MAX_ISSUES_SHOWN = 12  # assembler errors listed in an invalid-move reason
NAME_CAP = 60  # characters of a ;name shown anywhere

# Valid replies for test drivers (``State.example_actions``): an imp, a dwarf with
# prose around it, and a warrior that dies at once, which keeps test battles short.
EXAMPLE_REPLIES = (
    "\n```redcode\n;redcode-94\n;name Imp\nmov.i $0, $1\n```",
    "a dwarf:\n```redcode\nloop add.ab #4, bomb\n     mov.i bomb, @bomb\n"
    "     jmp loop\nbomb dat #0, #0\n```\nIt bombs every fourth cell.",
    "\n```\ndat.f #0, #0\n```",
)

# A warrior that dies on its first instruction: the move played for a player whose
# output was invalid under the penalty policy.
NO_WARRIOR = Warrior(
    instructions=(
        Instruction(
            opcode=Opcode.DAT,
            modifier=Modifier.F,
            a_mode=Mode.IMMEDIATE,
            a_number=0,
            b_mode=Mode.IMMEDIATE,
            b_number=0,
        ),
    ),
    name="(no warrior)",
    author="selfplay-envs",
    source="DAT.F #0, #0\n",
)


# ---- configuration -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class CoreSettings:
    """The hill: core and limits, as pMARS's ``-s -c -p -l -d``.

    Attributes:
        core_size: Cells in the core.
        max_cycles: Cycles before a round is a tie.
        max_processes: Processes one warrior may have.
        max_length: Most instructions in a warrior.
        min_distance: Least distance between two warriors' first cells.
    """

    core_size: int = 8000
    max_cycles: int = 80000
    max_processes: int = 8000
    max_length: int = 100
    min_distance: int = 100

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"expected a positive int {field.name}, got {value!r}")
        if not 2 <= self.core_size <= 65536:
            raise ValueError(f"expected core_size in [2, 65536], got {self.core_size}")
        if self.min_distance < self.max_length:
            raise ValueError(
                f"expected min_distance >= max_length ({self.max_length}), "
                f"got {self.min_distance}"
            )

    def to_dict(self) -> dict[str, int]:
        """JSON-friendly form."""
        return dataclasses.asdict(self)


#: The hill of each preset. ``"drq"`` (Digital Red Queen) plays on the koth94 hill,
#: which is DRQ's ``SimulationArgs``; the rest of it (mode, reward, rounds) is in
#: ``params.PRESET_RULES``.
PRESETS: dict[str, CoreSettings] = {
    "koth94": CoreSettings(),  # the ICWS'94 KOTH hill, pMARS's defaults
    "tiny": CoreSettings(
        core_size=800,
        max_cycles=8000,
        max_processes=800,
        max_length=20,
        min_distance=20,
    ),
    "drq": CoreSettings(),
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ArchiveWarrior:
    """One assembled warrior of the Red Queen archive."""

    name: str
    source: str
    warrior: Warrior


@dataclasses.dataclass(frozen=True, kw_only=True)
class CoreWarConfig:
    """Everything that defines one configured Core War game (validated by the Game).

    Attributes:
        mode: ``"versus"`` or ``"red_queen"``.
        num_players: Seats: the warriors in versus mode, 1 (the learner) in Red Queen.
        rounds: Rounds per battle.
        settings: The hill.
        reward: One of ``REWARDS[mode]``.
        open_information: Show opponents' sources: the archive in Red Queen mode, the
            other players' previous warriors in versus mode.
        num_submissions: Submit-and-battle cycles per episode.
        archive: The Red Queen opponents (empty in versus mode).
        archive_battle: ``"melee"`` (one battle with the whole archive, as DRQ) or
            ``"pairwise"`` (one two-warrior battle per archive warrior).
    """

    mode: str = VERSUS
    num_players: int = 2
    rounds: int = 20
    settings: CoreSettings = CoreSettings()
    reward: str = "outcome"
    open_information: bool = False
    num_submissions: int = 1
    archive: tuple[ArchiveWarrior, ...] = ()
    archive_battle: str = "melee"

    @property
    def warriors_per_battle(self) -> int:
        """Warriors in one battle (the assembler's ``WARRIORS`` constant)."""
        if self.mode == VERSUS:
            return self.num_players
        if self.archive_battle == "melee":
            return 1 + len(self.archive)
        return 2

    @property
    def battles_per_submission(self) -> int:
        """Battles each submission triggers."""
        if self.mode == RED_QUEEN and self.archive_battle == "pairwise":
            return len(self.archive)
        return 1

    def assembler_settings(self) -> AssemblerSettings:
        """The predefined constants warriors see."""
        s = self.settings
        return AssemblerSettings(
            core_size=s.core_size,
            max_cycles=s.max_cycles,
            max_processes=s.max_processes,
            max_length=s.max_length,
            min_distance=s.min_distance,
            warriors=self.warriors_per_battle,
            rounds=self.rounds,
        )


# ---- shipped warriors and the archive ------------------------------------------------


def warriors_dir() -> Path:
    """``envs_assets/core_war/warriors`` (see ``selfplay_envs.core.assets``)."""
    return asset_path("core_war", "warriors")


def shipped_warrior_paths() -> list[Path]:
    """The classic warriors shipped in ``envs_assets/core_war/warriors``, sorted."""
    return sorted(warriors_dir().glob("*.red"))


def _read_entry(entry: str | Path) -> tuple[str, str]:
    """``(fallback name, source)`` of an archive entry: a path or Redcode text."""
    if isinstance(entry, Path) or (isinstance(entry, str) and "\n" not in entry):
        path = Path(entry)
        if not path.is_file():
            raise ValueError(
                f"expected Redcode source (with newlines) or an existing .red file, "
                f"got {str(entry)[:80]!r}"
            )
        return path.stem, path.read_text(encoding="latin-1")
    if isinstance(entry, str):
        return "", entry
    raise TypeError(f"expected a str or Path archive entry, got {type(entry).__name__}")


def load_archive(
    entries: Sequence[str | Path] | None, settings: AssemblerSettings
) -> tuple[ArchiveWarrior, ...]:
    """Assemble the Red Queen archive.

    Args:
        entries: Redcode sources or paths to ``.red`` files; None means the shipped
            classics, keeping those that assemble under ``settings`` (some assert
            ``CORESIZE == 8000`` or are longer than a tiny hill allows).
        settings: Assembler settings of the game.

    Returns:
        The assembled archive, in the given order.

    Raises:
        ValueError: When an explicit entry does not assemble, or nothing is left.
    """
    explicit = entries is not None
    items = list(entries) if explicit else shipped_warrior_paths()
    archive = []
    for entry in items:
        stem, source = _read_entry(entry)
        try:
            warrior = assemble(source, settings)
        except RedcodeError as err:
            if explicit:
                label = stem or source.strip().splitlines()[0][:40]
                raise ValueError(
                    f"expected archive warriors that assemble, got {label!r}:\n{err}"
                ) from err
            continue
        name = warrior.name if warrior.name != "Unknown" or not stem else stem
        archive.append(
            ArchiveWarrior(name=name[:NAME_CAP], source=source, warrior=warrior)
        )
    if not archive:
        raise ValueError(
            f"expected at least one archive warrior that assembles under these "
            f"settings, got none of {len(items)}"
        )
    return tuple(archive)


# ---- battles -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class BattleSummary:
    """One battle's result; per-warrior tuples follow ``warriors``.

    Attributes:
        warriors: Who fought: agent ids for players, archive names for the archive.
        seed: The MARS's internal RNG seed (placements), for replay.
        rounds: Rounds fought.
        wins, ties, losses: Rounds each warrior survived alone / with others / died.
        scores: pMARS score: each survivor gets ``(W*W-1)//S`` points per round.
        results: pMARS's ``-b -k`` melee line per warrior (alone, with 1 other, ...,
            losses).
        survival: DRQ's survival-share fitness per warrior (sums to W).
        steps: Instructions executed.
        round_log: Per round ``(positions, first mover, cycles, death cycles)``; a
            death cycle is None for a survivor.
        tsp, mc: DRQ's behaviour descriptors per warrior, averaged over rounds: SPLs
            that added a process, and distinct addresses ever in its process queue
            (see ``descriptors``); empty when not counted.
    """

    warriors: tuple[str, ...]
    seed: int
    rounds: int
    wins: tuple[int, ...]
    ties: tuple[int, ...]
    losses: tuple[int, ...]
    scores: tuple[int, ...]
    results: tuple[tuple[int, ...], ...]
    survival: tuple[float, ...]
    steps: int
    round_log: tuple[tuple[tuple[int, ...], int, int, tuple[int | None, ...]], ...]
    tsp: tuple[float, ...] = ()
    mc: tuple[float, ...] = ()

    @property
    def max_score(self) -> int:
        """Points of a warrior that survives alone every round."""
        n = len(self.warriors)
        return self.rounds * (n * n - 1)

    def score_fraction(self, index: int) -> float:
        """Warrior ``index``'s score as a fraction of ``max_score``."""
        return self.scores[index] / self.max_score

    def round_marks(self, index: int) -> str:
        """One letter per round for warrior ``index``: W alone, T with others, L dead."""
        marks = []
        for _, _, _, deaths in self.round_log:
            alive = [d is None for d in deaths]
            if not alive[index]:
                marks.append("L")
            else:
                marks.append("W" if sum(alive) == 1 else "T")
        return "".join(marks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, with the round log as small dicts."""
        out = dataclasses.asdict(self)
        out["warriors"] = list(self.warriors)
        out["results"] = [list(r) for r in self.results]
        for key in ("wins", "ties", "losses", "scores", "survival", "tsp", "mc"):
            out[key] = list(out[key])
        out["round_log"] = [
            {
                "positions": list(positions),
                "first": first,
                "cycles": cycles,
                "death_cycles": list(deaths),
            }
            for positions, first, cycles, deaths in self.round_log
        ]
        return out


def run_battle(
    warriors: Sequence[Warrior],
    names: Sequence[str],
    *,
    rounds: int,
    settings: CoreSettings,
    seed: int,
) -> BattleSummary:
    """Fight one battle in the MARS, as pMARS with the RNG seeded with ``seed``.

    The MARS (and numba) is imported here, on the first battle: the first call in a
    process loads the compiled kernel from numba's cache (or compiles it once).
    """
    from selfplay_envs.games.core_war import mars  # lazy: numba

    result = mars.battle(
        list(warriors),
        rounds,
        mars.MarsSettings(**settings.to_dict()),
        seed=seed,
        track_survival=True,
        track_behaviour=True,
    )
    log = tuple(
        (r.positions, r.first, r.cycles, r.death_cycles) for r in result.round_log
    )
    return BattleSummary(
        warriors=tuple(names),
        seed=seed,
        rounds=rounds,
        wins=result.wins,
        ties=result.ties,
        losses=result.losses,
        scores=result.scores,
        results=result.results,
        survival=tuple(result.survival or ()),
        steps=result.steps,
        round_log=log,
        tsp=tuple(result.tsp or ()),
        mc=tuple(result.mc or ()),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Submission:
    """One submit-and-battle cycle of an episode.

    Attributes:
        index: Submission number, from 0.
        warriors: Each player's assembled warrior.
        sources: Each player's Redcode source, as extracted from its reply.
        battles: The battles this submission triggered (one, or one per archive
            warrior in pairwise Red Queen mode).
        rewards: Each player's reward for this submission.
        metrics: Each player's numbers for reports (averaged over the battles).
    """

    index: int
    warriors: tuple[Warrior, ...]
    sources: tuple[str, ...]
    battles: tuple[BattleSummary, ...]
    rewards: tuple[float, ...]
    metrics: tuple[dict[str, float], ...]


# ---- rewards -------------------------------------------------------------------------


def versus_rewards(battle: BattleSummary, reward: str) -> list[float]:
    """Zero-sum rewards of the players of a versus battle."""
    n = len(battle.warriors)
    scores = battle.scores
    if reward == "survival":
        # DRQ fitness sums to n over the warriors: centring on par (1) makes it zero-sum.
        return [s - 1.0 for s in battle.survival]
    total = sum(scores)
    if reward == "score_share":
        if total == 0:
            return [0.0] * n
        return [(n * s / total - 1.0) / (n - 1) for s in scores]
    best = max(scores)
    if best == min(scores):
        return [0.0] * n
    top = [i for i in range(n) if scores[i] == best]
    return [1.0 / len(top) if i in top else -1.0 / (n - len(top)) for i in range(n)]


def behaviour(battles: Sequence[BattleSummary], index: int) -> dict[str, Any]:
    """Warrior ``index``'s DRQ descriptors averaged over ``battles``, and their cell."""
    count = len(battles)
    tsp = sum(b.tsp[index] for b in battles) / count
    mc = sum(b.mc[index] for b in battles) / count
    return {"tsp": tsp, "mc": mc, "drq_cell": list(drq_cell(tsp, mc))}


def learner_metrics(battles: Sequence[BattleSummary], index: int) -> dict[str, float]:
    """Warrior ``index``'s numbers averaged over ``battles``."""
    count = len(battles)
    return {
        "score": sum(b.score_fraction(index) for b in battles) / count,
        "win_rate": sum(b.wins[index] / b.rounds for b in battles) / count,
        "tie_rate": sum(b.ties[index] / b.rounds for b in battles) / count,
        "loss_rate": sum(b.losses[index] / b.rounds for b in battles) / count,
        "survival": sum(b.survival[index] for b in battles) / count,
    }


# ---- the state -----------------------------------------------------------------------


class CoreWarState(State):
    """One Core War episode: submissions, battles and their summaries."""

    def __init__(self, config: CoreWarConfig, seeds: np.ndarray) -> None:
        self.config = config
        self.seeds = seeds  # (num_submissions, battles_per_submission) MARS seeds
        self.submissions: list[Submission] = []
        self._assembler = config.assembler_settings()

    @property
    def num_players(self) -> int:
        """Seats: the warriors' authors (one learner in Red Queen mode)."""
        return self.config.num_players

    def role(self, player: int) -> str:
        """``"warrior"`` in versus mode, ``"learner"`` in Red Queen mode."""
        del player  # Every seat has the same role.
        return "warrior" if self.config.mode == VERSUS else "learner"

    def current_players(self) -> list[int]:
        """Everyone submits at once, until the last submission."""
        return [] if self.is_terminal() else list(range(self.num_players))

    def is_terminal(self) -> bool:
        """Every submission has been played."""
        return len(self.submissions) >= self.config.num_submissions

    def returns(self) -> list[float]:
        """Mean reward over the submissions (zeros until the end)."""
        if not self.is_terminal():
            return [0.0] * self.num_players
        return [
            float(np.mean([s.rewards[p] for s in self.submissions]))
            for p in range(self.num_players)
        ]

    def forfeit_returns(self, loser: int) -> list[float]:
        """Versus: the adapter's zero-sum forfeit. Red Queen: 0, the worst reward."""
        if self.num_players == 1:
            return [0.0]
        return forfeit_returns(self.num_players, loser)

    # ---- actions ----------------------------------------------------------------------

    def parse_action(self, player: int, text: str) -> ParseResult:
        """Extract the Redcode from a reply and assemble it; errors become the reason."""
        del player  # Every seat writes the same kind of warrior.
        source = extract_redcode(text)
        if not source.strip():
            return ParseResult.invalid(
                InvalidReason.NO_ACTION_TAG,
                "no Redcode found: answer with your warrior in a ```redcode block",
            )
        try:
            warrior = assemble(source, self._assembler)
        except RedcodeError as err:
            return ParseResult.invalid(
                InvalidReason.UNPARSABLE, _error_listing(err, source), source
            )
        return ParseResult.legal(warrior, source)

    def example_actions(self, player: int) -> list[str]:
        """A few valid replies (imp, dwarf, a warrior that dies at once)."""
        del player  # Any seat may send any of them.
        return list(EXAMPLE_REPLIES)

    def action_to_string(self, player: int, action: Warrior) -> str:
        """``"warrior <digest>"``: a digest of the warrior's load file.

        Not the load file itself: in the AEC env a submitted move shows in the other
        seats' ``info["last_move"]`` before they submit, and warriors are secret until
        the battle. The digest matches ``load_file_digest`` of the final
        ``info["load_files"]``.
        """
        del player  # Same text for every seat.
        return f"warrior {load_file_digest(to_load_file(action, self.config.settings.core_size))}"

    def fallback_action(self, player: int, rng: np.random.Generator) -> Warrior:
        """A one-instruction ``DAT`` that dies at once (the penalty policy's move)."""
        del player, rng  # Always the same.
        return NO_WARRIOR

    def apply_action(self, player: int, action: Warrior) -> None:
        """A lone seat's submission (Red Queen mode, or a one-seat versus game)."""
        self.apply_joint_action({player: action})

    def apply_joint_action(self, actions: Mapping[int, Warrior]) -> None:
        """Every player's warrior is in: fight, score and record the submission."""
        warriors = tuple(actions[p] for p in range(self.num_players))
        index = len(self.submissions)
        if self.config.mode == VERSUS:
            battles = (self._battle(warriors, self._player_names(), index, 0),)
            rewards = tuple(versus_rewards(battles[0], self.config.reward))
            metrics = tuple(
                learner_metrics(battles, p) for p in range(self.num_players)
            )
        else:
            battles = self._red_queen_battles(warriors[0], index)
            metrics = (learner_metrics(battles, 0),)
            rewards = (metrics[0][self.config.reward],)
        self.submissions.append(
            Submission(
                index=index,
                warriors=warriors,
                sources=tuple(w.source for w in warriors),
                battles=battles,
                rewards=rewards,
                metrics=metrics,
            )
        )

    def _player_names(self) -> list[str]:
        return [f"player_{p}" for p in range(self.num_players)]

    def _battle(
        self, warriors: Sequence[Warrior], names: Sequence[str], index: int, k: int
    ) -> BattleSummary:
        return run_battle(
            warriors,
            names,
            rounds=self.config.rounds,
            settings=self.config.settings,
            seed=int(self.seeds[index, k]),
        )

    def _red_queen_battles(
        self, learner: Warrior, index: int
    ) -> tuple[BattleSummary, ...]:
        archive = self.config.archive
        if self.config.archive_battle == "melee":
            warriors = [learner, *(a.warrior for a in archive)]
            names = ["player_0", *(a.name for a in archive)]
            return (self._battle(warriors, names, index, 0),)
        return tuple(
            self._battle([learner, a.warrior], ["player_0", a.name], index, k)
            for k, a in enumerate(archive)
        )

    # ---- observations -----------------------------------------------------------------

    def observation_text(self, player: int) -> str:
        """Rules, settings, opponents' sources if open, and the last battle."""
        return observation_text(self, player)

    def info(self, player: int) -> dict[str, Any]:
        """Settings and battles for scripted players; evidence and metrics at the end."""
        config = self.config
        own = [s.sources[player] for s in self.submissions]
        info: dict[str, Any] = {
            "mode": config.mode,
            "submission": len(self.submissions),
            "num_submissions": config.num_submissions,
            "rounds": config.rounds,
            "settings": config.settings.to_dict(),
            "warriors_per_battle": config.warriors_per_battle,
            "reward_kind": config.reward,
            "battles": [
                {
                    "submission": s.index,
                    "rewards": list(s.rewards),
                    "battles": [b.to_dict() for b in s.battles],
                }
                for s in self.submissions
            ],
            "sources": own,
        }
        if config.mode == RED_QUEEN:
            info["archive"] = [a.name for a in config.archive]
        if self.submissions:  # the last submission's, for MAP-Elites
            info.update(behaviour(self.submissions[-1].battles, player))
        if self.is_terminal():
            info["load_files"] = {
                name: [
                    to_load_file(s.warriors[p], config.settings.core_size)
                    for s in self.submissions
                ]
                for p, name in enumerate(self._player_names())
            }
            info["metrics"] = _mean_metrics(
                [s.metrics[player] for s in self.submissions]
            )
        return info

    def render(self) -> str:
        """Every submission's warriors (as load files) and battle results."""
        return render_text(self)


def load_file_digest(load_file: str) -> str:
    """First 12 hex digits of the SHA-256 of a load file."""
    return hashlib.sha256(load_file.encode()).hexdigest()[:12]


def _mean_metrics(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    return {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}


def _error_listing(err: RedcodeError, source: str) -> str:
    """The assembler's errors, the first few, each with the line it is about.

    Line numbers count from the first line of the extracted code (the first line
    inside the fence), so each error quotes its line too.
    """
    lines = source.split("\n")
    issues = []
    for issue in err.errors[:MAX_ISSUES_SHOWN]:
        text = str(issue)
        if 1 <= issue.line <= len(lines) and lines[issue.line - 1].strip():
            text += f"  [{lines[issue.line - 1].strip()[:60]}]"
        issues.append(text)
    more = len(err.errors) - len(issues)
    if more > 0:
        issues.append(f"... and {more} more")
    return "the warrior does not assemble:\n" + "\n".join(issues)


# ---- text ----------------------------------------------------------------------------

_REDCODE = (
    "Redcode: opcodes DAT MOV ADD SUB MUL DIV MOD JMP JMZ JMN DJN SPL SLT CMP SEQ "
    "SNE NOP LDP STP; modifiers .A .B .AB .BA .F .X .I; addressing modes # $ @ < > "
    "* { }. Labels, EQU, FOR/ROF, ORG (or END start) and the constants CORESIZE, "
    "MAXCYCLES, MAXPROCESSES, MAXLENGTH, MINDISTANCE, WARRIORS and ROUNDS work as in "
    "pMARS."
)
_ANSWER = (
    "Answer with your complete warrior in a ```redcode fenced block; the last block "
    "that looks like Redcode counts. A warrior that does not assemble is an invalid "
    "move, and you are told the assembler's errors."
)
_MARKS = "(W = survived alone, T = survived with others, L = died)"


def _round_rules(config: CoreWarConfig) -> str:
    s = config.settings
    return (
        f"A battle is {config.rounds} rounds. In each round the core, {s.core_size} "
        f"cells of DAT.F $0, $0, gets the warriors: the first at address 0, the "
        f"others at random addresses at least {s.min_distance} cells apart, new ones "
        f"every round. The warriors take turns executing one instruction of one of "
        f"their processes; which warrior moves first rotates from round to round. A "
        f"process that executes DAT (or divides by zero) dies, and a warrior with no "
        f"process left is dead. The round ends when one warrior is left, or after "
        f"{s.max_cycles} cycles with the survivors tied. Each survivor of a round "
        f"gets (W*W-1)/S points, W warriors, S survivors: 3 for a win and 1 for a "
        f"tie between two warriors."
    )


def _reward_rules(config: CoreWarConfig) -> str:
    n = config.warriors_per_battle
    if config.reward == "outcome":
        if n == 2:
            return "The warrior with more points wins: +1 win, 0 draw, -1 loss."
        return (
            "The warriors with the most points win: the winners share +1, the "
            "others share -1; equal points for all is a draw (0)."
        )
    if config.reward == "score_share":
        return (
            "Your reward is your centred share of the points: (W*share - 1)/(W - 1), "
            "from +1 (all points) down to -1/(W - 1) (none)."
        )
    survival = (
        "DRQ's survival share: in each round of T cycles with W warriors, (W/T) times "
        "the sum over cycles of 1/(warriors alive) while you are alive, averaged over "
        "rounds"
    )
    if config.mode == VERSUS:
        return f"Your reward is {survival}, minus 1 (0 is par)."
    if config.reward == "survival":
        return f"Your reward is {survival} (1 is par, W means always alone)."
    return (
        "Your reward is your pMARS score as a fraction of the most points possible "
        "(1: you survive alone every round; 0: you never survive)."
    )


def _intro(config: CoreWarConfig, player: int) -> str:
    if config.mode == VERSUS:
        others = config.num_players - 1
        plural = others > 1
        return (
            f"Core War. You are player_{player}; {others} other "
            f"player{'s' if plural else ''} write{'' if plural else 's'} a warrior at "
            f"the same time as you, in Redcode (ICWS'94, as pMARS 0.9.4 reads it). "
            f"Then all the warriors fight in one circular core. Warrior k is "
            f"player_k's."
        )
    names = ", ".join(a.name for a in config.archive)
    count = len(config.archive)
    if config.archive_battle == "melee":
        how = (
            f"Your warrior fights all of them at once, {count + 1} warriors in one "
            f"core, yours first"
        )
    else:
        how = "Your warrior fights each of them in turn, one duel each, yours first"
    return (
        f"Core War, Red Queen mode. Write a warrior in Redcode (ICWS'94, as pMARS "
        f"0.9.4 reads it) that beats an archive of {count} champions: {names}. {how}."
    )


def _settings_line(config: CoreWarConfig) -> str:
    s = config.settings
    return (
        f"Settings: core size {s.core_size}, max cycles {s.max_cycles}, max processes "
        f"{s.max_processes}, max length {s.max_length}, min distance "
        f"{s.min_distance}, rounds {config.rounds}, warriors per battle "
        f"{config.warriors_per_battle}."
    )


def _capped(source: str) -> str:
    source = source.strip("\n")
    if len(source) > SOURCE_CAP:
        more = len(source) - SOURCE_CAP
        source = f"{source[:SOURCE_CAP]}\n; ... ({more} more characters)"
    return f"```redcode\n{source}\n```"


def _open_sources(state: CoreWarState, player: int) -> list[str]:
    config = state.config
    if config.mode == RED_QUEEN:
        lines = ["", "The archive's warriors:"]
        for a in config.archive:
            lines += [f"{a.name}:", _capped(a.source)]
        return lines
    if not state.submissions:
        return []
    last = state.submissions[-1]
    lines = [""]
    for p in range(state.num_players):
        if p != player:
            lines += [f"player_{p}'s last warrior:", _capped(last.sources[p])]
    return lines


def _warrior_line(battle: BattleSummary, k: int, who: str) -> str:
    return (
        f"  {who}: {battle.wins[k]} won, {battle.ties[k]} tied, {battle.losses[k]} "
        f"lost, {battle.scores[k]} of {battle.max_score} points, survival "
        f"{battle.survival[k]:.3f}"
    )


def _battle_lines(state: CoreWarState, player: int) -> list[str]:
    last = state.submissions[-1]
    config = state.config
    own_name = last.warriors[player].name[:NAME_CAP]
    lines = [f"Last battle (submission {last.index + 1}), your warrior {own_name!r}:"]
    if config.mode == RED_QUEEN and config.archive_battle == "pairwise":
        for b in last.battles:
            lines.append(_warrior_line(b, 0, f"vs {b.warriors[1]}"))
    else:
        battle = last.battles[0]
        for k, who in enumerate(battle.warriors):
            label = f"you ({who})" if k == player else who
            lines.append(_warrior_line(battle, k, label))
        lines.append(f"  your rounds: {battle.round_marks(player)} {_MARKS}")
    lines.append(f"  your reward for it: {last.rewards[player]:.4f}")
    return lines


def observation_text(state: CoreWarState, player: int) -> str:
    """The prompt of ``player``: rules, settings, open sources, the last battle."""
    config = state.config
    lines = [
        _intro(config, player),
        "",
        _round_rules(config),
        _reward_rules(config),
        "",
        _settings_line(config),
        _REDCODE,
    ]
    if config.open_information:
        lines += _open_sources(state, player)
    if state.submissions:
        lines += ["", *_battle_lines(state, player)]
        if not state.is_terminal() and config.num_submissions > 1:
            own = state.submissions[-1].sources[player]
            lines += ["Your last warrior:", _capped(own)]
    lines.append("")
    if state.is_terminal():
        lines.append(f"The game is over. Your return: {state.returns()[player]:.4f}.")
    else:
        done = len(state.submissions)
        lines.append(f"Submission {done + 1} of {config.num_submissions}. {_ANSWER}")
    return "\n".join(lines)


def render_text(state: CoreWarState) -> str:
    """Every submission: each warrior's load file and each battle's results."""
    config = state.config
    core = config.settings.core_size
    lines = [f"Core War ({config.mode}), {len(state.submissions)} submission(s)"]
    for sub in state.submissions:
        lines.append(f"== submission {sub.index + 1}")
        for p, warrior in enumerate(sub.warriors):
            lines.append(f"player_{p}: {warrior.name[:NAME_CAP]!r}")
            lines.append(to_load_file(warrior, core))
        for battle in sub.battles:
            for k, who in enumerate(battle.warriors):
                lines.append(_warrior_line(battle, k, who))
        lines.append("rewards: " + ", ".join(f"{r:.4f}" for r in sub.rewards))
    if not state.submissions:
        lines.append("No battle yet.")
    return "\n".join(lines)
