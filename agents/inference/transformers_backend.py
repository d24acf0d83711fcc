"""Hugging Face transformers backend: batched, left-padded generation on CPU or GPU.

Requests are grouped by sampling parameters, sorted by prompt length (less padding) and
cut into batches of ``max_batch_size``; each batch is one ``model.generate`` call with
left padding, so every row's last prompt token sits at the same position. Logprobs come
from the generation scores: ``logprobs_mode="raw"`` (default) takes the model's own
distribution (``output_logits``, as vLLM's default), ``"processed"`` the distribution
actually sampled from, after temperature, top-p/top-k and guided-decoding masks
(``output_scores``).

Seeds: ``generate`` samples from torch's RNG, shared by a batch, so this backend seeds
each batch from the seeds of its requests (inside ``torch.random.fork_rng``, leaving the
caller's RNG untouched): a batch of the same requests reproduces exactly, but one
request's sample depends on its batch. vLLM honours seeds per request.

Images: a vision-language model (a config with a ``vision_config``, e.g. LLaVA or
Qwen2-VL) is loaded with ``AutoModelForImageTextToText`` and its own ``AutoProcessor``.
Each request is rendered with the processor's chat template (one image part per image,
so the template inserts the model's placeholders) and run through the processor, which
expands the placeholders into image tokens and makes the pixel inputs (``pixel_values``
and, for Qwen2-VL, ``image_grid_thw``). Rows are then batched as text is, with left
padding; the per-image tensors of a batch are concatenated in row order, as the model
reads them. The prompt token ids are the expanded ones, so image tokens count against
``max_model_len``. The model's multimodal placeholder tokens (image, video, vision
start/end) are never generated: a completion holding one would make the prompt plus
completion unreadable by the model's own forward pass, which a trainer runs on it.

torch and transformers are imported when a backend is built, not with this module.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from selfplay_agents.inference.base import (
    FinishReason,
    Request,
    Result,
    SamplingParams,
    placeholder_token_ids,
    prompt_too_long,
)
from selfplay_envs.core.errors import DependencyNotInstalled

__all__ = ["TransformersBackend", "import_torch_transformers"]


def import_torch_transformers() -> tuple[Any, Any]:
    """Import torch and transformers, or say which extra installs them."""
    try:
        import torch
        import transformers
    except ImportError as e:
        raise DependencyNotInstalled.for_extra(
            "torch and transformers", "agents"
        ) from e
    return torch, transformers


class TransformersBackend:
    """Batched generation with a causal LM from transformers.

    Args:
        model: A local model directory (or hub id already in the local cache), or a
            loaded ``PreTrainedModel``.
        tokenizer: The tokenizer; loaded from ``model`` when it is a path.
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda:0"``...
        dtype: ``"auto"`` (bfloat16 on GPU, float32 on CPU) or a torch dtype name.
        max_model_len: Context length; prompts that leave no room to generate are
            returned as errors. Defaults to ``max_position_embeddings``.
        max_batch_size: Most rows in one ``generate`` call.
        logprobs_mode: ``"raw"`` (the model's distribution) or ``"processed"`` (the
            sampling distribution).
        attn_implementation: Passed to ``from_pretrained`` (``"sdpa"``, ...).
        processor: The multimodal processor of a loaded vision-language model; loaded
            from ``model`` when it is the path of one. Without one, requests with
            images come back as errors.
    """

    name = "transformers"
    max_concurrent_batches = 1

    def __init__(
        self,
        model: Any,
        *,
        tokenizer: Any = None,
        device: str = "auto",
        dtype: str = "auto",
        max_model_len: int | None = None,
        max_batch_size: int = 64,
        logprobs_mode: str = "raw",
        attn_implementation: str | None = None,
        processor: Any = None,
    ):
        torch, transformers = import_torch_transformers()
        if logprobs_mode not in ("raw", "processed"):
            raise ValueError(
                f"expected logprobs_mode 'raw' or 'processed', got {logprobs_mode!r}"
            )
        if max_batch_size < 1:
            raise ValueError(f"expected max_batch_size >= 1, got {max_batch_size}")
        self._torch = torch
        self.device = torch.device(_pick_device(torch, device))
        self.dtype = _pick_dtype(torch, dtype, self.device)
        if isinstance(model, str) or hasattr(model, "__fspath__"):
            path = str(model)
            kwargs: dict[str, Any] = {"dtype": self.dtype}
            if attn_implementation:
                kwargs["attn_implementation"] = attn_implementation
            if _is_vision_language(transformers, path):
                processor = processor or transformers.AutoProcessor.from_pretrained(
                    path
                )
                tokenizer = tokenizer or processor.tokenizer
                model_class = transformers.AutoModelForImageTextToText
            else:
                tokenizer = tokenizer or transformers.AutoTokenizer.from_pretrained(
                    path
                )
                model_class = transformers.AutoModelForCausalLM
            model = model_class.from_pretrained(path, **kwargs)
            self.model_name = path
        else:
            if tokenizer is None and processor is not None:
                tokenizer = processor.tokenizer
            if tokenizer is None:
                raise ValueError("expected a tokenizer with a loaded model, got None")
            model = model.to(self.dtype)
            self.model_name = getattr(model, "name_or_path", type(model).__name__)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.processor = processor
        # Read by LLMPolicy: pictures for a text model are a setup error, not a move.
        self.accepts_images = processor is not None
        self.max_batch_size = max_batch_size
        self.logprobs_mode = logprobs_mode
        # A VLM's config nests the language model's (LLaVA: ``text_config``).
        self.max_model_len = max_model_len or int(
            getattr(model.config.get_text_config(), "max_position_embeddings", 4096)
        )
        self.eos_token_ids = _eos_ids(model, tokenizer)
        pad = tokenizer.pad_token_id
        self.pad_token_id = self.eos_token_ids[0] if pad is None else int(pad)
        self.placeholder_token_ids = placeholder_token_ids(model.config)

    # ---- prompts --------------------------------------------------------------------

    def render(self, request: Request) -> str:
        """The prompt text of ``request``: the chat template applied, or the raw prompt.

        With a processor its chat template is used, with image parts where a message
        has images (the template writes the model's image placeholders there).
        """
        if request.prompt is not None:
            return request.prompt
        if self.processor is not None:
            # The processor's template, rendered by the tokenizer: the processor's own
            # ``apply_chat_template`` hands template variables that its template does
            # not use (``enable_thinking``) on to the processor call, with a warning.
            return self.tokenizer.apply_chat_template(
                [m.to_template_dict() for m in request.messages],
                chat_template=self.processor.chat_template or None,
                tokenize=False,
                add_generation_prompt=True,
                **dict(request.chat_template_kwargs),
            )
        return self.tokenizer.apply_chat_template(
            [m.to_dict() for m in request.messages],
            tokenize=False,
            add_generation_prompt=True,
            **dict(request.chat_template_kwargs),
        )

    def encode(self, request: Request) -> list[int]:
        """Prompt token ids. The template already holds any BOS, so none is added.

        For a request with images these are the processor's ids, image placeholders
        expanded into image tokens.
        """
        if request.images:
            return self.prepare(request)[0]
        ids = self.tokenizer(self.render(request), add_special_tokens=False)[
            "input_ids"
        ]
        return [int(t) for t in ids]

    def prepare(self, request: Request) -> tuple[list[int], dict[str, Any]]:
        """Prompt ids and the model's image inputs (``pixel_values``...) of a request.

        Raises ``ValueError`` when the request has images and the model no processor.
        """
        if not request.images:
            return self.encode(request), {}
        if self.processor is None:
            raise ValueError(
                "expected a text-only request: this model has no image processor; "
                "load a vision-language model (its directory holds a processor "
                "config) or pass processor="
            )
        from PIL import Image

        images = [Image.fromarray(np.asarray(image)) for image in request.images]
        inputs = self.processor(
            text=[self.render(request)],
            images=images,
            add_special_tokens=False,
            return_tensors="pt",
        )
        ids = [int(t) for t in inputs["input_ids"][0].tolist()]
        extras = {
            key: value
            for key, value in inputs.items()
            if key not in ("input_ids", "attention_mask")
        }
        return ids, extras

    # ---- generation -----------------------------------------------------------------

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        """Generate every request; failures come back as error results."""
        results: list[Result | None] = [None] * len(requests)
        groups: dict[tuple[Any, ...], list[tuple[int, list[int]]]] = defaultdict(list)
        extras: dict[int, dict[str, Any]] = {}
        for i, request in enumerate(requests):
            try:
                ids, extras[i] = self.prepare(request)
            except ValueError as error:
                # The request's fault (images for a text model, a bad image): its slot.
                results[i] = Result.failure(str(error))
                continue
            room = self.max_model_len - len(ids)
            if (error := prompt_too_long(ids, self.max_model_len)) is not None:
                results[i] = error
                continue
            new_tokens = min(request.sampling.max_tokens, room)
            key = (request.sampling, request.choices is not None, new_tokens)
            groups[key].append((i, ids))
        for (sampling, _, new_tokens), rows in groups.items():
            rows.sort(key=lambda row: len(row[1]))
            for start in range(0, len(rows), self.max_batch_size):
                chunk = rows[start : start + self.max_batch_size]
                batch = [requests[i] for i, _ in chunk]
                outs = self._generate_batch(
                    batch,
                    [ids for _, ids in chunk],
                    sampling,
                    new_tokens,
                    [extras[i] for i, _ in chunk],
                )
                for (i, _), result in zip(chunk, outs, strict=True):
                    results[i] = result
        assert all(r is not None for r in results)
        return results  # type: ignore[return-value]

    def _generate_batch(
        self,
        batch: list[Request],
        prompts: list[list[int]],
        sampling: SamplingParams,
        new_tokens: int,
        extras: Sequence[dict[str, Any]] = (),
    ) -> list[Result]:
        torch = self._torch
        width = max(len(p) for p in prompts)
        input_ids = torch.full(
            (len(prompts), width), self.pad_token_id, dtype=torch.long
        )
        attention = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, ids in enumerate(prompts):
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention[row, width - len(ids) :] = 1
        config = self._generation_config(sampling, new_tokens)
        kwargs: dict[str, Any] = self._image_inputs(extras, width)
        if sampling.stop:
            kwargs["tokenizer"] = self.tokenizer
        if batch[0].choices is not None:
            kwargs["prefix_allowed_tokens_fn"] = self._choice_constraint(batch, width)
        with self._seeded([r.seed for r in batch], sampling), torch.inference_mode():
            out = self.model.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention.to(self.device),
                generation_config=config,
                **kwargs,
            )
        generated = out.sequences[:, width:]
        scores = out.logits if self.logprobs_mode == "raw" else out.scores
        token_logprobs = None
        if sampling.logprobs and scores:
            token_logprobs = self._token_logprobs(scores, generated).tolist()
        generated = generated.cpu().tolist()
        return [
            self._result(prompts[row], generated[row], token_logprobs, row, sampling)
            for row in range(len(prompts))
        ]

    def _image_inputs(
        self, extras: Sequence[dict[str, Any]], width: int
    ) -> dict[str, Any]:
        """The batch's image tensors: per-image ones concatenated in row order.

        Models read the images of a batch in the order their placeholders appear, row
        by row, so concatenation matches the left-padded ids. Per-token tensors
        (``mm_token_type_ids``) are left-padded with zeros like the ids, and rows
        without images get zeros (plain text).
        """
        torch = self._torch
        keys = {key for row in extras for key in row}
        inputs: dict[str, Any] = {}
        for key in sorted(keys):
            if key in _PER_TOKEN_KEYS:
                values = [self._per_token(row.get(key), width) for row in extras]
            else:
                values = [row[key] for row in extras if key in row]
            value = torch.cat(values, dim=0).to(self.device)
            if value.is_floating_point():
                value = value.to(self.dtype)
            inputs[key] = value
        return inputs

    def _per_token(self, value: Any, width: int) -> Any:
        torch = self._torch
        if value is None:
            return torch.zeros((1, width), dtype=torch.long)
        pad = torch.zeros((1, width - value.shape[1]), dtype=value.dtype)
        return torch.cat([pad, value], dim=1)

    def _token_logprobs(self, scores: Sequence[Any], generated: Any) -> Any:
        """``(batch, steps)`` logprob of each generated token, one softmax per step."""
        torch = self._torch
        columns = [
            torch.log_softmax(step.float(), dim=-1).gather(1, generated[:, t : t + 1])
            for t, step in enumerate(scores)
        ]
        return torch.cat(columns, dim=1).cpu()

    def _generation_config(self, sampling: SamplingParams, new_tokens: int) -> Any:
        from transformers import GenerationConfig

        config: dict[str, Any] = {
            "max_new_tokens": new_tokens,
            "do_sample": not sampling.greedy,
            "pad_token_id": self.pad_token_id,
            "eos_token_id": self.eos_token_ids,
            "return_dict_in_generate": True,
            "output_logits": sampling.logprobs and self.logprobs_mode == "raw",
            "output_scores": sampling.logprobs and self.logprobs_mode == "processed",
        }
        if not sampling.greedy:
            config.update(temperature=sampling.temperature, top_p=sampling.top_p)
            config["top_k"] = sampling.top_k or None
        if sampling.stop:
            config["stop_strings"] = list(sampling.stop)
        if self.placeholder_token_ids:
            # Raw logprobs are untouched (output_logits precede the processors).
            config["suppress_tokens"] = list(self.placeholder_token_ids)
        return GenerationConfig(**config)

    @contextlib.contextmanager
    def _seeded(self, seeds: list[int | None], sampling: SamplingParams):
        """Seed torch for one batch without touching the caller's RNG state."""
        if sampling.greedy:
            yield
            return
        entropy = [s if s is not None else 0 for s in seeds]
        seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
        devices = [self.device] if self.device.type == "cuda" else []
        with self._torch.random.fork_rng(devices=devices):
            self._torch.manual_seed(seed)
            yield

    def _result(
        self,
        prompt: list[int],
        generated: list[int],
        token_logprobs: list[list[float]] | None,
        row: int,
        sampling: SamplingParams,
    ) -> Result:
        end, finish = self._completion_end(generated, sampling.stop)
        tokens = generated[:end]
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        cut = _first_stop(text, sampling.stop)
        if cut is not None:
            text = text[:cut]
        logprobs = None
        if token_logprobs is not None:
            logprobs = tuple(token_logprobs[row][:end])
        return Result(
            text=text,
            prompt_token_ids=prompt,
            completion_token_ids=tokens,
            logprobs=logprobs,
            finish_reason=finish,
        )

    def _completion_end(
        self, tokens: list[int], stops: Sequence[str]
    ) -> tuple[int, FinishReason]:
        """Where the completion ends: after the first EOS or the first stop string.

        Rows that finish early are padded until the whole batch ends, but a random or
        badly trained model may also emit the pad token itself, so padding is never
        stripped by value: the end is found from what finished the row.
        """
        for t, token in enumerate(tokens):
            if token in self.eos_token_ids:
                return t + 1, FinishReason.STOP
        if stops and _first_stop(self.tokenizer.decode(tokens), stops) is not None:
            # The shortest prefix holding a stop string (decoded text only grows).
            low, high = 1, len(tokens)
            while low < high:
                mid = (low + high) // 2
                if _first_stop(self.tokenizer.decode(tokens[:mid]), stops) is None:
                    low = mid + 1
                else:
                    high = mid
            return low, FinishReason.STOP
        return len(tokens), FinishReason.LENGTH

    def _choice_constraint(
        self, batch: list[Request], width: int
    ) -> Callable[[int, Any], list[int]]:
        """``prefix_allowed_tokens_fn`` that keeps each row on one of its choices."""
        eos = self.eos_token_ids[0]
        tries = [self._choice_trie(request.choices or ()) for request in batch]

        def allowed(row: int, input_ids: Any) -> list[int]:
            node = tries[row]
            for token in input_ids[width:].tolist():
                node = node.get(int(token))
                if node is None:
                    return [eos]
            return list(node) or [eos]

        return allowed

    def _choice_trie(self, choices: Sequence[str]) -> dict[int, Any]:
        root: dict[int, Any] = {}
        for choice in choices:
            node = root
            ids = self.tokenizer(choice, add_special_tokens=False)["input_ids"]
            for token in [*ids, self.eos_token_ids[0]]:
                node = node.setdefault(int(token), {})
        return root


# Processor outputs aligned with the prompt tokens (padded like the ids), as opposed
# to per-image ones (``pixel_values``, ``image_grid_thw``, ``image_sizes``).
_PER_TOKEN_KEYS = frozenset({"mm_token_type_ids", "token_type_ids"})


def _is_vision_language(transformers: Any, path: str) -> bool:
    """Whether the model at ``path`` has a vision tower (a ``vision_config``)."""
    config = transformers.AutoConfig.from_pretrained(path)
    return getattr(config, "vision_config", None) is not None


def _first_stop(text: str, stops: Sequence[str]) -> int | None:
    found = [text.find(s) for s in stops if s and s in text]
    return min(found) if found else None


def _pick_device(torch: Any, device: str) -> str:
    if device != "auto":
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def _pick_dtype(torch: Any, dtype: Any, device: Any) -> Any:
    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if isinstance(dtype, str):
        value = getattr(torch, dtype, None)
        if not isinstance(value, torch.dtype):
            raise ValueError(f"expected a torch dtype name, got {dtype!r}")
        return value
    return dtype


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    eos = getattr(model.generation_config, "eos_token_id", None)
    if eos is None:
        eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError(
            "expected the model or tokenizer to define eos_token_id, got None"
        )
    return [int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos])]
