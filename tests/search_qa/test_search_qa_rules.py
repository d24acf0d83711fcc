"""Rules of search_qa: filters, answer normalisation, the RAG check, moves, rewards."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import selfplay_envs
from selfplay_envs.core.parsing import InvalidReason
from selfplay_envs.games.search_qa.answers import (
    contains_answer,
    exact_match,
    f1_score,
    normalize_answer,
)
from selfplay_envs.games.search_qa.env import SearchQAGame
from selfplay_envs.games.search_qa.rules import (
    PROPOSER,
    SOLVER,
    Move,
    MoveKind,
    SearchQAConfig,
    _tags,
    check_filters,
)
from selfplay_envs.games.search_qa.search.corpus import Passage
from selfplay_envs.games.search_qa.synthetic import question_for_chain
from selfplay_envs.games.search_qa.verifier import (
    FixedAnswerVerifier,
    LexicalVerifier,
    VerifierRequest,
)

CONFIG = SearchQAConfig()
EVIDENCE = [
    Passage(
        id="1", title="Python", text="Python was created by Guido van Rossum in 1991."
    ),
    Passage(
        id="2", title="Guido van Rossum", text="Guido van Rossum is a Dutch programmer."
    ),
]
GOOD_QUESTION = (
    "Which programming language did a Dutch programmer release in the year 1991?"
)


# ---- answer normalisation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("The Beatles", "beatles"),  # articles
        ("an apple a day", "apple day"),
        ("Rock-and-roll!", "rock and roll"),  # punctuation; hyphens split words
        ("U.S.A.", "usa"),
        ("  PyThOn\t3 ", "python 3"),  # case and white space
        ("twenty-one", "21"),  # numbers written out
        ("one hundred and five", "105"),
        ("two thousand and twenty", "2020"),
        ("1,200,000", "1200000"),  # thousands separators
        ("3.50", "3.5"),  # decimals
        ("21.0", "21"),
        ("007", "7"),
    ],
)
def test_normalize_answer(raw: str, normal: str) -> None:
    assert normalize_answer(raw) == normal


@pytest.mark.parametrize(
    ("prediction", "gold", "em"),
    [
        ("the Eiffel Tower.", "Eiffel Tower", 1.0),
        ("Twenty one", "21", 1.0),
        ("1,000", "1000", 1.0),
        ("Paris, France", "Paris", 0.0),
        ("", "Paris", 0.0),
    ],
)
def test_exact_match(prediction: str, gold: str, em: float) -> None:
    assert exact_match(prediction, gold) == em


def test_f1_is_token_overlap_after_normalisation() -> None:
    assert f1_score("Paris, France", "Paris") == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert f1_score("the big red dog", "a big dog") == pytest.approx(0.8)
    assert f1_score("London", "Paris") == 0.0
    assert f1_score("anything", ["Paris", "anything"]) == 1.0


def test_contains_answer_uses_whole_normalised_words() -> None:
    assert contains_answer("Who wrote THE  Python manual?", "python")
    assert not contains_answer("Who wrote the Pythonic manual?", "Python")
    assert contains_answer("It cost 1,200 dollars", "1200")
    assert not contains_answer("anything", "")


# ---- validity filters --------------------------------------------------------------------


def test_a_good_question_passes_every_filter() -> None:
    assert (
        check_filters(
            GOOD_QUESTION, "Python", ["python 1991", "guido"], EVIDENCE, CONFIG
        )
        == []
    )


@pytest.mark.parametrize(
    ("question", "queries", "evidence", "failure"),
    [
        (
            "Too short?",
            ["q1", "q2"],
            EVIDENCE,
            "words: expected at least 10 words, got 2",
        ),
        (
            "Short.",
            ["q1", "q2"],
            EVIDENCE,
            "length: expected 10-1000 characters, got 6",
        ),
        (
            "word " * 250,
            ["q1", "q2"],
            EVIDENCE,
            "length: expected 10-1000 characters, got 1249",
        ),
        (
            "Which language did Guido release in 1991?",
            ["q1", "q2"],
            EVIDENCE,
            "words: expected at least 10 words, got 7",
        ),
        (
            "Is the answer to this question the language called PYTHON, created in 1991?",
            ["q1", "q2"],
            EVIDENCE,
            "leak: the question contains the answer",
        ),
        (
            GOOD_QUESTION,
            ["Guido", "guido!"],
            EVIDENCE,
            "searches: expected at least 2 distinct searches, got 1",
        ),
        (
            GOOD_QUESTION,
            ["q1"],
            EVIDENCE,
            "searches: expected at least 2 distinct searches, got 1",
        ),
        (
            GOOD_QUESTION,
            ["q1", "q2"],
            EVIDENCE[1:],
            "evidence: the answer appears in no retrieved passage",
        ),
    ],
    ids=[
        "10-chars-but-2-words",
        "too-short",
        "too-long",
        "few-words",
        "leak",
        "same-search",
        "one-search",
        "answer-not-in-evidence",
    ],
)
def test_each_filter_rejects_its_case(question, queries, evidence, failure) -> None:
    failures = check_filters(question, "Python", queries, evidence, CONFIG)
    assert failure in failures


def test_filter_thresholds_are_parameters() -> None:
    lax = SearchQAConfig(
        min_question_words=3, min_distinct_searches=1, min_question_chars=5
    )
    assert check_filters("Which language, 1991?", "Python", ["q1"], EVIDENCE, lax) == []


# ---- moves --------------------------------------------------------------------------------


def _game(**kwargs) -> SearchQAGame:
    return SearchQAGame(cache_dir="", corpus_size=300, **kwargs)


def _state(game: SearchQAGame, seed: int = 0):
    return game.new_initial_state(np.random.default_rng(seed))


def test_parse_takes_the_last_allowed_tag_outside_think() -> None:
    state = _state(_game())
    result = state.parse_action(
        PROPOSER,
        "<think><question>draft</question></think> <search>first</search> "
        "<answer>not mine</answer> <search> second query </search>",
    )
    assert result.ok and result.action == Move(
        kind=MoveKind.SEARCH, text="second query"
    )
    assert (
        state.parse_action(SOLVER, "<ANSWER>Paris</ANSWER>").action.kind
        is MoveKind.ANSWER
    )


# The tag pattern the parser used before its linear scan: the reference it must equal.
_REFERENCE_TAG = re.compile(
    r"<(search|question|answer)>(.*?)</\1>", re.DOTALL | re.IGNORECASE
)
_TAG_PIECES = st.sampled_from(
    ["<search>", "</search>", "<SEARCH>", "</Search>", "<answer>", "</answer>"]
    + ["</ANSWER>", "<question>", "</question>", "x", " ", "<", ">", "/", "\n"]
)


@settings(max_examples=1000, deadline=None)
@given(pieces=st.lists(_TAG_PIECES, max_size=16))
def test_tags_pair_as_the_lazy_regex_did(pieces: list[str]) -> None:
    text = "".join(pieces)
    expected = [
        (MoveKind(m.group(1).lower()), m.group(2))
        for m in _REFERENCE_TAG.finditer(text)
    ]
    assert _tags(text) == expected


@pytest.mark.parametrize(
    ("player", "text", "reason", "detail"),
    [
        (PROPOSER, "no tags at all", InvalidReason.NO_ACTION_TAG, "<question>"),
        (PROPOSER, "<answer>x</answer>", InvalidReason.NO_ACTION_TAG, "<search>"),
        (SOLVER, "<question>x</question>", InvalidReason.NO_ACTION_TAG, "<answer>"),
        (PROPOSER, "<search>   </search>", InvalidReason.UNPARSABLE, "empty"),
        (
            PROPOSER,
            f"<search>{'q' * 1001}</search>",
            InvalidReason.UNPARSABLE,
            "at most 1000",
        ),
    ],
)
def test_bad_moves_are_invalid_with_a_reason(player, text, reason, detail) -> None:
    state = _state(_game())
    result = state.parse_action(player, text)
    assert result.reason is reason and detail in result.message


def test_search_budget_is_enforced() -> None:
    state = _state(_game(max_proposer_searches=2))
    for query in ("one", "two"):
        state.apply_action(
            PROPOSER, state.parse_action(PROPOSER, f"<search>{query}</search>").action
        )
    result = state.parse_action(PROPOSER, "<search>three</search>")
    assert result.reason is InvalidReason.ILLEGAL
    assert "no searches left; give your <question>" in result.message
    assert state.parse_action(PROPOSER, "<question>q</question>").ok


def test_each_search_returns_top_k_passages_in_information_blocks() -> None:
    state = _state(_game(top_k=2))
    state.apply_action(PROPOSER, Move(kind=MoveKind.SEARCH, text=state.target))
    turn = state.proposer_searches[0]
    assert len(turn.hits) == 2 and turn.hits[0].title == state.target
    text = state.observation_text(PROPOSER)
    assert (
        f"<search>{state.target}</search>\n<information>Doc 1(Title: {state.target})"
        in text
    )
    assert "Doc 2(Title:" in text and "Doc 3(Title:" not in text
    assert "Searches left: 4." in text


# ---- the RAG check with scripted verifiers -------------------------------------------------


class RecordingVerifier:
    """Answers with ``reply`` and keeps every request it saw."""

    def __init__(self, reply: str):
        self.reply = reply
        self.requests: list[VerifierRequest] = []

    def __call__(self, request: VerifierRequest) -> str:
        self.requests.append(request)
        return self.reply


def _two_hop(game: SearchQAGame, seed: int = 0):
    """A state where the proposer searched a 2-hop chain and asked about it."""
    state = _state(game, seed)
    kb = state.backend.kb
    person = next(i for i in range(kb.num_entities) if kb.entity_type(i) == "person")
    company = kb.object_of("works_for", person)
    founder = kb.object_of("founded_by", company)
    state.target = kb.names[founder]
    for query in (kb.names[founder], kb.names[company], kb.names[person]):
        state.apply_action(PROPOSER, Move(kind=MoveKind.SEARCH, text=query))
    question = question_for_chain(kb.names[person], ["works_for", "founded_by"])
    return state, question


def test_rag_check_passes_when_the_verifier_finds_the_answer() -> None:
    verifier = RecordingVerifier("<answer>placeholder</answer>")
    state, question = _two_hop(_game(verifier=verifier))
    verifier.reply = f"I read the documents. <answer>{state.target.upper()}</answer>"
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text=question))
    assert state.validity.valid and state.phase == "solve"
    (request,) = verifier.requests
    evidence_ids = {p.id for p in state.evidence()}
    shown = [p.id for p in request.documents]
    assert evidence_ids <= set(shown)
    distractors = [p for p in request.documents if p.id not in evidence_ids]
    assert len(distractors) == 4  # num_distractors
    assert not any(contains_answer(p.text, state.target) for p in distractors)
    assert request.question == question and question in request.prompt
    assert "Doc 1(Title:" in request.prompt and "<answer>" in request.prompt
    assert state.validity.rag_documents == tuple(shown)


def test_rag_check_fails_when_the_verifier_answers_wrong() -> None:
    state, question = _two_hop(_game(verifier=FixedAnswerVerifier("Somebody Else")))
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text=question))
    assert not state.validity.valid and state.is_terminal()
    assert state.validity.failures == ("rag: the verifier answered 'Somebody Else'",)
    assert state.returns() == [-1.0, 1.0]


def test_rag_check_is_skipped_when_a_filter_already_failed() -> None:
    verifier = RecordingVerifier("anything")
    state, _ = _two_hop(_game(verifier=verifier))
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text="Too short?"))
    assert not state.validity.valid and verifier.requests == []


def test_rag_check_can_be_switched_off() -> None:
    state, question = _two_hop(
        _game(verifier=FixedAnswerVerifier("wrong"), rag_check=False)
    )
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text=question))
    assert state.validity.valid and state.validity.rag_answer is None


def test_lexical_verifier_follows_a_two_hop_chain() -> None:
    state, question = _two_hop(_game())  # default verifier: LexicalVerifier
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text=question))
    assert state.validity.valid, state.validity.failures
    assert exact_match(state.validity.rag_answer, state.target)


def test_lexical_verifier_stops_at_the_hop_the_question_asks_for() -> None:
    state, _ = _two_hop(_game())
    person, company = state.proposer_searches[2].query, state.proposer_searches[1].query
    documents = state.evidence()
    one_hop = question_for_chain(person, ["works_for"])
    two_hops = question_for_chain(person, ["works_for", "founded_by"])
    assert LexicalVerifier().read(one_hop, documents) == company
    assert LexicalVerifier().read(two_hops, documents) == state.target


def test_lexical_verifier_answers_definition_questions_by_title() -> None:
    docs = [
        Passage(
            id="1",
            title="Python",
            text="An interpreted language invented by Guido van Rossum.",
        ),
        Passage(
            id="2", title="Ruby", text="A language invented by Yukihiro Matsumoto."
        ),
    ]
    request = VerifierRequest(
        question="Which language was invented by Guido van Rossum?",
        documents=tuple(docs),
        prompt="",
    )
    assert LexicalVerifier()(request) == "Python"


# ---- rewards ------------------------------------------------------------------------------


def _solve(state, answers: list[str]) -> None:
    for answer in answers:
        state.apply_action(SOLVER, Move(kind=MoveKind.SEARCH, text=state.target))
        state.apply_action(SOLVER, Move(kind=MoveKind.ANSWER, text=answer))


def test_rewards_are_ssp_rewards_made_zero_sum() -> None:
    state, question = _two_hop(
        _game(verifier=FixedAnswerVerifier("x"), rag_check=False, solver_attempts=4)
    )
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text=question))
    _solve(state, [f"the {state.target}", "wrong", state.target.lower(), "wrong again"])
    assert state.is_terminal() and state.success_rate() == 0.5
    assert state.ssp_rewards() == {"proposer": 0.5, "solver": 0.5}
    assert state.returns() == [0.0, 0.0]
    info = state.info(SOLVER)
    assert [a["exact_match"] for a in info["solver_attempts"]] == [1.0, 0.0, 1.0, 0.0]
    assert all(a["queries"] == [state.target] for a in info["solver_attempts"])


@pytest.mark.parametrize(("correct", "proposer"), [(0, 1.0), (1, 0.0), (2, -1.0)])
def test_returns_follow_the_success_rate(correct: int, proposer: float) -> None:
    state, question = _two_hop(_game(rag_check=False, solver_attempts=2))
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text=question))
    _solve(state, [state.target] * correct + ["nope"] * (2 - correct))
    assert state.returns() == [proposer, -proposer]
    assert sum(state.returns()) == 0.0


def test_invalid_question_costs_the_configured_penalty_in_ssp_terms() -> None:
    state, _ = _two_hop(_game(invalid_penalty=0.5))
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text="bad"))
    assert state.ssp_rewards() == {"proposer": -0.5, "solver": None}
    assert state.returns() == [-1.0, 1.0]


def test_solver_attempts_start_fresh_contexts() -> None:
    state, question = _two_hop(_game(rag_check=False, solver_attempts=2))
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text=question))
    state.apply_action(SOLVER, Move(kind=MoveKind.SEARCH, text="first attempt query"))
    assert "first attempt query" in state.observation_text(SOLVER)
    assert state.info(SOLVER)["attempt"] == 0 and state.searches_left(SOLVER) == 9
    state.apply_action(SOLVER, Move(kind=MoveKind.ANSWER, text="guess"))
    assert "first attempt query" not in state.observation_text(SOLVER)
    assert state.info(SOLVER)["attempt"] == 1 and state.info(SOLVER)["evidence"] == []
    assert state.searches_left(SOLVER) == 10
    assert "target" not in state.info(SOLVER)  # the solver never sees the answer early


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="expected hops"):
        SearchQAConfig(hops=(3, 1))
    with pytest.raises(ValueError, match="expected solver_attempts >= 1"):
        SearchQAConfig(solver_attempts=0)
    with pytest.raises(TypeError, match="expected a parameter among"):
        SearchQAGame(no_such_rule=1)


# ---- through the PettingZoo env --------------------------------------------------------------


def test_penalty_policy_plays_the_empty_question() -> None:
    env = selfplay_envs.make(
        "search_qa_v0", cache_dir="", corpus_size=300, invalid_move={"mode": "penalty"}
    )
    env.reset(seed=0)
    env.step("I will not use tags")
    assert env.terminations["player_0"]
    assert env.rewards == {"player_0": -1.0, "player_1": 1.0}
    info = env.infos["player_0"]
    assert info["validity"]["valid"] is False and info["question"] == ""
    assert info["ssp_reward"] == {"proposer": 0.0, "solver": None}
    assert info["episode"][0]["fallback"] is True


def test_targets_come_from_the_answers_parameter_and_hops_from_the_range() -> None:
    game = _game(answers=["Shoutheirai Institute", "Nowhere At All"], hops=(2, 3))
    seen = {(_state(game, seed).target, _state(game, seed).hops) for seed in range(30)}
    assert {t for t, _ in seen} == {"Shoutheirai Institute", "Nowhere At All"}
    assert {h for _, h in seen} == {2, 3}
    with pytest.raises(ValueError, match="answers: expected a non-empty list"):
        _game(answers=[])
