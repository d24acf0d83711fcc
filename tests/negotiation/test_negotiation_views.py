"""Negotiation views: what each player sees (text, tensor, infos) and the move set."""

from __future__ import annotations

import numpy as np
import pytest

import selfplay_envs
from selfplay_envs.games.negotiation import (
    ActionCodec,
    Move,
    MoveKind,
    NegotiationGame,
    Offer,
)
from selfplay_envs.test import check_env


def _text_env(**config):
    env = selfplay_envs.make("negotiation_v0", **config)
    env.reset(seed=3)
    return env


# ---- text view -------------------------------------------------------------------------


def test_prompt_shows_own_goods_and_values_but_never_the_opponents_values() -> None:
    env = _text_env(values=[[7, 13], [11, 3]])
    first = env.observe("player_0")["text"]
    second = env.observe("player_1")["text"]
    assert "Wood: 10 units x 7 = 70" in first and "Gold: 10 units x 13 = 130" in first
    assert "x 11" not in first and "x 3 " not in first
    assert "Wood: 10 units x 11 = 110" in second and "x 7" not in second
    assert "Player 1's inventory: 10 Wood, 10 Gold." in first
    assert "It is your turn (turn 1 of 10; your turn 1 of 5)." in first
    assert "It is Player 0's turn." in second


def test_private_inventories_are_hidden() -> None:
    env = _text_env(preset="textarena")
    assert "Player 1's inventory is private." in env.observe("player_0")["text"]
    assert env.infos["player_0"]["opponent_inventory"] is None
    assert env.infos["player_0"]["inventory"] != env.infos["player_1"]["inventory"]


def test_chat_is_public_but_think_blocks_and_warnings_are_private() -> None:
    env = _text_env()
    env.step(
        "<think>I value Gold at 15, so anything below 3 Wood per Gold is fine.</think>"
        "Hello, partner! [Offer: 2 Wood -> 1 Gold]"
    )
    seen_by_other = env.observe("player_0")["text"]
    assert 'you: "Hello, partner! [Offer: 2 Wood -> 1 Gold]"' in seen_by_other
    opponent_view = env.observe("player_1")["text"]
    assert 'Player 0: "Hello, partner! [Offer: 2 Wood -> 1 Gold]"' in opponent_view
    assert "I value Gold" not in opponent_view
    assert "Player 0 offers to give you 2 Wood in exchange for 1 Gold" in opponent_view
    env.step("[Offer: 50 Gold -> 1 Wood]")  # player_1 cannot cover: retry
    assert env.agent_selection == "player_1"
    assert "Your last move was invalid" in env.observe("player_1")["text"]
    assert "you offer 50 Gold" in env.infos["player_1"]["invalid_reason"]
    assert "invalid" not in env.observe("player_0")["text"]
    assert env.infos["player_0"]["invalid_reason"] == ""


def test_long_messages_are_cut() -> None:
    env = _text_env(max_message_chars=20)
    env.step("x" * 500 + " [Offer: 1 Wood -> 1 Gold]")
    text = env.observe("player_1")["text"]
    assert "x" * 20 + " [...]" in text and "x" * 21 not in text
    assert env.infos["player_1"]["pending_offer"] is not None  # parsed before the cut


# None: the SPIRAL set-up (``preset="spiral"`` would end the game at the first
# invalid move).
@pytest.mark.parametrize("preset", [None, "textarena"])
def test_worst_case_prompt_stays_inside_the_text_space(preset: str | None) -> None:
    env = _text_env(preset=preset)
    space = env.observation_space("player_0")
    *others, last = env.infos["player_0"]["resources"]
    huge = ", ".join(f"999999999 {name}" for name in others)
    longest = "\n" * 5000 + f"[Offer: 1 {others[0]} -> 999999999 {last}]"
    for _ in range(10):
        env.step(f"[Offer: {huge} -> 1 {last}]")  # cannot cover: a private warning
        env.step(longest)  # legal, with the longest chat and offer text kept
        for agent in env.agents:
            assert space.contains(env.observe(agent)), len(env.observe(agent)["text"])
    assert all(env.terminations.values())
    assert env.infos["player_0"]["invalid_moves"] == 5


def test_game_over_text_and_infos_report_both_gains() -> None:
    env = _text_env()
    env.step("[Offer: 1 Wood -> 3 Gold]")
    assert "gains" not in env.infos["player_0"]
    assert env.infos["player_1"]["gain"] == 0.0
    env.step("[Accept]")
    assert env.infos["player_0"]["gain"] == 40.0
    assert env.infos["player_1"]["gain"] == 0.0
    for _ in range(8):
        env.step("bye")
    info = env.infos["player_1"]
    assert info["gains"] == {"player_0": 40.0, "player_1": 0.0}
    assert info["outcome"] == "loss" and env.rewards == {
        "player_0": 1.0,
        "player_1": -1.0,
    }
    assert (
        "The game is over. Your gain: +0; Player 0's gain: +40. You lost."
        in (env.observe("player_1")["text"])
    )


def test_penalty_policy_plays_a_pass_and_drops_the_chat() -> None:
    env = _text_env(invalid_move={"mode": "penalty"})
    env.step("secret chat [Accept]")  # nothing to accept
    assert env.agent_selection == "player_1"
    assert env.infos["player_1"]["events"][0]["kind"] == "pass"
    assert "secret chat" not in env.observe("player_1")["text"]
    assert env.infos["player_0"]["format_penalty"] == -1.0


def test_render_shows_everything() -> None:
    env = selfplay_envs.make("negotiation_v0", render_mode="ansi")
    env.reset(seed=0)
    env.step("[Offer: 1 Wood -> 3 Gold]")
    env.step("[Deny]")
    text = env.render()
    assert "Player 0: 10 Wood (x5), 10 Gold (x15)" in text
    assert "Player 1: 10 Wood (x15), 10 Gold (x5)" in text
    assert "Player 1 denied Player 0's offer 1 Wood -> 3 Gold." in text


# ---- numeric view ----------------------------------------------------------------------


@pytest.mark.parametrize(("resources", "k"), [(("A", "B"), 1), (("A", "B", "C"), 3)])
def test_codec_round_trips_every_index(resources: tuple[str, ...], k: int) -> None:
    codec = ActionCodec(resources, k)
    n = len(resources)
    assert codec.num_actions == 3 + n * (n - 1) * k * k
    seen = set()
    for index in range(codec.num_actions):
        move = codec.decode(index)
        assert codec.encode(move) == index
        if move.kind is MoveKind.OFFER:
            assert move.offer is not None
            assert sum(x > 0 for x in move.offer.give) == 1
            assert sum(x > 0 for x in move.offer.receive) == 1
            assert max(move.offer.give + move.offer.receive) <= k
        seen.add(codec.text(index))
    assert len(seen) == codec.num_actions
    assert [i for i, *_ in codec.offers()] == list(range(3, codec.num_actions))


def test_codec_rejects_moves_outside_the_set() -> None:
    codec = ActionCodec(("Wood", "Gold", "Ore"), 2)
    text_only = NegotiationGame(preset="textarena").new_initial_state(
        np.random.default_rng(0)
    )
    offer = text_only.parse_action(0, "[Offer: 1 Wheat, 1 Wood -> 1 Ore]").action
    assert ActionCodec(text_only.resources, 3).encode(offer) is None
    big = Move(kind=MoveKind.OFFER, offer=Offer(give=(3, 0, 0), receive=(0, 1, 0)))
    assert codec.encode(big) is None


def test_numeric_observation_layout() -> None:
    env = selfplay_envs.make("negotiation_v0", view="numeric", infos="full")
    env.reset(seed=0)
    codec = ActionCodec(("Wood", "Gold"), 5)
    env.step(
        codec.encode(
            Move(kind=MoveKind.OFFER, offer=Offer(give=(2, 0), receive=(0, 1)))
        )
    )
    obs = env.observe("player_1")
    vector = obs["observation"]
    assert vector.shape == env.observation_space("player_1")["observation"].shape
    assert vector.shape == (2 * 6 + 3,)
    assert vector.dtype == np.float32 and vector.min() >= 0 and vector.max() <= 1
    own, start, values, theirs, incoming, outgoing = vector[:12].reshape(6, 2)
    np.testing.assert_allclose(own, [0.5, 0.5])
    np.testing.assert_allclose(start, [0.5, 0.5])
    np.testing.assert_allclose(values, [1.0, 5 / 15])
    np.testing.assert_allclose(theirs, [0.5, 0.5])
    np.testing.assert_allclose(incoming, [2 / 20, 0])  # player 0 would give 2 Wood
    np.testing.assert_allclose(outgoing, [0, 1 / 20])  # and take 1 Gold
    np.testing.assert_allclose(vector[12:], [1.0, 0.0, 0.1])
    mask = obs["action_mask"]
    assert mask[ActionCodec.ACCEPT] == 1 and mask[ActionCodec.DENY] == 1
    assert env.observe("player_0")["observation"][13] == 1.0  # the offer is mine


def test_numeric_view_is_the_same_game() -> None:
    env = selfplay_envs.make("negotiation_v0", view="numeric", infos="full")
    env.reset(seed=0)
    codec = ActionCodec(("Wood", "Gold"), 5)
    env.step(codec.offer_index(0, 1, 1, 3))  # 1 Wood for 3 Gold
    env.step(ActionCodec.ACCEPT)
    assert env.infos["player_0"]["inventory"] == {"Wood": 9, "Gold": 13}
    env.step(ActionCodec.ACCEPT)  # nothing pending: illegal, retry
    assert env.agent_selection == "player_0"
    assert "no pending offer" in env.infos["player_0"]["invalid_reason"]
    env.step(10_000)
    assert "out of range" in env.infos["player_0"]["invalid_reason"]


@pytest.mark.parametrize("view", ["text", "numeric"])
def test_textarena_preset_passes_conformance(view: str) -> None:
    # tests/test_conformance.py covers the default (spiral) preset.
    check_env("negotiation_v0", view=view, preset="textarena")
