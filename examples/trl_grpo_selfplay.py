"""TRL's GRPOTrainer on tic-tac-toe self-play, with our adapter as its rollout function.

``GRPOTrainer(rollout_func=...)`` (experimental in TRL 1.x) hands generation to a
function that returns prompt ids, completion ids and logprobs, plus extra fields for the
reward functions. Here that function plays self-play games of ``tic_tac_toe_v0`` with
the trainer's live model (through our transformers backend) and returns one sample per
model turn; the reward is the seat's final return. Samples are sorted by role, so each
GRPO group of ``num_generations`` turns shares a role and GRPO's group normalisation
acts as a per-role baseline, as RAE does.

The tiny random model needs guided decoding to play legal moves at all; the backend
records the model's own (unguided) logprobs, which is what TRL recomputes and trains.

    python examples/trl_grpo_selfplay.py --steps 20
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from selfplay_agents.adapter import BatchInferenceAdapter
from selfplay_agents.export import TrainerRow, trainer_rows
from selfplay_agents.inference import SamplingParams
from selfplay_agents.inference.transformers_backend import TransformersBackend
from selfplay_agents.llm import LLMPolicy
from selfplay_agents.testing import build_tiny_model

ENV_ID = "tic_tac_toe_v0"


class SelfPlayRollouts:
    """TRL's ``rollout_func``: self-play games, one sample per model turn."""

    def __init__(self, tokenizer: Any, num_generations: int, seed: int = 0):
        self.tokenizer = tokenizer
        self.num_generations = num_generations
        self.seed = seed
        self.returns: list[float] = []

    def __call__(self, prompts: list[Any], trainer: Any) -> dict[str, list[Any]]:
        """Play until there are ``len(prompts)`` turns; group them by role."""
        backend = TransformersBackend(
            trainer.model, tokenizer=self.tokenizer, device="cpu", logprobs_mode="raw"
        )
        policy = LLMPolicy(
            backend, style="plain", guided=True, sampling=SamplingParams(max_tokens=2)
        )
        rows: list[TrainerRow] = []
        while len(rows) < len(prompts):
            adapter = BatchInferenceAdapter(ENV_ID, policy, num_envs=8, seed=self.seed)
            rows += trainer_rows(adapter.run(8).trajectories, run_id=str(self.seed))
            self.seed += 1000
        trainer.model.train()  # the backend put it in eval mode to generate
        rows = _role_groups(rows, len(prompts), self.num_generations)
        self.returns += [row.episode_return for row in rows]
        return {
            "prompt_ids": [row.prompt_ids for row in rows],
            "completion_ids": [row.completion_ids for row in rows],
            "logprobs": [row.logprobs for row in rows],
            "episode_return": [row.episode_return for row in rows],
        }


def _role_groups(rows: list[TrainerRow], size: int, group: int) -> list[TrainerRow]:
    """``size`` rows in whole groups of ``group`` rows of one role each."""
    by_role: dict[str, list[TrainerRow]] = {}
    for row in rows:
        by_role.setdefault(row.role, []).append(row)
    chosen: list[TrainerRow] = []
    while len(chosen) < size:
        role = max(by_role, key=lambda r: len(by_role[r]))
        if len(by_role[role]) < group:  # too few left: play more is the caller's job
            chosen += rows[: size - len(chosen)]
            break
        chosen += by_role[role][:group]
        by_role[role] = by_role[role][group:]
    return chosen[:size]


def episode_return_reward(
    completions: list[Any], episode_return: list[float], **kwargs
):
    """The seat's final return, as TRL's reward function."""
    del completions, kwargs  # The env has already judged the game.
    return [float(value) for value in episode_return]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Train for ``--steps`` GRPO steps; return TRL's log history."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("trl_grpo_selfplay"))
    args = parser.parse_args(argv)
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    torch.set_num_threads(1)
    path = build_tiny_model(args.out / "model", seed=0)
    tokenizer = AutoTokenizer.from_pretrained(path)
    group = 4
    rollouts = SelfPlayRollouts(tokenizer, num_generations=group)
    config = GRPOConfig(
        output_dir=str(args.out / "trainer"),
        per_device_train_batch_size=32,
        num_generations=group,
        max_completion_length=2,
        learning_rate=1e-3,
        max_steps=args.steps,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        bf16=False,
        save_strategy="no",
        seed=0,
    )
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(path),
        processing_class=tokenizer,
        reward_funcs=episode_return_reward,
        args=config,
        # The prompts are placeholders: the games make the real ones.
        train_dataset=Dataset.from_dict({"prompt": ["tic-tac-toe"] * 64}),
        rollout_func=rollouts,
    )
    trainer.train()
    steps = [h for h in trainer.state.log_history if "loss" in h]
    for h in steps:
        print(
            f"step {h['step']:3d}  loss {h['loss']:+.4f}  grad norm {h['grad_norm']:.3f}  "
            f"reward std {h['reward_std']:.3f}"
        )
    return {"log": trainer.state.log_history, "returns": rollouts.returns}


if __name__ == "__main__":
    main()
