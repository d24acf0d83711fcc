"""Our games as an OpenRLHF agent, driven by OpenRLHF's own executor and dataset code.

OpenRLHF's classes are real: ``openrlhf.utils.agent`` (``MultiTurnAgentExecutor``,
``AgentExecutorBase``, ``AgentInstanceBase``) and the prompt preprocessing of
``openrlhf.datasets.prompts_dataset``. Our file is loaded by path, as
``--train.agent_func_path`` loads it. OpenRLHF's own loader lives in
``openrlhf.trainer.ray.vllm_engine``, which imports vLLM (CUDA only), so the test
loads the file the same way itself. The vLLM engine is a test double: a scripted
player that answers the first legal move it reads in the prompt's tokens. Rewards are
checked by replaying the recorded moves through ``selfplay_envs.make``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from selfplay_agents.integrations.seat import replay_moves

torch = pytest.importorskip("torch", reason="the agents extra (torch) is not installed")
pytest.importorskip(
    "openrlhf.utils.agent", reason="openrlhf is not installed (the openrlhf extra)"
)

from openrlhf.datasets.prompts_dataset import preprocess_data  # noqa: E402
from openrlhf.utils.agent import (  # noqa: E402
    AgentExecutorBase,
    AgentInstanceBase,
    MultiTurnAgentExecutor,
)

from selfplay_agents.integrations import openrlhf as so  # noqa: E402

NONSENSE = "no idea"


@dataclasses.dataclass
class SamplingParams:
    """The two fields of vLLM's ``SamplingParams`` that OpenRLHF's executor uses."""

    max_tokens: int | None = None
    logprobs: int | None = 1


class FirstLegalEngine:
    """vLLM engine double: ``generate(token_ids, sampling_params)`` answers the first
    legal move of the prompt's last "Legal moves:" line (nonsense first), with
    ``<|im_end|>`` in the tokens and not in the text, as vLLM returns them."""

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer
        self.prompts: list[list[int]] = []

    async def generate(
        self, prompt_token_ids: list[int], sampling_params: Any, **kwargs: Any
    ) -> Any:
        self.prompts.append(list(prompt_token_ids))
        text = self.tokenizer.decode(prompt_token_ids)
        legal = re.findall(r"Legal moves: ([^\n]*)\.", text)[-1].split(", ")
        answer = NONSENSE if len(self.prompts) == 1 else legal[0]
        ids = self.tokenizer.encode(answer, add_special_tokens=False)
        ids.append(self.tokenizer.convert_tokens_to_ids("<|im_end|>"))
        logprobs = [{t: SimpleNamespace(logprob=-0.25)} for t in ids]
        output = SimpleNamespace(
            token_ids=ids, text=answer, finish_reason="stop", logprobs=logprobs
        )
        return SimpleNamespace(outputs=[output])


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from transformers import AutoTokenizer

    from selfplay_agents.testing import build_tiny_model

    path = build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)
    return AutoTokenizer.from_pretrained(path)


def load_agent_file() -> tuple[Any, Any]:
    """Our file as OpenRLHF loads ``--train.agent_func_path``: by path, as module
    ``agent_module``, its ``AgentExecutor`` an ``AgentExecutorBase`` built with no
    arguments. The module and the executor."""
    path = Path(so.__file__)
    spec = importlib.util.spec_from_file_location("agent_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert issubclass(module.AgentExecutor, AgentExecutorBase)
    return module, module.AgentExecutor()


def replayed(moves: list[tuple[str, str]], env_id: str, seed: int) -> dict[str, float]:
    return replay_moves(env_id, seed, moves)


@pytest.mark.parametrize(
    ("env_id", "seat", "seed"), [("tic_tac_toe_v0", 0, 5), ("kuhn_poker_v0", 1, 2)]
)
def test_openrlhf_executor_plays_the_dataset_rows(
    tokenizer, tmp_path, env_id, seat, seed
):
    out = tmp_path / "train.jsonl"
    so.main(
        ["--env-id", env_id, "--seat", str(seat), "--first-seed", str(seed)]
        + ["--num-seeds", "1", "--out", str(out)]
    )
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    prompt, label = preprocess_data(
        row,
        input_key="prompt",
        label_key="label",
        apply_chat_template=tokenizer.apply_chat_template,
    )
    assert prompt.startswith("<|im_start|>user\n") and row["prompt"] in prompt

    module, executor = load_agent_file()
    assert isinstance(executor, MultiTurnAgentExecutor)
    assert executor.agent_instance_cls is module.SelfplayAgentInstance
    instances: list[Any] = []

    class Recorded(module.SelfplayAgentInstance):  # keeps the instance for its moves
        def __init__(self) -> None:
            super().__init__()
            instances.append(self)

    executor.agent_instance_cls = Recorded
    engine = FirstLegalEngine(tokenizer)
    result = asyncio.run(
        executor.execute(
            prompt,
            label,
            SamplingParams(),
            max_length=4096,
            hf_tokenizer=tokenizer,
            llm_engine=engine,
        )
    )

    (instance,) = instances
    moves = instance.moves
    seat_agent = instance.seat.seat
    returns = replayed(moves, env_id, seed)
    assert result["reward"] == pytest.approx(returns[seat_agent])
    assert result["scores"].item() == pytest.approx(returns[seat_agent])
    assert instance.seat.done and not result["truncated"]
    assert result["extra_logs"]["invalid_moves"].item() == 1
    assert result["extra_logs"]["game_finished"].item() == 1
    # One action range per model reply; its tokens are the reply and <|im_end|>.
    tokens = result["observation_tokens"]
    ours = [text for agent, text in moves if agent == seat_agent]
    assert ours[0] == NONSENSE
    spans = [tokenizer.decode(tokens[a:b]) for a, b in result["action_ranges"]]
    assert spans == [text + "<|im_end|>" for text in ours]
    # Between replies, our env's next prompt as a ChatML user turn; nothing after the
    # last one.
    first_end = result["action_ranges"][0][1]
    second_start = result["action_ranges"][1][0]
    feedback = tokenizer.decode(tokens[first_end:second_start])
    assert feedback.startswith("\n<|im_start|>user\n")
    assert feedback.endswith("<|im_end|>\n<|im_start|>assistant\n")
    assert "Your last move was invalid" in feedback
    assert result["action_ranges"][-1][1] == len(tokens)
    # The engine got exactly the growing token stream.
    assert engine.prompts[-1] == tokens[: result["action_ranges"][-1][0]]
    logprobs = result["rollout_log_probs"]
    assert len(logprobs) == len(tokens)
    assert all(
        logprobs[i] == -0.25 for a, b in result["action_ranges"] for i in range(a, b)
    )


def test_reset_and_step_through_a_full_game():
    (row,) = so.dataset_rows("tic_tac_toe_v0", [11], opponent="random")
    agent = so.AgentInstance()
    assert isinstance(agent, AgentInstanceBase)
    observation = "<|im_start|>user\n" + row["prompt"] + "<|im_end|>\n"
    reset = asyncio.run(
        agent.reset({"observation": observation, "label": row["label"]})
    )
    assert reset == {"observation": observation}
    assert agent.moves == []  # x opens: no opponent move before the first prompt

    rewards, done, steps = [], False, 0
    while not done:
        legal = agent.seat.info["legal_actions"]
        action = "??" if steps == 0 else legal[-1]
        result = asyncio.run(agent.step({"action_text": action, "label": row["label"]}))
        assert isinstance(result["rewards"], torch.Tensor)
        rewards.append(result["rewards"].item())
        done = result["done"]
        if done:
            assert result["environment_feedback"] == ""
        else:
            assert "Legal moves:" in result["environment_feedback"]
        steps += 1
    returns = replay_moves("tic_tac_toe_v0", 11, agent.moves)
    assert sum(rewards) == pytest.approx(returns["player_0"])
    assert result["scores"].item() == pytest.approx(returns["player_0"])
    assert result["extra_logs"]["invalid_moves"].item() == 1
    with pytest.raises(RuntimeError, match="game is over"):
        asyncio.run(agent.step({"action_text": "4", "label": row["label"]}))


def test_bad_rows_are_refused():
    (row,) = so.dataset_rows("kuhn_poker_v0", [1], seat=1)
    agent = so.AgentInstance()
    with pytest.raises(RuntimeError, match="another first prompt"):
        asyncio.run(
            agent.reset({"observation": "a stale prompt", "label": row["label"]})
        )
    with pytest.raises(ValueError, match="as JSON"):
        asyncio.run(agent.reset({"observation": row["prompt"], "label": "kuhn"}))
    with pytest.raises(ValueError, match="env_id"):
        asyncio.run(agent.reset({"observation": row["prompt"], "label": "{}"}))
    with pytest.raises(ValueError, match="turn_template"):
        so.dataset_rows("kuhn_poker_v0", [1], turn_template="no marker")
    with pytest.raises(KeyError, match="nobody"):
        so.dataset_rows("kuhn_poker_v0", [1], opponent="nobody")
    with pytest.raises(RuntimeError, match="before reset"):
        asyncio.run(so.AgentInstance().step({"action_text": "bet"}))
