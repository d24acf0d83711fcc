"""A client of Search-R1's retrieval-server protocol.

Search-R1 (and SSP, which builds on it) serve retrieval over HTTP::

    POST /retrieve  {"queries": ["q1", "q2"], "topk": 3, "return_scores": true}
    ->  {"result": [[{"document": {"id": "...", "contents": "\\"Title\\"\\ntext"},
                      "score": 12.3}, ...], ...]}

Without ``return_scores`` each hit is the bare document. ``RemoteRetriever`` speaks
this, so any Search-R1-compatible server (a dense E5 index over Wikipedia, or our own
``python -m selfplay_envs.games.search_qa.search.server``) can back the game.
Documents may also carry ``title`` and ``text`` instead of ``contents``.

Only the standard library is used (``urllib``). Transient failures (connection
refused, timeouts, HTTP 5xx, a broken HTTP answer) are retried with exponential
backoff; a malformed answer is not retried. Either way the search raises
``RetrievalError``, an ``InfrastructureError``: a server that is down or answers out of
protocol is never a game result (it is not "no hits"). The message names the URL, what
went wrong and how to fix it.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from selfplay_envs.core.errors import InfrastructureError
from selfplay_envs.games.search_qa.search.corpus import Passage
from selfplay_envs.games.search_qa.search.retriever import SearchHit

__all__ = ["RemoteRetriever", "RetrievalError", "parse_document"]


class RetrievalError(InfrastructureError):
    """The retrieval server could not be reached or answered out of protocol.

    An infrastructure failure, never a search result: the arena records the game as
    errored with this message.
    """


def _fix(url: str) -> str:
    return (
        f"retriever_url={url!r} must point at a running Search-R1 retrieval server "
        "(POST /retrieve); start one with `python -m "
        "selfplay_envs.games.search_qa.search.server --port PORT`, or drop "
        "retriever_url to search the local index"
    )


class _TransientError(Exception):
    """A failure worth retrying."""


class RemoteRetriever:
    """Search through a Search-R1-compatible retrieval server.

    Args:
        url: The server's base URL (``http://host:port``) or its ``/retrieve`` URL.
        timeout: Seconds to wait for one HTTP answer.
        retries: Further tries after a transient failure.
        backoff: Seconds before the first retry; doubled each time.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.25,
    ):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {url!r}")
        url = url.rstrip("/")
        self.url = url if url.endswith("/retrieve") else f"{url}/retrieve"
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.name = f"remote:{self.url}"

    def search(self, query: str, k: int = 3) -> list[SearchHit]:
        """Top-``k`` passages of one query."""
        return self.search_batch([query], k)[0]

    def search_batch(self, queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        """One request for all ``queries``; top-``k`` hits of each, best first."""
        if not queries:
            return []
        payload = {"queries": list(queries), "topk": int(k), "return_scores": True}
        body = self._post(payload)
        result = body.get("result") if isinstance(body, dict) else None
        if not isinstance(result, list) or len(result) != len(queries):
            got = len(result) if isinstance(result, list) else type(result).__name__
            raise RetrievalError(
                f"expected 'result' with {len(queries)} lists from {self.url}, "
                f"got {got}: {_fix(self.url)}"
            )
        return [_hits(items, k, self.url) for items in result]

    def _post(self, payload: dict[str, Any]) -> Any:
        data = json.dumps(payload).encode()
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return self._post_once(data)
            except _TransientError as e:
                if attempt == self.retries:
                    raise RetrievalError(
                        f"expected an answer from {self.url}, got {e} "
                        f"after {self.retries + 1} tries: the retrieval server is "
                        f"down or failing; {_fix(self.url)}"
                    ) from e
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _post_once(self, data: bytes) -> Any:
        request = urllib.request.Request(
            self.url, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            detail = e.read()[:200].decode(errors="replace")
            if e.code >= 500:
                raise _TransientError(f"HTTP {e.code}: {detail}") from e
            raise RetrievalError(
                f"expected HTTP 200 from {self.url}, got {e.code}: {detail}; "
                f"{_fix(self.url)}"
            ) from e
        except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
            raise _TransientError(str(getattr(e, "reason", e))) from e
        except http.client.HTTPException as e:  # not HTTP at all, or cut short
            raise _TransientError(f"a broken HTTP answer ({e!r})") from e
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise RetrievalError(
                f"expected a JSON answer from {self.url}, got {raw[:80]!r}; "
                f"{_fix(self.url)}"
            ) from e


def parse_document(doc: Any, where: str = "") -> Passage:
    """A ``Passage`` from one protocol document (``contents`` or ``title``+``text``)."""
    if not isinstance(doc, dict):
        raise RetrievalError(
            f"expected a document object{where}, got {type(doc).__name__}"
        )
    if isinstance(doc.get("title"), str) and isinstance(doc.get("text"), str):
        title, text = doc["title"], doc["text"]
    elif isinstance(doc.get("contents"), str):
        first, _, text = doc["contents"].partition("\n")
        title = first.strip().strip('"')
    else:
        raise RetrievalError(
            f"expected 'contents' or 'title' and 'text' in a document{where}, "
            f"got keys {sorted(doc)}"
        )
    pid = doc.get("id")
    if pid is None:
        # Some servers omit ids; a content hash keeps them stable and distinct.
        pid = "sha1:" + hashlib.sha1(f"{title}\n{text}".encode()).hexdigest()[:16]
    return Passage(id=str(pid), title=title, text=text)


def _hits(items: Any, k: int, url: str) -> list[SearchHit]:
    if not isinstance(items, list):
        raise RetrievalError(
            f"expected a list of hits from {url}, got {type(items).__name__}; "
            f"{_fix(url)}"
        )
    hits = []
    for rank, item in enumerate(items[:k], start=1):
        where = f" (hit {rank} from {url})"
        scored = isinstance(item, dict) and "document" in item
        try:
            passage = parse_document(item["document"] if scored else item, where)
        except RetrievalError as e:
            raise RetrievalError(f"{e}; {_fix(url)}") from None
        raw_score = item.get("score", 0.0) if scored else 0.0
        try:
            score = float(raw_score)
        except (TypeError, ValueError):
            raise RetrievalError(
                f"expected a numeric score{where}, got {raw_score!r}; {_fix(url)}"
            ) from None
        hits.append(SearchHit(passage=passage, score=score, rank=rank))
    return hits
