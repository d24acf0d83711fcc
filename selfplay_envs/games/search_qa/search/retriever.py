"""Retrievers: the one interface the game searches through, and the local BM25 one.

``LocalRetriever`` searches a ``Corpus`` with a ``BM25Index`` built once per corpus and
cached on disk under a key made of the corpus's content hash and the BM25 parameters:
change one byte of the corpus and the next load builds a new index. Cache directories
are written under a temporary name and renamed into place, so concurrent processes
never see half an index.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from selfplay_envs.games.search_qa.search.bm25 import BM25Index, BM25Params
from selfplay_envs.games.search_qa.search.corpus import Corpus, Passage

__all__ = [
    "SearchHit",
    "Retriever",
    "LocalRetriever",
    "default_cache_dir",
    "cached_index",
]

CACHE_ENV = "SELFPLAY_ENVS_CACHE"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SearchHit:
    """One retrieved passage with its score and 1-based rank."""

    passage: Passage
    score: float
    rank: int


@runtime_checkable
class Retriever(Protocol):
    """Anything that answers a batch of queries with ranked passages."""

    name: str

    def search_batch(self, queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        """Top-``k`` hits of each query, best first."""
        ...


def default_cache_dir() -> Path:
    """``$SELFPLAY_ENVS_CACHE/search``, else ``~/.cache/selfplay_envs/search``."""
    root = os.environ.get(CACHE_ENV)
    base = Path(root) if root else Path.home() / ".cache" / "selfplay_envs"
    return base / "search"


def cache_key(corpus: Corpus, params: BM25Params) -> str:
    """Directory name of ``corpus``'s index: content hash plus parameters."""
    return f"{corpus.content_hash[:40]}-{params.key()}"


def cached_index(
    corpus: Corpus,
    *,
    cache_dir: str | Path | None = None,
    params: BM25Params | None = None,
) -> tuple[BM25Index, bool]:
    """Open ``corpus``'s index from the cache, building and saving it on a miss.

    Args:
        corpus: The passages to index.
        cache_dir: Where indexes live; ``None`` for ``default_cache_dir()``.
        params: BM25 parameters (part of the cache key).

    Returns:
        The index and whether it came from the cache.
    """
    params = params or BM25Params()
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / cache_key(corpus, params)
    if (target / "manifest.json").is_file():
        index = BM25Index.load(target)
        if index.num_docs == len(corpus):
            return index, True
    index = _build(corpus, params)
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        index.save(scratch)
        try:
            os.replace(scratch, target)
        except OSError:
            # Another process renamed its copy first (or a stale one is there): keep
            # the valid one, which holds the same index, and drop ours.
            if not (target / "manifest.json").is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.replace(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return index, False


def _build(corpus: Corpus, params: BM25Params) -> BM25Index:
    texts = [corpus.search_text(i) for i in range(len(corpus))]
    return BM25Index.build(texts, params)


class LocalRetriever:
    """BM25 over a corpus in this process.

    Args:
        corpus: The passages.
        index: Its BM25 index (``index.num_docs == len(corpus)``).

    Attributes:
        from_cache: Whether the index was opened from the disk cache.
    """

    def __init__(self, corpus: Corpus, index: BM25Index, *, from_cache: bool = False):
        if index.num_docs != len(corpus):
            raise ValueError(
                f"expected an index of {len(corpus)} passages, got {index.num_docs}"
            )
        self.corpus = corpus
        self.index = index
        self.from_cache = from_cache
        self.name = f"bm25:{corpus.name}"

    @classmethod
    def from_corpus(
        cls,
        corpus: Corpus,
        *,
        cache_dir: str | Path | None | bool = None,
        params: BM25Params | None = None,
    ) -> LocalRetriever:
        """Index ``corpus``: from the disk cache, or built and cached.

        ``cache_dir=False`` builds in memory and writes nothing.
        """
        if cache_dir is False:
            return cls(corpus, _build(corpus, params or BM25Params()))
        directory = None if cache_dir in (None, True) else cache_dir
        index, hit = cached_index(corpus, cache_dir=directory, params=params)
        return cls(corpus, index, from_cache=hit)

    def search(self, query: str, k: int = 3) -> list[SearchHit]:
        """Top-``k`` passages of one query."""
        docs, scores = self.index.search(query, k)
        return [
            SearchHit(passage=self.corpus[int(d)], score=float(s), rank=r + 1)
            for r, (d, s) in enumerate(zip(docs, scores, strict=True))
        ]

    def search_batch(self, queries: Sequence[str], k: int) -> list[list[SearchHit]]:
        """Top-``k`` passages of each query."""
        return [self.search(q, k) for q in queries]
