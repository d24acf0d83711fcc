"""Exact exploitability of any Kuhn poker policy, by OpenSpiel's best responses.

A single hand of Kuhn poker has 12 information states. ``policy_table`` asks a policy
what it does at each of them, through the env's own observations and infos, and
``evaluate`` loads the answers into an OpenSpiel ``TabularPolicy`` for
``pyspiel.load_game("kuhn_poker")`` and runs ``open_spiel.python.algorithms
.exploitability``. Exploitability is NashConv / 2, as OpenSpiel reports it: the mean
gain of a best response over the policy's own value, 0 at a Nash equilibrium.

What counts as a policy:

- an ``agents`` ``Policy``: if it has ``action_probabilities(turn)`` (the Nash and CFR
  players) its probabilities are used, exactly; otherwise it is asked ``samples`` times
  per state through ``act`` and its answers are counted (exact for a deterministic
  policy, such as an LLM decoding greedily). Answers the env would reject count as the
  env's penalty fallback, a uniform random legal move;
- a callable from OpenSpiel's information-state string (``"1pb"``: own card 0-2 for
  J, Q, K, then the betting) to ``[P(pass), P(bet)]`` or ``{0: ..., 1: ...}``;
- a mapping from those strings to probabilities;
- a pair of any of these: the first plays the opener, the second the responder.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from selfplay_agents.policy import Policy, Turn
from selfplay_envs.core.episode import Episode, InvalidMovePolicy, View
from selfplay_envs.games.kuhn_poker.env import KuhnPokerGame
from selfplay_envs.games.kuhn_poker.rules import KuhnPokerState

__all__ = [
    "INFO_STATES",
    "KuhnExploitability",
    "KuhnPolicyLike",
    "policy_table",
    "evaluate",
    "exploitability",
    "info_state_turn",
]

INFO_STATES = ("0", "1", "2", "0pb", "1pb", "2pb", "0p", "1p", "2p", "0b", "1b", "2b")
_ENV_ID = "kuhn_poker_v0"
_LETTER_ACTIONS = {"p": 0, "b": 1}

Probabilities = Sequence[float] | Mapping[int, float]
KuhnPolicyLike = (
    Policy
    | Callable[[str], Probabilities]
    | Mapping[str, Probabilities]
    | tuple[Any, Any]
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class KuhnExploitability:
    """How far a policy is from equilibrium.

    Attributes:
        exploitability: NashConv / 2 (OpenSpiel's ``exploitability``).
        nash_conv: Sum over positions of what a best response gains over the policy.
        improvements: That gain for the opener's and the responder's position.
        table: ``[P(pass), P(bet)]`` the policy plays at each information state.
        invalid_answers: Answers the env would have rejected (played as uniform).
    """

    exploitability: float
    nash_conv: float
    improvements: tuple[float, float]
    table: dict[str, tuple[float, float]]
    invalid_answers: int = 0


def info_state_turn(info_state: str, view: str = "text") -> tuple[Turn, KuhnPokerState]:
    """The ``Turn`` the env shows at ``info_state``, and the state it comes from.

    The rival's card is the lowest other card; nothing the player sees depends on it.
    """
    card, history = int(info_state[0]), info_state[1:]
    player = len(history) % 2
    rival = min({0, 1, 2} - {card})
    state = KuhnPokerState([(card, rival) if player == 0 else (rival, card)])
    for position, letter in enumerate(history):
        state.apply_action(position % 2, _LETTER_ACTIONS[letter])
    game = KuhnPokerGame()
    episode = Episode(
        game,
        state,
        np.random.default_rng(0),
        View(view),
        InvalidMovePolicy(),
        max_attempts=game.info.max_game_length,
    )
    turn = Turn(
        env_id=_ENV_ID,
        agent=game.agent_name(player),
        observation=episode.observe(player),
        info=episode.info(player),
        view=View(view).value,
    )
    return turn, state


def policy_table(
    policy: KuhnPolicyLike, *, view: str = "text", samples: int = 1
) -> tuple[dict[str, tuple[float, float]], int]:
    """``[P(pass), P(bet)]`` of ``policy`` at the 12 information states.

    Returns:
        The table and the number of answers the env would have rejected.
    """
    if samples < 1:
        raise ValueError(f"expected samples >= 1, got {samples}")
    if isinstance(policy, tuple):
        if len(policy) != 2:
            raise ValueError(f"expected a pair (opener, responder), got {len(policy)}")
        opener, invalid_0 = policy_table(policy[0], view=view, samples=samples)
        responder, invalid_1 = policy_table(policy[1], view=view, samples=samples)
        table = {k: (opener if len(k) % 2 == 1 else responder)[k] for k in INFO_STATES}
        return table, invalid_0 + invalid_1
    if isinstance(policy, Policy):
        return _query_policy(policy, view, samples)
    if isinstance(policy, Mapping):
        return {k: _normalise(policy[k], k) for k in INFO_STATES}, 0
    if callable(policy):
        return {k: _normalise(policy(k), k) for k in INFO_STATES}, 0
    raise TypeError(
        "expected a Policy, a callable, a mapping or a pair, "
        f"got {type(policy).__name__}"
    )


def _query_policy(
    policy: Policy, view: str, samples: int
) -> tuple[dict[str, tuple[float, float]], int]:
    turns = {key: info_state_turn(key, view) for key in INFO_STATES}
    probabilities = getattr(policy, "action_probabilities", None)
    if probabilities is not None:
        table = {k: _normalise(probabilities(t), k) for k, (t, _) in turns.items()}
        return table, 0
    batch = [turns[key][0] for key in INFO_STATES for _ in range(samples)]
    actions = policy.act(batch)
    if len(actions) != len(batch):
        raise ValueError(
            f"expected {len(batch)} actions from {policy.name}, got {len(actions)}"
        )
    table, invalid = {}, 0
    for i, key in enumerate(INFO_STATES):
        turn, state = turns[key]
        counts = np.zeros(2)
        for action in actions[i * samples : (i + 1) * samples]:
            chosen = _read_action(state, turn, action)
            if chosen is None:
                invalid += 1
                counts += 0.5  # the penalty policy's fallback: a uniform legal move
            else:
                counts[chosen] += 1
        table[key] = (counts[0] / samples, counts[1] / samples)
    return table, invalid


def _read_action(state: KuhnPokerState, turn: Turn, action: Any) -> int | None:
    player = len(state.history) % 2
    if turn.view == "numeric":
        if isinstance(action, (int, np.integer)) and int(action) in (0, 1):
            return int(action)
        return None
    if not isinstance(action, str):
        return None
    result = state.parse_action(player, action)
    return int(result.action) if result.ok else None


def _normalise(probabilities: Probabilities, key: str) -> tuple[float, float]:
    if isinstance(probabilities, Mapping):
        values = (float(probabilities.get(0, 0.0)), float(probabilities.get(1, 0.0)))
    else:
        values = tuple(float(p) for p in probabilities)
    if len(values) != 2 or min(values) < 0.0 or abs(sum(values) - 1.0) > 1e-6:
        raise ValueError(
            f"expected [P(pass), P(bet)] summing to 1 at {key!r}, got {probabilities!r}"
        )
    return values[0], values[1]


def evaluate(
    policy: KuhnPolicyLike, *, view: str = "text", samples: int = 1
) -> KuhnExploitability:
    """Exploitability and NashConv of ``policy`` with OpenSpiel's best responses."""
    import pyspiel  # Loaded here: the environments do not need it.
    from open_spiel.python import policy as openspiel_policy
    from open_spiel.python.algorithms import exploitability as openspiel_exploitability

    table, invalid = policy_table(policy, view=view, samples=samples)
    game = pyspiel.load_game("kuhn_poker")
    tabular = openspiel_policy.TabularPolicy(game)
    for key, probabilities in table.items():
        tabular.policy_for_key(key)[:] = probabilities
    result = openspiel_exploitability.nash_conv(
        game, tabular, return_only_nash_conv=False
    )
    improvements = tuple(float(x) for x in result.player_improvements)
    return KuhnExploitability(
        exploitability=float(result.nash_conv) / game.num_players(),
        nash_conv=float(result.nash_conv),
        improvements=(improvements[0], improvements[1]),
        table=table,
        invalid_answers=invalid,
    )


def exploitability(
    policy: KuhnPolicyLike, *, view: str = "text", samples: int = 1
) -> float:
    """NashConv / 2 of ``policy``: 0 at a Nash equilibrium, 11/24 for uniform random."""
    return evaluate(policy, view=view, samples=samples).exploitability
