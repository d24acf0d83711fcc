"""verifiers glue: any of our games as a verifiers (0.4) environment.

verifiers 0.4 builds a run from an ``EnvConfig``: a taskset (the rows, here one game
per seed), an ``Env`` whose ``run(task, agents)`` plays one episode, and a harness per
seat (the program that talks to the model, through verifiers' interception server).
Plugins are found by id: ``vf.load_environment(config)`` imports the module the
taskset id names and takes the ``Taskset``, ``Env`` and ``Harness`` subclasses it
exports in ``__all__``. This module exports one of each and registers itself under
the top-level id ``selfplay_games`` (``TASKSET_ID``) when imported, so verifiers'
loaders, ``vf-eval`` (through ``python -m selfplay_agents.integrations.verifiers``) and
``load_environment`` here all find it.

- ``SelfplayTaskset``: row ``i`` is the game started with seed ``first_seed + i``; its
  prompt is our env's text prompt for the model's seat after the opponents' opening
  moves.
- ``SelfplayEnv``: the model plays ``seat``; the other seats are the fixed opponent
  ``opponent`` (``selfplay_agents.opponents.make_opponent``), played host-side between
  the model's turns. Each reply goes to our env as it is: text the game cannot parse
  is an invalid move under the env's invalid-move policy (its warning is in the next
  prompt). The reward ``game_return`` is the seat's return from our env, nothing the
  model wrote; the trace's ``info`` carries ``outcome``, ``returns`` and ``moves``
  (every attempted move, replayable through ``selfplay_envs.make``).
- ``SelfplayChatHarness``: a tool-less chat loop run in-process, one non-streaming
  ``/chat/completions`` call per turn through the interception endpoint (the
  harness contract allows an in-process loop). verifiers' own ``null`` harness also
  works (``--env.player.harness.id null``) where ``uv`` can fetch its script's
  dependencies and the server streams.

Requires ``verifiers`` (the ``verifiers`` extra; tested with 0.4.0).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from selfplay_envs.core.errors import DependencyNotInstalled

try:
    import httpx
    import verifiers.v1 as vf
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise DependencyNotInstalled.for_extra("verifiers", "verifiers") from e

from pydantic import Field

from selfplay_agents.integrations.seat import OpponentSeat

__all__ = [
    "TASKSET_ID",
    "SelfplayChatHarness",
    "SelfplayChatHarnessConfig",
    "SelfplayData",
    "SelfplayEnv",
    "SelfplayEnvConfig",
    "SelfplayTask",
    "SelfplayTaskset",
    "SelfplayTasksetConfig",
    "load_environment",
]

#: The plugin id verifiers resolves to this module (its loaders import top-level ids).
TASKSET_ID = "selfplay_games"


class SelfplayTasksetConfig(vf.TasksetConfig):
    """Which game, seat and opponent; one row per seed (``--env.taskset.*``)."""

    id: str = TASKSET_ID
    game: str = "tic_tac_toe_v0"
    """One of ``selfplay_envs.list_envs()``."""
    seat: str | int = "player_0"
    """The model's seat (``player_0``...) or its index."""
    opponent: str = "random"
    """The fixed opponent of the other seats, a name ``make_opponent`` knows."""
    config: dict[str, Any] = Field(default_factory=dict)
    """The game's parameters and ``make`` options (``invalid_move``...)."""
    num_seeds: int = Field(100, ge=1)
    """Rows: games with seeds ``first_seed .. first_seed + num_seeds - 1``."""
    first_seed: int = 0


class SelfplayData(vf.TaskData):
    info: dict[str, Any]
    """``env_id``, ``seed``, ``seat``, ``opponent`` and ``config``: what the env
    rebuilds the game from."""


class SelfplayTask(vf.Task[SelfplayData, vf.State, vf.TaskConfig]):
    """One game; scored by ``SelfplayEnv`` from our env's return."""


class SelfplayTaskset(vf.Taskset[SelfplayTask, SelfplayTasksetConfig]):
    """Row ``i``: the game seeded ``first_seed + i``, its first prompt the task's."""

    def __init__(self, config: SelfplayTasksetConfig) -> None:
        super().__init__(config)
        # Built once up front: an unknown game, seat, opponent or parameter is refused
        # here, naming it, before any rollout.
        self._seat = _seat_of(config.game, config.seat, config.opponent, config.config)

    def load(self) -> Iterator[SelfplayTask]:
        config = self.config
        for i in range(config.num_seeds):
            seed = config.first_seed + i
            yield SelfplayTask(
                SelfplayData(
                    name=f"{config.game}#{seed}",
                    prompt=self._seat.reset(seed),
                    info={
                        "env_id": config.game,
                        "seed": seed,
                        "seat": self._seat.seat,
                        "opponent": config.opponent,
                        "config": dict(config.config),
                    },
                ),
                config.task,
            )


class SelfplayEnvConfig(vf.EnvConfig):
    """The env: the one trained seat, ``player`` (``--env.player.*``).

    The seat runs in the local ``subprocess`` runtime (the in-process harness executes
    nothing), so no sandbox or tunnel is needed.
    """

    taskset: SelfplayTasksetConfig = SelfplayTasksetConfig()
    player: vf.AgentConfig = vf.AgentConfig(runtime=vf.SubprocessConfig())


class SelfplayEnv(vf.Env[SelfplayEnvConfig]):
    """The model plays its seat turn by turn; our env and the opponent answer."""

    async def run(self, task: vf.Task, agents: vf.Agents) -> None:
        info = task.data.info
        seat = _seat_of(info["env_id"], info["seat"], info["opponent"], info["config"])
        prompt = seat.reset(info["seed"])
        if prompt != task.data.prompt:
            raise RuntimeError(
                f"{info['env_id']} seed {info['seed']} gave another first prompt than "
                "the task's: the game or its config changed since the taskset loaded"
            )
        async with agents.player.interaction(task) as interaction:
            segment = await interaction.turn()  # the task's prompt opens
            while not segment.terminated:
                step = seat.play(segment.last_reply)
                if step.done:
                    break
                segment = await interaction.turn(step.prompt)
        trace = interaction.trace
        if not trace.ok and not seat.done:
            # The model call failed (server down, prompt too long): verifiers records
            # the error on the trace; an unfinished game is no game result.
            return
        # A game cut short by a verifiers limit scores what the seat has earned so far.
        trace.record_reward("game_return", seat.episode_return, 1.0)
        trace.record_metric("invalid_moves", float(seat.invalid_moves))
        trace.record_metric("finished", float(seat.done and not seat.truncated))
        trace.info.update(
            env_id=info["env_id"],
            seed=info["seed"],
            seat=seat.seat,
            opponent=info["opponent"],
            outcome=seat.outcome,
            returns=seat.returns,
            moves=[list(move) for move in seat.moves],
        )


class SelfplayChatHarnessConfig(vf.HarnessConfig):
    """The in-process chat harness: no knobs beyond verifiers' own."""


class SelfplayChatHarness(vf.Harness[SelfplayChatHarnessConfig]):
    """One chat completion per turn, in-process, through the interception endpoint."""

    APPENDS_SYSTEM_PROMPT = True
    SUPPORTS_RESUME = True
    EXECUTES_CODE = False
    NEEDS_CONTAINER = False

    async def launch(
        self,
        ctx: Any,
        trace: Any,
        runtime: Any,
        endpoint: str,
        secret: str,
        mcp_urls: dict[str, str],
        data: vf.TaskData,
    ) -> vf.ProgramResult:
        """Send the conversation so far; verifiers records the reply on the trace."""
        system_prompt, prompt = self.resolve_prompt(data)
        messages: list[dict[str, Any]] = []
        if system_prompt:
            messages.append({"role": "system", "content": system_prompt})
        if isinstance(prompt, str):
            messages.append({"role": "user", "content": prompt})
        else:
            messages += [_wire(m) for m in prompt or []]
        async with httpx.AsyncClient(timeout=httpx.Timeout(None, connect=10)) as http:
            response = await http.post(
                endpoint.rstrip("/") + "/chat/completions",
                json={"model": ctx.model, "messages": messages},
                headers={"Authorization": f"Bearer {secret}"},
            )
        if response.status_code >= 400:
            # A failed model call is the harness failing (verifiers records it as an
            # error on the trace), never a move of the game.
            return vf.ProgramResult(
                exit_code=1,
                stdout="",
                stderr=f"model call failed ({response.status_code}): {response.text}",
            )
        return vf.ProgramResult(exit_code=0, stdout="", stderr="")


def _wire(message: Any) -> dict[str, Any]:
    if isinstance(message, dict):
        return message
    return message.model_dump(mode="json", exclude_none=True)


def _seat_of(
    env_id: str, seat: str | int, opponent: str, config: dict[str, Any]
) -> OpponentSeat:
    return OpponentSeat(env_id, seat=seat, opponent=opponent, **config)


def load_environment(
    env_id: str = "tic_tac_toe_v0",
    *,
    seat: str | int = "player_0",
    opponent: str = "random",
    num_seeds: int = 100,
    first_seed: int = 0,
    **config: Any,
) -> SelfplayEnv:
    """``env_id`` as a verifiers ``Env``: the model plays ``seat`` against ``opponent``.

    ``config`` is the game's parameters and ``make`` options; the env's config
    (``env.config``) is what verifiers' ``EvalConfig(env=...)`` takes.
    """
    taskset = SelfplayTasksetConfig(
        game=env_id,
        seat=seat,
        opponent=opponent,
        config=config,
        num_seeds=num_seeds,
        first_seed=first_seed,
    )
    return vf.load_environment(SelfplayEnvConfig(taskset=taskset))


# verifiers imports plugins by top-level id; make this module that id (run as a script,
# the block at the end imports it under its own name first).
if __name__ != "__main__":
    sys.modules.setdefault(TASKSET_ID, sys.modules[__name__])


def main(argv: list[str] | None = None) -> None:
    """verifiers' ``vf-eval`` with this module's taskset registered."""
    from verifiers.v1.cli.eval.main import main as vf_eval

    vf_eval(argv)


if __name__ == "__main__":  # python -m selfplay_agents.integrations.verifiers ...
    from selfplay_agents.integrations import verifiers as _registered

    _registered.main()
