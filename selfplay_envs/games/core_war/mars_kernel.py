"""Numba kernels of the MARS: one executed instruction at a time, pMARS 0.9.4 exact.

Everything here works on flat integer arrays so that a whole battle (all rounds) runs
inside one jitted call. ``mars.py`` validates inputs and packs them; nothing in this module
checks its arguments.

Core layout: three ``int32`` arrays of length ``core_size``: ``ins`` holds the encoded
opcode, modifier and modes (:func:`encode`), ``af``/``bf`` the A- and B-numbers, always in
``[0, core_size)``. Process queues: one ring buffer of ``cap`` entries per warrior
(``cap`` a power of two >= max_processes) in a flat ``int32`` array; ``qhead[w]`` is the
head index and ``tasks[w]`` the process count, as pMARS's ``W->tasks``.

Round state ``st`` (``int64[5]``): the warrior to run next, the previous living warrior
(pMARS's ``oldW``), pMARS's remaining-steps counter ``cycle``, warriors left, and steps
executed. A "step" is one warrior executing one instruction.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# Opcodes, modifiers and modes: the values of instructions.Opcode / Modifier / Mode.
(DAT, MOV, ADD, SUB, MUL, DIV, MOD, JMP, JMZ, JMN, DJN) = range(11)
(CMP, SEQ, SNE, SLT, SPL, NOP, LDP, STP) = range(11, 19)
(MA, MB, MAB, MBA, MF, MX, MI) = range(7)
(IMMEDIATE, DIRECT, B_INDIRECT, B_PREDEC, B_POSTINC) = range(5)
(A_INDIRECT, A_PREDEC, A_POSTINC) = range(5, 8)

# What to push after executing: the next instruction, pc + 2, the A-pointer, both
# (SPL), or nothing (the process dies).
_NEXT, _SKIP, _JUMP, _SPLIT, _DIE = range(5)

ST_CUR, ST_PREV, ST_COUNTER, ST_LEFT, ST_STEPS = range(5)

PARK_MILLER_MODULUS = 2147483647
POSIT_RETRIES1 = 20  # pMARS pos.c: tries for one position before backtracking
POSIT_RETRIES2 = 4  # pMARS pos.c: backtracks before falling back to npos()
NO_STEP_LIMIT = 1 << 62


@nb.njit(cache=True)
def encode(opcode, modifier, a_mode, b_mode):
    """Pack an instruction's opcode, modifier and modes into one ``ins`` cell value."""
    return ((opcode * 8 + modifier) << 6) | (a_mode << 3) | b_mode


EMPTY_CELL = ((DAT * 8 + MF) << 6) | (DIRECT << 3) | DIRECT  # DAT.F $0, $0


@nb.njit(cache=True, inline="always")
def _fold(address, pc, limit, core_size):
    """pMARS's foldr/foldw: bring ``address`` within +-limit/2 of ``pc``."""
    r = (address + core_size - pc) % limit
    if r > limit // 2:
        r += core_size - limit
    r += pc
    if r >= core_size:
        r -= core_size
    return r


@nb.njit(cache=True, inline="always")
def _wrap(address, core_size):
    if address >= core_size:
        return address - core_size
    return address


@nb.njit(cache=True, inline="always")
def _pspace_get(pspace, base, last_result, w, index, pspace_size):
    # P-space cell 0 is the warrior's own last result, even when P-space is shared.
    i = index % pspace_size
    if i == 0:
        return last_result[w]
    return pspace[base + i]


@nb.njit(cache=True, inline="always")
def _pspace_set(pspace, base, last_result, w, index, value, pspace_size):
    i = index % pspace_size
    if i == 0:
        last_result[w] = value
    else:
        pspace[base + i] = value


@nb.njit(cache=True, nogil=True)
def run_steps(  # noqa: C901, PLR0912, PLR0915 - one flat interpreter loop is the point
    ins,
    af,
    bf,
    queue,
    qhead,
    tasks,
    nextw,
    pspace,
    ps_base,
    last_result,
    st,
    death_cycle,
    death_left,
    core_size,
    read_limit,
    write_limit,
    max_processes,
    cap,
    pspace_size,
    max_cycles,
    max_steps,
):
    """Execute up to ``max_steps`` steps of the current round; True once it is over.

    ``death_cycle[w]`` gets the cycle in which warrior ``w`` died (see ``mars.py``) and
    ``death_left[w]`` the number of warriors alive just before it died.
    """
    m = core_size
    m1 = m - 1
    mask = cap - 1
    folding = read_limit != m or write_limit != m
    cur = st[ST_CUR]
    prev = st[ST_PREV]
    counter = st[ST_COUNTER]
    left = st[ST_LEFT]
    steps = st[ST_STEPS]
    done = False
    budget = max_steps
    while budget > 0:
        budget -= 1
        steps += 1
        w = cur
        base = w * cap
        head = qhead[w]
        pc = np.int64(queue[base + head])
        head = (head + 1) & mask
        qhead[w] = head
        n = tasks[w]
        tail = (head + n - 1) & mask
        # The instruction register: a copy taken before any operand side effect.
        code = ins[pc]
        ir_a = np.int64(af[pc])
        ir_b = np.int64(bf[pc])
        a_mode = (code >> 3) & 7
        b_mode = code & 7

        # A operand, evaluated completely (increments included) before the B operand.
        if a_mode == IMMEDIATE:
            addr_a = pc
            ra_a = ir_a
            ra_b = ir_b
        else:
            if folding:
                addr_a = _fold(pc + ir_a, pc, read_limit, m)
            else:
                addr_a = _wrap(pc + ir_a, m)
            if a_mode == DIRECT:
                ra_a = np.int64(af[addr_a])
                ra_b = np.int64(bf[addr_a])
            else:
                ptr = addr_a
                # pMARS folds the pointer cell of {}<> with the write limit.
                if folding and a_mode != B_INDIRECT and a_mode != A_INDIRECT:
                    ptr = _fold(pc + ir_a, pc, write_limit, m)
                if a_mode >= A_INDIRECT:
                    t = np.int64(af[ptr])
                    if a_mode == A_PREDEC:
                        t = t - 1 if t else m1
                        af[ptr] = t
                else:
                    t = np.int64(bf[ptr])
                    if a_mode == B_PREDEC:
                        t = t - 1 if t else m1
                        bf[ptr] = t
                if folding:
                    addr_a = _fold(ptr + t, pc, read_limit, m)
                else:
                    addr_a = _wrap(ptr + t, m)
                ra_a = np.int64(af[addr_a])
                ra_b = np.int64(bf[addr_a])
                if a_mode == A_POSTINC:
                    af[ptr] = t + 1 if t != m1 else 0
                elif a_mode == B_POSTINC:
                    bf[ptr] = t + 1 if t != m1 else 0

        # B operand. An immediate B reads the core at pc, so it sees A's increments.
        if b_mode == IMMEDIATE:
            addr_b = pc
            raddr_b = pc
            rb_a = np.int64(af[pc])
            rb_b = np.int64(bf[pc])
        else:
            if folding:
                raddr_b = _fold(pc + ir_b, pc, read_limit, m)
                addr_b = _fold(pc + ir_b, pc, write_limit, m)
            else:
                addr_b = _wrap(pc + ir_b, m)
                raddr_b = addr_b
            if b_mode == DIRECT:
                rb_a = np.int64(af[raddr_b])
                rb_b = np.int64(bf[raddr_b])
            else:
                if b_mode != B_INDIRECT and b_mode != A_INDIRECT:
                    raddr_b = addr_b
                ptr = raddr_b
                if b_mode >= A_INDIRECT:
                    t = np.int64(af[ptr])
                    if b_mode == A_PREDEC:
                        t = t - 1 if t else m1
                        af[ptr] = t
                else:
                    t = np.int64(bf[ptr])
                    if b_mode == B_PREDEC:
                        t = t - 1 if t else m1
                        bf[ptr] = t
                if folding:
                    addr_b = _fold(addr_b + t, pc, write_limit, m)
                    raddr_b = _fold(raddr_b + t, pc, read_limit, m)
                else:
                    addr_b = _wrap(addr_b + t, m)
                    raddr_b = addr_b
                rb_a = np.int64(af[raddr_b])
                rb_b = np.int64(bf[raddr_b])
                if b_mode == A_POSTINC:
                    af[ptr] = t + 1 if t != m1 else 0
                elif b_mode == B_POSTINC:
                    bf[ptr] = t + 1 if t != m1 else 0

        # Execute. ra_* / rb_* are the A and B registers; writes go to addr_b.
        opmod = code >> 6
        op = opmod >> 3
        mod = opmod & 7
        action = _NEXT
        if op == MOV:
            if mod == MI:
                ins[addr_b] = ins[addr_a]
                af[addr_b] = ra_a
                bf[addr_b] = ra_b
            elif mod == MA:
                af[addr_b] = ra_a
            elif mod == MB:
                bf[addr_b] = ra_b
            elif mod == MAB:
                bf[addr_b] = ra_a
            elif mod == MBA:
                af[addr_b] = ra_b
            elif mod == MF:
                af[addr_b] = ra_a
                bf[addr_b] = ra_b
            else:  # X
                bf[addr_b] = ra_a
                af[addr_b] = ra_b
        elif op == SPL:
            action = _SPLIT
        elif op == DAT:
            action = _DIE
        elif op == JMP:
            action = _JUMP
        elif op == ADD or op == SUB:
            if op == SUB:  # b - a == b + (m - a); registers are in [0, m)
                ra_a = m - ra_a if ra_a else 0
                ra_b = m - ra_b if ra_b else 0
            if mod == MA:
                af[addr_b] = _wrap(rb_a + ra_a, m)
            elif mod == MB:
                bf[addr_b] = _wrap(rb_b + ra_b, m)
            elif mod == MAB:
                bf[addr_b] = _wrap(rb_b + ra_a, m)
            elif mod == MBA:
                af[addr_b] = _wrap(rb_a + ra_b, m)
            elif mod == MX:
                bf[addr_b] = _wrap(rb_b + ra_a, m)
                af[addr_b] = _wrap(rb_a + ra_b, m)
            else:  # F, I
                af[addr_b] = _wrap(rb_a + ra_a, m)
                bf[addr_b] = _wrap(rb_b + ra_b, m)
        elif op == DJN:
            if mod == MA or mod == MBA:
                v = af[addr_b]
                af[addr_b] = v - 1 if v else m1
                if rb_a != 1:
                    action = _JUMP
            elif mod == MB or mod == MAB:
                v = bf[addr_b]
                bf[addr_b] = v - 1 if v else m1
                if rb_b != 1:
                    action = _JUMP
            else:  # F, X, I: the jump tests the registers, not the decremented core
                v = bf[addr_b]
                bf[addr_b] = v - 1 if v else m1
                v = af[addr_b]
                af[addr_b] = v - 1 if v else m1
                if rb_a != 1 or rb_b != 1:
                    action = _JUMP
        elif op == JMZ or op == JMN:
            if mod == MA or mod == MBA:
                zero = rb_a == 0
            elif mod == MB or mod == MAB:
                zero = rb_b == 0
            elif op == JMZ:
                zero = rb_a == 0 and rb_b == 0
            else:  # JMN.F jumps when either field is non-zero
                zero = rb_a == 0 and rb_b == 0
            if zero == (op == JMZ):
                action = _JUMP
        elif op == CMP or op == SEQ or op == SNE:
            if mod == MA:
                same = rb_a == ra_a
            elif mod == MB:
                same = rb_b == ra_b
            elif mod == MAB:
                same = rb_b == ra_a
            elif mod == MBA:
                same = rb_a == ra_b
            elif mod == MF:
                same = rb_a == ra_a and rb_b == ra_b
            elif mod == MX:
                same = rb_b == ra_a and rb_a == ra_b
            else:  # I: opcode, modifier and modes come from the core cells
                same = (
                    ins[raddr_b] == ins[addr_a] and rb_a == ra_a and rb_b == ra_b
                )
            if same != (op == SNE):
                action = _SKIP
        elif op == SLT:
            if mod == MA:
                less = ra_a < rb_a
            elif mod == MB:
                less = ra_b < rb_b
            elif mod == MAB:
                less = ra_a < rb_b
            elif mod == MBA:
                less = ra_b < rb_a
            elif mod == MX:
                less = ra_a < rb_b and ra_b < rb_a
            else:  # F, I
                less = ra_a < rb_a and ra_b < rb_b
            if less:
                action = _SKIP
        elif op == MUL:
            # pMARS multiplies in unsigned 32 bits before reducing.
            if mod == MA:
                af[addr_b] = ((rb_a * ra_a) & 0xFFFFFFFF) % m
            elif mod == MB:
                bf[addr_b] = ((rb_b * ra_b) & 0xFFFFFFFF) % m
            elif mod == MAB:
                bf[addr_b] = ((rb_b * ra_a) & 0xFFFFFFFF) % m
            elif mod == MBA:
                af[addr_b] = ((rb_a * ra_b) & 0xFFFFFFFF) % m
            elif mod == MX:
                bf[addr_b] = ((rb_b * ra_a) & 0xFFFFFFFF) % m
                af[addr_b] = ((rb_a * ra_b) & 0xFFFFFFFF) % m
            else:
                af[addr_b] = ((rb_a * ra_a) & 0xFFFFFFFF) % m
                bf[addr_b] = ((rb_b * ra_b) & 0xFFFFFFFF) % m
        elif op == DIV or op == MOD:
            action = _divide(af, bf, addr_b, op == MOD, mod, ra_a, ra_b, rb_a, rb_b)
        elif op == LDP:
            pb = ps_base[w]
            if mod == MA:
                af[addr_b] = _pspace_get(pspace, pb, last_result, w, ra_a, pspace_size)
            elif mod == MAB:
                bf[addr_b] = _pspace_get(pspace, pb, last_result, w, ra_a, pspace_size)
            elif mod == MBA:
                af[addr_b] = _pspace_get(pspace, pb, last_result, w, ra_b, pspace_size)
            else:  # B, F, X, I
                bf[addr_b] = _pspace_get(pspace, pb, last_result, w, ra_b, pspace_size)
        elif op == STP:
            pb = ps_base[w]
            if mod == MA:
                _pspace_set(pspace, pb, last_result, w, rb_a, ra_a, pspace_size)
            elif mod == MAB:
                _pspace_set(pspace, pb, last_result, w, rb_b, ra_a, pspace_size)
            elif mod == MBA:
                _pspace_set(pspace, pb, last_result, w, rb_a, ra_b, pspace_size)
            else:  # B, F, X, I
                _pspace_set(pspace, pb, last_result, w, rb_b, ra_b, pspace_size)
        # NOP falls through to _NEXT.

        if action == _NEXT:
            queue[base + tail] = _wrap(pc + 1, m)
        elif action == _JUMP:
            queue[base + tail] = addr_a
        elif action == _SKIP:
            queue[base + tail] = _wrap(pc + 2, m)
        elif action == _SPLIT:
            queue[base + tail] = _wrap(pc + 1, m)
            if n < max_processes:
                queue[base + ((tail + 1) & mask)] = addr_a
                tasks[w] = n + 1
        else:
            tasks[w] = n - 1
            if n == 1:
                # The warrior is dead. pMARS shrinks its step counter so that the
                # survivors keep about the same number of cycles, then (through the
                # `continue` of its do-while) decrements it once more.
                death_cycle[w] = max_cycles - (counter + left - 1) // left
                death_left[w] = left
                counter = counter - 1 - (counter - 1) // left
                left -= 1
                if left < 2:
                    done = True
                    break
                cur = nextw[w]
                nextw[prev] = cur
                counter -= 1
                if counter <= 0:
                    # counter < 0 only when a warrior of 3+ dies on the very last step;
                    # pMARS would then run on almost forever. We end the round there.
                    done = True
                    break
                continue
        prev = w
        cur = nextw[w]
        counter -= 1
        if counter == 0:
            done = True
            break
    st[ST_CUR] = cur
    st[ST_PREV] = prev
    st[ST_COUNTER] = counter
    st[ST_LEFT] = left
    st[ST_STEPS] = steps
    return done


@nb.njit(cache=True, inline="always")
def _divide(af, bf, addr_b, modulo, mod, ra_a, ra_b, rb_a, rb_b):
    """DIV / MOD as pMARS: a zero divisor kills the process, but with .F/.X/.I the
    other half is still written first when its own divisor is non-zero."""
    if mod == MA or mod == MAB or mod == MBA or mod == MB:
        if mod == MA or mod == MAB:
            divisor = ra_a
        else:
            divisor = ra_b
        if divisor == 0:
            return _DIE
        dividend = rb_a if (mod == MA or mod == MBA) else rb_b
        value = dividend % divisor if modulo else dividend // divisor
        if mod == MA or mod == MBA:
            af[addr_b] = value
        else:
            bf[addr_b] = value
        return _NEXT
    if mod == MX:
        div_a = ra_b  # divides the A-field
        div_b = ra_a  # divides the B-field
    else:  # F, I
        div_a = ra_a
        div_b = ra_b
    result = _NEXT
    if div_a != 0:
        af[addr_b] = rb_a % div_a if modulo else rb_a // div_a
    else:
        result = _DIE
    if div_b != 0:
        bf[addr_b] = rb_b % div_b if modulo else rb_b // div_b
    else:
        result = _DIE
    return result


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
    ins,
    af,
    bf,
    queue,
    qhead,
    tasks,
    nextw,
    st,
    w_ins,
    w_af,
    w_bf,
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
    ins[:] = EMPTY_CELL
    af[:] = 0
    bf[:] = 0
    for k in range(n_warriors):
        at = positions[k]
        src = w_off[k]
        for i in range(w_len[k]):
            dst = (at + i) % core_size
            ins[dst] = w_ins[src + i]
            af[dst] = w_af[src + i]
            bf[dst] = w_bf[src + i]
        queue[k * cap] = (at + w_start[k]) % core_size
        qhead[k] = 0
        tasks[k] = 1
        nextw[k] = (k + 1) % n_warriors
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
    w_ins,
    w_af,
    w_bf,
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
    scores,
    out_death,
    out_cycles,
    out_pos,
    out_first,
):
    """Run a whole battle; returns the number of steps executed.

    Outputs (flat ``int64``): ``scores[w * (2W-1) + k]`` is pMARS's ``score[k]`` of
    warrior ``w`` (k < W: rounds survived with k others... k >= W: deaths by order);
    per round ``r``: ``out_death[r*W + w]`` the death cycle (-1 if it survived),
    ``out_cycles[r]`` the cycles run, ``out_pos[r*W + w]`` the load positions and
    ``out_first[r]`` the warrior that moved first.
    """
    n = w_len.shape[0]
    m = core_size
    cap = queue_capacity(max_processes)
    ins = np.empty(m, np.int32)
    af = np.empty(m, np.int32)
    bf = np.empty(m, np.int32)
    queue = np.zeros(n * cap, np.int32)
    qhead = np.zeros(n, np.int64)
    tasks = np.zeros(n, np.int64)
    nextw = np.zeros(n, np.int64)
    pspace = np.zeros(n_pspaces * pspace_size, np.int32)
    ps_base = ps_index * pspace_size
    last_result = np.full(n, m - 1, np.int64)  # pMARS's "unlikely number"
    st = np.zeros(5, np.int64)
    death_cycle = np.zeros(n, np.int64)
    death_left = np.zeros(n, np.int64)
    positions = np.zeros(n, np.int64)
    n_slots = 2 * n - 1
    span = m + 1 - 2 * min_distance
    perm = np.zeros(2 * span if permutate else 0, np.int64)
    perm_left = 0
    total_steps = 0
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
            ins, af, bf, queue, qhead, tasks, nextw, st, w_ins, w_af, w_bf,
            w_off, w_len, w_start, positions, starter, m, max_cycles, cap,
        )  # fmt: skip
        death_cycle[:] = -1
        run_steps(
            ins, af, bf, queue, qhead, tasks, nextw, pspace, ps_base, last_result,
            st, death_cycle, death_left, m, read_limit, write_limit, max_processes,
            cap, pspace_size, max_cycles, NO_STEP_LIMIT,
        )  # fmt: skip
        total_steps += st[ST_STEPS]
        left = st[ST_LEFT]
        last_death = -1
        for w in range(n):
            if tasks[w] > 0:
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


@nb.njit(cache=True, parallel=True)
def battle_many_kernel(
    params,
    w_ins,
    w_af,
    w_bf,
    w_off,
    w_len,
    w_start,
    ps_index,
    warrior_base,
    score_base,
    round_base,
    scores,
    out_death,
    out_cycles,
    out_pos,
    out_first,
    steps,
):
    """Run many battles in parallel (one battle per prange iteration).

    ``params[j]`` holds job ``j``'s settings in :func:`battle_kernel` order:
    n_pspaces, core_size, max_cycles, max_processes, min_distance, read_limit,
    write_limit, pspace_size, rounds, seed, permutate. Job ``j`` owns warriors
    ``warrior_base[j]:warrior_base[j+1]``, ``scores[score_base[j]:...]`` and the per-round
    slices starting at ``round_base[j]`` (times W for the per-warrior ones).
    """
    for j in nb.prange(params.shape[0]):
        w0 = warrior_base[j]
        w1 = warrior_base[j + 1]
        n = w1 - w0
        r0 = round_base[j]
        r1 = round_base[j + 1]
        p = params[j]
        steps[j] = battle_kernel(
            w_ins, w_af, w_bf, w_off[w0:w1], w_len[w0:w1], w_start[w0:w1],
            ps_index[w0:w1], p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8],
            p[9], p[10] != 0, scores[score_base[j]:score_base[j + 1]],
            out_death[r0 * n:r1 * n], out_cycles[r0:r1], out_pos[r0 * n:r1 * n],
            out_first[r0:r1],
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
