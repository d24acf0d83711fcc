"""A retrieval server speaking Search-R1's protocol, over any local retriever.

Serve a corpus so that several trainer processes (or another machine) share one index::

    python -m selfplay_envs.games.search_qa.search.server --corpus foldoc --port 8000

then ``selfplay_envs.make("search_qa_v0", retriever_url="http://127.0.0.1:8000")``.
The protocol is the one in ``remote.py``: ``POST /retrieve`` with
``{"queries": [...], "topk": k, "return_scores": bool}``; each document is
``{"id", "contents": "\\"Title\\"\\ntext", "title", "text"}`` so Search-R1's own
clients read it too. Only the standard library is used (``http.server``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from http.server import ThreadingHTTPServer
from typing import Any

from selfplay_envs.games.search_qa.search.retriever import Retriever, SearchHit
from selfplay_envs.servers.http import JsonHandler, serve_until_interrupted

__all__ = ["make_server", "main"]

_MAX_BODY = 16 << 20


def _document(hit: SearchHit) -> dict[str, Any]:
    p = hit.passage
    return {
        "id": p.id,
        "contents": f'"{p.title}"\n{p.text}',
        "title": p.title,
        "text": p.text,
    }


def _answer(retriever: Retriever, body: Any, default_topk: int) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
        raise ValueError("expected a JSON object with a 'queries' list")
    queries = body["queries"]
    if not all(isinstance(q, str) for q in queries):
        raise ValueError("expected every query to be a string")
    topk = body.get("topk") or default_topk
    if not isinstance(topk, int) or topk < 1:
        raise ValueError(f"expected 'topk' to be a positive int, got {topk!r}")
    hits = retriever.search_batch(queries, topk)
    if body.get("return_scores"):
        result = [
            [{"document": _document(h), "score": h.score} for h in q] for q in hits
        ]
    else:
        result = [[_document(h) for h in q] for q in hits]
    return {"result": result}


def make_server(
    retriever: Retriever,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    default_topk: int = 3,
) -> ThreadingHTTPServer:
    """An HTTP server answering ``POST /retrieve`` from ``retriever``.

    ``port=0`` picks a free port: read it from ``server.server_address``. Call
    ``serve_forever()`` (in a thread if you like) and ``shutdown()`` to stop.
    """

    class Handler(JsonHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.rstrip("/") != "/retrieve":
                self.send_json(
                    404, {"error": f"expected POST /retrieve, got {self.path}"}
                )
                return
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= _MAX_BODY:
                self.send_json(
                    400, {"error": f"expected a body of 1..{_MAX_BODY} bytes"}
                )
                return
            try:
                body = json.loads(self.rfile.read(length))
                self.send_json(200, _answer(retriever, body, default_topk))
            except (ValueError, json.JSONDecodeError) as e:
                self.send_json(400, {"error": str(e)})

    return ThreadingHTTPServer((host, port), Handler)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve a corpus: ``--corpus foldoc | synthetic | path/to/corpus.jsonl[.gz]``."""
    from selfplay_envs.games.search_qa.corpora import load_retriever

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", default="foldoc", help="foldoc, synthetic or a JSONL path"
    )
    parser.add_argument(
        "--corpus-size", type=int, default=2000, help="synthetic entities"
    )
    parser.add_argument("--corpus-seed", type=int, default=0, help="synthetic seed")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument(
        "--topk", type=int, default=3, help="default when a request has none"
    )
    parser.add_argument("--cache-dir", default=None, help="index cache; '' for none")
    args = parser.parse_args(argv)
    retriever = load_retriever(
        args.corpus,
        corpus_size=args.corpus_size,
        corpus_seed=args.corpus_seed,
        cache_dir=args.cache_dir,
    )
    server = make_server(retriever, args.host, args.port, default_topk=args.topk)
    host, port = server.server_address[:2]
    serve_until_interrupted(server, f"serving {retriever.name} on http://{host}:{port}")


if __name__ == "__main__":
    main()
