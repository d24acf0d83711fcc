"""The remote backend against a real Search-R1-protocol server on loopback.

The server is our own ``python -m selfplay_envs.games.search_qa.search.server``, run as
a separate process, so the client, the HTTP layer and the protocol are all real.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import selfplay_envs
from selfplay_envs.games.search_qa.search.corpus import read_jsonl, write_jsonl
from selfplay_envs.games.search_qa.search.remote import RemoteRetriever, RetrievalError
from selfplay_envs.games.search_qa.search.retriever import LocalRetriever
from selfplay_envs.games.search_qa.synthetic import SyntheticEncyclopedia

QUERIES = [
    "capital city",
    "born in the city",
    "software company founded",
    "zzzz nothing",
]


@pytest.fixture(scope="module")
def corpus_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("remote") / "corpus.jsonl"
    return write_jsonl(SyntheticEncyclopedia(150, seed=5).corpus(), path)


@pytest.fixture(scope="module")
def server_url(corpus_path: Path) -> Iterator[str]:
    command = [
        sys.executable,
        "-m",
        "selfplay_envs.games.search_qa.search.server",
        "--corpus",
        str(corpus_path),
        "--port",
        "0",
        "--cache-dir",
        "",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline()  # "serving ... on http://127.0.0.1:PORT"
        assert " on http://127.0.0.1:" in line, process.stderr.read()
        yield line.rsplit(" on ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def _post(url: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{url}/retrieve", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_remote_results_equal_local_results(server_url: str, corpus_path: Path) -> None:
    local = LocalRetriever.from_corpus(read_jsonl(corpus_path), cache_dir=False)
    remote = RemoteRetriever(server_url)
    for k in (1, 3, 5):
        got = remote.search_batch(QUERIES, k)
        want = local.search_batch(QUERIES, k)
        assert [[h.passage for h in q] for q in got] == [
            [h.passage for h in q] for q in want
        ]
        assert [[round(h.score, 4) for h in q] for q in got] == [
            [round(h.score, 4) for h in q] for q in want
        ]
    assert remote.search("zzzz nothing", 3) == []


def test_server_speaks_search_r1_wire_format(server_url: str) -> None:
    status, body = _post(
        server_url, json.dumps({"queries": ["capital city"], "topk": 2}).encode()
    )
    assert status == 200
    (hits,) = body["result"]
    assert len(hits) == 2
    first = hits[0]  # without return_scores: bare documents, as Search-R1's server
    title, _, text = first["contents"].partition("\n")
    assert title == f'"{first["title"]}"' and text == first["text"]
    status, body = _post(
        server_url,
        json.dumps({"queries": ["a", "b"], "topk": 1, "return_scores": True}).encode(),
    )
    assert status == 200 and len(body["result"]) == 2
    assert all(set(hit) == {"document", "score"} for q in body["result"] for hit in q)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{broken", "Expecting"),
        (b'{"topk": 3}', "expected a JSON object with a 'queries' list"),
        (b'{"queries": [1], "topk": 3}', "expected every query to be a string"),
        (b'{"queries": ["x"], "topk": -2}', "expected 'topk' to be a positive int"),
    ],
    ids=["not-json", "no-queries", "bad-query", "bad-topk"],
)
def test_server_rejects_bad_requests_with_400(
    server_url: str, body: bytes, message: str
) -> None:
    status, answer = _post(server_url, body)
    assert status == 400 and message in answer["error"]


def test_client_reports_out_of_protocol_answers(server_url: str) -> None:
    with pytest.raises(RetrievalError, match="expected HTTP 200"):
        RemoteRetriever(
            server_url.replace("127.0.0.1", "localhost") + "/nowhere"
        ).search("x")


def test_unreachable_server_raises_after_retries() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nobody listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = RemoteRetriever(
        f"http://127.0.0.1:{port}", timeout=2, retries=1, backoff=0.01
    )
    with pytest.raises(RetrievalError, match="after 2 tries"):
        client.search("anything")
    with pytest.raises(ValueError, match="expected an http"):
        RemoteRetriever("ftp://example")


def test_env_searches_through_the_server(server_url: str, corpus_path: Path) -> None:
    env = selfplay_envs.make(
        "search_qa_v0", corpus=str(corpus_path), retriever_url=server_url, cache_dir=""
    )
    env.reset(seed=3)
    target = env.infos["player_0"]["target"]
    env.step(f"<search>{target}</search>")
    evidence = env.infos["player_0"]["evidence"]
    local = LocalRetriever.from_corpus(read_jsonl(corpus_path), cache_dir=False)
    assert [p["id"] for p in evidence] == [
        h.passage.id for h in local.search(target, 3)
    ]
    assert (
        f"<information>Doc 1(Title: {evidence[0]['title']})"
        in env.observe("player_0")["text"]
    )
