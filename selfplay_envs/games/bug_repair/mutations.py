"""Source mutations (SSR-style bug operators) as minimal text edits.

A ``Mutation`` replaces one span of a file's text, so a bug patch touches one line and
keeps the file's formatting (``ast.unparse`` would rewrite the whole file). Operators:

* ``flip_comparison``: ``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``,
  ``in`` <-> ``not in``, ``is`` <-> ``is not``;
* ``off_by_one``: an integer constant ``c`` becomes ``c + 1`` or ``c - 1``;
* ``swap_args``: two adjacent positional arguments of a call, or the operands of a
  non-commutative binary operator, change places;
* ``drop_branch``: an ``if`` statement, or its ``else`` branch, is deleted;
* ``change_constant``: ``True`` <-> ``False``; an integer becomes ``0`` or doubles.

Removal mode (``mode="removal"``, SSR's "remove code" bugs) uses two operators that
delete code instead of editing it:

* ``remove_body``: a function's body (its docstring kept) becomes ``return None`` or
  ``raise NotImplementedError``;
* ``drop_branch``: as above.

``removal_artifact`` is a scripted injector of that mode: it tries removals in order
until one breaks some (not all) of the oracle tests, deletes the tests it broke, and
returns the artifact, which then goes through the same validity checks as any other.

``inverse_candidates`` lists the edits that undo the invertible ones (and a few more
small edits: ``and`` <-> ``or``, ``+`` <-> ``-``), for the patch-search solver. A
dropped branch cannot be recovered that way.

Only code inside function bodies is mutated: no docstrings, decorators, default values
or module-level constants. Every candidate is re-parsed; edits that do not parse or do
produce the same text twice are dropped.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator, Mapping, Sequence

from selfplay_envs.games.bug_repair.artifact import BugArtifact, TestRunner
from selfplay_envs.games.bug_repair.patches import make_patch

__all__ = [
    "Mutation",
    "OPERATORS",
    "REMOVAL_OPERATORS",
    "MODES",
    "removal_artifact",
    "mutations",
    "inverse_candidates",
    "raw_mutations",
    "is_valid",
    "apply_mutation",
    "remove_tests",
]

OPERATORS = (
    "flip_comparison",
    "off_by_one",
    "swap_args",
    "drop_branch",
    "change_constant",
)
#: Operators that delete code (``mode="removal"``).
REMOVAL_OPERATORS = ("remove_body", "drop_branch")
#: The operators of each injection mode.
MODES = {"edit": OPERATORS, "removal": REMOVAL_OPERATORS}
_REMOVED_BODIES = ("return None", "raise NotImplementedError")
_FLIP = {
    "<": "<=",
    "<=": "<",
    ">": ">=",
    ">=": ">",
    "==": "!=",
    "!=": "==",
    "in": "not in",
    "not in": "in",
    "is": "is not",
    "is not": "is",
}
_FAMILIES = (("<", "<=", ">", ">=", "==", "!="), ("in", "not in"), ("is", "is not"))
_ATOMIC = (ast.Name, ast.Constant, ast.Attribute, ast.Call, ast.Subscript)
_NON_COMMUTATIVE = (
    ast.Sub,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.LShift,
    ast.RShift,
)
_BINOP_TEXT = {ast.Add: "+", ast.Sub: "-"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Mutation:
    """Replace ``source[start:end]`` of file ``path`` by ``text``."""

    operator: str
    path: str
    start: int
    end: int
    text: str
    line: int
    description: str

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly form (what the sandbox scripts read)."""
        return dataclasses.asdict(self)


def apply_mutation(source: str, mutation: Mutation) -> str:
    """The mutated source."""
    return source[: mutation.start] + mutation.text + source[mutation.end :]


class _Offsets:
    """Character offsets from AST positions (whose columns count UTF-8 bytes)."""

    def __init__(self, source: str):
        self.source = source
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def at(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(
            line.encode("utf-8")[:col].decode("utf-8", "ignore")
        )

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.at(node.lineno, node.col_offset),
            self.at(node.end_lineno, node.end_col_offset),
        )

    def text(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.source[start:end]


def _function_nodes(
    tree: ast.Module,
) -> Iterator[tuple[ast.AST, list[ast.stmt] | None]]:
    """Every node inside function bodies, with the statement list it belongs to."""
    seen: set[int] = set()
    for func in ast.walk(tree):
        if (
            not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef))
            or id(func) in seen
        ):
            continue
        for parent_body, statement in _statements(func.body):
            if _is_docstring(statement):
                continue
            for node in ast.walk(statement):
                if isinstance(
                    node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
                ):
                    seen.add(id(node))
                if id(node) in seen and node is not statement:
                    continue
                yield node, parent_body if node is statement else None


def _statements(body: list[ast.stmt]) -> Iterator[tuple[list[ast.stmt], ast.stmt]]:
    for statement in body:
        yield body, statement
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(statement, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                yield from _statements(inner)
        for handler in getattr(statement, "handlers", []):
            yield from _statements(handler.body)


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _in_fstring(tree: ast.Module) -> set[int]:
    return {
        id(n)
        for f in ast.walk(tree)
        if isinstance(f, ast.JoinedStr)
        for n in ast.walk(f)
    }


# ---- the injector's operators --------------------------------------------------------


def mutations(
    path: str, source: str, *, lines: set[int] | None = None, mode: str = "edit"
) -> list[Mutation]:
    """Every mutation of ``source`` by the operators of ``mode`` (``"edit"``: the
    five above; ``"removal"``: ``REMOVAL_OPERATORS``), on ``lines`` only if given."""
    return _valid(
        source, raw_mutations(path, source, inverse=False, lines=lines, mode=mode)
    )


def inverse_candidates(
    path: str, source: str, *, lines: set[int] | None = None
) -> list[Mutation]:
    """Small edits that undo the invertible operators, for the repair search."""
    return _valid(source, raw_mutations(path, source, inverse=True, lines=lines))


def raw_mutations(
    path: str,
    source: str,
    *,
    inverse: bool,
    lines: set[int] | None = None,
    mode: str = "edit",
) -> Iterator[Mutation]:
    """Candidate edits before the parse check (see ``is_valid``); ``mode`` as in
    ``mutations`` (the inverse candidates have no removal mode)."""
    if mode not in MODES:
        raise ValueError(f"expected a mode in {sorted(MODES)}, got {mode!r}")
    if mode == "removal" and not inverse:
        found = _removal_mutations(path, source)
    else:
        found = _raw_mutations(path, source, inverse)
    for mutation in found:
        if lines is None or mutation.line in lines:
            yield mutation


def is_valid(source: str, mutation: Mutation) -> bool:
    """The mutated source still parses."""
    try:
        ast.parse(apply_mutation(source, mutation))
    except SyntaxError:
        return False
    return True


def _raw_mutations(path: str, source: str, inverse: bool) -> Iterator[Mutation]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    offsets = _Offsets(source)
    skip = _in_fstring(tree)
    for node, body in _function_nodes(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            yield from _compare(path, node, offsets, inverse)
        elif isinstance(node, ast.Constant):
            yield from _constant(path, node, offsets, inverse)
        elif isinstance(node, ast.Call):
            yield from _swap_call(path, node, offsets)
        elif isinstance(node, ast.BinOp):
            yield from _swap_binop(path, node, offsets)
            if inverse:
                yield from _flip_binop(path, node, offsets)
        elif isinstance(node, ast.BoolOp) and inverse:
            yield from _flip_boolop(path, node, offsets)
        if isinstance(node, ast.If) and body is not None and not inverse:
            yield from _drop(path, node, body, offsets)


def _compare(
    path: str, node: ast.Compare, offsets: _Offsets, inverse: bool
) -> Iterator[Mutation]:
    start = offsets.span(node.left)[1]
    end = offsets.span(node.comparators[0])[0]
    between = offsets.source[start:end]
    op = " ".join(between.split())
    if op not in _FLIP:
        return
    lead = between[: len(between) - len(between.lstrip())]
    tail = between[len(between.rstrip()) :]
    if inverse:
        family = next(f for f in _FAMILIES if op in f)
        replacements = [o for o in family if o != op]
    else:
        replacements = [_FLIP[op]]
    for new in replacements:
        yield Mutation(
            operator="flip_comparison",
            path=path,
            start=start,
            end=end,
            text=f"{lead}{new}{tail}",
            line=node.lineno,
            description=f"line {node.lineno}: `{op}` -> `{new}`",
        )


def _constant(
    path: str, node: ast.Constant, offsets: _Offsets, inverse: bool
) -> Iterator[Mutation]:
    value = node.value
    start, end = offsets.span(node)
    if isinstance(value, bool):
        yield Mutation(
            operator="change_constant",
            path=path,
            start=start,
            end=end,
            text=str(not value),
            line=node.lineno,
            description=f"line {node.lineno}: {value} -> {not value}",
        )
        return
    if not isinstance(value, int) or offsets.source[start:end] != str(value):
        return
    news = [("off_by_one", value + 1), ("off_by_one", value - 1)]
    if inverse:
        news += [("change_constant", value * 2)]
        if value % 2 == 0 and value:
            news.append(("change_constant", value // 2))
        if value == 0:
            news += [("change_constant", 2), ("change_constant", 10)]
    else:
        if value not in (0, 1):
            news.append(("change_constant", 0))
        if value != 0:
            news.append(("change_constant", value * 2))
    emitted = set()
    for operator, new in news:
        if new < 0 or new in emitted or new == value:
            continue  # a negative literal would need a sign token
        emitted.add(new)
        yield Mutation(
            operator=operator,
            path=path,
            start=start,
            end=end,
            text=str(new),
            line=node.lineno,
            description=f"line {node.lineno}: {value} -> {new}",
        )


def _swap(path: str, a: ast.AST, b: ast.AST, offsets: _Offsets, what: str) -> Mutation:
    start, end = offsets.span(a)[0], offsets.span(b)[1]
    between = offsets.source[offsets.span(a)[1] : offsets.span(b)[0]]
    text = offsets.text(b) + between + offsets.text(a)
    return Mutation(
        operator="swap_args",
        path=path,
        start=start,
        end=end,
        text=text,
        line=a.lineno,
        description=f"line {a.lineno}: swap {what}",
    )


def _swap_call(path: str, node: ast.Call, offsets: _Offsets) -> Iterator[Mutation]:
    args = node.args
    if any(isinstance(a, ast.Starred) for a in args):
        return
    for a, b in zip(args, args[1:], strict=False):
        if offsets.text(a) != offsets.text(b):
            yield _swap(
                path, a, b, offsets, f"arguments of {offsets.text(node.func)[:30]}()"
            )


def _swap_binop(path: str, node: ast.BinOp, offsets: _Offsets) -> Iterator[Mutation]:
    if (
        isinstance(node.op, _NON_COMMUTATIVE)
        and isinstance(node.left, _ATOMIC)
        and isinstance(node.right, _ATOMIC)
    ):
        if offsets.text(node.left) != offsets.text(node.right):
            yield _swap(path, node.left, node.right, offsets, "operands")


def _flip_binop(path: str, node: ast.BinOp, offsets: _Offsets) -> Iterator[Mutation]:
    op = _BINOP_TEXT.get(type(node.op))
    if op is None:
        return
    start, end = offsets.span(node.left)[1], offsets.span(node.right)[0]
    between = offsets.source[start:end]
    if between.strip() != op:
        return
    new = "-" if op == "+" else "+"
    yield Mutation(
        operator="swap_operator",
        path=path,
        start=start,
        end=end,
        text=between.replace(op, new, 1),
        line=node.lineno,
        description=f"line {node.lineno}: `{op}` -> `{new}`",
    )


def _flip_boolop(path: str, node: ast.BoolOp, offsets: _Offsets) -> Iterator[Mutation]:
    old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
    for left, right in zip(node.values, node.values[1:], strict=False):
        start, end = offsets.span(left)[1], offsets.span(right)[0]
        between = offsets.source[start:end]
        if between.strip() == old:
            yield Mutation(
                operator="swap_operator",
                path=path,
                start=start,
                end=end,
                text=between.replace(old, new, 1),
                line=node.lineno,
                description=f"line {node.lineno}: `{old}` -> `{new}`",
            )


def _drop(
    path: str, node: ast.If, body: list[ast.stmt], offsets: _Offsets
) -> Iterator[Mutation]:
    lines = offsets.lines
    first, last = node.lineno, node.end_lineno
    indent = lines[first - 1][: len(lines[first - 1]) - len(lines[first - 1].lstrip())]
    start, end = offsets.starts[first - 1], offsets.starts[last]
    replacement = "" if len(body) > 1 else f"{indent}pass\n"
    if lines[first - 1].lstrip().startswith("if "):
        yield Mutation(
            operator="drop_branch",
            path=path,
            start=start,
            end=end,
            text=replacement,
            line=first,
            description=f"line {first}: delete the if statement",
        )
    orelse = node.orelse
    if orelse and not (len(orelse) == 1 and isinstance(orelse[0], ast.If)):
        else_line = orelse[0].lineno - 1
        if lines[else_line - 1].strip() == "else:":
            yield Mutation(
                operator="drop_branch",
                path=path,
                start=offsets.starts[else_line - 1],
                end=offsets.starts[last],
                text="",
                line=else_line,
                description=f"line {else_line}: delete the else branch",
            )


def _removal_mutations(path: str, source: str) -> Iterator[Mutation]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    offsets = _Offsets(source)
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _remove_body(path, func, offsets)
    for node, body in _function_nodes(tree):
        if isinstance(node, ast.If) and body is not None:
            yield from _drop(path, node, body, offsets)


def _remove_body(
    path: str, func: ast.FunctionDef | ast.AsyncFunctionDef, offsets: _Offsets
) -> Iterator[Mutation]:
    body = func.body[1:] if _is_docstring(func.body[0]) else func.body
    if not body or body[0].lineno == func.lineno:
        return  # only a docstring, or a one-line ``def f(): ...``
    first, last = body[0].lineno, body[-1].end_lineno
    line = offsets.lines[first - 1]
    indent = line[: len(line) - len(line.lstrip())]
    for text in _REMOVED_BODIES:
        yield Mutation(
            operator="remove_body",
            path=path,
            start=offsets.starts[first - 1],
            end=offsets.starts[last],
            text=f"{indent}{text}\n",
            line=first,
            description=f"line {first}: the body of {func.name}() becomes `{text}`",
        )


def _valid(source: str, candidates: Iterator[Mutation]) -> list[Mutation]:
    out = []
    seen = {source}
    for mutation in candidates:
        mutated = apply_mutation(source, mutation)
        if mutated not in seen and is_valid(source, mutation):
            seen.add(mutated)
            out.append(mutation)
    return out


# ---- weakening -----------------------------------------------------------------------


def remove_tests(source: str, names: set[str]) -> str:
    """``source`` without the test functions (or methods) named in ``names``."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    drop: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name in names
        ):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            drop.update(range(first - 1, node.end_lineno))
    kept = [line for index, line in enumerate(lines) if index not in drop]
    text = "".join(kept)
    # A class left with no body would not parse: give it one.
    try:
        ast.parse(text)
    except SyntaxError:
        return source
    return text


# ---- a scripted injector of the removal mode ------------------------------------------


def removal_artifact(
    files: Mapping[str, bytes],
    source_files: Sequence[str],
    test_files: Sequence[str],
    test_command: str,
    runner: TestRunner,
    *,
    max_candidates: int = 20,
) -> BugArtifact | None:
    """The first removal that breaks some but not all passing oracle tests, as an
    artifact whose weakening deletes the broken tests; ``None`` if none does.

    ``runner`` runs the tests of a tree (the env's ``run_tests``: sandboxed, through
    the verdict). At most ``max_candidates`` removals are tried.
    """
    oracle = tuple(sorted(test_files))
    passing = runner(files, test_command, oracle).passed
    tried = 0
    for path in source_files:
        try:
            source = files[path].decode("utf-8")
        except UnicodeDecodeError:
            continue  # a bug patch cannot show a file that is not text
        for mutation in mutations(path, source, mode="removal"):
            if tried >= max_candidates:
                return None
            tried += 1
            buggy = {**files, path: apply_mutation(source, mutation).encode()}
            broken = passing - runner(buggy, test_command, oracle).passed
            if broken and broken != passing:
                return _artifact_for(files, buggy, broken, oracle, test_command)
    return None


def _artifact_for(
    files: Mapping[str, bytes],
    buggy: Mapping[str, bytes],
    broken: set[str],
    oracle: tuple[str, ...],
    test_command: str,
) -> BugArtifact:
    changed = [p for p in buggy if buggy[p] != files.get(p)]
    # JUnit ids end in the test's name: ``module[.Class]::name[param]``.
    names = {test_id.split("::")[-1].split("[")[0] for test_id in broken}
    weakened = {p: remove_tests(files[p].decode(), names).encode() for p in oracle}
    return BugArtifact(
        bug_patch=make_patch(
            {p: files[p] for p in changed}, {p: buggy[p] for p in changed}
        ),
        weaken_patch=make_patch({p: files[p] for p in oracle}, weakened),
        test_files=oracle,
        test_command=test_command,
    )
