"""The synthetic encyclopedia: deterministic, unique names, facts stated as generated."""

from __future__ import annotations

import time

import numpy as np
import pytest

from selfplay_envs.games.search_qa.synthetic import (
    ENTITY_TYPES,
    RELATIONS,
    SyntheticEncyclopedia,
    entities_for_passages,
    parse_question,
    question_for_chain,
)


@pytest.fixture(scope="module")
def kb() -> SyntheticEncyclopedia:
    return SyntheticEncyclopedia(3000, seed=7)


def test_same_seed_same_encyclopedia_other_seed_another() -> None:
    a, b = SyntheticEncyclopedia(500, seed=1), SyntheticEncyclopedia(500, seed=1)
    assert a.corpus().content_hash == b.corpus().content_hash
    assert a.corpus().texts == b.corpus().texts
    assert (
        SyntheticEncyclopedia(500, seed=2).corpus().content_hash
        != a.corpus().content_hash
    )


def test_names_are_unique_across_all_types() -> None:
    kb = SyntheticEncyclopedia(60_000, seed=0)
    assert len(set(kb.names)) == len(kb.names) == 60_000
    assert {kb.entity_type(i) for i in range(0, kb.num_entities, 97)} == set(
        ENTITY_TYPES
    )


def test_every_relation_is_a_typed_function(kb: SyntheticEncyclopedia) -> None:
    for name, relation in RELATIONS.items():
        objects = kb.objects[name]
        assert len(objects) == kb.counts[relation.subject]
        types = {kb.entity_type(int(o)) for o in objects}
        assert types == {relation.object}, name
    # A country's capital lies in that country.
    for country in range(
        kb.offset["country"], kb.offset["country"] + kb.counts["country"]
    ):
        capital = kb.object_of("capital", country)
        assert kb.object_of("located_in", capital) == country


def test_each_fact_is_stated_once_in_its_subjects_article(
    kb: SyntheticEncyclopedia,
) -> None:
    corpus = kb.corpus()
    seen: dict[tuple[str, str], int] = {}
    for i in range(len(corpus)):
        for subject, relation, obj in kb.passage_facts(i):
            assert corpus.titles[i] == subject
            assert obj in corpus.texts[i]
            assert (subject, relation) not in seen
            seen[(subject, relation)] = i
    expected = sum(kb.counts[r.subject] for r in RELATIONS.values())
    assert len(seen) == expected


def test_passages_are_rendered_as_english_sentences(kb: SyntheticEncyclopedia) -> None:
    corpus = kb.corpus()
    person = corpus[0]
    assert person.id == "syn-0-0"
    city = kb.object_of("born_in", 0)
    assert f"{person.title} was born in the city of {kb.names[city]}." in person.text
    assert all(
        text.count(". ") >= 2 and text.endswith(".") for text in corpus.texts[:500]
    )


def test_chain_questions_round_trip_and_have_one_answer(
    kb: SyntheticEncyclopedia,
) -> None:
    rng = np.random.default_rng(0)
    objects_of = {}
    for relation in RELATIONS.values():
        objects_of.setdefault(relation.subject, []).append(relation.name)
    for _ in range(200):
        entity = int(rng.integers(kb.num_entities))
        anchor, chain = kb.names[entity], []
        etype = kb.entity_type(entity)
        for _ in range(int(rng.integers(1, 5))):
            if etype not in objects_of:
                break
            relation = objects_of[etype][int(rng.integers(len(objects_of[etype])))]
            chain.append(relation)
            etype = RELATIONS[relation].object
        if not chain:
            continue
        question = question_for_chain(anchor, chain)
        assert parse_question(question) == (anchor, chain)
        answer = kb.resolve_chain(anchor, chain)
        assert kb.entity_type(kb.entity_of_name[answer]) == RELATIONS[chain[-1]].object
    assert parse_question("What is the capital of France?") is None


def test_answer_pool_holds_only_entities_that_facts_point_to(
    kb: SyntheticEncyclopedia,
) -> None:
    pool = kb.answer_pool()
    assert pool and all(kb.in_degree[kb.entity_of_name[name]] > 0 for name in pool)
    assert not any(
        kb.entity_type(kb.entity_of_name[n]) in ("book", "film") for n in pool
    )


def test_size_is_a_parameter_and_generation_is_fast() -> None:
    target = 100_000
    start = time.perf_counter()
    kb = SyntheticEncyclopedia(entities_for_passages(target), seed=0)
    corpus = kb.corpus()
    elapsed = time.perf_counter() - start
    assert abs(len(corpus) - target) / target < 0.01
    assert elapsed < 10.0, f"{elapsed:.1f} s for {len(corpus)} passages"
    with pytest.raises(ValueError, match="expected num_entities >= 50"):
        SyntheticEncyclopedia(10)
