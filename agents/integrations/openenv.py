"""OpenEnv glue: any of our games behind OpenEnv's HTTP/WebSocket server.

`OpenEnv <https://github.com/meta-pytorch/OpenEnv>`_ (PyPI ``openenv-core``) serves an
environment as a FastAPI app: ``/ws`` is a WebSocket session with its own env
(``reset``, ``step``, ``state`` messages), ``POST /reset`` and ``POST /step`` are
stateless (a fresh env per request), ``GET /health``, ``/schema``, ``/metadata`` and
``/state`` describe it. Clients subclass ``openenv.core.EnvClient``.

- ``SelfplayEnvironment``: an OpenEnv ``Environment`` where the model plays ``seat`` of
  ``env_id`` and every other seat is the fixed opponent ``opponent``
  (``selfplay_agents.opponents.make_opponent``), played server-side between the
  model's turns. The action (``MoveAction``) is the model's text, sent to our env as it
  is: text the game cannot parse is an invalid move under the env's invalid-move
  policy (``make(..., invalid_move=...)``), reported in the observation
  (``invalid_move``, ``reason``), never an exception. The observation
  (``GameObservation``) carries the prompt, the legal moves where finite, the step
  reward and ``done``; the rewards are our env's, so they sum to the seat's return.
  The state (``GameState``) holds every attempted move, replayable through
  ``selfplay_envs.make``.
- ``create_server_app`` builds the FastAPI app; ``python -m
  selfplay_agents.integrations.openenv --env tic_tac_toe_v0 --port 8000`` serves it.
- ``SelfplayEnvClient``: the typed OpenEnv client (async; ``.sync()`` for blocking
  calls).
- ``SelfplayTrlEnv``: a class for TRL's ``GRPOTrainer(environment_factory=...)``:
  ``reset(**row)`` starts a game on the server (seeded by the row's ``seed`` when the
  dataset has one) and returns the first prompt, the tool ``play_move(move)`` plays a
  move, ``get_reward()`` is the seat's return.

Requires ``openenv-core`` (the ``openenv`` extra; tested with 0.3.0).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import uuid
from typing import Any

from selfplay_envs.core.errors import DependencyNotInstalled

try:
    from openenv.core import EnvClient
    from openenv.core.client_types import StepResult
    from openenv.core.env_server import (
        Action,
        Environment,
        Observation,
        State,
        create_app,
    )
    from openenv.core.env_server.types import EnvironmentMetadata
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise DependencyNotInstalled.for_extra("openenv-core", "openenv") from e

from pydantic import Field

import selfplay_envs
from selfplay_agents.integrations.seat import OpponentSeat

__all__ = [
    "DEFAULT_URL",
    "GameObservation",
    "GameState",
    "MoveAction",
    "SelfplayEnvClient",
    "SelfplayEnvironment",
    "SelfplayTrlEnv",
    "create_server_app",
    "main",
]

#: Where ``main`` serves by default, and where ``SelfplayTrlEnv`` connects by default.
DEFAULT_URL = "http://127.0.0.1:8000"


class MoveAction(Action):
    """The model's move: its text, parsed by our env."""

    move: str = Field(..., description="The model's reply, sent to the game as it is")


class GameObservation(Observation):
    """What the model's seat sees after a reset or a move (and the opponents' replies).

    ``reward`` is the seat's reward from the move (``0.0`` after a reset); the rewards
    of a game sum to ``episode_return``, the seat's return from our env.
    """

    prompt: str = Field(default="", description="The next prompt ('' once over)")
    legal_moves: list[str] | None = Field(
        default=None, description="The legal moves as text; None where not finite"
    )
    seat: str = Field(default="", description="The model's agent (player_0...)")
    invalid_move: bool = Field(default=False, description="The move was invalid")
    reason: str = Field(default="", description="Why the move was invalid")
    truncated: bool = Field(default=False, description="Ended by a limit, not a result")
    episode_return: float = Field(default=0.0, description="The seat's return so far")
    outcome: str = Field(default="", description="win/loss/draw/truncated once over")
    returns: dict[str, float] = Field(
        default_factory=dict, description="Every seat's return once over"
    )
    info: dict[str, Any] = Field(
        default_factory=dict, description="Our env's infos for the seat (JSON part)"
    )


class GameState(State):
    """The game a session plays, and every attempted move so far."""

    env_id: str = ""
    seat: str = ""
    opponent: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    seed: int | None = None
    moves: list[tuple[str, str]] = Field(
        default_factory=list, description="(agent, text) of every attempt, all seats"
    )
    invalid_moves: int = 0
    episode_return: float = 0.0
    done: bool = False
    outcome: str = ""


class SelfplayEnvironment(Environment[MoveAction, GameObservation, GameState]):
    """``env_id``'s seat ``seat`` for a model, against ``opponent``, as an OpenEnv env.

    Args:
        env_id: One of ``selfplay_envs.list_envs()``.
        seat: The model's agent (``"player_0"``...) or its index.
        opponent: A name ``make_opponent`` knows for the game (``"random"``...).
        **config: The game's parameters and ``make`` options; a bad one is refused
            here, naming it.
    """

    # Each session builds its own game and opponent: nothing is shared.
    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(
        self,
        env_id: str,
        *,
        seat: str | int = "player_0",
        opponent: str = "random",
        **config: Any,
    ):
        super().__init__()
        self.env_id = env_id
        self.opponent = opponent
        self.config = dict(config)
        self._seat = OpponentSeat(env_id, seat=seat, opponent=opponent, **config)
        self._started = False
        self._state = self._new_state(None, None)

    def _new_state(self, seed: int | None, episode_id: str | None) -> GameState:
        return GameState(
            episode_id=episode_id or str(uuid.uuid4()),
            env_id=self.env_id,
            seat=self._seat.seat,
            opponent=self.opponent,
            config=_jsonable(self.config),
            seed=seed,
        )

    def reset(
        self,
        seed: int | None = None,
        episode_id: str | None = None,
        **kwargs: Any,
    ) -> GameObservation:
        """Start a game (``seed`` fixes it, opponents included); the first prompt."""
        if kwargs:
            raise ValueError(
                f"expected reset options among ['seed', 'episode_id'], got {sorted(kwargs)}"
            )
        self._state = self._new_state(seed, episode_id)
        prompt = self._seat.reset(seed)
        self._started = True
        return self._observation(prompt, reward=0.0, invalid=False, reason="")

    def step(
        self, action: MoveAction, timeout_s: float | None = None, **kwargs: Any
    ) -> GameObservation:
        """Play the model's move, then the opponents' until its next turn."""
        del timeout_s, kwargs  # Unused: a move takes no time worth bounding.
        if not self._started:
            raise RuntimeError(
                "call reset before step (over HTTP every request gets a fresh env: "
                "play a game through the /ws session, e.g. SelfplayEnvClient)"
            )
        if self._seat.done:
            raise RuntimeError("the game is over: reset for another")
        step = self._seat.play(action.move)
        self._state.step_count += 1
        return self._observation(
            step.prompt, reward=step.reward, invalid=not step.valid, reason=step.reason
        )

    def _observation(
        self, prompt: str, *, reward: float, invalid: bool, reason: str
    ) -> GameObservation:
        seat = self._seat
        info = seat.info
        legal = info.get("legal_actions")
        state = self._state
        state.moves = seat.moves
        state.invalid_moves = seat.invalid_moves
        state.episode_return = seat.episode_return
        state.done = seat.done
        state.outcome = seat.outcome
        return GameObservation(
            done=seat.done,
            reward=float(reward),
            prompt=prompt,
            legal_moves=None if legal is None else [str(m) for m in legal],
            seat=seat.seat,
            invalid_move=invalid,
            reason=reason,
            truncated=seat.truncated,
            episode_return=seat.episode_return,
            outcome=seat.outcome,
            returns=seat.returns,
            info=_jsonable(info),
        )

    @property
    def state(self) -> GameState:
        """The session's game: its config, seed and every attempted move."""
        return self._state

    def get_metadata(self) -> EnvironmentMetadata:
        """Name and description for OpenEnv's ``/metadata``."""
        return EnvironmentMetadata(
            name=f"selfplay:{self.env_id}",
            description=(
                f"{self.env_id}: the model plays {self._seat.seat} against the "
                f"{self.opponent!r} opponent; actions are its text moves"
            ),
        )


def create_server_app(
    env_id: str,
    *,
    seat: str | int = "player_0",
    opponent: str = "random",
    max_sessions: int = 64,
    **config: Any,
) -> Any:
    """The OpenEnv FastAPI app serving ``env_id`` (one game per WebSocket session).

    The config is checked here, by building one env, so a bad game, seat, opponent or
    parameter is refused before anything is served.
    """
    SelfplayEnvironment(env_id, seat=seat, opponent=opponent, **config).close()
    factory = functools.partial(
        SelfplayEnvironment, env_id, seat=seat, opponent=opponent, **config
    )
    return create_app(
        factory,
        MoveAction,
        GameObservation,
        env_name=f"selfplay_{env_id}",
        max_concurrent_envs=max_sessions,
    )


class SelfplayEnvClient(EnvClient[MoveAction, GameObservation, GameState]):
    """OpenEnv client of a ``SelfplayEnvironment`` server (one game per instance).

    Async like every ``EnvClient``; ``SelfplayEnvClient(base_url=url).sync()`` gives
    blocking ``reset``/``step``/``state``. ``step`` also takes the move as a string.
    """

    def _step_payload(self, action: MoveAction | str) -> dict[str, Any]:
        if isinstance(action, str):
            action = MoveAction(move=action)
        return action.model_dump()

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[GameObservation]:
        observation = GameObservation(
            **payload.get("observation", {}),
            reward=payload.get("reward"),
            done=payload.get("done", False),
        )
        return StepResult(
            observation=observation, reward=observation.reward, done=observation.done
        )

    def _parse_state(self, payload: dict[str, Any]) -> GameState:
        return GameState(**payload)


class SelfplayTrlEnv:
    """A game on a ``SelfplayEnvironment`` server, shaped for TRL's ``environment_factory``.

    TRL builds one per rollout (``environment_factory=SelfplayTrlEnv`` for the default
    server, or ``functools.partial(SelfplayTrlEnv, base_url=...)``), calls
    ``reset(**row)`` with the dataset row, offers the public method ``play_move`` to
    the model as a tool, and scores the rollout with ``get_reward``. The connection
    opens on the first reset and closes with the object (or ``with``).

    Args:
        base_url: The server's URL (``http://host:port``).
    """

    def __init__(self, base_url: str = DEFAULT_URL):
        self._client = SelfplayEnvClient(base_url=base_url).sync()
        self._observation: GameObservation | None = None

    def reset(self, seed: int | None = None, **row: Any) -> str:
        """Start a game (seeded by the row's ``seed`` if it has one); its first prompt."""
        del row  # The prompt and other columns are TRL's; the game needs only the seed.
        result = self._client.reset(**({} if seed is None else {"seed": int(seed)}))
        self._observation = result.observation
        return result.observation.prompt

    def play_move(self, move: str) -> str:
        """Play your move in the game; the opponent answers before you see the result.

        Args:
            move: Your move, written as the game's prompt asks for it.

        Returns:
            Your next prompt (which says so if the move was invalid), or the result
            once the game is over.
        """
        observation = self._observation
        if observation is None:
            raise ValueError("no game: reset first")
        if observation.done:
            raise ValueError(f"the game is over ({observation.outcome}): stop playing")
        observation = self._client.step(MoveAction(move=str(move))).observation
        self._observation = observation
        if observation.done:
            return (
                f"The game is over: {observation.outcome or 'finished'}. "
                f"Your return: {observation.episode_return:g}."
            )
        return observation.prompt

    def get_reward(self) -> float:
        """The seat's return from our env (what it has earned so far if unfinished)."""
        observation = self._observation
        return 0.0 if observation is None else float(observation.episode_return)

    def __enter__(self) -> SelfplayTrlEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()


def _jsonable(value: Any) -> Any:
    """``value`` with what JSON cannot carry dropped (arrays, images, objects)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _jsonable(item)
            if item is not _DROP:
                out[str(key)] = item
        return out
    if isinstance(value, (list, tuple)):
        items = [_jsonable(item) for item in value]
        return [item for item in items if item is not _DROP]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "ndim", None) == 0:
        return _jsonable(item())
    return _DROP


_DROP = object()


def _parse_seat(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def main(argv: list[str] | None = None) -> None:
    """Serve one game over OpenEnv's HTTP/WebSocket API until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m selfplay_agents.integrations.openenv",
        description=(
            "Serve a selfplay-envs game over OpenEnv's API: the model plays one seat, "
            "a fixed opponent every other."
        ),
    )
    parser.add_argument("--env", required=True, help="an env id, e.g. tic_tac_toe_v0")
    parser.add_argument("--seat", default="player_0", help="the model's seat or index")
    parser.add_argument("--opponent", default="random", help="make_opponent name")
    parser.add_argument(
        "--config",
        default="{}",
        help='the game\'s make() options as a JSON object, e.g. \'{"preset": "spiral"}\'',
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--max-sessions", type=int, default=64, help="concurrent WebSocket sessions"
    )
    args = parser.parse_args(argv)

    envs = selfplay_envs.list_envs()
    if args.env not in envs:
        parser.exit(2, f"error: unknown env id {args.env!r}; valid ids: {envs}\n")
    try:
        config = json.loads(args.config)
    except json.JSONDecodeError as e:
        parser.exit(2, f"error: --config is not JSON ({e}): {args.config!r}\n")
    if not isinstance(config, dict):
        parser.exit(2, f"error: --config must be a JSON object, got {args.config!r}\n")
    if args.max_sessions < 1:
        parser.exit(2, f"error: --max-sessions must be >= 1, got {args.max_sessions}\n")
    try:
        app = create_server_app(
            args.env,
            seat=_parse_seat(args.seat),
            opponent=args.opponent,
            max_sessions=args.max_sessions,
            **config,
        )
    except (KeyError, TypeError, ValueError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        parser.exit(2, f"error: {message}\n")

    import uvicorn

    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":  # python -m selfplay_agents.integrations.openenv ...
    main(sys.argv[1:])
