"""The negotiation opponents: random is always valid, greedy is greedy, stubborn draws."""

from __future__ import annotations

from typing import Any

import pytest

import selfplay_envs
from selfplay_agents.opponents import list_opponents, make_opponent
from selfplay_agents.opponents.negotiation import GreedyNegotiator
from selfplay_agents.policy import Turn

ENV_ID = "negotiation_v0"


def _play(names: tuple[str, str], seed: int, view: str = "text", **config) -> dict:
    """One game between two registered opponents; returns both final infos."""
    env = selfplay_envs.make(ENV_ID, view=view, **config, infos="full")
    env.reset(seed=seed)
    policies = {
        agent: make_opponent(ENV_ID, name, seed=seed + seat)
        for seat, (agent, name) in enumerate(
            zip(env.possible_agents, names, strict=True)
        )
    }
    finals: dict[str, Any] = {}
    for agent in env.agent_iter():
        observation, _, termination, truncation, info = env.last()
        if termination or truncation:
            finals[agent] = info
            env.step(None)
            continue
        turn = Turn(
            env_id=ENV_ID, agent=agent, observation=observation, info=info, view=view
        )
        env.step(policies[agent].act([turn])[0])
    return finals


def _turn(env, agent: str) -> Turn:
    return Turn(
        env_id=ENV_ID,
        agent=agent,
        observation=env.observe(agent),
        info=env.infos[agent],
    )


def test_registered_opponents() -> None:
    assert list_opponents(ENV_ID) == ["greedy", "random", "stubborn"]
    for name in list_opponents(ENV_ID):
        policy = make_opponent(ENV_ID, name, seed=0, preset="textarena")
        assert policy.name == name


@pytest.mark.parametrize("preset", ["spiral", "textarena"])
@pytest.mark.parametrize("view", ["text", "numeric"])
def test_random_player_is_always_valid_and_tries_every_kind(
    preset: str, view: str
) -> None:
    kinds: set[str] = set()
    for seed in range(8):
        finals = _play(("random", "random"), seed, view, preset=preset)
        records = finals["player_0"]["episode"]
        assert all(r["valid"] for r in records), [r for r in records if not r["valid"]]
        assert len(records) == 10
        kinds |= {e["kind"] for e in finals["player_0"]["events"]}
    assert kinds == {"offer", "accept", "deny", "pass"}


@pytest.mark.parametrize("preset", ["spiral", "textarena"])
@pytest.mark.parametrize("view", ["text", "numeric"])
@pytest.mark.parametrize("other", ["greedy", "random"])
def test_against_stubborn_the_best_result_is_a_draw(
    preset: str, view: str, other: str
) -> None:
    for seed in range(4):
        for names in ((other, "stubborn"), ("stubborn", other)):
            finals = _play(names, seed, view, preset=preset)
            info = finals["player_0"]
            assert info["outcome"] == "draw"
            assert info["gains"] == {"player_0": 0.0, "player_1": 0.0}
            stubborn = "player_1" if names[1] == "stubborn" else "player_0"
            own = [e for e in info["events"] if f"player_{e['player']}" == stubborn]
            assert {e["kind"] for e in own} <= {"deny", "pass"}
            assert all(r["valid"] for r in info["episode"])


def test_greedy_accepts_only_offers_that_raise_its_value() -> None:
    env = selfplay_envs.make(ENV_ID)  # spiral: player 1 values Wood 15, Gold 5
    greedy = GreedyNegotiator()
    env.reset(seed=0)
    env.step("[Offer: 2 Wood -> 5 Gold]")  # for player 1: +30 - 25 = +5
    assert greedy.act([_turn(env, "player_1")])[0].endswith("[Accept]")
    env.reset(seed=0)
    env.step("[Offer: 1 Wood -> 5 Gold]")  # for player 1: +15 - 25 = -10
    reply = greedy.act([_turn(env, "player_1")])[0]
    assert "[Accept]" not in reply and "[Offer:" in reply
    env.reset(seed=0)
    env.step("[Offer: 1 Wood -> 3 Gold]")  # exactly 0: not a raise
    assert "[Accept]" not in greedy.act([_turn(env, "player_1")])[0]


def test_greedy_proposes_its_best_trade_and_learns_from_denials() -> None:
    env = selfplay_envs.make(ENV_ID)  # spiral: player 0 values Wood 5, Gold 15
    env.reset(seed=0)
    greedy = GreedyNegotiator()
    proposals = []
    for _ in range(3):
        reply = greedy.act([_turn(env, "player_0")])[0]
        proposals.append(reply[reply.index("[Offer:") :])
        env.step(reply)
        env.step("No. [Deny]")
    # Gains 70, then 65, then 60; 1 Wood -> 4 Gold (gain 55) is ruled out by the
    # denied 2 Wood -> 5 Gold, which offered player 1 a better rate.
    assert proposals == [
        "[Offer: 1 Wood -> 5 Gold]",
        "[Offer: 2 Wood -> 5 Gold]",
        "[Offer: 3 Wood -> 5 Gold]",
    ]


def test_greedy_does_not_ask_for_more_than_the_opponent_has() -> None:
    env = selfplay_envs.make(ENV_ID)
    env.reset(seed=0)
    env.step("[Offer: 1 Wood -> 3 Gold]")
    env.step("[Offer: 9 Gold -> 1 Wood]")  # a counter-offer by player 1...
    env.step("[Accept]")  # ...that player 0 takes
    env.step("pass")
    assert env.infos["player_0"]["opponent_inventory"] == {"Wood": 11, "Gold": 1}
    reply = GreedyNegotiator().act([_turn(env, "player_0")])[0]
    # Knowing only its own goods it would ask for 5 Gold (2 Wood -> 5 Gold, +65).
    assert reply.endswith("[Offer: 1 Wood -> 1 Gold]")


def test_greedy_beats_random_and_plays_the_same_in_both_views() -> None:
    wins = losses = 0
    for seed in range(10):
        for seat, names in enumerate((("greedy", "random"), ("random", "greedy"))):
            finals = _play(names, seed, "text")
            numeric = _play(names, seed, "numeric")
            text_moves = [
                (e["kind"], e["give"], e["receive"])
                for e in finals["player_0"]["events"]
            ]
            num_moves = [
                (e["kind"], e["give"], e["receive"])
                for e in numeric["player_0"]["events"]
            ]
            assert text_moves == num_moves
            outcome = finals[f"player_{seat}"]["outcome"]
            wins += outcome == "win"
            losses += outcome == "loss"
    assert wins > 2 * losses, (wins, losses)
