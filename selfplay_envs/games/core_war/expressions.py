"""pMARS-compatible Redcode tokenizer and integer expression evaluator.

Both reproduce the behaviour of pMARS 0.9.4 (built with the ICWS'94 extensions), not
an idealised grammar, because warriors are tuned against pMARS:

* The tokenizer classifies one token by its first character, exactly as pMARS does:
  ``*``, ``<`` and ``>`` are *addressing-mode* tokens that the assembler later also
  accepts as operators, ``&&`` and ``||`` are operator tokens, a lone ``&`` is the
  concatenation symbol. Only ASCII letters, digits and ``_`` form identifiers.
* The evaluator works on the text the assembler has built for one field, with C
  ``long`` (64-bit) arithmetic: ``/`` and ``%`` truncate toward zero, overflow wraps,
  comparisons and ``&&``/``||``/``!`` give 0 or 1, and the 26 single-letter registers
  ``a``..``z`` can be read and assigned (``a=5``). It keeps pMARS's precedence
  climbing, quirks included: an ``==`` that has to be handed back across two
  precedence levels is lost, so ``1+2*3==7`` is a bad expression in pMARS and here.

Nothing here uses Python's ``eval``; recursion is capped so that no input can exhaust
the interpreter stack.
"""

from __future__ import annotations

import enum
import string

__all__ = [
    "ADDRESS_SYMBOLS",
    "WHITESPACE",
    "ExpressionError",
    "Registers",
    "Tok",
    "evaluate",
    "get_token",
    "new_registers",
]

WHITESPACE = frozenset(" \t\n\v\f\r")
ADDRESS_SYMBOLS = "#$@<>*{}"
_IDENT_START = frozenset(string.ascii_letters + "_")
_DIGITS = frozenset(string.digits)
_IDENT_CHARS = _IDENT_START | _DIGITS
_EXPR_SYMBOLS = frozenset("()/+-%!=")
_ADDRESS_SET = frozenset(ADDRESS_SYMBOLS)

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


def _scan(text: str, pos: int, chars: frozenset[str]) -> int:
    n = len(text)
    while pos < n and text[pos] in chars:
        pos += 1
    return pos


def get_token(text: str, pos: int) -> tuple[Tok, str, int]:
    """Read the token that starts at or after ``pos``.

    Args:
        text: The line being tokenized.
        pos: Where to start (leading whitespace is skipped).

    Returns:
        ``(kind, token, end)``: the token class, its text, and the index just after it.
    """
    pos = skip_space(text, pos)
    if pos >= len(text):
        return Tok.NONE, "", pos
    ch = text[pos]
    if ch in _DIGITS:
        end = _scan(text, pos, _DIGITS)
        return Tok.NUMB, text[pos:end], end
    if ch in _IDENT_START:
        end = _scan(text, pos, _IDENT_CHARS)
        return Tok.CHAR, text[pos:end], end
    nxt = text[pos + 1 : pos + 2]
    if ch in _EXPR_SYMBOLS:
        return Tok.EXPR, ch, pos + 1
    if ch in _ADDRESS_SET:
        return Tok.ADDR, ch, pos + 1
    if ch == "&":
        if nxt == "&":
            return Tok.EXPR, "&&", pos + 2
        return Tok.APND, ch, pos + 1
    if ch == "|" and nxt == "|":
        return Tok.EXPR, "||", pos + 2
    kind = {";": Tok.COMM, ",": Tok.FSEP, ".": Tok.MODF}.get(ch, Tok.MISC)
    return kind, ch, pos + 1


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
    return _Evaluator(expr, registers if registers is not None else new_registers()).run()


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
            return pair if pair in ("&&", "||", "==", "!=") else "?" + pair
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
