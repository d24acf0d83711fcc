"""The BM25 engine: exact top-k, the analyzer, the disk cache, strict corpus reading."""

from __future__ import annotations

import gzip
import importlib
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from selfplay_envs.games.search_qa.search import bm25 as bm25_module
from selfplay_envs.games.search_qa.search.bm25 import BM25Index, BM25Params
from selfplay_envs.games.search_qa.search.corpus import (
    Corpus,
    CorpusFormatError,
    Passage,
    read_jsonl,
    write_jsonl,
)
from selfplay_envs.games.search_qa.search.retriever import LocalRetriever, cached_index
from selfplay_envs.games.search_qa.search.tokenize import raw_tokens, stem, tokenize
from selfplay_envs.games.search_qa.synthetic import SyntheticEncyclopedia

PASSAGES = [
    Passage(id="p1", title="Python", text="Python is a programming language by Guido."),
    Passage(id="p2", title="Guido van Rossum", text="Guido created Python in 1991."),
    Passage(id="p3", title="Ruby", text="Ruby is a programming language from Japan."),
    Passage(id="p4", title="Cities", text="Kyoto and Osaka are cities of Japan."),
]


def _c_kernel_missing() -> str:
    """Why the C kernel cannot be tested here ("" when it is built)."""
    try:
        importlib.import_module("selfplay_envs.games.search_qa.search._bm25")
    except ImportError as err:
        return (
            f"the BM25 C kernel is not built ({err}); build it with `pip install -e .`"
        )
    return ""


@pytest.fixture(params=["c", "numba"])
def kernel(request, monkeypatch) -> str:
    """Run the test on one query kernel (C or numba), chosen as users choose it."""
    if request.param == "c" and (reason := _c_kernel_missing()):
        pytest.skip(reason)
    monkeypatch.setenv(bm25_module.KERNEL_VARIABLE, request.param)
    assert bm25_module.kernel() == request.param
    return request.param


def _brute_force_top_k(
    index: BM25Index, query: str, k: int
) -> tuple[np.ndarray, np.ndarray]:
    everything = np.arange(index.num_docs)
    scores = index.score(query, everything)
    order = np.lexsort((everything, -scores))
    order = order[scores[order] > 0][:k]
    return order, scores[order]


def test_bm25_matches_hand_computed_lucene_scores() -> None:
    texts = ["apple banana", "apple apple cherry", "banana"]
    index = BM25Index.build(texts, BM25Params(k1=1.2, b=0.75))
    lengths = np.array([2, 3, 1], dtype=float)
    avg = lengths.mean()

    def weight(tf: float, df: int, length: float) -> float:
        idf = np.log1p((3 - df + 0.5) / (df + 0.5))
        return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / avg))

    expected = [weight(1, 2, 2), weight(2, 2, 3), 0.0]
    assert np.allclose(index.score("apple", np.arange(3)), expected, rtol=1e-6)
    docs, scores = index.search("apple", 3)
    assert docs.tolist() == [1, 0]  # doc 2 has no "apple": not returned
    assert np.allclose(scores, [expected[1], expected[0]], rtol=1e-6)


@pytest.mark.parametrize(
    ("long", "budget"),
    [(128, 1 / 512), (1, 1.0), (1, 0.0), (4, 1 / 16), (10**9, 1.0)],
    ids=["default", "impact-only", "dense-only", "mixed", "merge-only"],
)
@pytest.mark.parametrize("corpus_seed", [3, 4])
def test_every_query_path_returns_the_exact_top_k(
    monkeypatch, kernel, long, budget, corpus_seed
) -> None:
    # long: lists this long get an impact order (1: every list; 10**9: none, so every
    # query is merged document by document). budget: the share of postings the
    # impact phase may read before the query is scored densely (0.0: always dense).
    monkeypatch.setattr(bm25_module, "_LONG_POSTINGS", long)
    monkeypatch.setattr(bm25_module, "_IMPACT_BUDGET", budget)
    corpus = SyntheticEncyclopedia(400, seed=corpus_seed).corpus()
    index = BM25Index.build([corpus.search_text(i) for i in range(len(corpus))])
    rng = np.random.default_rng(corpus_seed)
    for _ in range(200):
        words = corpus.texts[int(rng.integers(len(corpus)))].split()
        query = " ".join(rng.choice(words, size=int(rng.integers(1, 9))))
        k = int(rng.integers(1, 12))
        docs, scores = index.search(query, k)
        want_docs, want_scores = _brute_force_top_k(index, query, k)
        assert docs.tolist() == want_docs.tolist(), query
        # Summed in the same order as ``score`` sums them: equal bit for bit.
        assert scores.tolist() == want_scores.tolist(), query


@pytest.mark.parametrize(
    ("long", "budget"),
    [(128, 1 / 512), (128, 1.0), (1, 1.0)],
    ids=["default", "no-dense", "impact-only"],
)
def test_exact_top_k_with_lists_past_the_bisection_cutoff(
    monkeypatch, kernel, long, budget
) -> None:
    # 12,000 passages of Zipf-distributed words: the common ones are in more passages
    # than the kernel bisects (``_SHORT_SEEK``), so lookups in them interpolate and
    # gallop; rare words keep short lists, so queries mix the merge and impact phases.
    monkeypatch.setattr(bm25_module, "_LONG_POSTINGS", long)
    monkeypatch.setattr(bm25_module, "_IMPACT_BUDGET", budget)
    rng = np.random.default_rng(7)
    vocab = np.array([f"w{i}" for i in range(3000)])
    draws = np.minimum(rng.zipf(1.3, size=12_000 * 12) - 1, len(vocab) - 1)
    lengths = rng.integers(3, 13, 12_000)
    words, start = vocab[draws], 0
    texts = []
    for n in lengths:
        texts.append(" ".join(words[start : start + n]))
        start += n
    index = BM25Index.build(texts)
    assert np.diff(index.indptr).max() > 4096
    for _ in range(60):
        common = np.minimum(rng.zipf(1.2, size=rng.integers(1, 5)) - 1, 2999)
        rare = rng.integers(30, 3000, size=rng.integers(0, 3))
        query = " ".join(vocab[np.r_[common, rare]])
        k = int(rng.integers(1, 12))
        docs, scores = index.search(query, k)
        want_docs, want_scores = _brute_force_top_k(index, query, k)
        assert docs.tolist() == want_docs.tolist(), query
        assert scores.tolist() == want_scores.tolist(), query


def test_a_passage_merged_first_is_not_scored_again(monkeypatch, kernel) -> None:
    # Passage 500 is the only one with "zz" (a short list, merged first) and the
    # shortest with "common", so it heads that long list's impact order too: the
    # impact phase must skip it, not return it twice.
    monkeypatch.setattr(bm25_module, "_IMPACT_BUDGET", 1.0)
    texts = [f"common filler{i % 50} more words here" for i in range(1000)]
    texts[500] = "common zz"
    index = BM25Index.build(texts)
    docs, _ = index.search("common zz", 3)
    assert docs.tolist() == [500, 0, 1]


def test_ties_break_by_passage_position_on_every_path(monkeypatch, kernel) -> None:
    # Many passages with equal scores: the top k must be the first ones, whichever
    # path (impact order, merge, dense) found them.
    texts = [f"alpha beta filler{i % 7}" for i in range(3000)]
    texts += [f"alpha gamma {i}" for i in range(500)]
    # Ties across lists: "delta" and "omega" passages, as many of each, shuffled, of
    # one length, so a delta passage scores what an omega one does; the top k of
    # "delta omega" interleaves both lists by position.
    rng = np.random.default_rng(0)
    split = np.array(["delta", "omega"])[rng.permutation(np.arange(1000) % 2)]
    texts += [f"{word} filler{i % 7}" for i, word in enumerate(split)]
    queries = [("alpha", 5), ("alpha beta", 9), ("beta gamma", 4)]
    queries += [("delta omega", k) for k in range(1, 17)]
    for long, budget in [(128, 1 / 512), (1, 1.0), (1, 0.0), (10**9, 1.0)]:
        monkeypatch.setattr(bm25_module, "_LONG_POSTINGS", long)
        monkeypatch.setattr(bm25_module, "_IMPACT_BUDGET", budget)
        index = BM25Index.build(texts)
        for query, k in queries:
            docs, _ = index.search(query, k)
            want_docs, _ = _brute_force_top_k(index, query, k)
            assert docs.tolist() == want_docs.tolist(), (query, k, long, budget)


def test_concurrent_searches_of_one_index_match_sequential_ones(kernel) -> None:
    # The C kernel releases the GIL: threads search at once, each on its own scratch.
    corpus = SyntheticEncyclopedia(400, seed=5).corpus()
    index = BM25Index.build([corpus.search_text(i) for i in range(len(corpus))])
    rng = np.random.default_rng(5)
    queries = [
        " ".join(rng.choice(corpus.texts[int(rng.integers(len(corpus)))].split(), 4))
        for _ in range(300)
    ]
    want = [index.search(q, 5)[0].tolist() for q in queries]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            got = list(pool.map(lambda q: index.search(q, 5)[0].tolist(), queries))
            assert got == want


def test_unknown_and_stopword_queries_return_nothing() -> None:
    index = BM25Index.build([p.text for p in PASSAGES])
    for query in ("", "the of and", "zzzunknownzzz", "!!!"):
        docs, scores = index.search(query, 3)
        assert len(docs) == 0 and len(scores) == 0
    assert index.search("python", 10**12)[0].tolist() == [0, 1]  # k past num_docs
    with pytest.raises(ValueError, match="expected k >= 1"):
        index.search("python", 0)


def test_analyzer_lowercases_drops_stopwords_and_stems_plurals() -> None:
    assert raw_tokens("Hello, World_2 foo-bar") == ["hello", "world", "2", "foo", "bar"]
    assert tokenize("The Cities of the Founders") == ["city", "founder"]
    # Harman's rules, exactly: -ies -> -y, -es -> -e (not -aes/-ees/-oes), -s -> ""
    # (not -us/-ss).
    words = ("cities", "glass", "glasses", "bus", "horses", "toes", "is")
    assert [stem(w) for w in words] == [
        "city",
        "glass",
        "glasse",
        "bus",
        "horse",
        "toe",
        "is",
    ]


def test_fast_ascii_tokenizer_equals_the_query_tokenizer() -> None:
    texts = [
        "Straße und Café: naïve_test x2",
        "C++ & C# (2024); e-mail: a@b.org",
        "ÀÉÎ õü",
    ]
    ids, lengths, vocab = bm25_module._raw_token_ids(texts)  # noqa: SLF001
    names = {i: t for t, i in vocab.items()}
    start = 0
    for text, n in zip(texts, lengths, strict=True):
        assert [names[i] for i in ids[start : start + n]] == raw_tokens(text)
        start += n


def test_local_retriever_ranks_the_relevant_passage_first() -> None:
    retriever = LocalRetriever.from_corpus(
        Corpus.from_passages(PASSAGES), cache_dir=False
    )
    hits = retriever.search("who created python", 3)
    assert [h.passage.id for h in hits][:2] == ["p2", "p1"]
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert hits[0].score >= hits[-1].score


def test_index_save_load_round_trip(tmp_path: Path) -> None:
    index = BM25Index.build([p.text for p in PASSAGES])
    loaded = BM25Index.load(index.save(tmp_path / "idx"))
    for query in ("python language", "japan", "guido 1991"):
        assert loaded.search(query, 3)[0].tolist() == index.search(query, 3)[0].tolist()
    assert isinstance(loaded.docs, np.memmap)


# ---- the disk cache --------------------------------------------------------------------


def test_index_is_built_once_then_read_from_the_cache(tmp_path: Path) -> None:
    path = write_jsonl(PASSAGES, tmp_path / "c.jsonl")
    first = LocalRetriever.from_corpus(read_jsonl(path), cache_dir=tmp_path / "cache")
    second = LocalRetriever.from_corpus(read_jsonl(path), cache_dir=tmp_path / "cache")
    assert (first.from_cache, second.from_cache) == (False, True)
    assert len(list((tmp_path / "cache").iterdir())) == 1
    assert [h.passage.id for h in second.search("ruby", 3)] == ["p3"]


def test_changing_the_corpus_invalidates_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    write_jsonl(PASSAGES, path)
    cache = tmp_path / "cache"
    old = LocalRetriever.from_corpus(read_jsonl(path), cache_dir=cache)
    assert [h.passage.id for h in old.search("perl", 3)] == []
    changed = PASSAGES[:3] + [
        Passage(id="p4", title="Perl", text="Perl is a language.")
    ]
    write_jsonl(changed, path)
    new = LocalRetriever.from_corpus(read_jsonl(path), cache_dir=cache)
    assert not new.from_cache  # new content hash: a new index, not the stale one
    assert [h.passage.id for h in new.search("perl", 3)] == ["p4"]
    assert len(list(cache.iterdir())) == 2
    again = LocalRetriever.from_corpus(read_jsonl(path), cache_dir=cache)
    assert again.from_cache and [h.passage.id for h in again.search("perl", 3)] == [
        "p4"
    ]


def test_bm25_parameters_are_part_of_the_cache_key(tmp_path: Path) -> None:
    corpus = Corpus.from_passages(PASSAGES)
    _, hit = cached_index(corpus, cache_dir=tmp_path)
    _, hit_other = cached_index(corpus, cache_dir=tmp_path, params=BM25Params(k1=2.0))
    _, hit_again = cached_index(corpus, cache_dir=tmp_path, params=BM25Params(k1=2.0))
    assert (hit, hit_other, hit_again) == (False, False, True)


def test_in_memory_corpora_hash_their_content() -> None:
    a = Corpus.from_passages(PASSAGES)
    b = Corpus.from_passages(
        PASSAGES[:3] + [Passage(id="p4", title="Cities", text="Changed.")]
    )
    assert a.content_hash == Corpus.from_passages(PASSAGES).content_hash
    assert a.content_hash != b.content_hash


# ---- strict corpus reading ---------------------------------------------------------------

GOOD = json.dumps({"id": "a", "title": "A", "text": "alpha"})


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"id": "b", "text": "no title"}', "expected a string 'title', got missing"),
        ('{"id": "b", "title": "B", "text": 7}', "expected a string 'text', got int"),
        ('{"title": "B", "text": "no id"}', "expected a string 'id', got missing"),
        ("", "blank line"),
        (
            '{"id": "a", "title": "Again", "text": "dup"}',
            "unique id, got 'a' \\(first on line 1\\)",
        ),
    ],
    ids=[
        "invalid-json",
        "not-object",
        "missing-title",
        "wrong-type",
        "missing-id",
        "blank",
        "dup-id",
    ],
)
def test_bad_corpus_line_names_its_line(
    tmp_path: Path, bad_line: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        f"{GOOD}\n{json.dumps({'id': 'z', 'title': 'Z', 'text': 'z'})}\n{bad_line}\n{GOOD}\n"
    )
    with pytest.raises(CorpusFormatError, match=message) as err:
        read_jsonl(path)
    assert err.value.line == 3
    assert f"{path}, line 3:" in str(err.value)


def test_reads_gzip_search_r1_lines_and_integer_ids(tmp_path: Path) -> None:
    path = tmp_path / "wiki.jsonl.gz"
    lines = [
        {"id": 0, "contents": '"Alan Turing"\nAlan Turing was a mathematician.'},
        {"id": "1", "title": "Enigma", "text": "A cipher machine."},
    ]
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(json.dumps(x) for x in lines) + "\n")
    corpus = read_jsonl(path)
    assert [p.to_dict() for p in corpus] == [
        {"id": "0", "title": "Alan Turing", "text": "Alan Turing was a mathematician."},
        {"id": "1", "title": "Enigma", "text": "A cipher machine."},
    ]
    assert corpus.index_of("1") == 1 and corpus.index_of("missing") is None


def test_write_jsonl_gz_is_reproducible(tmp_path: Path) -> None:
    a = write_jsonl(PASSAGES, tmp_path / "a.jsonl.gz").read_bytes()
    b = write_jsonl(PASSAGES, tmp_path / "b.jsonl.gz").read_bytes()
    assert a == b
    assert [p.id for p in read_jsonl(tmp_path / "a.jsonl.gz")] == [
        "p1",
        "p2",
        "p3",
        "p4",
    ]


@pytest.mark.parametrize("k", [1, 3, 5])
def test_top_k_on_long_runs_of_ties_matches_a_full_sort(kernel, k: int) -> None:
    _, module = bm25_module._kernel()  # noqa: SLF001 - _bm25 or _bm25_kernel
    rng = np.random.default_rng(k)
    for values in (3, 50, 100_000):  # many ties, some, almost none
        scores = rng.integers(0, values, 20_000).astype(np.float64)
        docs = rng.permutation(200_000)[:20_000].astype(np.int64)
        top_s, top_d, n = np.zeros(k), np.zeros(k, np.int64), 0
        for score, doc in zip(scores, docs, strict=True):
            n = module._offer(top_s, top_d, n, score, doc)  # noqa: SLF001
        order = np.lexsort((docs, -scores))[:k]
        assert n == k
        assert top_d.tolist() == docs[order].tolist()
        assert top_s.tolist() == scores[order].tolist()


# ---- the kernels -----------------------------------------------------------------------


def test_first_search_of_a_fresh_process_does_not_import_numba() -> None:
    if reason := _c_kernel_missing():
        pytest.skip(reason)
    script = textwrap.dedent(
        """
        import sys
        from selfplay_envs.games.search_qa.search import bm25

        index = bm25.BM25Index.build(["the cat sat", "a dog barked", "cat and dog"] * 50)
        docs, _ = index.search("cat dog", 3)
        assert docs.tolist() == [2, 5, 8], docs
        assert bm25.kernel() == "c"
        assert "numba" not in sys.modules, "numba was imported"
        """
    )
    env = {k: v for k, v in os.environ.items() if k != bm25_module.KERNEL_VARIABLE}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_a_missing_c_kernel_falls_back_to_numba_with_a_warning(monkeypatch) -> None:
    real_import = importlib.import_module

    def no_c_kernel(name: str, *args):
        if name.endswith("._bm25"):
            raise ImportError("No module named '_bm25'")
        return real_import(name, *args)

    monkeypatch.setattr(bm25_module.importlib, "import_module", no_c_kernel)
    resolve = bm25_module._resolve_kernel.__wrapped__  # noqa: SLF001 - uncached
    with pytest.warns(RuntimeWarning, match=r"C kernel was not built.*pip install"):
        name, module = resolve("")
    assert name == "numba" and module.__name__.endswith("._bm25_kernel")
    with pytest.raises(ImportError, match="C kernel is not built"):
        resolve("c")
    with pytest.raises(ValueError, match="SELFPLAY_BM25_KERNEL"):
        resolve("fortran")
