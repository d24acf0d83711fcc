"""Any OpenAI-compatible server (vLLM, SGLang, ``selfplay_agents.serve``) over HTTP.

Requests go out concurrently with ``httpx`` (async), at most ``max_concurrency`` at
once. Transient failures (connection errors, timeouts, 408/409/429 and 5xx) are retried
with exponential backoff and jitter; other 4xx answers (an over-long prompt, a bad
parameter) are not retried, following game_arena's do-not-retry split, and come back as
error results. Token ids and logprobs are read when the server returns them: logprobs
from the standard ``logprobs`` fields, token ids from vLLM's ``return_token_ids``
extension (``prompt_token_ids`` and each choice's ``token_ids``).

Chat requests use ``/chat/completions`` (the server applies the chat template); requests
with a raw ``prompt`` use ``/completions``. Guided choice is sent as vLLM's
``structured_outputs`` (``guided_field="guided_choice"`` for vLLM < 0.12, ``None`` to
never send it). With a reasoning parser, vLLM returns the thinking apart
(``reasoning_content``); it is put back in front of the answer as ``<think>...</think>``
so that ``text`` and the token ids describe the same completion.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from selfplay_agents.inference.base import FinishReason, Request, Result
from selfplay_envs.core.errors import DependencyNotInstalled

__all__ = ["OpenAIBackend"]

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
#: Statuses that refuse the request itself (too long, bad parameters): not an outage.
REQUEST_FAULTS = frozenset({400, 413, 422})


class _RetryableError(Exception):
    """A failure worth another try (transport error, timeout, 429, 5xx)."""


class OpenAIBackend:
    """Client of an OpenAI-compatible server.

    Args:
        base_url: API root, e.g. ``"http://127.0.0.1:8000/v1"``.
        model: Model name sent in every request.
        api_key: Bearer token, if the server wants one.
        max_concurrency: Most requests in flight at once.
        timeout: Seconds per HTTP request.
        max_retries: Extra tries for a retryable failure.
        backoff: First backoff in seconds; doubles each try, with jitter.
        max_backoff: Cap on one backoff.
        return_token_ids: Ask for token ids (vLLM's ``return_token_ids``).
        guided_field: ``"structured_outputs"``, ``"guided_choice"`` or ``None``.
        extra_body: Extra fields merged into every request body.
        seed: Seeds the backoff jitter.
    """

    name = "openai"
    max_concurrent_batches = 16

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        max_concurrency: int = 64,
        timeout: float = 120.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 20.0,
        return_token_ids: bool = True,
        guided_field: str | None = "structured_outputs",
        extra_body: Mapping[str, Any] | None = None,
        seed: int | None = None,
    ):
        if max_concurrency < 1:
            raise ValueError(f"expected max_concurrency >= 1, got {max_concurrency}")
        if guided_field not in ("structured_outputs", "guided_choice", None):
            raise ValueError(
                "expected guided_field 'structured_outputs', 'guided_choice' or None, "
                f"got {guided_field!r}"
            )
        _import_httpx()
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.return_token_ids = return_token_ids
        self.guided_field = guided_field
        self.extra_body = dict(extra_body or {})
        self.rng = np.random.default_rng(seed)

    # ---- the InferenceBackend interface ---------------------------------------------

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        """Blocking form; runs the coroutine on a private event loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.agenerate(requests))
        # Called from inside an event loop: run ours in a worker thread instead.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self.agenerate(requests)).result()

    async def agenerate(self, requests: Sequence[Request]) -> list[Result]:
        """Send every request concurrently (bounded); one result each, in order."""
        httpx = _import_httpx()
        limits = httpx.Limits(max_connections=self.max_concurrency)
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        gate = asyncio.Semaphore(self.max_concurrency)
        async with httpx.AsyncClient(
            timeout=self.timeout, limits=limits, headers=headers
        ) as client:

            async def one(request: Request) -> Result:
                async with gate:
                    return await self._with_retries(client, request)

            return list(await asyncio.gather(*(one(r) for r in requests)))

    # ---- one request ----------------------------------------------------------------

    async def _with_retries(self, client: Any, request: Request) -> Result:
        endpoint, body = self.body(request)
        error = ""
        for attempt in range(self.max_retries + 1):
            try:
                return await self._post(client, endpoint, body, request)
            except _RetryableError as failure:
                error = str(failure)
            if attempt < self.max_retries:
                delay = min(self.max_backoff, self.backoff * 2**attempt)
                await asyncio.sleep(delay * (0.5 + self.rng.random()))
        return Result.failure(
            f"gave up after {self.max_retries + 1} attempts: {error}", outage=True
        )

    async def _post(
        self, client: Any, endpoint: str, body: dict[str, Any], request: Request
    ) -> Result:
        httpx = _import_httpx()
        try:
            response = await client.post(f"{self.base_url}{endpoint}", json=body)
        except (httpx.TransportError, httpx.TimeoutException) as error:
            raise _RetryableError(f"{type(error).__name__}: {error}") from error
        if response.status_code in RETRY_STATUS:
            raise _RetryableError(f"HTTP {response.status_code}: {response.text[:300]}")
        if response.status_code >= 400:
            # 400/413/422: the server refused this request (too long, bad sampling);
            # anything else (a wrong key, URL or model, a server error) is an outage.
            return Result.failure(
                f"HTTP {response.status_code}: {_error_text(response)}",
                outage=response.status_code not in REQUEST_FAULTS,
            )
        try:
            payload = response.json()
        except ValueError:
            return Result.failure(
                f"expected a JSON response, got {response.text[:100]!r}", outage=True
            )
        return parse_response(payload, chat=request.prompt is None)

    def body(self, request: Request) -> tuple[str, dict[str, Any]]:
        """The endpoint and JSON body for ``request``."""
        sampling = request.sampling
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "n": 1,
        }
        if sampling.top_k:
            body["top_k"] = sampling.top_k
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if request.seed is not None:
            body["seed"] = request.seed
        if self.return_token_ids:
            body["return_token_ids"] = True
        if request.choices is not None and self.guided_field == "structured_outputs":
            body["structured_outputs"] = {"choice": list(request.choices)}
        elif request.choices is not None and self.guided_field == "guided_choice":
            body["guided_choice"] = list(request.choices)
        if request.prompt is not None:
            body["prompt"] = request.prompt
            if sampling.logprobs:
                body["logprobs"] = 0
            endpoint = "/completions"
        else:
            body["messages"] = [m.to_openai() for m in request.messages]
            if sampling.logprobs:
                body["logprobs"] = True
                body["top_logprobs"] = 0
            if request.chat_template_kwargs:
                body["chat_template_kwargs"] = dict(request.chat_template_kwargs)
            endpoint = "/chat/completions"
        body.update(self.extra_body)
        return endpoint, body


def parse_response(payload: Mapping[str, Any], *, chat: bool) -> Result:
    """Read text, token ids, logprobs and finish reason from a completion response."""
    choices = payload.get("choices") or []
    if not choices:
        return Result.failure(
            f"expected choices in the response, got {list(payload)}", outage=True
        )
    choice = choices[0]
    if chat:
        message = choice.get("message") or {}
        text = message.get("content") or ""
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if reasoning:
            text = f"<think>{reasoning}</think>{text}"
        logprobs = _chat_logprobs(choice.get("logprobs"))
    else:
        text = choice.get("text") or ""
        logprobs = _completion_logprobs(choice.get("logprobs"))
    prompt_ids = payload.get("prompt_token_ids") or choice.get("prompt_token_ids") or ()
    reason = choice.get("finish_reason") or "stop"
    return Result(
        text=text,
        prompt_token_ids=tuple(prompt_ids),
        completion_token_ids=tuple(choice.get("token_ids") or ()),
        logprobs=logprobs,
        finish_reason=FinishReason.LENGTH if reason == "length" else FinishReason.STOP,
    )


def _chat_logprobs(block: Any) -> tuple[float, ...] | None:
    if not block or block.get("content") is None:
        return None
    return tuple(float(entry["logprob"]) for entry in block["content"])


def _completion_logprobs(block: Any) -> tuple[float, ...] | None:
    if not block or block.get("token_logprobs") is None:
        return None
    return tuple(float(v) for v in block["token_logprobs"])


def _error_text(response: Any) -> str:
    try:
        error = response.json().get("error")
    except ValueError:
        return response.text[:300]
    if isinstance(error, dict):
        return str(error.get("message", error))
    return str(error or response.text[:300])


def _import_httpx() -> Any:
    try:
        import httpx
    except ImportError as e:
        raise DependencyNotInstalled.for_extra("httpx", "agents") from e
    return httpx
