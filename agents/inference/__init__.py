"""Inference backends behind one interface: a list of requests in, results out.

``make_backend("transformers" | "vllm" | "openai", ...)`` builds one; each backend
module imports its heavy dependency only when a backend is built.
"""

from __future__ import annotations

import importlib
from typing import Any

from selfplay_agents.inference.base import (
    AsyncInferenceBackend,
    FinishReason,
    InferenceBackend,
    Message,
    Request,
    Result,
    SamplingParams,
)

__all__ = [
    "AsyncInferenceBackend",
    "BACKENDS",
    "FinishReason",
    "InferenceBackend",
    "Message",
    "Request",
    "Result",
    "SamplingParams",
    "make_backend",
]

# name -> "module:class", imported on first use.
BACKENDS: dict[str, str] = {
    "transformers": "selfplay_agents.inference.transformers_backend:TransformersBackend",
    "vllm": "selfplay_agents.inference.vllm_backend:VLLMBackend",
    "openai": "selfplay_agents.inference.openai_backend:OpenAIBackend",
}


def make_backend(kind: str, *args: Any, **kwargs: Any) -> InferenceBackend:
    """Build the backend ``kind`` with its own arguments.

    >>> backend = make_backend("openai", "http://127.0.0.1:8000/v1", "my-model")
    """
    if kind not in BACKENDS:
        raise KeyError(f"expected a backend in {sorted(BACKENDS)}, got {kind!r}")
    module_name, _, attr = BACKENDS[kind].partition(":")
    return getattr(importlib.import_module(module_name), attr)(*args, **kwargs)
