"""The openai backend against a real OpenAI-compatible server process on loopback.

The server is ``python -m selfplay_agents.serve`` (stdlib HTTP server, dynamic batching, our
transformers backend) serving the tiny model, started as a subprocess on a free port.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from selfplay_agents.adapter import BatchInferenceAdapter
from selfplay_agents.inference import Message, Request, SamplingParams
from selfplay_agents.inference.base import FinishReason
from selfplay_agents.llm import LLMPolicy

pytest.importorskip("torch", reason="the agents extra (torch) is not installed")
pytest.importorskip("httpx", reason="httpx (agents extra) is not installed")
pytestmark = pytest.mark.slow  # starts a server process (~10 s)

from selfplay_agents.inference.openai_backend import OpenAIBackend  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
GREEDY = SamplingParams(max_tokens=8, temperature=0)
CONTEXT = 512


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path) -> Iterator[str]:
    """Start ``selfplay_agents.serve`` on a free port; yield its base URL; stop it."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "selfplay_agents.serve",
            "--model",
            str(tiny_model_dir),
            "--port",
            "0",
            "--device",
            "cpu",
            "--max-model-len",
            str(CONTEXT),
            "--served-model-name",
            "tiny",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()))
    reader.start()
    reader.join(timeout=120)
    try:
        if not lines or not lines[0].startswith("serving "):
            pytest.fail(f"expected the server to start, got {lines!r}")
        yield lines[0].split()[1]
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture()
def client(server: str) -> OpenAIBackend:
    return OpenAIBackend(server, "tiny", max_concurrency=8, max_retries=1, backoff=0.01)


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_chat_and_completions_match_the_local_backend(client, tiny_backend):
    requests = [
        Request(messages=[Message(role="user", content="cell " * n)], sampling=GREEDY)
        for n in (1, 5, 20)
    ]
    requests.append(Request(prompt="0 | 1 | 2", sampling=GREEDY))
    requests.append(
        Request(
            messages=[Message(role="user", content="go")],
            sampling=GREEDY,
            choices=("\\boxed{4}", "pass"),
        )
    )
    remote = client.generate(requests)
    local = tiny_backend.generate(requests)
    for r, loc in zip(remote, local, strict=True):
        assert r.ok, r.error
        assert r.text == loc.text
        assert r.prompt_token_ids == loc.prompt_token_ids
        assert r.completion_token_ids == loc.completion_token_ids
        assert r.finish_reason == loc.finish_reason
        np.testing.assert_allclose(r.logprobs, loc.logprobs, atol=1e-4)
    assert remote[-1].text in ("\\boxed{4}", "pass")


def test_overlong_prompt_is_an_error_and_not_retried(server, client):
    before = get(server.replace("/v1", "/stats"))["requests"]
    long = Request(
        messages=[Message(role="user", content="cell " * 700)], sampling=GREEDY
    )
    (result,) = client.generate([long])
    assert not result.ok and result.finish_reason is FinishReason.ERROR
    assert result.error.startswith("HTTP 400: prompt too long")
    assert get(server.replace("/v1", "/stats"))["requests"] == before + 1


def test_concurrent_requests_are_batched_by_the_server(server, client):
    before = get(server.replace("/v1", "/stats"))
    sampling = SamplingParams(max_tokens=6, temperature=1.0)
    requests = [
        Request(
            messages=[Message(role="user", content=f"move {i}")],
            sampling=sampling,
            seed=i,
        )
        for i in range(16)
    ]
    results = asyncio.run(client.agenerate(requests))
    assert all(
        r.ok and len(r.completion_token_ids) == len(r.logprobs) > 0 for r in results
    )
    after = get(server.replace("/v1", "/stats"))
    assert after["requests"] - before["requests"] == 16
    assert after["batches"] - before["batches"] < 16


def test_unreachable_server_is_retried_with_backoff_then_an_error():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = OpenAIBackend(
        f"http://127.0.0.1:{port}/v1", "x", max_retries=2, backoff=0.05, seed=0
    )
    start = time.perf_counter()
    (result,) = backend.generate([Request(prompt="a", sampling=GREEDY)])
    assert not result.ok and result.error.startswith(
        "gave up after 3 attempts: ConnectError"
    )
    assert result.outage  # the server's failure, not the request's
    assert time.perf_counter() - start >= 0.05 * 0.5 + 0.1 * 0.5  # two backoffs slept


def test_http_surface(server):
    assert get(server + "/models")["data"][0]["id"] == "tiny"
    assert post(server + "/chat/completions", b"not json")[0] == 400
    status, body = post(
        server + "/chat/completions",
        json.dumps(
            {
                "model": "tiny",
                "messages": [{"role": "user", "content": "a"}],
                "stream": True,
            }
        ).encode(),
    )
    assert status == 400 and "stream" in body["error"]["message"]
    assert post(server + "/nowhere", b"{}")[0] == 404
    status, body = post(
        server + "/completions",
        json.dumps(
            {
                "model": "tiny",
                "prompt": "x | o",
                "max_tokens": 3,
                "temperature": 0,
                "logprobs": 0,
            }
        ).encode(),
    )
    assert status == 200
    choice = body["choices"][0]
    assert (
        len(choice["logprobs"]["token_logprobs"])
        == body["usage"]["completion_tokens"]
        == 3
    )
    assert "token_ids" not in choice  # only with return_token_ids


def test_adapter_plays_over_http_in_async_mode(client):
    policy = LLMPolicy(
        client,
        style="spiral",
        guided=True,
        sampling=SamplingParams(max_tokens=8, temperature=1.0),
    )
    adapter = BatchInferenceAdapter("tic_tac_toe_v0", policy, num_envs=3)
    result = asyncio.run(adapter.arun(3))
    assert sorted(t.episode_id for t in result.trajectories) == [0, 1, 2]
    for trajectory in result.trajectories:
        assert sum(trajectory.returns.values()) == 0
        for turn in trajectory.turns:
            assert turn.valid and turn.completion.startswith("\\boxed{")
            assert len(turn.completion_token_ids) == len(turn.logprobs) > 0
            assert len(turn.prompt_token_ids) > 0


def test_an_outage_raises_in_the_policy_and_is_never_a_move():
    """A server that is down must stop the game: an empty reply would be scored as
    the seat's invalid move (a forfeit), a loss caused by the infrastructure."""
    from selfplay_agents.adapter import BatchInferenceAdapter
    from selfplay_agents.llm import LLMPolicy
    from selfplay_envs.core.errors import InfrastructureError

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = OpenAIBackend(
        f"http://127.0.0.1:{port}/v1", "x", max_retries=0, backoff=0.01, seed=0
    )
    adapter = BatchInferenceAdapter("tic_tac_toe_v0", LLMPolicy(backend), num_envs=1)
    with pytest.raises(InfrastructureError, match="ConnectError"):
        adapter.run(1)


def test_a_request_the_server_refuses_is_not_an_outage(server):
    backend = OpenAIBackend(server, "tiny", seed=0)
    too_long = Request(prompt="x " * 5000, sampling=GREEDY)
    (result,) = backend.generate([too_long])
    assert not result.ok and not result.outage  # the request's fault: a 400
