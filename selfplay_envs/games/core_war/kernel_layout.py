"""The MARS's data layout and instruction encoding, shared by both engines.

The numba kernel (``mars_kernel.py``) and the C one (``_mars.c``) work on the same flat
arrays; this module holds what describes them (opcode, modifier and mode numbers, the
behaviour cases an instruction dispatches on, the round-state and per-warrior-state
slots) without importing numba, so that the C engine starts without it. The layouts
are documented in ``mars_kernel.py``; ``_mars.c`` repeats the numbers it needs.
"""

from __future__ import annotations

import numpy as np

# Opcodes, modifiers and modes: the values of instructions.Opcode / Modifier / Mode.
(DAT, MOV, ADD, SUB, MUL, DIV, MOD, JMP, JMZ, JMN, DJN) = range(11)
(CMP, SEQ, SNE, SLT, SPL, NOP, LDP, STP) = range(11, 19)
(MA, MB, MAB, MBA, MF, MX, MI) = range(7)
(IMMEDIATE, DIRECT, B_INDIRECT, B_PREDEC, B_POSTINC) = range(5)
(A_INDIRECT, A_PREDEC, A_POSTINC) = range(5, 8)

ST_CUR, ST_PREV, ST_COUNTER, ST_LEFT, ST_STEPS, ST_BUDGET, ST_SHORTCUT = range(7)
ST_SIZE = 7
W_HEAD, W_TASKS, W_NEXT = range(3)
CELL_CODE, CELL_A, CELL_B, CELL_CASE = range(4)
MAX_CORE_SIZE = 65536

PARK_MILLER_MODULUS = 2147483647
POSIT_RETRIES1 = 20  # pMARS pos.c: tries for one position before backtracking
POSIT_RETRIES2 = 4  # pMARS pos.c: backtracks before falling back to npos()
NO_STEP_LIMIT = 1 << 62

# Behaviour cases: what executing an instruction does, once its operands are evaluated.
# Modifiers that behave alike share a case (e.g. ADD.I is ADD.F, JMZ.BA is JMZ.A).
(C_DAT, C_NOP, C_JMP, C_SPL) = range(4)
(C_MOV_A, C_MOV_B, C_MOV_AB, C_MOV_BA, C_MOV_F, C_MOV_X, C_MOV_I) = range(4, 11)
(C_ADD_A, C_ADD_B, C_ADD_AB, C_ADD_BA, C_ADD_F, C_ADD_X) = range(11, 17)
(C_SUB_A, C_SUB_B, C_SUB_AB, C_SUB_BA, C_SUB_F, C_SUB_X) = range(17, 23)
(C_MUL_A, C_MUL_B, C_MUL_AB, C_MUL_BA, C_MUL_F, C_MUL_X) = range(23, 29)
(C_DIV_A, C_DIV_B, C_DIV_AB, C_DIV_BA, C_DIV_F, C_DIV_X) = range(29, 35)
(C_MOD_A, C_MOD_B, C_MOD_AB, C_MOD_BA, C_MOD_F, C_MOD_X) = range(35, 41)
(C_JMZ_A, C_JMZ_B, C_JMZ_F, C_JMN_A, C_JMN_B, C_JMN_F) = range(41, 47)
(C_DJN_A, C_DJN_B, C_DJN_F) = range(47, 50)
(C_SEQ_A, C_SEQ_B, C_SEQ_AB, C_SEQ_BA, C_SEQ_F, C_SEQ_X, C_SEQ_I) = range(50, 57)
(C_SNE_A, C_SNE_B, C_SNE_AB, C_SNE_BA, C_SNE_F, C_SNE_X, C_SNE_I) = range(57, 64)
(C_SLT_A, C_SLT_B, C_SLT_AB, C_SLT_BA, C_SLT_F, C_SLT_X) = range(64, 70)
(C_LDP_A, C_LDP_B, C_LDP_AB, C_LDP_BA, C_STP_A, C_STP_B, C_STP_AB, C_STP_BA) = range(
    70, 78
)


def _case_table():
    """Map ``opcode * 8 + modifier`` to a behaviour case (dense, for a jump table)."""
    table = np.full(19 * 8, C_DAT, np.int64)
    by_mod = {
        MOV: (C_MOV_A, C_MOV_B, C_MOV_AB, C_MOV_BA, C_MOV_F, C_MOV_X, C_MOV_I),
        ADD: (C_ADD_A, C_ADD_B, C_ADD_AB, C_ADD_BA, C_ADD_F, C_ADD_X, C_ADD_F),
        SUB: (C_SUB_A, C_SUB_B, C_SUB_AB, C_SUB_BA, C_SUB_F, C_SUB_X, C_SUB_F),
        MUL: (C_MUL_A, C_MUL_B, C_MUL_AB, C_MUL_BA, C_MUL_F, C_MUL_X, C_MUL_F),
        DIV: (C_DIV_A, C_DIV_B, C_DIV_AB, C_DIV_BA, C_DIV_F, C_DIV_X, C_DIV_F),
        MOD: (C_MOD_A, C_MOD_B, C_MOD_AB, C_MOD_BA, C_MOD_F, C_MOD_X, C_MOD_F),
        JMZ: (C_JMZ_A, C_JMZ_B, C_JMZ_B, C_JMZ_A, C_JMZ_F, C_JMZ_F, C_JMZ_F),
        JMN: (C_JMN_A, C_JMN_B, C_JMN_B, C_JMN_A, C_JMN_F, C_JMN_F, C_JMN_F),
        DJN: (C_DJN_A, C_DJN_B, C_DJN_B, C_DJN_A, C_DJN_F, C_DJN_F, C_DJN_F),
        CMP: (C_SEQ_A, C_SEQ_B, C_SEQ_AB, C_SEQ_BA, C_SEQ_F, C_SEQ_X, C_SEQ_I),
        SEQ: (C_SEQ_A, C_SEQ_B, C_SEQ_AB, C_SEQ_BA, C_SEQ_F, C_SEQ_X, C_SEQ_I),
        SNE: (C_SNE_A, C_SNE_B, C_SNE_AB, C_SNE_BA, C_SNE_F, C_SNE_X, C_SNE_I),
        SLT: (C_SLT_A, C_SLT_B, C_SLT_AB, C_SLT_BA, C_SLT_F, C_SLT_X, C_SLT_F),
        LDP: (C_LDP_A, C_LDP_B, C_LDP_AB, C_LDP_BA, C_LDP_B, C_LDP_B, C_LDP_B),
        STP: (C_STP_A, C_STP_B, C_STP_AB, C_STP_BA, C_STP_B, C_STP_B, C_STP_B),
    }
    same = {DAT: C_DAT, NOP: C_NOP, JMP: C_JMP, SPL: C_SPL}
    for op in range(19):
        for mod in range(7):
            table[op * 8 + mod] = same[op] if op in same else by_mod[op][mod]
    return table


CASES = _case_table()


def encode(opcode: int, modifier: int, a_mode: int, b_mode: int) -> int:
    """Pack an instruction's opcode, modifier and modes into one code word."""
    return ((opcode * 8 + modifier) << 6) | (a_mode << 3) | b_mode


EMPTY_CELL = encode(DAT, MF, DIRECT, DIRECT)  # DAT.F $0, $0
