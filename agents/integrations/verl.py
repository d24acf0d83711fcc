"""verl glue: any of our games as a verl (0.9) agent loop, ``agent_name: selfplay_game``.

verl's multi-turn rollouts run one agent loop per dataset row
(``verl.experimental.agent_loop``): the ``AgentLoopWorker`` looks the row's
``agent_name`` up in its registry, instantiates the loop through hydra and awaits
``run(sampling_params, **row)``, which returns an ``AgentLoopOutput``. This module's
``SelfplayAgentLoop`` is registered with verl's ``@register`` as ``selfplay_game``
(``AGENT_NAME``).

- The row's ``extra_info`` names the game: ``env_id``, ``seed``, ``seat``, ``opponent``
  and ``config`` (the game's parameters and ``make`` options, a dict or its JSON);
  ``dataset_rows`` writes such rows, one per seed. Keys it lacks come from the loop's
  own arguments (the agent-loop YAML entry's extra keys).
- The model plays ``seat``; the other seats are the fixed opponent ``opponent``
  (``selfplay_agents.opponents.make_opponent``), played between the model's turns.
- Tokens go through ``self.server_manager.generate`` and verl's Continuous Token
  builder, as verl's own ``tool_agent`` loop does: the model's tokens are kept as
  generated (``response_mask`` 1, their logprobs), our env's next prompt is appended
  as a user turn (``response_mask`` 0). The reply text (decoded, special tokens
  skipped) goes to our env as it is: text the game cannot parse is an invalid move
  under the env's invalid-move policy, never an exception.
- ``reward_score`` is the seat's return from our env, nothing the model wrote; verl
  puts it on the last response token (``rm_scores``) and skips its reward function. A
  game cut short by ``rollout.response_length`` or ``multi_turn.max_assistant_turns``
  scores what the seat has earned so far (``extra_fields["game_finished"]`` is
  ``False``).

verl's workers are Ray actors, and a registry entry made by an import in the driver
does not reach them: point ``actor_rollout_ref.rollout.agent.agent_loop_config_path``
at a YAML file naming this class (``python -m selfplay_agents.integrations.verl`` writes
it, with the dataset). The agent-loop API is experimental in verl and changes between
releases.

Requires ``verl`` (the ``verl`` extra; tested with 0.9.1).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from uuid import uuid4

from selfplay_envs.core.errors import DependencyNotInstalled

try:
    from verl.experimental.agent_loop.agent_loop import (
        AgentLoopBase,
        AgentLoopOutput,
        register,
    )
    from verl.utils.profiler import simple_timer
    from verl.utils.rollout_trace import rollout_trace_op
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise DependencyNotInstalled.for_extra("verl", "verl") from e

from selfplay_agents.integrations.seat import (
    OpponentSeat,
    add_dataset_arguments,
    dataset_options,
)

__all__ = [
    "AGENT_NAME",
    "SelfplayAgentLoop",
    "agent_loop_config",
    "dataset_rows",
    "main",
]

#: The ``agent_name`` of the rows this loop plays.
AGENT_NAME = "selfplay_game"

_GAME_KEYS = ("env_id", "seed", "seat", "opponent", "config")
# What hydra imports in verl's workers (also when this module runs as __main__).
_TARGET = "selfplay_agents.integrations.verl.SelfplayAgentLoop"


@register(AGENT_NAME)
class SelfplayAgentLoop(AgentLoopBase):
    """One game per row: the model plays its seat turn by turn against ``opponent``.

    Args:
        *args: What verl passes every agent loop (trainer config, server manager,
            tokenizer, processor, dataset class, data config).
        env_id: The game when the row's ``extra_info`` names none.
        seat: The model's seat (``player_0``...) or its index, likewise.
        opponent: The opponent's name for ``make_opponent``, likewise.
        config: The game's parameters and ``make`` options, likewise.
        **kwargs: verl's keyword arguments (``tools``, ``hf_model_type``...).
    """

    def __init__(
        self,
        *args: Any,
        env_id: str | None = None,
        seat: str | int = "player_0",
        opponent: str = "random",
        config: Mapping[str, Any] | str | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.defaults = {
            "env_id": env_id,
            "seat": seat,
            "opponent": opponent,
            "config": _config_of(config),
        }
        self.response_length = self.rollout_config.response_length
        self.max_assistant_turns = self.rollout_config.multi_turn.max_assistant_turns

    @rollout_trace_op
    async def run(
        self, sampling_params: dict[str, Any], priority: int = 0, **kwargs: Any
    ) -> AgentLoopOutput:
        """Play the row's game; the token stream, masks, logprobs and our reward."""
        game = self.game_of(kwargs.get("extra_info"))
        seat = OpponentSeat(
            game["env_id"],
            seat=game["seat"],
            opponent=game["opponent"],
            **game["config"],
        )
        messages = _opening(kwargs.get("raw_prompt"), seat.reset(game["seed"]), game)
        metrics: dict[str, Any] = {}
        full_determinism = getattr(self.rollout_config, "full_determinism", False)
        request_id = f"det-{int(priority)}" if full_determinism else uuid4().hex

        token_ids = await self.ct_build_initial_tokens(messages)
        response_mask: list[int] = []
        response_logprobs: list[float] = []
        move_rewards: list[float] = []
        extra_fields: dict[str, Any] = {}
        assistant_turns = user_turns = 0
        while not seat.done:
            budget = self.response_length - len(response_mask)
            if budget <= 0 or (
                self.max_assistant_turns and assistant_turns >= self.max_assistant_turns
            ):
                break
            with simple_timer("generate_sequences", metrics):
                output = await self.server_manager.generate(
                    request_id=request_id,
                    prompt_ids=token_ids,
                    sampling_params=_with_budget(sampling_params, budget),
                )
            # As verl's tool_agent: -1 if the server does not say, else the sum.
            preempted = output.num_preempted
            if "num_preempted" not in metrics:
                metrics["num_preempted"] = preempted if preempted is not None else -1
            elif preempted is not None:
                metrics["num_preempted"] += preempted
            if not extra_fields:
                extra_fields.update(output.extra_fields)
            assistant_turns += 1
            merged, response_mask, logprobs = await self.ct_merge_assistant_token(
                token_ids,
                output.token_ids,
                response_mask,
                response_logprobs if (response_logprobs or output.log_probs) else None,
                assistant_logprobs=output.log_probs or None,
            )
            token_ids = merged.token_ids
            if logprobs is not None:
                response_logprobs = logprobs

            reply = self.tokenizer.decode(output.token_ids, skip_special_tokens=True)
            # The env's answer (the opponents' moves included) is this loop's tool call.
            with simple_timer("tool_calls", metrics):
                step = seat.play(reply)
            move_rewards.append(step.reward)
            messages.append({"role": "assistant", "content": reply})
            if step.done or len(response_mask) >= self.response_length:
                break
            previous = list(messages)
            messages.append({"role": "user", "content": step.prompt})
            merged, mask, logprobs = await self.ct_merge_context_msg(
                previous,
                messages,
                token_ids,
                response_mask,
                response_logprobs or None,
            )
            if len(mask) >= self.response_length:
                break
            token_ids = merged.token_ids
            response_mask = mask
            if response_logprobs:
                response_logprobs = logprobs or []
            user_turns += 1
        metrics.setdefault("num_preempted", -1)

        n_response = len(response_mask)
        prompt_ids = token_ids[: len(token_ids) - n_response]
        response_ids = token_ids[len(token_ids) - n_response :]
        extra_fields.update(
            turn_scores=move_rewards,
            tool_rewards=[],
            game_env_id=game["env_id"],
            game_seed=game["seed"],
            game_seat=seat.seat,
            game_opponent=game["opponent"],
            game_finished=seat.done and not seat.truncated,
            game_outcome=seat.outcome,
            game_returns=seat.returns,
            game_moves=[list(move) for move in seat.moves],
            invalid_moves=seat.invalid_moves,
        )
        return AgentLoopOutput(
            prompt_ids=prompt_ids,
            response_ids=response_ids[: self.response_length],
            response_mask=response_mask[: self.response_length],
            response_logprobs=(
                response_logprobs[: self.response_length] if response_logprobs else None
            ),
            reward_score=seat.episode_return,
            num_turns=user_turns + assistant_turns + 1,
            metrics=metrics,
            extra_fields=extra_fields,
        )

    def game_of(self, extra_info: Mapping[str, Any] | None) -> dict[str, Any]:
        """The game a row names: its ``extra_info`` over this loop's defaults."""
        info = dict(extra_info or {})
        game = {key: info.get(key, self.defaults.get(key)) for key in _GAME_KEYS}
        game["config"] = _config_of(game["config"])
        if not game["env_id"]:
            raise ValueError(
                "expected the row's extra_info (or the agent loop's config) to name "
                f"env_id, got extra_info keys {sorted(info)}"
            )
        if game["seed"] is not None:
            game["seed"] = int(game["seed"])
        return game


def _with_budget(sampling_params: dict[str, Any], budget: int) -> dict[str, Any]:
    # A turn never generates past what is left of rollout.response_length.
    params = dict(sampling_params)
    params["max_tokens"] = min(int(params.get("max_tokens") or budget), budget)
    return params


def _opening(
    raw_prompt: Any, prompt: str, game: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The row's messages, checked to end with our env's first prompt for the seat."""
    messages = [dict(m) for m in (raw_prompt if raw_prompt is not None else [])]
    if not messages:
        return [{"role": "user", "content": prompt}]
    if messages[-1].get("content") != prompt:
        raise RuntimeError(
            f"{game['env_id']} seed {game['seed']} gave another first prompt than the "
            "row's: the game or its config changed since the dataset was written"
        )
    return messages


def _config_of(config: Mapping[str, Any] | str | None) -> dict[str, Any]:
    if config is None or config == "":
        return {}
    if isinstance(config, str):
        config = json.loads(config)
    if not isinstance(config, Mapping):
        raise TypeError(
            f"expected config as a dict or its JSON, got {type(config).__name__}"
        )
    return dict(config)


def dataset_rows(
    env_id: str,
    seeds: Iterable[int],
    *,
    seat: str | int = "player_0",
    opponent: str = "random",
    **config: Any,
) -> list[dict[str, Any]]:
    """verl RL-dataset rows for ``env_id``, one per seed, played by ``selfplay_game``.

    Each row has ``prompt`` (our env's first prompt for the seat, as a user message),
    ``data_source``, ``agent_name`` and ``extra_info`` (``env_id``, ``seed``, the seat's
    agent, ``opponent``, ``config`` as JSON so that any config fits one Parquet
    column, and ``index``). An unknown game, seat, opponent or parameter is refused
    here, naming it.
    """
    game_seat = OpponentSeat(env_id, seat=seat, opponent=opponent, **config)
    rows = []
    for index, seed in enumerate(seeds):
        rows.append(
            {
                "data_source": f"selfplay/{env_id}",
                "agent_name": AGENT_NAME,
                "prompt": [{"role": "user", "content": game_seat.reset(int(seed))}],
                "extra_info": {
                    "index": index,
                    "env_id": env_id,
                    "seed": int(seed),
                    "seat": game_seat.seat,
                    "opponent": opponent,
                    "config": json.dumps(config, sort_keys=True),
                },
            }
        )
    return rows


def agent_loop_config() -> str:
    """The YAML for ``rollout.agent.agent_loop_config_path`` that names this loop."""
    return f"- name: {AGENT_NAME}\n  _target_: {_TARGET}\n"


def main(argv: list[str] | None = None) -> None:
    """Write ``train.parquet`` (``dataset_rows``) and ``agent_loop.yaml`` to ``--out``."""
    parser = argparse.ArgumentParser(
        prog="python -m selfplay_agents.integrations.verl",
        description="Write a verl dataset of our games and the agent-loop config.",
    )
    add_dataset_arguments(parser)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    import pandas as pd  # a verl dependency

    rows = dataset_rows(**dataset_options(parser, args))
    train, loops = args.out / "train.parquet", args.out / "agent_loop.yaml"
    args.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(train)
    loops.write_text(agent_loop_config())
    print(f"wrote {len(rows)} rows to {train} and the agent-loop config; pass")
    print(f"data.train_files={train}")
    print(f"actor_rollout_ref.rollout.agent.agent_loop_config_path={loops}")


if __name__ == "__main__":  # python -m selfplay_agents.integrations.verl ...
    main()
