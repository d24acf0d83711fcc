"""Exact exploitability of a Liar's Dice policy, by OpenSpiel's best responses.

For the small games a full tree allows (1 die of 6 sides: 24,576 information states),
``evaluate`` loads a policy into an OpenSpiel ``TabularPolicy`` for
``pyspiel.load_game("liars_dice(numdice=D,dice_sides=S)")`` and runs
``open_spiel.python.algorithms.exploitability``; it reports NashConv / 2.

A policy is a mapping from OpenSpiel's information-state string to
``{action: probability}``, a callable from that string to one, or an ``agents`` policy
with ``action_probabilities(turn)`` (asked through the env's own observations and infos
at one representative state per information state; the rival's dice are all ones,
which nothing the player sees depends on).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator, Mapping

import numpy as np

from selfplay_agents.opponents.liars_dice import game_string
from selfplay_agents.policy import Turn
from selfplay_envs.core.episode import Episode, InvalidMovePolicy, View
from selfplay_envs.games.liars_dice.env import LiarsDiceGame
from selfplay_envs.games.liars_dice.rules import LiarsDiceState

__all__ = ["LiarsDiceExploitability", "evaluate", "exploitability", "states"]

_ENV_ID = "liars_dice_v0"
Probabilities = Mapping[int, float]


@dataclasses.dataclass(frozen=True, kw_only=True)
class LiarsDiceExploitability:
    """How far a policy is from equilibrium.

    Attributes:
        exploitability: NashConv / 2 (OpenSpiel's ``exploitability``).
        nash_conv: Sum over the two players of what a best response gains.
        improvements: That gain for player 0 and player 1.
    """

    exploitability: float
    nash_conv: float
    improvements: tuple[float, float]


def states(dice_per_player: int = 1, sides: int = 6) -> Iterator[LiarsDiceState]:
    """One of our states per information state of the player to act."""
    bids = 2 * dice_per_player * sides
    rival = (1,) * dice_per_player
    hands = itertools.combinations_with_replacement(
        range(1, sides + 1), dice_per_player
    )
    for hand in hands:
        for size in range(bids + 1):
            for history in itertools.combinations(range(bids), size):
                dice = (hand, rival) if size % 2 == 0 else (rival, hand)
                state = LiarsDiceState(dice, sides)
                state.actions = list(history)  # increasing bids: always legal
                yield state


def _turn(state: LiarsDiceState, game: LiarsDiceGame) -> Turn:
    player = state.current_players()[0]
    episode = Episode(
        game,
        state,
        np.random.default_rng(0),
        View("text"),
        InvalidMovePolicy(),
        max_attempts=game.info.max_game_length,
    )
    return Turn(
        env_id=_ENV_ID,
        agent=game.agent_name(player),
        observation=episode.observe(player),
        info=episode.info(player),
    )


def evaluate(
    policy: Mapping[str, Probabilities] | Callable[[str], Probabilities] | object,
    *,
    dice_per_player: int = 1,
    sides: int = 6,
) -> LiarsDiceExploitability:
    """Exploitability and NashConv of ``policy`` with OpenSpiel's best responses."""
    import pyspiel  # Loaded here: the environments do not need it.
    from open_spiel.python import policy as openspiel_policy
    from open_spiel.python.algorithms import exploitability as openspiel_exploitability

    game = pyspiel.load_game(game_string(dice_per_player, sides))
    tabular = openspiel_policy.TabularPolicy(game)
    env_game = LiarsDiceGame(dice_per_player=dice_per_player, sides=sides)
    probabilities = getattr(policy, "action_probabilities", None)
    for state in states(dice_per_player, sides):
        key = state.info_state_string(state.current_players()[0])
        if isinstance(policy, Mapping):
            chosen = policy[key]
        elif probabilities is not None:
            chosen = probabilities(_turn(state, env_game))
        elif callable(policy):
            chosen = policy(key)
        else:
            raise TypeError(
                "expected a mapping, a callable or a policy with action_probabilities, "
                f"got {type(policy).__name__}"
            )
        row = tabular.policy_for_key(key)
        row[:] = 0.0
        for action, p in chosen.items():
            row[action] = p
    result = openspiel_exploitability.nash_conv(
        game, tabular, return_only_nash_conv=False
    )
    improvements = tuple(float(x) for x in result.player_improvements)
    return LiarsDiceExploitability(
        exploitability=float(result.nash_conv) / game.num_players(),
        nash_conv=float(result.nash_conv),
        improvements=(improvements[0], improvements[1]),
    )


def exploitability(
    policy: object, *, dice_per_player: int = 1, sides: int = 6
) -> float:
    """NashConv / 2 of ``policy``: 0 at a Nash equilibrium."""
    return evaluate(policy, dice_per_player=dice_per_player, sides=sides).exploitability
