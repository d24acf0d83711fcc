"""The public battle API: placement, start order, scoring, logs, checks, batching."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from selfplay_envs.games.core_war.instructions import (
    Instruction,
    Mode,
    Modifier,
    Opcode,
    Warrior,
)
from selfplay_envs.games.core_war.mars import (
    BattleJob,
    MarsSettings,
    battle,
    battle_many,
    default_pspace_size,
)

SMALL = MarsSettings(
    core_size=800, max_cycles=2000, max_processes=64, max_length=20, min_distance=20
)


def cell(op: Opcode, mod: Modifier, am: Mode, a: int, bm: Mode, b: int) -> Instruction:
    return Instruction(
        opcode=op, modifier=mod, a_mode=am, a_number=a, b_mode=bm, b_number=b
    )


IMP = Warrior(
    instructions=(cell(Opcode.MOV, Modifier.I, Mode.DIRECT, 0, Mode.DIRECT, 1),),
    name="imp",
)
SUICIDE = Warrior(
    instructions=(cell(Opcode.DAT, Modifier.F, Mode.IMMEDIATE, 0, Mode.IMMEDIATE, 0),),
    name="dat",
)
DWARF = Warrior(
    instructions=(
        cell(Opcode.ADD, Modifier.AB, Mode.IMMEDIATE, 4, Mode.DIRECT, 3),
        cell(Opcode.MOV, Modifier.I, Mode.DIRECT, 2, Mode.B_INDIRECT, 2),
        cell(Opcode.JMP, Modifier.B, Mode.DIRECT, -2 % 800, Mode.DIRECT, 0),
        cell(Opcode.DAT, Modifier.F, Mode.IMMEDIATE, 0, Mode.IMMEDIATE, 0),
    ),
    name="dwarf",
)


def park_miller(seed: int) -> int:
    t = 16807 * (seed % 127773) - 2836 * (seed // 127773)
    return t + 2147483647 if t < 0 else t


# ------------------------------------------------------------------- placement


def test_fixed_position_places_warrior_2_then_follows_the_rng() -> None:
    p = 345
    result = battle([DWARF, IMP], 6, SMALL, fixed_position=p)
    span = SMALL.core_size + 1 - 2 * SMALL.min_distance
    seed = p - SMALL.min_distance
    for r in range(6):
        assert result.positions[r].tolist() == [0, SMALL.min_distance + seed % span]
        seed = park_miller(seed)
    assert result.positions[0, 1] == p


def test_fixed_position_at_min_distance_never_moves() -> None:
    result = battle([DWARF, IMP], 5, SMALL, fixed_position=SMALL.min_distance)
    assert set(result.positions[:, 1].tolist()) == {SMALL.min_distance}


def test_seed_is_the_internal_rng_state() -> None:
    a = battle([DWARF, IMP], 8, SMALL, seed=1234)
    b = battle([DWARF, IMP], 8, SMALL, fixed_position=1234 + SMALL.min_distance)
    assert a == b
    np.testing.assert_array_equal(a.positions, b.positions)


def test_random_seed_when_none_given() -> None:
    result = battle([DWARF, IMP], 4, SMALL)
    assert sum(result.results[0]) == 4


def test_start_order_rotates() -> None:
    result = battle([DWARF, IMP, IMP], 7, SMALL, fixed_position=500)
    assert result.first.tolist() == [r % 3 for r in range(7)]


def test_melee_positions_are_separated() -> None:
    result = battle([DWARF, IMP, IMP, IMP], 20, SMALL, seed=99)
    d, m = SMALL.min_distance, SMALL.core_size
    for row in result.positions.tolist():
        assert row[0] == 0
        assert all(d <= p <= m - d for p in row[1:])
        for i in range(1, 4):
            for j in range(i + 1, 4):
                assert abs(row[i] - row[j]) >= d


def test_npos_fallback_when_the_core_is_full() -> None:
    # With core_size == W * min_distance, posit() can hardly succeed; npos() then
    # puts the warriors exactly min_distance apart, shuffled.
    s = MarsSettings(
        core_size=80, max_cycles=50, max_processes=8, max_length=20, min_distance=20
    )
    result = battle([IMP, IMP, IMP, IMP], 10, s, seed=7)
    for row in result.positions.tolist():
        assert row[0] == 0
        assert sorted(row[1:]) == [20, 40, 60]


def test_permutate_with_fixed_position_doubles_the_seed() -> None:
    a = battle([DWARF, IMP], 30, SMALL, fixed_position=50, permutate=True)
    b = battle([DWARF, IMP], 30, SMALL, seed=2 * (50 - 20), permutate=True)
    np.testing.assert_array_equal(a.positions, b.positions)
    np.testing.assert_array_equal(a.first, b.first)
    # The first draw: index seed % 2*span -> position d + i // 2, first mover i % 2.
    span = SMALL.core_size + 1 - 2 * SMALL.min_distance
    i = (2 * (50 - 20)) % (2 * span)
    assert (a.positions[0, 1], a.first[0]) == (20 + i // 2, i % 2)


# --------------------------------------------------------------------- scoring


def test_imp_vs_dwarf_results_are_consistent() -> None:
    result = battle([IMP, DWARF], 50, SMALL, fixed_position=400)
    assert result.rounds == 50
    for i in range(2):
        assert result.wins[i] + result.ties[i] + result.losses[i] == 50
        assert sum(result.results[i]) == 50
        assert result.scores[i] == 3 * result.wins[i] + result.ties[i]
    assert result.wins[0] == result.losses[1]
    assert result.ties[0] == result.ties[1]


def test_melee_scores_use_w_squared_minus_one_over_s() -> None:
    result = battle([IMP, DWARF, SUICIDE], 9, SMALL, seed=3)
    for row, score in zip(result.results, result.scores, strict=True):
        assert score == 8 * row[0] + 4 * row[1] + 2 * row[2]
        assert sum(row) == 9
    assert result.results[2] == (0, 0, 0, 9)


def test_single_warrior_quirk_matches_pmars() -> None:
    # pMARS counts the death of a lone warrior in its score[0] ("wins") slot.
    result = battle([SUICIDE], 3, SMALL)
    assert result.results == ((3, 0),)
    assert result.round_log[0].survivors == (False,)
    assert battle([IMP], 2, SMALL).results == ((2, 0),)


def test_round_log() -> None:
    result = battle([SUICIDE, IMP], 2, SMALL, fixed_position=100)
    log = result.round_log
    assert [r.first for r in log] == [0, 1]
    assert all(r.survivors == (False, True) for r in log)
    assert all(r.death_cycles == (0, None) for r in log)
    assert all(r.cycles == 1 for r in log)
    assert log[0].positions == (0, 100)
    tie = battle([IMP, IMP], 1, SMALL, fixed_position=100).round_log[0]
    assert tie.cycles == SMALL.max_cycles
    assert tie.survivors == (True, True)


def test_survival_share() -> None:
    result = battle([SUICIDE, IMP], 4, SMALL, fixed_position=300, track_survival=True)
    assert result.survival == pytest.approx((0.0, 2.0))
    tie = battle([IMP, IMP], 2, SMALL, fixed_position=300, track_survival=True)
    assert tie.survival == pytest.approx((1.0, 1.0))
    assert battle([IMP, IMP], 1, SMALL, fixed_position=300).survival is None


def test_survival_share_of_a_late_death() -> None:
    # The dwarf dies in cycle d of T; shares: imp d/2/T*2 + (T-d)/T*2, dwarf d/T.
    result = battle([IMP, DWARF], 30, SMALL, fixed_position=400, track_survival=True)
    t = SMALL.max_cycles
    expected = np.zeros(2)
    for row in result.death_cycles.tolist():
        ends = [t if d < 0 else d for d in row]
        lo, hi = sorted(ends)
        for i in range(2):
            expected[i] += 2 / t * (min(ends[i], lo) / 2 + max(0, ends[i] - lo))
        assert hi == t or lo == hi
    np.testing.assert_allclose(result.survival, expected / 30)
    assert sum(result.survival) == pytest.approx(2.0)


def test_result_is_frozen() -> None:
    result = battle([IMP, IMP], 1, SMALL, fixed_position=300)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.rounds = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        result.positions[0, 0] = 5


# ------------------------------------------------------------------ batching


def test_battle_many_equals_battle() -> None:
    jobs = [
        BattleJob(warriors=[IMP, DWARF], rounds=7, settings=SMALL, fixed_position=77),
        BattleJob(warriors=[DWARF, IMP, SUICIDE], rounds=5, settings=SMALL, seed=5),
        BattleJob(
            warriors=[DWARF, IMP], rounds=9, settings=SMALL, seed=11, permutate=True
        ),
        BattleJob(warriors=[SUICIDE], rounds=2, settings=SMALL, track_survival=True),
        BattleJob(
            warriors=[IMP, DWARF],
            rounds=3,
            settings=dataclasses.replace(SMALL, read_limit=400, write_limit=200),
            seed=42,
            track_survival=True,
        ),
    ]
    many = battle_many(jobs, workers=2)
    for job, got in zip(jobs, many, strict=True):
        want = battle(
            job.warriors,
            job.rounds,
            job.settings,
            fixed_position=job.fixed_position,
            seed=job.seed,
            permutate=job.permutate,
            track_survival=job.track_survival,
        )
        assert got == want
        np.testing.assert_array_equal(got.positions, want.positions)
        np.testing.assert_array_equal(got.death_cycles, want.death_cycles)
    assert battle_many([]) == []


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_battle_many_large_batch_equals_battle(workers: int) -> None:
    """Many jobs of mixed sizes, settings and tracking over shared threads: each
    result is the job's own battle, in order, whichever thread fought it."""
    big = MarsSettings(
        core_size=8000, max_cycles=3000, max_processes=200, max_length=20,
        min_distance=100,
    )  # fmt: skip
    limited = dataclasses.replace(SMALL, read_limit=400, write_limit=200)
    pairs = [[IMP, DWARF], [DWARF, DWARF], [DWARF, IMP, SUICIDE], [SUICIDE], [IMP, IMP]]
    jobs = []
    for k in range(60):
        warriors = pairs[k % len(pairs)]
        jobs.append(
            BattleJob(
                warriors=warriors,
                rounds=1 + k % 4,
                settings=(SMALL, big, limited)[k % 3],
                seed=k,
                permutate=len(warriors) == 2 and k % 7 == 0,
                track_survival=k % 2 == 0,
                track_behaviour=k % 5 == 0,
            )
        )
    many = battle_many(jobs, workers=workers)
    assert len(many) == len(jobs)
    for job, got in zip(jobs, many, strict=True):
        want = battle(
            job.warriors, job.rounds, job.settings, seed=job.seed,
            permutate=job.permutate, track_survival=job.track_survival,
            track_behaviour=job.track_behaviour,
        )  # fmt: skip
        assert got == want
        for field in ("positions", "first", "death_cycles", "cycles", "tsp_rounds",
                      "mc_rounds"):  # fmt: skip
            np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
            assert not getattr(got, field).flags.writeable


@pytest.mark.parametrize("workers", [2, 3])
def test_battle_many_shares_rounds_of_long_battles(workers: int) -> None:
    """On several threads a battle's rounds are shared out in runs when they are
    independent (two warriors, no P-space instruction); a warrior that reads and
    writes P-space keeps its battle's rounds in order. Either way the results are
    the battle's own."""
    from selfplay_envs.games.core_war.assembler import (  # noqa: PLC0415
        AssemblerSettings,
        assemble,
    )

    asm = AssemblerSettings(core_size=800, max_length=20, min_distance=20)
    # Plays an imp after a lost round (its P-space cell 0 reads 0), else a dwarf,
    # and counts its rounds in P-space cell 3.
    pspace = assemble(
        """
        ldp.ab #0, flag
        ldp.ab #3, count
        add.b #1, count
        stp.b count, #3
        jmz.b imp, flag
bomb    add.ab #4, 3
        mov.i 2, @2
        jmp -2
imp     mov.i 0, 1
flag    dat #0, #0
count   dat #0, #0
        """,
        asm,
    )
    assert any(i.opcode == Opcode.STP for i in pspace.instructions)
    jobs = [
        BattleJob(warriors=[IMP, DWARF], rounds=40, settings=SMALL, seed=1),
        BattleJob(warriors=[pspace, DWARF], rounds=30, settings=SMALL, seed=2),
        BattleJob(
            warriors=[DWARF, pspace], rounds=9, settings=SMALL, seed=3, permutate=True
        ),  # fmt: skip
        BattleJob(
            warriors=[DWARF, DWARF],
            rounds=33,
            settings=SMALL,
            seed=4,
            track_behaviour=True,
            track_survival=True,
        ),  # fmt: skip
        BattleJob(warriors=[IMP, DWARF, SUICIDE], rounds=12, settings=SMALL, seed=5),
        BattleJob(
            warriors=[IMP, DWARF], rounds=3, settings=SMALL, seed=6, permutate=True
        ),  # fmt: skip
    ]
    many = battle_many(jobs, workers=workers)
    for job, got in zip(jobs, many, strict=True):
        want = battle(
            job.warriors, job.rounds, job.settings, seed=job.seed,
            permutate=job.permutate, track_survival=job.track_survival,
            track_behaviour=job.track_behaviour,
        )  # fmt: skip
        assert got == want
        for field in ("positions", "first", "death_cycles", "cycles", "tsp_rounds",
                      "mc_rounds"):  # fmt: skip
            np.testing.assert_array_equal(getattr(got, field), getattr(want, field))
    # The P-space warrior's rounds depend on each other: not all alike.
    assert len(set(many[1].death_cycles[:, 0].tolist())) > 1


def test_warrior_encoding_is_cached_per_core_size() -> None:
    """A warrior's cells are packed once per core size (numbers reduced modulo it),
    and the cache lets go of a warrior that is gone."""
    import gc  # noqa: PLC0415

    from selfplay_envs.games.core_war import mars  # noqa: PLC0415

    w = Warrior(
        instructions=(cell(Opcode.MOV, Modifier.I, Mode.DIRECT, 0, Mode.DIRECT, 900),),
        name="far imp",
    )
    small = mars._encode_warrior(w, 800)
    assert mars._encode_warrior(w, 800) is small
    assert not small.flags.writeable
    assert small[0, 2] == 100
    assert mars._encode_warrior(w, 8000)[0, 2] == 900
    copy = dataclasses.replace(w)
    assert copy == w and copy is not w
    np.testing.assert_array_equal(mars._encode_warrior(copy, 800), small)
    key = id(w)
    assert key in mars._ENCODED
    del w
    gc.collect()
    assert key not in mars._ENCODED
    # Same results as an uncached warrior (a fresh, equal one each battle).
    fresh = [dataclasses.replace(DWARF), dataclasses.replace(IMP)]
    assert battle(fresh, 5, SMALL, seed=3) == battle([DWARF, IMP], 5, SMALL, seed=3)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"core_size": 1}, "core_size >= 2"),
        ({"core_size": 70000}, "core_size <= 65536"),
        ({"max_cycles": 0}, "max_cycles >= 1"),
        ({"min_distance": 10, "max_length": 20}, "min_distance >= 20"),
        ({"read_limit": 7}, "read_limit dividing core_size"),
        ({"write_limit": 0}, "write_limit >= 1"),
        ({"pspace_size": 9000}, "pspace_size <= core_size"),
        ({"max_processes": 2.5}, "integer max_processes"),
    ],
)
def test_settings_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MarsSettings(**kwargs)


@pytest.mark.parametrize(
    ("warriors", "rounds", "kwargs", "match"),
    [
        ([], 1, {}, "number of warriors >= 1"),
        ([IMP, IMP], 0, {}, "rounds >= 1"),
        ([IMP, IMP], 1, {"fixed_position": 5}, "fixed_position >= 20"),
        ([IMP, IMP], 1, {"fixed_position": 50, "seed": 3}, "not both"),
        ([IMP, IMP], 1, {"seed": -1}, "seed >= 0"),
        ([IMP, IMP], 1, {"seed": 2**31}, "seed <= 2147483646"),
        ([IMP, IMP, IMP], 1, {"permutate": True}, "2 warriors with permutate"),
        ([IMP] * 41, 1, {}, "core_size >= warriors"),
        ([Warrior(instructions=(IMP.instructions[0],) * 21)], 1, {}, "1..20"),
        ([Warrior(instructions=())], 1, {}, "1..20"),
        ([Warrior(instructions=IMP.instructions, start=800)], 1, {}, "start offset"),
        ([Warrior(instructions=IMP.instructions, start=-1)], 1, {}, "start offset"),
        (["imp"], 1, {}, "a Warrior"),
    ],
)
def test_battle_validation(warriors, rounds, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        battle(warriors, rounds, SMALL, **kwargs)


def test_default_pspace_size() -> None:
    assert default_pspace_size(8000) == 500
    assert default_pspace_size(800) == 50
    assert default_pspace_size(55440) == 3465
    assert default_pspace_size(17) == 17
