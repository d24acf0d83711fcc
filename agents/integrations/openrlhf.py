"""OpenRLHF glue: any of our games as an OpenRLHF (0.11) agent, ``--train.agent_func_path``.

OpenRLHF's agent mode loads the Python file given by ``--train.agent_func_path`` and
builds its ``AgentExecutor`` (an ``openrlhf.utils.agent.AgentExecutorBase``). This
file's ``AgentExecutor`` is OpenRLHF's own ``MultiTurnAgentExecutor`` over
``AgentInstance`` (``SelfplayAgentInstance``): one instance per prompt, which OpenRLHF
drives token-in, token-out through its vLLM engine.

- Each dataset row names its game in the label (``--data.label_key label``): JSON with
  ``env_id``, ``seed``, ``seat``, ``opponent`` and ``config`` (the game's parameters and
  ``make`` options). ``dataset_rows`` writes such rows, one per seed, with the prompt
  (``--data.input_key prompt``): our env's first prompt for the seat, after the
  opponents' opening moves.
- ``reset(states)`` starts the game with the label's seed and returns OpenRLHF's
  observation (the row's prompt, after ``--data.apply_chat_template``), checked to
  hold our env's first prompt.
- ``step(states)`` plays the model's reply (``action_text``) as it is, then the fixed
  opponent ``opponent`` (``selfplay_agents.opponents.make_opponent``) of the other
  seats until the model's next turn. Text the game cannot parse is an invalid move
  under the env's invalid-move policy, never an exception. It returns ``rewards``
  (the seat's reward from this move, a tensor: OpenRLHF sums them into the
  trajectory's reward, so the sum is the seat's return from our env), ``scores`` (the
  return so far), ``environment_feedback`` (our env's next prompt as a user turn of
  the chat template, nothing once the game is over), ``done`` and ``extra_logs``.

The feedback is text that OpenRLHF tokenises after the reply's tokens, so it carries
the chat template's markup: ``turn_template`` in the label (``{prompt}`` marks our
prompt), ChatML by default (Qwen's). A reply cut by ``max_tokens`` lacks its
end-of-turn token and is followed by the next user turn all the same: vLLM's text does
not say why it stopped.

Requires ``openrlhf`` (the ``openrlhf`` extra; tested with 0.11.2, whose
``openrlhf.utils.agent`` imports on CPU; its training loop needs vLLM and
flash-attn, which need CUDA).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from selfplay_envs.core.errors import DependencyNotInstalled

try:
    import torch
    from openrlhf.utils.agent import AgentInstanceBase, MultiTurnAgentExecutor
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise DependencyNotInstalled.for_extra("openrlhf", "openrlhf") from e

from selfplay_agents.integrations.seat import (
    OpponentSeat,
    add_dataset_arguments,
    dataset_options,
)

__all__ = [
    "CHATML_TURN",
    "AgentExecutor",
    "AgentInstance",
    "SelfplayAgentInstance",
    "dataset_rows",
    "game_of",
    "main",
]

#: Our env's next prompt as a ChatML user turn, after the model's ``<|im_end|>``.
CHATML_TURN = "\n<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"

_GAME_DEFAULTS: dict[str, Any] = {
    "seed": None,
    "seat": "player_0",
    "opponent": "random",
    "config": {},
    "turn_template": CHATML_TURN,
}


def game_of(label: Mapping[str, Any] | str) -> dict[str, Any]:
    """The game a row's label names (JSON or a dict), defaults filled in."""
    if isinstance(label, str):
        try:
            label = json.loads(label)
        except json.JSONDecodeError as e:
            raise ValueError(
                "expected the row's label to be the game as JSON (env_id, seed, seat, "
                f"opponent, config), got {label[:80]!r}"
            ) from e
    if not isinstance(label, Mapping) or not label.get("env_id"):
        raise ValueError(
            f"expected the row's label to name env_id, got {str(label)[:80]!r}"
        )
    game = {**_GAME_DEFAULTS, **label}
    config = game["config"]
    game["config"] = dict(json.loads(config) if isinstance(config, str) else config)
    if game["seed"] is not None:
        game["seed"] = int(game["seed"])
    if "{prompt}" not in game["turn_template"]:
        raise ValueError(
            "expected turn_template to mark the prompt with {prompt}, got "
            f"{game['turn_template']!r}"
        )
    return game


class SelfplayAgentInstance(AgentInstanceBase):
    """One game for one prompt: the model plays its seat against ``opponent``."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.game: dict[str, Any] = {}
        self.seat: OpponentSeat | None = None

    async def reset(self, states: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Start the label's game with its seed; OpenRLHF's observation, checked."""
        self.game = game_of(states["label"])
        game = self.game
        self.seat = OpponentSeat(
            game["env_id"],
            seat=game["seat"],
            opponent=game["opponent"],
            **game["config"],
        )
        prompt = self.seat.reset(game["seed"])
        observation = states["observation"]
        if prompt not in observation:
            raise RuntimeError(
                f"{game['env_id']} seed {game['seed']} gave another first prompt than "
                "the row's: the game or its config changed since the dataset was written"
            )
        return {"observation": observation}

    async def step(self, states: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Play the model's reply, then the opponents; reward, feedback and ``done``."""
        if self.seat is None:
            raise RuntimeError("step() before reset(): OpenRLHF resets every instance")
        seat = self.seat
        step = seat.play(states["action_text"])
        feedback = (
            ""
            if step.done
            else self.game["turn_template"].replace("{prompt}", step.prompt)
        )
        return {
            "rewards": torch.tensor(step.reward),
            "scores": torch.tensor(seat.episode_return),
            "environment_feedback": feedback,
            "done": step.done,
            "sampling_params": states.get("sampling_params"),
            "extra_logs": {
                "invalid_moves": torch.tensor(float(seat.invalid_moves)),
                "game_finished": torch.tensor(float(step.done and not step.truncated)),
            },
        }

    @property
    def moves(self) -> list[tuple[str, str]]:
        """``(agent, text)`` of every attempted move so far (replayable)."""
        return self.seat.moves if self.seat is not None else []


#: The name OpenRLHF's ``MultiTurnAgentExecutor`` examples give the instance class.
AgentInstance = SelfplayAgentInstance


class AgentExecutor(MultiTurnAgentExecutor):
    """What ``--train.agent_func_path`` loads: OpenRLHF's multi-turn executor over
    ``SelfplayAgentInstance``."""

    def __init__(self) -> None:
        super().__init__(SelfplayAgentInstance)


def dataset_rows(
    env_id: str,
    seeds: Iterable[int],
    *,
    seat: str | int = "player_0",
    opponent: str = "random",
    turn_template: str = CHATML_TURN,
    **config: Any,
) -> list[dict[str, str]]:
    """OpenRLHF prompt-dataset rows for ``env_id``, one per seed.

    ``prompt`` is our env's first prompt for the seat (render it with
    ``--data.apply_chat_template``); ``label`` is the game as JSON (``game_of``). An
    unknown game, seat, opponent or parameter is refused here, naming it.
    """
    game_seat = OpponentSeat(env_id, seat=seat, opponent=opponent, **config)
    rows = []
    for seed in seeds:
        label = {
            "env_id": env_id,
            "seed": int(seed),
            "seat": game_seat.seat,
            "opponent": opponent,
            "config": config,
            "turn_template": turn_template,
        }
        game_of(label)  # refuses a bad turn_template before any rollout
        rows.append(
            {
                "prompt": game_seat.reset(int(seed)),
                "label": json.dumps(label, sort_keys=True),
                "datasource": f"selfplay/{env_id}",
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    """Write a JSONL prompt dataset (``dataset_rows``); print OpenRLHF's flags."""
    parser = argparse.ArgumentParser(
        prog="python -m selfplay_agents.integrations.openrlhf",
        description="Write an OpenRLHF prompt dataset of our games.",
    )
    add_dataset_arguments(parser)
    parser.add_argument("--turn-template", default=CHATML_TURN)
    parser.add_argument("--out", type=Path, required=True, help="the JSONL file")
    args = parser.parse_args(argv)

    rows = dataset_rows(
        **dataset_options(parser, args), turn_template=args.turn_template
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(f"wrote {len(rows)} rows to {args.out}; pass")
    print(f"--data.prompt_dataset {args.out} --data.input_key prompt")
    print("--data.label_key label --data.apply_chat_template")
    print(f"--train.agent_func_path {Path(__file__).resolve()}")


if __name__ == "__main__":  # python -m selfplay_agents.integrations.openrlhf ...
    main()
