"""Numba kernels of the MARS: one executed instruction at a time, pMARS 0.9.4 exact.

Everything here works on flat integer arrays so that a whole battle (all rounds) runs
inside one jitted call. ``mars.py`` validates inputs and packs them; nothing in this
module checks its arguments.

Core layout: one ``uint16`` array of ``4 * core_size``. Cell ``i`` is
``core[4*i : 4*i + 4]``: the encoded opcode, modifier and modes
(``kernel_layout.encode``), the A-number, the B-number (numbers always in
``[0, core_size)``), and the behaviour case (``kernel_layout.CASES[opcode * 8 +
modifier]``) that the interpreter dispatches on. 16-bit cells (like exhaust's) halve
the cache footprint of 32-bit ones, which measured faster; they cap the core size at
65536. ``_mars.c`` is a C port of this module on the same arrays (see ``mars.py``).

Process queues: one ring buffer of ``cap`` entries per warrior (``cap`` a power of two
>= max_processes) in a flat ``int32`` array. Per-warrior state ``wst[4*w + W_HEAD]``,
``wst[4*w + W_TASKS]``, ``wst[4*w + W_NEXT]``: queue head index, process count (pMARS's
``W->tasks``) and the next living warrior.

Round state ``st`` (``int64[ST_SIZE]``): the warrior to run next, the previous living
warrior (pMARS's ``oldW``), pMARS's remaining-steps counter ``cycle``, warriors left,
steps executed, and two inputs of :func:`run_steps`: its step budget and whether it may
skip certain ties. (Inputs travel in ``st`` rather than as arguments so that every
caller compiles the same signature: numba would specialise on literal constants.)
A "step" is one warrior executing one instruction.

Behaviour descriptors (DRQ's MAP-Elites axes), per warrior and round, are counted by
:func:`run_steps_tracked` only: ``spawned[w]`` counts the SPLs that added a process and
``cover[w * core_size + a]`` marks every address ``a`` one of ``w``'s processes
executes; the round's end adds the addresses still queued, so the marks are every
address that was ever in ``w``'s process queue (DRQ's memory coverage). The mark is a
store per step, about 10% of a step, so it lives in a second compiled copy of the
interpreter (``TRACK_BEHAVIOUR`` is a global, which numba freezes at compile time):
:func:`run_steps` compiles without it.
"""

from __future__ import annotations

import types

import numba as nb
import numpy as np

from selfplay_envs.games.core_war.kernel_layout import (
    A_INDIRECT,
    A_POSTINC,
    A_PREDEC,
    B_INDIRECT,
    B_POSTINC,
    B_PREDEC,
    C_ADD_A,
    C_ADD_AB,
    C_ADD_B,
    C_ADD_BA,
    C_ADD_F,
    C_ADD_X,
    C_DAT,
    C_DIV_A,
    C_DIV_AB,
    C_DIV_B,
    C_DIV_BA,
    C_DIV_F,
    C_DJN_A,
    C_DJN_B,
    C_DJN_F,
    C_JMN_A,
    C_JMN_B,
    C_JMN_F,
    C_JMP,
    C_JMZ_A,
    C_JMZ_B,
    C_JMZ_F,
    C_LDP_A,
    C_LDP_AB,
    C_LDP_B,
    C_LDP_BA,
    C_MOD_A,
    C_MOD_X,
    C_MOV_A,
    C_MOV_AB,
    C_MOV_B,
    C_MOV_BA,
    C_MOV_F,
    C_MOV_I,
    C_MOV_X,
    C_MUL_A,
    C_MUL_AB,
    C_MUL_B,
    C_MUL_BA,
    C_MUL_F,
    C_MUL_X,
    C_NOP,
    C_SEQ_A,
    C_SEQ_AB,
    C_SEQ_B,
    C_SEQ_BA,
    C_SEQ_F,
    C_SEQ_I,
    C_SEQ_X,
    C_SLT_A,
    C_SLT_AB,
    C_SLT_B,
    C_SLT_BA,
    C_SLT_F,
    C_SLT_X,
    C_SNE_A,
    C_SNE_AB,
    C_SNE_B,
    C_SNE_BA,
    C_SNE_F,
    C_SNE_I,
    C_SNE_X,
    C_SPL,
    C_STP_A,
    C_STP_AB,
    C_STP_B,
    C_STP_BA,
    C_SUB_A,
    C_SUB_AB,
    C_SUB_B,
    C_SUB_BA,
    C_SUB_F,
    C_SUB_X,
    CELL_CASE,
    CELL_CODE,
    DIRECT,
    EMPTY_CELL,
    IMMEDIATE,
    NO_STEP_LIMIT,
    PARK_MILLER_MODULUS,
    POSIT_RETRIES1,
    POSIT_RETRIES2,
    ST_BUDGET,
    ST_COUNTER,
    ST_CUR,
    ST_LEFT,
    ST_PREV,
    ST_SHORTCUT,
    ST_SIZE,
    ST_STEPS,
    W_HEAD,
    W_NEXT,
    W_TASKS,
)

# Unsigned indices: numba then skips its negative-index wraparound code.
_U = np.uint64


@nb.njit(cache=True)
def _fold(address, pc, limit, core_size):
    """pMARS's foldr/foldw: bring ``address`` within +-limit/2 of ``pc``."""
    r = (address + core_size - pc) % limit
    if r > limit // 2:
        r += core_size - limit
    r += pc
    if r >= core_size:
        r -= core_size
    return r


@nb.njit(cache=True)
def _wrap(address, core_size):
    if address >= core_size:
        return address - core_size
    return address


@nb.njit(cache=True)
def _pspace_get(pspace, base, last_result, w, index, pspace_size):
    # P-space cell 0 is the warrior's own last result, even when P-space is shared.
    i = index % pspace_size
    if i == 0:
        return last_result[_U(w)]
    return pspace[_U(base + i)]


@nb.njit(cache=True)
def _pspace_set(pspace, base, last_result, w, index, value, pspace_size):
    i = index % pspace_size
    if i == 0:
        last_result[_U(w)] = value
    else:
        pspace[_U(base + i)] = value


TRACK_BEHAVIOUR = False  # True only in run_steps_tracked's copy of the globals
_INTERPRETER = {"cache": True, "nogil": True, "error_model": "numpy"}


def _run_steps(  # noqa: C901, PLR0912, PLR0915 - one flat interpreter loop is the point
    core,
    queue,
    wst,
    pspace,
    ps_base,
    last_result,
    st,
    death_cycle,
    death_left,
    spawned,
    cover,
    core_size,
    read_limit,
    write_limit,
    max_processes,
    cap,
    pspace_size,
    max_cycles,
):
    """Execute up to ``st[ST_BUDGET]`` steps of the current round; True once it is over.

    With ``st[ST_SHORTCUT]`` set, the round stops early once no warrior can die any more
    (each has more processes than steps left to it): the tie is then certain. The
    skipped steps still count in ``st[ST_STEPS]``, as pMARS executes them. Only safe
    when no warrior has STP, since the skipped steps could write P-space.

    ``death_cycle[w]`` gets the cycle in which warrior ``w`` died (see ``mars.py``) and
    ``death_left[w]`` the number of warriors alive just before it died;
    ``spawned[w]`` and ``cover`` count behaviour (see the module docstring).
    """
    m = core_size
    m1 = m - 1
    mask = cap - 1
    folding = read_limit != m or write_limit != m
    cur = st[ST_CUR]
    prev = st[ST_PREV]
    counter = st[ST_COUNTER]
    left = st[ST_LEFT]
    max_steps = st[ST_BUDGET]
    tie_shortcut = st[ST_SHORTCUT] != 0
    budget = max_steps
    skipped = 0
    done = False
    while budget > 0:
        budget -= 1
        w = cur
        base = w * cap
        head = wst[_U(4 * w + W_HEAD)]
        pc = np.int64(queue[_U(base + head)])
        head = (head + 1) & mask
        wst[_U(4 * w + W_HEAD)] = head
        n = wst[_U(4 * w + W_TASKS)]
        qi = base + ((head + n - 1) & mask)  # where this process's successor goes
        # The instruction register: a copy taken before any operand side effect.
        if TRACK_BEHAVIOUR:  # compiled away in run_steps (see the module docstring)
            cover[_U(w * m + pc)] = 1
        code = np.int64(core[_U(4 * pc)])
        ir_a = np.int64(core[_U(4 * pc + 1)])
        ir_b = np.int64(core[_U(4 * pc + 2)])
        a_mode = (code >> 3) & 7
        b_mode = code & 7

        # A operand, evaluated completely (increments included) before the B operand.
        # ra_a / ra_b: the A register's fields; addr_a: the A pointer.
        if a_mode == IMMEDIATE:
            addr_a = pc
            ra_a = ir_a
            ra_b = ir_b
        elif folding:
            addr_a = _operand_a_folded(core, pc, ir_a, a_mode, m, read_limit,
                                       write_limit)  # fmt: skip
            ra_a = np.int64(core[_U(4 * addr_a + 1)])
            ra_b = np.int64(core[_U(4 * addr_a + 2)])
            _post_increment(core, _fold(pc + ir_a, pc, write_limit, m), a_mode, m1)
        else:
            p = _wrap(pc + ir_a, m)
            if a_mode == DIRECT:
                addr_a = p
            elif a_mode == B_INDIRECT:
                addr_a = _wrap(p + core[_U(4 * p + 2)], m)
            elif a_mode == A_INDIRECT:
                addr_a = _wrap(p + core[_U(4 * p + 1)], m)
            elif a_mode == B_PREDEC:
                t = np.int64(core[_U(4 * p + 2)])
                t = t - 1 if t else m1
                core[_U(4 * p + 2)] = t
                addr_a = _wrap(p + t, m)
            elif a_mode == A_PREDEC:
                t = np.int64(core[_U(4 * p + 1)])
                t = t - 1 if t else m1
                core[_U(4 * p + 1)] = t
                addr_a = _wrap(p + t, m)
            elif a_mode == B_POSTINC:
                t = np.int64(core[_U(4 * p + 2)])
                addr_a = _wrap(p + t, m)
            else:  # A_POSTINC
                t = np.int64(core[_U(4 * p + 1)])
                addr_a = _wrap(p + t, m)
            ra_a = np.int64(core[_U(4 * addr_a + 1)])
            ra_b = np.int64(core[_U(4 * addr_a + 2)])
            # Post-increment after the register is read: it holds the old value.
            if a_mode == B_POSTINC:
                core[_U(4 * p + 2)] = t + 1 if t != m1 else 0
            elif a_mode == A_POSTINC:
                core[_U(4 * p + 1)] = t + 1 if t != m1 else 0

        # B operand. An immediate B reads the core at pc, so it sees A's increments.
        # rb_a / rb_b: the B register; addr_b: write pointer; raddr_b: read pointer.
        if b_mode == IMMEDIATE:
            addr_b = pc
            raddr_b = pc
        elif folding:
            addr_b, raddr_b = _operand_b_folded(core, pc, ir_b, b_mode, m,
                                                read_limit, write_limit)  # fmt: skip
        else:
            p = _wrap(pc + ir_b, m)
            if b_mode == DIRECT:
                addr_b = p
            elif b_mode == B_INDIRECT:
                addr_b = _wrap(p + core[_U(4 * p + 2)], m)
            elif b_mode == A_INDIRECT:
                addr_b = _wrap(p + core[_U(4 * p + 1)], m)
            elif b_mode == B_PREDEC:
                t = np.int64(core[_U(4 * p + 2)])
                t = t - 1 if t else m1
                core[_U(4 * p + 2)] = t
                addr_b = _wrap(p + t, m)
            elif b_mode == A_PREDEC:
                t = np.int64(core[_U(4 * p + 1)])
                t = t - 1 if t else m1
                core[_U(4 * p + 1)] = t
                addr_b = _wrap(p + t, m)
            elif b_mode == B_POSTINC:
                t = np.int64(core[_U(4 * p + 2)])
                addr_b = _wrap(p + t, m)
            else:  # A_POSTINC
                t = np.int64(core[_U(4 * p + 1)])
                addr_b = _wrap(p + t, m)
            raddr_b = addr_b
        rb_a = np.int64(core[_U(4 * raddr_b + 1)])
        rb_b = np.int64(core[_U(4 * raddr_b + 2)])
        if b_mode == B_POSTINC or b_mode == A_POSTINC:
            if folding:
                _post_increment(core, _fold(pc + ir_b, pc, write_limit, m), b_mode, m1)
            elif b_mode == B_POSTINC:
                core[_U(4 * p + 2)] = t + 1 if t != m1 else 0
            else:
                core[_U(4 * p + 1)] = t + 1 if t != m1 else 0

        # Execute; every case pushes the process's successor itself or sets `dies`.
        nxt = pc + 1
        if nxt == m:
            nxt = 0
        dies = False
        # Operands never change opcodes, so the case read now is still the fetched
        # instruction's (reading it late keeps one value fewer live across operands).
        case = core[_U(4 * pc + CELL_CASE)]
        if case == C_MOV_I:
            core[_U(4 * addr_b)] = core[_U(4 * addr_a)]
            core[_U(4 * addr_b + CELL_CASE)] = core[_U(4 * addr_a + CELL_CASE)]
            core[_U(4 * addr_b + 1)] = ra_a
            core[_U(4 * addr_b + 2)] = ra_b
            queue[_U(qi)] = nxt
        elif case == C_MOV_A:
            core[_U(4 * addr_b + 1)] = ra_a
            queue[_U(qi)] = nxt
        elif case == C_MOV_B:
            core[_U(4 * addr_b + 2)] = ra_b
            queue[_U(qi)] = nxt
        elif case == C_MOV_AB:
            core[_U(4 * addr_b + 2)] = ra_a
            queue[_U(qi)] = nxt
        elif case == C_MOV_BA:
            core[_U(4 * addr_b + 1)] = ra_b
            queue[_U(qi)] = nxt
        elif case == C_MOV_F:
            core[_U(4 * addr_b + 1)] = ra_a
            core[_U(4 * addr_b + 2)] = ra_b
            queue[_U(qi)] = nxt
        elif case == C_MOV_X:
            core[_U(4 * addr_b + 2)] = ra_a
            core[_U(4 * addr_b + 1)] = ra_b
            queue[_U(qi)] = nxt
        elif case == C_DAT:
            dies = True
        elif case == C_SPL:
            queue[_U(qi)] = nxt
            if n < max_processes:
                queue[_U(base + ((head + n) & mask))] = addr_a
                wst[_U(4 * w + W_TASKS)] = n + 1
                if TRACK_BEHAVIOUR:
                    spawned[_U(w)] += 1
            # Only a SPL can make a tie certain (it adds a process), so test here.
            if (
                tie_shortcut
                and counter - 1 < left * max_processes
                and _tie_certain(wst, counter - 1, left)
            ):
                skipped = counter - 1
                counter = 0
                done = True
                break
        elif case == C_JMP:
            queue[_U(qi)] = addr_a
        elif case == C_NOP:
            queue[_U(qi)] = nxt
        elif case == C_ADD_A:
            core[_U(4 * addr_b + 1)] = _wrap(rb_a + ra_a, m)
            queue[_U(qi)] = nxt
        elif case == C_ADD_B:
            core[_U(4 * addr_b + 2)] = _wrap(rb_b + ra_b, m)
            queue[_U(qi)] = nxt
        elif case == C_ADD_AB:
            core[_U(4 * addr_b + 2)] = _wrap(rb_b + ra_a, m)
            queue[_U(qi)] = nxt
        elif case == C_ADD_BA:
            core[_U(4 * addr_b + 1)] = _wrap(rb_a + ra_b, m)
            queue[_U(qi)] = nxt
        elif case == C_ADD_F:
            core[_U(4 * addr_b + 1)] = _wrap(rb_a + ra_a, m)
            core[_U(4 * addr_b + 2)] = _wrap(rb_b + ra_b, m)
            queue[_U(qi)] = nxt
        elif case == C_ADD_X:
            core[_U(4 * addr_b + 2)] = _wrap(rb_b + ra_a, m)
            core[_U(4 * addr_b + 1)] = _wrap(rb_a + ra_b, m)
            queue[_U(qi)] = nxt
        elif case == C_SUB_A:
            core[_U(4 * addr_b + 1)] = _wrap(rb_a + m - ra_a, m)
            queue[_U(qi)] = nxt
        elif case == C_SUB_B:
            core[_U(4 * addr_b + 2)] = _wrap(rb_b + m - ra_b, m)
            queue[_U(qi)] = nxt
        elif case == C_SUB_AB:
            core[_U(4 * addr_b + 2)] = _wrap(rb_b + m - ra_a, m)
            queue[_U(qi)] = nxt
        elif case == C_SUB_BA:
            core[_U(4 * addr_b + 1)] = _wrap(rb_a + m - ra_b, m)
            queue[_U(qi)] = nxt
        elif case == C_SUB_F:
            core[_U(4 * addr_b + 1)] = _wrap(rb_a + m - ra_a, m)
            core[_U(4 * addr_b + 2)] = _wrap(rb_b + m - ra_b, m)
            queue[_U(qi)] = nxt
        elif case == C_SUB_X:
            core[_U(4 * addr_b + 2)] = _wrap(rb_b + m - ra_a, m)
            core[_U(4 * addr_b + 1)] = _wrap(rb_a + m - ra_b, m)
            queue[_U(qi)] = nxt
        elif case == C_JMZ_A:
            queue[_U(qi)] = addr_a if rb_a == 0 else nxt
        elif case == C_JMZ_B:
            queue[_U(qi)] = addr_a if rb_b == 0 else nxt
        elif case == C_JMZ_F:
            queue[_U(qi)] = addr_a if (rb_a | rb_b) == 0 else nxt
        elif case == C_JMN_A:
            queue[_U(qi)] = addr_a if rb_a != 0 else nxt
        elif case == C_JMN_B:
            queue[_U(qi)] = addr_a if rb_b != 0 else nxt
        elif case == C_JMN_F:
            queue[_U(qi)] = addr_a if (rb_a | rb_b) != 0 else nxt
        elif case == C_DJN_A:
            v = core[_U(4 * addr_b + 1)]
            core[_U(4 * addr_b + 1)] = v - 1 if v else m1
            queue[_U(qi)] = addr_a if rb_a != 1 else nxt
        elif case == C_DJN_B:
            v = core[_U(4 * addr_b + 2)]
            core[_U(4 * addr_b + 2)] = v - 1 if v else m1
            queue[_U(qi)] = addr_a if rb_b != 1 else nxt
        elif case == C_DJN_F:
            # The jump tests the B register (pre-decrement values), as pMARS does.
            v = core[_U(4 * addr_b + 2)]
            core[_U(4 * addr_b + 2)] = v - 1 if v else m1
            v = core[_U(4 * addr_b + 1)]
            core[_U(4 * addr_b + 1)] = v - 1 if v else m1
            queue[_U(qi)] = addr_a if (rb_a != 1 or rb_b != 1) else nxt
        elif case == C_SEQ_A:
            queue[_U(qi)] = _wrap(nxt + 1, m) if rb_a == ra_a else nxt
        elif case == C_SEQ_B:
            queue[_U(qi)] = _wrap(nxt + 1, m) if rb_b == ra_b else nxt
        elif case == C_SEQ_AB:
            queue[_U(qi)] = _wrap(nxt + 1, m) if rb_b == ra_a else nxt
        elif case == C_SEQ_BA:
            queue[_U(qi)] = _wrap(nxt + 1, m) if rb_a == ra_b else nxt
        elif case == C_SEQ_F:
            same = rb_a == ra_a and rb_b == ra_b
            queue[_U(qi)] = _wrap(nxt + 1, m) if same else nxt
        elif case == C_SEQ_X:
            same = rb_b == ra_a and rb_a == ra_b
            queue[_U(qi)] = _wrap(nxt + 1, m) if same else nxt
        elif case == C_SEQ_I:
            # Opcode, modifier and modes come from the core cells.
            same = (
                core[_U(4 * raddr_b)] == core[_U(4 * addr_a)]
                and rb_a == ra_a
                and rb_b == ra_b
            )
            queue[_U(qi)] = _wrap(nxt + 1, m) if same else nxt
        elif case == C_SNE_A:
            queue[_U(qi)] = _wrap(nxt + 1, m) if rb_a != ra_a else nxt
        elif case == C_SNE_B:
            queue[_U(qi)] = _wrap(nxt + 1, m) if rb_b != ra_b else nxt
        elif case == C_SNE_AB:
            queue[_U(qi)] = _wrap(nxt + 1, m) if rb_b != ra_a else nxt
        elif case == C_SNE_BA:
            queue[_U(qi)] = _wrap(nxt + 1, m) if rb_a != ra_b else nxt
        elif case == C_SNE_F:
            same = rb_a == ra_a and rb_b == ra_b
            queue[_U(qi)] = nxt if same else _wrap(nxt + 1, m)
        elif case == C_SNE_X:
            same = rb_b == ra_a and rb_a == ra_b
            queue[_U(qi)] = nxt if same else _wrap(nxt + 1, m)
        elif case == C_SNE_I:
            same = (
                core[_U(4 * raddr_b)] == core[_U(4 * addr_a)]
                and rb_a == ra_a
                and rb_b == ra_b
            )
            queue[_U(qi)] = nxt if same else _wrap(nxt + 1, m)
        elif case == C_SLT_A:
            queue[_U(qi)] = _wrap(nxt + 1, m) if ra_a < rb_a else nxt
        elif case == C_SLT_B:
            queue[_U(qi)] = _wrap(nxt + 1, m) if ra_b < rb_b else nxt
        elif case == C_SLT_AB:
            queue[_U(qi)] = _wrap(nxt + 1, m) if ra_a < rb_b else nxt
        elif case == C_SLT_BA:
            queue[_U(qi)] = _wrap(nxt + 1, m) if ra_b < rb_a else nxt
        elif case == C_SLT_F:
            less = ra_a < rb_a and ra_b < rb_b
            queue[_U(qi)] = _wrap(nxt + 1, m) if less else nxt
        elif case == C_SLT_X:
            less = ra_a < rb_b and ra_b < rb_a
            queue[_U(qi)] = _wrap(nxt + 1, m) if less else nxt
        elif case == C_MUL_A:
            core[_U(4 * addr_b + 1)] = _mul(rb_a, ra_a, m)
            queue[_U(qi)] = nxt
        elif case == C_MUL_B:
            core[_U(4 * addr_b + 2)] = _mul(rb_b, ra_b, m)
            queue[_U(qi)] = nxt
        elif case == C_MUL_AB:
            core[_U(4 * addr_b + 2)] = _mul(rb_b, ra_a, m)
            queue[_U(qi)] = nxt
        elif case == C_MUL_BA:
            core[_U(4 * addr_b + 1)] = _mul(rb_a, ra_b, m)
            queue[_U(qi)] = nxt
        elif case == C_MUL_F:
            core[_U(4 * addr_b + 1)] = _mul(rb_a, ra_a, m)
            core[_U(4 * addr_b + 2)] = _mul(rb_b, ra_b, m)
            queue[_U(qi)] = nxt
        elif case == C_MUL_X:
            core[_U(4 * addr_b + 2)] = _mul(rb_b, ra_a, m)
            core[_U(4 * addr_b + 1)] = _mul(rb_a, ra_b, m)
            queue[_U(qi)] = nxt
        elif case >= C_DIV_A and case <= C_MOD_X:
            # A zero divisor kills the process; with .F/.X the other half is still
            # written when its own divisor is non-zero.
            modulo = case >= C_MOD_A
            kind = case - (C_MOD_A if modulo else C_DIV_A)
            if kind == C_DIV_A - C_DIV_A:
                dies = _divide(core, 4 * addr_b + 1, rb_a, ra_a, modulo)
            elif kind == C_DIV_B - C_DIV_A:
                dies = _divide(core, 4 * addr_b + 2, rb_b, ra_b, modulo)
            elif kind == C_DIV_AB - C_DIV_A:
                dies = _divide(core, 4 * addr_b + 2, rb_b, ra_a, modulo)
            elif kind == C_DIV_BA - C_DIV_A:
                dies = _divide(core, 4 * addr_b + 1, rb_a, ra_b, modulo)
            elif kind == C_DIV_F - C_DIV_A:
                dies = _divide(core, 4 * addr_b + 1, rb_a, ra_a, modulo)
                dies = _divide(core, 4 * addr_b + 2, rb_b, ra_b, modulo) or dies
            else:  # X
                dies = _divide(core, 4 * addr_b + 1, rb_a, ra_b, modulo)
                dies = _divide(core, 4 * addr_b + 2, rb_b, ra_a, modulo) or dies
            if not dies:
                queue[_U(qi)] = nxt
        else:  # LDP / STP
            pb = ps_base[_U(w)]
            if case == C_LDP_A:
                core[_U(4 * addr_b + 1)] = _pspace_get(
                    pspace, pb, last_result, w, ra_a, pspace_size
                )
            elif case == C_LDP_B:
                core[_U(4 * addr_b + 2)] = _pspace_get(
                    pspace, pb, last_result, w, ra_b, pspace_size
                )
            elif case == C_LDP_AB:
                core[_U(4 * addr_b + 2)] = _pspace_get(
                    pspace, pb, last_result, w, ra_a, pspace_size
                )
            elif case == C_LDP_BA:
                core[_U(4 * addr_b + 1)] = _pspace_get(
                    pspace, pb, last_result, w, ra_b, pspace_size
                )
            elif case == C_STP_A:
                _pspace_set(pspace, pb, last_result, w, rb_a, ra_a, pspace_size)
            elif case == C_STP_B:
                _pspace_set(pspace, pb, last_result, w, rb_b, ra_b, pspace_size)
            elif case == C_STP_AB:
                _pspace_set(pspace, pb, last_result, w, rb_b, ra_a, pspace_size)
            else:  # STP.BA
                _pspace_set(pspace, pb, last_result, w, rb_a, ra_b, pspace_size)
            queue[_U(qi)] = nxt

        if dies:
            wst[_U(4 * w + W_TASKS)] = n - 1
            if n == 1:
                # The warrior is dead. pMARS shrinks its step counter so that the
                # survivors keep about the same number of cycles, then (through the
                # `continue` of its do-while) decrements it once more.
                death_cycle[_U(w)] = max_cycles - (counter + left - 1) // left
                death_left[_U(w)] = left
                counter = counter - 1 - (counter - 1) // left
                left -= 1
                if left < 2:
                    done = True
                    break
                cur = wst[_U(4 * w + W_NEXT)]
                wst[_U(4 * prev + W_NEXT)] = cur
                counter -= 1
                if counter <= 0:
                    # counter < 0 only when a warrior of 3+ dies on the very last step;
                    # pMARS would then run on almost forever. We end the round there.
                    done = True
                    break
                continue
        prev = w
        cur = wst[_U(4 * w + W_NEXT)]
        counter -= 1
        if counter == 0:
            done = True
            break
    st[ST_CUR] = cur
    st[ST_PREV] = prev
    st[ST_COUNTER] = counter
    st[ST_LEFT] = left
    st[ST_STEPS] += max_steps - budget + skipped
    return done


run_steps = nb.njit(**_INTERPRETER)(_run_steps)


@nb.njit(cache=True)
def _tie_certain(wst, remaining, left):
    """Whether every living warrior has more processes than steps left to it.

    Each step removes at most one process of the warrior that executes it, and with
    nobody dying the ``remaining`` steps go round-robin, at most ``ceil(remaining /
    left)`` to each warrior.
    """
    most = (remaining + left - 1) // left
    for k in range(wst.shape[0] // 4):
        tasks = wst[4 * k + W_TASKS]
        if 0 < tasks <= most:
            return False
    return True


@nb.njit(cache=True)
def _mul(x, y, m):
    # pMARS multiplies in unsigned 32 bits before reducing.
    return ((x * y) & 0xFFFFFFFF) % m


@nb.njit(cache=True)
def _divide(core, index, dividend, divisor, modulo):
    """Write ``dividend / divisor`` (or ``%``) to ``core[index]``; True if it is 0."""
    if divisor == 0:
        return True
    core[_U(index)] = dividend % divisor if modulo else dividend // divisor
    return False


@nb.njit(cache=True)
def _post_increment(core, ptr, mode, m1):
    if mode == B_POSTINC:
        t = core[_U(4 * ptr + 2)]
        core[_U(4 * ptr + 2)] = t + 1 if t != m1 else 0
    elif mode == A_POSTINC:
        t = core[_U(4 * ptr + 1)]
        core[_U(4 * ptr + 1)] = t + 1 if t != m1 else 0


@nb.njit(cache=True)
def _operand_a_folded(core, pc, ir_a, mode, m, read_limit, write_limit):
    """A pointer under read/write limits; applies a pre-decrement (not the post-
    increment, which the caller does after reading the register)."""
    addr = _fold(pc + ir_a, pc, read_limit, m)
    if mode == DIRECT:
        return addr
    ptr = addr
    # pMARS folds the pointer cell of {}<> with the write limit (CoreWin's choice).
    if mode != B_INDIRECT and mode != A_INDIRECT:
        ptr = _fold(pc + ir_a, pc, write_limit, m)
    t = _pointer(core, ptr, mode, m)
    return _fold(ptr + t, pc, read_limit, m)


@nb.njit(cache=True)
def _operand_b_folded(core, pc, ir_b, mode, m, read_limit, write_limit):
    """B write and read pointers under read/write limits, pre-decrement applied."""
    raddr = _fold(pc + ir_b, pc, read_limit, m)
    addr = _fold(pc + ir_b, pc, write_limit, m)
    if mode == DIRECT:
        return addr, raddr
    if mode != B_INDIRECT and mode != A_INDIRECT:
        raddr = addr
    t = _pointer(core, raddr, mode, m)
    return _fold(addr + t, pc, write_limit, m), _fold(raddr + t, pc, read_limit, m)


@nb.njit(cache=True)
def _pointer(core, ptr, mode, m):
    """The offset an indirect mode reads at ``ptr``, pre-decrementing it if needed."""
    if mode >= A_INDIRECT:
        t = np.int64(core[_U(4 * ptr + 1)])
        if mode == A_PREDEC:
            t = t - 1 if t else m - 1
            core[_U(4 * ptr + 1)] = t
    else:
        t = np.int64(core[_U(4 * ptr + 2)])
        if mode == B_PREDEC:
            t = t - 1 if t else m - 1
            core[_U(4 * ptr + 2)] = t
    return t


def _variant(func, name, **constants):
    """``func`` seeing ``constants`` as globals, under its own name.

    numba freezes a global's value when it compiles, so the branches a constant guards
    compile away; the name keeps the two copies apart in numba's cache. Made after
    every helper the interpreter calls is defined: the globals are copied here.
    """
    scope = dict(func.__globals__, **constants)
    copy = types.FunctionType(func.__code__, scope, name, func.__defaults__)
    copy.__qualname__ = name
    copy.__doc__ = func.__doc__
    return copy


# The interpreter that also marks each executed address (memory coverage).
run_steps_tracked = nb.njit(**_INTERPRETER)(
    _variant(_run_steps, "run_steps_tracked", TRACK_BEHAVIOUR=True)
)


# --------------------------------------------------------------------------- rounds


@nb.njit(cache=True)
def rng(seed):
    """pMARS's Park-Miller minimal standard generator (Schrage's method)."""
    t = 16807 * (seed % 127773) - 2836 * (seed // 127773)
    if t < 0:
        t += PARK_MILLER_MODULUS
    return t


@nb.njit(cache=True)
def posit(positions, seed, n_warriors, core_size, min_distance):
    """pMARS ``posit()``: random non-overlapping positions with backtracking.

    Returns ``(failed, seed)``; warrior 0 stays at 0 and is never tested for overlap
    (the draw range keeps the others ``min_distance`` away from it).
    """
    pos = 1
    retries1 = POSIT_RETRIES1
    retries2 = POSIT_RETRIES2
    span = core_size - 2 * min_distance + 1
    while pos < n_warriors:
        seed = rng(seed)
        positions[pos] = seed % span + min_distance
        i = 1
        while i < pos:
            if abs(positions[pos] - positions[i]) < min_distance:
                break
            i += 1
        if i == pos:
            pos += 1
        else:
            if retries2 == 0:
                return True, seed
            if retries1 == 0:
                pos = i  # backtrack to the last conflict, as pMARS does
                retries2 -= 1
                retries1 = POSIT_RETRIES1
            else:
                retries1 -= 1
    return False, seed


@nb.njit(cache=True)
def npos(positions, seed, n_warriors, core_size, min_distance):
    """pMARS ``npos()``: the fallback placement (sorted gaps, then a shuffle)."""
    room = core_size - min_distance * n_warriors + 1
    for i in range(1, n_warriors):
        seed = rng(seed)
        temp = seed % room
        j = i - 1
        while j > 0:
            if temp > positions[j]:
                break
            positions[j + 1] = positions[j]
            j -= 1
        positions[j + 1] = temp
    offset = min_distance
    for i in range(1, n_warriors):
        positions[i] += offset
        offset += min_distance
    for i in range(1, n_warriors):
        seed = rng(seed)
        j = seed % (n_warriors - i) + i
        temp = positions[j]
        positions[j] = positions[i]
        positions[i] = temp
    return seed


@nb.njit(cache=True)
def load_round(
    core,
    queue,
    wst,
    st,
    w_code,
    w_off,
    w_len,
    w_start,
    positions,
    starter,
    core_size,
    max_cycles,
    cap,
):
    """Clear the core, copy the warriors in and reset the queues for a new round."""
    n_warriors = w_len.shape[0]
    core[:] = 0
    core[CELL_CODE::4] = EMPTY_CELL
    for k in range(n_warriors):
        at = positions[k]
        src = 4 * w_off[k]
        for i in range(w_len[k]):
            dst = 4 * ((at + i) % core_size)
            for f in range(4):
                core[dst + f] = w_code[src + 4 * i + f]
        queue[k * cap] = (at + w_start[k]) % core_size
        wst[4 * k + W_HEAD] = 0
        wst[4 * k + W_TASKS] = 1
        wst[4 * k + W_NEXT] = (k + 1) % n_warriors
    st[ST_CUR] = starter
    st[ST_PREV] = (starter - 1 + n_warriors) % n_warriors
    st[ST_COUNTER] = n_warriors * max_cycles
    st[ST_LEFT] = n_warriors
    st[ST_STEPS] = 0


@nb.njit(cache=True)
def queue_capacity(max_processes):
    """Ring size per warrior: the smallest power of two >= max_processes."""
    cap = 1
    while cap < max_processes:
        cap *= 2
    return cap


@nb.njit(cache=True, nogil=True)
def battle_kernel(  # noqa: PLR0913, PLR0915
    w_code,
    w_off,
    w_len,
    w_start,
    ps_index,
    n_pspaces,
    core_size,
    max_cycles,
    max_processes,
    min_distance,
    read_limit,
    write_limit,
    pspace_size,
    rounds,
    seed,
    permutate,
    track,
    scores,
    out_death,
    out_cycles,
    out_pos,
    out_first,
    out_tsp,
    out_mc,
):
    """Run a whole battle; returns the number of steps executed.

    Outputs (flat ``int64``): ``scores[w * (2W-1) + k]`` is pMARS's ``score[k]`` of
    warrior ``w`` (k < W: rounds survived with k others... k >= W: deaths by order);
    per round ``r``: ``out_death[r*W + w]`` the death cycle (-1 if it survived),
    ``out_cycles[r]`` the cycles run, ``out_pos[r*W + w]`` the load positions and
    ``out_first[r]`` the warrior that moved first. With ``track``, per round and
    warrior ``out_tsp[r*W + w]`` the SPLs that added a process and ``out_mc[r*W + w]``
    the addresses ever in its process queue; tracking turns off the tie shortcut, so
    that both count the whole round as pMARS plays it.
    """
    n = w_len.shape[0]
    m = core_size
    cap = queue_capacity(max_processes)
    core = np.empty(4 * m, np.uint16)
    queue = np.zeros(n * cap, np.int32)
    wst = np.zeros(4 * n, np.int64)
    pspace = np.zeros(n_pspaces * pspace_size, np.int32)
    ps_base = ps_index * pspace_size
    last_result = np.full(n, m - 1, np.int64)  # pMARS's "unlikely number"
    st = np.zeros(ST_SIZE, np.int64)
    death_cycle = np.zeros(n, np.int64)
    death_left = np.zeros(n, np.int64)
    spawned = np.zeros(n, np.int64)
    cover = np.zeros(n * m if track else 1, np.uint8)
    positions = np.zeros(n, np.int64)
    n_slots = 2 * n - 1
    span = m + 1 - 2 * min_distance
    perm = np.zeros(2 * span if permutate else 0, np.int64)
    perm_left = 0
    total_steps = 0
    # Skipping certain ties is exact unless the skipped steps could write P-space; STP
    # can only be in the core if some warrior brought one (opcodes are only copied).
    tie_shortcut = True
    for k in range(n):
        for i in range(w_off[k], w_off[k] + w_len[k]):
            if C_STP_A <= w_code[4 * i + CELL_CASE] <= C_STP_BA:
                tie_shortcut = False
    if track:
        tie_shortcut = False  # the skipped steps would spawn and cover too
    for r in range(rounds):
        starter = r % n
        if n == 2:
            if permutate:
                if perm_left == 0:
                    for i in range(2 * span):
                        perm[i] = i
                    perm_left = 2 * span
                k = seed % perm_left
                positions[1] = min_distance + perm[k] // 2
                starter = perm[k] % 2
                perm_left -= 1
                perm[k] = perm[perm_left]
            else:
                positions[1] = min_distance + seed % span
            seed = rng(seed)
        elif n > 2:
            failed, seed = posit(positions, seed, n, m, min_distance)
            if failed:
                seed = npos(positions, seed, n, m, min_distance)
        load_round(
            core, queue, wst, st, w_code, w_off, w_len, w_start, positions,
            starter, m, max_cycles, cap,
        )  # fmt: skip
        death_cycle[:] = -1
        spawned[:] = 0
        st[ST_BUDGET] = NO_STEP_LIMIT
        st[ST_SHORTCUT] = tie_shortcut
        if track:
            run_steps_tracked(
                core, queue, wst, pspace, ps_base, last_result, st, death_cycle,
                death_left, spawned, cover, m, read_limit, write_limit,
                max_processes, cap, pspace_size, max_cycles,
            )  # fmt: skip
        else:
            run_steps(
                core, queue, wst, pspace, ps_base, last_result, st, death_cycle,
                death_left, spawned, cover, m, read_limit, write_limit,
                max_processes, cap, pspace_size, max_cycles,
            )  # fmt: skip
        total_steps += st[ST_STEPS]
        if track:
            _count_behaviour(
                cover, queue, wst, spawned, n, m, cap, out_tsp[r * n : (r + 1) * n],
                out_mc[r * n : (r + 1) * n],
            )  # fmt: skip
        left = st[ST_LEFT]
        last_death = -1
        for w in range(n):
            if wst[4 * w + W_TASKS] > 0:
                scores[w * n_slots + left - 1] += 1
                last_result[w] = left
                out_death[r * n + w] = -1
            else:
                scores[w * n_slots + death_left[w] + n - 2] += 1
                last_result[w] = 0
                out_death[r * n + w] = death_cycle[w]
                last_death = max(last_death, death_cycle[w])
            out_pos[r * n + w] = positions[w]
        # The round ended by a death when fewer than min(2, W) warriors are left.
        out_cycles[r] = last_death + 1 if left < min(2, n) else max_cycles
        out_first[r] = starter
    return total_steps


@nb.njit(cache=True)
def _count_behaviour(cover, queue, wst, spawned, n, m, cap, out_tsp, out_mc):
    """A round's descriptors: add the still-queued addresses to the coverage marks,
    count them per warrior, then clear the marks for the next round."""
    mask = cap - 1
    for w in range(n):
        head = wst[4 * w + W_HEAD]
        for i in range(wst[4 * w + W_TASKS]):
            cover[w * m + queue[w * cap + ((head + i) & mask)]] = 1
        covered = 0
        for a in range(w * m, (w + 1) * m):
            covered += cover[a]
        out_mc[w] = covered
        out_tsp[w] = spawned[w]
    cover[:] = 0


@nb.njit(cache=True, parallel=True)
def battle_many_kernel(
    params,
    w_code,
    w_off,
    w_len,
    w_start,
    ps_index,
    warrior_base,
    score_base,
    round_base,
    cell_base,
    scores,
    out_death,
    out_cycles,
    out_pos,
    out_first,
    out_tsp,
    out_mc,
    steps,
):
    """Run many battles in parallel (one battle per prange iteration).

    ``params[j]`` holds job ``j``'s settings in :func:`battle_kernel` order:
    n_pspaces, core_size, max_cycles, max_processes, min_distance, read_limit,
    write_limit, pspace_size, rounds, seed, permutate, track. Job ``j`` owns warriors
    ``warrior_base[j]:warrior_base[j+1]``, ``scores[score_base[j]:...]`` and the
    slices ``round_base[j]:round_base[j+1]`` (per round) and ``cell_base[j]:...`` (per
    round and warrior).
    """
    for j in nb.prange(params.shape[0]):
        w0 = warrior_base[j]
        w1 = warrior_base[j + 1]
        r0 = round_base[j]
        r1 = round_base[j + 1]
        c0 = cell_base[j]
        c1 = cell_base[j + 1]
        p = params[j]
        steps[j] = battle_kernel(
            w_code, w_off[w0:w1], w_len[w0:w1], w_start[w0:w1],
            ps_index[w0:w1], p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8],
            p[9], p[10] != 0, p[11] != 0, scores[score_base[j]:score_base[j + 1]],
            out_death[c0:c1], out_cycles[r0:r1], out_pos[c0:c1],
            out_first[r0:r1], out_tsp[c0:c1], out_mc[c0:c1],
        )  # fmt: skip


@nb.njit(cache=True)
def survival_shares(out_death, n_warriors, rounds, max_cycles):
    """DRQ survival share per warrior, averaged over rounds (see ``mars.battle``)."""
    shares = np.zeros(n_warriors, np.float64)
    ends = np.empty(n_warriors, np.int64)
    for r in range(rounds):
        for w in range(n_warriors):
            d = out_death[r * n_warriors + w]
            ends[w] = max_cycles if d < 0 else d
        order = np.argsort(ends)
        start = 0
        for idx in range(n_warriors):
            end = ends[order[idx]]
            if end <= start:
                continue
            alive = 0
            for w in range(n_warriors):
                if ends[w] > start:
                    alive += 1
            for w in range(n_warriors):
                if ends[w] > start:
                    shares[w] += (end - start) / alive
            start = end
    return shares * (n_warriors / (max_cycles * max(rounds, 1)))
