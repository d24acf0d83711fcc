"""Negotiation rules: presets, trades, pending offers, invalid moves, turns, outcome."""

from __future__ import annotations

import numpy as np
import pytest

import selfplay_envs
from selfplay_envs.core.parsing import InvalidReason
from selfplay_envs.games.negotiation import NegotiationGame, NegotiationState
from selfplay_envs.games.negotiation.config import PRESETS


def _state(**config) -> NegotiationState:
    return NegotiationGame(**config).new_initial_state(np.random.default_rng(0))


def _play(state: NegotiationState, *replies: str) -> None:
    """Play text replies in turn order; each must be legal."""
    for reply in replies:
        player = state.current_players()[0]
        result = state.parse_action(player, reply)
        assert result.ok, f"{reply!r}: {result.message}"
        state.apply_action(player, result.action)


# ---- presets ---------------------------------------------------------------------------


def test_spiral_preset_is_deterministic_with_opposite_values() -> None:
    for seed in range(5):
        state = NegotiationGame().new_initial_state(np.random.default_rng(seed))
        assert state.resources == ("Wood", "Gold")
        assert state.initial == ((10, 10), (10, 10))
        assert state.values == ((5.0, 15.0), (15.0, 5.0))
        assert state.config.num_turns == 10


def test_textarena_preset_draws_like_textarena_from_the_seed() -> None:
    # TextArena: units randint(5, 25); values randint(base - int(0.2 base), ...)
    # clamped to [5, 40].
    ranges = {
        "Wheat": (5, 6),
        "Wood": (8, 12),
        "Sheep": (12, 18),
        "Brick": (20, 30),
        "Ore": (32, 40),
    }
    game = NegotiationGame(preset="textarena")
    seen_values: set[float] = set()
    for seed in range(40):
        state = game.new_initial_state(np.random.default_rng(seed))
        for player in range(2):
            assert all(5 <= n <= 25 for n in state.initial[player])
            for name, value in zip(state.resources, state.values[player], strict=True):
                low, high = ranges[name]
                assert low <= value <= high and value == int(value)
                seen_values.add(value)
    again = game.new_initial_state(np.random.default_rng(7))
    first = game.new_initial_state(np.random.default_rng(7))
    assert (again.initial, again.values) == (first.initial, first.values)
    assert {5.0, 6.0, 32.0, 40.0} <= seen_values  # the clamped ends are reachable


def test_every_number_is_a_parameter_over_the_preset() -> None:
    game = NegotiationGame(
        preset="textarena",
        num_turns=20,
        min_units=1,
        max_units=2,
        max_offer_units=2,
        max_message_chars=50,
        public_inventories=True,
    )
    assert game.config.num_turns == 20 and game.info.max_game_length == 20
    assert game.info.num_actions == 3 + 5 * 4 * 2 * 2
    state = game.new_initial_state(np.random.default_rng(0))
    assert all(1 <= n <= 2 for row in state.initial for n in row)
    drawn = NegotiationGame(preset="spiral", base_values=(10, 30), value_spread=0.5)
    assert drawn.config.values is None
    fixed = NegotiationGame(preset="textarena", values=[[1] * 5, [2] * 5])
    assert fixed.config.base_values is None
    assert fixed.new_initial_state(np.random.default_rng(0)).values[1] == (2.0,) * 5
    assert set(PRESETS) == {"spiral", "textarena"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"num_turns": 11}, r"num_turns: expected an even int in \[2, 1000\]"),
        ({"num_turns": 0}, r"num_turns: expected an even int in \[2, 1000\]"),
        (
            {"num_turns": "ten"},
            r"num_turns: expected an even int .* got 'ten' \(a str\)",
        ),
        ({"preset": "catan"}, "preset: expected one of 'spiral', 'textarena'"),
        (
            {"values": [[1, 2]]},
            r"values: expected a list of 2 items, .* got \[\[1, 2\]\]: 1 item",
        ),
        ({"values": [[1, 2], [3, 4]], "base_values": [1, 2]}, "got both"),
        ({"resources": ["Wood", "Wood"]}, "'Wood' is repeated"),
        ({"resources": ["Wood", "wood"]}, "distinct resource names"),
        ({"resources": ["Wood", "Gold", "Ore"]}, "expected values as 2 rows of 3"),
        ({"min_units": 5, "max_units": 2}, "expected 0 <= min_units <= max_units"),
        ({"max_offer_units": 0}, r"max_offer_units: expected an int in \[1, 20\]"),
        ({"base_values": [1.5, 2]}, r"base_values: .* item 0 is 1.5 \(a float\)"),
        ({"value_bounds": (5, 1)}, "expected value_bounds .* low <= high, got"),
    ],
)
def test_bad_config_raises_expected_got(config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NegotiationGame(**config)


# ---- trades and the pending offer ------------------------------------------------------


def test_accepted_offer_moves_goods_at_once() -> None:
    state = _state()
    _play(state, "[Offer: 3 Wood -> 2 Gold]")
    assert state.inventories == [[10, 10], [10, 10]]
    assert state.pending is not None and state.pending.proposer == 0
    _play(state, "Deal. [Accept]")
    assert state.inventories == [[7, 12], [13, 8]]
    assert state.pending is None
    assert state.gain(0) == -3 * 5 + 2 * 15
    assert state.gain(1) == 3 * 15 - 2 * 5


def test_deny_clears_the_pending_offer() -> None:
    state = _state()
    _play(state, "[Offer: 3 Wood -> 2 Gold]", "[Deny]")
    assert state.pending is None
    assert state.inventories == [[10, 10], [10, 10]]
    result = state.parse_action(0, "[Accept]")
    assert result.reason is InvalidReason.ILLEGAL


def test_a_new_offer_replaces_the_pending_one() -> None:
    state = _state()
    _play(state, "[Offer: 3 Wood -> 2 Gold]", "No. [Offer: 1 Gold -> 4 Wood]")
    assert state.pending is not None and state.pending.proposer == 1
    assert state.events[-1].replaced is not None
    _play(state, "Fine. [Accept]")
    assert state.inventories == [[6, 11], [14, 9]]


def test_a_pass_keeps_the_offer_open_for_later() -> None:
    state = _state()
    _play(state, "[Offer: 1 Wood -> 1 Gold]", "Let me think.", "Well?")
    assert state.pending is not None and state.pending.proposer == 0
    _play(state, "OK [Accept]")
    assert state.inventories == [[9, 11], [11, 9]]


def test_multi_resource_offer_trades_every_item() -> None:
    state = _state(preset="textarena", min_units=10, max_units=10)
    _play(state, "[Offer: 3 Wheat, 1 Sheep -> 2 Ore]", "[Accept]")
    assert state.inventories[0] == [7, 10, 9, 10, 12]
    assert state.inventories[1] == [13, 10, 11, 10, 8]


# ---- invalid moves ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "reply", "detail"),
    [
        ((), "[Offer: 11 Wood -> 1 Gold]", "you offer 11 Wood (you have 10)"),
        ((), "[Accept]", "there is no pending offer to accept"),
        ((), "[Deny]", "there is no pending offer to deny"),
        (("[Offer: 1 Wood -> 1 Gold]", "[Pass]"), "[Accept]", "your own offer"),
        (("[Offer: 1 Wood -> 1 Gold]", "[Pass]"), "[Deny]", "your own offer"),
        (("[Offer: 1 Wood -> 11 Gold]",), "[Accept]", "asks for 11 Gold (you have 10)"),
    ],
    ids=[
        "offer_beyond_inventory",
        "accept_nothing_pending",
        "deny_nothing_pending",
        "accept_own_offer",
        "deny_own_offer",
        "acceptor_cannot_pay",
    ],
)
def test_invalid_move_has_reason_and_changes_nothing(
    setup: tuple[str, ...], reply: str, detail: str
) -> None:
    state = _state()
    _play(state, *setup)
    before = ([row[:] for row in state.inventories], state.pending, state.turn)
    player = state.current_players()[0]
    result = state.parse_action(player, reply)
    assert result.reason is InvalidReason.ILLEGAL
    assert detail in result.message
    assert (state.inventories, state.pending, state.turn) == before


def test_offer_may_ask_for_more_than_the_opponent_has() -> None:
    state = _state()
    _play(state, "[Offer: 1 Wood -> 11 Gold]")  # legal: it just cannot be accepted
    assert state.parse_action(1, "[Accept]").reason is InvalidReason.ILLEGAL
    _play(state, "[Deny]")


# ---- turns and outcome -----------------------------------------------------------------


@pytest.mark.parametrize("num_turns", [2, 4, 10, 16])
def test_both_players_get_equal_turns(num_turns: int) -> None:
    env = selfplay_envs.make("negotiation_v0", num_turns=num_turns)
    env.reset(seed=0)
    moves = {agent: 0 for agent in env.possible_agents}
    for agent in env.agent_iter():
        _, _, termination, truncation, _ = env.last()
        if termination or truncation:
            env.step(None)
            continue
        # An invalid move first: it must not use up the turn (retry policy).
        if moves[agent] == 0:
            env.step(
                "[Accept]" if agent == "player_0" else "[Offer: 99 Wood -> 1 Gold]"
            )
        env.step("Just chatting.")
        moves[agent] += 1
    assert moves == {"player_0": num_turns // 2, "player_1": num_turns // 2}
    records = env.unwrapped.episode.info(0)["episode"]  # every attempt, in order
    for agent in env.possible_agents:
        mine = [r for r in records if r["agent"] == agent]
        assert sum(r["valid"] for r in mine) == num_turns // 2
        assert sum(not r["valid"] for r in mine) == 1


def test_ten_turns_means_five_each_not_textarenas_eleven() -> None:
    state = _state()
    _play(state, *["hello"] * 10)
    assert state.is_terminal()
    assert [e.player for e in state.events] == [0, 1] * 5
    assert state.current_players() == []


def test_larger_gain_wins_and_returns_are_zero_sum() -> None:
    state = _state()
    # Player 0 gives 1 Wood (-5 for it) for 3 Gold (+45): gain 40; player 1: 15-15=0.
    _play(state, "[Offer: 1 Wood -> 3 Gold]", "[Accept]", *["..."] * 8)
    assert state.gain(0) == 40 and state.gain(1) == 0
    assert state.returns() == [1.0, -1.0]
    assert sum(state.returns()) == 0


def test_no_trade_is_a_draw_and_equal_gains_draw() -> None:
    state = _state()
    _play(state, *["no"] * 10)
    assert state.returns() == [0.0, 0.0]
    state = _state()
    # 1 Wood for 1 Gold: player 0 gains 15 - 5 = 10, player 1 gains 15 - 5 = 10.
    _play(state, "[Offer: 1 Wood -> 1 Gold]", "[Accept]", *["..."] * 8)
    assert state.gain(0) == state.gain(1) == 10
    assert state.returns() == [0.0, 0.0]


def test_returns_are_zero_until_the_end() -> None:
    state = _state()
    _play(state, "[Offer: 1 Wood -> 3 Gold]", "[Accept]")
    assert state.returns() == [0.0, 0.0]
