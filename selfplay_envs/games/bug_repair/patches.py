"""Unified diffs: parsing, applying, writing and reversing, in pure Python.

Model-written diffs are often slightly off: wrong line counts in ``@@`` headers, empty
context lines without their leading space, hunks that moved a few lines. The parser
trusts the header counts when the body agrees with them and otherwise reads the body up
to the next header; the applier matches each hunk's context exactly, first at the stated
line and then at the nearest offset. Nothing else is fuzzy: a hunk whose context is not
in the file does not apply, with a reason naming the file and the hunk.

A tree is a ``dict`` from a relative POSIX path to the file's bytes.
"""

from __future__ import annotations

import dataclasses
import difflib
import posixpath
import re
from collections.abc import Iterable, Mapping

__all__ = [
    "PatchError",
    "Hunk",
    "FilePatch",
    "Tree",
    "parse_patch",
    "apply_patch",
    "make_patch",
    "reverse_patch",
    "changed_paths",
    "normalise_path",
]

Tree = dict[str, bytes]

DEV_NULL = "/dev/null"
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file"
_MAX_PATH = 400


class PatchError(ValueError):
    """A diff that cannot be parsed or applied; the message says where and why."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Hunk:
    """One ``@@`` block: ``lines`` keep their ``' '``, ``'-'`` or ``'+'`` prefix."""

    old_start: int
    new_start: int
    lines: tuple[str, ...]
    old_no_newline: bool = False  # the old side's last line has no trailing newline
    new_no_newline: bool = False

    @property
    def old_lines(self) -> list[str]:
        """Context and removed lines: what the hunk expects to find."""
        return [line[1:] for line in self.lines if line[0] in " -"]

    @property
    def new_lines(self) -> list[str]:
        """Context and added lines: what the hunk leaves behind."""
        return [line[1:] for line in self.lines if line[0] in " +"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class FilePatch:
    """The hunks of one file; ``old_path`` is ``None`` for a new file, ``new_path``
    is ``None`` for a deleted one."""

    old_path: str | None
    new_path: str | None
    hunks: tuple[Hunk, ...]

    @property
    def path(self) -> str:
        """The path this patch is about (the new one unless the file is deleted)."""
        return self.new_path or self.old_path or ""


def normalise_path(path: str) -> str:
    """A clean relative POSIX path, or ``PatchError`` if it leaves the tree."""
    if not path or len(path) > _MAX_PATH or "\x00" in path or "\\" in path:
        raise PatchError(f"bad path {path[:80]!r}")
    if path.startswith("/"):
        raise PatchError(f"absolute path {path[:80]!r} is not allowed")
    clean = posixpath.normpath(path)
    if clean in (".", "") or clean.startswith("../") or clean == "..":
        raise PatchError(f"path {path[:80]!r} leaves the working copy")
    return clean


# ---- parsing ----------------------------------------------------------------------


def _header_path(line: str) -> str | None:
    """The path of a ``---``/``+++`` line without ``a/``/``b/`` and timestamps."""
    raw = line[4:].split("\t", 1)[0].strip()
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        raw = raw[1:-1]
    if raw == DEV_NULL:
        return None
    if raw.startswith(("a/", "b/")):
        raw = raw[2:]
    return normalise_path(raw)


def parse_patch(text: str) -> list[FilePatch]:
    """Parse unified diff text (plain or ``git diff`` style) into file patches.

    Raises:
        PatchError: the text holds no file patch, or a header or hunk is malformed.
    """
    if not isinstance(text, str):
        raise PatchError(f"expected diff text, got {type(text).__name__}")
    lines = text.replace("\r\n", "\n").split("\n")
    patches: list[FilePatch] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if (
            line.startswith("--- ")
            and i + 1 < len(lines)
            and lines[i + 1].startswith("+++ ")
        ):
            old_path = _header_path(line)
            new_path = _header_path(lines[i + 1])
            if old_path is None and new_path is None:
                raise PatchError(f"line {i + 1}: both sides are /dev/null")
            hunks, i = _parse_hunks(lines, i + 2)
            if not hunks:
                raise PatchError(f"no hunks for {new_path or old_path}")
            patches.append(
                FilePatch(old_path=old_path, new_path=new_path, hunks=tuple(hunks))
            )
            continue
        i += 1
    if not patches:
        raise PatchError("no '--- a/file' / '+++ b/file' header found")
    return patches


def _is_file_header(lines: list[str], i: int) -> bool:
    return (
        lines[i].startswith("--- ")
        and i + 1 < len(lines)
        and lines[i + 1].startswith("+++ ")
    ) or lines[i].startswith("diff --git ")


def _parse_hunks(lines: list[str], i: int) -> tuple[list[Hunk], int]:
    hunks = []
    while i < len(lines):
        match = _HUNK_HEADER.match(lines[i])
        if match is None:
            if hunks or _is_file_header(lines, i) or not lines[i].strip():
                break  # the next file, or prose after the diff
            raise PatchError(
                f"line {i + 1}: expected '@@ -a,b +c,d @@', got {lines[i][:60]!r}"
            )
        old_start, new_start = int(match.group(1)), int(match.group(3))
        old_count = int(match.group(2) or "1")
        new_count = int(match.group(4) or "1")
        body, i = _hunk_body(lines, i + 1, old_count, new_count)
        hunks.append(_make_hunk(old_start, new_start, body))
        # Blank lines between hunks of a hand-written diff.
        while i < len(lines) and not lines[i].strip() and i + 1 < len(lines):
            if not _HUNK_HEADER.match(lines[i + 1]):
                break
            i += 1
    return hunks, i


def _hunk_body(
    lines: list[str], start: int, old_count: int, new_count: int
) -> tuple[list[str], int]:
    """The body lines of one hunk, by the header counts when they fit, else by shape."""
    counted = _body_by_counts(lines, start, old_count, new_count)
    if counted is not None:
        return counted
    body = []
    i = start
    while i < len(lines):
        line = lines[i]
        if _HUNK_HEADER.match(line) or _is_file_header(lines, i):
            break
        if line == "" or line[0] in " +-\\":
            body.append(line if line else " ")
            i += 1
            continue
        break
    while body and body[-1] == " " and (i >= len(lines) or not lines[i - 1]):
        body.pop()  # trailing blank lines of the text are not context
        i -= 1
    return body, i


def _body_by_counts(
    lines: list[str], start: int, old_count: int, new_count: int
) -> tuple[list[str], int] | None:
    body = []
    old = new = 0
    i = start
    while i < len(lines) and (old < old_count or new < new_count):
        line = lines[i] or " "
        kind = line[0]
        if kind == " ":
            old, new = old + 1, new + 1
        elif kind == "-":
            old += 1
        elif kind == "+":
            new += 1
        elif kind != "\\":
            return None
        body.append(line)
        i += 1
    if old != old_count or new != new_count:
        return None
    if i < len(lines) and lines[i].startswith("\\"):
        body.append(lines[i])
        i += 1
    return body, i


def _make_hunk(old_start: int, new_start: int, body: list[str]) -> Hunk:
    kept: list[str] = []
    old_no_newline = new_no_newline = False
    for line in body:
        if line.startswith("\\"):
            if kept and kept[-1][0] in " -":
                old_no_newline = True
            if kept and kept[-1][0] in " +":
                new_no_newline = True
            continue
        kept.append(line)
    if not any(line[0] in "+-" for line in kept):
        raise PatchError(f"hunk at line {old_start} changes nothing")
    return Hunk(
        old_start=old_start,
        new_start=new_start,
        lines=tuple(kept),
        old_no_newline=old_no_newline,
        new_no_newline=new_no_newline,
    )


# ---- applying ---------------------------------------------------------------------


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PatchError(f"{path} is not UTF-8 text") from err


def _split(text: str) -> tuple[list[str], bool]:
    """Lines without newlines, and whether the text ended with one."""
    if not text:
        return [], True
    ends = text.endswith("\n")
    return text[:-1].split("\n") if ends else text.split("\n"), ends


def _find(lines: list[str], wanted: list[str], guess: int) -> int | None:
    """The start index nearest ``guess`` where ``wanted`` matches, or ``None``.

    Exact matches win; failing that, lines may differ in trailing whitespace.
    """
    if not wanted:
        return min(max(guess, 0), len(lines))
    limit = len(lines) - len(wanted)
    if limit < 0:
        return None
    guess = min(max(guess, 0), limit)
    order = sorted(range(limit + 1), key=lambda start: (abs(start - guess), start))
    for same in (_same_exact, _same_loose):
        for start in order:
            if same(lines[start : start + len(wanted)], wanted):
                return start
    return None


def _same_exact(a: list[str], b: list[str]) -> bool:
    return a == b


def _same_loose(a: list[str], b: list[str]) -> bool:
    return all(x.rstrip() == y.rstrip() for x, y in zip(a, b, strict=True))


def _apply_file(old: str, patch: FilePatch) -> tuple[str, bool]:
    lines, ends = _split(old)
    offset = 0
    for number, hunk in enumerate(patch.hunks, start=1):
        wanted = hunk.old_lines
        guess = max(hunk.old_start - 1, 0) + offset
        at = _find(lines, wanted, guess)
        if at is None:
            raise PatchError(
                f"hunk {number} of {patch.path} does not apply: its context and removed "
                f"lines (from line {hunk.old_start}) are not in the file"
            )
        lines[at : at + len(wanted)] = hunk.new_lines
        offset += len(hunk.new_lines) - len(wanted)
        if hunk.new_no_newline:
            ends = False
        elif hunk.old_no_newline:
            ends = True
    return "\n".join(lines) + ("\n" if ends and lines else ""), ends


def apply_patch(tree: Mapping[str, bytes], patches: str | Iterable[FilePatch]) -> Tree:
    """Return a new tree with ``patches`` applied; ``tree`` is not modified.

    Raises:
        PatchError: a file is missing (or already exists for a new file), or a hunk's
            context is not found.
    """
    if isinstance(patches, str):
        patches = parse_patch(patches)
    result = dict(tree)
    for patch in patches:
        if patch.old_path is None:
            if patch.new_path in result:
                raise PatchError(f"{patch.new_path} already exists")
            old_text = ""
        else:
            if patch.old_path not in result:
                raise PatchError(f"{patch.old_path} does not exist")
            old_text = _decode(result[patch.old_path], patch.old_path)
        new_text, _ = _apply_file(old_text, patch)
        if patch.old_path is not None:
            del result[patch.old_path]
        if patch.new_path is not None:
            result[patch.new_path] = new_text.encode("utf-8")
        elif new_text:
            raise PatchError(f"deleting {patch.old_path} leaves text behind")
    return result


# ---- writing ----------------------------------------------------------------------


_NO_EOL_MARK = "\x00"


def _diff_lines(
    path_a: str | None, path_b: str | None, a: str, b: str, context: int
) -> list[str]:
    a_lines, a_ends = _split(a)
    b_lines, b_ends = _split(b)
    # A last line without a newline differs from the same line with one: mark it so
    # difflib sees the difference, then write git's "\ No newline" note after it.
    if not a_ends and a_lines:
        a_lines[-1] += _NO_EOL_MARK
    if not b_ends and b_lines:
        b_lines[-1] += _NO_EOL_MARK
    header_a = f"a/{path_a}" if path_a else DEV_NULL
    header_b = f"b/{path_b}" if path_b else DEV_NULL
    out = []
    for line in difflib.unified_diff(
        a_lines, b_lines, header_a, header_b, n=context, lineterm=""
    ):
        if line.endswith(_NO_EOL_MARK):
            out += [line[: -len(_NO_EOL_MARK)], _NO_NEWLINE]
        else:
            out.append(line)
    return out


def make_patch(
    old: Mapping[str, bytes], new: Mapping[str, bytes], *, context: int = 3
) -> str:
    """A ``git diff``-style unified diff turning tree ``old`` into tree ``new``.

    Binary (non UTF-8) files that differ are reported in a comment line and skipped.
    """
    chunks: list[str] = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a == b:
            continue
        try:
            a_text = "" if a is None else a.decode("utf-8")
            b_text = "" if b is None else b.decode("utf-8")
        except UnicodeDecodeError:
            chunks.append(f"# binary file {path} differs (not shown)")
            continue
        lines = _diff_lines(
            path if a is not None else None,
            path if b is not None else None,
            a_text,
            b_text,
            context,
        )
        if lines:
            chunks.append(f"diff --git a/{path} b/{path}")
            if a is None:
                chunks.append("new file mode 100644")  # git apply wants these
            elif b is None:
                chunks.append("deleted file mode 100644")
            chunks.extend(lines)
    return "\n".join(chunks) + ("\n" if chunks else "")


def reverse_patch(text: str) -> str:
    """The diff that undoes ``text`` (parsed and written back in canonical form)."""
    out: list[str] = []
    for patch in parse_patch(text):
        old = f"a/{patch.new_path}" if patch.new_path else DEV_NULL
        new = f"b/{patch.old_path}" if patch.old_path else DEV_NULL
        out.append(f"diff --git a/{patch.path} b/{patch.path}")
        if patch.new_path is None:
            out.append("new file mode 100644")
        elif patch.old_path is None:
            out.append("deleted file mode 100644")
        out += [f"--- {old}", f"+++ {new}"]
        for hunk in patch.hunks:
            out += _reversed_hunk(hunk)
    return "\n".join(out) + "\n"


def _reversed_hunk(hunk: Hunk) -> list[str]:
    flipped = _removals_first(
        [{"+": "-", "-": "+"}.get(line[0], " ") + line[1:] for line in hunk.lines]
    )
    n_old = sum(1 for line in flipped if line[0] in " -")
    n_new = sum(1 for line in flipped if line[0] in " +")
    last_old = max((k for k, line in enumerate(flipped) if line[0] in " -"), default=-1)
    last_new = max((k for k, line in enumerate(flipped) if line[0] in " +"), default=-1)
    out = [f"@@ -{hunk.new_start},{n_old} +{hunk.old_start},{n_new} @@"]
    for k, line in enumerate(flipped):
        out.append(line)
        # The reversed old side is the original new side, and vice versa.
        if (k == last_old and hunk.new_no_newline) or (
            k == last_new and hunk.old_no_newline
        ):
            out.append(_NO_NEWLINE)
    return out


def _removals_first(lines: list[str]) -> list[str]:
    """Within each run of changed lines, put ``-`` lines before ``+`` lines."""
    out: list[str] = []
    run: list[str] = []
    for line in [*lines, None]:
        if line is not None and line[0] in "+-":
            run.append(line)
            continue
        out += [x for x in run if x[0] == "-"] + [x for x in run if x[0] == "+"]
        run = []
        if line is not None:
            out.append(line)
    return out


def changed_paths(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> list[str]:
    """Paths whose content differs between two trees (added and deleted included)."""
    return sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))
