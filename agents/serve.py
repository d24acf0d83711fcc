"""A minimal OpenAI-compatible server around any local ``InferenceBackend``.

It serves ``/v1/chat/completions`` and ``/v1/completions`` (non-streaming, ``n=1``),
``/v1/models`` and ``/health`` on the standard library's threading HTTP server, with
dynamic batching: requests that arrive while the backend is busy are generated together
in the next call. Responses carry logprobs (``logprobs`` / ``top_logprobs=0``) and, as
vLLM does with ``return_token_ids``, ``prompt_token_ids`` and each choice's
``token_ids``. Guided choice is read from vLLM's ``structured_outputs.choice`` or the
older ``guided_choice``. A request the backend rejects (an over-long prompt) is answered
``400`` with an OpenAI error body.

Images: chat messages may hold ``image_url`` parts with base64 ``data:image/...`` URLs
(what the ``openai`` backend sends). A vision-language model directory (LLaVA, Qwen2-VL:
one whose config has a ``vision_config``) is served with its own processor, so the
pictures reach the model; a text model answers such requests ``400``.

It exists so that the ``openai`` backend is tested against a real server process with no
extra dependency; for production use vLLM or SGLang. Run it as::

    python -m selfplay_agents.serve --model path/to/model --port 8000
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from http.server import ThreadingHTTPServer
from typing import Any

from selfplay_agents.inference.base import (
    InferenceBackend,
    Message,
    Request,
    Result,
    SamplingParams,
    image_from_data_url,
)
from selfplay_envs.servers.http import JsonHandler, serve_until_interrupted

__all__ = ["OpenAIServer", "main", "parse_chat_request", "parse_completion_request"]


class BadRequestError(ValueError):
    """A request body the server cannot serve (answered 400)."""


class _Batcher:
    """Collects requests from handler threads and generates them in batches."""

    def __init__(self, backend: InferenceBackend, max_batch_size: int, window_s: float):
        self.backend = backend
        self.max_batch_size = max_batch_size
        self.window_s = window_s
        self.queue: queue.Queue[
            tuple[Request, concurrent.futures.Future[Result]] | None
        ]
        self.queue = queue.Queue()
        self.batches = 0
        self.requests = 0
        self.thread = threading.Thread(target=self._work, name="batcher", daemon=True)
        self.thread.start()

    def submit(self, request: Request) -> Result:
        """Queue ``request`` and wait for its result."""
        future: concurrent.futures.Future[Result] = concurrent.futures.Future()
        self.queue.put((request, future))
        return future.result()

    def _work(self) -> None:
        while (first := self.queue.get()) is not None:
            if self.window_s:
                time.sleep(self.window_s)
            items = [first]
            while len(items) < self.max_batch_size:
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self.queue.put(None)
                    break
                items.append(item)
            self.batches += 1
            self.requests += len(items)
            try:
                results = self.backend.generate([request for request, _ in items])
            except Exception as error:  # answered as a 500 to every waiting request
                for _, future in items:
                    future.set_exception(error)
                continue
            for (_, future), result in zip(items, results, strict=True):
                future.set_result(result)

    def close(self) -> None:
        """Stop the worker after the queued requests."""
        self.queue.put(None)


class OpenAIServer:
    """The server: ``start()`` serves in a background thread, ``close()`` stops it.

    Args:
        backend: The backend that generates (it must expose ``tokenizer`` for token
            strings in logprobs; ids are always returned).
        host: Interface to bind (loopback by default).
        port: Port; 0 picks a free one (see ``port`` after construction).
        model_name: The id reported by ``/v1/models`` and in responses.
        max_batch_size: Most requests in one backend call.
        batch_window_s: Wait this long after the first request to gather more.
    """

    def __init__(
        self,
        backend: InferenceBackend,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model_name: str = "local",
        max_batch_size: int = 64,
        batch_window_s: float = 0.005,
    ):
        self.backend = backend
        self.model_name = model_name
        self.batcher = _Batcher(backend, max_batch_size, batch_window_s)
        handler = type("Handler", (_Handler,), {"app": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the API, ending in ``/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> OpenAIServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self.httpd.serve_forever()

    def close(self) -> None:
        """Stop serving and release the port."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.batcher.close()

    # ---- endpoints ------------------------------------------------------------------

    def chat(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``POST /v1/chat/completions``."""
        request = parse_chat_request(body)
        result = self.batcher.submit(request)
        if not result.ok:
            return 400, _error(result.error or "generation failed")
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": result.text},
            "finish_reason": result.finish_reason.value,
            "logprobs": None,
        }
        if body.get("logprobs") and result.logprobs is not None:
            choice["logprobs"] = {"content": self._token_logprobs(result)}
        return 200, self._response("chat.completion", body, choice, result)

    def completion(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``POST /v1/completions``."""
        request = parse_completion_request(body)
        result = self.batcher.submit(request)
        if not result.ok:
            return 400, _error(result.error or "generation failed")
        choice: dict[str, Any] = {
            "index": 0,
            "text": result.text,
            "finish_reason": result.finish_reason.value,
            "logprobs": None,
        }
        if body.get("logprobs") is not None and result.logprobs is not None:
            tokens = self._token_strings(result.completion_token_ids)
            choice["logprobs"] = {
                "tokens": tokens,
                "token_logprobs": list(result.logprobs),
                "top_logprobs": None,
                "text_offset": _offsets(tokens),
            }
        return 200, self._response("text_completion", body, choice, result)

    def models(self) -> dict[str, Any]:
        """``GET /v1/models``."""
        return {"object": "list", "data": [{"id": self.model_name, "object": "model"}]}

    def stats(self) -> dict[str, Any]:
        """``GET /stats``: backend calls and requests served (to see batching)."""
        return {"batches": self.batcher.batches, "requests": self.batcher.requests}

    def _response(
        self, kind: str, body: dict[str, Any], choice: dict[str, Any], result: Result
    ) -> dict[str, Any]:
        response: dict[str, Any] = {
            "id": f"{'chatcmpl' if kind == 'chat.completion' else 'cmpl'}-{uuid.uuid4().hex}",
            "object": kind,
            "created": int(time.time()),
            "model": self.model_name,
            "choices": [choice],
            "usage": {
                "prompt_tokens": len(result.prompt_token_ids),
                "completion_tokens": len(result.completion_token_ids),
                "total_tokens": len(result.prompt_token_ids)
                + len(result.completion_token_ids),
            },
        }
        if body.get("return_token_ids"):
            response["prompt_token_ids"] = list(result.prompt_token_ids)
            choice["token_ids"] = list(result.completion_token_ids)
        return response

    def _token_logprobs(self, result: Result) -> list[dict[str, Any]]:
        tokens = self._token_strings(result.completion_token_ids)
        return [
            {
                "token": token,
                "logprob": logprob,
                "bytes": list(token.encode("utf-8")),
                "top_logprobs": [],
            }
            for token, logprob in zip(tokens, result.logprobs or (), strict=True)
        ]

    def _token_strings(self, ids: Sequence[int]) -> list[str]:
        tokenizer = getattr(self.backend, "tokenizer", None)
        if tokenizer is None:
            return [f"token_id:{i}" for i in ids]
        return [tokenizer.decode([i]) for i in ids]


class _Handler(JsonHandler):
    app: OpenAIServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/health":
            self.send_json(200, {"status": "ok"})
        elif self.path == "/v1/models":
            self.send_json(200, self.app.models())
        elif self.path == "/stats":
            self.send_json(200, self.app.stats())
        else:
            self.send_json(404, _error(f"expected a known path, got {self.path}", 404))

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        routes = {
            "/v1/chat/completions": self.app.chat,
            "/v1/completions": self.app.completion,
        }
        if self.path not in routes:
            self.send_json(404, _error(f"expected a known path, got {self.path}", 404))
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise BadRequestError(
                    f"expected a JSON object, got {type(body).__name__}"
                )
            status, payload = routes[self.path](body)
        except (BadRequestError, ValueError, TypeError, KeyError) as error:
            status, payload = 400, _error(str(error))
        except (
            Exception
        ) as error:  # the backend failed: a server error, not the client's
            status, payload = 500, _error(f"{type(error).__name__}: {error}", 500)
        self.send_json(status, payload)


def _sampling(body: dict[str, Any]) -> SamplingParams:
    if body.get("stream"):
        raise BadRequestError("expected stream=false, got stream=true (not supported)")
    if int(body.get("n", 1)) != 1:
        raise BadRequestError(f"expected n=1, got n={body.get('n')}")
    stop = body.get("stop") or ()
    temperature = body.get("temperature")
    return SamplingParams(
        max_tokens=int(
            body.get("max_completion_tokens") or body.get("max_tokens") or 16
        ),
        temperature=1.0 if temperature is None else float(temperature),
        top_p=float(body.get("top_p") or 1.0),
        top_k=max(0, int(body.get("top_k") or 0)),
        stop=(stop,) if isinstance(stop, str) else tuple(stop),
        logprobs=True,
    )


def _choices(body: dict[str, Any]) -> tuple[str, ...] | None:
    structured = body.get("structured_outputs") or {}
    choices = structured.get("choice") or body.get("guided_choice")
    return tuple(choices) if choices else None


def parse_chat_request(body: dict[str, Any]) -> Request:
    """Turn a chat-completions body into a ``Request``."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequestError("expected a non-empty list of messages")
    return Request(
        messages=tuple(_message(m) for m in messages),
        sampling=_sampling(body),
        seed=body.get("seed"),
        choices=_choices(body),
        chat_template_kwargs=dict(body.get("chat_template_kwargs") or {}),
    )


def parse_completion_request(body: dict[str, Any]) -> Request:
    """Turn a completions body into a ``Request``."""
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise BadRequestError("expected one prompt string")
    return Request(
        prompt=prompt,
        sampling=_sampling(body),
        seed=body.get("seed"),
        choices=_choices(body),
    )


def _message(raw: dict[str, Any]) -> Message:
    content = raw.get("content")
    if isinstance(content, str):
        return Message(role=raw.get("role", ""), content=content)
    if not isinstance(content, list):
        raise BadRequestError(
            f"expected str or list content, got {type(content).__name__}"
        )
    texts, images = [], []
    for part in content:
        if not isinstance(part, dict):
            raise BadRequestError(
                f"expected content parts as objects, got {type(part).__name__}"
            )
        if part.get("type") == "text":
            texts.append(part.get("text", ""))
        elif part.get("type") == "image_url":
            images.append(image_from_data_url(part["image_url"]["url"]))
        else:
            raise BadRequestError(
                f"expected text or image_url parts, got {part.get('type')!r}"
            )
    return Message(
        role=raw.get("role", ""), content="\n".join(texts), images=tuple(images)
    )


def _error(message: str, code: int = 400) -> dict[str, Any]:
    kind = "BadRequestError" if code < 500 else "InternalServerError"
    return {"error": {"message": message, "type": kind, "code": code}}


def _offsets(tokens: Sequence[str]) -> list[int]:
    offsets, position = [], 0
    for token in tokens:
        offsets.append(position)
        position += len(token)
    return offsets


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m selfplay_agents.serve --model DIR [--host H] [--port P]``."""
    from selfplay_agents.inference.transformers_backend import TransformersBackend

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        required=True,
        help="local model directory (a causal LM, or a VLM with its processor)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--served-model-name", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--max-batch-size", type=int, default=64)
    parser.add_argument("--max-model-len", type=int, default=None)
    args = parser.parse_args(argv)
    backend = TransformersBackend(
        args.model,
        device=args.device,
        max_model_len=args.max_model_len,
        max_batch_size=args.max_batch_size,
    )
    server = OpenAIServer(
        backend,
        host=args.host,
        port=args.port,
        model_name=args.served_model_name or args.model,
        max_batch_size=args.max_batch_size,
    )
    serve_until_interrupted(server.httpd, f"serving {server.url}")


if __name__ == "__main__":
    main()
