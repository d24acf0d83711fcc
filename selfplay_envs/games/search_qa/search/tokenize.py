"""The analyzer the BM25 index and the scripted readers share.

Lower-cased runs of letters and digits, English stop words removed, and a light
plural stemmer (Harman's S-stemmer, plus ``-'s``): ``cities`` -> ``city``,
``founders`` -> ``founder``. It is deliberately small and dependency-free, so that an
index built on one machine means the same on another; its version is part of every
index cache key.
"""

from __future__ import annotations

import functools
import re

__all__ = ["ANALYZER_VERSION", "STOPWORDS", "tokenize", "stem", "raw_tokens"]

ANALYZER_VERSION = "v1"

# Lucene's English stop set plus a few question words that carry no content.
STOPWORDS = frozenset(
    """a an and are as at be but by for if in into is it no not of on or such that the
    their then there these they this to was will with s what which who whom whose when
    where why how does did do has have had its his her he she him them we you i""".split()
)

_TOKEN = re.compile(r"[^\W_]+")


def raw_tokens(text: str) -> list[str]:
    """Lower-cased word tokens, before stop words and stemming."""
    return _TOKEN.findall(text.lower())


@functools.lru_cache(maxsize=1 << 16)
def stem(token: str) -> str:
    """Harman's S-stemmer: strip English plural endings, leave the rest alone."""
    if len(token) <= 3 or not token.endswith("s") or token[-2:] in ("us", "ss"):
        return token
    if token.endswith("ies") and token[-4:-3] not in "ae":
        return token[:-3] + "y"
    if token.endswith("es") and token[-3:-2] not in "aeo":
        return token[:-1]
    return token[:-1]


def tokenize(text: str) -> list[str]:
    """Analyzed terms of ``text``: the tokens a query or a passage is matched on."""
    return [stem(t) for t in raw_tokens(text) if t not in STOPWORDS]
