"""Turning expression text into tokens."""

from __future__ import annotations

__all__ = ["Token", "tokenize", "CalcSyntaxError"]

_TWO_CHAR = ("**", "==", "!=", "<=", ">=", "&&", "||")
_ONE_CHAR = "+-*/%^()<>,!?:="


class CalcSyntaxError(ValueError):
    """The text is not a valid expression; ``position`` is a 0-based offset."""

    def __init__(self, message, position):
        super().__init__(f"{message} at position {position}")
        self.position = position


class Token:
    """One token: ``kind`` is ``num``, ``name``, ``op`` or ``end``."""

    __slots__ = ("kind", "text", "value", "position")

    def __init__(self, kind, text, position, value=None):
        self.kind = kind
        self.text = text
        self.value = value
        self.position = position

    def __repr__(self):
        return f"Token({self.kind!r}, {self.text!r})"


def tokenize(text):
    """Split ``text`` into tokens, ending with an ``end`` token."""
    tokens = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char.isdigit() or (char == "." and i + 1 < len(text) and text[i + 1].isdigit()):
            start = i
            i = _scan_number(text, i)
            literal = text[start:i]
            value = float(literal) if any(c in literal for c in ".eE") else int(literal)
            tokens.append(Token("num", literal, start, value))
            continue
        if char.isalpha() or char == "_":
            start = i
            while i < len(text) and (text[i].isalnum() or text[i] == "_"):
                i += 1
            tokens.append(Token("name", text[start:i], start))
            continue
        pair = text[i : i + 2]
        if pair in _TWO_CHAR:
            tokens.append(Token("op", pair, i))
            i += 2
            continue
        if char in _ONE_CHAR:
            tokens.append(Token("op", char, i))
            i += 1
            continue
        raise CalcSyntaxError(f"unexpected character {char!r}", i)
    tokens.append(Token("end", "", len(text)))
    return tokens


def _scan_number(text, i):
    while i < len(text) and text[i].isdigit():
        i += 1
    if i < len(text) and text[i] == ".":
        i += 1
        while i < len(text) and text[i].isdigit():
            i += 1
    if i < len(text) and text[i] in "eE":
        j = i + 1
        if j < len(text) and text[j] in "+-":
            j += 1
        if j < len(text) and text[j].isdigit():
            i = j
            while i < len(text) and text[i].isdigit():
                i += 1
    return i
