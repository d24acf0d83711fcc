"""An in-process BM25 index on NumPy arrays, with exact MaxScore top-k.

Why our own (``benchmarks/bench_search.py`` has the numbers): at a million passages
the query latency is dominated by how many postings a query touches, not by the
language it is written in. Scores are precomputed per posting at build time, as in
``bm25s``; queries then use MaxScore (Turtle and Flood, 1995): the rarest query terms
give a first top-k and a score threshold, terms whose best possible contribution cannot
lift a document over that threshold are never scanned, and the remaining candidates
are scored exactly by binary search in each posting list. The result is the exact BM25
top-k, identical to scoring every document, with ties broken by passage position.

Scoring is Lucene's BM25: ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))`` and
``tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))``, summed over the query's
terms (a term repeated in the query counts again).

The arrays live in ``.npy`` files so a cached index opens memory-mapped, in
milliseconds, whatever its size.
"""

from __future__ import annotations

import dataclasses
import json
from array import array
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from selfplay_envs.games.search_qa.search.tokenize import (
    ANALYZER_VERSION,
    STOPWORDS,
    raw_tokens,
    stem,
    tokenize,
)

__all__ = ["BM25Params", "BM25Index"]

_FORMAT_VERSION = 1
# Below this many postings a query is scored exhaustively; above it MaxScore prunes.
_EXHAUSTIVE_POSTINGS = 16_384
# Postings of the rarest terms that seed the first threshold.
_SEED_POSTINGS = 8_192
# Above this many candidates, scoring into a dense array beats binary search.
_DENSE_CANDIDATES = 8192


@dataclasses.dataclass(frozen=True, kw_only=True)
class BM25Params:
    """BM25's free parameters (Lucene's defaults)."""

    k1: float = 1.2
    b: float = 0.75

    def key(self) -> str:
        """A string that names these parameters and the analyzer in cache keys."""
        return f"bm25-k1={self.k1}-b={self.b}-analyzer={ANALYZER_VERSION}-f{_FORMAT_VERSION}"


class BM25Index:
    """Posting lists of precomputed BM25 weights; see the module docstring.

    Build with ``BM25Index.build(texts)``; open a saved one with ``BM25Index.load``.

    Attributes:
        num_docs: Number of indexed documents (passages).
        params: The BM25 parameters the weights were computed with.
    """

    def __init__(
        self,
        *,
        terms: Sequence[str],
        indptr: np.ndarray,
        docs: np.ndarray,
        weights: np.ndarray,
        max_weight: np.ndarray,
        num_docs: int,
        params: BM25Params,
    ):
        self.terms = list(terms)
        self.vocab = {t: i for i, t in enumerate(self.terms)}
        self.indptr = indptr
        self.docs = docs
        self.weights = weights
        self.max_weight = max_weight
        self.num_docs = num_docs
        self.params = params

    # ---- building ---------------------------------------------------------------------

    @classmethod
    def build(cls, texts: Sequence[str], params: BM25Params | None = None) -> BM25Index:
        """Index ``texts``; document ``i`` of the index is ``texts[i]``."""
        params = params or BM25Params()
        raw_ids, lengths, raw_vocab = _raw_token_ids(texts)
        terms, term_of_raw = _analyze_vocab(raw_vocab)
        term_ids = term_of_raw[raw_ids]
        doc_ids = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)
        keep = term_ids >= 0
        term_ids, doc_ids = term_ids[keep], doc_ids[keep]
        doc_len = np.bincount(doc_ids, minlength=len(texts)).astype(np.float64)
        # A stable sort by term keeps each term's documents in ascending order.
        order = np.argsort(term_ids, kind="stable")
        term_ids, doc_ids = term_ids[order], doc_ids[order]
        del order
        starts = np.flatnonzero(
            np.r_[True, (term_ids[1:] != term_ids[:-1]) | (doc_ids[1:] != doc_ids[:-1])]
        )
        tf = np.diff(np.r_[starts, len(term_ids)]).astype(np.float64)
        post_terms, post_docs = term_ids[starts], doc_ids[starts]
        del term_ids, doc_ids
        df = np.bincount(post_terms, minlength=len(terms))
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        n = len(texts)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        avg_len = max(float(doc_len.mean()) if n else 0.0, 1e-9)
        norm = params.k1 * (1.0 - params.b + params.b * doc_len[post_docs] / avg_len)
        weights = (idf[post_terms] * tf * (params.k1 + 1.0) / (tf + norm)).astype(
            np.float32
        )
        nonempty = indptr[:-1][df > 0]
        max_weight = np.zeros(len(terms), dtype=np.float32)
        if len(weights):
            max_weight[df > 0] = np.maximum.reduceat(weights, nonempty)
        return cls(
            terms=terms,
            indptr=indptr,
            docs=post_docs.astype(np.int32),
            weights=weights,
            max_weight=max_weight,
            num_docs=n,
            params=params,
        )

    # ---- saving and loading -----------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write the index as ``.npy`` arrays plus the term list and a manifest."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in ("indptr", "docs", "weights", "max_weight"):
            np.save(directory / f"{name}.npy", getattr(self, name))
        (directory / "terms.txt").write_text("\n".join(self.terms), encoding="utf-8")
        manifest = {
            "format": _FORMAT_VERSION,
            "num_docs": self.num_docs,
            "num_terms": len(self.terms),
            "k1": self.params.k1,
            "b": self.params.b,
            "analyzer": ANALYZER_VERSION,
        }
        (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, mmap: bool = True) -> BM25Index:
        """Open an index written by ``save``; arrays are memory-mapped by default."""
        directory = Path(directory)
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != _FORMAT_VERSION:
            raise ValueError(
                f"expected index format {_FORMAT_VERSION}, got {manifest.get('format')} "
                f"in {directory}"
            )
        mode = "r" if mmap else None
        arrays = {
            name: np.load(directory / f"{name}.npy", mmap_mode=mode)
            for name in ("indptr", "docs", "weights", "max_weight")
        }
        text = (directory / "terms.txt").read_text(encoding="utf-8")
        terms = text.split("\n") if text else []
        if len(terms) != manifest["num_terms"]:
            raise ValueError(
                f"expected {manifest['num_terms']} terms in {directory}, got {len(terms)}"
            )
        params = BM25Params(k1=manifest["k1"], b=manifest["b"])
        return cls(terms=terms, num_docs=manifest["num_docs"], params=params, **arrays)

    # ---- searching --------------------------------------------------------------------

    def query_terms(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """Term ids of ``query`` known to the index, ascending, and their counts."""
        ids = [self.vocab[t] for t in tokenize(query) if t in self.vocab]
        if not ids:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        terms, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
        return terms, counts.astype(np.float64)

    def search(self, query: str, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """The exact BM25 top-``k``: document positions and scores, best first.

        Documents that share no term with the query are never returned, so fewer than
        ``k`` results come back when fewer documents match.
        """
        if k < 1:
            raise ValueError(f"expected k >= 1, got {k}")
        terms, qtf = self.query_terms(query)
        if not len(terms):
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        lo, hi = self.indptr[terms], self.indptr[terms + 1]
        if int((hi - lo).sum()) <= _EXHAUSTIVE_POSTINGS:
            return self._exhaustive(lo, hi, qtf, k)
        return self._maxscore(terms, lo, hi, qtf, k)

    def score(self, query: str, docs: np.ndarray) -> np.ndarray:
        """BM25 scores of ``query`` for the given document positions."""
        terms, qtf = self.query_terms(query)
        lo, hi = self.indptr[terms], self.indptr[terms + 1]
        return self._score_candidates(np.asarray(docs, np.int64), lo, hi, qtf)

    def _exhaustive(self, lo, hi, qtf, k) -> tuple[np.ndarray, np.ndarray]:
        # Concatenated in term order, so each document's sum runs in term order, as in
        # the other two paths: equal scores stay bit-identical and ties stay ties.
        docs = np.concatenate([self.docs[a:b] for a, b in zip(lo, hi, strict=True)])
        weights = np.concatenate(
            [
                self.weights[a:b].astype(np.float64) * q
                for a, b, q in zip(lo, hi, qtf, strict=True)
            ]
        )
        unique, inverse = np.unique(docs, return_inverse=True)
        return _top_k(unique, np.bincount(inverse, weights), k)

    def _maxscore(self, terms, lo, hi, qtf, k) -> tuple[np.ndarray, np.ndarray]:
        df = hi - lo
        rare_first = np.argsort(df, kind="stable")
        # The rarest term, then more while their postings stay within the seed budget.
        seeded = np.searchsorted(
            np.cumsum(df[rare_first]), _SEED_POSTINGS, side="right"
        )
        seed_terms = rare_first[: max(1, seeded)]
        if seeded == 0:
            # Even the rarest term is common: its best-weighted postings are enough
            # to set a threshold (any real documents give a valid one), without
            # scoring the whole list twice.
            seed = self._best_postings(rare_first[0], lo, hi)
            seed_terms = rare_first[:0]  # its postings are not all in the seed
        else:
            seed = _union([self.docs[lo[t] : hi[t]] for t in seed_terms])
        seed_scores = self._score_candidates(seed, lo, hi, qtf)
        threshold = _kth_largest(seed_scores, k) if len(seed) >= k else 0.0
        # Non-essential terms: the smallest upper bounds whose sum cannot reach the
        # threshold. A document found only in them cannot enter the top k.
        bound = self.max_weight[terms].astype(np.float64) * qtf
        by_bound = np.argsort(bound, kind="stable")
        # The margin keeps float rounding of the bound sums from dropping an exact tie.
        non_essential = by_bound[np.cumsum(bound[by_bound]) < threshold * (1 - 1e-9)]
        essential = np.setdiff1d(
            np.arange(len(terms)), np.union1d(non_essential, seed_terms)
        )
        if not len(essential):
            return _top_k(seed, seed_scores, k)
        parts = [seed] + [self.docs[lo[t] : hi[t]] for t in essential]
        if sum(len(p) for p in parts) > _DENSE_CANDIDATES:
            return self._dense(lo, hi, qtf, k, threshold)
        candidates = _union(parts)
        return _top_k(candidates, self._score_candidates(candidates, lo, hi, qtf), k)

    def _best_postings(self, term: int, lo, hi) -> np.ndarray:
        """Up to ``_SEED_POSTINGS`` documents among the best-weighted of ``term``."""
        weights = self.weights[lo[term] : hi[term]]
        cut = float(weights.max())
        picked = np.zeros(0, dtype=np.int64)
        # A linear scan per cut: selection (partition) is slow on long runs of ties.
        for fraction in (0.95, 0.8, 0.5, 0.0):
            picked = np.flatnonzero(weights >= cut * fraction)
            if len(picked) >= _SEED_POSTINGS or fraction == 0.0:
                break
        return self.docs[lo[term] : hi[term]][picked[:_SEED_POSTINGS]].astype(np.int64)

    def _score_candidates(self, candidates, lo, hi, qtf) -> np.ndarray:
        scores = np.zeros(len(candidates), dtype=np.float64)
        for a, b, q in zip(lo, hi, qtf, strict=True):
            postings = self.docs[a:b]
            pos = np.searchsorted(postings, candidates)
            pos[pos == len(postings)] = 0
            hit = postings[pos] == candidates
            scores[hit] += self.weights[a:b][pos[hit]].astype(np.float64) * q
        return scores

    def _dense(self, lo, hi, qtf, k, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """Score every posting into one array; keep documents at the threshold or above.

        The seed's k-th score is a lower bound of the final k-th score, so no
        document below it can make the top k.
        """
        scores = np.zeros(self.num_docs, dtype=np.float64)
        for a, b, q in zip(lo, hi, qtf, strict=True):
            scores[self.docs[a:b]] += self.weights[a:b].astype(np.float64) * q
        if threshold > 0:
            candidates = np.flatnonzero(scores >= threshold)
        else:
            candidates = np.flatnonzero(scores)
        return _top_k(candidates, scores[candidates], k)


def _union(parts: list[np.ndarray]) -> np.ndarray:
    if len(parts) == 1:
        return np.asarray(parts[0], dtype=np.int64)  # a posting list is sorted, unique
    return np.unique(np.concatenate(parts)).astype(np.int64)


def _kth_largest(scores: np.ndarray, k: int) -> float:
    """The k-th largest value; by repeated maxima when k is small and ties are many.

    ``np.partition`` slows down badly on long runs of equal values, which one-word
    queries over similar passages produce; k (the search depth) is small.
    """
    if len(scores) <= 4096 or k > 8:
        return float(np.partition(scores, -k)[-k])
    value = scores.max()
    count = int(np.count_nonzero(scores == value))
    while count < k:
        value = scores[scores < value].max()
        count += int(np.count_nonzero(scores == value))
    return float(value)


def _top_k(
    docs: np.ndarray, scores: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` by score, ties by ascending document position (deterministic).

    Linear time even when a whole posting list ties (a one-word query over similar
    passages): only the tied documents that make the cut are sorted.
    """
    if len(docs) > k:
        kth = _kth_largest(scores, k)
        above = scores > kth
        tied = docs[scores == kth]
        need = k - int(above.sum())
        if len(tied) > need:
            tied = np.partition(tied, need - 1)[:need]
        docs = np.concatenate([docs[above], tied])
        scores = np.concatenate([scores[above], np.full(len(tied), kth)])
    order = np.lexsort((docs, -scores))[:k]
    return docs[order].astype(np.int64), scores[order]


class _Vocab(dict):
    """Token -> id, assigning the next id to an unseen token (at C speed via map)."""

    def __missing__(self, token: bytes) -> int:
        value = self[token] = len(self)
        return value


# ASCII text tokenizes as bytes: every byte that is not a letter or digit becomes a
# space, then split. That is what ``raw_tokens``'s regex does on ASCII, 5x faster.
_NOT_ALNUM = bytes(i for i in range(128) if not chr(i).isalnum())
_TO_SPACE = bytes.maketrans(_NOT_ALNUM, b" " * len(_NOT_ALNUM))


def _raw_token_ids(
    texts: Sequence[str],
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Raw token ids of every text, flattened, and the token count of each text."""
    vocab = _Vocab()
    lookup = vocab.__getitem__
    ids = array("i")
    lengths = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        if text.isascii():
            tokens = text.encode().lower().translate(_TO_SPACE).split()
        else:
            tokens = [t.encode() for t in raw_tokens(text)]
        lengths[i] = len(tokens)
        ids.extend(map(lookup, tokens))
    flat = np.frombuffer(ids, dtype=np.int32) if len(ids) else np.zeros(0, np.int32)
    return flat, lengths, {token.decode(): i for token, i in vocab.items()}


def _analyze_vocab(raw_vocab: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """Map each raw token to its analyzed term id (-1 for stop words)."""
    terms: dict[str, int] = {}
    term_of_raw = np.full(len(raw_vocab), -1, dtype=np.int32)
    for token, raw_id in raw_vocab.items():
        if token not in STOPWORDS:
            term_of_raw[raw_id] = terms.setdefault(stem(token), len(terms))
    return list(terms), term_of_raw
