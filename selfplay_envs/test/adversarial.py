"""Adversarial replies: the degenerate text looping or hostile models write.

Each family is a function ``n -> str`` that builds a reply of about ``n`` characters
(never more than ``n + 64``). They target the parsers of every game: unclosed tags
of every kind an env knows, repeated fences, long bracket and brace runs, nested
``\\boxed{}``, NULs and control characters, one character repeated, line
continuations and the like. A parser that backtracks or rescans on any of them takes
time quadratic in ``n``; ``tests/test_linear_time.py`` checks that none does, the text
fuzz test feeds them to every env, and ``benchmarks/bench_fuzz.py`` mixes them with
random text at scale.

>>> from selfplay_envs.test.adversarial import FAMILIES
>>> len(FAMILIES["unclosed <search>"](80)) <= 80
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["FAMILIES", "Family", "random_reply", "repeat"]

Family = Callable[[int], str]


def repeat(unit: str, n: int, head: str = "", tail: str = "") -> str:
    """``head + unit * k + tail`` with ``k`` as large as fits in ``n`` characters."""
    room = max(n - len(head) - len(tail), 0)
    return head + unit * max(room // max(len(unit), 1), 1) + tail


def _nested_boxed(n: int) -> str:
    k = max(n // 8, 1)
    return "\\boxed{" * k + "4" + "}" * k


def _brackets_and_boxes(n: int) -> str:
    # Many bracket answers and many boxed answers: a parser that checks every
    # bracket against every other answer is quadratic.
    half = n // 2
    return repeat("[a] ", half) + repeat("\\boxed{1} ", n - half)


def _control(n: int) -> str:
    chars = "".join(chr(c) for c in range(32) if c not in (10,)) + "\x7f\u2028\u2029"
    return repeat(chars, n)


def _deep_json(n: int) -> str:
    return repeat("[", n, head="<tool>", tail="</tool>")


def _deep_parens(n: int) -> str:
    k = max((n - 20) // 2, 1)
    return "```redcode\nDAT " + "(" * k + "1" + ")" * k + "\n```"


FAMILIES: dict[str, Family] = {
    # unclosed tags of every kind the envs know
    "unclosed <answer>": lambda n: repeat("<answer>", n),
    "unclosed <search>": lambda n: repeat("<search>", n),
    "unclosed <question>": lambda n: repeat("<question>", n),
    "unclosed <think>": lambda n: repeat("<think>", n),
    "unclosed <tool": lambda n: repeat("<tool", n),
    "unclosed <tool name>": lambda n: repeat('<tool name="shell">', n),
    "unclosed \\boxed{": lambda n: repeat("\\boxed{", n),
    "unclosed [Offer": lambda n: repeat("[Offer: 1 ", n),
    "closed <search> tags": lambda n: repeat("<search>q</search>", n),
    "closed <answer> tags": lambda n: repeat("<answer>4</answer>", n),
    "closing tags only": lambda n: repeat("</answer></search></tool></think>", n),
    "one open, closes after": lambda n: repeat("</search>", n, head="<search>"),
    # fences
    "repeated ``` fences": lambda n: repeat("```\n", n),
    "repeated ~~~ fences": lambda n: repeat("~~~\n", n),
    "alternating fences": lambda n: repeat("```\n~~~\n", n),
    "repeated ```redcode": lambda n: repeat("```redcode\n", n),
    "fence, spaces, backtick": lambda n: repeat(" ", n, head="```", tail="`"),
    "unclosed fence of blank lines": lambda n: repeat("\n", n, head="```\n", tail="x"),
    # brackets and braces
    "opening brackets": lambda n: repeat("[", n),
    "closing brackets": lambda n: repeat("]", n),
    "bracket pairs": lambda n: repeat("[]", n),
    "bracket answers": lambda n: repeat("[4]", n),
    "brackets and boxes": _brackets_and_boxes,
    "opening braces": lambda n: repeat("{", n),
    "nested \\boxed": _nested_boxed,
    "\\boxed{\\text{": lambda n: repeat("\\boxed{\\text{", n),
    # odd characters
    "NULs": lambda n: repeat("\x00", n),
    "control characters": _control,
    "carriage returns": lambda n: repeat("\r", n),
    "one character": lambda n: repeat("a", n),
    "spaces": lambda n: repeat(" ", n),
    "newlines": lambda n: repeat("\n", n),
    "backslashes": lambda n: repeat("\\", n),
    "semicolons": lambda n: repeat(";", n),
    "digits": lambda n: repeat("1", n),
    "less-than signs": lambda n: repeat("<", n),
    "emoji": lambda n: repeat("\U0001f600", n),
    "line continuations": lambda n: repeat("x\\\n", n),
    "spaces then a word": lambda n: repeat(" ", n, tail="bet"),
    # structured junk for particular grammars
    "many offers items": lambda n: repeat("1 Wood, ", n, head="[Offer: ", tail="]"),
    "many tool attributes": lambda n: repeat(' a="b"', n, head="<tool", tail="/>"),
    "deep JSON tool body": _deep_json,
    "many instructions": lambda n: repeat("MOV 0, 1\n", n, head="```redcode\n"),
    "many labels": lambda n: repeat("a ", n, head="```redcode\n", tail="DAT 0\n```"),
    "deep parentheses": _deep_parens,
    "redcode headers": lambda n: repeat(";redcode\n", n),
}


_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyz ABCXYZ 0123456789 \n\t[]{}<>()/\\=\"'`~#$@*;:,.-+_!?"
)
_SNIPPETS = (
    "<answer>",
    "</answer>",
    "<search>",
    "</search>",
    "<question>",
    "</question>",
    "<think>",
    "</think>",
    "\\boxed{",
    "}",
    "[",
    "]",
    "```",
    "```redcode\n",
    "~~~",
    '<tool name="read_file" path="x"/>',
    '<tool name="shell">',
    "</tool>",
    "<tool>",
    "[Offer: 1 Wood -> 2 Ore]",
    "[Accept]",
    "[Deny]",
    ";redcode\n",
    "MOV 0, 1\n",
    "ORG 5\n",
    "END\n",
    "\x00",
    "\r\n",
)


def random_reply(rng: np.random.Generator, max_chars: int = 4096) -> str:
    """A random reply: random characters, tag fragments, or an adversarial family."""
    kind = int(rng.integers(4))
    n = int(rng.integers(0, max_chars + 1))
    if kind == 0:  # random characters
        codes = rng.integers(0, len(_ALPHABET), size=n)
        return "".join(_ALPHABET[c] for c in codes)
    if kind == 1:  # random code points, control characters included
        codes = rng.integers(0, 0x3000, size=min(n, 512))
        return "".join(chr(c) for c in codes if not 0xD800 <= c < 0xE000)
    if kind == 2:  # a mixture of fragments the parsers look for
        count = int(rng.integers(1, 64))
        return "".join(
            _SNIPPETS[int(i)] for i in rng.integers(0, len(_SNIPPETS), size=count)
        )
    names = sorted(FAMILIES)
    return FAMILIES[names[int(rng.integers(len(names)))]](n)
