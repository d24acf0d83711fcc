"""Checkable clues: a tiny sentence grammar per item kind, with its truth conditions.

A clue such as "There is a large red metal cube." or "Mar is higher than Apr." parses
into a ``Fact`` that can be checked against any item of its kind. The env uses this to
report, at the end, which clues were true of the civilians' item and of the spy's (the
verifier's evidence); the scripted players in ``selfplay_agents.opponents.who_is_the_spy`` use it
to find clues that contradict their own item. Free text outside the grammar parses to
``None`` and is simply not checkable.

Each ``Describer`` answers four questions about its item kind:

* ``facts(item)``: the clue sentences true of ``item`` (what a scripted player can say);
* ``parse(text)``: the fact a sentence states, or ``None``;
* ``support(item, fact)``: which parts of ``item`` make ``fact`` true (object
  attributes, chart cells, word predicates); empty when it is false;
* ``entails(earlier, later)``: whether ``later`` only repeats ``earlier``.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Hashable, Iterable
from typing import Any, Protocol

from selfplay_envs.games.who_is_the_spy.charts import ALL_LABELS, ChartTable
from selfplay_envs.games.who_is_the_spy.scenes import ATTRIBUTES, Scene, SceneObject
from selfplay_envs.games.who_is_the_spy.words import WordCard, mentions_word

__all__ = [
    "Fact",
    "Describer",
    "SceneDescriber",
    "ChartDescriber",
    "WordDescriber",
    "restates",
]

_MARGIN = 0.04  # ground distance below which "left of" / "in front of" is not asserted
_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True)
class Fact:
    """One checkable statement. ``key`` is its meaning; ``text`` a canonical sentence."""

    kind: str
    key: tuple[Any, ...]
    text: str
    specificity: int = 1  # how much it pins down (attributes named, cells read)


class Describer(Protocol):
    """The clue grammar of one item kind."""

    def facts(self, item: Any) -> list[Fact]:
        """Clue sentences true of ``item``."""
        ...

    def parse(self, text: str) -> Fact | None:
        """The fact ``text`` states, or ``None`` when it is outside the grammar."""
        ...

    def support(self, item: Any, fact: Fact) -> frozenset[Hashable]:
        """The parts of ``item`` that make ``fact`` true; empty when it is false."""
        ...

    def entails(self, earlier: Fact, later: Fact) -> bool:
        """True when ``later`` says nothing that ``earlier`` did not."""
        ...


def restates(describer: Describer, earlier: Iterable[Fact], fact: Fact) -> bool:
    """True when some earlier fact already says everything ``fact`` says."""
    return any(describer.entails(e, fact) for e in earlier)


def _normalise(text: str) -> str:
    text = re.sub(r"\s+", " ", text.strip().lower())
    return text.rstrip(".!").strip()


# ---- scenes --------------------------------------------------------------------------

_SCENE_SYNONYMS = {
    "big": ("size", "large"), "large": ("size", "large"), "small": ("size", "small"),
    "tiny": ("size", "small"), "little": ("size", "small"),
    "rubber": ("material", "rubber"), "matte": ("material", "rubber"),
    "metal": ("material", "metal"), "metallic": ("material", "metal"),
    "shiny": ("material", "metal"),
    "cube": ("shape", "cube"), "block": ("shape", "cube"), "box": ("shape", "cube"),
    "sphere": ("shape", "sphere"), "ball": ("shape", "sphere"),
    "cylinder": ("shape", "cylinder"), "grey": ("color", "gray"),
}  # fmt: skip
_SCENE_SYNONYMS.update({c: ("color", c) for c in ATTRIBUTES["color"]})
_NOUNS = {"object", "objects", "thing", "things", "item", "items", "shape", "shapes"}
_ORDER = ("size", "color", "material", "shape")

Descriptor = frozenset  # of (attribute, value) pairs


def _describe(desc: Descriptor, *, plural: bool = False) -> str:
    values = dict(desc)
    words = [values[a] for a in _ORDER if a in values and a != "shape"]
    noun = values.get("shape", "object")
    return " ".join([*words, noun + ("s" if plural else "")])


def _article(phrase: str) -> str:
    return "an" if phrase[0] in "aeiou" else "a"


def _parse_descriptor(text: str) -> Descriptor | None:
    pairs: dict[str, str] = {}
    for word in text.replace(",", " ").split():
        if word in ("a", "an", "the", "one"):
            continue
        singular = (
            word[:-1] if word.endswith("s") and word[:-1] in _SCENE_SYNONYMS else word
        )
        if singular in _NOUNS or word in _NOUNS:
            continue
        if singular not in _SCENE_SYNONYMS:
            return None
        attribute, value = _SCENE_SYNONYMS[singular]
        if pairs.get(attribute, value) != value:
            return None
        pairs[attribute] = value
    return Descriptor(pairs.items())


def _matches(obj: SceneObject, desc: Descriptor) -> bool:
    # attribute names are SceneObject field names; getattr avoids building a dict
    return all(getattr(obj, a) == v for a, v in desc)


_THERE_IS = re.compile(r"^(?:there is|there's|i see|i can see) (?:a|an|one) (.+)$")
_THERE_ARE = re.compile(r"^there are (\d+|[a-z]+) (.+)$")
_LEFT_RIGHT = re.compile(r"^the (.+?) is (?:to the |on the )?(left|right) of the (.+)$")
_FRONT_BEHIND = re.compile(r"^the (.+?) is (in front of|behind) the (.+)$")


class SceneDescriber:
    """Clues about CLEVR-like scenes: existence, left/right and front/behind, counts."""

    def facts(self, scene: Scene) -> list[Fact]:
        """Existence at several levels of detail, pairwise relations, and counts."""
        found: dict[tuple[Any, ...], Fact] = {}
        subsets = (_ORDER, ("color", "shape"), ("size", "shape"), ("material", "shape"),
                   ("shape",), ("color",))  # fmt: skip
        for obj in scene.objects:
            values = obj.attributes()
            for subset in subsets:
                fact = self._exists(Descriptor((a, values[a]) for a in subset))
                found.setdefault(fact.key, fact)
        for a, b in itertools.permutations(scene.objects, 2):
            da = Descriptor((k, a.attributes()[k]) for k in ("color", "shape"))
            db = Descriptor((k, b.attributes()[k]) for k in ("color", "shape"))
            if da == db:  # "the red cube is left of the red cube" helps nobody
                continue
            if a.x + 2 * _MARGIN < b.x:
                fact = self._relation("left", da, db)
                found.setdefault(fact.key, fact)
            if a.depth + 2 * _MARGIN < b.depth:
                fact = self._relation("front", da, db)
                found.setdefault(fact.key, fact)
        fact = self._count(Descriptor(), len(scene.objects))
        found[fact.key] = fact
        for attribute in ("shape", "color"):
            for value in sorted({o.attributes()[attribute] for o in scene.objects}):
                desc = Descriptor([(attribute, value)])
                n = sum(_matches(o, desc) for o in scene.objects)
                if n >= 2:
                    fact = self._count(desc, n)
                    found[fact.key] = fact
        return list(found.values())  # true by construction

    @staticmethod
    def _exists(desc: Descriptor) -> Fact:
        phrase = _describe(desc)
        return Fact(
            kind="exists",
            key=("exists", desc),
            text=f"There is {_article(phrase)} {phrase}.",
            specificity=len(desc),
        )

    @staticmethod
    def _relation(relation: str, a: Descriptor, b: Descriptor) -> Fact:
        words = "left of" if relation == "left" else "in front of"
        return Fact(
            kind=relation,
            key=(relation, a, b),
            text=f"The {_describe(a)} is {words} the {_describe(b)}.",
            specificity=len(a) + len(b) + 1,
        )

    @staticmethod
    def _count(desc: Descriptor, n: int) -> Fact:
        return Fact(
            kind="count",
            key=("count", desc, n),
            text=f"There are {n} {_describe(desc, plural=True)}.",
            specificity=len(desc) + 1,
        )

    def parse(self, text: str) -> Fact | None:
        """Read one of the templates above (synonyms such as "big", "ball" accepted)."""
        text = _normalise(text)
        if match := _THERE_IS.match(text):
            desc = _parse_descriptor(match.group(1))
            return self._exists(desc) if desc else None
        if match := _THERE_ARE.match(text):
            number = match.group(1)
            n = int(number) if number.isdigit() else _NUMBERS.get(number)
            desc = _parse_descriptor(match.group(2))
            return self._count(desc, n) if n is not None and desc is not None else None
        for pattern in (_LEFT_RIGHT, _FRONT_BEHIND):
            if match := pattern.match(text):
                a, b = (
                    _parse_descriptor(match.group(1)),
                    _parse_descriptor(match.group(3)),
                )
                if not a or not b:
                    return None
                relation = match.group(2)
                if relation in ("right", "behind"):
                    a, b = b, a
                return self._relation(
                    "left" if relation in ("left", "right") else "front", a, b
                )
        return None

    def support(self, scene: Scene, fact: Fact) -> frozenset[Hashable]:
        """``(object index, attribute)`` pairs that witness ``fact``."""
        objects = scene.objects
        if fact.kind == "exists":
            desc = fact.key[1]
            return frozenset(
                (i, a)
                for i, o in enumerate(objects)
                if _matches(o, desc)
                for a, _ in desc
            )
        if fact.kind == "count":
            _, desc, n = fact.key
            if sum(_matches(o, desc) for o in objects) != n:
                return frozenset()
            return frozenset([("count", desc)])
        _, a_desc, b_desc = fact.key
        axis = "x" if fact.kind == "left" else "depth"
        firsts = [i for i, o in enumerate(objects) if _matches(o, a_desc)]
        seconds = [j for j, o in enumerate(objects) if _matches(o, b_desc)]
        found: set[Hashable] = set()
        for i in firsts:
            for j in seconds:
                if i != j and getattr(objects[i], axis) + _MARGIN < getattr(
                    objects[j], axis
                ):
                    for k, desc in ((i, a_desc), (j, b_desc)):
                        found.update((k, attr) for attr, _ in desc)
                        found.add((k, "position"))
        return frozenset(found)

    def entails(self, earlier: Fact, later: Fact) -> bool:
        """Same fact, or an existence claim with fewer attributes than an earlier one."""
        if earlier.key == later.key:
            return True
        if later.kind != "exists":
            return False
        desc = later.key[1]
        if earlier.kind == "exists":
            return desc <= earlier.key[1]
        if earlier.kind in ("left", "front"):
            return desc <= earlier.key[1] or desc <= earlier.key[2]
        return False


# ---- charts --------------------------------------------------------------------------

_LABELS = {label.lower(): label for label in ALL_LABELS}
_LABEL = (
    "(" + "|".join(sorted((re.escape(k) for k in _LABELS), key=len, reverse=True)) + ")"
)
_VALUE = re.compile(
    rf"^(?:the value (?:of|for) )?{_LABEL} (?:is|has a value of|has value|=) (\d+)$"
)
_COMPARE = re.compile(
    rf"^{_LABEL} is (higher|lower|larger|smaller|bigger) than {_LABEL}$"
)
_EXTREME = re.compile(rf"^{_LABEL} has the (highest|lowest|largest|smallest) value$")
_INCLUDES = re.compile(
    rf"^(?:{_LABEL} is one of the categories|the chart includes {_LABEL})$"
)
_CATEGORIES = re.compile(
    r"^the chart has (\d+|[a-z]+) (?:categories|bars|points|labels)$"
)
_KIND = re.compile(r"^(?:it|this|the chart) is a (bar|line) chart$")


class ChartDescriber:
    """Clues about a chart: a cell's value, comparisons, extremes, labels, size, kind."""

    def facts(self, table: ChartTable) -> list[Fact]:
        """Every template instance true of ``table``."""
        found = [self._kind(table.kind), self._categories(len(table.labels))]
        for label, value in zip(table.labels, table.values, strict=True):
            found += [self._includes(label), self._value(label, value)]
        for (la, va), (lb, vb) in itertools.permutations(
            zip(table.labels, table.values, strict=True), 2
        ):
            if va > vb:
                found.append(self._compare(la, lb))
        ranked = sorted(zip(table.values, table.labels, strict=True))
        found += [
            self._extreme(ranked[-1][1], "highest"),
            self._extreme(ranked[0][1], "lowest"),
        ]
        return found

    @staticmethod
    def _kind(kind: str) -> Fact:
        return Fact(
            kind="kind",
            key=("kind", kind),
            text=f"It is a {kind} chart.",
            specificity=0,
        )

    @staticmethod
    def _categories(n: int) -> Fact:
        return Fact(
            kind="categories",
            key=("categories", n),
            text=f"The chart has {n} categories.",
        )

    @staticmethod
    def _includes(label: str) -> Fact:
        return Fact(
            kind="includes",
            key=("includes", label.lower()),
            text=f"The chart includes {label}.",
        )

    @staticmethod
    def _value(label: str, value: int) -> Fact:
        return Fact(
            kind="value",
            key=("value", label.lower(), value),
            text=f"The value of {label} is {value}.",
            specificity=2,
        )

    @staticmethod
    def _compare(higher: str, lower: str) -> Fact:
        return Fact(
            kind="compare",
            key=("compare", higher.lower(), lower.lower()),
            text=f"{higher} is higher than {lower}.",
            specificity=2,
        )

    @staticmethod
    def _extreme(label: str, which: str) -> Fact:
        return Fact(
            kind=which,
            key=(which, label.lower()),
            text=f"{label} has the {which} value.",
            specificity=2,
        )

    def parse(self, text: str) -> Fact | None:
        """Read one of the templates above (labels from the known pools only)."""
        text = _normalise(text)
        if match := _KIND.match(text):
            return self._kind(match.group(1))
        if match := _CATEGORIES.match(text):
            number = match.group(1)
            n = int(number) if number.isdigit() else _NUMBERS.get(number)
            return self._categories(n) if n is not None else None
        if match := _VALUE.match(text):
            return self._value(_LABELS[match.group(1)], int(match.group(2)))
        if match := _COMPARE.match(text):
            a, word, b = (
                _LABELS[match.group(1)],
                match.group(2),
                _LABELS[match.group(3)],
            )
            return (
                self._compare(a, b)
                if word in ("higher", "larger", "bigger")
                else self._compare(b, a)
            )
        if match := _EXTREME.match(text):
            which = "highest" if match.group(2) in ("highest", "largest") else "lowest"
            return self._extreme(_LABELS[match.group(1)], which)
        if match := _INCLUDES.match(text):
            return self._includes(_LABELS[match.group(1) or match.group(2)])
        return None

    def support(self, table: ChartTable, fact: Fact) -> frozenset[Hashable]:
        """``(label, "label" | "value")`` cells that witness ``fact``."""
        values = {
            label.lower(): value
            for label, value in zip(table.labels, table.values, strict=True)
        }
        key = fact.key
        if fact.kind == "kind":
            return frozenset([("kind",)]) if table.kind == key[1] else frozenset()
        if fact.kind == "categories":
            return (
                frozenset([("categories",)]) if len(values) == key[1] else frozenset()
            )
        if fact.kind == "includes":
            return frozenset([(key[1], "label")]) if key[1] in values else frozenset()
        if fact.kind == "value":
            ok = values.get(key[1]) == key[2]
            return (
                frozenset([(key[1], "label"), (key[1], "value")]) if ok else frozenset()
            )
        if fact.kind == "compare":
            a, b = values.get(key[1]), values.get(key[2])
            ok = a is not None and b is not None and a > b
            cells = [
                (key[1], "label"),
                (key[1], "value"),
                (key[2], "label"),
                (key[2], "value"),
            ]
            return frozenset(cells) if ok else frozenset()
        best = (
            max(values, key=values.__getitem__)
            if fact.kind == "highest"
            else min(values, key=values.__getitem__)
        )
        if best != key[1]:
            return frozenset()
        return frozenset(
            (label, part) for label in values for part in ("label", "value")
        )

    def entails(self, earlier: Fact, later: Fact) -> bool:
        """Same fact, or a label's presence after a fact that names it."""
        if earlier.key == later.key:
            return True
        if later.kind == "includes":
            return earlier.kind in ("value", "compare", "highest", "lowest") and (
                later.key[1] in earlier.key[1:]
            )
        return False


# ---- words ---------------------------------------------------------------------------

_IT = re.compile(r"^(?:it|my word|this word|this thing|the thing) (.+)$")


class WordDescriber:
    """Clues "It <predicate>." over the predicates of the word-pair file.

    Args:
        vocabulary: Every predicate a clue may state (lower case); others are not
            checkable, so a free-form clue never counts as a contradiction.
    """

    def __init__(self, vocabulary: Iterable[str]):
        self.vocabulary = frozenset(v.lower() for v in vocabulary)

    def facts(self, card: WordCard) -> list[Fact]:
        """One clue per predicate of the card that does not name the word itself."""
        return [
            self._fact(a) for a in card.attributes if not mentions_word(a, card.word)
        ]

    @staticmethod
    def _fact(attribute: str) -> Fact:
        return Fact(
            kind="attribute",
            key=("attribute", attribute.lower()),
            text=f"It {attribute}.",
        )

    def parse(self, text: str) -> Fact | None:
        """``"It <predicate>."`` with a known predicate, else ``None``."""
        match = _IT.match(_normalise(text))
        if match is None or match.group(1) not in self.vocabulary:
            return None
        return self._fact(match.group(1))

    def support(self, card: WordCard, fact: Fact) -> frozenset[Hashable]:
        """The predicate itself when the card has it."""
        held = {a.lower() for a in card.attributes}
        return frozenset([fact.key[1]]) if fact.key[1] in held else frozenset()

    def entails(self, earlier: Fact, later: Fact) -> bool:
        """Only the same predicate repeats a predicate."""
        return earlier.key == later.key
