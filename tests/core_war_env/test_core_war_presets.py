"""The DRQ preset of core_war_v0: resolution, explicit values, refusals, DRQ's fitness
and descriptors on battles whose values follow by hand."""

from __future__ import annotations

import pytest
from pettingzoo.test import api_test, parallel_api_test, seed_test

import selfplay_envs
from selfplay_envs.core.config import ConfigError
from selfplay_envs.games.core_war.rules import shipped_warrior_paths, warriors_dir
from selfplay_envs.test.conformance import (
    check_pickle_replay,
    check_random_play,
    check_rng_determinism,
)

T = 80000  # DRQ's (and koth94's) max_cycles: a round is T cycles
IMP = "mov.i $0, $1\n"  # a newline: Redcode text, not a path
# Runs NOP (cycle 0), NOP (cycle 1), then dies on the DAT in cycle 2.
TWO_CYCLES = "nop $0, $0\nnop $0, $0\ndat #0, #0\n"
# Round 1: P-space cell 0 is pMARS's "unlikely number" (CORESIZE-1), so it falls
# through to the DAT and dies in cycle 2. Round 2: cell 0 says it died (0), so it
# loops forever (overwritten by the imp, it runs on as an imp).
DIES_THEN_LIVES = (
    "start ldp.ab #0, flag\n"
    "      jmz.b  live, flag\n"
    "      dat    #0, #0\n"
    "live  jmp    $0\n"
    "flag  dat    #0, #0\n"
)


def _game(**kwargs):
    return selfplay_envs.make_game("core_war_v0", **kwargs)


def _play(learner: str, archive: list[str], **kwargs) -> tuple[float, dict]:
    env = selfplay_envs.make_parallel(
        "core_war_v0", preset="drq", archive=archive, **kwargs
    )
    env.reset(seed=7)
    _, rewards, terms, _, infos = env.step({"player_0": learner})
    assert terms == {"player_0": True}
    return rewards["player_0"], infos["player_0"]


def test_drq_resolves_to_the_koth94_hill_red_queen_survival_24_rounds() -> None:
    config = _game(preset="drq").config
    assert (config.mode, config.reward, config.rounds) == ("red_queen", "survival", 24)
    assert config.settings.to_dict() == {
        "core_size": 8000,
        "max_cycles": 80000,
        "max_processes": 8000,
        "max_length": 100,
        "min_distance": 100,
    }
    assert config.archive_battle == "melee" and config.num_players == 1
    # No archive given: the shipped classics, as in plain Red Queen mode.
    assert len(config.archive) == len(shipped_warrior_paths())


def test_without_a_preset_nothing_changes() -> None:
    config = _game().config
    assert (config.mode, config.reward, config.rounds) == ("versus", "outcome", 20)
    assert _game(mode="red_queen").config.reward == "score"


def test_an_explicit_value_wins_over_the_preset() -> None:
    config = _game(preset="drq", reward="score", rounds=3, core_size=4000).config
    assert (config.mode, config.reward, config.rounds) == ("red_queen", "score", 3)
    assert config.settings.core_size == 4000 and config.settings.max_cycles == 80000
    versus = _game(preset="drq", mode="versus").config
    assert (versus.mode, versus.reward, versus.num_players) == ("versus", "survival", 2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"preset": "drqq"},
            "preset: expected one of 'koth94', 'tiny', 'drq', got 'drqq'",
        ),
        ({"preset": "drq", "num_players": 2}, "num_players: expected num_players 1"),
        ({"preset": "drq", "reward": "outcome"}, "reward: expected reward in"),
        ({"preset": "drq", "rounds": 0}, "rounds: expected an int in"),
        ({"preset": "drq", "mode": "versus", "archive": [IMP]}, "archive: expected"),
        ({"preset": "drq", "archive": []}, "archive"),
    ],
)
def test_bad_values_are_refused_at_make(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        selfplay_envs.make("core_war_v0", **kwargs)


def test_a_warrior_dead_in_cycle_two_gets_two_cycles_of_a_half_share() -> None:
    # Two warriors: alive in cycles 0 and 1 with the imp, 1/2 each: (2/T) * 2 * 1/2.
    # Who moves first does not matter: its DAT is always its third step, cycle 2.
    reward, info = _play(TWO_CYCLES, [IMP], rounds=2)
    assert reward == pytest.approx(2 / T)
    battle = info["battles"][0]["battles"][0]
    # The imp: 1/2 for 2 cycles, then alone for T - 2: (2/T) * (1 + T - 2).
    assert battle["survival"][1] == pytest.approx(2 * (T - 1) / T)


def test_in_a_melee_of_three_the_share_is_scaled_by_three() -> None:
    # Cycles 0 and 1 with 3 alive: (3/T) * 2 * 1/3 = 2/T; the imps split the rest.
    reward, info = _play(TWO_CYCLES, [IMP, IMP], rounds=1)
    assert reward == pytest.approx(2 / T)
    imp = (3 / T) * (2 / 3 + (T - 2) / 2)
    survival = info["battles"][0]["battles"][0]["survival"]
    assert survival == pytest.approx([2 / T, imp, imp])
    assert sum(survival) == pytest.approx(3.0)


def test_fitness_is_the_mean_over_rounds_as_drq() -> None:
    # Round 1: dies in cycle 2 (2/T); round 2: ties with the imp (share 1).
    reward, _ = _play(DIES_THEN_LIVES, [IMP], rounds=2)
    assert reward == pytest.approx((2 / T + 1.0) / 2)


def test_infos_carry_the_descriptors_and_their_drq_cell() -> None:
    # The learner executes 0, 1, 2 and dies: 3 addresses, no split, in both rounds.
    _, info = _play(TWO_CYCLES, [IMP], rounds=2)
    assert (info["tsp"], info["mc"], info["drq_cell"]) == (0.0, 3.0, [0, 0])
    battle = info["battles"][0]["battles"][0]
    assert battle["tsp"] == [0.0, 0.0] and battle["mc"][0] == 3.0


def test_drq_passes_the_conformance_suite() -> None:
    archive = [warriors_dir() / f"{stem}.red" for stem in ("imp", "dwarf")]
    kwargs = {"preset": "drq", "archive": archive, "rounds": 2}

    def env_fn():
        return selfplay_envs.make("core_war_v0", **kwargs)

    assert env_fn().metadata["zero_sum"] is False
    api_test(env_fn(), num_cycles=100)
    parallel_api_test(selfplay_envs.make_parallel("core_war_v0", **kwargs))
    seed_test(env_fn, num_cycles=100)
    returns = [r["player_0"] for r in check_random_play(env_fn, episodes=4)]
    assert all(0.0 <= r <= 3.0 for r in returns)  # survival: 0 to W = 3
    check_pickle_replay(env_fn)
    check_rng_determinism(env_fn)
