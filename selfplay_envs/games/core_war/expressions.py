"""pMARS-compatible Redcode tokenizer, field parser and expression evaluator.

All three reproduce pMARS 0.9.4 (built with the ICWS'94 extensions), not an idealised
grammar, because warriors are tuned against pMARS:

* The tokenizer classifies one token by its first character, exactly as pMARS does:
  ``*``, ``<`` and ``>`` are *addressing-mode* tokens that the assembler later also
  accepts as operators, ``&&`` and ``||`` are operator tokens, a lone ``&`` is the
  concatenation symbol. Only ASCII letters, digits and ``_`` form identifiers.
* The evaluator works on the text the assembler has built for one field, with C
  ``long`` (64-bit) arithmetic: ``/`` and ``%`` truncate toward zero, overflow wraps,
  comparisons and ``&&``/``||``/``!`` give 0 or 1, and the 26 single-letter registers
  ``a``..``z`` can be read and assigned (``a=5``). It keeps pMARS's precedence
  climbing, quirks included: an ``==`` that has to be handed back across two
  precedence levels is lost, so ``1+2*3==7`` is a bad expression in pMARS and here;
  and a lone ``=`` (or ``&``, ``|``, ``!``) swallows the next character and acts as
  ``==`` (pMARS leaves that operator uninitialised; its builds read 0, i.e. ``==``).
* The field parser (:func:`parse_fields`) reads one line that the assembler has
  already expanded: opcode, optional modifier, then per operand an optional mode and
  an expression whose tokens are collected as text; a number is followed by a blank
  so that ``1 2`` stays two numbers. It fills in pMARS's defaults: ``DAT x`` is
  ``DAT #0, x``, ``JMP``/``SPL``/``NOP`` get ``$0`` as B-operand, and a missing
  modifier follows the ICWS'88 conversion table (:func:`default_modifier`).

Nothing here uses Python's ``eval``; recursion is capped so that no input can exhaust
the interpreter stack.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import string
from collections.abc import Callable

from selfplay_envs.games.core_war.instructions import Modifier, Opcode

__all__ = [
    "ADDRESS_SYMBOLS",
    "MAX_LINE",
    "MODIFIER_NAMES",
    "OPCODE_NAMES",
    "PSEUDO_OPS",
    "WHITESPACE",
    "ExpressionError",
    "FieldError",
    "Fields",
    "Registers",
    "Resolver",
    "Tok",
    "default_modifier",
    "evaluate",
    "get_token",
    "new_registers",
    "parse_fields",
]

WHITESPACE = frozenset(" \t\n\v\f\r")
ADDRESS_SYMBOLS = "#$@<>*{}"
_DIGITS = frozenset(string.digits)
_EXPR_SYMBOLS = frozenset("()/+-%!=")

_LONG_BITS = 64
_LONG_MIN = -(1 << (_LONG_BITS - 1))
_LONG_MAX = (1 << (_LONG_BITS - 1)) - 1
_MAX_DIGITS = 20  # pMARS copies at most 20 digits of a number
_MAX_DEPTH = 100  # nested parentheses / precedence levels / assignments

Registers = list[int]


class Tok(enum.Enum):
    """Token classes of the pMARS tokenizer."""

    NONE = enum.auto()  # end of text
    ADDR = enum.auto()  # one of # $ @ < > * { }
    FSEP = enum.auto()  # ,
    COMM = enum.auto()  # ;
    MODF = enum.auto()  # .
    EXPR = enum.auto()  # ( ) / + - % ! = && ||
    CHAR = enum.auto()  # identifier
    NUMB = enum.auto()  # decimal digits
    APND = enum.auto()  # & (concatenation)
    MISC = enum.auto()  # anything else, one character


def skip_space(text: str, pos: int) -> int:
    """Return the index of the first non-whitespace character at or after ``pos``."""
    n = len(text)
    while pos < n and text[pos] in WHITESPACE:
        pos += 1
    return pos


# One token after optional blanks: digits, an identifier, a doubled '&&'/'||', or any
# single character (classified below). ASCII classes only, as in pMARS's C locale.
_TOKEN = re.compile(
    r"[ \t\n\v\f\r]*(?:([0-9]+)|([A-Za-z_][A-Za-z0-9_]*)|(&&|\|\||[^ \t\n\v\f\r]))"
)
_SINGLE = {
    **dict.fromkeys(_EXPR_SYMBOLS, Tok.EXPR),
    **dict.fromkeys(ADDRESS_SYMBOLS, Tok.ADDR),
    "&&": Tok.EXPR,
    "||": Tok.EXPR,
    "&": Tok.APND,
    ";": Tok.COMM,
    ",": Tok.FSEP,
    ".": Tok.MODF,
}


def get_token(text: str, pos: int) -> tuple[Tok, str, int]:
    """Read the token that starts at or after ``pos``.

    Args:
        text: The line being tokenized.
        pos: Where to start (leading whitespace is skipped).

    Returns:
        ``(kind, token, end)``: the token class, its text, and the index just after it.
    """
    match = _TOKEN.match(text, pos)
    if match is None:
        return Tok.NONE, "", len(text)
    if match.group(1) is not None:
        return Tok.NUMB, match.group(1), match.end()
    if match.group(2) is not None:
        return Tok.CHAR, match.group(2), match.end()
    token = match.group(3)
    return _SINGLE.get(token, Tok.MISC), token, match.end()


class ExpressionError(ValueError):
    """A field expression that pMARS would reject.

    Attributes:
        division_by_zero: True when the failure is a division or modulo by zero.
    """

    def __init__(self, message: str, *, division_by_zero: bool = False) -> None:
        super().__init__(message)
        self.division_by_zero = division_by_zero


def new_registers() -> Registers:
    """Return a fresh set of the 26 pMARS registers ``a``..``z``, all zero."""
    return [0] * 26


def evaluate(expr: str, registers: Registers | None = None) -> int:
    """Evaluate an assembled field expression the way pMARS does.

    Args:
        expr: The expression text (numbers, operators, parentheses, registers).
        registers: The 26 registers, shared by all expressions of one assembly;
            assignments (``a=3``) update it. A fresh set is used when omitted.

    Returns:
        The value as a C ``long`` (not yet reduced modulo the core size).

    Raises:
        ExpressionError: On a malformed expression or a division by zero.
    """
    return _Evaluator(
        expr, registers if registers is not None else new_registers()
    ).run()


# Binary operator precedence, high to low; anything else (a stray character that
# pMARS reads as an operator) has precedence 0 and makes the expression bad.
_PRECEDENCE = {
    "*": 5, "/": 5, "%": 5,
    "+": 4, "-": 4,
    "<": 3, ">": 3, "==": 3, "!=": 3, ">=": 3, "<=": 3,
    "&&": 2,
    "||": 1,
}  # fmt: skip
_IDENTITY = "id"  # the right-identity operator pMARS starts each evaluation with


def _wrap(value: int) -> int:
    """Wrap to a signed 64-bit C ``long``."""
    value &= (1 << _LONG_BITS) - 1
    return value - (1 << _LONG_BITS) if value > _LONG_MAX else value


def _c_div(x: int, y: int) -> int:
    quotient = abs(x) // abs(y)
    return _wrap(quotient if (x < 0) == (y < 0) else -quotient)


_COMPARE = {
    "<": lambda x, y: x < y,
    ">": lambda x, y: x > y,
    "==": lambda x, y: x == y,
    "!=": lambda x, y: x != y,
    "<=": lambda x, y: x <= y,
    ">=": lambda x, y: x >= y,
    "&&": lambda x, y: bool(x) and bool(y),
    "||": lambda x, y: bool(x) or bool(y),
}


class _Evaluator:
    """One evaluation: a cursor over the text plus pMARS's global evaluator state."""

    def __init__(self, text: str, registers: Registers) -> None:
        self.text = text
        self.pos = 0
        self.registers = registers
        self.error: ExpressionError | None = None
        self.saved_op: str | None = None  # pMARS's "push back" operator
        self.depth = 0

    def run(self) -> int:
        value = self._eval(-1, 0, _IDENTITY)
        if self._peek() != "":
            self._fail("Bad expression")
        if self.error is not None:
            raise self.error
        return value

    # -- helpers ---------------------------------------------------------------

    def _peek(self, offset: int = 0) -> str:
        return self.text[self.pos + offset : self.pos + offset + 1]

    def _skip(self) -> None:
        self.pos = skip_space(self.text, self.pos)

    def _fail(self, message: str, *, division_by_zero: bool = False) -> None:
        # Like pMARS's single error flag, the last problem found is the one reported.
        self.error = ExpressionError(message, division_by_zero=division_by_zero)

    def _nested(self, prev_prec: int, value: int, op: str) -> int:
        if self.depth >= _MAX_DEPTH:
            self._fail("Expression nested too deeply")
            self.pos = len(self.text)
            return 0
        self.depth += 1
        try:
            return self._eval(prev_prec, value, op)
        finally:
            self.depth -= 1

    def _calc(self, x: int, y: int, op: str) -> int:
        if op == _IDENTITY:
            return y
        if op == "+":
            return _wrap(x + y)
        if op == "-":
            return _wrap(x - y)
        if op == "*":
            return _wrap(x * y)
        if op in ("/", "%"):
            if y == 0:
                self._fail("Division by zero", division_by_zero=True)
                return 0
            quotient = _c_div(x, y)
            return quotient if op == "/" else _wrap(x - y * quotient)
        compare = _COMPARE.get(op)
        if compare is None:
            self._fail("Bad expression")
            return 0
        return int(compare(x, y))

    # -- grammar -----------------------------------------------------------------

    def _eval(self, prev_prec: int, val1: int, op1: str) -> int:
        """pMARS's precedence climbing; tail calls are turned into iterations."""
        while True:
            self.saved_op = None
            val2 = self._value()
            self._skip()
            if self._peek() in ("", ")"):
                return self._calc(val1, val2, op1)
            op2 = self._operator()
            prec1, prec2 = _PRECEDENCE.get(op1, 0), _PRECEDENCE.get(op2, 0)
            if prec1 >= prec2:
                if prec2 > prev_prec:
                    val1, op1 = self._calc(val1, val2, op1), op2
                    continue
                self.saved_op = op2
                return self._calc(val1, val2, op1)
            result = self._calc(val1, self._nested(prec1, val2, op2), op1)
            # pMARS stores '==' as the character code 0, so a handed-back '==' reads
            # as "nothing saved" and is dropped (the expression then turns out bad).
            saved = self.saved_op
            if saved is None or saved == "==":
                return result
            if _PRECEDENCE.get(saved, 0) < prev_prec:
                return result
            val1, op1 = result, saved

    def _operator(self) -> str:
        ch = self._peek()
        self.pos += 1
        if ch in ("<", ">"):
            if self._peek() == "=":
                self.pos += 1
                return ch + "="
            return ch
        if ch in ("&", "|", "=", "!"):
            second = self._peek()
            self.pos += 1  # pMARS consumes the second character whatever it is
            pair = ch + second
            # Otherwise pMARS leaves the operator uninitialised; in practice it
            # reads as 0, pMARS's code for '==' ("7=17" is 7==7, i.e. 1).
            return pair if pair in ("&&", "||", "!=") else "=="
        return ch

    def _value(self) -> int:
        prefixes = []
        while True:
            self._skip()
            ch = self._peek()
            if ch not in ("-", "!", "+"):
                break
            prefixes.append(ch)
            self.pos += 1
        value = self._primary()
        for ch in reversed(prefixes):
            if ch == "-":
                value = _wrap(-value)
            elif ch == "!":
                value = int(not value)
        return value

    def _primary(self) -> int:
        ch = self._peek()
        if ch == "(":
            self.pos += 1
            value = self._nested(-1, 0, _IDENTITY)
            if self._peek() != ")":
                self._fail("Bad expression")
            self.pos += 1
            return value
        if ch and ch in string.ascii_letters:
            self.pos += 1
            return self._register(ord(ch.upper()) - ord("A"))
        start = self.pos
        while self._peek() in _DIGITS and self.pos - start < _MAX_DIGITS:
            self.pos += 1
        if self.pos == start:
            self._fail("Bad expression")
            return 0
        # sscanf("%ld") saturates at LONG_MAX on overflow.
        return min(int(self.text[start : self.pos]), _LONG_MAX)

    def _register(self, index: int) -> int:
        self._skip()
        if self._peek() == "=" and self._peek(1) != "=":
            self.pos += 1
            self.registers[index] = self._nested(-1, 0, _IDENTITY)
        return self.registers[index]


# --------------------------------------------------------------------------------------
# Field parser: one expanded line to opcode, modifier, modes and field texts (pMARS's
# "automaton"). Symbols left in the line are resolved through a callback.

OPCODE_NAMES = frozenset(op.name for op in Opcode)
MODIFIER_NAMES = frozenset(mod.name for mod in Modifier)
PSEUDO_OPS = frozenset({"ORG", "END", "PIN"})
MAX_LINE = 8000  # pMARS's buffer size (MAXALLCHAR): longer texts overflow

# resolve(name, absolute) -> the text that replaces a symbol, or None if unknown.
# ``absolute`` is True in a pseudo-op's operand, where labels are not relative.
Resolver = Callable[[str, bool], "str | None"]


class FieldError(ValueError):
    """A line that pMARS cannot parse; ``token`` is the offending token, if any."""

    def __init__(self, message: str, token: str = "") -> None:
        super().__init__(message)
        self.token = token


@dataclasses.dataclass
class Fields:
    """One parsed line: opcode, modifier, mode symbols and field expressions."""

    op: str = ""
    modifier: str = ""
    a_mode: str = "$"
    b_mode: str = "$"
    a_expr: str = ""
    b_expr: str = ""
    fine: bool = False  # an expression was read since the last mode/separator


def parse_fields(text: str, resolve: Resolver, tick: Callable[[], None]) -> Fields:
    """Parse one expanded line the way pMARS does, defaults filled in.

    Args:
        text: The line, opcode first (labels were removed by the expansion pass).
        resolve: Gives the replacement text of a symbol (see :data:`Resolver`).
        tick: Called once per token, so that the caller can bound the work.

    Returns:
        The fields; for ``ORG``/``END``/``PIN`` only ``op`` and ``b_expr`` matter.

    Raises:
        FieldError: When pMARS would report an error for this line.
    """
    return _FieldParser(resolve, tick).parse(text)


def default_modifier(op: str, a_mode: str, b_mode: str) -> str:
    """The modifier pMARS picks when none is written (ICWS'88 compatibility)."""
    if op in ("DAT", "NOP"):
        return "F"
    if op in ("MOV", "CMP", "SEQ", "SNE", "ADD", "SUB", "MUL", "DIV", "MOD"):
        if a_mode == "#":
            return "AB"
        if b_mode == "#":
            return "B"
        return "I" if op in ("MOV", "CMP", "SEQ", "SNE") else "F"
    if op in ("SLT", "LDP", "STP"):
        return "AB" if a_mode == "#" else "B"
    return "B"


class _St(enum.Enum):
    OP = enum.auto()  # expecting the opcode
    MOD_ADDR_EXP = enum.auto()  # after the opcode: modifier, mode or A-expression
    MODF = enum.auto()  # after '.': the modifier
    ADDR_EXP_A = enum.auto()  # after the modifier: A-mode or A-expression
    EXP_FS = enum.auto()  # in the A-expression, until ','
    ADDR_EXP_B = enum.auto()  # after ',': B-mode or B-expression
    EXPR = enum.auto()  # in the B-expression (or a pseudo-op's operand)


_RESETS_FINE = frozenset(
    {_St.OP, _St.MOD_ADDR_EXP, _St.MODF, _St.ADDR_EXP_A, _St.ADDR_EXP_B}
)


class _FieldParser:
    """State of one :func:`parse_fields` call."""

    def __init__(self, resolve: Resolver, tick: Callable[[], None]) -> None:
        self.resolve = resolve
        self.tick = tick
        self.visiting: set[str] = set()  # symbols being substituted (recursion)
        self.f = Fields()

    def parse(self, text: str) -> Fields:
        self._run(text, _St.OP)
        if self.f.op in PSEUDO_OPS:
            return self.f
        if not self.f.fine:
            raise FieldError("Syntax error", self.f.op)
        if not self.f.b_expr:
            self._one_operand()
        if not self.f.modifier:
            self.f.modifier = default_modifier(self.f.op, self.f.a_mode, self.f.b_mode)
        return self.f

    def _one_operand(self) -> None:
        f = self.f
        if f.op == "DAT":  # DAT x means DAT #0, x: the operand goes to the B-field
            f.b_mode, f.b_expr = f.a_mode, f.a_expr
            f.a_mode, f.a_expr = "#", "0"
        elif f.op in ("JMP", "SPL", "NOP"):
            f.b_mode, f.b_expr = "$", "0"
        else:
            raise FieldError(f"Incomplete operand at instruction '{f.op}'", f.op)

    def _append(self, field_b: bool, text: str) -> None:
        f = self.f
        if len(f.b_expr if field_b else f.a_expr) + len(text) >= MAX_LINE:
            raise FieldError("Buffer overflow. Substitution is too complex")
        if field_b:
            f.b_expr += text
        else:
            f.a_expr += text
        f.fine = True

    def _run(self, text: str, state: _St) -> _St:
        pos = 0
        while True:
            self.tick()
            if state in _RESETS_FINE:
                self.f.fine = False
            kind, token, end = get_token(text, pos)
            if kind is Tok.NONE:
                return state
            if kind is Tok.CHAR and state is not _St.OP and state is not _St.MODF:
                state, pos = self._symbol(token, end, pos, state)
                continue
            state, consumed = self._step(state, kind, token)
            if consumed:
                pos = end

    def _step(self, state: _St, kind: Tok, token: str) -> tuple[_St, bool]:
        """One non-identifier token (or the opcode/modifier); returns (state, used)."""
        f = self.f
        if state is _St.OP:
            upper = token.upper()
            if kind is not Tok.CHAR or not (
                upper in OPCODE_NAMES or upper in PSEUDO_OPS
            ):
                raise FieldError("Missing 'opcode'", token)
            f.op = upper
            return (_St.EXPR if upper in PSEUDO_OPS else _St.MOD_ADDR_EXP), True
        if state is _St.MODF:
            if kind is not Tok.CHAR or token.upper() not in MODIFIER_NAMES:
                raise FieldError("Missing 'modifier'", token)
            f.modifier = token.upper()
            return _St.ADDR_EXP_A, True
        if state in (_St.MOD_ADDR_EXP, _St.ADDR_EXP_A, _St.ADDR_EXP_B):
            return self._operand_start(state, kind, token)
        field_b = state is _St.EXPR
        if kind is Tok.FSEP and not field_b:
            return _St.ADDR_EXP_B, True
        if kind is Tok.NUMB:
            self._append(field_b, token + " ")  # keeps "1 2" from reading as 12
        elif kind is Tok.EXPR or (kind is Tok.ADDR and token in "<>*"):
            self._append(field_b, token)
        else:
            raise FieldError(f"Improper placement of '{token}'", token)
        return state, True

    def _operand_start(self, state: _St, kind: Tok, token: str) -> tuple[_St, bool]:
        field_b = state is _St.ADDR_EXP_B
        expr_state = _St.EXPR if field_b else _St.EXP_FS
        if kind is Tok.MODF and state is _St.MOD_ADDR_EXP:
            return _St.MODF, True
        if kind is Tok.ADDR:
            if field_b:
                self.f.b_mode = token
            else:
                self.f.a_mode = token
            return expr_state, True
        if kind in (Tok.NUMB, Tok.EXPR):
            return expr_state, False
        if state is _St.MOD_ADDR_EXP:
            raise FieldError(f"Improper placement of '{token}'", token)
        raise FieldError("Missing 'B-term'" if field_b else "Missing 'A-term'", token)

    def _symbol(self, token: str, end: int, pos: int, state: _St) -> tuple[_St, int]:
        """An identifier in an operand: substitute it, or keep it as a register."""
        if token in self.visiting:
            raise FieldError(f"Recursive reference of label '{token}'", token)
        if len(self.visiting) >= _MAX_DEPTH // 2:
            raise FieldError("Symbol substitution nested too deeply", token)
        absolute = state is _St.EXPR and self.f.op in PSEUDO_OPS
        text = self.resolve(token, absolute)
        if text is None:
            if len(token) > 1:
                raise FieldError(f"Undefined label or symbol: '{token}'", token)
            if state in (_St.EXP_FS, _St.EXPR):  # one letter: a pMARS register
                self._append(state is _St.EXPR, token)
                return state, end
            return (_St.EXPR if state is _St.ADDR_EXP_B else _St.EXP_FS), pos
        self.visiting.add(token)
        try:
            state = self._run(text, state)
        finally:
            self.visiting.discard(token)
        return state, end
