"""BM25 engines side by side: build time, query latency p50/p99, memory, agreement.

Run from the repository root::

    pip install bm25s tantivy rank-bm25      # benchmark-only peers
    python benchmarks/bench_search.py [--passages 1000000] [--queries 1000] [--out x.json]

Corpora: FOLDOC as shipped (``envs_assets/corpora/foldoc.jsonl.gz``, ~15.6k passages)
and the synthetic encyclopedia at ``--passages`` passages (1M by default).

Engines, each over the same passages (title + text) and the same queries, top-3:

* ``ours``: ``selfplay_envs.games.search_qa.search.BM25Index`` (exact top-k: threshold algorithm and MaxScore over
  impact-ordered postings);
  also timed: reopening it from the on-disk cache, which is what an env pays.
* ``bm25s``: ``bm25s.BM25`` (Lucene scoring, NumPy backend), and ``bm25s+numba`` (its
  numba retrieval backend).
* ``tantivy``: the Rust engine's Python binding (block-max WAND), one indexing thread.
* ``rank_bm25``: ``BM25Okapi``, the naive peer most projects start from. It scores
  every document in Python for every query, so on the big corpus it runs on a
  ``--naive-cap`` subsample (100k passages by default) with fewer queries; the table
  says so on its row.

Every engine gets the same terms: our analyzer's tokens (lower case, stop words out,
plural stemming), so the table compares engines, not tokenizers, and ``agree@3``
(the share of queries whose top-3 passage set equals ours) measures scoring only.
Tokenizing is inside every build time. BM25 variants differ slightly (rank_bm25's idf
floor, tantivy's score quantisation), so agreement a little under 100% is expected.

Each engine and corpus runs in a fresh subprocess, pinned to one core where the OS
allows (``os.sched_setaffinity``) with BLAS and numba threads set to 1, so "memory" is
that process's peak resident set (``ru_maxrss``) minus its size before indexing, and
latencies are single-core. Latencies are per query, one query at a time, measured as
CPU time of the process (``time.process_time``), which the other jobs of a shared
machine do not inflate; wall-clock p50 is reported beside it. ``agree@3`` is the share
of queries whose top-3 passage set equals ours (tokenizers differ, so 100% is not
expected of every peer).

Latency ratios side by side (``--rounds``, default 5; ``--rounds 0`` skips it): after
the isolated rows, one more process builds every engine but ``rank_bm25`` on the same
corpus and splits the queries into that many rounds. Each round, every engine runs the
round's queries, in an order rotated round by round, so machine load hits every engine
alike. Per round, the ratio of each peer's p50 (and p99) to ours; the table gives the
median and range over the rounds, above 1 meaning ours is faster.

Queries: on the synthetic corpus, what the scripted solver sends ("<entity name>
<relation keywords>") for random entities, plus random 1-7 word bags from random
passages; on FOLDOC, headwords plus random word bags. All drawn from a fixed seed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENGINES = ("ours", "bm25s", "bm25s+numba", "tantivy", "rank_bm25")
TOP_K = 3


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def _load_corpus(name: str, passages: int, cap: int | None):
    from selfplay_envs.games.search_qa.corpora import foldoc_path
    from selfplay_envs.games.search_qa.search.corpus import Corpus, read_jsonl
    from selfplay_envs.games.search_qa.synthetic import (
        SyntheticEncyclopedia,
        entities_for_passages,
    )

    if name == "foldoc":
        corpus, kb = read_jsonl(foldoc_path(), name="foldoc"), None
    else:
        kb = SyntheticEncyclopedia(entities_for_passages(passages), seed=0)
        corpus = kb.corpus()
    if cap is not None and len(corpus) > cap:
        corpus = Corpus(
            corpus.ids[:cap],
            corpus.titles[:cap],
            corpus.texts[:cap],
            name=f"{corpus.name}[:{cap}]",
        )
    return corpus, kb


def _queries(corpus, kb, n: int) -> list[str]:
    import numpy as np

    from selfplay_envs.games.search_qa.synthetic import RELATIONS

    rng = np.random.default_rng(12345)
    keywords = [r.keywords for r in RELATIONS.values()]
    queries = []
    for i in range(n):
        if i % 2 == 0:
            title = corpus.titles[int(rng.integers(len(corpus)))]
            extra = keywords[int(rng.integers(len(keywords)))] if kb is not None else ""
            queries.append(f"{title} {extra}".strip())
        else:
            words = corpus.texts[int(rng.integers(len(corpus)))].split()
            size = int(rng.integers(1, 8))
            queries.append(
                " ".join(str(w) for w in rng.choice(words, size=min(size, len(words))))
            )
    return queries


# ---- engines: build(texts, ids) -> search(query) -> list of passage positions --------


def _build_ours(texts, workdir):
    from selfplay_envs.games.search_qa.search.bm25 import BM25Index

    index = BM25Index.build(texts)
    # The first search loads the compiled kernel; the worker times that on its own.
    start = time.perf_counter()
    index.search(" ".join(texts[0].split()[:3]), TOP_K)
    index.first_search_s = time.perf_counter() - start
    return lambda q: index.search(q, TOP_K)[0].tolist(), index


def _build_bm25s(texts, workdir, backend="numpy"):
    import bm25s

    from selfplay_envs.games.search_qa.search.tokenize import tokenize

    model = bm25s.BM25(method="lucene", k1=1.2, b=0.75, backend=backend)
    model.index([tokenize(t) for t in texts], show_progress=False)
    vocab = model.vocab_dict

    def search(q):
        tokens = [t for t in tokenize(q) if t in vocab]
        if not tokens:
            return []
        docs, scores = model.retrieve(
            [tokens], k=TOP_K, show_progress=False, n_threads=1
        )
        return [int(d) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    search("warm up")  # numba compiles on first use; keep that out of the timings
    return search, model


def _build_tantivy(texts, workdir):
    import tantivy

    from selfplay_envs.games.search_qa.search.tokenize import tokenize

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("pos", stored=True, indexed=False, fast=True)
    # Pre-analyzed text (our tokens, space-separated) under the whitespace tokenizer:
    # the same terms as every other engine here.
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace")
    schema = builder.build()
    index = tantivy.Index(schema, path=str(workdir))
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    for i, text in enumerate(texts):
        writer.add_document(tantivy.Document(pos=i, body=" ".join(tokenize(text))))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()

    def search(q):
        tokens = tokenize(q)
        if not tokens:
            return []
        query = index.parse_query(" ".join(tokens), ["body"])
        hits = searcher.search(query, TOP_K).hits
        return [searcher.doc(addr)["pos"][0] for _, addr in hits]

    return search, index


def _build_rank_bm25(texts, workdir):
    from rank_bm25 import BM25Okapi

    from selfplay_envs.games.search_qa.search.tokenize import tokenize

    model = BM25Okapi([tokenize(t) for t in texts])

    def search(q):
        import numpy as np

        scores = model.get_scores(tokenize(q))
        top = np.argsort(-scores, kind="stable")[:TOP_K]
        return [int(i) for i in top if scores[i] > 0]

    return search, model


BUILDERS = {
    "ours": _build_ours,
    "bm25s": _build_bm25s,
    "bm25s+numba": lambda t, w: _build_bm25s(t, w, backend="numba"),
    "tantivy": _build_tantivy,
    "rank_bm25": _build_rank_bm25,
}


def worker(
    engine: str, corpus_name: str, passages: int, n_queries: int, cap: int | None
) -> dict:
    """Build one engine on one corpus and time it; runs in its own process."""
    import numpy as np

    corpus, kb = _load_corpus(corpus_name, passages, cap)
    texts = [corpus.search_text(i) for i in range(len(corpus))]
    queries = _queries(corpus, kb, n_queries)
    base_rss = _rss_mb()
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter()
        search, handle = BUILDERS[engine](texts, Path(workdir))
        build_s = time.perf_counter() - start
        extra: dict = {}
        if engine == "ours":
            start = time.perf_counter()
            handle.save(Path(workdir) / "ours")
            extra["save_s"] = time.perf_counter() - start
            from selfplay_envs.games.search_qa.search.bm25 import BM25Index

            start = time.perf_counter()
            BM25Index.load(Path(workdir) / "ours")
            extra["load_from_cache_s"] = time.perf_counter() - start
            extra["first_search_s"] = handle.first_search_s
            extra["index_mb"] = (
                sum(f.stat().st_size for f in (Path(workdir) / "ours").iterdir()) / 1e6
            )
        cpu, wall, results = [], [], []
        for q in queries:
            c0, w0 = time.process_time(), time.perf_counter()
            results.append(search(q))
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
    cpu_ms, wall_ms = np.array(cpu) * 1e3, np.array(wall) * 1e3
    return {
        "engine": engine,
        "corpus": corpus.name,
        "passages": len(corpus),
        "queries": len(queries),
        "build_s": build_s,
        "p50_ms": float(np.percentile(cpu_ms, 50)),
        "p99_ms": float(np.percentile(cpu_ms, 99)),
        "wall_p50_ms": float(np.percentile(wall_ms, 50)),
        "memory_mb": _peak_mb() - base_rss,
        "results": results,
        **extra,
    }


def alternating(
    engines: list[str], corpus_name: str, passages: int, n_queries: int, rounds: int
) -> dict:
    """Every engine in one process, timed round by round in rotated order."""
    import numpy as np

    corpus, kb = _load_corpus(corpus_name, passages, None)
    texts = [corpus.search_text(i) for i in range(len(corpus))]
    queries = _queries(corpus, kb, n_queries)
    chunks = [queries[r::rounds] for r in range(rounds)]
    with tempfile.TemporaryDirectory() as workdir:
        searches = {}
        for name in engines:
            folder = Path(workdir) / name.replace("+", "_")
            folder.mkdir()
            searches[name] = BUILDERS[name](texts, folder)[0]
        cpu_ms: dict[str, list[list[float]]] = {name: [] for name in engines}
        for r, chunk in enumerate(chunks):
            for name in engines[r % len(engines) :] + engines[: r % len(engines)]:
                times = []
                for q in chunk:
                    c0 = time.process_time()
                    searches[name](q)
                    times.append((time.process_time() - c0) * 1e3)
                cpu_ms[name].append(times)
    out: dict = {"corpus": corpus.name, "passages": len(corpus), "rounds": rounds}
    for name in engines:
        every = np.concatenate(cpu_ms[name])
        out[name] = {
            "p50_ms": float(np.percentile(every, 50)),
            "p99_ms": float(np.percentile(every, 99)),
            "round_p50_ms": [float(np.percentile(t, 50)) for t in cpu_ms[name]],
            "round_p99_ms": [float(np.percentile(t, 99)) for t in cpu_ms[name]],
        }
    return out


def _ratio_rows(result: dict, reference: str = "ours") -> list[str]:
    """Peer time / our time per round (above 1: ours faster), median and range."""
    import statistics

    ours = result[reference]
    lines = []
    for name, row in result.items():
        if not isinstance(row, dict) or name == reference:
            continue
        cells = []
        for key in ("round_p50_ms", "round_p99_ms"):
            ratios = [p / o for p, o in zip(row[key], ours[key], strict=True) if o > 0]
            cells.append(
                f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f})"
            )
        lines.append(
            f"| {result['corpus']} | {name} | {ours['p50_ms']:.3f} / {ours['p99_ms']:.3f} "
            f"| {row['p50_ms']:.3f} / {row['p99_ms']:.3f} | {cells[0]} | {cells[1]} |"
        )
    return lines


def _run_worker(args: list[str], timeout: int, flag: str = "--worker") -> dict:
    env = dict(
        os.environ,
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        NUMBA_NUM_THREADS="1",
    )
    command = [sys.executable, __file__, flag, *args]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if done.returncode != 0:
        return {
            "error": done.stderr.strip().splitlines()[-1]
            if done.stderr.strip()
            else f"exit {done.returncode}"
        }
    return json.loads(done.stdout.strip().splitlines()[-1])


def _agreement(row: dict, reference: dict) -> float | None:
    if (
        "results" not in row
        or "results" not in reference
        or row["passages"] != reference["passages"]
    ):
        return None
    # Fewer queries (rank_bm25) are a prefix of the same seeded sequence.
    n = min(len(row["results"]), len(reference["results"]))
    pairs = list(zip(row["results"][:n], reference["results"][:n], strict=True))
    return sum(set(a) == set(b) for a, b in pairs) / len(pairs)


def main() -> None:
    """Run every engine on both corpora and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--naive-cap",
        type=int,
        default=100_000,
        help="rank_bm25 subsample on big corpora",
    )
    parser.add_argument("--naive-queries", type=int, default=100)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--corpora", default="foldoc,synthetic")
    parser.add_argument("--timeout", type=int, default=3600)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="alternating rounds for the side-by-side latency ratios (0: skip)",
    )
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--alternating-worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if (args.worker or args.alternating_worker) and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if args.alternating_worker:
        engines, corpus, passages, queries, rounds = args.alternating_worker
        row = alternating(
            engines.split(","), corpus, int(passages), int(queries), int(rounds)
        )
        print(json.dumps(row))
        return
    if args.worker:
        engine, corpus, passages, queries, cap = args.worker
        row = worker(
            engine,
            corpus,
            int(passages),
            int(queries),
            None if cap == "none" else int(cap),
        )
        print(json.dumps(row))
        return
    print(
        "| corpus | engine | passages | build | p50 ms (cpu) | p99 ms (cpu) | p50 ms (wall) "
        "| memory | agree@3 | note |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = []
    for corpus in args.corpora.split(","):
        reference = None
        for engine in args.engines.split(","):
            naive = (
                engine == "rank_bm25"
                and corpus == "synthetic"
                and args.passages > args.naive_cap
            )
            cap = str(args.naive_cap) if naive else "none"
            n_queries = args.naive_queries if engine == "rank_bm25" else args.queries
            row = _run_worker(
                [engine, corpus, str(args.passages), str(n_queries), cap], args.timeout
            )
            row.setdefault("engine", engine)
            row.setdefault("corpus", corpus)
            row["note"] = f"subsample of {args.naive_cap} passages" if naive else ""
            if engine == "ours":
                reference = row
            row["agree@3"] = _agreement(row, reference) if reference else None
            rows.append(row)
            print(_format_row(row), flush=True)
    for row in rows:
        row.pop("results", None)
    side_by_side = _side_by_side(args) if args.rounds > 0 else []
    if args.out:
        args.out.write_text(
            json.dumps({"isolated": rows, "alternating": side_by_side}, indent=2)
        )


def _side_by_side(args) -> list[dict]:
    """The alternating-rounds latency ratios, one process per corpus."""
    engines = [e for e in args.engines.split(",") if e != "rank_bm25"]
    if "ours" not in engines or len(engines) < 2:
        return []
    engines.remove("ours")
    engines.insert(0, "ours")
    print(
        f"\nSide by side, {args.rounds} alternating rounds (CPU ms; ratio = peer / ours, "
        "median and range over rounds):\n"
        "| corpus | peer | ours p50 / p99 | peer p50 / p99 | p50 ratio | p99 ratio |\n"
        "|---|---|---|---|---|---|"
    )
    results = []
    for corpus in args.corpora.split(","):
        job = [",".join(engines), corpus, str(args.passages), str(args.queries)]
        result = _run_worker(
            [*job, str(args.rounds)], args.timeout, flag="--alternating-worker"
        )
        results.append(result)
        if "error" in result:
            print(f"| {corpus} | error: {result['error']} |", flush=True)
            continue
        print("\n".join(_ratio_rows(result)), flush=True)
    return results


def _format_row(row: dict) -> str:
    if "error" in row:
        return f"| {row['corpus']} | {row['engine']} | error: {row['error']} |"
    agree = f"{row['agree@3']:.0%}" if row.get("agree@3") is not None else "n/a"
    cache = (
        f", cache load {row['load_from_cache_s']:.2f} s, "
        f"first search {row['first_search_s']:.2f} s"
        if "load_from_cache_s" in row
        else ""
    )
    return (
        f"| {row['corpus']} | {row['engine']} | {row['passages']:,} | {row['build_s']:.1f} s"
        f"{cache} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['wall_p50_ms']:.2f} | "
        f"{row['memory_mb']:.0f} MB | {agree} | {row['note']} |"
    )


if __name__ == "__main__":
    main()
