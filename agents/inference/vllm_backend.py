"""vLLM's offline engine (``vllm.LLM``): the fast path on a GPU.

Text requests are rendered with the tokenizer's chat template here, length-checked
against ``max_model_len`` (an over-long prompt becomes an error result instead of
failing the whole batch) and sent as token prompts to one ``LLM.generate`` call.
Requests with images are rendered with the same chat template, each image as an image
part (so the template writes the model's placeholders), and sent in vLLM's multimodal
input format, ``{"prompt": text, "multi_modal_data": {"image": PIL images}}``; vLLM's
processor expands the placeholders into image tokens, and an over-long prompt (image
tokens included) comes back as an error result.
Every request keeps its own seed (vLLM seeds per request). Guided decoding to a set of
choices uses ``StructuredOutputsParams(choice=...)`` (vLLM >= 0.10), or the older
``GuidedDecodingParams`` where that is what the installed vLLM has. Logprobs are the
sampled tokens' (``logprobs=0``), from the model's distribution by default.

A vision-language model never generates its multimodal placeholder tokens (image, video,
vision start/end, read from the model config as the transformers backend does): a
completion holding one would make prompt plus completion unreadable by the model's own
forward pass, which a trainer runs on it. On vLLM's V1 engine (the default since 0.8;
V0 was removed later) each request carries ``SamplingParams(logit_bias={id: -inf})``; V1
computes the returned raw logprobs before it applies logit bias, so they stay the
model's own. vLLM's V0 engine clamps ``logit_bias`` to [-100, 100] (OpenAI's range), so
there a per-request logits processor sets the placeholders to ``-inf`` instead (V0's
logprobs are those of the processed distribution anyway).

Needs ``pip install "selfplay-envs[vllm]"`` and a CUDA GPU.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from selfplay_agents.inference.base import (
    FinishReason,
    Request,
    Result,
    placeholder_token_ids,
    prompt_too_long,
)
from selfplay_envs.core.errors import DependencyNotInstalled

__all__ = ["VLLMBackend"]


class VLLMBackend:
    """Batched generation with ``vllm.LLM``.

    Args:
        model: A model directory or hub id in the local cache, or a built ``vllm.LLM``.
        max_model_len: Context length (passed to the engine when it is built here).
        chat_template_kwargs: Defaults merged under each request's own.
        **engine_kwargs: More ``vllm.LLM`` arguments (``dtype``, ``gpu_memory_utilization``,
            ``tensor_parallel_size``, ``enforce_eager``, ``limit_mm_per_prompt``...).
    """

    name = "vllm"
    max_concurrent_batches = 1

    def __init__(
        self,
        model: Any,
        *,
        max_model_len: int | None = None,
        chat_template_kwargs: Mapping[str, Any] | None = None,
        **engine_kwargs: Any,
    ):
        vllm = _import_vllm()
        if isinstance(model, str) or hasattr(model, "__fspath__"):
            if max_model_len is not None:
                engine_kwargs["max_model_len"] = max_model_len
            self.llm = vllm.LLM(model=str(model), **engine_kwargs)
            self.model_name = str(model)
        else:
            self.llm = model
            self.model_name = type(model).__name__
        self.tokenizer = self.llm.get_tokenizer()
        model_config = self.llm.llm_engine.model_config
        self.max_model_len = int(model_config.max_model_len)
        # Read by LLMPolicy: pictures for a text model are a setup error, not a move.
        self.accepts_images = bool(getattr(model_config, "is_multimodal_model", True))
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.placeholder_token_ids = _placeholders(model_config)
        # V1's LLMEngine lives in vllm.v1 (vllm.engine.LLMEngine aliases it from 0.8
        # when V1 is on); anything else is the V0 engine.
        self.v1_engine = type(self.llm.llm_engine).__module__.startswith("vllm.v1.")

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        """Generate every request; failures come back as error results."""
        results: list[Result | None] = [None] * len(requests)
        text_rows: list[tuple[int, list[int], Any]] = []
        image_rows: list[int] = []
        for i, request in enumerate(requests):
            if request.images:
                image_rows.append(i)
                continue
            ids = self._encode(request)
            room = self.max_model_len - len(ids)
            if (error := prompt_too_long(ids, self.max_model_len)) is not None:
                results[i] = error
                continue
            text_rows.append((i, ids, self._sampling(request, room)))
        if text_rows:
            outputs = self.llm.generate(
                [{"prompt_token_ids": ids} for _, ids, _ in text_rows],
                [params for _, _, params in text_rows],
                use_tqdm=False,
            )
            for (i, _, _), output in zip(text_rows, outputs, strict=True):
                results[i] = _result(output)
        for i, result in zip(
            image_rows, self._multimodal([requests[i] for i in image_rows]), strict=True
        ):
            results[i] = result
        return results  # type: ignore[return-value]

    def _encode(self, request: Request) -> list[int]:
        if request.prompt is not None:
            text = request.prompt
        else:
            kwargs = {**self.chat_template_kwargs, **dict(request.chat_template_kwargs)}
            text = self.tokenizer.apply_chat_template(
                [m.to_dict() for m in request.messages],
                tokenize=False,
                add_generation_prompt=True,
                **kwargs,
            )
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _render(self, request: Request) -> str:
        """The chat template applied, with image parts for the images."""
        kwargs = {**self.chat_template_kwargs, **dict(request.chat_template_kwargs)}
        return self.tokenizer.apply_chat_template(
            [m.to_template_dict() for m in request.messages],
            tokenize=False,
            add_generation_prompt=True,
            **kwargs,
        )

    def multimodal_prompt(self, request: Request) -> dict[str, Any]:
        """vLLM's multimodal input of ``request``: the prompt text and its images."""
        from PIL import Image

        images = [Image.fromarray(np.asarray(image)) for image in request.images]
        return {
            "prompt": self._render(request),
            "multi_modal_data": {"image": images[0] if len(images) == 1 else images},
        }

    def _multimodal(self, requests: Sequence[Request]) -> list[Result]:
        """Image requests in one ``LLM.generate``; an engine error isolates the row."""
        if not requests:
            return []
        prompts = [self.multimodal_prompt(r) for r in requests]
        params = [self._sampling(r, None) for r in requests]
        try:
            outputs = self.llm.generate(prompts, params, use_tqdm=False)
            return [_result(output) for output in outputs]
        except ValueError as error:
            if len(requests) == 1:
                return [Result.failure(f"{type(error).__name__}: {error}")]
        # One bad request (too long, too many images) fails the call: retry one by one.
        return [
            result for request in requests for result in self._multimodal([request])
        ]

    def _sampling(self, request: Request, room: int | None) -> Any:
        vllm = _import_vllm()
        sampling = request.sampling
        max_tokens = (
            sampling.max_tokens if room is None else min(sampling.max_tokens, room)
        )
        kwargs: dict[str, Any] = {
            "max_tokens": max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "top_k": sampling.top_k if sampling.top_k else -1,
            "seed": request.seed,
            "stop": list(sampling.stop) or None,
            "logprobs": 0 if sampling.logprobs else None,
        }
        if request.choices is not None:
            kwargs.update(_guided_choice(vllm, list(request.choices)))
        if self.placeholder_token_ids:
            kwargs.update(_suppress(self.placeholder_token_ids, v1=self.v1_engine))
        return vllm.SamplingParams(**kwargs)


def _placeholders(model_config: Any) -> tuple[int, ...]:
    """The placeholder ids of the served model that lie inside its vocabulary."""
    ids = placeholder_token_ids(getattr(model_config, "hf_config", None))
    get_vocab_size = getattr(model_config, "get_vocab_size", None)
    if ids and callable(get_vocab_size):
        # An id past the vocabulary cannot be sampled, and vLLM refuses a logit_bias
        # entry for it.
        vocab = int(get_vocab_size())
        ids = tuple(i for i in ids if i < vocab)
    return ids


def _suppress(ids: Sequence[int], *, v1: bool) -> dict[str, Any]:
    """The SamplingParams fields that keep ``ids`` from ever being sampled."""
    if v1:
        # Fresh per request; V1 rejects per-request logits_processors.
        return {"logit_bias": dict.fromkeys(ids, float("-inf"))}
    return {"logits_processors": [_SuppressTokens(ids)]}


class _SuppressTokens:
    """A V0 per-request logits processor: ``ids`` get ``-inf`` (picklable)."""

    def __init__(self, ids: Sequence[int]):
        self.ids = list(ids)

    def __call__(self, token_ids: list[int], logits: Any) -> Any:
        logits[self.ids] = float("-inf")
        return logits


def _guided_choice(vllm: Any, choices: list[str]) -> dict[str, Any]:
    """The SamplingParams field for guided choice, for the installed vLLM."""
    try:
        from vllm.sampling_params import StructuredOutputsParams
    except ImportError:
        from vllm.sampling_params import GuidedDecodingParams

        return {"guided_decoding": GuidedDecodingParams(choice=choices)}
    del vllm  # Only the import matters.
    return {"structured_outputs": StructuredOutputsParams(choice=choices)}


def _result(output: Any) -> Result:
    completion = output.outputs[0]
    tokens = list(completion.token_ids)
    logprobs = None
    if completion.logprobs is not None:
        logprobs = tuple(
            float(step[token].logprob)
            for step, token in zip(completion.logprobs, tokens, strict=True)
        )
    reason = completion.finish_reason
    return Result(
        text=completion.text,
        prompt_token_ids=tuple(output.prompt_token_ids or ()),
        completion_token_ids=tuple(tokens),
        logprobs=logprobs,
        finish_reason=FinishReason.LENGTH if reason == "length" else FinishReason.STOP,
    )


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as e:
        raise DependencyNotInstalled.for_extra("vllm", "vllm") from e
    return vllm
