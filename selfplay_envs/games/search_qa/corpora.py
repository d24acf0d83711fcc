"""Which corpus and which retriever a game searches, resolved once per process.

A ``BackendSpec`` names the corpus (``"synthetic"``, ``"foldoc"`` or a JSONL path), the
synthetic encyclopedia's size and seed, an optional remote retrieval server and the
index cache directory. ``get_backend`` builds the ``SearchBackend`` for a spec once per
process and hands the same object to every env that asks, so a vector of a hundred
envs holds one index. A backend pickles as its spec: an unpickled env (a subprocess
worker, a checkpoint) reopens the index from the disk cache instead of copying it.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from pathlib import Path

from selfplay_envs.core.assets import assets_dir
from selfplay_envs.games.search_qa.search.corpus import Corpus, read_jsonl
from selfplay_envs.games.search_qa.search.remote import RemoteRetriever
from selfplay_envs.games.search_qa.search.retriever import LocalRetriever, Retriever
from selfplay_envs.games.search_qa.synthetic import Fact, SyntheticEncyclopedia

__all__ = [
    "BackendSpec",
    "SearchBackend",
    "get_backend",
    "load_retriever",
    "assets_dir",
    "foldoc_path",
]

_SYNTHETIC_ID = re.compile(r"^syn-(\d+)-(\d+)$")
_BACKENDS: dict[BackendSpec, SearchBackend] = {}
_LOCK = threading.Lock()


def foldoc_path() -> Path:
    """The shipped FOLDOC corpus (built by ``envs_assets/corpora/build_foldoc.py``)."""
    return assets_dir() / "corpora" / "foldoc.jsonl.gz"


@dataclasses.dataclass(frozen=True, kw_only=True)
class BackendSpec:
    """Everything that determines a backend; hashable, so it keys the process cache.

    Attributes:
        corpus: ``"synthetic"``, ``"foldoc"`` or a path to a JSONL corpus.
        corpus_size: Entities of the synthetic encyclopedia.
        corpus_seed: Seed of the synthetic encyclopedia.
        retriever_url: A Search-R1 retrieval server to search instead of the local
            index; the local corpus still supplies target answers and facts.
        cache_dir: Index cache directory; ``None`` for the default, ``""`` for none.
    """

    corpus: str = "synthetic"
    corpus_size: int = 2000
    corpus_seed: int = 0
    retriever_url: str | None = None
    cache_dir: str | None = None


class SearchBackend:
    """A corpus, its retriever, the answer pool and (for synthetic corpora) the facts.

    Attributes:
        spec: What this backend was built from.
        corpus: The local passages (target answers, distractors, facts).
        retriever: What searches go to: BM25 here, or a remote server.
        kb: The synthetic encyclopedia, when the corpus is synthetic.
    """

    def __init__(self, spec: BackendSpec):
        self.spec = spec
        self.kb: SyntheticEncyclopedia | None = None
        if spec.corpus == "synthetic":
            self.kb = SyntheticEncyclopedia(spec.corpus_size, spec.corpus_seed)
            self.corpus = self.kb.corpus()
        elif spec.corpus == "foldoc":
            self.corpus = read_jsonl(foldoc_path(), name="foldoc")
        else:
            self.corpus = read_jsonl(spec.corpus)
        self.retriever: Retriever
        if spec.retriever_url:
            self.retriever = RemoteRetriever(spec.retriever_url)
        else:
            cache: str | bool | None = False if spec.cache_dir == "" else spec.cache_dir
            self.retriever = LocalRetriever.from_corpus(self.corpus, cache_dir=cache)
        self._answers: list[str] | None = None

    def __reduce__(self):
        return (get_backend, (self.spec,))

    def answer_pool(self) -> list[str]:
        """Candidate target answers: entities that some fact points to, or titles."""
        if self._answers is None:
            if self.kb is not None:
                self._answers = self.kb.answer_pool()
            else:
                self._answers = _title_pool(self.corpus)
        return self._answers

    def facts(self, passage_id: str) -> list[Fact] | None:
        """The facts a synthetic passage states, or ``None`` for other corpora."""
        if self.kb is None:
            return None
        match = _SYNTHETIC_ID.match(passage_id)
        index = self.corpus.index_of(passage_id) if match else None
        return self.kb.passage_facts(index) if index is not None else None


def _title_pool(corpus: Corpus) -> list[str]:
    """Distinct titles that make sensible answers: 2-60 characters, some letter."""
    seen: dict[str, None] = {}
    for title in corpus.titles:
        if 2 <= len(title) <= 60 and any(ch.isalpha() for ch in title):
            seen.setdefault(title, None)
    return list(seen)


def get_backend(spec: BackendSpec) -> SearchBackend:
    """The process-wide backend of ``spec``, built on first use."""
    backend = _BACKENDS.get(spec)
    if backend is None:
        with _LOCK:
            backend = _BACKENDS.get(spec)
            if backend is None:
                backend = _BACKENDS[spec] = SearchBackend(spec)
    return backend


def load_retriever(
    corpus: str = "foldoc",
    *,
    corpus_size: int = 2000,
    corpus_seed: int = 0,
    cache_dir: str | None = None,
) -> LocalRetriever:
    """A local BM25 retriever over a named corpus (used by the retrieval server)."""
    spec = BackendSpec(
        corpus=corpus,
        corpus_size=corpus_size,
        corpus_seed=corpus_seed,
        cache_dir=cache_dir,
    )
    retriever = get_backend(spec).retriever
    assert isinstance(retriever, LocalRetriever)
    return retriever
