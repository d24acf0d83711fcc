"""Line diffs: longest common subsequence, opcodes and unified diff text."""

from __future__ import annotations

__all__ = ["lcs_table", "opcodes", "unified_diff", "apply_opcodes", "similarity"]


def lcs_table(a, b):
    """``table[i][j]`` = length of the LCS of ``a[i:]`` and ``b[j:]``."""
    n, m = len(a), len(b)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if a[i] == b[j]:
                table[i][j] = table[i + 1][j + 1] + 1
            else:
                table[i][j] = max(table[i + 1][j], table[i][j + 1])
    return table


def opcodes(a, b):
    """Edit script from ``a`` to ``b`` as ``(tag, i1, i2, j1, j2)`` tuples.

    Tags are ``equal``, ``delete``, ``insert`` and ``replace`` (a delete directly
    followed by an insert), in the style of ``difflib.SequenceMatcher``.
    """
    table = lcs_table(a, b)
    steps = []
    i = j = 0
    while i < len(a) or j < len(b):
        if i < len(a) and j < len(b) and a[i] == b[j]:
            steps.append(("equal", i, j))
            i += 1
            j += 1
        elif i < len(a) and (j == len(b) or table[i + 1][j] >= table[i][j + 1]):
            steps.append(("delete", i, j))
            i += 1
        else:
            steps.append(("insert", i, j))
            j += 1
    return _group(steps, len(a), len(b))


def _group(steps, n, m):
    codes = []
    for tag, i, j in steps:
        di = 0 if tag == "insert" else 1
        dj = 0 if tag == "delete" else 1
        if codes and codes[-1][0] == tag:
            _, i1, i2, j1, j2 = codes[-1]
            codes[-1] = (tag, i1, i2 + di, j1, j2 + dj)
        else:
            codes.append((tag, i, i + di, j, j + dj))
    merged = []
    for code in codes:
        if merged and merged[-1][0] in ("delete", "replace") and code[0] == "insert":
            _, i1, i2, j1, _ = merged[-1]
            merged[-1] = ("replace", i1, i2, j1, code[4])
        else:
            merged.append(code)
    return merged


def apply_opcodes(a, b, codes):
    """Rebuild ``b`` from ``a`` and the opcodes (a self-check of ``opcodes``)."""
    result = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal":
            result.extend(a[i1:i2])
        elif tag in ("insert", "replace"):
            result.extend(b[j1:j2])
    return result


def similarity(a, b):
    """``2 * matches / (len(a) + len(b))``, 1.0 for two empty sequences."""
    if not a and not b:
        return 1.0
    matches = lcs_table(a, b)[0][0]
    return 2.0 * matches / (len(a) + len(b))


def unified_diff(a, b, fromfile="a", tofile="b", context=3):
    """Unified diff lines (no trailing newlines) between line lists ``a`` and ``b``."""
    codes = opcodes(a, b)
    if all(code[0] == "equal" for code in codes):
        return []
    lines = [f"--- {fromfile}", f"+++ {tofile}"]
    for hunk in _hunks(codes, context):
        first, last = hunk[0], hunk[-1]
        i1, i2, j1, j2 = first[1], last[2], first[3], last[4]
        lines.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@")
        for tag, a1, a2, b1, b2 in hunk:
            if tag == "equal":
                lines.extend(" " + line for line in a[a1:a2])
                continue
            lines.extend("-" + line for line in a[a1:a2])
            lines.extend("+" + line for line in b[b1:b2])
    return lines


def _range(start, stop):
    length = stop - start
    if length == 1:
        return f"{start + 1}"
    if length == 0:
        return f"{start},0"
    return f"{start + 1},{length}"


def _hunks(codes, context):
    """Split opcodes into hunks, trimming equal runs to ``context`` lines."""
    codes = list(codes)
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    hunk = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context and hunk:
            hunk.append((tag, i1, i1 + context, j1, j1 + context))
            yield hunk
            hunk = []
            i1, j1 = i2 - context, j2 - context
        hunk.append((tag, i1, i2, j1, j2))
    if hunk and not (len(hunk) == 1 and hunk[0][0] == "equal"):
        yield hunk
