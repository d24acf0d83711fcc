"""Which queries make BM25's p99: the slowest share of queries, with their terms' counts.

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bm25_tail.py [--passages 100000] [--queries 2000]

Same corpus and queries as ``bench_search.py``. Each query is timed three times (the
best kept); the slowest ``--show`` are printed with, for each term, the number of
passages that hold it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_search  # noqa: E402

from selfplay_envs.games.search_qa.search.bm25 import BM25Index  # noqa: E402
from selfplay_envs.games.search_qa.search.tokenize import tokenize  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--show", type=int, default=12)
    args = parser.parse_args()
    corpus, kb = bench_search._load_corpus("synthetic", args.passages, None)
    index = BM25Index.build([corpus.search_text(i) for i in range(len(corpus))])
    queries = bench_search._queries(corpus, kb, args.queries)
    ms = []
    for q in queries:
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            index.search(q, bench_search.TOP_K)
            best = min(best, time.process_time() - start)
        ms.append(best * 1e3)
    ms = np.array(ms)
    print(f"p50 {np.percentile(ms, 50):.3f} ms, p99 {np.percentile(ms, 99):.3f} ms")
    counts = np.diff(index.indptr)
    for i in np.argsort(-ms)[: args.show]:
        terms = [t for t in tokenize(queries[i]) if t in index.vocab]
        held = ", ".join(f"{t} {int(counts[index.vocab[t]])}" for t in terms)
        print(f"{ms[i]:.3f} ms  {held}")


if __name__ == "__main__":
    main()
