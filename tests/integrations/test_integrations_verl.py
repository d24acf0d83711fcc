"""Our games as a verl agent loop, run by verl's own AgentLoopWorker and dataset.

verl's classes are real: its trainer config (composed from verl's own YAML), its
``RLHFDataset`` reading the Parquet file that ``python -m
selfplay_agents.integrations.verl`` writes, its ``AgentLoopWorker`` instantiating the
loop from the agent-loop YAML, its Continuous Token builder and padding. Only the
inference server is a test double implementing ``server_manager.generate``: a scripted
player that answers the first legal move it reads in the prompt's tokens, or the tiny
random-weight model. Rewards are checked by replaying the recorded moves through
``selfplay_envs.make``.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from selfplay_agents.integrations.seat import replay_moves

pytest.importorskip("torch", reason="the agents extra (torch) is not installed")
pytest.importorskip("verl", reason="verl is not installed (the verl extra)")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from verl.experimental.agent_loop.agent_loop import (  # noqa: E402
    AgentLoopMetrics,
    AgentLoopOutput,
    AgentLoopWorker,
    DictConfigWrap,
    _agent_loop_registry,
)
from verl.protocol import DataProto  # noqa: E402
from verl.utils.dataset.rl_dataset import RLHFDataset, collate_fn  # noqa: E402
from verl.workers.rollout.replica import TokenOutput  # noqa: E402

from selfplay_agents.integrations import verl as sv  # noqa: E402

NONSENSE = "no idea"


class FirstLegalServer:
    """``server_manager.generate`` that reads the prompt's tokens and answers the first
    legal move listed in its last "Legal moves:" line (nonsense on a request's first
    call), ended by ``<|im_end|>``, with a made-up logprob per token."""

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer
        self.calls: dict[str, int] = {}

    async def generate(
        self,
        request_id: str,
        *,
        prompt_ids: list[int],
        sampling_params: dict[str, Any],
        **kwargs: Any,
    ) -> TokenOutput:
        text = self.tokenizer.decode(prompt_ids)
        self.calls[request_id] = self.calls.get(request_id, 0) + 1
        legal = re.findall(r"Legal moves: ([^\n]*)\.", text)[-1].split(", ")
        answer = NONSENSE if self.calls[request_id] == 1 else legal[0]
        ids = self.tokenizer.encode(answer, add_special_tokens=False)
        ids.append(self.tokenizer.convert_tokens_to_ids("<|im_end|>"))
        return TokenOutput(token_ids=ids, log_probs=[-0.5] * len(ids))


class TinyModelServer:
    """``server_manager.generate`` backed by the tiny model: greedy, its raw logprobs."""

    def __init__(self, model: Any, tokenizer: Any, max_tokens: int = 6):
        self.model = model
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.seen_max_tokens: list[int] = []

    async def generate(
        self,
        request_id: str,
        *,
        prompt_ids: list[int],
        sampling_params: dict[str, Any],
        **kwargs: Any,
    ) -> TokenOutput:
        self.seen_max_tokens.append(sampling_params["max_tokens"])
        new_tokens = min(self.max_tokens, sampling_params["max_tokens"])
        with torch.no_grad():
            out = self.model.generate(
                torch.tensor([list(prompt_ids)]),
                max_new_tokens=new_tokens,
                do_sample=False,
                output_logits=True,
                return_dict_in_generate=True,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        ids = out.sequences[0, len(prompt_ids) :].tolist()
        logprobs = [
            float(torch.log_softmax(logits[0].float(), -1)[token])
            for logits, token in zip(out.logits, ids, strict=True)
        ]
        return TokenOutput(token_ids=ids, log_probs=logprobs, num_preempted=0)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from selfplay_agents.testing import build_tiny_model

    return build_tiny_model(
        tmp_path_factory.mktemp("tiny") / "model", seed=0, max_position_embeddings=4096
    )


def trainer_config(model_dir: Path, loops_yaml: Path, **rollout: Any) -> Any:
    """verl's own ``ppo_trainer`` config with the tiny model and our agent-loop YAML."""
    import verl

    overrides = [
        f"actor_rollout_ref.model.path={model_dir}",
        "actor_rollout_ref.rollout.name=vllm",
        f"actor_rollout_ref.rollout.agent.agent_loop_config_path={loops_yaml}",
    ]
    rollout = {"prompt_length": 1024, "response_length": 2048, **rollout}
    overrides += [f"actor_rollout_ref.rollout.{k}={v}" for k, v in rollout.items()]
    config_dir = Path(verl.__file__).parent / "trainer" / "config"
    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        return compose(config_name="ppo_trainer", overrides=overrides)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our CLI's output: the Parquet dataset and the agent-loop YAML."""
    out = tmp_path_factory.mktemp("verl_data")
    sv.main(["--env-id", "tic_tac_toe_v0", "--num-seeds", "2", "--out", str(out)])
    return out


def replayed(game_moves: Any, env_id: str, seed: int) -> dict[str, float]:
    return replay_moves(env_id, seed, [tuple(m) for m in game_moves])


def test_worker_plays_the_parquet_rows_through_the_registered_loop(
    tiny_model_dir, data_dir
):
    assert (data_dir / "agent_loop.yaml").read_text() == sv.agent_loop_config()
    config = trainer_config(tiny_model_dir, data_dir / "agent_loop.yaml")
    worker = AgentLoopWorker(config, None)
    worker.llm_client = server = FirstLegalServer(worker.tokenizer)
    assert _agent_loop_registry[sv.AGENT_NAME]["_target_"] == (
        "selfplay_agents.integrations.verl.SelfplayAgentLoop"
    )

    dataset = RLHFDataset(
        data_files=str(data_dir / "train.parquet"),
        tokenizer=worker.tokenizer,
        config=config.data,
    )
    batch = DataProto.from_single_dict(collate_fn([dataset[0], dataset[1]]))
    out = asyncio.run(worker.generate_sequences(batch))

    tokenizer = worker.tokenizer
    responses, masks = out.batch["responses"], out.batch["response_mask"]
    rewards = out.batch["rm_scores"].sum(-1).tolist()
    for i, seed in enumerate((0, 1)):
        info = out.non_tensor_batch
        assert info["game_seed"][i] == seed and info["game_finished"][i]
        moves = info["game_moves"][i]
        seat = info["game_seat"][i]
        ours = [text for agent, text in moves if agent == seat]
        assert ours[0] == NONSENSE and info["invalid_moves"][i] == 1
        # The model's tokens (mask 1) are exactly its replies, our prompts are mask 0.
        model_text = tokenizer.decode(responses[i][masks[i].bool()])
        assert model_text == "<|im_end|>".join(ours) + "<|im_end|>"
        env_text = tokenizer.decode(responses[i][~masks[i].bool()])
        assert "Your last move was invalid" in env_text
        assert rewards[i] == pytest.approx(
            replayed(moves, "tic_tac_toe_v0", seed)[seat]
        )
        assert sum(info["turn_scores"][i]) == pytest.approx(rewards[i])
    assert sum(server.calls.values()) == sum(
        len([m for m in info["game_moves"][i] if m[0] == info["game_seat"][i]])
        for i in range(2)
    )
    timings = out.meta_info["metrics"]
    assert all(t["generate_sequences"] > 0 and t["tool_calls"] > 0 for t in timings)
    assert all(t["num_preempted"] == -1 for t in timings)  # the server did not say


def run_loop(
    worker: AgentLoopWorker,
    server: Any,
    sampling_params: dict[str, Any],
    row: dict[str, Any],
    **defaults: Any,
) -> AgentLoopOutput:
    """Build the loop as verl's worker does (inside the running event loop) and run
    it on one row's fields."""

    async def build_and_run() -> AgentLoopOutput:
        loop = sv.SelfplayAgentLoop(
            trainer_config=DictConfigWrap(worker.config),
            server_manager=server,
            tokenizer=worker.tokenizer,
            processor=None,
            dataset_cls=worker.dataset_cls,
            data_config=DictConfigWrap(worker.config.data),
            hf_model_type=worker.hf_model_type,
            **defaults,
        )
        return await loop.run(sampling_params, **row)

    return asyncio.run(build_and_run())


@pytest.mark.parametrize(
    ("env_id", "seat", "seed"), [("tic_tac_toe_v0", 0, 7), ("kuhn_poker_v0", 1, 3)]
)
def test_agent_loop_output_from_the_tiny_model(
    tiny_model_dir, data_dir, env_id, seat, seed
):
    from transformers import AutoModelForCausalLM

    config = trainer_config(tiny_model_dir, data_dir / "agent_loop.yaml")
    worker = AgentLoopWorker(config, None)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    server = TinyModelServer(model, worker.tokenizer)
    (row,) = sv.dataset_rows(env_id, [seed], seat=seat)
    fields = {"raw_prompt": row["prompt"], "extra_info": row["extra_info"]}
    out = run_loop(worker, server, {"temperature": 0.0, "logprobs": True}, fields)

    assert isinstance(out, AgentLoopOutput)
    assert isinstance(out.metrics, AgentLoopMetrics)
    assert out.metrics.generate_sequences > 0 and out.metrics.num_preempted == 0
    assert out.prompt_ids == worker.tokenizer.apply_chat_template(
        row["prompt"], add_generation_prompt=True, tokenize=True, return_dict=False
    )
    n = len(out.response_ids)
    assert len(out.response_mask) == len(out.response_logprobs) == n > 0
    extra = out.extra_fields
    assert extra["game_finished"] and extra["game_seed"] == seed
    # The seat's return from our env for the same seed and moves.
    returns = replayed(extra["game_moves"], env_id, seed)
    assert out.reward_score == pytest.approx(returns[extra["game_seat"]])
    # Each model reply is one run of mask-1 tokens, decoded to the move the env got.
    mask = np.array(out.response_mask)
    ids = np.array(out.response_ids)
    starts = np.flatnonzero(np.diff(np.r_[0, mask]) == 1)
    ends = np.flatnonzero(np.diff(np.r_[mask, 0]) == -1) + 1
    replies = [
        worker.tokenizer.decode(ids[a:b], skip_special_tokens=True)
        for a, b in zip(starts, ends, strict=True)
    ]
    assert replies == [t for a, t in extra["game_moves"] if a == extra["game_seat"]]
    assert out.num_turns == 2 * len(replies)
    # The recorded logprobs are the model's on the final token stream (0 off the mask).
    sequence = torch.tensor([out.prompt_ids + out.response_ids])
    with torch.no_grad():
        logits = model(sequence).logits[0, len(out.prompt_ids) - 1 : -1].float()
    recomputed = torch.log_softmax(logits, -1)[torch.arange(n), torch.tensor(ids)]
    recorded = torch.tensor(out.response_logprobs)
    assert torch.allclose(recorded[mask == 1], recomputed[mask == 1], atol=1e-4)
    assert (recorded[mask == 0] == 0).all()
    assert server.seen_max_tokens[0] == config.actor_rollout_ref.rollout.response_length


def test_response_length_cuts_the_game_short(tiny_model_dir, data_dir):
    config = trainer_config(
        tiny_model_dir, data_dir / "agent_loop.yaml", response_length=60
    )
    worker = AgentLoopWorker(config, None)
    server = FirstLegalServer(worker.tokenizer)
    # No env_id in the row: the loop's own default names the game.
    fields = {"extra_info": {"seed": 2}}
    out = run_loop(worker, server, {}, fields, env_id="tic_tac_toe_v0")
    assert not out.extra_fields["game_finished"]
    assert len(out.response_ids) == len(out.response_mask) <= 60
    assert out.response_logprobs is not None
    assert out.reward_score == 0.0  # tic-tac-toe pays nothing before the end


def test_rows_that_do_not_match_the_game_are_refused(tiny_model_dir, data_dir):
    config = trainer_config(tiny_model_dir, data_dir / "agent_loop.yaml")
    worker = AgentLoopWorker(config, None)
    server = FirstLegalServer(worker.tokenizer)
    (row,) = sv.dataset_rows("tic_tac_toe_v0", [1])
    stale = [{"role": "user", "content": "an older prompt"}]
    with pytest.raises(RuntimeError, match="another first prompt"):
        run_loop(worker, server, {}, {**row, "raw_prompt": stale})
    with pytest.raises(ValueError, match="env_id"):
        run_loop(worker, server, {}, {"extra_info": {"seed": 1}})
    with pytest.raises(KeyError, match="nobody"):
        sv.dataset_rows("tic_tac_toe_v0", [1], opponent="nobody")
