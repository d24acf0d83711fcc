"""GPU paths: the transformers backend in bf16 on CUDA, and the vLLM backend.

Skipped, with the reason, on machines without a CUDA GPU or without vLLM (CI).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from selfplay_agents.inference import Message, Request, SamplingParams

torch = pytest.importorskip("torch", reason="the agents extra (torch) is not installed")

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        not torch.cuda.is_available(), reason="needs a CUDA GPU (none visible to torch)"
    ),
]
needs_vllm = pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None,
    reason='needs vLLM: pip install "selfplay-envs[vllm]"',
)
GREEDY = SamplingParams(max_tokens=16, temperature=0)
PROMPTS = [
    "hi",
    "You are playing tic-tac-toe as 'x'.",
    "bet " * 60,
    "0 | 1 | 2\n---------",
]


def chat(text: str, sampling: SamplingParams = GREEDY, **kwargs) -> Request:
    return Request(
        messages=[Message(role="user", content=text)], sampling=sampling, **kwargs
    )


@pytest.fixture(scope="module")
def gpu_model_dir(tmp_path_factory):
    """Head size 64 (hidden 256, 4 heads): a size every vLLM attention kernel takes."""
    from selfplay_agents.testing import build_tiny_model

    return build_tiny_model(
        tmp_path_factory.mktemp("gpu") / "model", seed=0, hidden_size=256
    )


def forward_logprobs(model, result) -> list[float]:
    ids = torch.tensor(
        [result.prompt_token_ids + result.completion_token_ids], device=model.device
    )
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0].float()
    start = len(result.prompt_token_ids) - 1
    return [
        torch.log_softmax(logits[p], dim=-1)[ids[0, p + 1]].item()
        for p in range(start, ids.shape[1] - 1)
    ]


def test_transformers_on_cuda_uses_bf16_and_aligns(gpu_model_dir):
    from selfplay_agents.inference.transformers_backend import TransformersBackend

    backend = TransformersBackend(gpu_model_dir, device="cuda")
    assert backend.model.dtype == torch.bfloat16 and backend.device.type == "cuda"
    results = backend.generate([chat(p) for p in PROMPTS])
    for result in results:
        assert result.ok and len(result.logprobs) == len(result.completion_token_ids)
        np.testing.assert_allclose(
            result.logprobs, forward_logprobs(backend.model, result), atol=0.1
        )


def test_transformers_on_cuda_batch_matches_singles_in_float32(gpu_model_dir):
    from selfplay_agents.inference.transformers_backend import TransformersBackend

    backend = TransformersBackend(gpu_model_dir, device="cuda", dtype="float32")
    batch = backend.generate([chat(p) for p in PROMPTS])
    singles = [backend.generate([chat(p)])[0] for p in PROMPTS]
    assert [r.completion_token_ids for r in batch] == [
        r.completion_token_ids for r in singles
    ]


@needs_vllm
def test_vllm_backend_tokens_logprobs_guided_and_errors(gpu_model_dir):
    from transformers import AutoModelForCausalLM

    from selfplay_agents.inference.transformers_backend import TransformersBackend
    from selfplay_agents.inference.vllm_backend import VLLMBackend

    backend = VLLMBackend(
        gpu_model_dir,
        dtype="float32",
        max_model_len=512,
        gpu_memory_utilization=0.3,
        enforce_eager=True,
    )
    hf = TransformersBackend(
        gpu_model_dir, device="cuda", dtype="float32", max_model_len=512
    )
    requests = [chat(p) for p in PROMPTS]
    requests.append(chat("go", choices=("\\boxed{4}", "pass")))
    requests.append(chat("cell " * 700))
    results = backend.generate(requests)
    *plain, guided, too_long = results
    model = AutoModelForCausalLM.from_pretrained(
        gpu_model_dir, dtype=torch.float32
    ).cuda()
    for request, result in zip(requests, plain, strict=True):
        assert result.ok
        assert list(result.prompt_token_ids) == hf.encode(request)
        np.testing.assert_allclose(
            result.logprobs, forward_logprobs(model, result), atol=1e-2
        )
    assert guided.text in ("\\boxed{4}", "pass")
    assert not too_long.ok and "prompt too long" in too_long.error
    # Per-request seeds: a request samples the same alone and in a batch.
    sampling = SamplingParams(max_tokens=12, temperature=1.0)
    seeded = [chat(p, sampling, seed=7 + i) for i, p in enumerate(PROMPTS)]
    together = backend.generate(seeded)
    alone = backend.generate(seeded[2:3])[0]
    assert together[2].completion_token_ids == alone.completion_token_ids
