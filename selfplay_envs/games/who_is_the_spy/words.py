"""Word pairs for the text variant, with the small knowledge base scripted players use.

``envs_assets/who_is_the_spy/word_pairs.tsv`` has one pair per line: the civilian word,
the spy word, then three ``;``-separated lists of predicates that complete "It ...":
true of both words, true of the civilian word only, true of the spy word only. Models
never see these lists; scripted players read their own word's predicates from ``info``.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import re
from pathlib import Path
from typing import Any

from selfplay_envs.core.assets import ASSETS_ENV, assets_dir

__all__ = [
    "DEFAULT_WORD_PAIRS",
    "WordPair",
    "WordCard",
    "load_word_pairs",
    "attribute_vocabulary",
    "mentions_word",
]

DEFAULT_WORD_PAIRS = assets_dir() / "who_is_the_spy" / "word_pairs.tsv"
_COLUMNS = ("civilian", "spy", "shared", "civilian_only", "spy_only")


@dataclasses.dataclass(frozen=True, kw_only=True)
class WordCard:
    """What one player holds in the word variant: a word and what is true of it.

    ``attributes`` is sorted, so its order does not reveal which predicates are shared.
    A blank card (the spy's, under ``spy_item="blank"``) has an empty word.
    """

    word: str
    attributes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"word": self.word, "attributes": list(self.attributes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WordCard:
        """Inverse of ``to_dict``."""
        return cls(word=data["word"], attributes=tuple(data["attributes"]))


@dataclasses.dataclass(frozen=True, kw_only=True)
class WordPair:
    """One line of the word-pair file."""

    civilian: str
    spy: str
    shared: tuple[str, ...]
    civilian_only: tuple[str, ...]
    spy_only: tuple[str, ...]

    def cards(self, *, swap: bool = False) -> tuple[WordCard, WordCard]:
        """The civilians' card and the spy's card (swapped roles when ``swap``)."""
        first = WordCard(
            word=self.civilian,
            attributes=tuple(sorted(self.shared + self.civilian_only)),
        )
        second = WordCard(
            word=self.spy, attributes=tuple(sorted(self.shared + self.spy_only))
        )
        return (second, first) if swap else (first, second)


def _split(cell: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in cell.split(";") if p.strip())


@functools.lru_cache(maxsize=4)
def load_word_pairs(path: str | Path = DEFAULT_WORD_PAIRS) -> tuple[WordPair, ...]:
    """Read a word-pair TSV (header ``civilian spy shared civilian_only spy_only``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"expected the word-pair file at {path}, got no such file; pass "
            f"word_pairs='path/to/pairs.tsv', or set ${ASSETS_ENV} to envs_assets/"
        )
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if not rows or tuple(rows[0]) != _COLUMNS:
        raise ValueError(f"expected the header {_COLUMNS} in {path}, got {rows[:1]}")
    pairs = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(_COLUMNS):
            raise ValueError(
                f"expected {len(_COLUMNS)} columns on line {number} of {path}, got {len(row)}"
            )
        civilian, spy, shared, civilian_only, spy_only = row
        pairs.append(
            WordPair(
                civilian=civilian.strip(),
                spy=spy.strip(),
                shared=_split(shared),
                civilian_only=_split(civilian_only),
                spy_only=_split(spy_only),
            )
        )
    return tuple(pairs)


@functools.lru_cache(maxsize=4)
def attribute_vocabulary(path: str | Path = DEFAULT_WORD_PAIRS) -> frozenset[str]:
    """Every predicate in the file, lower-cased: the clues a scripted player can check."""
    return frozenset(
        attribute.lower()
        for pair in load_word_pairs(path)
        for attribute in pair.shared + pair.civilian_only + pair.spy_only
    )


def mentions_word(text: str, word: str) -> bool:
    """True when ``text`` contains ``word`` (or its plural) as a whole word."""
    if not word:
        return False
    pattern = r"\b" + re.escape(word.lower()) + r"(?:s|es)?\b"
    return re.search(pattern, text.lower()) is not None
