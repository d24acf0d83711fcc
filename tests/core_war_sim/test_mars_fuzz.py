"""Property tests: random valid warriors run their whole cycle budget without error."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selfplay_envs.games.core_war.instructions import (
    Instruction,
    Mode,
    Modifier,
    Opcode,
    Warrior,
)
from selfplay_envs.games.core_war.mars import Mars, MarsSettings, battle

BASE = MarsSettings(
    core_size=256, max_cycles=300, max_processes=16, max_length=12, min_distance=12
)

instructions = st.builds(
    Instruction,
    opcode=st.sampled_from(Opcode),
    modifier=st.sampled_from(Modifier),
    a_mode=st.sampled_from(Mode),
    a_number=st.integers(-300, 300),
    b_mode=st.sampled_from(Mode),
    b_number=st.integers(-300, 300),
)


@st.composite
def warriors(draw) -> Warrior:
    code = draw(st.lists(instructions, min_size=1, max_size=BASE.max_length))
    return Warrior(
        instructions=tuple(code),
        start=draw(st.integers(0, len(code) - 1)),
        pin=draw(st.sampled_from([None, None, 1])),
    )


@st.composite
def mars_settings(draw) -> MarsSettings:
    limits = [None, 256, 128, 64, 32]
    return dataclasses.replace(
        BASE,
        read_limit=draw(st.sampled_from(limits)),
        write_limit=draw(st.sampled_from(limits)),
        pspace_size=draw(st.sampled_from([None, 1, 7, 16])),
        max_processes=draw(st.sampled_from([1, 3, 16])),
    )


FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@FUZZ
@given(
    ws=st.lists(warriors(), min_size=1, max_size=4),
    rounds=st.integers(1, 4),
    s=mars_settings(),
    seed=st.integers(0, 2**31 - 2),
)
def test_random_battles_are_consistent(ws, rounds, s, seed) -> None:
    result = battle(ws, rounds, s, seed=seed, track_survival=True)
    n = len(ws)
    points = [(n * n - 1) // k for k in range(1, n + 1)]
    for i in range(n):
        assert len(result.results[i]) == n + 1
        assert sum(result.results[i]) == rounds
        assert result.wins[i] + result.ties[i] + result.losses[i] == rounds
        expected = sum(c * p for c, p in zip(result.results[i], points, strict=False))
        assert result.scores[i] == expected
    if n == 2:
        assert result.wins[0] == result.losses[1]
        assert result.wins[1] == result.losses[0]
        assert result.ties[0] == result.ties[1]
    assert 0 < result.steps <= rounds * n * s.max_cycles
    deaths = result.death_cycles
    assert ((deaths >= -1) & (deaths < s.max_cycles)).all()
    assert (result.cycles >= 1).all() and (result.cycles <= s.max_cycles).all()
    survived = (deaths < 0).sum(axis=1)
    if n > 1:
        assert (survived >= 1).all()
        assert np.isclose(sum(result.survival), n)
    assert all(0.0 <= x <= n + 1e-9 for x in result.survival)


@FUZZ
@given(
    ws=st.lists(warriors(), min_size=1, max_size=3),
    s=mars_settings(),
    chunks=st.lists(st.integers(1, 50), min_size=1, max_size=30),
)
def test_stepping_in_chunks_equals_running_through(ws, s, chunks) -> None:
    positions = [k * s.min_distance * 3 for k in range(len(ws))]
    a, b = Mars(s), Mars(s)
    a.load(ws, positions)
    b.load(ws, positions)
    for n in chunks:
        a.step(n)
    b.step(sum(chunks))
    assert a.core == b.core
    assert a.steps == b.steps
    assert a.counter == b.counter
    assert a.finished == b.finished
    assert a.death_cycles == b.death_cycles
    for w in range(len(ws)):
        assert a.queue(w) == b.queue(w)
        assert a.pspace(w) == b.pspace(w)
        assert all(0 <= pc < s.core_size for pc in a.queue(w))
        assert len(a.queue(w)) <= s.max_processes
    for c in a.core:
        assert 0 <= c.a_number < s.core_size and 0 <= c.b_number < s.core_size


@FUZZ
@given(ws=st.lists(warriors(), min_size=2, max_size=2), seed=st.integers(0, 10**6))
def test_one_round_battle_equals_stepping(ws, seed) -> None:
    result = battle(ws, 1, BASE, seed=seed)
    mars = Mars(BASE)
    mars.load(ws, result.positions[0].tolist(), first=int(result.first[0]))
    mars.run()
    assert result.steps == mars.steps
    assert result.round_log[0].survivors == mars.alive
    assert result.round_log[0].death_cycles == mars.death_cycles
