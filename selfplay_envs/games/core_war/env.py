"""# Core War

| | |
|---|---|
| Creation | `selfplay_envs.make("core_war_v0")`, `make_parallel(...)`; `mode="red_queen"` for DRQ |
| Agents | versus: `player_0` ... `player_{n-1}`, n = 2 (default) to 36; Red Queen: `player_0` alone |
| Actions | text: a Redcode warrior, fenced (```` ```redcode ````) or bare, prose around it is fine |
| Observation | `{"text": prompt}`: rules, settings, open sources, the last battle's summary |
| Views | text only (a warrior is free text) |
| Reference | Digital Red Queen (DRQ); pMARS 0.9.4 and the ICWS'94 draft for the rules |

Each player writes a warrior in Redcode; the warriors then fight in a MARS (Memory Array
Redcode Simulator) that reproduces pMARS 0.9.4 round for round. Warriors are assembled
exactly as `pmars -A` would (`selfplay_envs.games.core_war.assembler`, no `eval`), and
battles run in a numba kernel (`selfplay_envs.games.core_war.mars`).

## Rules
* **Submission.** All players submit at the same time (`current_players()` holds every
  seat): the Parallel env takes every warrior in one `step`, the AEC env asks the seats
  one by one and buffers the warriors, so nobody sees another's warrior first.
* **Battle.** The warriors fight `rounds` rounds (default 20) in one core. Warrior k is
  `player_k`'s; warrior 0 loads at address 0, the others at random addresses at least
  `min_distance` apart (pMARS's placement, from a MARS seed drawn from the env's seed);
  the first mover rotates each round. A round ends when one warrior is left or after
  `max_cycles` cycles. Each survivor of a round gets pMARS's `(W*W-1)/S` points (W
  warriors, S survivors): 3 for a win and 1 for a tie in a duel.
* **Submissions.** With `num_submissions=k` (default 1) the episode is k
  submit-and-battle cycles, each with new placements; before each submission every
  player sees the last battle's summary (DRQ-style iterative improvement). The return
  is the mean of the k rewards.
* **Hill.** `preset="koth94"` (default: core 8000, 80000 cycles, 8000 processes, length
  100, distance 100, the ICWS'94 KOTH hill) or `"tiny"` (800/8000/800/20/20);
  `core_size=`, `max_cycles=`, `max_processes=`, `max_length=`, `min_distance=`
  override single values. `preset="drq"` is the koth94 hill plus DRQ's setup (see
  Presets).

## Presets
`preset` names the hill, and `preset="drq"` (Digital Red Queen, Kumar et al. 2026)
also sets `mode="red_queen"`, `reward="survival"` and `rounds=24`, as DRQ's code
does (its `SimulationArgs` is the koth94 hill). `mode`, `reward` and `rounds` are
plain parameters that default to `None` ("the preset's, else today's": `versus`, the
mode's first reward, 20), so an explicit value wins:
`make("core_war_v0", preset="drq", archive=[...])` is DRQ's evaluation of one warrior
against its opponents (the initial ones plus the last champions, as the Red Queen loop
builds the archive); without `archive` it plays the shipped classics, as plain Red
Queen mode does. `docs/papers.md` compares each point with the paper.

## Red Queen mode (DRQ)
`mode="red_queen"` is a one-seat game: one learner writes a warrior that must beat an
archive of earlier champions, and the archive is part of the environment, not a player.
`archive=` takes Redcode sources or paths to `.red` files; the default is the classic
warriors shipped in `envs_assets/core_war/warriors/` (those that assemble under the
hill's settings). `archive_battle="melee"` (default, as DRQ) puts the learner and the
whole archive in one core; `"pairwise"` fights one duel per archive warrior, as a KOTH
hill, and averages. The reward is not zero-sum (`GameInfo.zero_sum` is False):

| `reward=` | meaning | range |
|---|---|---|
| `"score"` (default) | the learner's pMARS score / the most possible, `rounds * (W*W-1)` | 0 to 1 |
| `"survival"` | DRQ's fitness: per round of T cycles, `(W/T) * sum_t alive(t) / n_alive(t)`, averaged over rounds | 0 to W |

A warrior that never assembles (the invalid-move limit reached) gets 0, the worst of
both. A one-seat game is a PettingZoo env with one agent; `GameEnv` and
`ParallelGameEnv` handle it as any other.

## Behaviour descriptors (tsp, mc)
DRQ's MAP-Elites grid has two axes, both counted in the MARS kernel for every warrior
of every battle (`mars.battle(..., track_behaviour=True)`, which the env always asks
for) and averaged over the battle's rounds, as DRQ does:

* `tsp`, total spawned processes: the SPLs that added a process. A SPL with the
  queue full adds none; the initial process is not counted, so a warrior that never
  splits has 0 (DRQ's first bin is `tsp < 1`). `SPL 0` alone splits on every other
  step.
* `mc`, memory coverage: the distinct addresses ever in the warrior's process queue,
  i.e. the addresses its processes executed plus those still queued when the round
  ends (DRQ marks every address it enqueues). An imp alone for N cycles has N + 1.

Both count the round as pMARS plays it, which ends when one warrior is left (DRQ's
simulator plays on to `max_cycles`). The counting runs in a second compiled copy of
the interpreter, so battles that do not ask for it (`mars.battle`'s default) pay
nothing; tracking turns off the early stop of certain ties (results are unchanged).
`descriptors.drq_cell(tsp, mc)` bins them into DRQ's 6 x 6 grid: tsp bins `<1, <10,
<100, <1000, <10000`, more; mc bins `<10, <100, <500, <1000, <4000`, more. After a
battle `info[agent]` has `tsp`, `mc` (the player's, averaged over the submission's
battles) and `drq_cell`; each battle in `battles` lists `tsp` and `mc` per warrior.

## Observation
A `Dict` with `"text"`: who the player is, the rules of a round and of the reward, the
settings, a Redcode summary and how to answer; with `open_information=True` the
opponents' sources (Red Queen: the archive's; versus: the other players' last
warriors, so from the second submission on); after a battle, its summary (each
warrior's wins, ties, losses, points and survival share, and a W/T/L letter per round
for the player), plus the player's own last warrior when more submissions follow.
Opponents' warrior names are never shown unless the game is open.

`info[agent]` adds: `mode`, `submission` (battles fought), `num_submissions`,
`rounds`, `settings`, `warriors_per_battle`, `reward_kind`, `battles` (every battle so
far: warriors, seed, wins, ties, losses, scores, pMARS melee `results`, `survival`,
`tsp`, `mc`, `steps` and a per-round log of positions, first mover, cycles and death cycles), the
player's own `sources`, and `archive` (names) in Red Queen mode. At the end it adds the verifier's evidence,
`load_files` (every player's assembled warriors, `pmars -A` format), and `metrics`,
the player's numbers averaged over its battles: `score` (pMARS points / the most
possible), `win_rate`, `tie_rate`, `loss_rate` and `survival`. The arena averages
`metrics` per agent: that is "Core War score against the warrior pool".

## Action
Free text holding one warrior. `assembler.extract_redcode` drops `<think>` blocks, takes
the last fenced block that looks like Redcode, else the lines from the last `;redcode`
header (or the first instruction) to the last instruction. The warrior is assembled
with the hill's constants (`CORESIZE`, `MAXLENGTH`, `WARRIORS`, `ROUNDS`, ...).

## Rewards
Versus mode is zero-sum; the reward of a submission, by `reward=`:

| `reward=` | each player gets | two players |
|---|---|---|
| `"outcome"` (default) | the top scorers share +1, the others share -1; all equal: 0 | +1 / 0 / -1 |
| `"score_share"` | `(W * share - 1) / (W - 1)`, share = own points / all points | `(mine - theirs) / (mine + theirs)` |
| `"survival"` | DRQ's survival share minus 1 (it sums to W over the warriors) | in [-1, 1] |

## Invalid moves
A reply with no Redcode is `no action found`; a warrior that does not assemble (syntax,
undefined label, more than `max_length` instructions, a failed `;assert`, ...) is
`unparseable: the warrior does not assemble:` followed by the assembler's errors, one
per line, the first 12, each quoting its line (`line 3, col 9: Syntax error  [add]`;
lines count from the first line of the extracted code), so the model can fix it and
retry. The env's invalid-move policy decides what follows (retry by default); under
the penalty policy the fallback warrior is a single `DAT` that dies on its first cycle.
Submissions are simultaneous: every seat's warrior is judged before a forfeit, and seats
that all run out of attempts on the same submission forfeit together (two seats: a draw;
see [simultaneous moves](../concepts.md#simultaneous-moves-are-judged-together)).
In the AEC env a seat's submitted move shows to the others as `warrior <digest>` only
(`info["last_move"]["parsed"]`); the load files come with the final infos.

## Cost
A two-warrior round lasts at most `2 * max_cycles` = 160,000 instructions; on the
default hill a 20-round battle costs at most 3.2 M instructions. The first battle in a
process imports numba and loads the compiled kernel from numba's cache (or compiles it
once, when the cache is cold); see docs/games/core_war.md for measured times. Building
the env, resetting it and rejecting warriors that do not assemble never import numba.
If numba cannot compile the kernel, the step raises `mars.KernelCompileError` (an
`InfrastructureError`) naming the cause and the fix; no warrior is scored for it.

## Version History
* v0: initial release.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from selfplay_envs.core.game import Game, GameInfo
from selfplay_envs.games.core_war.assembler import AssemblerSettings
from selfplay_envs.games.core_war.params import (
    PARAMETERS,
    resolve_preset,
    resolved_hill,
)
from selfplay_envs.games.core_war.rules import (
    MAX_SEED,
    MAX_WARRIORS,
    RED_QUEEN,
    REWARDS,
    SOURCE_CAP,
    VERSUS,
    CoreSettings,
    CoreWarConfig,
    CoreWarState,
    load_archive,
    shipped_warrior_paths,
)

__all__ = ["CoreWarGame"]

_BASE_TEXT = 32768  # rules, settings and battle summaries fit well inside this


class CoreWarGame(Game):
    """Core War: warriors written as text battle in a pMARS-exact MARS.

    Args:
        mode: ``"versus"`` (players fight each other, zero-sum) or ``"red_queen"``
            (one learner against an archive, after DRQ); None: the preset's, else
            ``"versus"``.
        num_players: Seats; default 2 in versus mode, and Red Queen mode has 1.
        rounds: Rounds per battle; None: the preset's, else 20.
        preset: ``"koth94"``, ``"tiny"`` or ``"drq"`` (the koth94 hill, Red Queen
            mode, survival reward, 24 rounds); fills the settings not passed.
        core_size: Core cells (pMARS ``-s``).
        max_cycles: Cycles before a round is a tie (``-c``).
        max_processes: Processes per warrior (``-p``).
        max_length: Most instructions per warrior (``-l``).
        min_distance: Least distance between warriors (``-d``).
        reward: Versus: ``"outcome"`` (default), ``"score_share"`` or ``"survival"``;
            Red Queen: ``"score"`` (default) or ``"survival"``; None: the preset's,
            else the mode's first.
        open_information: Show opponents' sources in the observation.
        num_submissions: Submit-and-battle cycles per episode.
        archive: Red Queen opponents: Redcode sources or ``.red`` paths; default the
            shipped classic warriors.
        archive_battle: Red Queen: ``"melee"`` (one battle, as DRQ) or
            ``"pairwise"`` (one duel per archive warrior).

    Raises:
        ValueError: On an invalid parameter or an archive warrior that does not
            assemble.
    """

    # Three seats and two submissions exercise the melee, the open sources and the
    # battle summaries. Red Queen mode is not zero-sum, which the suite's random-play
    # check assumes of every env; tests/core_war_env runs the suite on it.
    conformance_configs = (
        {
            "num_players": 3,
            "num_submissions": 2,
            "open_information": True,
            "reward": "score_share",
            "rounds": 5,
        },
        # The DRQ preset with its mode overridden (the koth94 hill, survival reward):
        # the suite takes a one-seat game's retries for a parallel break, so
        # tests/core_war_env/test_core_war_presets.py runs it on preset="drq" itself.
        # Fewer rounds than DRQ's 24 keep the suite's many episodes short.
        {"preset": "drq", "mode": "versus", "rounds": 3},
    )

    parameters = PARAMETERS
    # Scripted opponents (``Game.opponents``), imported by agents on first use.
    opponents = {
        "random": "selfplay_agents.opponents.core_war:RandomWarrior",
        "pool": "selfplay_agents.opponents.core_war:WarriorPool",
        "imp": "selfplay_agents.opponents.core_war:imp",
        "dwarf": "selfplay_agents.opponents.core_war:dwarf",
    }

    def __init__(
        self,
        *,
        mode: str | None = None,
        num_players: int | None = None,
        rounds: int | None = None,
        preset: str = "koth94",
        core_size: int | None = None,
        max_cycles: int | None = None,
        max_processes: int | None = None,
        max_length: int | None = None,
        min_distance: int | None = None,
        reward: str | None = None,
        open_information: bool = False,
        num_submissions: int = 1,
        archive: Sequence[str | Path] | None = None,
        archive_battle: str = "melee",
    ) -> None:
        # Every argument has been checked against PARAMETERS (params.py); the hill
        # as a whole is checked by CoreSettings and _check_core.
        settings = CoreSettings(
            **resolved_hill(
                {
                    "preset": preset,
                    "core_size": core_size,
                    "max_cycles": max_cycles,
                    "max_processes": max_processes,
                    "max_length": max_length,
                    "min_distance": min_distance,
                }
            )
        )
        rules = resolve_preset(
            {"preset": preset, "mode": mode, "reward": reward, "rounds": rounds}
        )
        mode, rounds = rules["mode"], rules["rounds"]
        reward = rules["reward"] or REWARDS[mode][0]
        config = CoreWarConfig(
            mode=mode,
            num_players=_seats(mode, num_players),
            rounds=rounds,
            settings=settings,
            reward=reward,
            open_information=bool(open_information),
            num_submissions=num_submissions,
            archive=(),
            archive_battle=archive_battle,
        )
        if mode == RED_QUEEN:
            config = _with_archive(config, archive)
        _check_core(config)
        self.config = config
        self.info = _game_info(config)

    def new_initial_state(self, rng: np.random.Generator) -> CoreWarState:
        """A fresh episode; every MARS seed (placements) is drawn here from ``rng``."""
        seeds = rng.integers(
            1,
            MAX_SEED + 1,
            size=(self.config.num_submissions, self.config.battles_per_submission),
        )
        return CoreWarState(self.config, seeds)


def _seats(mode: str, num_players: int | None) -> int:
    """The seats of ``mode`` (``num_players`` has been checked against it)."""
    if mode == RED_QUEEN:
        return 1
    return 2 if num_players is None else num_players


def _with_archive(
    config: CoreWarConfig, entries: Sequence[str | Path] | None
) -> CoreWarConfig:
    """Assemble the archive; again if dropping shipped warriors changed ``WARRIORS``."""
    if entries is not None and (isinstance(entries, (str, Path)) or not entries):
        raise ValueError(
            f"expected a non-empty sequence of sources or paths as archive, got "
            f"{entries!r:.80}"
        )

    def settings_for(count: int) -> AssemblerSettings:
        warriors = 1 + count if config.archive_battle == "melee" else 2
        return dataclasses.replace(config.assembler_settings(), warriors=warriors)

    count = len(entries) if entries is not None else len(shipped_warrior_paths())
    archive = load_archive(entries, settings_for(count))
    if len(archive) != count:
        archive = load_archive(entries, settings_for(len(archive)))
    return dataclasses.replace(config, archive=archive)


def _check_core(config: CoreWarConfig) -> None:
    warriors = config.warriors_per_battle
    if warriors > MAX_WARRIORS:
        raise ValueError(
            f"expected at most {MAX_WARRIORS} warriors per battle (pMARS's limit), "
            f"got {warriors}"
        )
    s = config.settings
    if s.core_size < warriors * s.min_distance:
        raise ValueError(
            f"expected core_size >= warriors * min_distance = "
            f"{warriors * s.min_distance}, got {s.core_size}"
        )


def _game_info(config: CoreWarConfig) -> GameInfo:
    n = config.warriors_per_battle
    if config.mode == RED_QUEEN:
        low, high = 0.0, 1.0 if config.reward == "score" else float(n)
    elif config.reward == "survival":
        low, high = -1.0, float(n - 1)
    else:
        low, high = -1.0, 1.0
    shown = sum(min(len(a.source), SOURCE_CAP) + 200 for a in config.archive)
    shown += (config.num_players - 1) * (SOURCE_CAP + 200)
    return GameInfo(
        name="core_war_v0",
        num_players=config.num_players,
        # Seats submit at once; each attempt counts towards the adapter's truncation
        # limit, so the bound is per seat.
        max_game_length=config.num_submissions * config.num_players,
        zero_sum=config.mode == VERSUS,
        simultaneous=config.num_players > 1,
        parallelizable=True,  # every move is a submission of every seat
        min_utility=low,
        max_utility=high,
        max_text_length=_BASE_TEXT + shown + SOURCE_CAP + 200,
        roles=("warrior",) * config.num_players
        if config.mode == VERSUS
        else ("learner",),
    )
