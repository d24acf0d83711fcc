"""An in-process BM25 index on NumPy arrays, with an exact top-k query kernel in C.

Why our own (``benchmarks/bench_search.py`` has the numbers): at a million passages
the query latency is dominated by how many postings a query touches, not by the
language it is written in. Scores are precomputed per posting at build time, as in
``bm25s``, and every posting list is kept twice when it is long: by document (for
lookups) and by weight, best first (impact order). A query then reads only the heads
of its long lists: the threshold algorithm (Fagin et al., 2001) with MaxScore's bound
per document (Turtle and Flood, 1995) stops as soon as no unread posting can lift a
document into the top k. Long runs of equal weights (short passages that share a
word) cost nothing extra: within a weight, postings run by ascending document, so the
tie-break by passage position is decided without reading the run.
``_bm25_kernel.py`` has the algorithm and its exactness argument. The result is the
exact BM25 top-k, identical to scoring every document, with ties broken by passage
position.

Kernels: the query kernel exists twice, with the same algorithm and bit-identical
results: a C extension (``_bm25.c``, built by ``pip install``, loads in milliseconds
and releases the GIL while a query runs) and a numba one (``_bm25_kernel.py``, the
readable reference and the fallback, which costs a fresh process's first search 5-30 s
of compiling, 0.5-3 s from numba's cache). The C one runs when it was built, else
numba with a warning that says why; ``SELFPLAY_BM25_KERNEL=numba`` (or ``c``) forces
one, and :func:`kernel` says which runs.

Scoring is Lucene's BM25: ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))`` and
``tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len))``, summed over the query's
terms (a term repeated in the query counts again).

The arrays live in ``.npy`` files so a cached index opens memory-mapped, in
milliseconds, whatever its size. Nothing here imports numba unless the numba kernel
runs, and then only on the first search (not when an index is built, saved or opened).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import os
import warnings
from array import array
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np

from selfplay_envs.games.search_qa.search.tokenize import (
    ANALYZER_VERSION,
    STOPWORDS,
    raw_tokens,
    stem,
    tokenize,
)

__all__ = ["BM25Params", "BM25Index", "kernel"]

_FORMAT_VERSION = 2
# Posting lists at least this long are also stored in impact order.
_LONG_POSTINGS = 128
# A query reads at most this share of its postings in impact order, then scores them
# all densely instead (one pass, no lookups): the worst case stays a dense scoring.
_IMPACT_BUDGET = 1 / 512
_ARRAYS = (
    "indptr",
    "docs",
    "weights",
    "max_weight",
    "imp_ptr",
    "imp_docs",
    "imp_weights",
)


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
    Term ``t``'s postings are ``docs``/``weights[indptr[t]:indptr[t + 1]]``, documents
    ascending; if that list is long, ``imp_docs``/``imp_weights[imp_ptr[t]:imp_ptr[t +
    1]]`` holds it again by weight descending, then document ascending (else the
    range is empty).

    The C kernel releases the GIL while a query runs, so threads search one index in
    parallel. Each search takes a set of two scratch arrays over the documents from a
    pool (made on demand, so one set per concurrent search) and puts it back.

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
        imp_ptr: np.ndarray,
        imp_docs: np.ndarray,
        imp_weights: np.ndarray,
        num_docs: int,
        params: BM25Params,
    ):
        self.terms = list(terms)
        self.vocab = dict(zip(self.terms, range(len(self.terms)), strict=True))
        self.indptr = indptr
        self.docs = docs
        self.weights = weights
        self.max_weight = max_weight
        self.imp_ptr = imp_ptr
        self.imp_docs = imp_docs
        self.imp_weights = imp_weights
        self.num_docs = num_docs
        self.params = params
        # Plain ndarray views (numba types np.memmap apart); scratch made on demand.
        self._kernel_arrays = tuple(
            np.asarray(a)
            for a in (indptr, docs, weights, max_weight, imp_ptr, imp_docs, imp_weights)
        )
        self._scratch: list[_Scratch] = []

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
        del norm, tf
        nonempty = indptr[:-1][df > 0]
        max_weight = np.zeros(len(terms), dtype=np.float32)
        if len(weights):
            max_weight[df > 0] = np.maximum.reduceat(weights, nonempty)
        imp_ptr, imp_docs, imp_weights = _impact_order(
            post_terms, post_docs, weights, df
        )
        return cls(
            terms=terms,
            indptr=indptr,
            docs=post_docs.astype(np.int32),
            weights=weights,
            max_weight=max_weight,
            imp_ptr=imp_ptr,
            imp_docs=imp_docs,
            imp_weights=imp_weights,
            num_docs=n,
            params=params,
        )

    # ---- saving and loading -----------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write the index as ``.npy`` arrays plus the term list and a manifest."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
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
            name: np.load(directory / f"{name}.npy", mmap_mode=mode) for name in _ARRAYS
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
        get = self.vocab.get
        ids = sorted(i for i in map(get, tokenize(query)) if i is not None)
        terms: list[int] = []
        counts: list[float] = []
        for i in ids:
            if terms and terms[-1] == i:
                counts[-1] += 1.0
            else:
                terms.append(i)
                counts.append(1.0)
        return np.array(terms, dtype=np.int64), np.array(counts, dtype=np.float64)

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
        k = min(k, self.num_docs)  # no more results than documents
        name, lib = _kernel()
        # list.pop and list.append are atomic: concurrent searches never share a set.
        try:
            scratch = self._scratch.pop()
        except IndexError:
            scratch = _Scratch(self.num_docs)
        try:
            if scratch.generation == _MAX_GENERATION:
                scratch.stamp.fill(0)
                scratch.generation = 0
            scratch.generation += 1
            args = (
                *self._kernel_arrays,
                terms,
                qtf,
                k,
                scratch.stamp,
                scratch.generation,
                scratch.acc,
                _IMPACT_BUDGET,
            )
            if name == "c":
                docs, scores = np.empty(k, np.int64), np.empty(k, np.float64)
                n = lib.search(*args, docs, scores)
                return docs[:n], scores[:n]
            docs, scores, _ = lib.search(*args)
            return docs, scores
        finally:
            self._scratch.append(scratch)

    def score(self, query: str, docs: np.ndarray) -> np.ndarray:
        """BM25 scores of ``query`` for the given document positions (no pruning).

        Summed in ascending term order, as ``search`` sums them, so the two agree
        bit for bit.
        """
        terms, qtf = self.query_terms(query)
        candidates = np.asarray(docs, np.int64)
        scores = np.zeros(len(candidates), dtype=np.float64)
        for t, q in zip(terms, qtf, strict=True):
            a, b = self.indptr[t], self.indptr[t + 1]
            postings = self.docs[a:b]
            pos = np.searchsorted(postings, candidates)
            pos[pos == len(postings)] = 0
            hit = postings[pos] == candidates
            scores[hit] += self.weights[a:b][pos[hit]].astype(np.float64) * q
        return scores


# Scratch marks are bytes: cleared once every 255 searches.
_MAX_GENERATION = 255


class _Scratch:
    """One search's scratch: marks over documents (see the kernel) and zeroed scores."""

    def __init__(self, num_docs: int):
        self.stamp = np.zeros(num_docs, dtype=np.uint8)
        self.acc = np.zeros(num_docs, dtype=np.float64)
        self.generation = 0


KERNEL_VARIABLE = "SELFPLAY_BM25_KERNEL"
KERNELS = ("c", "numba")


def kernel() -> str:
    """The query kernel searches run on now: ``"c"`` or ``"numba"``.

    Raises:
        ImportError: If ``SELFPLAY_BM25_KERNEL=c`` but the C kernel is not built.
        ValueError: If ``SELFPLAY_BM25_KERNEL`` names no kernel.
    """
    return _kernel()[0]


def _kernel() -> tuple[str, ModuleType]:
    """The chosen kernel's name and module (``_bm25`` or ``_bm25_kernel``)."""
    return _resolve_kernel(os.environ.get(KERNEL_VARIABLE, "").strip().lower())


@functools.cache
def _resolve_kernel(name: str) -> tuple[str, ModuleType]:
    if name and name not in KERNELS:
        raise ValueError(
            f"expected {KERNEL_VARIABLE} in {KERNELS} (or unset), got {name!r}"
        )
    fix = (
        "reinstall with a C compiler present (`pip install -e .` or `pip install .`; "
        "gcc or clang)"
    )
    if name != "numba":
        try:
            return "c", importlib.import_module(f"{__package__}._bm25")
        except ImportError as err:
            if name == "c":
                raise ImportError(
                    f"the BM25 C kernel is not built ({err}); {fix}, or unset "
                    f"{KERNEL_VARIABLE} to use the numba kernel"
                ) from err
            warnings.warn(
                f"the search_qa BM25 C kernel was not built ({err}: no compiler at "
                "install time?); using numba, whose compile costs the first search "
                f"5-30 s (under 3 s from its cache); {fix}",
                RuntimeWarning,
                stacklevel=4,
            )
    return "numba", importlib.import_module(f"{__package__}._bm25_kernel")


def _impact_order(
    post_terms: np.ndarray, post_docs: np.ndarray, weights: np.ndarray, df: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The long lists again, by weight descending then document ascending."""
    long = df >= max(_LONG_POSTINGS, 1)
    imp_ptr = np.zeros(len(df) + 1, dtype=np.int64)
    np.cumsum(np.where(long, df, 0), out=imp_ptr[1:])
    picked = np.flatnonzero(long[post_terms])
    # Positive float32 weights order as their bit patterns: one stable integer sort
    # by (term, weight descending) keeps documents ascending within a weight.
    key = post_terms[picked].astype(np.uint64) << np.uint64(32)
    key |= (~weights[picked].view(np.uint32)).astype(np.uint64)
    picked = picked[np.argsort(key, kind="stable")]
    del key
    return imp_ptr, post_docs[picked].astype(np.int32), weights[picked]


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
