"""Properties of any negotiation: goods conserved, nothing negative, zero-sum, fair turns.

Hypothesis drives arbitrary move sequences, legal or not, through the rules in both
views; invalid moves must be rejected without effect and the invariants must hold
after every step.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from selfplay_envs.games.negotiation import NegotiationGame, NegotiationState

GAMES = {
    "spiral": NegotiationGame(),
    "textarena": NegotiationGame(preset="textarena"),
    "small": NegotiationGame(
        resources=("Wood", "Gold", "Ore"),
        values=((1, 2, 3), (3, 2, 1)),
        min_units=0,
        max_units=3,
        num_turns=6,
        max_offer_units=2,
    ),
}
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)


def _check_invariants(state: NegotiationState) -> None:
    inventories = np.asarray(state.inventories)
    assert (inventories >= 0).all(), inventories
    np.testing.assert_array_equal(inventories.sum(axis=0), state.totals)
    played = [e.player for e in state.events]
    assert played == [t % 2 for t in range(len(played))]  # strict alternation
    assert state.turn == len(state.events) <= state.config.num_turns


def _finish(state: NegotiationState) -> None:
    """Pass until the end, then check the final properties."""
    while not state.is_terminal():
        player = state.current_players()[0]
        state.apply_action(player, state.parse_action(player, "pass").action)
    _check_invariants(state)
    counts = [sum(e.player == p for e in state.events) for p in range(2)]
    assert counts == [state.config.turns_per_player] * 2
    returns = state.returns()
    assert sum(returns) == 0 and set(returns) <= {-1.0, 0.0, 1.0}
    diff = state.gain(0) - state.gain(1)
    assert returns[0] == (diff > 0) - (diff < 0)


# An offer then an answer, so that trades actually happen; any index may be illegal.
_TURN_PAIRS = st.tuples(
    st.integers(-3, 200), st.sampled_from([1, 1, 1, 2, 0, -1, 7, 500])
)


@PROPERTY_SETTINGS
@given(
    name=st.sampled_from(sorted(GAMES)),
    seed=st.integers(0, 2**16),
    pairs=st.lists(_TURN_PAIRS, max_size=20),
)
def test_numeric_moves_keep_invariants(
    name: str, seed: int, pairs: list[tuple[int, int]]
) -> None:
    game = GAMES[name]
    state = game.new_initial_state(np.random.default_rng(seed))
    for action in [a for pair in pairs for a in pair]:
        if state.is_terminal():
            break
        player = state.current_players()[0]
        legal = set(state.legal_actions(player))
        result = state.check_numeric(player, action)
        assert result.ok == (action in legal)
        if result.ok:
            state.apply_action(player, result.action)
        _check_invariants(state)
    _finish(state)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(GAMES)), seed=st.integers(0, 2**16))
def test_action_mask_matches_the_rules(name: str, seed: int) -> None:
    game = GAMES[name]
    state = game.new_initial_state(np.random.default_rng(seed))
    rng = np.random.default_rng(seed)
    while not state.is_terminal():
        player = state.current_players()[0]
        legal = state.legal_actions(player)
        checked = [
            a for a in range(game.info.num_actions) if state.check_numeric(player, a).ok
        ]
        assert legal == checked
        assert state.legal_actions(1 - player) == []
        state.apply_action(
            player, state.check_numeric(player, int(rng.choice(legal))).action
        )


def _bundle(resources: tuple[str, ...]) -> st.SearchStrategy[str]:
    count = st.one_of(st.integers(1, 4), st.integers(0, 30))
    item = st.tuples(count, st.sampled_from(resources))
    return st.lists(item, min_size=1, max_size=3).map(
        lambda items: ", ".join(f"{n} {name}" for n, name in items)
    )


def _turn_pair(resources: tuple[str, ...]) -> st.SearchStrategy[tuple[str, str]]:
    """An offer (or other reply), then an answer that is often an accept."""
    offer = st.tuples(_bundle(resources), _bundle(resources)).map(
        lambda sides: f"[Offer: {sides[0]} -> {sides[1]}]"
    )
    other = st.sampled_from(
        ["[Accept]", "[Deny]", "hello", "[Pass]", "\\boxed{Accept}"]
    )
    first = st.one_of(offer, offer, other, st.text(max_size=30))
    answer = st.one_of(st.just("Deal. [Accept]"), other, offer)
    return st.tuples(first, answer)


@PROPERTY_SETTINGS
@given(data=st.data(), name=st.sampled_from(sorted(GAMES)), seed=st.integers(0, 99))
def test_text_moves_keep_invariants(data: st.DataObject, name: str, seed: int) -> None:
    state = GAMES[name].new_initial_state(np.random.default_rng(seed))
    pairs = data.draw(st.lists(_turn_pair(state.resources), max_size=15))
    for reply in [r for pair in pairs for r in pair]:
        if state.is_terminal():
            break
        player = state.current_players()[0]
        before = [row[:] for row in state.inventories]
        result = state.parse_action(player, reply)
        if result.ok:
            state.apply_action(player, result.action)
        else:
            assert result.message and state.inventories == before
        _check_invariants(state)
    _finish(state)
