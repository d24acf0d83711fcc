/*
 * The BM25 top-k query kernel in C: a port of _bm25_kernel.py (the numba kernel),
 * line for line. Same arrays, same algorithm, same results bit for bit; bm25.py picks
 * this kernel when it was built and falls back to the numba one otherwise. The data
 * layout, the three phases (short-list merge, threshold algorithm over impact-ordered
 * long lists with MaxScore bounds, dense fallback past a posting budget) and the
 * exactness argument are documented in _bm25_kernel.py; the comments here only say
 * where C differs.
 *
 * Why C and a second copy: numba's compile costs a fresh process's first search 20 s
 * (2.4 s from numba's on-disk cache); a compiled extension loads in milliseconds and
 * never imports numba. Both kernels must pass the same exactness tests.
 *
 * Exactness needs the arithmetic of the numba kernel: every score is a sum in
 * query-term order of (double)weight * qtf, in double, one rounding per operation.
 * setup.py builds this file with -ffp-contract=off (a fused multiply-add rounds once
 * where the numba kernel and NumPy round twice) and without -ffast-math.
 *
 * The GIL is released while a query runs. The caller owns the scratch arrays (stamp,
 * acc) and must not share them between concurrent calls.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NO_DOC INT64_MAX
/* Documents of one run of equal weights scored together (at most). */
#define BATCH 256
/* What a seek in a long list costs, in steps along one. */
#define SEEK_COST 8
/* Below this many entries a list is searched by bisection (it is in cache). */
#define SHORT_SEEK 4096

#if defined(__GNUC__)
#define INLINE static inline __attribute__((always_inline))
#else
#define INLINE static inline
#endif

/* ---------------------------------------------------------------- the kernel */

/* Insert (s, d) into the best-first top list of n entries (capacity k); new n. */
INLINE int64_t offer(double *top_s, int64_t *top_d, int64_t k, int64_t n, double s,
                     int64_t d)
{
    int64_t i;
    if (n == k) {
        if (s < top_s[k - 1] || (s == top_s[k - 1] && d > top_d[k - 1]))
            return n;
        i = k - 1;
    } else {
        i = n;
        n++;
    }
    while (i > 0 && (top_s[i - 1] < s || (top_s[i - 1] == s && top_d[i - 1] > d))) {
        top_s[i] = top_s[i - 1];
        top_d[i] = top_d[i - 1];
        i--;
    }
    top_s[i] = s;
    top_d[i] = d;
    return n;
}

/* Whether a document scoring at most s (id d) cannot enter the top list. */
INLINE int loses(const double *top_s, const int64_t *top_d, int64_t k, int64_t n,
                 double s, int64_t d)
{
    return n == k && (s < top_s[k - 1] || (s == top_s[k - 1] && d > top_d[k - 1]));
}

/* First position in [a, b) whose document is >= d (docs ascending), by galloping. */
INLINE int64_t gallop(const int32_t *docs, int64_t a, int64_t b, int64_t d)
{
    int64_t step = 1, hi = a;
    while (hi < b && docs[hi] < d) {
        a = hi + 1;
        hi += step;
        step <<= 1;
    }
    if (hi > b)
        hi = b;
    while (a < hi) {
        int64_t m = (a + hi) >> 1;
        if (docs[m] < d)
            a = m + 1;
        else
            hi = m;
    }
    return a;
}

/* First position in [a, b) whose document is >= d: one interpolation step, then a
 * gallop (see _bm25_kernel._seek). */
INLINE int64_t seek(const int32_t *docs, int64_t a, int64_t b, int64_t d)
{
    if (a >= b || d <= docs[a])
        return a;
    if (d > docs[b - 1])
        return b;
    if (b - a <= SHORT_SEEK) {
        while (a < b) {
            int64_t m = (a + b) >> 1;
            if (docs[m] < d)
                a = m + 1;
            else
                b = m;
        }
        return a;
    }
    int64_t first = docs[a];
    /* Non-negative operands: C's truncating division is numba's floor division. */
    int64_t g = a + (d - first) * (b - 1 - a) / ((int64_t)docs[b - 1] - first);
    if (docs[g] < d)
        return gallop(docs, g + 1, b, d);
    /* Gallop backwards to a position below d (docs[a] < d, and g > a), then search
     * up to g. */
    int64_t step = 1, hi = g, lo = g - 1;
    while (docs[lo] >= d) {
        hi = lo;
        lo -= step;
        step <<= 1;
        if (lo < a)
            lo = a;
    }
    while (lo < hi) {
        int64_t m = (lo + hi) >> 1;
        if (docs[m] < d)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* Add list [a, b)'s weight * wq to scores[i] where it holds batch[i] (ascending). */
static void add_list(const int32_t *docs, const float *weights, int64_t a, int64_t b,
                     double wq, const int64_t *batch, double *scores, int64_t m)
{
    int64_t g = seek(docs, a, b, batch[0]);
    for (int64_t i = 0; i < m; i++) {
        int64_t d = batch[i];
        int64_t near = g + 8;
        if (near < b && docs[near] >= d) {
            while (docs[g] < d)
                g++;
        } else {
            g = seek(docs, g, b, d);
            if (g == b)
                return;
        }
        if (docs[g] == d)
            scores[i] += (double)weights[g] * wq;
    }
}

/* End of the run of weights equal to w[a] (descending), by galloping. */
INLINE int64_t tier_end(const float *w, int64_t a, int64_t b)
{
    float x = w[a];
    int64_t step = 1, lo = a, hi = a + 1;
    while (hi < b && w[hi] == x) {
        lo = hi;
        hi += step;
        step <<= 1;
    }
    if (hi > b)
        hi = b;
    lo += 1;
    while (lo < hi) {
        int64_t m = (lo + hi) >> 1;
        if (w[m] == x)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* Whether no unseen document can enter a full top list with k-th theta (see
 * _bm25_kernel._can_stop). */
static int can_stop(const uint8_t *is_long, const uint8_t *live, const double *f,
                    const int64_t *fd, const double *nl, int64_t nq, double theta,
                    int64_t kth_doc)
{
    double total = 0.0;
    for (int64_t j = 0; j < nq; j++)
        if (is_long[j])
            total += f[j];
    if (total < theta)
        return 1;
    if (total > theta)
        return 0;
    int64_t max_fd = -1;
    for (int64_t j = 0; j < nq; j++)
        if (live[j] && fd[j] > max_fd)
            max_fd = fd[j];
    if (max_fd <= kth_doc)
        return 0;
    for (int64_t u = 0; u < nq; u++) {
        if (!live[u])
            continue;
        double s = 0.0;
        for (int64_t j = 0; j < nq; j++)
            if (is_long[j])
                s += j == u ? nl[j] : f[j];
        if (s >= theta)
            return 0;
    }
    return 1;
}

typedef struct {
    const int64_t *indptr;
    const int32_t *docs;
    const float *weights;
    const int64_t *imp_ptr;
    const int32_t *imp_docs;
    const float *imp_weights;
    const int64_t *terms;
    const double *qtf;
    int64_t nq, k;
    uint8_t *stamp;
    uint8_t gen;
    double *acc;
    double budget;
    double *top_s;
    int64_t *top_d;
} query_t;

/* Per-term state of one query, one allocation. */
typedef struct {
    int64_t *lo, *hi, *cur, *gal, *pos, *end, *tier, *fd;
    double *f, *nl;
    uint8_t *is_long, *live;
} state_t;

/* Every posting added into acc in term order, then the best read off it; acc is left
 * zero. The top list is q->top_s/top_d, refilled from empty; its size. */
static int64_t dense(const query_t *q, const state_t *st)
{
    const int32_t *docs = q->docs;
    double *acc = q->acc;
    for (int64_t j = 0; j < q->nq; j++) {
        double w = q->qtf[j];
        for (int64_t p = st->lo[j]; p < st->hi[j]; p++)
            acc[docs[p]] += (double)q->weights[p] * w;
    }
    int64_t n = 0, k = q->k;
    for (int64_t j = 0; j < q->nq; j++) {
        for (int64_t p = st->lo[j]; p < st->hi[j]; p++) {
            int64_t d = docs[p];
            double s = acc[d];
            if (s != 0.0) {
                acc[d] = 0.0;
                if (!loses(q->top_s, q->top_d, k, n, s, d))
                    n = offer(q->top_s, q->top_d, k, n, s, d);
            }
        }
    }
    return n;
}

/* The exact top-k of one query into q->top_s/top_d, best first; its size. */
static int64_t search(const query_t *q, const state_t *st)
{
    const int64_t nq = q->nq, k = q->k;
    const int64_t *indptr = q->indptr, *imp_ptr = q->imp_ptr, *terms = q->terms;
    const int32_t *docs = q->docs, *imp_docs = q->imp_docs;
    const float *weights = q->weights, *imp_weights = q->imp_weights;
    const double *qtf = q->qtf;
    uint8_t *stamp = q->stamp;
    const uint8_t gen = q->gen;
    double *top_s = q->top_s;
    int64_t *top_d = q->top_d;
    int64_t *lo = st->lo, *hi = st->hi, *cur = st->cur, *gal = st->gal;
    uint8_t *is_long = st->is_long, *live = st->live;
    int64_t n = 0, nlong = 0, total = 0;
    double long_bound = 0.0;
    for (int64_t j = 0; j < nq; j++) {
        int64_t t = terms[j];
        lo[j] = indptr[t];
        hi[j] = indptr[t + 1];
        total += hi[j] - lo[j];
        is_long[j] = imp_ptr[t + 1] > imp_ptr[t];
        if (is_long[j]) {
            nlong++;
            long_bound += (double)imp_weights[imp_ptr[t]] * qtf[j];
        }
    }

    /* ---- phase 1: short lists, document at a time ---- */
    for (int64_t j = 0; j < nq; j++)
        cur[j] = gal[j] = lo[j];
    for (;;) {
        int64_t d = NO_DOC;
        for (int64_t j = 0; j < nq; j++)
            if (!is_long[j] && cur[j] < hi[j] && docs[cur[j]] < d)
                d = docs[cur[j]];
        if (d == NO_DOC)
            break;
        if (n == k && nlong > 0) {
            double partial = 0.0;
            for (int64_t j = 0; j < nq; j++)
                if (!is_long[j] && cur[j] < hi[j] && docs[cur[j]] == d)
                    partial += (double)weights[cur[j]] * qtf[j];
            /* A loose bound (another summation order), so a relative margin. */
            if ((partial + long_bound) * (1.0 + 1e-9) < top_s[k - 1]) {
                for (int64_t j = 0; j < nq; j++)
                    if (!is_long[j] && cur[j] < hi[j] && docs[cur[j]] == d)
                        cur[j]++;
                stamp[d] = gen;
                continue;
            }
        }
        double s = 0.0;
        for (int64_t j = 0; j < nq; j++) {
            if (is_long[j]) {
                int64_t p = gallop(docs, gal[j], hi[j], d);
                gal[j] = p;
                if (p < hi[j] && docs[p] == d)
                    s += (double)weights[p] * qtf[j];
            } else if (cur[j] < hi[j] && docs[cur[j]] == d) {
                s += (double)weights[cur[j]] * qtf[j];
                cur[j]++;
            }
        }
        stamp[d] = gen;
        n = offer(top_s, top_d, k, n, s, d);
    }
    if (nlong == 0)
        return n;

    /* ---- phase 2: long lists in impact order ---- */
    int64_t *pos = st->pos, *end = st->end, *tier = st->tier, *fd = st->fd;
    double *f = st->f, *nl = st->nl;
    for (int64_t j = 0; j < nq; j++) {
        pos[j] = end[j] = tier[j] = fd[j] = 0;
        f[j] = nl[j] = 0.0;
        live[j] = 0;
        if (is_long[j]) {
            int64_t t = terms[j];
            pos[j] = imp_ptr[t];
            end[j] = imp_ptr[t + 1];
            live[j] = 1;
            f[j] = (double)imp_weights[pos[j]] * qtf[j];
            fd[j] = imp_docs[pos[j]];
            tier[j] = tier_end(imp_weights, pos[j], end[j]);
            if (tier[j] < end[j])
                nl[j] = (double)imp_weights[tier[j]] * qtf[j];
        }
    }
    int64_t batch[BATCH];
    double scores[BATCH];
    int64_t steps = 0;
    double max_steps = q->budget * (double)total;
    int64_t others = nlong - 1 > 1 ? nlong - 1 : 1;
    for (;;) {
        if (n == k && can_stop(is_long, live, f, fd, nl, nq, top_s[k - 1], top_d[k - 1]))
            break;
        /* Read where the bound falls fastest per entry read (see the numba kernel). */
        int64_t best = -1;
        double best_rate = -1.0;
        for (int64_t j = 0; j < nq; j++) {
            if (live[j]) {
                double rate = (f[j] - nl[j]) / (double)(tier[j] - pos[j]);
                double rate_all = f[j] / (double)(end[j] - pos[j]);
                if (rate_all > rate)
                    rate = rate_all;
                if (rate > best_rate) {
                    best = j;
                    best_rate = rate;
                }
            }
        }
        if (best < 0)
            break;
        double wq = f[best];
        double bound = 0.0;
        for (int64_t j = 0; j < nq; j++)
            if (is_long[j])
                bound += f[j];
        int64_t p = pos[best];
        int64_t run_end = tier[best];
        int64_t size = 8; /* batches grow, so that the k-th score rises early */
        while (p < run_end) {
            if (n == k) {
                if (bound < top_s[k - 1])
                    break; /* the stop test above now succeeds */
                if (bound == top_s[k - 1] && imp_docs[p] > top_d[k - 1]) {
                    p = run_end; /* the rest of the run ties at best, with larger ids */
                    break;
                }
            }
            int64_t m = 0;
            while (p < run_end && m < size) {
                int64_t d = imp_docs[p];
                p++;
                if (stamp[d] != gen) {
                    stamp[d] = gen;
                    batch[m++] = d;
                }
            }
            if (m == 0)
                continue;
            if (size < BATCH)
                size *= 2;
            steps += (m + SEEK_COST) * others + nlong;
            if ((double)steps > max_steps)
                return dense(q, st);
            for (int64_t i = 0; i < m; i++)
                scores[i] = 0.0;
            for (int64_t j = 0; j < nq; j++) {
                if (!is_long[j])
                    continue;
                if (j == best) {
                    for (int64_t i = 0; i < m; i++)
                        scores[i] += wq;
                } else {
                    add_list(docs, weights, lo[j], hi[j], qtf[j], batch, scores, m);
                }
            }
            for (int64_t i = 0; i < m; i++)
                n = offer(top_s, top_d, k, n, scores[i], batch[i]);
        }
        pos[best] = p;
        if (p == end[best]) {
            live[best] = 0;
            f[best] = 0.0;
            nl[best] = 0.0;
        } else {
            fd[best] = imp_docs[p];
            if (p == run_end) {
                f[best] = nl[best];
                tier[best] = tier_end(imp_weights, p, end[best]);
                if (tier[best] < end[best])
                    nl[best] = (double)imp_weights[tier[best]] * qtf[best];
                else
                    nl[best] = 0.0;
            }
        }
    }
    return n;
}

/* ---------------------------------------------------------------- Python binding */

/* Buffers of one call, released together. */
typedef struct {
    Py_buffer views[16];
    int count;
} buffers_t;

static void release_all(buffers_t *bufs)
{
    for (int i = 0; i < bufs->count; i++)
        PyBuffer_Release(&bufs->views[i]);
    bufs->count = 0;
}

/* A C-contiguous buffer of `itemsize`-byte items (format one of `formats`); its data
 * and length, or NULL with a TypeError set. */
static void *get_array(buffers_t *bufs, PyObject *obj, const char *name, Py_ssize_t itemsize,
                       const char *formats, int writable, Py_ssize_t *len)
{
    Py_buffer *view = &bufs->views[bufs->count];
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0)
        return NULL;
    bufs->count++;
    const char *fmt = view->format ? view->format : "B";
    if (*fmt == '=' || *fmt == '<' || *fmt == '@')
        fmt++;
    if (view->itemsize != itemsize || strlen(fmt) != 1 || !strchr(formats, *fmt)) {
        PyErr_Format(PyExc_TypeError,
                     "%s: expected a contiguous array of %zd-byte items (format %s), got "
                     "format %s",
                     name, itemsize, formats, view->format ? view->format : "B");
        return NULL;
    }
    *len = view->len / itemsize;
    return view->buf;
}

#define I64 "lq"
#define I32 "il"
#define F32 "f"
#define F64 "d"
#define U8 "B"

/* A bad argument: ValueError "search: ..." and NULL. */
static void *bad(const char *message)
{
    PyErr_Format(PyExc_ValueError, "search: %s", message);
    return NULL;
}

PyDoc_STRVAR(search_doc,
             "search(indptr, docs, weights, max_weight, imp_ptr, imp_docs, imp_weights,\n"
             "    terms, qtf, k, stamp, gen, acc, budget, top_docs, top_scores) -> count\n\n"
             "_bm25_kernel.search in C: the exact top-k of one query written best first\n"
             "into top_docs (int64) and top_scores (float64), each of at least k items;\n"
             "the number of results. The other arguments are the numba kernel's\n"
             "(max_weight is unused, as there). The GIL is released while it runs: stamp\n"
             "and acc must not be shared by concurrent calls. Raises ValueError where\n"
             "the term ids, posting ranges or a doc-ordered list's documents do not fit\n"
             "the arrays; an impact list must hold its doc-ordered list's documents.");

static PyObject *py_search(PyObject *self, PyObject *args)
{
    PyObject *o[7], *o_terms, *o_qtf, *o_stamp, *o_acc, *o_top_d, *o_top_s;
    long long k, gen;
    double budget;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOLOLOdOO:search", &o[0], &o[1], &o[2], &o[3],
                          &o[4], &o[5], &o[6], &o_terms, &o_qtf, &k, &o_stamp, &gen,
                          &o_acc, &budget, &o_top_d, &o_top_s))
        return NULL;
    buffers_t bufs = {.count = 0};
    PyObject *result = NULL;
    state_t st = {0};
    void *mem = NULL;
    query_t q = {0};
    Py_ssize_t n_indptr, n_docs, n_weights, n_imp_ptr, n_imp_docs, n_imp_weights, n_terms,
        n_qtf, n_stamp, n_acc, n_top_d, n_top_s, unused;
    if (!(q.indptr = get_array(&bufs, o[0], "indptr", 8, I64, 0, &n_indptr)) ||
        !(q.docs = get_array(&bufs, o[1], "docs", 4, I32, 0, &n_docs)) ||
        !(q.weights = get_array(&bufs, o[2], "weights", 4, F32, 0, &n_weights)) ||
        !get_array(&bufs, o[3], "max_weight", 4, F32, 0, &unused) ||
        !(q.imp_ptr = get_array(&bufs, o[4], "imp_ptr", 8, I64, 0, &n_imp_ptr)) ||
        !(q.imp_docs = get_array(&bufs, o[5], "imp_docs", 4, I32, 0, &n_imp_docs)) ||
        !(q.imp_weights = get_array(&bufs, o[6], "imp_weights", 4, F32, 0, &n_imp_weights)) ||
        !(q.terms = get_array(&bufs, o_terms, "terms", 8, I64, 0, &n_terms)) ||
        !(q.qtf = get_array(&bufs, o_qtf, "qtf", 8, F64, 0, &n_qtf)) ||
        !(q.stamp = get_array(&bufs, o_stamp, "stamp", 1, U8, 1, &n_stamp)) ||
        !(q.acc = get_array(&bufs, o_acc, "acc", 8, F64, 1, &n_acc)) ||
        !(q.top_d = get_array(&bufs, o_top_d, "top_docs", 8, I64, 1, &n_top_d)) ||
        !(q.top_s = get_array(&bufs, o_top_s, "top_scores", 8, F64, 1, &n_top_s)))
        goto done;
    /* Cheap checks that keep every read in bounds: O(query terms), not O(postings).
     * Within a list, documents ascend, so its first and last bound them all. */
    if (k < 1 || n_top_d < k || n_top_s < k) {
        bad("expected k >= 1 and top arrays of at least k items");
        goto done;
    }
    if (gen < 1 || gen > 255) {
        bad("expected gen in 1..255");
        goto done;
    }
    if (n_indptr < 1 || n_imp_ptr != n_indptr || n_weights < n_docs ||
        n_imp_weights < n_imp_docs || n_qtf < n_terms) {
        bad("arrays of mismatched lengths");
        goto done;
    }
    for (Py_ssize_t j = 0; j < n_terms; j++) {
        int64_t t = q.terms[j];
        if (t < 0 || t >= n_indptr - 1) {
            bad("a term id out of range");
            goto done;
        }
        int64_t a = q.indptr[t], b = q.indptr[t + 1];
        int64_t ia = q.imp_ptr[t], ib = q.imp_ptr[t + 1];
        if (a < 0 || b < a || b > n_docs || ia < 0 || ib < ia || ib > n_imp_docs ||
            (ib > ia && ib - ia != b - a)) {
            bad("a posting range out of bounds");
            goto done;
        }
        if (b > a && (q.docs[a] < 0 || q.docs[b - 1] >= n_stamp || q.docs[b - 1] >= n_acc)) {
            bad("a document id past the scratch arrays");
            goto done;
        }
    }
    q.nq = n_terms;
    q.k = k;
    q.gen = (uint8_t)gen;
    q.budget = budget;
    if (n_terms == 0) {
        result = PyLong_FromLong(0);
        goto done;
    }
    size_t nq = (size_t)n_terms;
    mem = malloc(nq * (8 * sizeof(int64_t) + 2 * sizeof(double) + 2));
    if (!mem) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t *ints = mem;
    st.lo = ints;
    st.hi = ints + nq;
    st.cur = ints + 2 * nq;
    st.gal = ints + 3 * nq;
    st.pos = ints + 4 * nq;
    st.end = ints + 5 * nq;
    st.tier = ints + 6 * nq;
    st.fd = ints + 7 * nq;
    st.f = (double *)(ints + 8 * nq);
    st.nl = st.f + nq;
    st.is_long = (uint8_t *)(st.nl + nq);
    st.live = st.is_long + nq;
    int64_t count;
    Py_BEGIN_ALLOW_THREADS
    count = search(&q, &st);
    Py_END_ALLOW_THREADS
    result = PyLong_FromLongLong(count);
done:
    free(mem);
    release_all(&bufs);
    return result;
}

PyDoc_STRVAR(offer_doc,
             "_offer(top_s, top_d, n, s, d) -> n\n\n"
             "_bm25_kernel._offer in C (for tests): insert (s, d) into the best-first top\n"
             "list of n entries in top_s (float64) / top_d (int64), of capacity\n"
             "len(top_s); the new n.");

static PyObject *py_offer(PyObject *self, PyObject *args)
{
    PyObject *o_s, *o_d;
    long long n, d;
    double s;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOLdL:_offer", &o_s, &o_d, &n, &s, &d))
        return NULL;
    buffers_t bufs = {.count = 0};
    PyObject *result = NULL;
    Py_ssize_t k, n_d;
    double *top_s = get_array(&bufs, o_s, "top_s", 8, F64, 1, &k);
    int64_t *top_d = top_s ? get_array(&bufs, o_d, "top_d", 8, I64, 1, &n_d) : NULL;
    if (top_d) {
        if (k < 1 || n_d < k || n < 0 || n > k)
            PyErr_SetString(PyExc_ValueError, "_offer: expected 0 <= n <= len(top_s) <= "
                                              "len(top_d), len(top_s) >= 1");
        else
            result = PyLong_FromLongLong(offer(top_s, top_d, k, n, s, d));
    }
    release_all(&bufs);
    return result;
}

static PyMethodDef methods[] = {
    {"search", py_search, METH_VARARGS, search_doc},
    {"_offer", py_offer, METH_VARARGS, offer_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_bm25",
    "The BM25 top-k query kernel in C, a port of _bm25_kernel (see _bm25.c).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__bm25(void) { return PyModule_Create(&module); }
