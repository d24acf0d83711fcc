"""The SSP preset of search_qa_v0: each point with hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

import selfplay_envs
from selfplay_envs.core.config import ConfigError
from selfplay_envs.core.parsing import InvalidReason
from selfplay_envs.games.search_qa.env import SearchQAGame
from selfplay_envs.games.search_qa.pool import FifoQuestionPool, PooledQuestion
from selfplay_envs.games.search_qa.rules import PROPOSER, SOLVER, Move, MoveKind
from selfplay_envs.games.search_qa.synthetic import question_for_chain


def _game(**kwargs) -> SearchQAGame:
    return SearchQAGame(cache_dir="", corpus_size=300, rag_check=False, **kwargs)


def _state(game: SearchQAGame, seed: int = 0):
    return game.new_initial_state(np.random.default_rng(seed))


def _valid(state) -> str:
    """Search a 2-hop chain so that the returned question passes the filters."""
    kb = state.backend.kb
    person = next(i for i in range(kb.num_entities) if kb.entity_type(i) == "person")
    company = kb.object_of("works_for", person)
    founder = kb.object_of("founded_by", company)
    state.target = kb.names[founder]
    for query in (kb.names[founder], kb.names[company], kb.names[person]):
        state.apply_action(PROPOSER, Move(kind=MoveKind.SEARCH, text=query))
    return question_for_chain(kb.names[person], ["works_for", "founded_by"])


def _invalid(state) -> None:
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text="too short"))


def test_invalid_question_returns_zero_under_ssp_and_minus_one_today() -> None:
    state = _state(_game(preset="ssp"))
    _invalid(state)
    assert state.is_terminal() and state.returns() == [0.0, 0.0]
    today = _state(_game())
    _invalid(today)
    assert today.returns() == [-1.0, 1.0]


def test_ssp_makes_five_solver_attempts() -> None:
    state = _state(_game(preset="ssp"))
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text=_valid(state)))
    for n in range(5):
        assert not state.is_terminal(), n
        state.apply_action(SOLVER, Move(kind=MoveKind.ANSWER, text=state.target))
    assert state.is_terminal() and len(state.attempts) == 5
    assert _game().config.solver_attempts == 4


def test_eleven_answer_tags_divide_the_score_by_four() -> None:
    state = _state(_game(preset="ssp", solver_attempts=2))
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text=_valid(state)))
    spam = "".join(f"<answer>{state.target}</answer>" for _ in range(11))
    ten = "".join(f"<answer>{state.target}</answer>" for _ in range(10))
    for reply in (spam, ten):
        result = state.parse_action(SOLVER, reply)
        state.apply_action(SOLVER, result.action)
    assert [a.exact_match for a in state.attempts] == [0.25, 1.0]
    assert state.success_rate() == 0.625  # (0.25 + 1) / 2
    assert state.returns() == [-0.25, 0.25]  # 1 - 2 * 0.625


def test_repeated_query_is_refused_and_not_counted_under_ssp() -> None:
    state = _state(_game(preset="ssp", max_proposer_searches=2))
    state.apply_action(PROPOSER, Move(kind=MoveKind.SEARCH, text="Alpha Beta"))
    result = state.parse_action(PROPOSER, "<search>alpha  beta</search>")
    assert result.reason is InvalidReason.ILLEGAL and "repeated query" in result.detail
    assert state.searches_left(PROPOSER) == 1
    today = _state(_game(max_proposer_searches=2))
    today.apply_action(PROPOSER, Move(kind=MoveKind.SEARCH, text="Alpha Beta"))
    assert today.parse_action(PROPOSER, "<search>alpha beta</search>").legal


def test_invalid_question_serves_a_pooled_one_and_valid_ones_are_stored() -> None:
    pool = FifoQuestionPool(capacity=2)
    game = _game(preset="ssp", solver_attempts=1, question_pool=pool)
    first = _state(game)
    question = _valid(first)
    first.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text=question))
    assert len(pool) == 1 and pool.items()[0].question == question
    stored = pool.items()[0]
    second = _state(game, seed=1)
    _invalid(second)
    assert second.phase == "solve" and second.served == stored
    assert f"Question: {question}" in second.observation_text(SOLVER)
    second.apply_action(SOLVER, Move(kind=MoveKind.ANSWER, text=stored.answer))
    info = second.info(PROPOSER)
    assert info["served_from_pool"]["question"] == question
    assert second.returns() == [0.0, 0.0]
    assert info["ssp_reward"] == {"proposer": 0.0, "solver": 1.0}
    assert len(pool) == 1  # a served question is not stored again


def test_fifo_pool_evicts_the_oldest_and_round_trips() -> None:
    pool = FifoQuestionPool(capacity=2)
    for n in range(3):
        pool.add(PooledQuestion(question=f"q{n}", answer=f"a{n}", evidence=(str(n),)))
    assert [q.question for q in pool.items()] == ["q1", "q2"]
    copy = FifoQuestionPool(capacity=9)
    copy.load_state_dict(pool.state_dict())
    assert copy.items() == pool.items() and copy.capacity == 2


def test_ssp_asks_for_four_noise_blocks_and_today_for_none() -> None:
    assert _game(preset="ssp").config.noise_blocks == 4
    assert _game().config.noise_blocks == 0
    assert _game(preset="ssp", noise_blocks=2).config.noise_blocks == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("preset", "spiral"),
        ("invalid_return", 0.5),
        ("max_answer_tags", 0),
        ("spam_divisor", 0.5),
        ("distinct_searches_only", "yes"),
        ("question_pool", [1, 2]),
        ("noise_blocks", 51),
        ("proposer_reward", "hard"),
        ("judge", "gpt"),
    ],
)
def test_bad_values_are_refused_at_make(name: str, value: object) -> None:
    with pytest.raises(ConfigError, match=name):
        selfplay_envs.make("search_qa_v0", cache_dir="", **{name: value})
