"""One seat of a game for a model, every other seat a fixed opponent, in text.

What the env-hub adapters (``verifiers``, ``gem``) share: the model plays ``seat`` and
sends text; the other seats are played by ``selfplay_agents.opponents.make_opponent``
until it is the model's turn again (``selfplay_envs.wrappers.SingleAgentEnv`` does the
driving). The model's text goes to our env as it is: text the game cannot parse is an
invalid move under the env's invalid-move policy (``make(..., invalid_move=...)``),
never an exception, and the reward is the seat's return from the env, nothing else.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from selfplay_agents.opponents import make_opponent
from selfplay_envs.wrappers.single_agent import SingleAgentEnv

__all__ = [
    "OpponentSeat",
    "SeatStep",
    "add_dataset_arguments",
    "dataset_options",
    "replay_moves",
]


@dataclasses.dataclass(frozen=True)
class SeatStep:
    """What one move of the model led to.

    Attributes:
        prompt: The model's next prompt (``""`` once the game is over).
        reward: The seat's reward from this move and the opponents' replies.
        done: Whether the game is over for the seat (finished or truncated).
        truncated: Whether it ended by truncation (attempt or move limit).
        valid: Whether the env accepted the move.
        reason: Why the move was invalid (``""`` when valid).
    """

    prompt: str
    reward: float
    done: bool
    truncated: bool
    valid: bool
    reason: str


class OpponentSeat:
    """``env_id``'s seat ``seat`` for a model; the other seats play ``opponent``.

    Args:
        env_id: One of ``selfplay_envs.list_envs()``.
        seat: The model's agent (``"player_0"``...) or its index.
        opponent: A name ``make_opponent`` knows for the game (``"random"``...).
        **config: The game's parameters and ``make`` options (``invalid_move``...);
            a bad one is refused here, naming the parameter.
    """

    def __init__(
        self,
        env_id: str,
        *,
        seat: str | int = "player_0",
        opponent: str = "random",
        **config: Any,
    ):
        self.env_id = env_id
        self.opponent_name = opponent
        self.config = dict(config)
        policy = make_opponent(env_id, opponent, seed=0, **config)
        self.env = SingleAgentEnv(
            env_id, policy, agent=_agent(env_id, seat, config), view="text", **config
        )
        self.seat = self.env.agent
        self._reset_state()

    def _reset_state(self) -> None:
        self.episode_return = 0.0
        self.done = False
        self.truncated = False
        self.info: dict[str, Any] = {}

    def reset(self, seed: int | None = None) -> str:
        """Start a game (opponents seeded from ``seed``); the model's first prompt."""
        self._reset_state()
        observation, self.info = self.env.reset(seed=seed)
        self._check_done()
        return "" if self.done else observation["text"]

    def play(self, text: str) -> SeatStep:
        """Play the model's reply ``text``, then the opponents until its next turn."""
        if self.done:
            raise RuntimeError("the game is over: call reset() for another")
        observation, reward, terminated, truncated, self.info = self.env.step(str(text))
        self.episode_return += float(reward)
        record = self.records[-1]
        valid = record.agent != self.seat or record.valid
        self._check_done(terminated, truncated)
        return SeatStep(
            prompt="" if self.done else observation["text"],
            reward=float(reward),
            done=self.done,
            truncated=self.truncated,
            valid=valid,
            reason="" if valid else str(record.reason),
        )

    def _check_done(self, terminated: bool = False, truncated: bool = False) -> None:
        env = self.env.env
        live = self.seat in env.agents
        self.truncated = bool(truncated or (live and env.truncations[self.seat]))
        self.done = bool(
            terminated or self.truncated or not live or env.terminations[self.seat]
        )

    @property
    def records(self) -> list[Any]:
        """Every attempted move of the game so far (``TurnRecord``s, all seats)."""
        return self.env.env.unwrapped.episode.records

    @property
    def moves(self) -> list[tuple[str, str]]:
        """``(agent, text)`` of every attempted move, in order (replayable)."""
        return [(r.agent, str(r.action)) for r in self.records]

    @property
    def invalid_moves(self) -> int:
        """The model's invalid attempts so far."""
        return sum(1 for r in self.records if r.agent == self.seat and not r.valid)

    @property
    def outcome(self) -> str:
        """``win``/``loss``/``draw``/``truncated`` once over, else ``""``."""
        return str(self.info.get("outcome", "")) if self.done else ""

    @property
    def returns(self) -> dict[str, float]:
        """Every seat's return once the game is over (empty before)."""
        returns = self.info.get("returns") if self.done else None
        return {a: float(v) for a, v in (returns or {}).items()}


def _agent(env_id: str, seat: str | int, config: dict[str, Any]) -> str:
    import selfplay_envs

    agents = list(selfplay_envs.make(env_id, view="text", **config).possible_agents)
    if isinstance(seat, int) and not isinstance(seat, bool):
        if not 0 <= seat < len(agents):
            raise ValueError(
                f"expected seat in 0..{len(agents) - 1} for {env_id}, got {seat}"
            )
        return agents[seat]
    if seat not in agents:
        raise ValueError(f"expected seat in {agents} for {env_id}, got {seat!r}")
    return str(seat)


def replay_moves(
    env_id: str, seed: int | None, moves: list[tuple[str, str]], **config: Any
) -> dict[str, float]:
    """Every seat's return from playing ``moves`` (``OpponentSeat.moves``, or a
    verifiers trace's ``info["moves"]``) through a fresh ``selfplay_envs.make``."""
    import selfplay_envs

    env = selfplay_envs.make(env_id, view="text", **config)
    env.reset(seed=seed)
    returns = dict.fromkeys(env.possible_agents, 0.0)
    for agent, text in moves:
        while env.agents and (
            env.terminations[env.agent_selection]
            or env.truncations[env.agent_selection]
        ):
            env.step(None)
        if env.agent_selection != agent:
            raise ValueError(
                f"expected {env.agent_selection} to move next, the moves say {agent}"
            )
        env.step(text)
        for a, r in env.rewards.items():
            returns[a] += float(r)
    return returns


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a trainer adapter's dataset command (verl, OpenRLHF)."""
    parser.add_argument("--env-id", default="tic_tac_toe_v0")
    parser.add_argument("--seat", default="player_0")
    parser.add_argument("--opponent", default="random")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--num-seeds", type=int, default=1000)
    parser.add_argument(
        "--config", default="{}", help="the game's parameters and make options (JSON)"
    )


def dataset_options(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> dict[str, Any]:
    """``add_dataset_arguments``' values as ``dataset_rows`` arguments; a bad
    ``--config`` ends the command with one line (argparse's error)."""
    try:
        config = json.loads(args.config)
    except json.JSONDecodeError as e:
        parser.error(f"--config: expected a JSON object, got {args.config!r} ({e})")
    if not isinstance(config, dict):
        parser.error(f"--config: expected a JSON object, got {args.config!r}")
    return {
        "env_id": args.env_id,
        "seeds": range(args.first_seed, args.first_seed + args.num_seeds),
        "seat": int(args.seat) if args.seat.isdigit() else args.seat,
        "opponent": args.opponent,
        **config,
    }
