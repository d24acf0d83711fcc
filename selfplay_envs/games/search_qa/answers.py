"""Answer normalisation, exact match and token F1 (SQuAD's metric, with numbers).

``normalize_answer`` lower-cases, writes numbers one way (``"twenty-one"``, ``"21"``
and ``"21.0"`` all become ``21``; ``"1,200"`` becomes ``1200``), drops punctuation
(hyphens and slashes become spaces, so ``"Acme-Corp"`` matches ``"Acme Corp"``),
drops the articles *a*, *an*, *the* and squeezes white space. Exact match and F1 are
computed on the normalised strings, as in SQuAD and Search-R1.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

__all__ = ["normalize_answer", "exact_match", "f1_score", "contains_answer"]

_UNITS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {
    w: 10 * (i + 2)
    for i, w in enumerate(
        "twenty thirty forty fifty sixty seventy eighty ninety".split()
    )
}
_SCALES = {
    "hundred": 100,
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
}
_ARTICLES = frozenset(("a", "an", "the"))
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DECIMAL = re.compile(r"\b(\d+)\.(\d+)\b")
_SPACED = re.compile(r"[-/\u2010-\u2015]")
_NUMBER_DOT = "\x00"  # stands in for a decimal point while punctuation is removed


def _decimal(match: re.Match[str]) -> str:
    whole, frac = match.group(1), match.group(2).rstrip("0")
    whole = whole.lstrip("0") or "0"
    return f"{whole}{_NUMBER_DOT}{frac}" if frac else whole


def _is_number_word(token: str) -> bool:
    return token in _UNITS or token in _TENS or token in _SCALES


def _words_to_numbers(tokens: list[str]) -> list[str]:
    """Replace runs of English number words by their value: "two hundred and five"."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if not (tokens[i] in _UNITS or tokens[i] in _TENS):
            out.append(tokens[i])
            i += 1
            continue
        total, current = 0, 0
        while i < len(tokens):
            token = tokens[i]
            if token in _UNITS:
                current += _UNITS[token]
            elif token in _TENS:
                current += _TENS[token]
            elif token in _SCALES:
                scale = _SCALES[token]
                if scale == 100:
                    current = max(current, 1) * 100
                else:
                    total += max(current, 1) * scale
                    current = 0
            elif (
                token == "and"
                and i + 1 < len(tokens)
                and _is_number_word(tokens[i + 1])
            ):
                pass
            else:
                break
            i += 1
        out.append(str(total + current))
    return out


def normalize_answer(text: str) -> str:
    """The canonical form answers are compared in (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _THOUSANDS.sub("", text)
    text = _DECIMAL.sub(_decimal, text)
    text = _SPACED.sub(" ", text)
    text = "".join(
        ch
        for ch in text
        if ch == _NUMBER_DOT or not unicodedata.category(ch).startswith("P")
    )
    tokens = [t for t in text.split() if t not in _ARTICLES]
    tokens = [(t.lstrip("0") or "0") if t.isdigit() else t for t in tokens]
    return " ".join(_words_to_numbers(tokens)).replace(_NUMBER_DOT, ".")


def _as_list(gold: str | Iterable[str]) -> list[str]:
    return [gold] if isinstance(gold, str) else list(gold)


def exact_match(prediction: str, gold: str | Iterable[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer, else 0.0."""
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(g) for g in _as_list(gold)))


def f1_score(prediction: str, gold: str | Iterable[str]) -> float:
    """Token-level F1 of the normalised strings; the best over gold answers."""
    pred = normalize_answer(prediction).split()
    best = 0.0
    for g in _as_list(gold):
        ref = normalize_answer(g).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            precision, recall = common / len(pred), common / len(ref)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_answer(text: str, answer: str) -> bool:
    """Whether the normalised ``answer`` occurs in ``text`` as whole words."""
    needle = normalize_answer(answer)
    if not needle:
        return False
    return f" {needle} " in f" {normalize_answer(text)} "
