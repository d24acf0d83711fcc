"""Fixed players of who_is_the_spy_v0: valid moves, honest clues, better than chance."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import pytest

import selfplay_envs
from selfplay_agents.opponents import list_opponents, make_opponent
from selfplay_agents.policy import Policy, Turn

ENV = "who_is_the_spy_v0"


def _play(
    seed: int, civilians: str, spy: str, **config: Any
) -> dict[str, dict[str, Any]]:
    """One game with ``civilians`` in every civilian seat and ``spy`` as the spy."""
    env = selfplay_envs.make_parallel(ENV, image_size=32, **config)
    observations, infos = env.reset(seed=seed)
    players: dict[str, Policy] = {}
    for agent, info in infos.items():
        name = spy if info["is_spy"] else civilians
        players[agent] = make_opponent(ENV, name, seed=seed * 10 + int(agent[-1]))
    while env.agents:
        actions = {
            agent: players[agent].act(
                [
                    Turn(
                        env_id=ENV,
                        agent=agent,
                        observation=observations[agent],
                        info=infos[agent],
                    )
                ]
            )[0]
            for agent in env.agents
            if infos[agent]["acting"]
        }
        observations, _, _, _, infos = env.step(actions)
    return infos


def _exact_chance(num_players: int) -> Fraction:
    """P(civilians win) when each civilian votes uniformly over every seat and N/A."""
    spy = 0
    options = [*range(num_players), None]
    wins = total = 0
    for votes in itertools.product(options, repeat=num_players - 1):
        received = [sum(v == p for v in votes) for p in range(num_players)]
        wins += all(received[spy] > received[p] for p in range(1, num_players))
        total += 1
    return Fraction(wins, total)


def _binomial_tail(successes: int, trials: int, p: float) -> float:
    """P(X >= successes) for X ~ Binomial(trials, p)."""
    return sum(
        math.comb(trials, k) * p**k * (1 - p) ** (trials - k)
        for k in range(successes, trials + 1)
    )


def _civilian_wins(games: int, civilians: str, spy: str, **config: Any) -> int:
    wins = 0
    for seed in range(games):
        infos = _play(seed, civilians, spy, **config)
        assert all(i["invalid_moves"] == 0 for i in infos.values())
        wins += next(iter(infos.values()))["spy_caught"]
    return wins


def test_both_opponents_are_registered() -> None:
    assert list_opponents(ENV) == ["random", "scripted"]
    player = make_opponent(ENV, "scripted", seed=1, word_pairs=None, num_players=5)
    assert player.name == "scripted"


def test_exact_chance_matches_a_hand_count() -> None:
    # 3 players: 2 civilians with 4 options each (seats 0-2, N/A). The spy (seat 0) is
    # caught only by (0, 0), (0, N/A) and (N/A, 0); any other vote for it is tied.
    assert _exact_chance(3) == Fraction(3, 16)
    assert _exact_chance(4) == Fraction(16, 125)


@pytest.mark.slow
def test_scripted_civilians_beat_chance_on_scenes() -> None:
    games = 150
    wins = _civilian_wins(games, "scripted", "scripted")
    chance = float(_exact_chance(4))
    # one-sided exact binomial test against chance
    assert _binomial_tail(wins, games, chance) < 1e-4, (wins, games, chance)


def test_scripted_civilians_beat_chance_on_words() -> None:
    games = 60
    wins = _civilian_wins(games, "scripted", "scripted", items="word")
    assert _binomial_tail(wins, games, float(_exact_chance(4))) < 1e-4, wins


def test_random_civilians_win_at_the_rate_of_chance() -> None:
    games = 80
    wins = _civilian_wins(games, "random", "scripted", items="word")
    chance = float(_exact_chance(4))
    # two-sided: neither tail is improbable
    assert _binomial_tail(wins, games, chance) > 1e-3
    assert 1 - _binomial_tail(wins + 1, games, chance) > 1e-3


@pytest.mark.parametrize(
    "config",
    [
        {"items": "scene"},
        {"items": "chart", "num_players": 3},
        {"items": "word", "num_players": 6},
        {"items": "scene", "spy_item": "blank", "spy_votes": True},
        {"items": "word", "spy_item": "blank"},
    ],
    ids=["scene", "chart-3", "word-6", "scene-blank-spyvotes", "word-blank"],
)
def test_opponents_play_valid_and_honest_games(config: dict[str, Any]) -> None:
    for seed in range(4):
        for civilians, spy in (("scripted", "random"), ("random", "scripted")):
            infos = _play(seed, civilians, spy, **config)
            final = next(iter(infos.values()))
            assert all(i["invalid_moves"] == 0 for i in infos.values())
            assert sum(i["returns"][a] for a, i in infos.items()) == pytest.approx(0.0)
            if final["ground_truth"]["spy_item"] is None:
                continue
            for check in final["ground_truth"]["clue_checks"]:
                # scripted and random players only ever say true, checkable things
                assert check["checkable"], check
                holder = "spy" if check["player"] == final["spy"] else "civilian"
                assert check[f"true_for_{holder}"], check


def test_scripted_voter_votes_for_a_contradiction() -> None:
    env = selfplay_envs.make_parallel(ENV, image_size=32)
    observations, infos = env.reset(seed=2)
    state = env.episode.state
    spy = state.spy
    scene = state.items.civilian
    absent = next(
        f"There is a {c} {s}."
        for c in ("red", "blue", "green", "yellow", "gray", "cyan", "brown", "purple")
        for s in ("cube", "sphere", "cylinder")
        if not any(o.color == c and o.shape == s for o in scene.objects)
    )
    liar = (spy + 1) % 4
    while infos["player_0"]["phase"] == "clue":
        giver = next(a for a, i in infos.items() if i["acting"])
        text = absent if giver == f"player_{liar}" else "Nothing to say."
        observations, _, _, _, infos = env.step({giver: f"\\boxed{{{text}}}"})
    voter = next(a for a, i in infos.items() if i["acting"] and a != f"player_{liar}")
    player = make_opponent(ENV, "scripted", seed=0)
    vote = player.act(
        [
            Turn(
                env_id=ENV,
                agent=voter,
                observation=observations[voter],
                info=infos[voter],
            )
        ]
    )[0]
    assert vote == f"\\boxed{{{liar + 1}}}"
