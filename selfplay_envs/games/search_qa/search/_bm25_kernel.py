"""The BM25 query kernel under numba: exact top-k by threshold pruning over impact order.

``_bm25.c`` is its port to C, which ``bm25.py`` runs by default; this one is the
reference, and the fallback where the C one is not built (or where
``SELFPLAY_BM25_KERNEL=numba``). ``bm25.py`` imports it on a query's first search,
never when an index is built, saved or opened, so opening an env does not import
numba. See
``BM25Index``'s docstring for the data layout; in short, for each query term ``t``:

* ``docs[indptr[t]:indptr[t + 1]]``: its documents in ascending order, with the
  BM25 weight of each in ``weights`` (the doc-ordered list, for random access);
* when the list is long, ``imp_docs``/``imp_weights[imp_ptr[t]:imp_ptr[t + 1]]``: the
  same postings in impact order, by weight descending, then document ascending.

A query runs in three phases.

1. Short lists (no impact order) are merged document by document; each document gets
   its exact score, probing the long lists (galloping, the documents come in order).
2. The long lists are read in impact order (Fagin's threshold algorithm, with the
   MaxScore bound per document): each step takes the next entry of the list whose
   bound falls fastest per entry read (see the loop), and an unseen document is scored exactly by binary search
   in the other long lists, unless its upper bound (its weight plus the other lists'
   next weights) cannot beat the current k-th result. The phase stops when no unseen
   document can: the sum of the next weights is below the k-th score, or equal to it
   with every unseen document that could tie it having a larger id (see
   ``_can_stop``).
3. If phase 2 would read more than a share ``budget`` of the query's postings, the
   query is scored densely instead: every posting added into one array, then the best read off it.

Every score is summed in query-term order (ascending term id), ``float64(weight) *
qtf`` per term, in each phase: equal scores are bit-identical whichever path found
them, so ties are ties and break by ascending document id, as a full scoring would.
The pruning bounds are sums in the same order of values at least as large, so by the
monotonicity of IEEE rounding they bound the computed scores exactly, not up to
rounding.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_NO_DOC = np.iinfo(np.int64).max
# Documents of one run of equal weights scored together (at most).
_BATCH = 256
# What a seek in a long list costs, in steps along one (see ``search``'s budget).
_SEEK = 8
# Below this many entries a list is searched by bisection (it is in cache).
_SHORT_SEEK = 4096


@nb.njit(cache=True)
def _offer(top_s, top_d, n, s, d):  # pragma: no cover - numba
    """Insert ``(s, d)`` into the best-first top list of ``n`` entries; new ``n``."""
    k = top_s.shape[0]
    if n == k:
        if s < top_s[k - 1] or (s == top_s[k - 1] and d > top_d[k - 1]):
            return n
        i = k - 1
    else:
        i = n
        n += 1
    while i > 0 and (top_s[i - 1] < s or (top_s[i - 1] == s and top_d[i - 1] > d)):
        top_s[i] = top_s[i - 1]
        top_d[i] = top_d[i - 1]
        i -= 1
    top_s[i] = s
    top_d[i] = d
    return n


@nb.njit(cache=True)
def _loses(top_s, top_d, n, s, d):  # pragma: no cover - numba
    """Whether a document scoring at most ``s`` (id ``d``) cannot enter the top list."""
    k = top_s.shape[0]
    return n == k and (s < top_s[k - 1] or (s == top_s[k - 1] and d > top_d[k - 1]))


@nb.njit(cache=True)
def _seek(docs, a, b, d):  # pragma: no cover - numba
    """First position in ``[a, b)`` whose document is ``>= d`` (``docs`` ascending).

    Documents spread evenly enough over a long list that one interpolation step
    lands a few entries away; galloping from there costs a cache line or two, where
    a binary search over a long list misses the cache at every level.
    """
    if a >= b or d <= docs[a]:
        return a
    if d > docs[b - 1]:
        return b
    if b - a <= _SHORT_SEEK:
        while a < b:
            m = (a + b) >> 1
            if docs[m] < d:
                a = m + 1
            else:
                b = m
        return a
    first = np.int64(docs[a])
    g = a + np.int64((d - first) * (b - 1 - a) // (np.int64(docs[b - 1]) - first))
    if docs[g] < d:
        return _gallop(docs, g + 1, b, d)
    # Gallop backwards to a position below d (docs[a] < d), then search up to g.
    step = 1
    hi = g
    lo = g - 1
    while docs[lo] >= d:
        hi = lo
        lo -= step
        step <<= 1
        if lo < a:
            lo = a
    while lo < hi:
        m = (lo + hi) >> 1
        if docs[m] < d:
            lo = m + 1
        else:
            hi = m
    return lo


@nb.njit(cache=True)
def _add_list(docs, weights, a, b, wq, batch, scores, m):  # pragma: no cover - numba
    """Add list ``[a, b)``'s weight * ``wq`` to ``scores[i]`` where it holds ``batch[i]``.

    ``batch[:m]`` ascends, so one cursor walks the list: a short step when the next
    document is near, else a jump by ``_seek``.
    """
    g = _seek(docs, a, b, batch[0])
    for i in range(m):
        d = batch[i]
        near = g + 8
        if near < b and docs[near] >= d:
            while docs[g] < d:
                g += 1
        else:
            g = _seek(docs, g, b, d)
            if g == b:
                return
        if docs[g] == d:
            scores[i] += np.float64(weights[g]) * wq


@nb.njit(cache=True)
def _gallop(docs, a, b, d):  # pragma: no cover - numba
    """First position in ``[a, b)`` whose document is ``>= d`` (``docs`` ascending)."""
    step = 1
    hi = a
    while hi < b and docs[hi] < d:
        a = hi + 1
        hi += step
        step <<= 1
    if hi > b:
        hi = b
    while a < hi:
        m = (a + hi) >> 1
        if docs[m] < d:
            a = m + 1
        else:
            hi = m
    return a


@nb.njit(cache=True)
def _tier_end(imp_weights, a, b):  # pragma: no cover - numba
    """End of the run of weights equal to ``imp_weights[a]`` (descending), by galloping."""
    w = imp_weights[a]
    step = 1
    lo = a
    hi = a + 1
    while hi < b and imp_weights[hi] == w:
        lo = hi
        hi += step
        step <<= 1
    if hi > b:
        hi = b
    # imp_weights[lo] == w; find the first index in (lo, hi] below w.
    lo += 1
    while lo < hi:
        m = (lo + hi) >> 1
        if imp_weights[m] == w:
            lo = m + 1
        else:
            hi = m
    return lo


@nb.njit(cache=True)
def _can_stop(is_long, live, f, fd, nl, theta, kth_doc):  # pragma: no cover - numba
    """Whether no unseen document can enter a full top list with k-th ``theta``.

    An unseen document has only long terms (phase 1 saw every short-list document)
    and sits at or after the frontier of each long list it is in, so its score is at
    most ``F``, the term-order sum of the frontier weights ``f``. Below ``theta``:
    done. Equal: an unseen document scores ``theta`` either (A) with each live list's
    frontier weight, in its frontier run, where documents ascend, so its id is at
    least every frontier document's ``fd``; or (B) below some list's frontier run, at
    most its next lower weight ``nl``: done if every such sum is below ``theta`` and
    the largest ``fd`` is past the k-th document.
    """
    nq = f.shape[0]
    total = 0.0
    for j in range(nq):
        if is_long[j]:
            total += f[j]
    if total < theta:
        return True
    if total > theta:
        return False
    max_fd = -1
    for j in range(nq):
        if live[j] and fd[j] > max_fd:
            max_fd = fd[j]
    if max_fd <= kth_doc:
        return False
    for u in range(nq):
        if not live[u]:
            continue
        s = 0.0
        for j in range(nq):
            if is_long[j]:
                s += nl[j] if j == u else f[j]
        if s >= theta:
            return False
    return True


@nb.njit(cache=True)
def search(
    indptr,
    docs,
    weights,
    max_weight,
    imp_ptr,
    imp_docs,
    imp_weights,
    terms,
    qtf,
    k,
    stamp,
    gen,
    acc,
    budget,
):  # pragma: no cover - numba
    """The exact top-``k`` of one query: ``(docs, scores, count)``, best first.

    ``terms`` ascending and unique, ``qtf`` their counts in the query. ``stamp`` is
    a uint8 array over documents, marked with ``gen`` (not in it before) for each
    document scored or shown to lose; ``acc`` a float64 array of zeros over documents (left zero).
    ``budget`` is the share of the query's postings that may be read in impact order
    before the query falls back to dense scoring (0: dense at once; inf: never).
    """
    nq = terms.shape[0]
    top_s = np.zeros(k, np.float64)
    top_d = np.zeros(k, np.int64)
    n = 0
    lo = np.empty(nq, np.int64)
    hi = np.empty(nq, np.int64)
    is_long = np.zeros(nq, np.bool_)
    nlong = 0
    long_bound = 0.0
    total = 0
    for j in range(nq):
        t = terms[j]
        lo[j] = indptr[t]
        hi[j] = indptr[t + 1]
        total += hi[j] - lo[j]
        if imp_ptr[t + 1] > imp_ptr[t]:
            is_long[j] = True
            nlong += 1
            long_bound += np.float64(imp_weights[imp_ptr[t]]) * qtf[j]

    # ---- phase 1: short lists, document at a time ----------------------------------
    cur = lo.copy()
    gal = lo.copy()
    while True:
        d = _NO_DOC
        for j in range(nq):
            if not is_long[j] and cur[j] < hi[j] and docs[cur[j]] < d:
                d = docs[cur[j]]
        if d == _NO_DOC:
            break
        if n == k and nlong > 0:
            partial = 0.0
            for j in range(nq):
                if not is_long[j] and cur[j] < hi[j] and docs[cur[j]] == d:
                    partial += np.float64(weights[cur[j]]) * qtf[j]
            # A loose bound (another summation order), so a relative margin.
            if (partial + long_bound) * (1.0 + 1e-9) < top_s[k - 1]:
                for j in range(nq):
                    if not is_long[j] and cur[j] < hi[j] and docs[cur[j]] == d:
                        cur[j] += 1
                stamp[d] = gen
                continue
        s = 0.0
        for j in range(nq):
            if is_long[j]:
                p = _gallop(docs, gal[j], hi[j], d)
                gal[j] = p
                if p < hi[j] and docs[p] == d:
                    s += np.float64(weights[p]) * qtf[j]
            elif cur[j] < hi[j] and docs[cur[j]] == d:
                s += np.float64(weights[cur[j]]) * qtf[j]
                cur[j] += 1
        stamp[d] = gen
        n = _offer(top_s, top_d, n, s, d)
    if nlong == 0:
        return top_d[:n], top_s[:n], n

    # ---- phase 2: long lists in impact order ----------------------------------------
    pos = np.zeros(nq, np.int64)
    end = np.zeros(nq, np.int64)
    tier = np.zeros(nq, np.int64)
    f = np.zeros(nq, np.float64)  # next weight * qtf; 0 once exhausted
    fd = np.zeros(nq, np.int64)  # next document
    nl = np.zeros(nq, np.float64)  # the weight after the current run, or 0
    live = np.zeros(nq, np.bool_)
    for j in range(nq):
        if is_long[j]:
            t = terms[j]
            pos[j] = imp_ptr[t]
            end[j] = imp_ptr[t + 1]
            live[j] = True
            f[j] = np.float64(imp_weights[pos[j]]) * qtf[j]
            fd[j] = imp_docs[pos[j]]
            tier[j] = _tier_end(imp_weights, pos[j], end[j])
            if tier[j] < end[j]:
                nl[j] = np.float64(imp_weights[tier[j]]) * qtf[j]
    batch = np.empty(_BATCH, np.int64)
    scores = np.empty(_BATCH, np.float64)
    # Work in units of about a posting added in dense scoring: a document of a
    # batch costs a step along each other long list, a batch a seek in each (a cache
    # miss, ``_SEEK`` units) and the choice of its run.
    steps = 0
    max_steps = budget * total
    others = max(nlong - 1, 1)
    while True:
        if n == k and _can_stop(is_long, live, f, fd, nl, top_s[k - 1], top_d[k - 1]):
            break
        # Read where the bound falls fastest per entry read: to the end of the
        # current run of equal weights, or to the end of the list, whichever is
        # steeper. Reading a run leaves every other rate as it was and makes its
        # own steeper, so the whole run is read before choosing again.
        best = -1
        best_rate = -1.0
        for j in range(nq):
            if live[j]:
                rate = (f[j] - nl[j]) / (tier[j] - pos[j])
                rate_all = f[j] / (end[j] - pos[j])
                if rate_all > rate:
                    rate = rate_all
                if rate > best_rate:
                    best = j
                    best_rate = rate
        if best < 0:
            break
        # Every entry of the run weighs wq, so F, the term-order sum of the next
        # weights, bounds each unseen document in it (it is at or after the
        # frontier of every other list). Seen ones were scored or shown to lose.
        wq = f[best]
        bound = 0.0
        for j in range(nq):
            if is_long[j]:
                bound += f[j]
        p = pos[best]
        run_end = tier[best]
        size = 8  # batches grow, so that the k-th score rises early
        while p < run_end:
            if n == k:
                if bound < top_s[k - 1]:
                    break  # the stop test above now succeeds
                if bound == top_s[k - 1] and imp_docs[p] > top_d[k - 1]:
                    p = run_end  # the rest of the run ties at best, with larger ids
                    break
            # The next unseen documents of the run, ascending, scored together.
            m = 0
            while p < run_end and m < size:
                d = np.int64(imp_docs[p])
                p += 1
                if stamp[d] != gen:
                    stamp[d] = gen
                    batch[m] = d
                    m += 1
            if m == 0:
                continue
            if size < _BATCH:
                size *= 2
            steps += (m + _SEEK) * others + nlong
            if steps > max_steps:
                return _dense(docs, weights, lo, hi, qtf, k, acc)
            scores[:m] = 0.0
            for j in range(nq):
                if not is_long[j]:
                    continue
                if j == best:
                    for i in range(m):
                        scores[i] += wq
                else:
                    _add_list(docs, weights, lo[j], hi[j], qtf[j], batch, scores, m)
            for i in range(m):
                n = _offer(top_s, top_d, n, scores[i], batch[i])
        pos[best] = p
        if p == end[best]:
            live[best] = False
            f[best] = 0.0
            nl[best] = 0.0
        else:
            fd[best] = imp_docs[p]
            if p == run_end:
                f[best] = nl[best]
                tier[best] = _tier_end(imp_weights, p, end[best])
                if tier[best] < end[best]:
                    nl[best] = np.float64(imp_weights[tier[best]]) * qtf[best]
                else:
                    nl[best] = 0.0
    return top_d[:n], top_s[:n], n


@nb.njit(cache=True)
def _dense(docs, weights, lo, hi, qtf, k, acc):  # pragma: no cover - numba
    """Every posting added into ``acc`` in term order, then the best read off it.

    Two passes over the postings, each in document order per list; ``acc`` is left
    zero. Faster per posting than anything that skips: a lookup costs about as much as
    a hundred postings here.
    """
    nq = lo.shape[0]
    for j in range(nq):
        q = qtf[j]
        for p in range(lo[j], hi[j]):
            acc[docs[p]] += np.float64(weights[p]) * q
    top_s = np.zeros(k, np.float64)
    top_d = np.zeros(k, np.int64)
    n = 0
    for j in range(nq):
        for p in range(lo[j], hi[j]):
            d = docs[p]
            s = acc[d]
            if s != 0.0:
                acc[d] = 0.0
                if not _loses(top_s, top_d, n, s, d):
                    n = _offer(top_s, top_d, n, s, np.int64(d))
    return top_d[:n], top_s[:n], n
