"""A retrieval server that is down or answers garbage is an InfrastructureError.

Real HTTP on loopback: a closed port, and a server that answers 500, HTML, JSON out of
protocol or bytes that are not HTTP. The error comes at the search that needed the
server (``make`` and ``reset`` never contact it), names the URL, the cause and the fix,
and is never scored as a move; the arena records the game as errored.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import selfplay_envs
from selfplay_agents.arena.runner import is_errored, make_jobs, play_game
from selfplay_envs.core.errors import InfrastructureError
from selfplay_envs.games.search_qa.search.remote import RemoteRetriever, RetrievalError

FIX = "python -m selfplay_envs.games.search_qa.search.server"
DOCUMENT = {"id": "d1", "title": "Paris", "text": "Paris is a city."}
ANSWERS = {
    "500": (500, b'{"error": "index not loaded"}'),
    "html": (200, b"<html><body>It works!</body></html>"),
    "shape": (200, b'{"results": []}'),
    "score": (
        200,
        json.dumps({"result": [[{"document": DOCUMENT, "score": "high"}]]}).encode(),
    ),
    "document": (200, json.dumps({"result": [[{"document": {"id": 1}}]]}).encode()),
}


class _Server:
    def __init__(self) -> None:
        self.mode = "500"
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                server.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if server.mode == "not-http":
                    self.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n")  # another service
                    self.close_connection = True
                    return
                status, body = ANSWERS[server.mode]
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args) -> None:  # noqa: A002
                del format, args

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture(scope="module")
def bad_server() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def _closed_port_url() -> str:
    with socket.socket() as sock:  # free a moment ago: nobody listens there
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize(
    ("mode", "message", "tries"),
    [
        ("500", 'got HTTP 500: {"error": "index not loaded"} after 2 tries', 2),
        ("not-http", "a broken HTTP answer", 2),
        ("html", "expected a JSON answer", 1),
        ("shape", "expected 'result' with 1 lists", 1),
        ("score", "expected a numeric score (hit 1 from", 1),
        ("document", "expected 'contents' or 'title' and 'text' in a document", 1),
    ],
)
def test_a_failing_server_raises_retrieval_error_naming_cause_and_fix(
    bad_server: _Server, mode: str, message: str, tries: int
) -> None:
    bad_server.mode, bad_server.requests = mode, 0
    client = RemoteRetriever(bad_server.url, timeout=5, retries=1, backoff=0.01)
    with pytest.raises(RetrievalError) as caught:
        client.search("capital city")
    assert isinstance(caught.value, InfrastructureError)
    text = str(caught.value)
    assert message in text
    assert f"{bad_server.url}/retrieve" in text and FIX in text
    assert bad_server.requests == tries  # transient failures retried, garbage not


def test_env_raises_at_the_search_when_the_server_is_down() -> None:
    url = _closed_port_url()
    env = selfplay_envs.make(
        "search_qa_v0", corpus_size=150, retriever_url=url, cache_dir=""
    )
    env.reset(seed=3)  # building and resetting never contact the server
    retriever = env.episode.state.backend.retriever
    assert isinstance(retriever, RemoteRetriever)
    retriever.backoff = 0.001  # keep the test fast; the tries are still made
    with pytest.raises(RetrievalError) as caught:
        env.step("<search>capital city</search>")
    assert isinstance(caught.value, InfrastructureError)
    text = str(caught.value)
    assert f"expected an answer from {url}/retrieve" in text
    assert "after 4 tries: the retrieval server is down" in text and FIX in text
    # Not a move with no hits, not an invalid move, no reward.
    assert env.episode.state.proposer_searches == []
    assert not any(r.reason for r in env.episode.records)
    assert not env.episode.terminal and env.episode.returns() == [0.0, 0.0]


def test_arena_records_a_game_with_a_broken_server_as_errored(
    bad_server: _Server,
) -> None:
    bad_server.mode = "html"
    config = {"corpus_size": 150, "retriever_url": bad_server.url, "cache_dir": ""}
    job = make_jobs("search_qa_v0", ["scripted", "random"], 1, config=config)[0]
    record = play_game(job)
    assert is_errored(record)
    assert record["error"].startswith("RetrievalError: expected a JSON answer from")
    assert "score_a" not in record
