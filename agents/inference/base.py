"""The one interface of every inference backend: requests in, results out.

A ``Request`` holds chat messages (text, or text plus images) or a raw prompt, the
sampling parameters and a seed. A ``Result`` holds the text, the prompt and completion
token ids, the per-token logprobs, the finish reason and an error, if any. Backends never
raise on a bad request that is the model's or the data's fault (an over-long prompt, a
server that refused it): they return a ``Result`` whose ``error`` says why, in the slot
of that request, so one bad prompt never sinks a batch.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import io
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "placeholder_token_ids",
    "prompt_too_long",
    "FinishReason",
    "InferenceBackend",
    "AsyncInferenceBackend",
    "Message",
    "Request",
    "Result",
    "SamplingParams",
    "image_to_data_url",
    "image_from_data_url",
    "image_hash",
]


class FinishReason(str, enum.Enum):
    """Why generation stopped, with OpenAI's names."""

    STOP = "stop"  # end-of-sequence token, stop string, or a guided choice completed
    LENGTH = "length"  # ``max_tokens`` (or the model's context) was reached
    ERROR = "error"  # nothing was generated; ``Result.error`` says why


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class Message:
    """One chat message. ``images`` are ``uint8`` arrays of shape ``(H, W, 3)``."""

    role: str
    content: str
    images: tuple[np.ndarray, ...] = ()

    def __post_init__(self) -> None:
        if self.role not in ("system", "user", "assistant"):
            raise ValueError(
                f"expected role 'system', 'user' or 'assistant', got {self.role!r}"
            )
        if not isinstance(self.content, str):
            raise TypeError(f"expected str content, got {type(self.content).__name__}")

    def to_dict(self) -> dict[str, Any]:
        """The text-only form ``{"role", "content"}`` that chat templates take."""
        return {"role": self.role, "content": self.content}

    def to_template_dict(self) -> dict[str, Any]:
        """The form a multimodal chat template takes: image parts, then the text.

        A message without images keeps its plain string content, so templates that
        only know strings still render it.
        """
        if not self.images:
            return self.to_dict()
        parts: list[dict[str, Any]] = [{"type": "image"} for _ in self.images]
        parts.append({"type": "text", "text": self.content})
        return {"role": self.role, "content": parts}

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI chat form; images become ``image_url`` parts with data URLs."""
        if not self.images:
            return self.to_dict()
        parts: list[dict[str, Any]] = [
            {"type": "image_url", "image_url": {"url": image_to_data_url(image)}}
            for image in self.images
        ]
        parts.append({"type": "text", "text": self.content})
        return {"role": self.role, "content": parts}


@dataclasses.dataclass(frozen=True, kw_only=True)
class SamplingParams:
    """How to sample. ``temperature == 0`` is greedy decoding.

    Attributes:
        max_tokens: Most tokens to generate; a backend caps it at the room left in
            the model's context.
        temperature: Softmax temperature; 0 means greedy.
        top_p: Nucleus sampling mass (1.0 = off).
        top_k: Keep the k most likely tokens (0 = off).
        stop: Strings that end generation; they stay in the token ids but are cut
            from ``Result.text``, as in vLLM.
        logprobs: Return the logprob of each generated token.
    """

    max_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    stop: tuple[str, ...] = ()
    logprobs: bool = True

    def __post_init__(self) -> None:
        if self.max_tokens < 1:
            raise ValueError(f"expected max_tokens >= 1, got {self.max_tokens}")
        if self.temperature < 0:
            raise ValueError(f"expected temperature >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"expected 0 < top_p <= 1, got {self.top_p}")
        object.__setattr__(self, "stop", tuple(self.stop))

    @property
    def greedy(self) -> bool:
        """True when decoding is deterministic argmax."""
        return self.temperature == 0


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class Request:
    """One generation request.

    Attributes:
        messages: The conversation; the backend applies the model's chat template.
        prompt: A raw prompt (no chat template); exclusive with ``messages``.
        sampling: Sampling parameters.
        seed: Seed of this request's sampling (backends document how they honour it).
        choices: Guided decoding: the completion must be exactly one of these.
        chat_template_kwargs: Extra variables for the chat template, e.g.
            ``{"enable_thinking": False}`` for Qwen3.
    """

    messages: tuple[Message, ...] = ()
    prompt: str | None = None
    sampling: SamplingParams = SamplingParams()
    seed: int | None = None
    choices: tuple[str, ...] | None = None
    chat_template_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", tuple(self.messages))
        if (self.prompt is None) == (not self.messages):
            raise ValueError(
                "expected exactly one of messages or prompt, got "
                f"{len(self.messages)} messages and prompt={self.prompt!r:.40}"
            )
        if self.choices is not None:
            if not self.choices:
                raise ValueError("expected at least one guided choice, got none")
            object.__setattr__(self, "choices", tuple(self.choices))

    @property
    def images(self) -> list[np.ndarray]:
        """Every image of the conversation, in order."""
        return [image for message in self.messages for image in message.images]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Result:
    """What one request produced.

    Attributes:
        text: The completion text (stop strings cut off).
        prompt_token_ids: Token ids of the prompt as the model saw it (chat template
            applied); empty when the backend cannot report them.
        completion_token_ids: Generated token ids, up to and including the
            end-of-sequence token when one ended generation; empty when unknown.
        logprobs: Log-probability of each completion token under the model, aligned
            with ``completion_token_ids``; ``None`` when not requested or not given.
        finish_reason: Why generation stopped.
        error: Why the request failed (then ``text`` is empty); ``None`` on success.
        outage: The failure is the infrastructure's (a server down or erroring, a
            timeout, retries used up, a wrong URL, key or model name), not the
            request's (a prompt longer than the context). Policies raise on an
            outage instead of playing: it is never a move, an invalid one included.
    """

    text: str = ""
    prompt_token_ids: tuple[int, ...] = ()
    completion_token_ids: tuple[int, ...] = ()
    logprobs: tuple[float, ...] | None = None
    finish_reason: FinishReason = FinishReason.STOP
    error: str | None = None
    outage: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "finish_reason", FinishReason(self.finish_reason))
        object.__setattr__(self, "prompt_token_ids", tuple(self.prompt_token_ids))
        object.__setattr__(
            self, "completion_token_ids", tuple(self.completion_token_ids)
        )
        if self.logprobs is not None:
            object.__setattr__(self, "logprobs", tuple(self.logprobs))

    @property
    def ok(self) -> bool:
        """True when the request produced a completion."""
        return self.error is None

    @classmethod
    def failure(
        cls, error: str, prompt_token_ids: Sequence[int] = (), *, outage: bool = False
    ) -> Result:
        """A failed request: the request's fault (a prompt longer than the model's
        context), or with ``outage=True`` the infrastructure's."""
        return cls(
            error=error,
            finish_reason=FinishReason.ERROR,
            prompt_token_ids=tuple(prompt_token_ids),
            outage=outage,
        )


def prompt_too_long(ids: Sequence[int], max_model_len: int) -> Result | None:
    """The error result for a prompt that leaves no room to generate, else None.

    Over-long prompts are reported, never truncated: a silently cut prompt would train
    on an observation the model never saw.
    """
    if max_model_len - len(ids) >= 1:
        return None
    return Result.failure(
        f"prompt too long: expected at most {max_model_len - 1} prompt tokens, "
        f"got {len(ids)}",
        ids,
    )


# Config fields naming a VLM's placeholder tokens (LLaVA: image_token_index; Qwen2-VL:
# image_token_id, video_token_id, vision_start_token_id, vision_end_token_id).
_PLACEHOLDER_FIELDS = (
    "image_token_index",
    "image_token_id",
    "video_token_id",
    "vision_start_token_id",
    "vision_end_token_id",
)


def placeholder_token_ids(config: Any) -> tuple[int, ...]:
    """The multimodal placeholder token ids a model config names, sorted; () for text.

    Backends never let a model generate these: a completion holding one would make
    prompt plus completion unreadable by the model's own forward pass (the processor
    expects one image's worth of features per placeholder), which a trainer runs on it.
    """
    ids = {getattr(config, field, None) for field in _PLACEHOLDER_FIELDS}
    return tuple(sorted(int(i) for i in ids if isinstance(i, int) and i >= 0))


@runtime_checkable
class InferenceBackend(Protocol):
    """Generates a batch: one ``Result`` per ``Request``, in order.

    ``max_concurrent_batches`` tells the async adapter how many ``generate`` calls may
    run at once: 1 for an engine that owns the accelerator, more for a remote server.
    """

    name: str

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        """Return one result per request, in the same order."""
        ...


@runtime_checkable
class AsyncInferenceBackend(InferenceBackend, Protocol):
    """A backend with a native coroutine form (the OpenAI client)."""

    async def agenerate(self, requests: Sequence[Request]) -> list[Result]:
        """Coroutine form of ``generate``."""
        ...


def image_to_data_url(image: np.ndarray) -> str:
    """PNG-encode an ``(H, W, 3)`` uint8 array as a ``data:`` URL."""
    from PIL import Image

    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError(
            f"expected a uint8 (H, W[, C]) image, got {array.dtype} {array.shape}"
        )
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def image_from_data_url(url: str) -> np.ndarray:
    """Decode a base64 ``data:image/...`` URL into a uint8 array."""
    from PIL import Image

    header, _, payload = url.partition(",")
    if not header.startswith("data:image/") or ";base64" not in header:
        raise ValueError(f"expected a base64 data:image URL, got {url[:40]!r}")
    with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
        return np.asarray(image.convert("RGB"))


def image_hash(image: np.ndarray) -> str:
    """A stable id of an image's pixels: ``"sha256:<hex>"`` of dtype, shape and bytes.

    Trajectories store this instead of the pixels; hashing the array rather than an
    encoded file keeps the id independent of the image library's PNG encoder.
    """
    array = np.ascontiguousarray(np.asarray(image))
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return "sha256:" + digest.hexdigest()
