/*
 * The MARS interpreter in C: a port of mars_kernel.py (the numba engine), pMARS 0.9.4
 * exact. Same arrays, same layouts, same results; mars.py picks this engine when it
 * was built and falls back to the numba kernel otherwise. The layouts (core cells of
 * four uint16: code, A-number, B-number, behaviour case; per-warrior state of four
 * int64: queue head, process count, next living warrior; the round state st[]) are
 * documented in mars_kernel.py, and the semantics of every step are commented there.
 *
 * Why C and a second copy: numba's compile takes 11-34 s in a fresh environment and
 * its code ran at about 0.6x of a C MARS; a compiled extension starts in milliseconds.
 * The numba kernel stays as the readable reference and the fallback; both must pass
 * the same pMARS differential tests.
 *
 * The hot loop is compiled once per combination of behaviour tracking, read/write
 * limit folding and two warriors (constant flags: the file includes its own template
 * section at its end once per combination), so that the common battle (two warriors,
 * no tracking, no folding) carries none of the others' work. With GCC or Clang it is
 * threaded code (labels as values); elsewhere two switches. The GIL is released for a
 * whole batch of battles (battle_batch, shared between threads) or a run of steps.
 */
#ifndef MARS_STEP_TEMPLATE /* the module; the step loop's template is at the end */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#if defined(_MSC_VER)
#include <intrin.h> /* _InterlockedExchangeAdd64 */
#endif
#include <stdlib.h>
#include <string.h>

/* Opcodes' behaviour cases: the values of mars_kernel.C_* (CASES[opcode*8+modifier]). */
enum {
    C_DAT, C_NOP, C_JMP, C_SPL,
    C_MOV_A, C_MOV_B, C_MOV_AB, C_MOV_BA, C_MOV_F, C_MOV_X, C_MOV_I,
    C_ADD_A, C_ADD_B, C_ADD_AB, C_ADD_BA, C_ADD_F, C_ADD_X,
    C_SUB_A, C_SUB_B, C_SUB_AB, C_SUB_BA, C_SUB_F, C_SUB_X,
    C_MUL_A, C_MUL_B, C_MUL_AB, C_MUL_BA, C_MUL_F, C_MUL_X,
    C_DIV_A, C_DIV_B, C_DIV_AB, C_DIV_BA, C_DIV_F, C_DIV_X,
    C_MOD_A, C_MOD_B, C_MOD_AB, C_MOD_BA, C_MOD_F, C_MOD_X,
    C_JMZ_A, C_JMZ_B, C_JMZ_F, C_JMN_A, C_JMN_B, C_JMN_F,
    C_DJN_A, C_DJN_B, C_DJN_F,
    C_SEQ_A, C_SEQ_B, C_SEQ_AB, C_SEQ_BA, C_SEQ_F, C_SEQ_X, C_SEQ_I,
    C_SNE_A, C_SNE_B, C_SNE_AB, C_SNE_BA, C_SNE_F, C_SNE_X, C_SNE_I,
    C_SLT_A, C_SLT_B, C_SLT_AB, C_SLT_BA, C_SLT_F, C_SLT_X,
    C_LDP_A, C_LDP_B, C_LDP_AB, C_LDP_BA, C_STP_A, C_STP_B, C_STP_AB, C_STP_BA,
    N_CASES
};

/* Opcodes and modifiers (instructions.Opcode / Modifier): the hot loop dispatches on
 * OM(opcode, modifier), the top bits of a cell's code; the behaviour cases above
 * name what each does (several OMs share a case, as in mars_kernel.CASES). */
enum { DAT, MOV, ADD, SUB, MUL, DIV, MOD, JMP, JMZ, JMN, DJN, CMP, SEQ, SNE, SLT, SPL,
       NOP, LDP, STP, N_OPCODES };
enum { MA, MB, MAB, MBA, MF, MX, MI };
#define OM(op, mod) ((op) * 8 + (mod))
#define ALL_MODIFIERS(op)                                                         \
    case OM(op, MA):                                                              \
    case OM(op, MB):                                                              \
    case OM(op, MAB):                                                             \
    case OM(op, MBA):                                                             \
    case OM(op, MF):                                                              \
    case OM(op, MX):                                                              \
    case OM(op, MI)

/* Addressing modes (instructions.Mode). */
enum { IMMEDIATE, DIRECT, B_INDIRECT, B_PREDEC, B_POSTINC, A_INDIRECT, A_PREDEC,
       A_POSTINC };

enum { ST_CUR, ST_PREV, ST_COUNTER, ST_LEFT, ST_STEPS, ST_BUDGET, ST_SHORTCUT, ST_SIZE };
enum { W_HEAD, W_TASKS, W_NEXT };

#define EMPTY_CODE ((((0 * 8) + 4) << 6) | (1 << 3) | 1) /* DAT.F $0, $0 */
#define PARK_MILLER_MODULUS 2147483647LL
#define POSIT_RETRIES1 20
#define POSIT_RETRIES2 4
#define NO_STEP_LIMIT (1LL << 62)

#if defined(__GNUC__)
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define ALWAYS_INLINE static inline
#define LIKELY(x) (x)
#endif

typedef struct {
    uint16_t code, a, b, kase;
} cell_t; /* a cell of the numba kernel's core arrays */

/* A cell of the C engine's own core: no case field (dispatch is on the code), so
 * 6 bytes, not 8: the 8000-cell core fits a 48 KiB L1 cache. */
typedef struct {
    uint16_t code, a, b;
} icell_t;

/* A warrior's state while steps run: wst[4*w ...] unpacked, its queue's address. The
 * queue is a ring of cap entries: its processes are at head, head + 1, ... (mod cap),
 * tasks of them, and the next one queued goes at tail = head + tasks. */
typedef struct warrior {
    int32_t *q;
    uint32_t head, tail, tasks;
    struct warrior *next;
} warrior_t;

/* Everything run_steps works on; the arrays have the numba kernel's layouts. */
typedef struct {
    icell_t *core;
    int32_t *queue;
    int64_t *wst;
    warrior_t *wr; /* set by run_steps_any from wst and queue */
    int64_t n_warriors;
    int32_t *pspace;
    const int64_t *ps_base;
    int64_t *last_result;
    int64_t *st;
    int64_t *death_cycle;
    int64_t *death_left;
    int64_t *spawned;
    uint8_t *cover;
    int64_t m, read_limit, write_limit, max_processes, cap, pspace_size, max_cycles;
} machine_t;

/* pMARS's foldr/foldw: bring address within +-limit/2 of pc. */
ALWAYS_INLINE int64_t fold(int64_t address, int64_t pc, int64_t limit, int64_t m)
{
    int64_t r = (address + m - pc) % limit;
    if (r > limit / 2)
        r += m - limit;
    r += pc;
    if (r >= m)
        r -= m;
    return r;
}

ALWAYS_INLINE uint32_t dec(uint32_t v, uint32_t m1) { return v ? v - 1 : m1; }
ALWAYS_INLINE uint32_t inc(uint32_t v, uint32_t m1) { return v != m1 ? v + 1 : 0; }

/* The offset an indirect mode reads at ptr, pre-decrementing it if needed. */
ALWAYS_INLINE int64_t pointer(icell_t *core, int64_t ptr, int mode, uint32_t m1)
{
    if (mode >= A_INDIRECT) {
        if (mode == A_PREDEC)
            core[ptr].a = (uint16_t)dec(core[ptr].a, m1);
        return core[ptr].a;
    }
    if (mode == B_PREDEC)
        core[ptr].b = (uint16_t)dec(core[ptr].b, m1);
    return core[ptr].b;
}

ALWAYS_INLINE void post_increment(icell_t *core, int64_t ptr, int mode, uint32_t m1)
{
    if (mode == B_POSTINC)
        core[ptr].b = (uint16_t)inc(core[ptr].b, m1);
    else if (mode == A_POSTINC)
        core[ptr].a = (uint16_t)inc(core[ptr].a, m1);
}

static int64_t pspace_get(const machine_t *mc, int64_t pb, int64_t w, int64_t index)
{
    /* P-space cell 0 is the warrior's own last result, even when P-space is shared. */
    int64_t i = index % mc->pspace_size;
    return i == 0 ? mc->last_result[w] : mc->pspace[pb + i];
}

static void pspace_set(machine_t *mc, int64_t pb, int64_t w, int64_t index, int64_t v)
{
    int64_t i = index % mc->pspace_size;
    if (i == 0)
        mc->last_result[w] = v;
    else
        mc->pspace[pb + i] = (int32_t)v;
}

/* Whether every living warrior has more processes than steps left to it. */
static int tie_certain(const warrior_t *wr, int64_t n_warriors, int64_t remaining,
                       int64_t left)
{
    int64_t most = (remaining + left - 1) / left;
    for (int64_t k = 0; k < n_warriors; k++) {
        int64_t tasks = wr[k].tasks;
        if (tasks > 0 && tasks <= most)
            return 0;
    }
    return 1;
}

/* An operand's address without read/write limits, p being pc + its number (wrapped);
 * applies a pre-decrement. For post-increment modes *t gets the pointer's old value,
 * which the caller increments once the register is read. */
ALWAYS_INLINE uint32_t operand(icell_t *core, uint32_t p, int mode, uint32_t m,
                               uint32_t *t)
{
    uint32_t x;
    switch (mode) {
    case DIRECT:
        return p;
    case B_INDIRECT:
        x = p + core[p].b;
        break;
    case A_INDIRECT:
        x = p + core[p].a;
        break;
    case B_PREDEC:
        *t = dec(core[p].b, m - 1);
        core[p].b = (uint16_t)*t;
        x = p + *t;
        break;
    case A_PREDEC:
        *t = dec(core[p].a, m - 1);
        core[p].a = (uint16_t)*t;
        x = p + *t;
        break;
    case B_POSTINC:
        *t = core[p].b;
        x = p + *t;
        break;
    default: /* A_POSTINC */
        *t = core[p].a;
        x = p + *t;
        break;
    }
    return x >= m ? x - m : x;
}

/* The A operand without limits, evaluated completely (increments included) before
 * the B one: its address and register (an immediate A is the fetched copy). */
ALWAYS_INLINE void operand_a(icell_t *core, uint32_t pc, uint32_t ir_a, uint32_t ir_b, const int mode,
                             uint32_t m, uint32_t *addr, uint32_t *ra_a, uint32_t *ra_b)
{
    if (mode == IMMEDIATE) {
        *addr = pc;
        *ra_a = ir_a;
        *ra_b = ir_b;
        return;
    }
    uint32_t p = pc + ir_a, t = 0;
    p = p >= m ? p - m : p;
    uint32_t x = operand(core, p, mode, m, &t);
    *addr = x;
    *ra_a = core[x].a;
    *ra_b = core[x].b;
    /* Post-increment after the register is read: it holds the old value. */
    if (mode == B_POSTINC)
        core[p].b = (uint16_t)inc(t, m - 1);
    else if (mode == A_POSTINC)
        core[p].a = (uint16_t)inc(t, m - 1);
}

/* The B operand without limits: an immediate B reads the core at pc, so it sees the
 * A operand's increments. */
ALWAYS_INLINE void operand_b(icell_t *core, uint32_t pc, uint32_t ir_b, const int mode,
                             uint32_t m, uint32_t *addr, uint32_t *rb_a, uint32_t *rb_b)
{
    uint32_t p = pc + ir_b, t = 0, x = pc;
    p = p >= m ? p - m : p;
    if (mode != IMMEDIATE)
        x = operand(core, p, mode, m, &t);
    *addr = x;
    *rb_a = core[x].a;
    *rb_b = core[x].b;
    if (mode == B_POSTINC)
        core[p].b = (uint16_t)inc(t, m - 1);
    else if (mode == A_POSTINC)
        core[p].a = (uint16_t)inc(t, m - 1);
}

/* Division or modulo into *field; 1 (the process dies) for a zero divisor. */
ALWAYS_INLINE int divide(uint16_t *field, uint32_t dividend, uint32_t divisor, int modulo)
{
    if (divisor == 0)
        return 1;
    *field = (uint16_t)(modulo ? dividend % divisor : dividend / divisor);
    return 0;
}

/* Dispatch. With GCC or Clang the hot loop is threaded code (labels as values): each
 * instruction's handler ends with its own copy of the next step's fetch and jump, so
 * the branch predictor sees one indirect jump per handler (which behaviour tends to
 * follow which) rather than one shared jump for every step. Elsewhere the same source
 * compiles to two switches. Both read the same tables: the addressing modes pair,
 * code & 63, and the behaviour case of the opcode and modifier, OM_CASE[code >> 6]. */
#if defined(__GNUC__) && !defined(MARS_NO_THREADED_CODE)
#define THREADED 1
#else
#define THREADED 0
#endif

/* The behaviour case of each OM(opcode, modifier) (mars_kernel.CASES); unused slots
 * (modifier 7) are DAT. */
static const uint8_t OM_CASE[N_OPCODES * 8] = {
#define ROW7(c0, c1, c2, c3, c4, c5, c6) c0, c1, c2, c3, c4, c5, c6, C_DAT
#define SAME7(c) ROW7(c, c, c, c, c, c, c)
    SAME7(C_DAT),                                                          /* DAT */
    ROW7(C_MOV_A, C_MOV_B, C_MOV_AB, C_MOV_BA, C_MOV_F, C_MOV_X, C_MOV_I), /* MOV */
    ROW7(C_ADD_A, C_ADD_B, C_ADD_AB, C_ADD_BA, C_ADD_F, C_ADD_X, C_ADD_F), /* ADD */
    ROW7(C_SUB_A, C_SUB_B, C_SUB_AB, C_SUB_BA, C_SUB_F, C_SUB_X, C_SUB_F), /* SUB */
    ROW7(C_MUL_A, C_MUL_B, C_MUL_AB, C_MUL_BA, C_MUL_F, C_MUL_X, C_MUL_F), /* MUL */
    ROW7(C_DIV_A, C_DIV_B, C_DIV_AB, C_DIV_BA, C_DIV_F, C_DIV_X, C_DIV_F), /* DIV */
    ROW7(C_MOD_A, C_MOD_B, C_MOD_AB, C_MOD_BA, C_MOD_F, C_MOD_X, C_MOD_F), /* MOD */
    SAME7(C_JMP),                                                          /* JMP */
    ROW7(C_JMZ_A, C_JMZ_B, C_JMZ_B, C_JMZ_A, C_JMZ_F, C_JMZ_F, C_JMZ_F),   /* JMZ */
    ROW7(C_JMN_A, C_JMN_B, C_JMN_B, C_JMN_A, C_JMN_F, C_JMN_F, C_JMN_F),   /* JMN */
    ROW7(C_DJN_A, C_DJN_B, C_DJN_B, C_DJN_A, C_DJN_F, C_DJN_F, C_DJN_F),   /* DJN */
    ROW7(C_SEQ_A, C_SEQ_B, C_SEQ_AB, C_SEQ_BA, C_SEQ_F, C_SEQ_X, C_SEQ_I), /* CMP */
    ROW7(C_SEQ_A, C_SEQ_B, C_SEQ_AB, C_SEQ_BA, C_SEQ_F, C_SEQ_X, C_SEQ_I), /* SEQ */
    ROW7(C_SNE_A, C_SNE_B, C_SNE_AB, C_SNE_BA, C_SNE_F, C_SNE_X, C_SNE_I), /* SNE */
    ROW7(C_SLT_A, C_SLT_B, C_SLT_AB, C_SLT_BA, C_SLT_F, C_SLT_X, C_SLT_F), /* SLT */
    SAME7(C_SPL),                                                          /* SPL */
    SAME7(C_NOP),                                                          /* NOP */
    ROW7(C_LDP_A, C_LDP_B, C_LDP_AB, C_LDP_BA, C_LDP_B, C_LDP_B, C_LDP_B), /* LDP */
    ROW7(C_STP_A, C_STP_B, C_STP_AB, C_STP_BA, C_STP_B, C_STP_B, C_STP_B), /* STP */
#undef SAME7
#undef ROW7
};

/* The 78 behaviour cases, for the handler table: X(case name) each. */
#define FOR_CASES(X)                                                              \
    X(C_DAT) X(C_NOP) X(C_JMP) X(C_SPL)                                           \
    X(C_MOV_A) X(C_MOV_B) X(C_MOV_AB) X(C_MOV_BA) X(C_MOV_F) X(C_MOV_X) X(C_MOV_I) \
    X(C_ADD_A) X(C_ADD_B) X(C_ADD_AB) X(C_ADD_BA) X(C_ADD_F) X(C_ADD_X)           \
    X(C_SUB_A) X(C_SUB_B) X(C_SUB_AB) X(C_SUB_BA) X(C_SUB_F) X(C_SUB_X)           \
    X(C_MUL_A) X(C_MUL_B) X(C_MUL_AB) X(C_MUL_BA) X(C_MUL_F) X(C_MUL_X)           \
    X(C_DIV_A) X(C_DIV_B) X(C_DIV_AB) X(C_DIV_BA) X(C_DIV_F) X(C_DIV_X)           \
    X(C_MOD_A) X(C_MOD_B) X(C_MOD_AB) X(C_MOD_BA) X(C_MOD_F) X(C_MOD_X)           \
    X(C_JMZ_A) X(C_JMZ_B) X(C_JMZ_F) X(C_JMN_A) X(C_JMN_B) X(C_JMN_F)             \
    X(C_DJN_A) X(C_DJN_B) X(C_DJN_F)                                              \
    X(C_SEQ_A) X(C_SEQ_B) X(C_SEQ_AB) X(C_SEQ_BA) X(C_SEQ_F) X(C_SEQ_X) X(C_SEQ_I) \
    X(C_SNE_A) X(C_SNE_B) X(C_SNE_AB) X(C_SNE_BA) X(C_SNE_F) X(C_SNE_X) X(C_SNE_I) \
    X(C_SLT_A) X(C_SLT_B) X(C_SLT_AB) X(C_SLT_BA) X(C_SLT_F) X(C_SLT_X)           \
    X(C_LDP_A) X(C_LDP_B) X(C_LDP_AB) X(C_LDP_BA)                                 \
    X(C_STP_A) X(C_STP_B) X(C_STP_AB) X(C_STP_BA)

/* The 64 addressing-mode pairs (A mode, B mode), for the operand table. */
#define FOR_MODE_ROW(X, a) X(a, 0) X(a, 1) X(a, 2) X(a, 3) X(a, 4) X(a, 5) X(a, 6) X(a, 7)
#define FOR_MODE_PAIRS(X)                                                         \
    FOR_MODE_ROW(X, 0) FOR_MODE_ROW(X, 1) FOR_MODE_ROW(X, 2) FOR_MODE_ROW(X, 3)    \
    FOR_MODE_ROW(X, 4) FOR_MODE_ROW(X, 5) FOR_MODE_ROW(X, 6) FOR_MODE_ROW(X, 7)

/* The living warrior before w in pMARS's ring (whose next is w): looked up, not
 * kept, as only a death and the end of a call need it. */
static warrior_t *before(warrior_t *w, int64_t n)
{
    warrior_t *p = w;
    for (int64_t i = 0; i < n; i++) {
        if (p->next == w)
            return p;
        p = p->next;
    }
    return w; /* unreachable on the rings load_round builds */
}

/* The step loop, compiled once per combination of behaviour tracking, read/write
 * limit folding and two warriors (constant flags), so that the common battle (two
 * warriors, no tracking, no folding) carries none of the others' work: this file
 * includes its own template section (at its end) once per combination. A function
 * with computed gotos cannot be inlined, hence no inline helper. */
#define MARS_STEP_TEMPLATE
#define RUN_STEPS run_plain
#define RUN_TRACK 0
#define RUN_FOLD 0
#define RUN_PAIR 0
#include "_mars.c"
#define RUN_STEPS run_folded
#define RUN_TRACK 0
#define RUN_FOLD 1
#define RUN_PAIR 0
#include "_mars.c"
#define RUN_STEPS run_tracked
#define RUN_TRACK 1
#define RUN_FOLD 0
#define RUN_PAIR 0
#include "_mars.c"
#define RUN_STEPS run_tracked_folded
#define RUN_TRACK 1
#define RUN_FOLD 1
#define RUN_PAIR 0
#include "_mars.c"
#define RUN_STEPS run_pair_plain
#define RUN_TRACK 0
#define RUN_FOLD 0
#define RUN_PAIR 1
#include "_mars.c"
#define RUN_STEPS run_pair_folded
#define RUN_TRACK 0
#define RUN_FOLD 1
#define RUN_PAIR 1
#include "_mars.c"
#define RUN_STEPS run_pair_tracked
#define RUN_TRACK 1
#define RUN_FOLD 0
#define RUN_PAIR 1
#include "_mars.c"
#define RUN_STEPS run_pair_tracked_folded
#define RUN_TRACK 1
#define RUN_FOLD 1
#define RUN_PAIR 1
#include "_mars.c"
#undef MARS_STEP_TEMPLATE

typedef int (*run_fn)(machine_t *);
/* [pair][track][folding] */
static const run_fn RUNS[2][2][2] = {
    {{run_plain, run_folded}, {run_tracked, run_tracked_folded}},
    {{run_pair_plain, run_pair_folded}, {run_pair_tracked, run_pair_tracked_folded}},
};

/* Run steps; -1 when out of memory. The per-warrior state is unpacked from wst into
 * warrior_t records for the run, and packed back after it. */
static int run_steps_any(machine_t *mc, int track)
{
    int64_t n = mc->n_warriors;
    warrior_t *wr = malloc(sizeof(warrior_t) * (size_t)n);
    if (!wr)
        return -1;
    for (int64_t k = 0; k < n; k++) {
        wr[k].q = mc->queue + k * mc->cap;
        wr[k].head = (uint32_t)mc->wst[4 * k + W_HEAD];
        wr[k].tasks = (uint32_t)mc->wst[4 * k + W_TASKS];
        wr[k].tail = (uint32_t)((wr[k].head + wr[k].tasks) & (mc->cap - 1));
        wr[k].next = wr + mc->wst[4 * k + W_NEXT];
    }
    mc->wr = wr;
    int folding = mc->read_limit != mc->m || mc->write_limit != mc->m;
    /* Two living warriors alternate: 0 -> 1 -> 0. */
    int pair = n == 2 && mc->st[ST_LEFT] == 2 && wr[0].next == wr + 1 && wr[1].next == wr;
    int done = RUNS[pair][track != 0][folding](mc);
    for (int64_t k = 0; k < n; k++) {
        mc->wst[4 * k + W_HEAD] = wr[k].head;
        mc->wst[4 * k + W_TASKS] = wr[k].tasks;
        mc->wst[4 * k + W_NEXT] = wr[k].next - wr;
    }
    free(wr);
    mc->wr = NULL;
    return done;
}

/* ------------------------------------------------------------------------ rounds */

/* pMARS's Park-Miller minimal standard generator (Schrage's method). */
static int64_t rng(int64_t seed)
{
    int64_t t = 16807 * (seed % 127773) - 2836 * (seed / 127773);
    if (t < 0)
        t += PARK_MILLER_MODULUS;
    return t;
}

/* pMARS posit(): random non-overlapping positions with backtracking; 1 if it gave
 * up (the caller then uses npos()). */
static int posit(int64_t *positions, int64_t *seed, int64_t n, int64_t m,
                 int64_t min_distance)
{
    int64_t pos = 1, retries1 = POSIT_RETRIES1, retries2 = POSIT_RETRIES2;
    int64_t span = m - 2 * min_distance + 1;
    while (pos < n) {
        *seed = rng(*seed);
        positions[pos] = *seed % span + min_distance;
        int64_t i = 1;
        while (i < pos) {
            int64_t d = positions[pos] - positions[i];
            if ((d < 0 ? -d : d) < min_distance)
                break;
            i++;
        }
        if (i == pos) {
            pos++;
        } else {
            if (retries2 == 0)
                return 1;
            if (retries1 == 0) {
                pos = i; /* backtrack to the last conflict, as pMARS does */
                retries2--;
                retries1 = POSIT_RETRIES1;
            } else {
                retries1--;
            }
        }
    }
    return 0;
}

/* pMARS npos(): the fallback placement (sorted gaps, then a shuffle). */
static void npos(int64_t *positions, int64_t *seed, int64_t n, int64_t m,
                 int64_t min_distance)
{
    int64_t room = m - min_distance * n + 1;
    for (int64_t i = 1; i < n; i++) {
        *seed = rng(*seed);
        int64_t temp = *seed % room;
        int64_t j = i - 1;
        while (j > 0) {
            if (temp > positions[j])
                break;
            positions[j + 1] = positions[j];
            j--;
        }
        positions[j + 1] = temp;
    }
    int64_t offset = min_distance;
    for (int64_t i = 1; i < n; i++) {
        positions[i] += offset;
        offset += min_distance;
    }
    for (int64_t i = 1; i < n; i++) {
        *seed = rng(*seed);
        int64_t j = *seed % (n - i) + i;
        int64_t temp = positions[j];
        positions[j] = positions[i];
        positions[i] = temp;
    }
}

/* Clear the core, copy the warriors in and reset the queues for a new round. */
static void load_round_c(icell_t *core, int32_t *queue, int64_t *wst, int64_t *st,
                         const uint16_t *w_code, const int64_t *w_off,
                         const int64_t *w_len, const int64_t *w_start, int64_t n,
                         const int64_t *positions, int64_t starter, int64_t m,
                         int64_t max_cycles, int64_t cap)
{
    for (int64_t i = 0; i < m; i++) {
        core[i].code = EMPTY_CODE;
        core[i].a = core[i].b = 0;
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t at = positions[k];
        const uint16_t *src = w_code + 4 * w_off[k];
        for (int64_t i = 0; i < w_len[k]; i++) {
            icell_t *dst = &core[(at + i) % m];
            dst->code = src[4 * i];
            dst->a = src[4 * i + 1];
            dst->b = src[4 * i + 2];
        }
        queue[k * cap] = (int32_t)((at + w_start[k]) % m);
        wst[4 * k + W_HEAD] = 0;
        wst[4 * k + W_TASKS] = 1;
        wst[4 * k + W_NEXT] = (k + 1) % n;
    }
    st[ST_CUR] = starter;
    st[ST_PREV] = (starter - 1 + n) % n;
    st[ST_COUNTER] = n * max_cycles;
    st[ST_LEFT] = n;
    st[ST_STEPS] = 0;
}

static int64_t queue_capacity_c(int64_t max_processes)
{
    int64_t cap = 1;
    while (cap < max_processes)
        cap *= 2;
    return cap;
}

typedef struct {
    const uint16_t *w_code;
    const int64_t *w_off, *w_len, *w_start, *ps_index;
    int64_t n, n_pspaces, m, max_cycles, max_processes, min_distance, read_limit,
        write_limit, pspace_size, rounds, seed;
    int permutate, track;
    int64_t *scores, *out_death, *out_cycles, *out_pos, *out_first, *out_tsp, *out_mc;
} battle_t;

/* Where every round of a battle loads its warriors and who moves first, as pMARS
 * draws them (one RNG sequence through the rounds): out_pos and out_first. 0, or -1
 * when out of memory. */
static int place_rounds(const battle_t *b)
{
    const int64_t n = b->n, m = b->m;
    const int64_t span = m + 1 - 2 * b->min_distance;
    int64_t seed = b->seed;
    int64_t *positions = calloc((size_t)n, sizeof(int64_t)); /* warrior 1 at 0 */
    int64_t *perm = calloc((size_t)(b->permutate ? 2 * span : 1), sizeof(int64_t));
    if (!positions || !perm) {
        free(positions);
        free(perm);
        return -1;
    }
    int64_t perm_left = 0;
    for (int64_t r = 0; r < b->rounds; r++) {
        int64_t starter = r % n;
        if (n == 2) {
            if (b->permutate) {
                if (perm_left == 0) {
                    for (int64_t i = 0; i < 2 * span; i++)
                        perm[i] = i;
                    perm_left = 2 * span;
                }
                int64_t k = seed % perm_left;
                positions[1] = b->min_distance + perm[k] / 2;
                starter = perm[k] % 2;
                perm_left--;
                perm[k] = perm[perm_left];
            } else {
                positions[1] = b->min_distance + seed % span;
            }
            seed = rng(seed);
        } else if (n > 2) {
            if (posit(positions, &seed, n, m, b->min_distance))
                npos(positions, &seed, n, m, b->min_distance);
        }
        for (int64_t w = 0; w < n; w++)
            b->out_pos[r * n + w] = positions[w];
        b->out_first[r] = starter;
    }
    free(positions);
    free(perm);
    return 0;
}

/* Whether a battle's rounds are independent, given their placements, so that
 * threads may share them: two warriors (one round's result is then its survivors)
 * and no P-space instruction (the only way a round sees an earlier one). */
static int rounds_independent(const battle_t *b)
{
    if (b->n != 2)
        return 0;
    for (int64_t k = 0; k < b->n; k++)
        for (int64_t i = b->w_off[k]; i < b->w_off[k] + b->w_len[k]; i++) {
            uint16_t kase = b->w_code[4 * i + 3];
            if (kase >= C_LDP_A && kase <= C_STP_BA)
                return 0;
        }
    return 1;
}

static void add_to(int64_t *x, int64_t v, int atomic)
{
    if (!atomic)
        *x += v;
    else
#if defined(__GNUC__)
        __atomic_fetch_add(x, v, __ATOMIC_RELAXED);
#else
        _InterlockedExchangeAdd64((volatile long long *)x, v);
#endif
}

/* Fight rounds r0..r1-1 of a battle placed by place_rounds; the steps executed, or
 * -1 when out of memory. Rounds run in order, each one's result in P-space for the
 * next; with `atomic` other threads fight other rounds of the same battle at the same
 * time (rounds_independent), so the scores are added atomically. */
static int64_t fight_rounds(const battle_t *b, int64_t r0, int64_t r1, int atomic)
{
    const int64_t n = b->n, m = b->m;
    const int64_t cap = queue_capacity_c(b->max_processes);
    const int64_t n_slots = 2 * n - 1;
    int64_t total_steps = 0;
    int64_t st[ST_SIZE] = {0};
    icell_t *core = malloc(sizeof(icell_t) * (size_t)m);
    int32_t *queue = calloc((size_t)(n * cap), sizeof(int32_t));
    int64_t *wst = calloc((size_t)(4 * n), sizeof(int64_t));
    int32_t *pspace = calloc((size_t)(b->n_pspaces * b->pspace_size), sizeof(int32_t));
    int64_t *ps_base = calloc((size_t)n, sizeof(int64_t));
    int64_t *last_result = calloc((size_t)n, sizeof(int64_t));
    int64_t *death_cycle = calloc((size_t)n, sizeof(int64_t));
    int64_t *death_left = calloc((size_t)n, sizeof(int64_t));
    int64_t *spawned = calloc((size_t)n, sizeof(int64_t));
    uint8_t *cover = calloc((size_t)(b->track ? n * m : 1), 1);
    if (!core || !queue || !wst || !pspace || !ps_base || !last_result || !death_cycle ||
        !death_left || !spawned || !cover) {
        total_steps = -1;
        goto cleanup;
    }
    for (int64_t k = 0; k < n; k++) {
        ps_base[k] = b->ps_index[k] * b->pspace_size;
        last_result[k] = m - 1; /* pMARS's "unlikely number" */
    }
    /* Skipping certain ties is exact unless the skipped steps could write P-space;
     * STP can only be in the core if some warrior brought one. Tracking counts the
     * whole round, so it turns the shortcut off too. */
    int tie_shortcut = !b->track;
    for (int64_t k = 0; k < n; k++)
        for (int64_t i = b->w_off[k]; i < b->w_off[k] + b->w_len[k]; i++) {
            uint16_t kase = b->w_code[4 * i + 3];
            if (kase >= C_STP_A && kase <= C_STP_BA)
                tie_shortcut = 0;
        }
    machine_t mc = {
        .core = core, .queue = queue, .wst = wst, .n_warriors = n, .pspace = pspace,
        .ps_base = ps_base, .last_result = last_result, .st = st,
        .death_cycle = death_cycle, .death_left = death_left, .spawned = spawned,
        .cover = cover, .m = m, .read_limit = b->read_limit,
        .write_limit = b->write_limit, .max_processes = b->max_processes, .cap = cap,
        .pspace_size = b->pspace_size, .max_cycles = b->max_cycles,
    };
    for (int64_t r = r0; r < r1; r++) {
        const int64_t *positions = b->out_pos + r * n;
        load_round_c(core, queue, wst, st, b->w_code, b->w_off, b->w_len, b->w_start, n,
                     positions, b->out_first[r], m, b->max_cycles, cap);
        for (int64_t w = 0; w < n; w++) {
            death_cycle[w] = -1;
            spawned[w] = 0;
        }
        st[ST_BUDGET] = NO_STEP_LIMIT;
        st[ST_SHORTCUT] = tie_shortcut;
        if (run_steps_any(&mc, b->track) < 0) {
            total_steps = -1;
            goto cleanup;
        }
        total_steps += st[ST_STEPS];
        if (b->track) {
            /* The round's descriptors: add the still-queued addresses to the marks,
             * count them per warrior, then clear the marks for the next round. */
            int64_t mask = cap - 1;
            for (int64_t w = 0; w < n; w++) {
                int64_t head = wst[4 * w + W_HEAD];
                for (int64_t i = 0; i < wst[4 * w + W_TASKS]; i++)
                    cover[w * m + queue[w * cap + ((head + i) & mask)]] = 1;
                int64_t covered = 0;
                for (int64_t a = w * m; a < (w + 1) * m; a++)
                    covered += cover[a];
                b->out_mc[r * n + w] = covered;
                b->out_tsp[r * n + w] = spawned[w];
            }
            memset(cover, 0, (size_t)(n * m));
        }
        int64_t left = st[ST_LEFT];
        int64_t last_death = -1;
        for (int64_t w = 0; w < n; w++) {
            if (wst[4 * w + W_TASKS] > 0) {
                add_to(&b->scores[w * n_slots + left - 1], 1, atomic);
                last_result[w] = left;
                b->out_death[r * n + w] = -1;
            } else {
                add_to(&b->scores[w * n_slots + death_left[w] + n - 2], 1, atomic);
                last_result[w] = 0;
                b->out_death[r * n + w] = death_cycle[w];
                if (death_cycle[w] > last_death)
                    last_death = death_cycle[w];
            }
        }
        /* The round ended by a death when fewer than min(2, W) warriors are left. */
        b->out_cycles[r] = left < (n < 2 ? n : 2) ? last_death + 1 : b->max_cycles;
    }
cleanup:
    free(core);
    free(queue);
    free(wst);
    free(pspace);
    free(ps_base);
    free(last_result);
    free(death_cycle);
    free(death_left);
    free(spawned);
    free(cover);
    return total_steps;
}

/* A whole battle (every round); the steps executed, or -1 when out of memory. */
static int64_t battle_c(const battle_t *b)
{
    if (place_rounds(b) < 0)
        return -1;
    return fight_rounds(b, 0, b->rounds, 0);
}

/* The numba kernel's core arrays carry each cell's behaviour case, the C engine's do
 * not: these convert (for Mars, which steps on those arrays). kase_of[code >> 6] is
 * the case of a code; every code a core can hold is one it was loaded with (MOV.I
 * only copies codes), so a table filled from the loaded cells covers them all. */
static void compact(const cell_t *src, icell_t *dst, int64_t m, uint16_t *kase_of)
{
    for (int64_t i = 0; i < m; i++) {
        dst[i].code = src[i].code;
        dst[i].a = src[i].a;
        dst[i].b = src[i].b;
        kase_of[(src[i].code >> 6) & 0x3FF] = src[i].kase;
    }
}

static void expand(const icell_t *src, cell_t *dst, int64_t m, const uint16_t *kase_of)
{
    for (int64_t i = 0; i < m; i++) {
        dst[i].code = src[i].code;
        dst[i].a = src[i].a;
        dst[i].b = src[i].b;
        dst[i].kase = kase_of[(src[i].code >> 6) & 0x3FF];
    }
}

/* ---------------------------------------------------------------- Python binding */

/* Buffers of one call, released together. */
typedef struct {
    Py_buffer views[24];
    int count;
} buffers_t;

static void release_all(buffers_t *bufs)
{
    for (int i = 0; i < bufs->count; i++)
        PyBuffer_Release(&bufs->views[i]);
    bufs->count = 0;
}

/* A C-contiguous buffer of `itemsize`-byte integers (format one of `formats`) with at
 * least `min_len` items; its data, or NULL with a TypeError/ValueError set. */
static void *get_array(buffers_t *bufs, PyObject *obj, const char *name, Py_ssize_t itemsize,
                       const char *formats, Py_ssize_t min_len, int writable,
                       Py_ssize_t *len)
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
                     "%s: expected a contiguous array of %zd-byte integers (format %s), "
                     "got format %s",
                     name, itemsize, formats, view->format ? view->format : "B");
        return NULL;
    }
    Py_ssize_t n = view->len / itemsize;
    if (n < min_len) {
        PyErr_Format(PyExc_ValueError, "%s: expected at least %zd items, got %zd", name,
                     min_len, n);
        return NULL;
    }
    if (len)
        *len = n;
    return view->buf;
}

#define I64 "lq"
#define U16 "H"
#define I32 "i"
#define U8 "B?"

PyDoc_STRVAR(battle_kernel_doc,
             "battle_kernel(w_code, w_off, w_len, w_start, ps_index, n_pspaces, core_size,\n"
             "    max_cycles, max_processes, min_distance, read_limit, write_limit,\n"
             "    pspace_size, rounds, seed, permutate, track, scores, out_death,\n"
             "    out_cycles, out_pos, out_first, out_tsp, out_mc) -> steps\n\n"
             "mars_kernel.battle_kernel in C (same arguments, outputs and result); the\n"
             "GIL is released while the battle runs.");

static PyObject *py_battle_kernel(PyObject *self, PyObject *args)
{
    PyObject *o[5], *out[7];
    long long n_pspaces, core_size, max_cycles, max_processes, min_distance, read_limit,
        write_limit, pspace_size, rounds, seed;
    int permutate, track;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOLLLLLLLLLLppOOOOOOO:battle_kernel", &o[0], &o[1],
                          &o[2], &o[3], &o[4], &n_pspaces, &core_size, &max_cycles,
                          &max_processes, &min_distance, &read_limit, &write_limit,
                          &pspace_size, &rounds, &seed, &permutate, &track, &out[0],
                          &out[1], &out[2], &out[3], &out[4], &out[5], &out[6]))
        return NULL;
    if (core_size < 2 || core_size > 65536 || max_cycles < 1 || max_processes < 1 ||
        rounds < 0 || seed < 0 || pspace_size < 1 || n_pspaces < 1 || read_limit < 1 ||
        write_limit < 1 || min_distance < 0) {
        PyErr_SetString(PyExc_ValueError, "battle_kernel: invalid settings");
        return NULL;
    }
    buffers_t bufs = {.count = 0};
    battle_t b = {0};
    Py_ssize_t n, code_len;
    PyObject *result = NULL;
    b.w_off = get_array(&bufs, o[1], "w_off", 8, I64, 1, 0, &n);
    if (!b.w_off)
        goto done;
    b.n = n;
    b.w_code = get_array(&bufs, o[0], "w_code", 2, U16, 0, 0, &code_len);
    b.w_len = b.w_code ? get_array(&bufs, o[2], "w_len", 8, I64, n, 0, NULL) : NULL;
    b.w_start = b.w_len ? get_array(&bufs, o[3], "w_start", 8, I64, n, 0, NULL) : NULL;
    b.ps_index = b.w_start ? get_array(&bufs, o[4], "ps_index", 8, I64, n, 0, NULL) : NULL;
    if (!b.ps_index)
        goto done;
    if (n == 2 && 2 * min_distance > core_size) {
        PyErr_SetString(PyExc_ValueError, "battle_kernel: min_distance too large");
        goto done;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        if (b.w_off[k] < 0 || b.w_len[k] < 0 || 4 * (b.w_off[k] + b.w_len[k]) > code_len ||
            b.ps_index[k] < 0 || b.ps_index[k] >= n_pspaces || b.w_start[k] < 0) {
            PyErr_SetString(PyExc_ValueError, "battle_kernel: warrior arrays out of range");
            goto done;
        }
    }
    Py_ssize_t cells = n * rounds;
    int64_t **dst[7] = {&b.scores, &b.out_death, &b.out_cycles, &b.out_pos,
                        &b.out_first, &b.out_tsp, &b.out_mc};
    const char *names[7] = {"scores", "out_death", "out_cycles", "out_pos",
                            "out_first", "out_tsp", "out_mc"};
    Py_ssize_t need[7] = {n * (2 * n - 1), cells, rounds, cells, rounds,
                          track ? cells : 0, track ? cells : 0};
    for (int i = 0; i < 7; i++) {
        *dst[i] = get_array(&bufs, out[i], names[i], 8, I64, need[i], 1, NULL);
        if (!*dst[i])
            goto done;
    }
    b.n_pspaces = n_pspaces;
    b.m = core_size;
    b.max_cycles = max_cycles;
    b.max_processes = max_processes;
    b.min_distance = min_distance;
    b.read_limit = read_limit;
    b.write_limit = write_limit;
    b.pspace_size = pspace_size;
    b.rounds = rounds;
    b.seed = seed;
    b.permutate = permutate && n == 2;
    b.track = track;
    int64_t steps;
    Py_BEGIN_ALLOW_THREADS
    steps = battle_c(&b);
    Py_END_ALLOW_THREADS
    if (steps < 0)
        PyErr_NoMemory();
    else
        result = PyLong_FromLongLong(steps);
done:
    release_all(&bufs);
    return result;
}

/* The next unclaimed job of a batch; threads share it. */
static int64_t claim_job(int64_t *next_job)
{
#if defined(__GNUC__)
    return __atomic_fetch_add(next_job, 1, __ATOMIC_RELAXED);
#elif defined(_MSC_VER)
    return _InterlockedExchangeAdd64((volatile long long *)next_job, 1);
#else
#error "no atomic fetch-add for this compiler"
#endif
}

PyDoc_STRVAR(battle_batch_doc,
             "battle_batch(params, w_code, w_off, w_len, w_start, ps_index, warrior_base,\n"
             "    score_base, round_base, cell_base, scores, out_death, out_cycles,\n"
             "    out_pos, out_first, out_tsp, out_mc, steps, next_job, mode=0) -> None\n\n"
             "mars_kernel.battle_many_kernel in C: the jobs of a batch, in one call with\n"
             "the GIL released throughout. Work is claimed one unit at a time from the\n"
             "counter next_job[0] (an atomic fetch-add), so several threads may call\n"
             "this on the same arrays and counter to share the batch; each returns when\n"
             "no unit is left. params[j] holds job j's settings in battle_kernel order.\n"
             "mode 0: a unit is a whole battle. mode 1: place every round of every job\n"
             "(out_pos, out_first), fighting none. mode 2, after mode 1: fight them, a\n"
             "unit being a run of rounds where a battle's rounds are independent (two\n"
             "warriors, no P-space instruction: threads then share a long battle),\n"
             "else a whole battle; scores and steps are added atomically.");

/* The work units of a job in mode 2: up to ROUND_UNITS runs of rounds where its
 * rounds are independent, else one. */
#define ROUND_UNITS 8
static int64_t job_units(const battle_t *b)
{
    if (!rounds_independent(b) || b->rounds < 2)
        return 1;
    return b->rounds < ROUND_UNITS ? b->rounds : ROUND_UNITS;
}

static PyObject *py_battle_batch(PyObject *self, PyObject *args)
{
    PyObject *o[19];
    int mode = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOOOOOOOO|i:battle_batch", &o[0], &o[1], &o[2],
                          &o[3], &o[4], &o[5], &o[6], &o[7], &o[8], &o[9], &o[10],
                          &o[11], &o[12], &o[13], &o[14], &o[15], &o[16], &o[17], &o[18],
                          &mode))
        return NULL;
    if (mode < 0 || mode > 2) {
        PyErr_SetString(PyExc_ValueError, "battle_batch: mode must be 0, 1 or 2");
        return NULL;
    }
    buffers_t bufs = {.count = 0};
    PyObject *result = NULL;
    Py_ssize_t n_params, n_code, n_w, n_scores, n_rounds, n_cells;
    Py_ssize_t n_tsp, n_mc, n_jobs_steps;
    const int64_t *params = get_array(&bufs, o[0], "params", 8, I64, 0, 0, &n_params);
    const uint16_t *w_code =
        params ? get_array(&bufs, o[1], "w_code", 2, U16, 0, 0, &n_code) : NULL;
    const int64_t *w_off = w_code ? get_array(&bufs, o[2], "w_off", 8, I64, 0, 0, &n_w) : NULL;
    const int64_t *w_len = w_off ? get_array(&bufs, o[3], "w_len", 8, I64, n_w, 0, NULL) : NULL;
    const int64_t *w_start =
        w_len ? get_array(&bufs, o[4], "w_start", 8, I64, n_w, 0, NULL) : NULL;
    const int64_t *ps_index =
        w_start ? get_array(&bufs, o[5], "ps_index", 8, I64, n_w, 0, NULL) : NULL;
    Py_ssize_t jobs = n_params / 12;
    const int64_t *warrior_base =
        ps_index ? get_array(&bufs, o[6], "warrior_base", 8, I64, jobs + 1, 0, NULL) : NULL;
    const int64_t *score_base =
        warrior_base ? get_array(&bufs, o[7], "score_base", 8, I64, jobs + 1, 0, NULL) : NULL;
    const int64_t *round_base =
        score_base ? get_array(&bufs, o[8], "round_base", 8, I64, jobs + 1, 0, NULL) : NULL;
    const int64_t *cell_base =
        round_base ? get_array(&bufs, o[9], "cell_base", 8, I64, jobs + 1, 0, NULL) : NULL;
    int64_t *scores =
        cell_base ? get_array(&bufs, o[10], "scores", 8, I64, 0, 1, &n_scores) : NULL;
    int64_t *out_death =
        scores ? get_array(&bufs, o[11], "out_death", 8, I64, 0, 1, &n_cells) : NULL;
    int64_t *out_cycles =
        out_death ? get_array(&bufs, o[12], "out_cycles", 8, I64, 0, 1, &n_rounds) : NULL;
    int64_t *out_pos =
        out_cycles ? get_array(&bufs, o[13], "out_pos", 8, I64, n_cells, 1, NULL) : NULL;
    int64_t *out_first =
        out_pos ? get_array(&bufs, o[14], "out_first", 8, I64, n_rounds, 1, NULL) : NULL;
    int64_t *out_tsp =
        out_first ? get_array(&bufs, o[15], "out_tsp", 8, I64, 0, 1, &n_tsp) : NULL;
    int64_t *out_mc = out_tsp ? get_array(&bufs, o[16], "out_mc", 8, I64, 0, 1, &n_mc) : NULL;
    int64_t *steps =
        out_mc ? get_array(&bufs, o[17], "steps", 8, I64, jobs, 1, &n_jobs_steps) : NULL;
    int64_t *next_job = steps ? get_array(&bufs, o[18], "next_job", 8, I64, 1, 1, NULL) : NULL;
    if (!next_job)
        goto done;
    if (n_params % 12) {
        PyErr_SetString(PyExc_ValueError, "battle_batch: params must be (jobs, 12)");
        goto done;
    }
    /* Every job is checked before any runs: the loop below cannot fail but for
     * memory. */
    for (Py_ssize_t j = 0; j < jobs; j++) {
        const int64_t *p = params + 12 * j;
        int64_t w0 = warrior_base[j], w1 = warrior_base[j + 1];
        int64_t n = w1 - w0, rounds = p[8], track = p[11] != 0;
        int64_t s0 = score_base[j], r0 = round_base[j], c0 = cell_base[j];
        if (p[1] < 2 || p[1] > 65536 || p[2] < 1 || p[3] < 1 || rounds < 0 || p[9] < 0 ||
            p[7] < 1 || p[0] < 1 || p[5] < 1 || p[6] < 1 || p[4] < 0 || n < 1 || w0 < 0 ||
            w1 > n_w || (n == 2 && 2 * p[4] > p[1]) || s0 < 0 ||
            score_base[j + 1] - s0 != n * (2 * n - 1) || score_base[j + 1] > n_scores ||
            r0 < 0 || round_base[j + 1] - r0 != rounds || round_base[j + 1] > n_rounds ||
            c0 < 0 || cell_base[j + 1] - c0 != n * rounds || cell_base[j + 1] > n_cells ||
            (track && (cell_base[j + 1] > n_tsp || cell_base[j + 1] > n_mc))) {
            PyErr_Format(PyExc_ValueError, "battle_batch: invalid job %zd", j);
            goto done;
        }
        for (int64_t k = w0; k < w1; k++) {
            if (w_off[k] < 0 || w_len[k] < 0 || 4 * (w_off[k] + w_len[k]) > n_code ||
                ps_index[k] < 0 || ps_index[k] >= p[0] || w_start[k] < 0) {
                PyErr_Format(PyExc_ValueError, "battle_batch: job %zd's warriors out of range",
                             j);
                goto done;
            }
        }
    }
    int failed = 0;
    /* Job j's battle_t: its slices of the batch's arrays. */
#define JOB_BATTLE(b, j)                                                          \
    const int64_t *p = params + 12 * (j);                                         \
    int64_t w0 = warrior_base[j], c0 = cell_base[j], r0 = round_base[j];         \
    battle_t b = {                                                                \
        .w_code = w_code, .w_off = w_off + w0, .w_len = w_len + w0,               \
        .w_start = w_start + w0, .ps_index = ps_index + w0,                       \
        .n = warrior_base[(j) + 1] - w0, .n_pspaces = p[0], .m = p[1],            \
        .max_cycles = p[2], .max_processes = p[3], .min_distance = p[4],          \
        .read_limit = p[5], .write_limit = p[6], .pspace_size = p[7],             \
        .rounds = p[8], .seed = p[9],                                             \
        .permutate = p[10] != 0 && warrior_base[(j) + 1] - w0 == 2,               \
        .track = p[11] != 0, .scores = scores + score_base[j],                    \
        .out_death = out_death + c0, .out_cycles = out_cycles + r0,               \
        .out_pos = out_pos + c0, .out_first = out_first + r0,                     \
        .out_tsp = out_tsp + c0, .out_mc = out_mc + c0,                           \
    }
    Py_BEGIN_ALLOW_THREADS
    if (mode == 1) {
        for (Py_ssize_t j = 0; j < jobs && !failed; j++) {
            JOB_BATTLE(b, j);
            failed = place_rounds(&b) < 0;
        }
    } else if (mode == 0) {
        for (;;) {
            int64_t j = claim_job(next_job);
            if (j >= jobs)
                break;
            JOB_BATTLE(b, j);
            steps[j] = battle_c(&b);
            if (steps[j] < 0)
                failed = 1;
        }
    } else {
        /* Units are numbered job by job; claimed numbers only grow, so the job of
         * each is found by walking forward. */
        int64_t j = 0, first_unit = 0, units = jobs > 0 ? -1 : 0;
        for (;;) {
            int64_t u = claim_job(next_job);
            while (j < jobs) {
                JOB_BATTLE(b, j);
                if (units < 0)
                    units = job_units(&b);
                if (u < first_unit + units) {
                    int64_t k = u - first_unit;
                    int64_t from = b.rounds * k / units, to = b.rounds * (k + 1) / units;
                    int64_t done = fight_rounds(&b, from, to, 1);
                    if (done < 0)
                        failed = 1;
                    else
                        add_to(&steps[j], done, 1);
                    break;
                }
                first_unit += units;
                units = -1;
                j++;
            }
            if (j >= jobs)
                break;
        }
    }
#undef JOB_BATTLE
    Py_END_ALLOW_THREADS
    if (failed)
        PyErr_NoMemory();
    else
        result = (Py_INCREF(Py_None), Py_None);
done:
    release_all(&bufs);
    return result;
}

PyDoc_STRVAR(run_steps_doc,
             "run_steps(core, queue, wst, pspace, ps_base, last_result, st, death_cycle,\n"
             "    death_left, spawned, cover, core_size, read_limit, write_limit,\n"
             "    max_processes, cap, pspace_size, max_cycles) -> bool\n\n"
             "mars_kernel.run_steps in C (no behaviour tracking): up to st[ST_BUDGET]\n"
             "steps of the current round; True once it is over.");

static PyObject *py_run_steps(PyObject *self, PyObject *args)
{
    PyObject *o[11];
    long long core_size, read_limit, write_limit, max_processes, cap, pspace_size,
        max_cycles;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOLLLLLLL:run_steps", &o[0], &o[1], &o[2],
                          &o[3], &o[4], &o[5], &o[6], &o[7], &o[8], &o[9], &o[10],
                          &core_size, &read_limit, &write_limit, &max_processes, &cap,
                          &pspace_size, &max_cycles))
        return NULL;
    if (core_size < 2 || core_size > 65536 || cap < 1 || (cap & (cap - 1)) ||
        cap < max_processes || pspace_size < 1 || read_limit < 1 || write_limit < 1) {
        PyErr_SetString(PyExc_ValueError, "run_steps: invalid settings");
        return NULL;
    }
    buffers_t bufs = {.count = 0};
    machine_t mc = {0};
    PyObject *result = NULL;
    Py_ssize_t n_wst, n, ps_len, q_len;
    mc.wst = get_array(&bufs, o[2], "wst", 8, I64, 4, 1, &n_wst);
    if (!mc.wst)
        goto done;
    n = n_wst / 4;
    mc.n_warriors = n;
    cell_t *core4 = get_array(&bufs, o[0], "core", 2, U16, 4 * core_size, 1, NULL);
    if (!core4)
        goto done;
    mc.queue = get_array(&bufs, o[1], "queue", 4, I32, n * cap, 1, &q_len);
    mc.pspace = mc.queue ? get_array(&bufs, o[3], "pspace", 4, I32, 0, 1, &ps_len) : NULL;
    mc.ps_base = mc.pspace ? get_array(&bufs, o[4], "ps_base", 8, I64, n, 0, NULL) : NULL;
    mc.last_result =
        mc.ps_base ? get_array(&bufs, o[5], "last_result", 8, I64, n, 1, NULL) : NULL;
    mc.st = mc.last_result ? get_array(&bufs, o[6], "st", 8, I64, ST_SIZE, 1, NULL) : NULL;
    mc.death_cycle =
        mc.st ? get_array(&bufs, o[7], "death_cycle", 8, I64, n, 1, NULL) : NULL;
    mc.death_left =
        mc.death_cycle ? get_array(&bufs, o[8], "death_left", 8, I64, n, 1, NULL) : NULL;
    mc.spawned =
        mc.death_left ? get_array(&bufs, o[9], "spawned", 8, I64, n, 1, NULL) : NULL;
    mc.cover = mc.spawned ? get_array(&bufs, o[10], "cover", 1, U8, 1, 1, NULL) : NULL;
    if (!mc.cover)
        goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (mc.ps_base[k] < 0 || mc.ps_base[k] + pspace_size > ps_len) {
            PyErr_SetString(PyExc_ValueError, "run_steps: ps_base out of range");
            goto done;
        }
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        int64_t *ws = mc.wst + 4 * k;
        if (ws[W_HEAD] < 0 || ws[W_HEAD] >= cap || ws[W_TASKS] < 0 || ws[W_TASKS] > cap ||
            ws[W_NEXT] < 0 || ws[W_NEXT] >= n) {
            PyErr_SetString(PyExc_ValueError, "run_steps: invalid warrior state");
            goto done;
        }
    }
    if (mc.st[ST_CUR] < 0 || mc.st[ST_CUR] >= n || mc.st[ST_PREV] < 0 ||
        mc.st[ST_PREV] >= n || mc.st[ST_LEFT] < 1) {
        PyErr_SetString(PyExc_ValueError, "run_steps: invalid round state");
        goto done;
    }
    mc.m = core_size;
    mc.read_limit = read_limit;
    mc.write_limit = write_limit;
    mc.max_processes = max_processes;
    mc.cap = cap;
    mc.pspace_size = pspace_size;
    mc.max_cycles = max_cycles;
    int finished = -1;
    mc.core = malloc(sizeof(icell_t) * (size_t)core_size);
    Py_BEGIN_ALLOW_THREADS
    if (mc.core) {
        uint16_t kase_of[1024] = {0};
        compact(core4, mc.core, core_size, kase_of);
        finished = run_steps_any(&mc, 0);
        expand(mc.core, core4, core_size, kase_of);
    }
    Py_END_ALLOW_THREADS
    free(mc.core);
    result = finished < 0 ? PyErr_NoMemory() : PyBool_FromLong(finished);
done:
    release_all(&bufs);
    return result;
}

PyDoc_STRVAR(load_round_doc,
             "load_round(core, queue, wst, st, w_code, w_off, w_len, w_start, positions,\n"
             "    starter, core_size, max_cycles, cap)\n\n"
             "mars_kernel.load_round in C: clear the core, load the warriors, reset the\n"
             "queues and the round state.");

static PyObject *py_load_round(PyObject *self, PyObject *args)
{
    PyObject *o[9];
    long long starter, core_size, max_cycles, cap;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOLLLL:load_round", &o[0], &o[1], &o[2], &o[3],
                          &o[4], &o[5], &o[6], &o[7], &o[8], &starter, &core_size,
                          &max_cycles, &cap))
        return NULL;
    buffers_t bufs = {.count = 0};
    PyObject *result = NULL;
    Py_ssize_t n, code_len;
    const int64_t *w_off = get_array(&bufs, o[5], "w_off", 8, I64, 1, 0, &n);
    if (!w_off)
        goto done;
    if (core_size < 2 || core_size > 65536 || cap < 1 || starter < 0 || starter >= n) {
        PyErr_SetString(PyExc_ValueError, "load_round: invalid settings");
        goto done;
    }
    cell_t *core4 = get_array(&bufs, o[0], "core", 2, U16, 4 * core_size, 1, NULL);
    int32_t *queue = core4 ? get_array(&bufs, o[1], "queue", 4, I32, n * cap, 1, NULL) : NULL;
    int64_t *wst = queue ? get_array(&bufs, o[2], "wst", 8, I64, 4 * n, 1, NULL) : NULL;
    int64_t *st = wst ? get_array(&bufs, o[3], "st", 8, I64, ST_SIZE, 1, NULL) : NULL;
    const uint16_t *w_code =
        st ? get_array(&bufs, o[4], "w_code", 2, U16, 0, 0, &code_len) : NULL;
    const int64_t *w_len = w_code ? get_array(&bufs, o[6], "w_len", 8, I64, n, 0, NULL) : NULL;
    const int64_t *w_start =
        w_len ? get_array(&bufs, o[7], "w_start", 8, I64, n, 0, NULL) : NULL;
    const int64_t *positions =
        w_start ? get_array(&bufs, o[8], "positions", 8, I64, n, 0, NULL) : NULL;
    if (!positions)
        goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (w_off[k] < 0 || w_len[k] < 0 || 4 * (w_off[k] + w_len[k]) > code_len ||
            positions[k] < 0 || w_start[k] < 0) {
            PyErr_SetString(PyExc_ValueError, "load_round: warrior arrays out of range");
            goto done;
        }
    }
    icell_t *core = malloc(sizeof(icell_t) * (size_t)core_size);
    if (!core) {
        PyErr_NoMemory();
        goto done;
    }
    uint16_t kase_of[1024] = {0}; /* the empty cell, DAT.F, is case 0 */
    for (Py_ssize_t i = 0; i < code_len / 4; i++)
        kase_of[(w_code[4 * i] >> 6) & 0x3FF] = w_code[4 * i + 3];
    load_round_c(core, queue, wst, st, w_code, w_off, w_len, w_start, n, positions,
                 starter, core_size, max_cycles, cap);
    expand(core, core4, core_size, kase_of);
    free(core);
    Py_INCREF(Py_None);
    result = Py_None;
done:
    release_all(&bufs);
    return result;
}

static PyObject *py_queue_capacity(PyObject *self, PyObject *arg)
{
    (void)self;
    long long max_processes = PyLong_AsLongLong(arg);
    if (max_processes == -1 && PyErr_Occurred())
        return NULL;
    return PyLong_FromLongLong(queue_capacity_c(max_processes));
}

PyDoc_STRVAR(survival_shares_doc,
             "survival_shares(out_death, n_warriors, rounds, max_cycles) -> list[float]\n\n"
             "mars_kernel.survival_shares in C (same floating-point operations, in the\n"
             "same order).");

static PyObject *py_survival_shares(PyObject *self, PyObject *args)
{
    PyObject *o;
    long long n, rounds, max_cycles;
    (void)self;
    if (!PyArg_ParseTuple(args, "OLLL:survival_shares", &o, &n, &rounds, &max_cycles))
        return NULL;
    if (n < 1 || rounds < 0) {
        PyErr_SetString(PyExc_ValueError, "survival_shares: invalid sizes");
        return NULL;
    }
    buffers_t bufs = {.count = 0};
    PyObject *result = NULL;
    double *shares = NULL;
    int64_t *ends = NULL, *sorted = NULL;
    const int64_t *death = get_array(&bufs, o, "out_death", 8, I64, n * rounds, 0, NULL);
    if (!death)
        goto done;
    shares = calloc((size_t)n, sizeof(double));
    ends = calloc((size_t)n, sizeof(int64_t));
    sorted = calloc((size_t)n, sizeof(int64_t));
    if (!shares || !ends || !sorted) {
        PyErr_NoMemory();
        goto done;
    }
    for (int64_t r = 0; r < rounds; r++) {
        for (int64_t w = 0; w < n; w++) {
            int64_t d = death[r * n + w];
            ends[w] = d < 0 ? max_cycles : d;
            /* insertion sort: the ends in increasing order */
            int64_t j = w;
            while (j > 0 && sorted[j - 1] > ends[w]) {
                sorted[j] = sorted[j - 1];
                j--;
            }
            sorted[j] = ends[w];
        }
        int64_t start = 0;
        for (int64_t idx = 0; idx < n; idx++) {
            int64_t end = sorted[idx];
            if (end <= start)
                continue;
            int64_t alive = 0;
            for (int64_t w = 0; w < n; w++)
                alive += ends[w] > start;
            for (int64_t w = 0; w < n; w++)
                if (ends[w] > start)
                    shares[w] += (double)(end - start) / (double)alive;
            start = end;
        }
    }
    double scale = (double)n / (double)(max_cycles * (rounds > 1 ? rounds : 1));
    result = PyList_New((Py_ssize_t)n);
    for (int64_t w = 0; result && w < n; w++) {
        PyObject *x = PyFloat_FromDouble(shares[w] * scale);
        if (!x) {
            Py_CLEAR(result);
            break;
        }
        PyList_SET_ITEM(result, w, x);
    }
done:
    free(shares);
    free(ends);
    free(sorted);
    release_all(&bufs);
    return result;
}

static PyMethodDef methods[] = {
    {"battle_kernel", py_battle_kernel, METH_VARARGS, battle_kernel_doc},
    {"battle_batch", py_battle_batch, METH_VARARGS, battle_batch_doc},
    {"run_steps", py_run_steps, METH_VARARGS, run_steps_doc},
    {"load_round", py_load_round, METH_VARARGS, load_round_doc},
    {"queue_capacity", py_queue_capacity, METH_O,
     "queue_capacity(max_processes): the smallest power of two >= max_processes."},
    {"survival_shares", py_survival_shares, METH_VARARGS, survival_shares_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_mars",
    "The MARS interpreter in C, a port of mars_kernel (see _mars.c).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__mars(void)
{
    PyObject *mod = PyModule_Create(&module);
    if (mod && PyModule_AddIntConstant(mod, "N_CASES", N_CASES) < 0)
        Py_CLEAR(mod);
    return mod;
}

#else /* MARS_STEP_TEMPLATE: one step loop, RUN_STEPS(mc), see its includes above */

/* Execute up to st[ST_BUDGET] steps of the current round; 1 once it is over.
 *
 * A step: FETCH (pop the current warrior's next process, copy its instruction to the
 * register ir), the operands (one handler per mode pair, or the folded code under
 * read/write limits), then the behaviour case's handler, which queues the successor
 * and ends in NEXT (the warrior survived the step) or DIE (the process died).
 *
 * What the hot path keeps in registers is kept small on purpose (a spilled step
 * counter costs a store-to-load round trip every step): the step budget is folded
 * into the counter (the loop stops when counter reaches `stop`; see below), the
 * warrior before the current one (pMARS's ring of living warriors) is only looked up
 * when a warrior dies or the call ends, and with two warriors the next one is the
 * other one, without a load (RUN_PAIR). */
static int RUN_STEPS(machine_t *mc)
{
    enum { TRACK = RUN_TRACK, FOLD = RUN_FOLD, PAIR = RUN_PAIR };
    icell_t *const core = mc->core;
    warrior_t *const wr = mc->wr;
    int64_t *const st = mc->st;
    const uint32_t m = (uint32_t)mc->m;
    const uint32_t m1 = m - 1;
    const uint32_t mask = (uint32_t)mc->cap - 1;
    const int64_t max_processes = mc->max_processes;
    const int64_t max_cycles = mc->max_cycles;
    const int64_t read_limit = mc->read_limit, write_limit = mc->write_limit;
    const int64_t n_warriors = mc->n_warriors;
    /* With PAIR, wr[0] and wr[1] are the two living warriors: the other one of W is
     * W ^ toggle. */
    const uintptr_t toggle = PAIR ? (uintptr_t)&wr[0] ^ (uintptr_t)&wr[1] : 0;
    warrior_t *cur = wr + st[ST_CUR];
    int64_t counter = st[ST_COUNTER];
    int64_t left = st[ST_LEFT];
    const int64_t max_steps = st[ST_BUDGET];
    const int tie_shortcut = st[ST_SHORTCUT] != 0;
    /* The budget: budget_end is the counter value at which it is spent (the steps
     * left to it are counter - budget_end, kept so through deaths), stop the value at
     * which the hot path leaves, max(budget_end, 0): counter 0 ends the round. */
    int64_t budget_end = counter - max_steps;
    int64_t stop = budget_end > 0 ? budget_end : 0;
    int64_t budget = max_steps; /* the budget left, set on leaving */
    int64_t skipped = 0;
    int done = 0;
    /* The step's state, set by FETCH. */
    warrior_t *W = cur;
    uint32_t pc = 0, nxt = 0;
    uint32_t ir_code = 0, ir_a = 0, ir_b = 0;
    /* Its operands: A's address and register; B's write address, read address and
     * register. */
    uint32_t addr_a = 0, ra_a = 0, ra_b = 0, addr_b = 0, raddr_b = 0, rb_a = 0, rb_b = 0;
    icell_t *dst = core;

#if THREADED
    /* Filled by assignments, not initialisers: GCC would make a constant table
     * static, which a function cloned by the optimiser cannot share. */
    void *mode_label[64], *case_label[N_CASES], *om_label[N_OPCODES * 8];
#define MODE_LABEL(a, b) mode_label[(a) * 8 + (b)] = &&mode_##a##_##b;
    FOR_MODE_PAIRS(MODE_LABEL)
#undef MODE_LABEL
#define CASE_LABEL(c) case_label[c] = &&case_##c;
    FOR_CASES(CASE_LABEL)
#undef CASE_LABEL
    for (int i = 0; i < N_OPCODES * 8; i++)
        om_label[i] = case_label[OM_CASE[i]];
#define OPERANDS(a, b) mode_##a##_##b:
#define CASE(c) case_##c:
#define DISPATCH_OPERANDS()                                                       \
    do {                                                                          \
        if (FOLD)                                                                 \
            goto folded;                                                          \
        goto *mode_label[ir_code & 63];                                           \
    } while (0)
#define DISPATCH_CASE() goto *om_label[ir_code >> 6]
#define STEP() STEP_BODY() /* the next step, inline in every handler */
#else
#define OPERANDS(a, b) case (a) * 8 + (b):
#define CASE(c) case c:
#define DISPATCH_OPERANDS() goto operands
#define DISPATCH_CASE() goto execute
#define STEP() goto step
#endif

#define STEP_BODY()                                                               \
    do {                                                                          \
        FETCH();                                                                  \
        DISPATCH_OPERANDS();                                                      \
    } while (0)
#define FETCH()                                                                   \
    do {                                                                          \
        W = cur;                                                                  \
        const uint32_t h = W->head;                                               \
        pc = (uint32_t)W->q[h];                                                   \
        W->head = (h + 1) & mask;                                                 \
        if (TRACK)                                                                \
            mc->cover[(W - wr) * (int64_t)m + pc] = 1;                            \
        /* The instruction register: a copy taken before any operand effect. */   \
        ir_code = core[pc].code;                                                  \
        ir_a = core[pc].a;                                                        \
        ir_b = core[pc].b;                                                        \
    } while (0)
    /* Queue an address at the warrior's tail. */
#define QUEUE(address)                                                            \
    do {                                                                          \
        const uint32_t t = W->tail;                                               \
        W->q[t] = (int32_t)(address);                                             \
        W->tail = (t + 1) & mask;                                                 \
    } while (0)
    /* The warrior survived its step: on to the next warrior. */
#define NEXT()                                                                    \
    do {                                                                          \
        cur = PAIR ? (warrior_t *)((uintptr_t)W ^ toggle) : W->next;              \
        if (--counter == stop)                                                    \
            goto leave;                                                           \
        STEP();                                                                   \
    } while (0)
#define DIE() goto die
#define skip (nxt + 1 == m ? 0 : nxt + 1) /* the instruction after the next */

    if (max_steps <= 0)
        goto out;
#if !THREADED
step:
#endif
    STEP_BODY();
#if !THREADED
operands:
    if (FOLD)
        goto folded;
    switch (ir_code & 63) {
#endif
    /* Without limits: one handler per mode pair, its operands inline to straight
     * code. */
#define MODE_PAIR(a, b)                                                           \
    OPERANDS(a, b)                                                                \
    operand_a(core, pc, ir_a, ir_b, a, m, &addr_a, &ra_a, &ra_b);                         \
    operand_b(core, pc, ir_b, b, m, &addr_b, &rb_a, &rb_b);                         \
    raddr_b = addr_b;                                                             \
    DISPATCH_CASE();
    FOR_MODE_PAIRS(MODE_PAIR)
#undef MODE_PAIR
#if !THREADED
    }
#endif

folded:
    if (FOLD) {
        const int a_mode = (ir_code >> 3) & 7;
        const int b_mode = ir_code & 7;
        /* Under read/write limits: the A operand, increments included, first. */
        if (a_mode == IMMEDIATE) {
            addr_a = pc;
            ra_a = ir_a;
            ra_b = ir_b;
        } else {
            int64_t a = fold((int64_t)pc + ir_a, pc, read_limit, m);
            if (a_mode != DIRECT) {
                int64_t ptr = a;
                /* pMARS folds the pointer cell of {}<> with the write limit. */
                if (a_mode != B_INDIRECT && a_mode != A_INDIRECT)
                    ptr = fold((int64_t)pc + ir_a, pc, write_limit, m);
                int64_t off = pointer(core, ptr, a_mode, m1);
                a = fold(ptr + off, pc, read_limit, m);
            }
            addr_a = (uint32_t)a;
            ra_a = core[addr_a].a;
            ra_b = core[addr_a].b;
            post_increment(core, fold((int64_t)pc + ir_a, pc, write_limit, m), a_mode, m1);
        }
        /* addr_b: the write pointer; raddr_b: the read pointer. */
        if (b_mode == IMMEDIATE) {
            addr_b = raddr_b = pc;
        } else {
            int64_t r = fold((int64_t)pc + ir_b, pc, read_limit, m);
            int64_t wa = fold((int64_t)pc + ir_b, pc, write_limit, m);
            if (b_mode != DIRECT) {
                if (b_mode != B_INDIRECT && b_mode != A_INDIRECT)
                    r = wa;
                int64_t off = pointer(core, r, b_mode, m1);
                wa = fold(wa + off, pc, write_limit, m);
                r = fold(r + off, pc, read_limit, m);
            }
            addr_b = (uint32_t)wa;
            raddr_b = (uint32_t)r;
        }
        rb_a = core[raddr_b].a;
        rb_b = core[raddr_b].b;
        post_increment(core, fold((int64_t)pc + ir_b, pc, write_limit, m), b_mode, m1);
        DISPATCH_CASE();
    }

#if !THREADED
execute:
    switch (OM_CASE[ir_code >> 6]) {
#endif
    /* Every handler computes its own successor (nxt) and destination (dst): the
     * compiler drops them where unused. */
#define BEGIN(c)                                                                  \
    CASE(c)                                                                       \
    nxt = pc + 1 == m ? 0 : pc + 1;                                               \
    dst = &core[addr_b];                                                          \
    (void)dst;
    BEGIN(C_DAT)
    DIE();
    BEGIN(C_NOP)
    QUEUE(nxt);
    NEXT();
    BEGIN(C_JMP)
    QUEUE(addr_a);
    NEXT();
    BEGIN(C_SPL)
    QUEUE(nxt);
    if (W->tasks < max_processes) {
        QUEUE(addr_a);
        W->tasks += 1;
        if (TRACK)
            mc->spawned[W - wr] += 1;
    }
    /* Only a SPL can make a tie certain (it adds a process), so test here. */
    if (tie_shortcut && counter - 1 < left * max_processes &&
        tie_certain(wr, n_warriors, counter - 1, left)) {
        budget = counter - 1 - budget_end;
        skipped = counter - 1;
        counter = 0;
        done = 1;
        goto out;
    }
    NEXT();
    BEGIN(C_MOV_I)
    dst->code = core[addr_a].code;
    dst->a = (uint16_t)ra_a;
    dst->b = (uint16_t)ra_b;
    QUEUE(nxt);
    NEXT();
    BEGIN(C_MOV_A)
    dst->a = (uint16_t)ra_a;
    QUEUE(nxt);
    NEXT();
    BEGIN(C_MOV_B)
    dst->b = (uint16_t)ra_b;
    QUEUE(nxt);
    NEXT();
    BEGIN(C_MOV_AB)
    dst->b = (uint16_t)ra_a;
    QUEUE(nxt);
    NEXT();
    BEGIN(C_MOV_BA)
    dst->a = (uint16_t)ra_b;
    QUEUE(nxt);
    NEXT();
    BEGIN(C_MOV_F)
    dst->a = (uint16_t)ra_a;
    dst->b = (uint16_t)ra_b;
    QUEUE(nxt);
    NEXT();
    BEGIN(C_MOV_X)
    dst->b = (uint16_t)ra_a;
    dst->a = (uint16_t)ra_b;
    QUEUE(nxt);
    NEXT();
#define ARITH(NAME, OP)                                                           \
    BEGIN(C_##NAME##_A)                                                           \
    dst->a = (uint16_t)OP(rb_a, ra_a);                                            \
    QUEUE(nxt);                                                                   \
    NEXT();                                                                       \
    BEGIN(C_##NAME##_B)                                                           \
    dst->b = (uint16_t)OP(rb_b, ra_b);                                            \
    QUEUE(nxt);                                                                   \
    NEXT();                                                                       \
    BEGIN(C_##NAME##_AB)                                                          \
    dst->b = (uint16_t)OP(rb_b, ra_a);                                            \
    QUEUE(nxt);                                                                   \
    NEXT();                                                                       \
    BEGIN(C_##NAME##_BA)                                                          \
    dst->a = (uint16_t)OP(rb_a, ra_b);                                            \
    QUEUE(nxt);                                                                   \
    NEXT();                                                                       \
    BEGIN(C_##NAME##_F)                                                           \
    dst->a = (uint16_t)OP(rb_a, ra_a);                                            \
    dst->b = (uint16_t)OP(rb_b, ra_b);                                            \
    QUEUE(nxt);                                                                   \
    NEXT();                                                                       \
    BEGIN(C_##NAME##_X)                                                           \
    dst->b = (uint16_t)OP(rb_b, ra_a);                                            \
    dst->a = (uint16_t)OP(rb_a, ra_b);                                            \
    QUEUE(nxt);                                                                   \
    NEXT();
#define OP_ADD(x, y) (((x) + (y)) >= m ? (x) + (y) - m : (x) + (y))
#define OP_SUB(x, y) ((x) >= (y) ? (x) - (y) : (x) + m - (y))
/* pMARS multiplies in unsigned 32 bits before reducing. */
#define OP_MUL(x, y) ((uint32_t)((x) * (y)) % m)
    ARITH(ADD, OP_ADD)
    ARITH(SUB, OP_SUB)
    ARITH(MUL, OP_MUL)
#undef ARITH
    /* A zero divisor kills the process; with .F/.X the other half is still written
     * when its own divisor is non-zero. */
#define DIVIDE(NAME, MODULO)                                                      \
    BEGIN(C_##NAME##_A)                                                           \
    if (divide(&dst->a, rb_a, ra_a, MODULO))                                      \
        DIE();                                                                    \
    QUEUE(nxt);                                                                   \
    NEXT();                                                                       \
    BEGIN(C_##NAME##_B)                                                           \
    if (divide(&dst->b, rb_b, ra_b, MODULO))                                      \
        DIE();                                                                    \
    QUEUE(nxt);                                                                   \
    NEXT();                                                                       \
    BEGIN(C_##NAME##_AB)                                                          \
    if (divide(&dst->b, rb_b, ra_a, MODULO))                                      \
        DIE();                                                                    \
    QUEUE(nxt);                                                                   \
    NEXT();                                                                       \
    BEGIN(C_##NAME##_BA)                                                          \
    if (divide(&dst->a, rb_a, ra_b, MODULO))                                      \
        DIE();                                                                    \
    QUEUE(nxt);                                                                   \
    NEXT();                                                                       \
    BEGIN(C_##NAME##_F)                                                           \
    if (divide(&dst->a, rb_a, ra_a, MODULO) | divide(&dst->b, rb_b, ra_b, MODULO)) \
        DIE();                                                                    \
    QUEUE(nxt);                                                                   \
    NEXT();                                                                       \
    BEGIN(C_##NAME##_X)                                                           \
    if (divide(&dst->a, rb_a, ra_b, MODULO) | divide(&dst->b, rb_b, ra_a, MODULO)) \
        DIE();                                                                    \
    QUEUE(nxt);                                                                   \
    NEXT();
    DIVIDE(DIV, 0)
    DIVIDE(MOD, 1)
#undef DIVIDE
    BEGIN(C_JMZ_A)
    QUEUE(rb_a == 0 ? addr_a : nxt);
    NEXT();
    BEGIN(C_JMZ_B)
    QUEUE(rb_b == 0 ? addr_a : nxt);
    NEXT();
    BEGIN(C_JMZ_F)
    QUEUE((rb_a | rb_b) == 0 ? addr_a : nxt);
    NEXT();
    BEGIN(C_JMN_A)
    QUEUE(rb_a != 0 ? addr_a : nxt);
    NEXT();
    BEGIN(C_JMN_B)
    QUEUE(rb_b != 0 ? addr_a : nxt);
    NEXT();
    BEGIN(C_JMN_F)
    QUEUE((rb_a | rb_b) != 0 ? addr_a : nxt);
    NEXT();
    BEGIN(C_DJN_A)
    dst->a = (uint16_t)dec(dst->a, m1);
    QUEUE(rb_a != 1 ? addr_a : nxt);
    NEXT();
    BEGIN(C_DJN_B)
    dst->b = (uint16_t)dec(dst->b, m1);
    QUEUE(rb_b != 1 ? addr_a : nxt);
    NEXT();
    BEGIN(C_DJN_F)
    /* The jump tests the B register (pre-decrement values), as pMARS does. */
    dst->b = (uint16_t)dec(dst->b, m1);
    dst->a = (uint16_t)dec(dst->a, m1);
    QUEUE((rb_a != 1 || rb_b != 1) ? addr_a : nxt);
    NEXT();
    BEGIN(C_SEQ_A)
    QUEUE(rb_a == ra_a ? skip : nxt);
    NEXT();
    BEGIN(C_SEQ_B)
    QUEUE(rb_b == ra_b ? skip : nxt);
    NEXT();
    BEGIN(C_SEQ_AB)
    QUEUE(rb_b == ra_a ? skip : nxt);
    NEXT();
    BEGIN(C_SEQ_BA)
    QUEUE(rb_a == ra_b ? skip : nxt);
    NEXT();
    BEGIN(C_SEQ_F)
    QUEUE((rb_a == ra_a && rb_b == ra_b) ? skip : nxt);
    NEXT();
    BEGIN(C_SEQ_X)
    QUEUE((rb_b == ra_a && rb_a == ra_b) ? skip : nxt);
    NEXT();
    BEGIN(C_SEQ_I)
    /* Opcode, modifier and modes come from the core cells. */
    QUEUE((core[raddr_b].code == core[addr_a].code && rb_a == ra_a && rb_b == ra_b)
              ? skip
              : nxt);
    NEXT();
    BEGIN(C_SNE_A)
    QUEUE(rb_a != ra_a ? skip : nxt);
    NEXT();
    BEGIN(C_SNE_B)
    QUEUE(rb_b != ra_b ? skip : nxt);
    NEXT();
    BEGIN(C_SNE_AB)
    QUEUE(rb_b != ra_a ? skip : nxt);
    NEXT();
    BEGIN(C_SNE_BA)
    QUEUE(rb_a != ra_b ? skip : nxt);
    NEXT();
    BEGIN(C_SNE_F)
    QUEUE((rb_a == ra_a && rb_b == ra_b) ? nxt : skip);
    NEXT();
    BEGIN(C_SNE_X)
    QUEUE((rb_b == ra_a && rb_a == ra_b) ? nxt : skip);
    NEXT();
    BEGIN(C_SNE_I)
    QUEUE((core[raddr_b].code == core[addr_a].code && rb_a == ra_a && rb_b == ra_b)
              ? nxt
              : skip);
    NEXT();
    BEGIN(C_SLT_A)
    QUEUE(ra_a < rb_a ? skip : nxt);
    NEXT();
    BEGIN(C_SLT_B)
    QUEUE(ra_b < rb_b ? skip : nxt);
    NEXT();
    BEGIN(C_SLT_AB)
    QUEUE(ra_a < rb_b ? skip : nxt);
    NEXT();
    BEGIN(C_SLT_BA)
    QUEUE(ra_b < rb_a ? skip : nxt);
    NEXT();
    BEGIN(C_SLT_F)
    QUEUE((ra_a < rb_a && ra_b < rb_b) ? skip : nxt);
    NEXT();
    BEGIN(C_SLT_X)
    QUEUE((ra_a < rb_b && ra_b < rb_a) ? skip : nxt);
    NEXT();
#define PSPACE_ARGS mc, mc->ps_base[W - wr], W - wr
    BEGIN(C_LDP_A)
    dst->a = (uint16_t)pspace_get(PSPACE_ARGS, ra_a);
    QUEUE(nxt);
    NEXT();
    BEGIN(C_LDP_B)
    dst->b = (uint16_t)pspace_get(PSPACE_ARGS, ra_b);
    QUEUE(nxt);
    NEXT();
    BEGIN(C_LDP_AB)
    dst->b = (uint16_t)pspace_get(PSPACE_ARGS, ra_a);
    QUEUE(nxt);
    NEXT();
    BEGIN(C_LDP_BA)
    dst->a = (uint16_t)pspace_get(PSPACE_ARGS, ra_b);
    QUEUE(nxt);
    NEXT();
    BEGIN(C_STP_A)
    pspace_set(PSPACE_ARGS, rb_a, ra_a);
    QUEUE(nxt);
    NEXT();
    BEGIN(C_STP_B)
    pspace_set(PSPACE_ARGS, rb_b, ra_b);
    QUEUE(nxt);
    NEXT();
    BEGIN(C_STP_AB)
    pspace_set(PSPACE_ARGS, rb_b, ra_a);
    QUEUE(nxt);
    NEXT();
    BEGIN(C_STP_BA)
    pspace_set(PSPACE_ARGS, rb_a, ra_b);
    QUEUE(nxt);
    NEXT();
#undef PSPACE_ARGS
#if !THREADED
    default: /* unreachable: OM_CASE holds only the cases above */
        DIE();
    }
#endif

die:
    /* The process died (nothing was queued for it). */
    W->tasks -= 1;
    if (W->tasks == 0) {
        const int64_t w = W - wr;
        /* The step is spent from the budget: keep counter - budget_end, the steps left
         * to it, through the counter's changes. */
        const int64_t steps_left = counter - 1 - budget_end;
        /* The warrior is dead: pMARS shrinks its step counter so that the survivors
         * keep about the same number of cycles, then (through the continue of its
         * do-while) decrements it once more. */
        mc->death_cycle[w] = max_cycles - (counter + left - 1) / left;
        mc->death_left[w] = left;
        counter = counter - 1 - (counter - 1) / left;
        left -= 1;
        if (left < 2) {
            /* cur stays the dead warrior, as in pMARS's loop when it ends here. */
            budget = steps_left;
            done = 1;
            goto out;
        }
        warrior_t *prev = before(W, n_warriors);
        cur = W->next;
        prev->next = cur;
        counter -= 1;
        budget_end = counter - steps_left;
        stop = budget_end > 0 ? budget_end : 0;
        if (counter <= 0) {
            /* Only when a warrior of 3+ dies on the very last step; pMARS would
             * then run on almost forever. The round ends here. */
            budget = steps_left;
            done = 1;
            goto out;
        }
        if (steps_left == 0) {
            budget = 0;
            goto out;
        }
        STEP();
    }
    NEXT();

leave:
    /* counter reached stop: the round is over (0) or the budget spent. */
    budget = counter - budget_end;
    done = counter == 0;
out:
#undef skip
#undef QUEUE
#undef DIE
#undef NEXT
#undef FETCH
#undef STEP
#undef STEP_BODY
#undef DISPATCH_CASE
#undef DISPATCH_OPERANDS
#undef CASE
#undef OPERANDS
#undef BEGIN
    st[ST_CUR] = cur - wr;
    st[ST_PREV] = before(cur, n_warriors) - wr;
    st[ST_COUNTER] = counter;
    st[ST_LEFT] = left;
    st[ST_STEPS] += max_steps - budget + skipped;
    return done;
}

#undef RUN_STEPS
#undef RUN_TRACK
#undef RUN_FOLD
#undef RUN_PAIR
#endif /* MARS_STEP_TEMPLATE */
