"""core_war_v0 in Red Queen mode: one learner against an archive, DRQ's rewards."""

from __future__ import annotations

from pathlib import Path

import pytest
from pettingzoo.test import api_test, parallel_api_test, seed_test

import selfplay_envs
from selfplay_envs.games.core_war.assembler import assemble
from selfplay_envs.games.core_war.rules import shipped_warrior_paths, warriors_dir
from selfplay_envs.test.conformance import (
    check_pickle_replay,
    check_random_play,
    check_rng_determinism,
)


def _source(stem: str) -> str:
    return (warriors_dir() / f"{stem}.red").read_text()


def _submit(reply: str, seed: int = 3, **kwargs):
    env = selfplay_envs.make_parallel("core_war_v0", mode="red_queen", **kwargs)
    observations, _ = env.reset(seed=seed)
    assert env.agents == ["player_0"]
    return observations, env.step({"player_0": reply})


def test_default_archive_is_every_shipped_warrior() -> None:
    game = selfplay_envs.make_game("core_war_v0", mode="red_queen")
    stems = [p.stem for p in shipped_warrior_paths()]
    assert len(stems) >= 10
    assert [a.name for a in game.config.archive] == [
        assemble(p.read_text()).name for p in shipped_warrior_paths()
    ]
    assert game.info.num_players == 1 and not game.info.zero_sum
    assert game.config.warriors_per_battle == len(stems) + 1


@pytest.mark.parametrize("reward", ["score", "survival"])
def test_melee_reward_is_the_learners_score_fraction_or_drq_fitness(reward) -> None:
    from selfplay_envs.games.core_war import mars

    archive = [
        warriors_dir() / "dwarf.red",
        _source("imp"),
        warriors_dir() / "mice.red",
    ]
    _, (_, rewards, terms, _, infos) = _submit(
        _source("stone_sweeper"), reward=reward, archive=archive, rounds=8
    )
    assert terms == {"player_0": True}
    battle = infos["player_0"]["battles"][0]["battles"][0]
    assert battle["warriors"] == ["player_0", "Dwarf", "Imp", "Mice"]
    warriors = [assemble(_source(s)) for s in ("stone_sweeper", "dwarf", "imp", "mice")]
    direct = mars.battle(warriors, 8, seed=battle["seed"], track_survival=True)
    expected = (
        direct.scores[0] / (8 * (4 * 4 - 1))
        if reward == "score"
        else direct.survival[0]
    )
    assert rewards["player_0"] == pytest.approx(expected)
    assert infos["player_0"]["metrics"][reward] == pytest.approx(expected)
    assert sum(direct.survival) == pytest.approx(4.0)


def test_pairwise_reward_averages_one_duel_per_archive_warrior() -> None:
    archive = [_source("imp"), _source("imp_gate")]
    _, (_, rewards, _, _, infos) = _submit(
        _source("imp"), archive=archive, archive_battle="pairwise", rounds=4
    )
    duels = infos["player_0"]["battles"][0]["battles"]
    assert [d["warriors"] for d in duels] == [
        ["player_0", "Imp"],
        ["player_0", "Imp Gate"],
    ]
    # Imp vs Imp: all ties (1 point of 3 a round); Imp vs the gate: all losses.
    assert [d["scores"][0] for d in duels] == [4, 0]
    assert rewards["player_0"] == pytest.approx((4 / 12 + 0) / 2)


def test_open_archive_sources_and_last_battle_in_the_observation() -> None:
    archive = [_source("dwarf"), _source("silk")]
    env = selfplay_envs.make_parallel(
        "core_war_v0",
        mode="red_queen",
        archive=archive,
        open_information=True,
        num_submissions=2,
        rounds=2,
    )
    observations, _ = env.reset(seed=0)
    text = observations["player_0"]["text"]
    assert "beats an archive of 2 champions: Dwarf, Silk Road" in text
    assert "The archive's warriors:" in text and ";name Silk Road" in text
    observations, rewards, _, _, _ = env.step({"player_0": _source("mice")})
    text = observations["player_0"]["text"]
    assert "Last battle (submission 1), your warrior 'Mice':" in text
    assert "  Dwarf: " in text and "Submission 2 of 2" in text
    assert rewards == {"player_0": 0.0}  # paid at the end, as the mean


def test_closed_archive_shows_names_not_sources() -> None:
    observations, _ = _submit(_source("imp"), archive=[_source("dwarf")], rounds=1)
    text = observations["player_0"]["text"]
    assert "Dwarf" in text and "bomb" not in text


def test_a_learner_that_never_assembles_gets_zero() -> None:
    env = selfplay_envs.make("core_war_v0", mode="red_queen")
    env.reset(seed=0)
    for _ in range(3):
        env.step("mov 0")  # one operand: not a valid MOV
    assert env.terminations == {"player_0": True}
    assert env.rewards == {"player_0": 0.0}
    assert env.infos["player_0"]["invalid_moves"] == 3


def test_tiny_hill_keeps_the_classics_that_fit() -> None:
    game = selfplay_envs.make_game("core_war_v0", mode="red_queen", preset="tiny")
    names = {a.name for a in game.config.archive}
    assert {"Imp", "Dwarf", "Mice"} <= names
    # Quick Dwarf is 29 instructions (> 20); Stone Sweeper asserts CORESIZE == 8000.
    assert not {"Quick Dwarf", "Stone Sweeper"} & names
    for a in game.config.archive:
        assert len(a.warrior) <= 20


def test_bad_archives_raise() -> None:
    with pytest.raises(ValueError, match="expected archive warriors that assemble"):
        selfplay_envs.make_game("core_war_v0", mode="red_queen", archive=["add\n"])
    with pytest.raises(ValueError, match="existing .red file"):
        selfplay_envs.make_game(
            "core_war_v0", mode="red_queen", archive=["no/such/warrior.red"]
        )
    with pytest.raises(ValueError, match="archive: expected a non-empty list"):
        selfplay_envs.make_game("core_war_v0", mode="red_queen", archive=[])
    with pytest.raises(ValueError, match="num_players 1"):
        selfplay_envs.make_game("core_war_v0", mode="red_queen", num_players=2)
    many = [Path(p) for p in shipped_warrior_paths()] * 4
    with pytest.raises(ValueError, match="at most 36 warriors"):
        selfplay_envs.make_game("core_war_v0", mode="red_queen", archive=many)


@pytest.mark.parametrize("battle", ["melee", "pairwise"])
def test_red_queen_passes_the_conformance_suite(battle: str) -> None:
    archive = [warriors_dir() / f"{stem}.red" for stem in ("imp", "dwarf", "mice")]
    kwargs = {"mode": "red_queen", "archive": archive, "archive_battle": battle}
    kwargs["rounds"] = 4

    def env_fn():
        env = selfplay_envs.make("core_war_v0", **kwargs)
        # The suite checks zero-sum returns unless the env's metadata says otherwise.
        env.metadata["zero_sum"] = False
        return env

    api_test(env_fn(), num_cycles=200)
    parallel_api_test(selfplay_envs.make_parallel("core_war_v0", **kwargs))
    seed_test(env_fn, num_cycles=200)
    returns = [r["player_0"] for r in check_random_play(env_fn, episodes=8)]
    assert all(0.0 <= r <= 1.0 for r in returns) and max(returns) > 0.0
    check_pickle_replay(env_fn)
    check_rng_determinism(env_fn)
