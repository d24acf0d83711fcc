"""A synthetic encyclopedia: invented entities, typed relations, articles in English.

Every fact is known, because the generator made it: people are born in cities, cities
lie in countries, companies are founded by people, and so on (``RELATIONS``). Each
relation is a function (one object per subject), every name is unique, and each fact is
stated exactly once, in its subject's article. So the composition of n relations
applied to a named entity has exactly one answer, and an n-hop question about it is
verifiable. The names are made of invented syllables, so no language model knows the
answers from pre-training: they must be searched for.

Generation is deterministic in the seed and vectorised: relation targets, attributes
and unique names are drawn as NumPy arrays, and one f-string renders each passage.
About 1.4 passages per entity (people get two); a million passages take seconds.

    >>> kb = SyntheticEncyclopedia(num_entities=200, seed=0)
    >>> corpus = kb.corpus()
    >>> len(corpus) > 200
    True
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from selfplay_envs.games.search_qa.search.corpus import Corpus

__all__ = [
    "ENTITY_TYPES",
    "RELATIONS",
    "Relation",
    "Fact",
    "SyntheticEncyclopedia",
    "question_for_chain",
    "parse_question",
    "entities_for_passages",
]

ENTITY_TYPES = ("person", "city", "country", "company", "university", "book", "film")
# Share of each type among the entities (countries take what the others leave).
_SHARES = {
    "city": 0.14,
    "company": 0.14,
    "university": 0.05,
    "person": 0.37,
    "book": 0.15,
}
_PASSAGES_PER_ENTITY = {t: 1 for t in ENTITY_TYPES} | {"person": 2}

Fact = tuple[str, str, str]  # (subject name, relation name, object name)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Relation:
    """A functional relation: each subject has exactly one object.

    Attributes:
        name: Identifier, e.g. ``"born_in"``.
        subject: Entity type of the subject.
        object: Entity type of the object.
        phrase: Noun phrase naming the object, with ``{x}`` for the subject
            (``"the city where {x} was born"``); questions nest these.
        keywords: Words a searcher adds to the subject's name to find the fact.
    """

    name: str
    subject: str
    object: str
    phrase: str
    keywords: str

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Matches a noun phrase built by ``phrase``; group 1 is the inner phrase."""
        head, _, tail = self.phrase.partition("{x}")
        return re.compile(f"^{re.escape(head)}(.+){re.escape(tail)}$")


RELATIONS: dict[str, Relation] = {
    r.name: r
    for r in (
        Relation(
            name="born_in",
            subject="person",
            object="city",
            phrase="the city where {x} was born",
            keywords="born city",
        ),
        Relation(
            name="educated_at",
            subject="person",
            object="university",
            phrase="the university where {x} studied",
            keywords="studied",
        ),
        Relation(
            name="works_for",
            subject="person",
            object="company",
            phrase="the company that {x} works for",
            keywords="works company",
        ),
        Relation(
            name="located_in",
            subject="city",
            object="country",
            phrase="the country of {x}",
            keywords="city country",
        ),
        Relation(
            name="capital",
            subject="country",
            object="city",
            phrase="the capital city of {x}",
            keywords="capital city",
        ),
        Relation(
            name="founded_by",
            subject="company",
            object="person",
            phrase="the person who founded {x}",
            keywords="founded",
        ),
        Relation(
            name="headquartered_in",
            subject="company",
            object="city",
            phrase="the city where {x} has its headquarters",
            keywords="headquarters",
        ),
        Relation(
            name="campus_in",
            subject="university",
            object="city",
            phrase="the city where {x} is located",
            keywords="university located",
        ),
        Relation(
            name="written_by",
            subject="book",
            object="person",
            phrase="the writer of {x}",
            keywords="book writer",
        ),
        Relation(
            name="published_by",
            subject="book",
            object="company",
            phrase="the company that published {x}",
            keywords="published",
        ),
        Relation(
            name="directed_by",
            subject="film",
            object="person",
            phrase="the person who directed {x}",
            keywords="film directed",
        ),
        Relation(
            name="produced_by",
            subject="film",
            object="company",
            phrase="the company that produced {x}",
            keywords="produced",
        ),
    )
}

QUESTION_PREFIX = "According to the encyclopedia, what is "

_ONSETS = "b br c d dr f g gr h j k kr l m n p r s sh st t th tr v w z".split()
_VOWELS = "a e i o u ai ei ou".split()
_SYLLABLES = [o + v for o in _ONSETS for v in _VOWELS]  # 208, each parses uniquely
_CITY_SUFFIX = (
    "ford burg ton vale port holm field wick stead mouth bridge haven".split()
)
_COUNTRY_SUFFIX = "ia land stan ora mark".split()
_INDUSTRY = {
    "Systems": "software",
    "Dynamics": "engineering",
    "Labs": "research",
    "Holdings": "investment",
    "Works": "manufacturing",
    "Motors": "automotive",
    "Foods": "food",
    "Media": "media",
    "Networks": "telecommunications",
    "Pharma": "pharmaceutical",
}
_SCHOOL = "University Institute College Academy".split()
_ADJECTIVES = (
    "Silent Hidden Golden Broken Distant Crimson Quiet Endless Fallen Last Secret "
    "Burning Frozen Hollow Lonely Silver Wild Ancient Bright Dark"
).split()
_BOOK_NOUNS = (
    "Harbor Garden Tower River Mirror Letter Winter Bridge Forest Crown Island Road "
    "Lantern Orchard Voyage Archive"
).split()
_FILM_NOUNS = (
    "Echoes Shadows Storms Rivers Dreams Ashes Lights Voices Tides Wolves".split()
)
_OCCUPATIONS = (
    "architect chemist novelist painter engineer physician composer historian "
    "economist astronomer sculptor linguist geologist surgeon journalist "
    "mathematician photographer botanist diplomat pianist"
).split()
_TRAITS = (
    "patience;precision;generosity;humour;curiosity;stubbornness;modesty;ambition;"
    "kindness;discipline"
).split(";")
_LANDMARKS = (
    "old harbour;stone bridge;clock tower;botanical garden;river markets;cathedral;"
    "lighthouse;opera house;salt mines;city walls"
).split(";")
_BOOK_GENRES = (
    "mystery;historical;science fiction;poetry;travel;philosophy;fantasy".split(";")
)
_FILM_GENRES = "drama;comedy;thriller;documentary;western;musical;horror".split(";")

# Sentence templates by type; a passage is three consecutive sentences. A relation
# appears in exactly one sentence of its subject's article.
_SENTENCE_RELATIONS = {
    "person": (("born_in", "educated_at"), ("works_for",)),
    "city": (("located_in",),),
    "country": (("capital",),),
    "company": (("founded_by", "headquartered_in"),),
    "university": (("campus_in",),),
    "book": (("written_by", "published_by"),),
    "film": (("directed_by", "produced_by"),),
}


def entities_for_passages(num_passages: int) -> int:
    """The ``num_entities`` that gives about ``num_passages`` passages."""
    # People have two passages, every other entity one.
    return max(50, round(num_passages / (1.0 + _SHARES["person"])))


class SyntheticEncyclopedia:
    """Entities, their relations, and the passages that state them.

    Args:
        num_entities: How many entities to invent (at least 50). About 1.4 passages
            per entity; ``entities_for_passages`` inverts that.
        seed: Everything is a function of ``(num_entities, seed)``.

    Attributes:
        names: Entity names, indexed by global entity id.
        types: Entity type index (into ``ENTITY_TYPES``) of each entity.
        objects: ``relation name -> array`` of object ids, indexed by the subject's
            position within its type.
    """

    def __init__(self, num_entities: int = 2000, seed: int = 0):
        if num_entities < 50:
            raise ValueError(f"expected num_entities >= 50, got {num_entities}")
        self.num_entities = num_entities
        self.seed = seed
        rng = np.random.default_rng([seed, num_entities, 0x5EA6C4])
        self.counts = _type_counts(num_entities)
        self.offset: dict[str, int] = {}
        start = 0
        for etype in ENTITY_TYPES:
            self.offset[etype] = start
            start += self.counts[etype]
        self.types = np.repeat(
            np.arange(len(ENTITY_TYPES), dtype=np.int8),
            [self.counts[t] for t in ENTITY_TYPES],
        )
        self.names = self._make_names(rng)
        self.objects = self._make_relations(rng)
        self.attributes = self._make_attributes(rng)

    # ---- generation -------------------------------------------------------------------

    def _make_names(self, rng: np.random.Generator) -> list[str]:
        syl = np.array([s.capitalize() for s in _SYLLABLES], dtype=object)
        low = np.array(_SYLLABLES, dtype=object)
        n_syl = len(_SYLLABLES)
        c = self.counts
        names: list[str] = []
        # person: "First Last", first of two syllables, last of three
        d = _unique_digits(rng, c["person"], [n_syl, n_syl, n_syl, n_syl, n_syl])
        names += list(syl[d[0]] + low[d[1]] + " " + syl[d[2]] + low[d[3]] + low[d[4]])
        # city: stem of two or three syllables + a city ending
        suffix = np.array(_CITY_SUFFIX, dtype=object)
        d = _unique_digits(rng, c["city"], [n_syl, n_syl, n_syl + 1, len(suffix)])
        third = np.array([""] + _SYLLABLES, dtype=object)
        names += list(syl[d[0]] + low[d[1]] + third[d[2]] + suffix[d[3]])
        suffix = np.array(_COUNTRY_SUFFIX, dtype=object)
        d = _unique_digits(rng, c["country"], [n_syl, n_syl, n_syl + 1, len(suffix)])
        names += list(syl[d[0]] + low[d[1]] + third[d[2]] + suffix[d[3]])
        words = np.array([" " + w for w in _INDUSTRY], dtype=object)
        d = _unique_digits(rng, c["company"], [n_syl, n_syl, n_syl + 1, len(words)])
        names += list(syl[d[0]] + low[d[1]] + third[d[2]] + words[d[3]])
        words = np.array([" " + w for w in _SCHOOL], dtype=object)
        d = _unique_digits(rng, c["university"], [n_syl, n_syl, n_syl + 1, len(words)])
        names += list(syl[d[0]] + low[d[1]] + third[d[2]] + words[d[3]])
        adj = np.array(["The " + a + " " for a in _ADJECTIVES], dtype=object)
        noun = np.array(_BOOK_NOUNS, dtype=object)
        # digit 0: no place name; digit v > 0: " of " and a two-syllable place
        of = np.array([""] + [f" of {a}{b}" for a in syl.tolist() for b in _SYLLABLES])
        of = of.astype(object)
        d = _unique_digits(rng, c["book"], [len(adj), len(noun), len(of)])
        names += list(adj[d[0]] + noun[d[1]] + of[d[2]])
        noun = np.array(_FILM_NOUNS, dtype=object)
        d = _unique_digits(rng, c["film"], [len(noun), len(of) - 1])
        names += list(noun[d[0]] + of[d[1] + 1])
        return names

    def _make_relations(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        c, off = self.counts, self.offset

        def pick(etype: str, n: int) -> np.ndarray:
            return off[etype] + rng.integers(0, c[etype], size=n)

        # Every country gets a city (its capital); the other cities fall anywhere.
        city_country = np.concatenate(
            [
                np.arange(c["country"]),
                rng.integers(0, c["country"], c["city"] - c["country"]),
            ]
        )
        return {
            "born_in": pick("city", c["person"]),
            "educated_at": pick("university", c["person"]),
            "works_for": pick("company", c["person"]),
            "located_in": off["country"] + city_country,
            "capital": off["city"] + np.arange(c["country"]),
            "founded_by": pick("person", c["company"]),
            "headquartered_in": pick("city", c["company"]),
            "campus_in": pick("city", c["university"]),
            "written_by": pick("person", c["book"]),
            "published_by": pick("company", c["book"]),
            "directed_by": pick("person", c["film"]),
            "produced_by": pick("company", c["film"]),
        }

    def _make_attributes(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        c = self.counts
        return {
            "person_year": rng.integers(1900, 1996, c["person"]),
            "person_job": rng.integers(0, len(_OCCUPATIONS), c["person"]),
            "person_trait": rng.integers(0, len(_TRAITS), c["person"]),
            "person_prize": rng.integers(0, len(_SYLLABLES), c["person"]),
            "city_year": rng.integers(1000, 1900, c["city"]),
            "city_pop": rng.integers(5_000, 5_000_000, c["city"]),
            "city_mark": rng.integers(0, len(_LANDMARKS), c["city"]),
            "country_pop": rng.integers(500_000, 200_000_000, c["country"]),
            "company_year": rng.integers(1850, 2021, c["company"]),
            "company_staff": rng.integers(20, 250_000, c["company"]),
            "university_year": rng.integers(1200, 2001, c["university"]),
            "university_students": rng.integers(500, 60_000, c["university"]),
            "book_year": rng.integers(1800, 2024, c["book"]),
            "book_genre": rng.integers(0, len(_BOOK_GENRES), c["book"]),
            "book_langs": rng.integers(1, 60, c["book"]),
            "film_year": rng.integers(1920, 2024, c["film"]),
            "film_genre": rng.integers(0, len(_FILM_GENRES), c["film"]),
            "film_minutes": rng.integers(70, 200, c["film"]),
        }

    # ---- queries of the knowledge base -------------------------------------------------

    def entity_type(self, entity: int) -> str:
        """Type name of a global entity id."""
        return ENTITY_TYPES[int(self.types[entity])]

    def object_of(self, relation: str, subject: int) -> int:
        """The object id of ``relation`` for a global subject id."""
        rel = RELATIONS[relation]
        if self.entity_type(subject) != rel.subject:
            raise ValueError(
                f"expected a {rel.subject} subject for {relation}, got a "
                f"{self.entity_type(subject)} ({self.names[subject]!r})"
            )
        return int(self.objects[relation][subject - self.offset[rel.subject]])

    @cached_property
    def entity_of_name(self) -> dict[str, int]:
        """Global id of each name."""
        return {name: i for i, name in enumerate(self.names)}

    @cached_property
    def in_degree(self) -> np.ndarray:
        """How many facts have each entity as their object."""
        objs = np.concatenate(list(self.objects.values()))
        return np.bincount(objs, minlength=self.num_entities)

    def answer_pool(self) -> list[str]:
        """Names that can end a question of one hop or more (they are some object)."""
        return [self.names[i] for i in np.flatnonzero(self.in_degree > 0)]

    def resolve_chain(self, anchor: str, relations: Sequence[str]) -> str:
        """Apply ``relations`` (innermost first) to the entity named ``anchor``."""
        entity = self.entity_of_name[anchor]
        for relation in relations:
            entity = self.object_of(relation, entity)
        return self.names[entity]

    # ---- passages ---------------------------------------------------------------------

    @cached_property
    def _passage_entities(self) -> tuple[np.ndarray, np.ndarray]:
        """Entity id and part number of each passage, in corpus order."""
        parts = np.array([_PASSAGES_PER_ENTITY[ENTITY_TYPES[t]] for t in self.types])
        entity = np.repeat(np.arange(self.num_entities), parts)
        first = np.r_[0, np.cumsum(parts)[:-1]]
        part = np.arange(len(entity)) - np.repeat(first, parts)
        return entity, part

    def passage_facts(self, index: int) -> list[Fact]:
        """The facts stated in passage ``index`` of ``corpus()``."""
        entity, part = self._passage_entities
        subject = int(entity[index])
        etype = self.entity_type(subject)
        return [
            (self.names[subject], rel, self.names[self.object_of(rel, subject)])
            for rel in _SENTENCE_RELATIONS[etype][int(part[index])]
        ]

    def corpus(self) -> Corpus:
        """All passages, entity by entity, as a ``Corpus`` (built once, then cached)."""
        if "_corpus" not in self.__dict__:
            ids, titles, texts = self._render()
            name = f"synthetic-{self.num_entities}-seed{self.seed}"
            self.__dict__["_corpus"] = Corpus(ids, titles, texts, name=name)
        return self.__dict__["_corpus"]

    def _render(self) -> tuple[list[str], list[str], list[str]]:
        texts: list[str] = []
        for etype in ENTITY_TYPES:
            texts += getattr(self, f"_render_{etype}")()
        entity, part = self._passage_entities
        names = self.names
        titles = [names[e] for e in entity.tolist()]
        ids = [
            f"syn-{e}-{p}" for e, p in zip(entity.tolist(), part.tolist(), strict=True)
        ]
        return ids, titles, texts

    def _names_of(self, ids: np.ndarray) -> list[str]:
        names = self.names
        return [names[i] for i in ids.tolist()]

    def _own(self, etype: str) -> list[str]:
        start = self.offset[etype]
        return self.names[start : start + self.counts[etype]]

    def _render_person(self) -> list[str]:
        a, o = self.attributes, self.objects
        rows = zip(
            self._own("person"),
            (_with_article(_OCCUPATIONS[i]) for i in a["person_job"].tolist()),
            a["person_year"].tolist(),
            self._names_of(o["born_in"]),
            self._names_of(o["educated_at"]),
            self._names_of(o["works_for"]),
            (_TRAITS[i] for i in a["person_trait"].tolist()),
            (_SYLLABLES[i].capitalize() for i in a["person_prize"].tolist()),
            strict=True,
        )
        texts = []
        for p, job, year, city, school, company, trait, prize in rows:
            texts.append(
                f"{p} is {job} who was born in {year}. {p} was born in the city of "
                f"{city}. {p} studied at {school}."
            )
            texts.append(
                f"{p} works for the company {company}. {p} is known among colleagues "
                f"for {trait}. In {year + 30}, {p} received the {prize} Prize."
            )
        return texts

    def _render_city(self) -> list[str]:
        a = self.attributes
        rows = zip(
            self._own("city"),
            self._names_of(self.objects["located_in"]),
            a["city_year"].tolist(),
            a["city_pop"].tolist(),
            (_LANDMARKS[i] for i in a["city_mark"].tolist()),
            strict=True,
        )
        return [
            f"{c} is a city in the country of {k}. {c} was founded in {y} and has a "
            f"population of {p:,}. {c} is known for its {m}."
            for c, k, y, p, m in rows
        ]

    def _render_country(self) -> list[str]:
        rows = zip(
            self._own("country"),
            self._names_of(self.objects["capital"]),
            self.attributes["country_pop"].tolist(),
            strict=True,
        )
        return [
            f"{k} is a country whose capital city is {c}. {k} has a population of "
            f"{p:,}. The official language of {k} is {k[:4]}ic."
            for k, c, p in rows
        ]

    def _render_company(self) -> list[str]:
        a, o = self.attributes, self.objects
        rows = zip(
            self._own("company"),
            self._names_of(o["founded_by"]),
            self._names_of(o["headquartered_in"]),
            a["company_year"].tolist(),
            a["company_staff"].tolist(),
            strict=True,
        )
        return [
            f"{co} is {_with_article(_INDUSTRY[co.rsplit(' ', 1)[1]])} company founded in {y} by "
            f"{p}. {co} has its headquarters in {c}. {co} employs about {s:,} people."
            for co, p, c, y, s in rows
        ]

    def _render_university(self) -> list[str]:
        a = self.attributes
        rows = zip(
            self._own("university"),
            self._names_of(self.objects["campus_in"]),
            a["university_year"].tolist(),
            a["university_students"].tolist(),
            strict=True,
        )
        return [
            f"{u} is a university located in {c}. {u} was founded in {y}. {u} has "
            f"about {s:,} students."
            for u, c, y, s in rows
        ]

    def _render_book(self) -> list[str]:
        a, o = self.attributes, self.objects
        rows = zip(
            self._own("book"),
            self._names_of(o["written_by"]),
            self._names_of(o["published_by"]),
            (_with_article(_BOOK_GENRES[i]) for i in a["book_genre"].tolist()),
            a["book_year"].tolist(),
            a["book_langs"].tolist(),
            strict=True,
        )
        return [
            f"{b} is {g} book by the writer {p}. {b} was published in {y} by {co}. "
            f"{b} has been translated into {n} languages."
            for b, p, co, g, y, n in rows
        ]

    def _render_film(self) -> list[str]:
        a, o = self.attributes, self.objects
        rows = zip(
            self._own("film"),
            self._names_of(o["directed_by"]),
            self._names_of(o["produced_by"]),
            (_with_article(_FILM_GENRES[i]) for i in a["film_genre"].tolist()),
            a["film_year"].tolist(),
            a["film_minutes"].tolist(),
            strict=True,
        )
        return [
            f"{f} is {g} film directed by {p}. {f} was released in {y} and produced "
            f"by {co}. {f} runs for {m} minutes."
            for f, p, co, g, y, m in rows
        ]


def question_for_chain(anchor: str, relations: Sequence[str]) -> str:
    """The question whose answer is ``relations`` (innermost first) applied to anchor.

    >>> question_for_chain("Varno Dynamics", ["founded_by", "born_in"])
    'According to the encyclopedia, what is the city where the person who founded Varno Dynamics was born?'
    """
    phrase = anchor
    for relation in relations:
        phrase = RELATIONS[relation].phrase.format(x=phrase)
    return f"{QUESTION_PREFIX}{phrase}?"


def parse_question(question: str) -> tuple[str, list[str]] | None:
    """Invert ``question_for_chain``: the anchor and relations, or ``None``."""
    text = question.strip()
    if not (text.startswith(QUESTION_PREFIX) and text.endswith("?")):
        return None
    phrase = text[len(QUESTION_PREFIX) : -1]
    outer_first: list[str] = []
    while True:
        for relation in RELATIONS.values():
            match = relation.pattern.match(phrase)
            if match:
                outer_first.append(relation.name)
                phrase = match.group(1)
                break
        else:
            break
    if not outer_first or not phrase:
        return None
    return phrase, outer_first[::-1]


def _with_article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _type_counts(num_entities: int) -> dict[str, int]:
    counts = {t: max(2, int(num_entities * s)) for t, s in _SHARES.items()}
    counts["country"] = max(2, num_entities // 60)
    counts["city"] = max(counts["city"], 2 * counts["country"])
    counts["film"] = max(2, num_entities - sum(counts.values()))
    return {t: counts[t] for t in ENTITY_TYPES}


def _unique_digits(rng: np.random.Generator, n: int, radices: list[int]) -> np.ndarray:
    """``n`` distinct mixed-radix numbers, as a (len(radices), n) array of digits."""
    capacity = int(np.prod(np.array(radices, dtype=object)))
    if n > capacity:
        raise ValueError(f"expected at most {capacity} names of this kind, got {n}")
    values = rng.choice(capacity, size=n, replace=False).astype(np.int64)
    digits = np.empty((len(radices), n), dtype=np.int64)
    for i, radix in enumerate(radices):
        digits[i] = values % radix
        values //= radix
    return digits
