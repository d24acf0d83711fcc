"""An ICWS'94 Redcode assembler that reproduces pMARS 0.9.4 exactly.

Warriors are written and tuned against pMARS, so this assembler follows pMARS's
algorithm rather than the ICWS'94 draft grammar (the two disagree on many corner
cases). Like pMARS it reads the source, then makes two passes over text:

1. **Reading.** Lines before the first ``;redcode`` line are dropped and a second
   ``;redcode`` line ends the warrior; ``;name``, ``;author`` and ``;strategy`` are
   collected; ``;assert`` lines are kept; other comments are removed.
2. **Expansion** (pMARS's ``trav2``): labels are collected (they attach to the next
   instruction), ``EQU`` definitions are stored as text (several consecutive ``EQU``
   lines make a multi-line macro), ``FOR``/``ROF`` blocks are unrolled with their
   counter printed as two digits (``&`` concatenates it onto a name), ``CURLINE``
   becomes the instruction count, ``;assert`` is evaluated, and known symbols are
   replaced by their text or relative value. Everything after ``END`` is ignored.
3. **Parsing** (pMARS's ``automaton``): each expanded line is read as opcode,
   modifier, modes and two field expressions; symbols still left (forward references)
   are resolved; default modifiers and one-operand forms are filled in as pMARS does
   (``DAT x`` becomes ``DAT.F #0, $x``); the fields are evaluated with
   :func:`~selfplay_envs.games.core_war.expressions.evaluate`.

Some pMARS behaviours worth knowing (all checked against pMARS itself): labels and
predefined symbols are case-sensitive while opcodes, modifiers and pseudo-ops are not;
whitespace between two numbers disappears (``DAT 1 2`` is ``DAT 12``); a line that
redefines a label is silently dropped; a label alone on the line just before ``FOR``
becomes the loop counter; a missing ``ROF`` ends the source instead of failing; an
out-of-range ``ORG`` is kept; an undefined one-letter symbol is one of pMARS's 26
registers (``W`` and ``S`` start at the number of warriors, the others at 0); text
glued to an opcode at the end of a line (``jmp-1``) picks up stale characters from
pMARS's line buffer, which is modelled (see ``_CBuffer``).

Deliberate differences, all for robustness: every error is reported (pMARS stops
after nine), an empty warrior is an error (a pMARS warning), a ``FOR`` count above
65534 is an error (pMARS truncates it to 16 bits), and expansion is bounded in time,
output size, macro nesting and instruction count, each with a clear error. Lines
longer than 255 characters are read whole (pMARS's 8-bit index wraps around).
"""

from __future__ import annotations

import dataclasses
import enum
import re
import string
from collections.abc import Callable, Iterable, Sequence

from selfplay_envs.games.core_war.expressions import (
    MAX_LINE,
    MODIFIER_NAMES,
    OPCODE_NAMES,
    PSEUDO_OPS,
    WHITESPACE,
    ExpressionError,
    FieldError,
    Fields,
    Registers,
    Tok,
    evaluate,
    get_token,
    new_registers,
    parse_fields,
)
from selfplay_envs.games.core_war.instructions import (
    MODE_SYMBOLS,
    Instruction,
    Mode,
    Modifier,
    Opcode,
    Warrior,
)

__all__ = [
    "AssemblerSettings",
    "RedcodeError",
    "RedcodeIssue",
    "assemble",
    "extract_redcode",
    "parse_load_file",
    "to_load_file",
]

_MAX_INSTRUCTIONS = 1000  # pMARS's hard limit (MAXINSTR), whatever MAXLENGTH says
_MAX_FOR_COUNT = 65534  # pMARS's loop counter is 16 bits wide
_MAX_LABELS = 7  # labels one instruction can carry (GRPMAX)
_MAX_NESTING = 40  # nested EQU substitutions and FOR blocks
_FUEL = 100_000  # tokens per assembly (the corpus needs at most ~5,100)
_MAX_ISSUES = 100


# --------------------------------------------------------------------------------------
# Public records


@dataclasses.dataclass(frozen=True, kw_only=True)
class RedcodeIssue:
    """One assembly error.

    Attributes:
        line: 1-based physical line of the source (0 for whole-warrior errors).
        column: 1-based column, best effort (0 for whole-warrior errors).
        message: What is wrong, worded like pMARS where pMARS has a message.
    """

    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, col {self.column}: {self.message}"


class RedcodeError(ValueError):
    """Raised when a warrior does not assemble; ``errors`` lists every problem."""

    def __init__(self, errors: Sequence[RedcodeIssue]) -> None:
        self.errors: list[RedcodeIssue] = list(errors)
        super().__init__("\n".join(str(issue) for issue in self.errors))

    def __reduce__(self) -> tuple[type[RedcodeError], tuple[list[RedcodeIssue]]]:
        return (type(self), (self.errors,))  # picklable despite the custom __init__


@dataclasses.dataclass(frozen=True, kw_only=True)
class AssemblerSettings:
    """Hill parameters, visible to warriors as predefined constants.

    ``VERSION`` is 94: pMARS 0.9.4 defines ``PMARSVER`` as 94. ``pspace_size`` None
    means pMARS's default, ``core_size / i`` for the largest ``i <= 16`` dividing the
    core size; ``read_limit``/``write_limit`` None mean the core size.
    """

    core_size: int = 8000
    max_cycles: int = 80000
    max_processes: int = 8000
    max_length: int = 100
    min_distance: int = 100
    warriors: int = 2
    rounds: int = 1
    pspace_size: int | None = None
    version: int = 94
    read_limit: int | None = None
    write_limit: int | None = None

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{field.name} must be a non-negative int: {value!r}")
        if self.core_size < 1:
            raise ValueError("core_size must be positive")

    def predefined(self) -> dict[str, int]:
        """Return the predefined constants pMARS gives every warrior."""
        pspace = self.pspace_size
        if pspace is None:
            divisor = next(i for i in range(16, 0, -1) if self.core_size % i == 0)
            pspace = self.core_size // divisor
        return {
            "CORESIZE": self.core_size,
            "MAXPROCESSES": self.max_processes,
            "MAXCYCLES": self.max_cycles,
            "MAXLENGTH": self.max_length,
            "MINDISTANCE": self.min_distance,
            "VERSION": self.version,
            "WARRIORS": self.warriors,
            "ROUNDS": self.rounds,
            "READLIMIT": self.read_limit or self.core_size,
            "WRITELIMIT": self.write_limit or self.core_size,
            "PSPACESIZE": pspace,
        }


# --------------------------------------------------------------------------------------
# Internal records


@dataclasses.dataclass(frozen=True)
class _Src:
    """A logical source line (continuation lines joined), for error reports."""

    lineno: int
    text: str


@dataclasses.dataclass(frozen=True)
class _Line:
    """Text to assemble plus the source line it came from."""

    text: str
    src: _Src


class _Kind(enum.Enum):
    TEXT = enum.auto()  # EQU (and predefined constants): substituted as text
    STACK = enum.auto()  # FOR counter: substituted as a two-digit number
    LABEL = enum.auto()  # instruction label: substituted as a relative offset


@dataclasses.dataclass(eq=False)
class _Symbol:
    kind: _Kind
    names: tuple[str, ...]
    value: int = 0
    lines: list[_Line] = dataclasses.field(default_factory=list)
    visiting: bool = False  # set while being substituted, to catch recursion


class _Table:
    """Symbols by name; a newer definition shadows an older one, as in pMARS."""

    def __init__(self) -> None:
        self._by_name: dict[str, list[_Symbol]] = {}

    def add(self, symbol: _Symbol) -> None:
        for name in symbol.names:
            self._by_name.setdefault(name, []).append(symbol)

    def remove(self, symbol: _Symbol) -> None:
        for name in symbol.names:
            self._by_name[name].remove(symbol)

    def lookup(self, name: str) -> _Symbol | None:
        found = self._by_name.get(name)
        return found[-1] if found else None


class _AbortError(Exception):
    """Stops the assembly after a limit error (the error is already recorded)."""


class _Context:
    """What all stages share: settings, symbols, registers, errors, fuel."""

    def __init__(self, settings: AssemblerSettings) -> None:
        self.settings = settings
        self.table = _Table()
        self.registers: Registers = new_registers()
        # pMARS evaluates its score formula "(W*W-1)/S" before assembling, which
        # leaves registers W and S at the number of warriors (for the first one).
        for register in "WS":
            self.registers[ord(register) - ord("A")] = settings.warriors
        self.issues: list[RedcodeIssue] = []
        self.fuel = _FUEL
        for name, value in settings.predefined().items():
            line = _Line(str(value), _Src(0, ""))
            self.table.add(_Symbol(_Kind.TEXT, (name,), lines=[line]))

    def error(self, src: _Src | None, message: str, token: str = "") -> None:
        issue = RedcodeIssue(
            line=src.lineno if src else 0,
            column=_column(src.text, token) if src else 0,
            message=message,
        )
        if issue not in self.issues:
            self.issues.append(issue)
        if len(self.issues) >= _MAX_ISSUES:
            raise _AbortError

    def fatal(self, src: _Src | None, message: str) -> None:
        self.error(src, message)
        raise _AbortError

    def burn(self, src: _Src | None) -> None:
        self.fuel -= 1
        if self.fuel < 0:
            self.fatal(src, "Source too complex: expansion exceeds the work limit")


def _is_letter(ch: str) -> bool:
    return len(ch) == 1 and ch in string.ascii_letters


def _column(text: str, token: str) -> int:
    """Best-effort 1-based column of ``token`` in a source line."""
    index = text.find(token) if token else -1
    if index < 0:
        index = len(text) - len(text.lstrip())
    return index + 1


def _eval(ctx: _Context, src: _Src, text: str, where: Callable[[], str]) -> int | None:
    """Evaluate ``text``; on failure record an error at ``where()`` and return None."""
    try:
        return evaluate(text, ctx.registers)
    except ExpressionError as exc:
        ctx.error(src, str(exc), where())
        return None


# --------------------------------------------------------------------------------------
# Stage 1: reading lines


@dataclasses.dataclass
class _Source:
    lines: list[_Line] = dataclasses.field(default_factory=list)
    name: str = "Unknown"
    author: str = "Anonymous"
    strategy: list[str] = dataclasses.field(default_factory=list)


class _CBuffer:
    """pMARS's static line buffer ``buf``, stale bytes included.

    pMARS reads each source line into this buffer and later reuses it as scratch
    space while expanding. One path copies the text glued to an opcode (``jmp-1``
    at the end of a line) without terminating it, so whatever an earlier, longer
    string left behind is appended to the line. Warriors never mean this, but pMARS
    assembles it, so the buffer is modelled to give the same result.
    """

    def __init__(self) -> None:
        self.data = ["\0"] * MAX_LINE

    def write(self, pos: int, text: str) -> None:
        text = text[: max(0, MAX_LINE - pos)]
        self.data[pos : pos + len(text)] = text

    def strcpy(self, text: str) -> None:
        self.write(0, text + "\0")

    def strcat(self, text: str) -> None:
        self.write(self.strlen(), text + "\0")

    def strlen(self) -> int:
        try:
            return self.data.index("\0")
        except ValueError:
            return MAX_LINE

    def cstr(self) -> str:
        return "".join(self.data[: self.strlen()])

    def cut_comment(self, start: int) -> None:
        """pMARS's ``nocmnt``: end the string at the first ``;`` from ``start``."""
        end = self.strlen()
        if start <= end and ";" in self.data[start:end]:
            self.data[self.data.index(";", start, end)] = "\0"


_LINE_END = re.compile(r"[\r\0]")


def _logical_lines(source: str, buf: _CBuffer) -> Iterable[_Src]:
    """Split like pMARS's reader: a line ends at CR, LF or NUL; ``\\`` continues it.

    A trailing backslash continues the line only if no ``;`` was seen so far. Each
    physical line is written into ``buf`` as ``fgets`` would. Linear in the source: a
    continued line grows as a list of characters, never by copying what it holds.
    """
    physical = source.split("\n")
    index = 0
    while index < len(physical):
        lineno = index + 1
        chars: list[str] = []
        comment = False
        while index < len(physical):
            raw = physical[index]
            index += 1
            piece = _LINE_END.split(raw, maxsplit=1)[0]
            newline = "\n" if index < len(physical) else ""
            length = len(chars)
            if length < MAX_LINE:  # the buffer keeps nothing past its end
                buf.write(length, raw[: MAX_LINE - length] + newline + "\0")
                buf.write(length + len(piece), "\0")
            chars.extend(piece)
            comment = comment or ";" in piece
            if not chars or chars[-1] != "\\" or comment or index >= len(physical):
                break
            chars.pop()
            if len(chars) < MAX_LINE:
                buf.write(len(chars), "\0")
        yield _Src(lineno, "".join(chars))


def _read(source: str) -> tuple[_Source, _CBuffer]:
    out = _Source()
    buf = _CBuffer()
    redcode_seen = False
    for src in _logical_lines(source, buf):
        kind, _, pos = get_token(src.text, 0)
        if kind is Tok.NONE:
            continue
        if kind is not Tok.COMM:
            out.lines.append(_Line(src.text.split(";", 1)[0], src))
            buf.cut_comment(0)
            continue
        word_kind, word, end = get_token(src.text, pos)
        word = word.upper() if word_kind is Tok.CHAR else ""
        if word == "REDCODE" and end == pos + 7:  # ';redcode' with no space
            if redcode_seen:
                return out, buf  # a second ;redcode ends the warrior
            redcode_seen = True
            out.lines.clear()
            continue
        rest = src.text[end:].strip()
        if word == "NAME":
            out.name = rest or "Unknown"
        elif word == "AUTHOR":
            out.author = rest or "Anonymous"
        elif word == "STRATEGY":
            out.strategy.append(rest)
        elif word in ("ASSERT", "DEBUG", "TRACE", "BREAK"):
            # Keep the line but drop any second comment after the keyword.
            text = src.text[:end] + src.text[end:].split(";", 1)[0]
            out.lines.append(_Line(text, src))
            buf.cut_comment(end)
    buf.write(0, "\0")  # the final, failing read starts by clearing the buffer
    return out, buf


# --------------------------------------------------------------------------------------
# Stage 2: expansion (labels, EQU, FOR/ROF, CURLINE, ;assert)

# Where trav2 is in a line: nothing yet, labels seen, in operands, done (an
# instruction), in a pseudo-op's operand, a FOR block, a ROF, or failed.
_NIL, _LBL, _VAL, _COM, _PSE, _FOR, _ROF, _ERR = 0, 1, 2, 3, 4, 5, 6, -1


class _Dest:
    """The output buffer of one expanded line, limited like pMARS's."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.text = ""

    def add(self, text: str, src: _Src) -> None:
        if len(self.text) + len(text) >= MAX_LINE:
            self.ctx.fatal(src, "Buffer overflow. Substitution is too complex")
        self.text += text


class _Expander:
    """Pass 1: turns source lines into lines of plain instructions."""

    def __init__(self, ctx: _Context, buf: _CBuffer) -> None:
        self.ctx = ctx
        self.buf = buf  # pMARS's scratch buffer, as the reader left it
        self.out: list[_Line] = []
        self.pending: list[str] = []  # labels waiting for their instruction
        self.skip = 0  # depth of FOR blocks being skipped (count <= 0)
        self.count = 0  # instructions so far (CURLINE)
        self.going = True  # False after END
        self.seq: list[_Line] = []  # the lines being walked (source or EQU body)
        self.idx = 0
        self.nesting = 0

    @property
    def src(self) -> _Src:
        return self.seq[self.idx].src

    def run(self, lines: list[_Line]) -> list[_Line]:
        self.seq, self.idx = lines, 0
        while self.idx < len(self.seq) and self.going:
            dest = _Dest(self.ctx)
            state = self._walk(self.seq[self.idx].text, dest, _NIL)
            if state == _COM:
                self.out.append(_Line(dest.text, self.src))
            elif state == _ROF:
                self.ctx.error(self.src, "Unopened FOR", "ROF")
            self.idx += 1
        return self.out

    # -- the line walker (pMARS trav2) ------------------------------------------------

    def _walk(self, text: str, dest: _Dest, state: int) -> int:
        pos = 0
        while True:
            self.ctx.burn(self.src)
            kind, token, end = get_token(text, pos)
            if kind is Tok.NONE:
                return state
            if kind is Tok.COMM:
                if state == _NIL and self.skip == 0:
                    self._comment(text, end, dest)
                return state
            if kind is Tok.CHAR:
                next_pos, state = self._word(text, token, end, dest, state)
                if next_pos is None:
                    return state
                pos = next_pos
                continue
            if self.skip:
                return _NIL
            if state <= _LBL:
                self.ctx.error(
                    self.src,
                    f"Unrecognized or improper placement of token: '{token}'",
                    token,
                )
                return _ERR
            dest.add(token, self.src)
            pos = end

    def _word(
        self, text: str, token: str, end: int, dest: _Dest, state: int
    ) -> tuple[int | None, int]:
        """Handle an identifier; returns (where to go on, state) or (None, result)."""
        upper = token.upper()
        self.buf.strcpy(upper)
        if upper in ("ROF", "FOR", "EQU") or token == "CURLINE":
            return self._keyword(upper, text, token, end, dest, state)
        if upper in OPCODE_NAMES or upper in PSEUDO_OPS:
            if self.skip:
                return None, _NIL
            if state > _LBL:
                return None, self._misplaced(token)
            return None, self._instruction(upper, text, end, dest)
        if self.skip:
            return end, _NIL
        token, end = self._concatenate(text, token, end)
        symbol = self.ctx.table.lookup(token)
        spaced = end < len(text) and text[end] in WHITESPACE
        if symbol is None:
            if state <= _LBL:
                self._declare(token)
                return end + (text[end : end + 1] == ":"), _LBL
            dest.add(token + " " * spaced, self.src)
            return end, state
        if symbol.kind is _Kind.TEXT:
            if symbol.visiting:
                self.ctx.error(
                    self.src, f"Recursive reference of label '{token}'", token
                )
                return None, _ERR
            state = self._substitute(symbol, dest, state)
            if spaced:
                dest.add(" ", self.src)
            return end, state
        if state <= _LBL:
            return None, _ERR  # pMARS warns "redefinition" and drops the line
        if symbol.kind is _Kind.STACK:
            value = f"{symbol.value:02d}"
        elif state == _PSE:
            value = str(symbol.value)  # ORG/END/PIN take absolute addresses
        else:
            value = str(symbol.value - self.count)
        self._put(dest, value, spaced)
        return end, state

    def _put(self, dest: _Dest, value: str, spaced: bool) -> None:
        """Append a substituted number, going through pMARS's buffer like pMARS."""
        self.buf.strcpy(value)
        if spaced:
            self.buf.strcat(" ")
        dest.add(self.buf.cstr(), self.src)

    def _keyword(
        self, upper: str, text: str, token: str, end: int, dest: _Dest, state: int
    ) -> tuple[int | None, int]:
        if upper == "ROF":
            if self.skip:
                self.skip -= 1
                return None, _ERR
            return None, _ROF if state <= _LBL else self._misplaced(token)
        if upper == "FOR":
            if self.skip:
                self.skip += 1
                return None, _ERR
            if state > _LBL:
                return None, self._misplaced(token)
            return None, self._for(text[end:], dest)
        if upper == "EQU":
            if self.skip:
                return None, _NIL
            if state > _LBL:
                return None, self._misplaced(token)
            return None, self._equ(text[end:])
        # CURLINE (case-sensitive, like every symbol)
        if self.skip:
            return None, _NIL
        if state <= _LBL:
            self.ctx.error(self.src, "CURLINE is a reserved keyword", token)
            return None, _ERR
        self._put(dest, str(self.count), end < len(text) and text[end] in WHITESPACE)
        return end, state

    def _misplaced(self, token: str) -> int:
        self.ctx.error(self.src, f"Improper placement of '{token}'", token)
        return _ERR

    def _declare(self, name: str) -> None:
        if len(self.pending) < _MAX_LABELS:
            self.pending.append(name)
        else:
            message = f"Too many labels for a declaration (last: '{name}')"
            self.ctx.error(self.src, message, name)

    def _concatenate(self, text: str, token: str, end: int) -> tuple[str, int]:
        """Apply ``name&counter`` concatenation (the counter prints as ``%02u``)."""
        ok = True
        while text[end : end + 1] == "&" and _is_letter(text[end + 1 : end + 2]):
            _, name, end = get_token(text, end + 1)
            self.buf.strcpy(name)
            if not ok:
                break
            symbol = self.ctx.table.lookup(name)
            if symbol is not None and symbol.kind is _Kind.STACK:
                self.buf.strcpy(f"{symbol.value:02d}")
                token += self.buf.cstr()
            else:
                message = f"Unable to derefer and concatenate symbol '{name}'"
                self.ctx.error(self.src, message, name)
                ok = False
        return token, end

    def _comment(self, text: str, pos: int, dest: _Dest) -> None:
        kind, word, end = get_token(text, pos)
        if kind is not Tok.CHAR or word.upper() != "ASSERT":
            return  # ;debug, ;trace, ;break: only meaningful to pMARS's debugger
        self._walk(text[end:], dest, _VAL)
        try:
            value = evaluate(dest.text, self.ctx.registers)
        except ExpressionError:
            return  # pMARS only warns about an invalid ;assert
        if value == 0:
            self.ctx.error(self.src, "Assertion in this line fails", word)

    def _instruction(self, upper: str, text: str, end: int, dest: _Dest) -> int:
        # pMARS copies whatever follows the opcode up to the next blank verbatim
        # (".AB", or even "#x,y" with no blank), so no substitution happens there.
        # The copy is only terminated when a blank follows; otherwise the stale rest
        # of pMARS's buffer comes along (see _CBuffer).
        stop = end
        while stop < len(text) and text[stop] not in WHITESPACE:
            stop += 1
        self.buf.write(len(upper), text[end:stop])
        if stop < len(text):
            self.buf.write(len(upper) + stop - end, " \0")
        dest.add(self.buf.cstr(), self.src)
        is_opcode = upper in OPCODE_NAMES
        if self._walk(text[stop:], dest, _VAL if is_opcode else _PSE) == _ERR:
            return _ERR
        if self.pending:
            names = tuple(self.pending)
            self.ctx.table.add(_Symbol(_Kind.LABEL, names, value=self.count))
            self.pending = []
        if is_opcode:
            self.count += 1
            limit = min(self.ctx.settings.max_length, _MAX_INSTRUCTIONS)
            if self.count > limit:
                self.ctx.fatal(self.src, f"Too many instructions (more than {limit})")
        elif upper == "END":
            self.going = False
        return _COM

    def _enter(self) -> None:
        self.nesting += 1
        if self.nesting > _MAX_NESTING:
            self.ctx.fatal(self.src, "EQU/FOR nesting too deep (recursive macro?)")

    def _for(self, rest: str, dest: _Dest) -> int:
        """Unroll a FOR block (pMARS blkfor); the lines come from ``self.seq``."""
        counter: tuple[str, ...] = ()
        if self.pending:
            # The newest pending label names the counter, the others label the line.
            counter = (self.pending[-1],)
            if len(self.pending) > 1:
                names = tuple(self.pending[:-1])
                self.ctx.table.add(_Symbol(_Kind.LABEL, names, value=self.count))
            self.pending = []
        dest.text = ""
        self._walk(rest, dest, _VAL)
        count = _eval(self.ctx, self.src, dest.text, lambda: "FOR")
        if count is None:
            return _FOR
        if count <= 0:
            self.skip += 1
            return _FOR
        if count > _MAX_FOR_COUNT:
            self.ctx.fatal(self.src, f"FOR count {count} exceeds {_MAX_FOR_COUNT}")
        self._enter()
        symbol = _Symbol(_Kind.STACK, counter)
        self.ctx.table.add(symbol)
        start = self.idx
        for value in range(1, count + 1):
            if not self.going:
                break
            symbol.value = value
            self.idx = start
            self._for_body(dest)
        self.ctx.table.remove(symbol)
        self.nesting -= 1
        return _FOR

    def _for_body(self, dest: _Dest) -> None:
        while self.going:
            if self.idx + 1 >= len(self.seq):
                self.going = False  # pMARS only warns "Unclosed ROF" and stops
                return
            self.idx += 1
            dest.text = ""
            state = self._walk(self.seq[self.idx].text, dest, _NIL)
            if state == _ROF:
                return
            if state == _COM:
                self.out.append(_Line(dest.text, self.src))

    def _equ(self, rest: str) -> int:
        """Define an EQU from this line and any ``EQU`` lines right after it."""
        if not self.pending:
            return _VAL  # pMARS warns and ignores an EQU without a label
        symbol = _Symbol(_Kind.TEXT, tuple(self.pending), lines=[_Line(rest, self.src)])
        self.ctx.table.add(symbol)
        self.pending = []
        while self.idx + 1 < len(self.seq):
            line = self.seq[self.idx + 1]
            kind, word, end = get_token(line.text, 0)
            if kind is Tok.CHAR and word.upper() == "EQU":
                symbol.lines.append(_Line(line.text[end:], line.src))
            elif kind is not Tok.COMM:  # ;assert lines in between are skipped
                break
            self.idx += 1
        return _VAL

    def _substitute(self, symbol: _Symbol, dest: _Dest, state: int) -> int:
        """Expand an EQU in place (pMARS equsub); multi-line ones emit lines."""
        self._enter()
        symbol.visiting = True
        saved = self.seq, self.idx
        self.seq, self.idx = symbol.lines, 0
        state = self._walk(self.seq[0].text, dest, state)
        while self.idx + 1 < len(self.seq) and self.going:
            if self.skip == 0 and state == _COM:
                self.out.append(_Line(dest.text, self.src))
            self.idx += 1
            dest.text = ""
            state = self._walk(self.seq[self.idx].text, dest, _NIL)
        self.seq, self.idx = saved
        symbol.visiting = False
        self.nesting -= 1
        return state


# --------------------------------------------------------------------------------------
# Stage 3: parsing expanded lines (pMARS automaton) and encoding


@dataclasses.dataclass
class _Encoded:
    instructions: list[Instruction] = dataclasses.field(default_factory=list)
    start: int = 0
    pin: int | None = None


def _encode(ctx: _Context, lines: list[_Line]) -> _Encoded:
    out = _Encoded()
    for line in lines:
        _encode_line(ctx, line, out)
    return out


def _encode_line(ctx: _Context, line: _Line, out: _Encoded) -> None:
    count = len(out.instructions)

    def resolve(name: str, absolute: bool) -> str | None:
        symbol = ctx.table.lookup(name)
        if symbol is None:
            return None
        if symbol.kind is _Kind.TEXT:
            return symbol.lines[0].text  # only an EQU's first line counts here
        return str(symbol.value if absolute else symbol.value - count)

    try:
        fields = parse_fields(line.text, resolve, lambda: ctx.burn(line.src))
    except FieldError as exc:
        ctx.error(line.src, str(exc), exc.token)
        if get_token(line.text, 0)[1].upper() not in PSEUDO_OPS:
            out.instructions.append(_placeholder())  # keep later offsets right
        return
    if fields.op in PSEUDO_OPS:
        _pseudo(ctx, line.src, fields, out)
        return
    # pMARS skips B after a bad A; evaluating both reports every error.
    a_value = _eval(ctx, line.src, fields.a_expr or "0", lambda: _operand(line, 0))
    b_value = _eval(ctx, line.src, fields.b_expr or "0", lambda: _operand(line, 1))
    core = ctx.settings.core_size
    out.instructions.append(
        Instruction(
            opcode=Opcode[fields.op],
            modifier=Modifier[fields.modifier],
            a_mode=Mode(MODE_SYMBOLS.index(fields.a_mode)),
            a_number=(a_value or 0) % core,
            b_mode=Mode(MODE_SYMBOLS.index(fields.b_mode)),
            b_number=(b_value or 0) % core,
        )
    )


def _placeholder() -> Instruction:
    return Instruction(
        opcode=Opcode.DAT,
        modifier=Modifier.F,
        a_mode=Mode.IMMEDIATE,
        a_number=0,
        b_mode=Mode.IMMEDIATE,
        b_number=0,
    )


_OPERANDS = re.compile(
    r"\b(?:" + "|".join(sorted(OPCODE_NAMES)) + r")\b(?:\.\w+)?\s*([^,]*)(?:,\s*(.*))?",
    re.IGNORECASE,
)


def _operand(line: _Line, field: int) -> str:
    """The source text of operand ``field`` (0 = A, 1 = B), to place errors."""
    match = _OPERANDS.search(line.src.text)
    return (match.group(field + 1) or "").strip() if match else ""


def _pseudo(ctx: _Context, src: _Src, fields: Fields, out: _Encoded) -> None:
    value = _eval(ctx, src, fields.b_expr or "0", lambda: fields.b_expr.strip())
    if value is None:
        return
    if fields.op == "ORG":
        out.start = value % ctx.settings.core_size
    elif fields.op == "PIN":
        out.pin = value  # an identifier, not an address: pMARS keeps it as is
    elif value and not out.start:  # END: only a nonzero operand, only without ORG
        out.start = value % ctx.settings.core_size


# --------------------------------------------------------------------------------------
# Public functions


def assemble(source: str, settings: AssemblerSettings = AssemblerSettings()) -> Warrior:
    """Assemble Redcode into a warrior, exactly as pMARS 0.9.4 (``pmars -A``) would.

    Args:
        source: The Redcode source. Text before the first ``;redcode`` line is
            skipped, as is text after a second one; see :func:`extract_redcode` for
            language-model output wrapped in Markdown.
        settings: Hill parameters (predefined constants and the length limit).

    Returns:
        The warrior: numbers reduced into ``0..core_size-1``, ``start`` from
        ``ORG``/``END``, metadata from ``;name``, ``;author``, ``;strategy``,
        ``pin`` from ``PIN``.

    Raises:
        RedcodeError: With every problem found, when pMARS would reject the source,
            when it has no instruction, or when it exceeds the assembler's limits.
    """
    if isinstance(source, bytes):
        source = source.decode("latin-1")
    if not isinstance(source, str):
        raise TypeError(f"source must be str, not {type(source).__name__}")
    ctx = _Context(settings)
    parsed, buf = _read(source)
    encoded = _Encoded()
    try:
        expander = _Expander(ctx, buf)
        expanded = expander.run(parsed.lines)
        if expander.count:  # like pMARS, parse nothing when there is no instruction
            encoded = _encode(ctx, expanded)
        else:
            ctx.issues.append(RedcodeIssue(line=0, column=0, message="No instructions"))
    except _AbortError:
        pass
    except RecursionError:  # cannot happen with the nesting caps; belt and braces
        ctx.issues.append(RedcodeIssue(line=0, column=0, message="Source too complex"))
    if ctx.issues:
        raise RedcodeError(ctx.issues)
    return Warrior(
        instructions=tuple(encoded.instructions),
        start=encoded.start,
        name=parsed.name,
        author=parsed.author,
        strategy="\n".join(parsed.strategy),
        pin=encoded.pin,
        source=source,
    )


# A fence line: ``` or ~~~ (or longer), then an info string without backticks. The
# info string takes the blanks too: "[ \t]*[^\n`]*" would backtrack quadratically
# over a long run of blanks followed by a backtick.
_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[^\n`]*$", re.MULTILINE)
_CODE_WORDS = sorted(OPCODE_NAMES | PSEUDO_OPS | {"EQU", "FOR", "ROF"})
_CODE_LINE = re.compile(
    r"^\s*(?:[A-Za-z_]\w*:?\s+)?(?:" + "|".join(_CODE_WORDS) + r")"
    r"(?:\.[A-Za-z]{1,2})?(?:\s|$)",
    re.IGNORECASE,
)
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
# Matched against one line at a time: searched over a whole text, "^\s*" would run
# from every line start across all the blank lines after it (quadratic).
_REDCODE_HEADER = re.compile(r"\s*;redcode", re.IGNORECASE)


def _has_redcode_header(text: str) -> bool:
    """A line that is ``;redcode`` after blanks (blank lines before it included)."""
    return any(_REDCODE_HEADER.match(line) for line in text.split("\n"))


def _looks_like_redcode(text: str) -> bool:
    return _has_redcode_header(text) or any(
        _CODE_LINE.match(line.split(";", 1)[0]) for line in text.splitlines()
    )


def _fenced_blocks(text: str) -> list[str]:
    """Contents of Markdown fenced blocks; an unclosed last fence runs to the end.

    A fence closes at the next fence of the same character (` or ~); the next block
    opens at the fence after that. One pass over the fences, from the last.
    """
    fences = list(_FENCE.finditer(text))
    following: list[int | None] = [None] * len(fences)
    last: dict[str, int] = {}
    for i in range(len(fences) - 1, -1, -1):
        char = fences[i].group(1)[0]
        following[i] = last.get(char)
        last[char] = i
    blocks = []
    i = 0
    while i < len(fences):
        close = following[i]
        end = fences[close].start() if close is not None else len(text)
        blocks.append(text[fences[i].end() : end].strip("\n"))
        if close is None:
            break
        i = close + 1
    return blocks


def extract_redcode(text: str) -> str:
    """Pull the Redcode out of a language model's answer.

    Drops ``<think>...</think>`` blocks, then prefers the last Markdown fenced block
    (```redcode, ```asm, ~~~, ``` ...) that looks like Redcode. Without one, keeps
    the lines from the last ``;redcode`` header (with the comment lines right above
    it) or else from the first instruction-like line, up to the last
    instruction-like line and the comments after it, dropping the prose around
    them. Never raises; the result still goes through :func:`assemble`.

    Args:
        text: The whole answer.

    Returns:
        The Redcode source, possibly empty.
    """
    if not isinstance(text, str):
        return ""
    text = _THINK.sub("", text.replace("\r\n", "\n"))
    blocks = [b for b in _fenced_blocks(text) if _looks_like_redcode(b)]
    if blocks:
        return blocks[-1].strip("\n") + "\n"
    lines = text.split("\n")
    code = [i for i, line in enumerate(lines) if _CODE_LINE.match(line.split(";")[0])]
    headers = [i for i, line in enumerate(lines) if _REDCODE_HEADER.match(line)]
    if not code and not headers:
        return text
    first = headers[-1] if headers else code[0]
    last = max([i for i in code if i >= first] or [first])
    while first > 0 and lines[first - 1].lstrip().startswith(";"):
        first -= 1  # ;name and the like may come before ;redcode
    while last + 1 < len(lines) and lines[last + 1].strip()[:1] in ("", ";"):
        last += 1  # trailing comments and blank lines
    return "\n".join(lines[first : last + 1]).strip("\n") + "\n"


def _signed(value: int, core_size: int) -> int:
    value %= core_size
    return value - core_size if value > core_size // 2 else value


def to_load_file(warrior: Warrior, core_size: int = 8000) -> str:
    """Render a warrior as ``pmars -A`` prints it (byte for byte).

    Args:
        warrior: The warrior.
        core_size: Core size used to print numbers signed in (-M/2, M/2].

    Returns:
        The load file, each line ending in a newline.
    """
    lines = [f"       ORG     {warrior.start % core_size:6d}"]
    for ins in warrior.instructions:
        a_sym, b_sym = MODE_SYMBOLS[ins.a_mode], MODE_SYMBOLS[ins.b_mode]
        a_num, b_num = (
            _signed(ins.a_number, core_size),
            _signed(ins.b_number, core_size),
        )
        lines.append(
            f"       {ins.opcode.name:>3s}.{ins.modifier.name:<2s} "
            f"{a_sym}{a_num:6d}, {b_sym}{b_num:6d}     "
        )
    if warrior.pin is not None:
        lines.append(f"       PIN     {warrior.pin:6d}")
    lines.append("       END")
    return "\n".join(lines) + "\n"


_LOAD_INSTRUCTION = re.compile(
    r"([A-Za-z]{3})\.([A-Za-z]{1,2})\s*([#$@<>*{}])\s*([-+]?\d+)\s*,"
    r"\s*([#$@<>*{}])\s*([-+]?\d+)"
)
_NOT_LOAD = "Not an ORG, PIN, END or instruction line"
_LOAD_DIRECTIVE = re.compile(r"(ORG|PIN)\s+([-+]?\d+)", re.IGNORECASE)


def parse_load_file(text: str, core_size: int = 8000) -> Warrior:
    """Read a pMARS load file (the output of :func:`to_load_file`) back.

    Args:
        text: The load file. Blank lines and ``;`` comments are ignored; reading
            stops at ``END``.
        core_size: Numbers are reduced into ``0..core_size-1``.

    Returns:
        The warrior (start from ``ORG``, pin from ``PIN``).

    Raises:
        RedcodeError: On a malformed line, an unknown opcode/modifier, or no
            instruction.
    """
    if not isinstance(core_size, int) or core_size < 1:
        raise ValueError(f"expected a positive integer core_size, got {core_size!r}")
    instructions: list[Instruction] = []
    start, pin, issues = 0, None, []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.upper() == "END":
            break
        directive = _LOAD_DIRECTIVE.fullmatch(line)
        match = _LOAD_INSTRUCTION.fullmatch(line)
        if directive:
            value = int(directive.group(2))
            if directive.group(1).upper() == "ORG":
                start = value % core_size
            else:
                pin = value
        elif (
            match
            and match[1].upper() in OPCODE_NAMES
            and match[2].upper() in MODIFIER_NAMES
        ):
            instructions.append(_load_instruction(match, core_size))
        else:
            column = _column(raw, line)
            issues.append(RedcodeIssue(line=lineno, column=column, message=_NOT_LOAD))
    if not instructions and not issues:
        issues.append(RedcodeIssue(line=0, column=0, message="No instructions"))
    if issues:
        raise RedcodeError(issues)
    return Warrior(instructions=tuple(instructions), start=start, pin=pin, source=text)


def _load_instruction(match: re.Match[str], core_size: int) -> Instruction:
    return Instruction(
        opcode=Opcode[match[1].upper()],
        modifier=Modifier[match[2].upper()],
        a_mode=Mode(MODE_SYMBOLS.index(match[3])),
        a_number=int(match[4]) % core_size,
        b_mode=Mode(MODE_SYMBOLS.index(match[5])),
        b_number=int(match[6]) % core_size,
    )
