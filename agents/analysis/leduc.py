"""Exact exploitability of any Leduc hold'em policy, by OpenSpiel's best responses.

A hand of Leduc hold'em has 936 information states. ``policy_table`` asks a policy
what it does at each of them, through the env's own observations and infos (one
representative state per information state: the rival's card and, in round 1, the
public card are chosen among those consistent with it; nothing the player sees
depends on them), and ``evaluate`` loads the answers into an OpenSpiel
``TabularPolicy`` for ``pyspiel.load_game("leduc_poker")`` and runs
``open_spiel.python.algorithms.exploitability``. Exploitability is NashConv / 2.

A policy is an ``agents`` ``Policy`` (its ``action_probabilities(turn)`` when it has
them, else ``samples`` answers per state through ``act``; answers the env would reject
count as a uniform random legal move), a mapping from OpenSpiel's information-state
string to ``{action: probability}``, or a callable from that string to one.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from selfplay_agents.policy import Policy, Turn
from selfplay_envs.core.episode import Episode, InvalidMovePolicy, View
from selfplay_envs.games.leduc_poker.env import LeducPokerGame
from selfplay_envs.games.leduc_poker.rules import LeducPokerState

__all__ = ["LeducExploitability", "evaluate", "exploitability", "policy_table"]

_ENV_ID = "leduc_poker_v0"
Probabilities = Mapping[int, float]
LeducPolicyLike = Policy | Mapping[str, Probabilities] | Callable[[str], Probabilities]


@dataclasses.dataclass(frozen=True, kw_only=True)
class LeducExploitability:
    """How far a policy is from equilibrium.

    Attributes:
        exploitability: NashConv / 2 (OpenSpiel's ``exploitability``).
        nash_conv: Sum over positions of what a best response gains.
        improvements: That gain for the opener's and the responder's position.
        invalid_answers: Answers the env would have rejected (played as uniform).
    """

    exploitability: float
    nash_conv: float
    improvements: tuple[float, float]
    invalid_answers: int = 0


@functools.cache
def representative_states() -> dict[str, LeducPokerState]:
    """One of our states per information state of the acting player (936 in all)."""
    states: dict[str, LeducPokerState] = {}
    for deal in itertools.permutations(range(6), 3):
        stack: list[list[int]] = [[]]
        while stack:
            history = stack.pop()
            state = LeducPokerState([deal])
            for action in history:
                state.apply_action(state.current_players()[0], action)
            if state.is_terminal():
                continue
            player = state.current_players()[0]
            states.setdefault(state.info_state_string(player), state)
            stack += [[*history, a] for a in state.legal_actions(player)]
    return states


def _turn(state: LeducPokerState, view: str) -> Turn:
    game = LeducPokerGame()
    player = state.current_players()[0]
    episode = Episode(
        game,
        state,
        np.random.default_rng(0),
        View(view),
        InvalidMovePolicy(),
        max_attempts=game.info.max_game_length,
    )
    return Turn(
        env_id=_ENV_ID,
        agent=game.agent_name(player),
        observation=episode.observe(player),
        info=episode.info(player),
        view=View(view).value,
    )


def policy_table(
    policy: LeducPolicyLike, *, view: str = "text", samples: int = 1
) -> tuple[dict[str, dict[int, float]], int]:
    """{action: probability} of ``policy`` at every information state, and the
    number of answers the env would have rejected."""
    if samples < 1:
        raise ValueError(f"expected samples >= 1, got {samples}")
    states = representative_states()
    if isinstance(policy, Mapping):
        return {k: dict(policy[k]) for k in states}, 0
    if not isinstance(policy, Policy):
        if callable(policy):
            return {k: dict(policy(k)) for k in states}, 0
        raise TypeError(
            f"expected a Policy, a mapping or a callable, got {type(policy).__name__}"
        )
    probabilities = getattr(policy, "action_probabilities", None)
    if probabilities is not None:
        return {k: dict(probabilities(_turn(s, view))) for k, s in states.items()}, 0
    table, invalid = {}, 0
    for key, state in states.items():
        turn = _turn(state, view)
        player = state.current_players()[0]
        legal = state.legal_actions(player)
        counts = dict.fromkeys(legal, 0.0)
        for action in policy.act([turn] * samples):
            chosen = _read_action(state, player, turn, action)
            if chosen is None:
                invalid += 1
                for a in legal:  # the penalty policy's fallback: a uniform legal move
                    counts[a] += 1.0 / len(legal)
            else:
                counts[chosen] += 1.0
        table[key] = {a: c / samples for a, c in counts.items()}
    return table, invalid


def _read_action(
    state: LeducPokerState, player: int, turn: Turn, action: Any
) -> int | None:
    if turn.view == "numeric":
        ok = isinstance(action, (int, np.integer))
        return int(action) if ok and action in state.legal_actions(player) else None
    if not isinstance(action, str):
        return None
    result = state.parse_action(player, action)
    return int(result.action) if result.ok else None


def evaluate(
    policy: LeducPolicyLike, *, view: str = "text", samples: int = 1
) -> LeducExploitability:
    """Exploitability and NashConv of ``policy`` with OpenSpiel's best responses."""
    import pyspiel  # Loaded here: the environments do not need it.
    from open_spiel.python import policy as openspiel_policy
    from open_spiel.python.algorithms import exploitability as openspiel_exploitability

    table, invalid = policy_table(policy, view=view, samples=samples)
    game = pyspiel.load_game("leduc_poker")
    tabular = openspiel_policy.TabularPolicy(game)
    for key, probabilities in table.items():
        row = tabular.policy_for_key(key)
        row[:] = 0.0
        for action, p in probabilities.items():
            row[action] = p
    result = openspiel_exploitability.nash_conv(
        game, tabular, return_only_nash_conv=False
    )
    improvements = tuple(float(x) for x in result.player_improvements)
    return LeducExploitability(
        exploitability=float(result.nash_conv) / game.num_players(),
        nash_conv=float(result.nash_conv),
        improvements=(improvements[0], improvements[1]),
        invalid_answers=invalid,
    )


def exploitability(
    policy: LeducPolicyLike, *, view: str = "text", samples: int = 1
) -> float:
    """NashConv / 2 of ``policy``: 0 at a Nash equilibrium."""
    return evaluate(policy, view=view, samples=samples).exploitability
