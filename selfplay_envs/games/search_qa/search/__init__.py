"""The search engine of ``search_qa``: corpora, the BM25 index, local and remote retrievers."""

from selfplay_envs.games.search_qa.search.bm25 import BM25Index, BM25Params
from selfplay_envs.games.search_qa.search.corpus import (
    Corpus,
    CorpusFormatError,
    Passage,
    read_jsonl,
    write_jsonl,
)
from selfplay_envs.games.search_qa.search.remote import RemoteRetriever, RetrievalError
from selfplay_envs.games.search_qa.search.retriever import (
    LocalRetriever,
    Retriever,
    SearchHit,
    cached_index,
    default_cache_dir,
)

__all__ = [
    "BM25Index",
    "BM25Params",
    "Corpus",
    "CorpusFormatError",
    "LocalRetriever",
    "Passage",
    "RemoteRetriever",
    "RetrievalError",
    "Retriever",
    "SearchHit",
    "cached_index",
    "default_cache_dir",
    "read_jsonl",
    "write_jsonl",
]
