"""SSP's judge protocol, RAG noise from other trajectories and the
intermediate-difficulty reward, with hand-computed values."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import selfplay_envs
from selfplay_envs.core.config import ConfigError
from selfplay_envs.core.errors import InfrastructureError
from selfplay_envs.games.search_qa.env import SearchQAGame
from selfplay_envs.games.search_qa.pool import FifoQuestionPool, PooledQuestion
from selfplay_envs.games.search_qa.rules import PROPOSER, SOLVER, Move, MoveKind
from selfplay_envs.games.search_qa.search.corpus import Passage
from selfplay_envs.games.search_qa.synthetic import question_for_chain
from selfplay_envs.games.search_qa.verifier import (
    AnswerCheckRequest,
    JudgeError,
    Judgement,
    RagCheckRequest,
    RuleJudge,
    VerifierRequest,
)


def _block(name: str, n: int = 2) -> tuple[Passage, ...]:
    return tuple(
        Passage(id=f"{name}{i}", title=f"{name} {i}", text=f"Noise {name} {i}.")
        for i in range(n)
    )


def _pooled(name: str, block: tuple[Passage, ...] | None = None) -> PooledQuestion:
    block = _block(name) if block is None else block
    return PooledQuestion(
        question=f"q {name}",
        answer=f"a {name}",
        evidence=tuple(p.id for p in block),
        block=block,
    )


def _pool(names: str, capacity: int = 16) -> FifoQuestionPool:
    pool = FifoQuestionPool(capacity=capacity)
    for name in names:
        pool.add(_pooled(name))
    return pool


def _ids(blocks) -> set[str]:
    return {p.id for block in blocks for p in block}


# ---- the pool's noise ---------------------------------------------------------------


def test_noise_is_four_other_blocks_never_the_current_trajectorys() -> None:
    # Stored: blocks A-E (2 passages each). The current trajectory retrieved A's two
    # passages and B's first: A adds nothing (not eligible), B only "B1". So 4 of the
    # 4 eligible blocks B, C, D, E are drawn, B reduced to ("B1",), whatever the seed.
    pool = _pool("ABCDE")
    current = {"A0", "A1", "B0"}
    for seed in range(20):
        blocks = pool.noise_blocks(4, np.random.default_rng(seed), current)
        assert len(blocks) == 4
        assert _ids(blocks) == {"B1", "C0", "C1", "D0", "D1", "E0", "E1"}
        assert not _ids(blocks) & current


def test_noise_draws_without_replacement_and_depends_on_the_seed() -> None:
    pool = _pool("ABCDEFGH")  # 8 blocks, 2 passages each
    draws = set()
    for seed in range(10):
        blocks = pool.noise_blocks(4, np.random.default_rng(seed), {"A0", "A1"})
        titles = [block[0].id[0] for block in blocks]
        assert len(titles) == 4 == len(set(titles)) and "A" not in titles
        assert all(len(block) == 2 for block in blocks)
        draws.add(tuple(titles))
    assert len(draws) > 1  # the draw is random, not the first four


def test_noise_is_what_there_is_when_fewer_blocks_are_stored() -> None:
    pool = _pool("AB")
    assert _ids(pool.noise_blocks(4, np.random.default_rng(0), set())) == {
        "A0",
        "A1",
        "B0",
        "B1",
    }
    assert (
        pool.noise_blocks(4, np.random.default_rng(0), {"A0", "A1", "B0", "B1"}) == []
    )
    assert pool.noise_blocks(0, np.random.default_rng(0), set()) == []
    assert FifoQuestionPool().noise_blocks(4, np.random.default_rng(0), set()) == []


def test_a_passage_two_blocks_share_is_given_once() -> None:
    shared = Passage(id="S", title="Shared", text="Shared.")
    pool = FifoQuestionPool()
    pool.add(_pooled("A", (shared,)))
    pool.add(_pooled("B", (shared, *_block("B", 1))))
    blocks = pool.noise_blocks(2, np.random.default_rng(0), set())
    ids = [p.id for block in blocks for p in block]
    # A first: (S,), then (B0,); B first: (S, B0), then A adds nothing: one block.
    assert sorted(ids) == ["B0", "S"]


def test_eviction_drops_the_oldest_block_and_state_round_trips() -> None:
    pool = _pool("ABCD", capacity=3)  # A evicted
    for seed in range(10):
        assert not _ids(pool.noise_blocks(4, np.random.default_rng(seed), set())) & {
            "A0",
            "A1",
        }
    copy = FifoQuestionPool(capacity=1)
    copy.load_state_dict(pool.state_dict())
    assert copy.items() == pool.items() and copy.items()[0].block == _block("B")
    assert copy.noise_blocks(2, np.random.default_rng(5), set()) == pool.noise_blocks(
        2, np.random.default_rng(5), set()
    )
    old = {"question": "q", "answer": "a", "evidence": ["x"]}  # saved before blocks
    assert PooledQuestion.from_dict(old).block == ()


# ---- the RAG check under SSP -----------------------------------------------------------


@dataclasses.dataclass
class Reader:
    """A reader that records what it was shown and answers a fixed reply."""

    reply: str = ""
    requests: list[VerifierRequest] = dataclasses.field(default_factory=list)

    def __call__(self, request: VerifierRequest) -> str:
        self.requests.append(request)
        return self.reply


def _chain(state) -> str:
    """Search a 2-hop chain (3 searches); return the question about it."""
    kb = state.backend.kb
    person = next(i for i in range(kb.num_entities) if kb.entity_type(i) == "person")
    company = kb.object_of("works_for", person)
    founder = kb.object_of("founded_by", company)
    state.target = kb.names[founder]
    for query in (kb.names[founder], kb.names[company], kb.names[person]):
        state.apply_action(PROPOSER, Move(kind=MoveKind.SEARCH, text=query))
    return question_for_chain(kb.names[person], ["works_for", "founded_by"])


def _propose(**kwargs):
    reader = Reader()
    game = SearchQAGame(cache_dir="", corpus_size=300, verifier=reader, **kwargs)
    state = game.new_initial_state(np.random.default_rng(0))
    question = _chain(state)
    reader.reply = f"<answer>{state.target}</answer>"
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text=question))
    (request,) = reader.requests
    evidence = {p.id for p in state.evidence()}
    noise = [p.id for p in request.documents if p.id not in evidence]
    return state, evidence, noise


def test_ssp_with_a_pool_mixes_in_four_blocks_of_other_trajectories() -> None:
    pool = _pool("ABCDEF")
    state, evidence, noise = _propose(preset="ssp", question_pool=pool)
    assert state.validity.valid and state.validity.rag_noise == "pool"
    # Four of the six 2-passage blocks: 8 noise passages, all from the pool.
    assert len(noise) == 8 and set(noise) <= _ids([q.block for q in pool.items()])
    assert len({pid[0] for pid in noise}) == 4
    assert len(pool) == 7 and {p.id for p in pool.items()[-1].block} == evidence


def test_ssp_without_a_pool_keeps_the_single_passage_distractors() -> None:
    state, _, noise = _propose(preset="ssp")
    assert state.validity.rag_noise == "distractors" and len(noise) == 4
    empty, _, noise = _propose(preset="ssp", question_pool=FifoQuestionPool())
    assert empty.validity.rag_noise == "distractors" and len(noise) == 4


def test_today_with_a_pool_uses_distractors_unless_noise_is_asked_for() -> None:
    state, _, noise = _propose(question_pool=_pool("ABCDEF"))
    assert state.validity.rag_noise == "distractors" and len(noise) == 4
    asked, _, noise = _propose(question_pool=_pool("ABCDEF"), noise_blocks=2)
    assert asked.validity.rag_noise == "pool" and len(noise) == 4  # 2 blocks of 2


# ---- the judge in the game --------------------------------------------------------------


@dataclasses.dataclass
class ScriptedJudge:
    """Says what it is told, and records what it was asked."""

    rag: bool = True
    answers: bool = True
    asked: list[object] = dataclasses.field(default_factory=list)

    def rag_check(self, request: RagCheckRequest) -> Judgement:
        self.asked.append(request)
        return Judgement(verdict=self.rag, reason="" if self.rag else "not derivable")

    def answer_correct(self, request: AnswerCheckRequest) -> Judgement:
        self.asked.append(request)
        return Judgement(verdict=self.answers, reason="" if self.answers else "wrong")


def _judged(judge, **kwargs):
    game = SearchQAGame(cache_dir="", corpus_size=300, judge=judge, **kwargs)
    state = game.new_initial_state(np.random.default_rng(0))
    question = _chain(state)
    state.apply_action(PROPOSER, Move(kind=MoveKind.QUESTION, text=question))
    return state, question


def test_the_judge_decides_the_rag_check_and_each_answer() -> None:
    judge = ScriptedJudge()
    state, question = _judged(judge, solver_attempts=2)
    rag = judge.asked[0]
    assert isinstance(rag, RagCheckRequest) and rag.question == question
    assert rag.answer == state.target and state.validity.valid
    # The judge says yes to an answer exact match would refuse.
    state.apply_action(SOLVER, Move(kind=MoveKind.ANSWER, text="not the target"))
    asked = judge.asked[1]
    assert asked == AnswerCheckRequest(
        question=question, answer="not the target", reference=state.target
    )
    judge.answers = False
    state.apply_action(SOLVER, Move(kind=MoveKind.ANSWER, text=state.target))
    first, second = state.attempts
    assert (first.correct, first.score, first.exact_match) == (True, 1.0, 0.0)
    assert (second.correct, second.score, second.judge_reason) == (False, 0.0, "wrong")
    assert state.success_rate() == 0.5 and state.returns() == [0.0, 0.0]


def test_a_no_from_the_judge_makes_the_question_invalid_with_its_reason() -> None:
    state, _ = _judged(ScriptedJudge(rag=False))
    assert state.validity.failures == ("rag: not derivable",)
    assert state.validity.to_dict()["rag_reason"] == "not derivable"
    assert state.returns() == [-1.0, 1.0]


def test_a_judge_that_is_down_raises_and_scores_nothing() -> None:
    class Down(ScriptedJudge):
        def answer_correct(self, request: AnswerCheckRequest) -> Judgement:
            raise JudgeError("judge backend 'x' failed: ConnectionError: refused")

    state, _ = _judged(Down())
    with pytest.raises(InfrastructureError, match="refused"):
        state.apply_action(SOLVER, Move(kind=MoveKind.ANSWER, text=state.target))
    assert state.success_rate() == 0.0 and not state.is_terminal()


def test_the_default_judge_is_exact_match_over_the_reader() -> None:
    judge = RuleJudge(reader=Reader("I think <answer>The Acme-Corp</answer>"))
    docs = _block("A")
    yes = judge.rag_check(
        RagCheckRequest(question="q?", answer="acme corp", documents=docs)
    )
    assert yes.verdict and yes.answer == "The Acme-Corp"
    no = judge.rag_check(RagCheckRequest(question="q?", answer="Acme", documents=docs))
    assert not no.verdict and no.reason == "rag: the verifier answered 'The Acme-Corp'"
    check = AnswerCheckRequest(question="q?", answer="Twenty-one", reference="21")
    assert judge.answer_correct(check).verdict
    wrong = AnswerCheckRequest(question="q?", answer="21 or 22", reference="21")
    assert not judge.answer_correct(wrong).verdict


# ---- the intermediate-difficulty reward -----------------------------------------------------


@pytest.mark.parametrize(
    ("correct", "attempts", "kind", "proposer_raw"),
    [
        (3, 5, "adversarial", 0.4),  # 1 - 0.6
        (3, 5, "intermediate_difficulty", 0.96),  # 4 * 0.6 * 0.4
        (1, 2, "intermediate_difficulty", 1.0),  # 4 * 0.5 * 0.5
        (0, 2, "intermediate_difficulty", 0.0),  # never solved
        (2, 2, "intermediate_difficulty", 0.0),  # always solved
        (0, 2, "adversarial", 1.0),
    ],
)
def test_proposer_reward_options(
    correct: int, attempts: int, kind: str, proposer_raw: float
) -> None:
    judge = ScriptedJudge()
    state, _ = _judged(judge, solver_attempts=attempts, proposer_reward=kind)
    for n in range(attempts):
        judge.answers = n < correct
        state.apply_action(SOLVER, Move(kind=MoveKind.ANSWER, text="x"))
    s = correct / attempts
    raw = state.ssp_rewards()
    assert raw["solver"] == s and raw["proposer"] == pytest.approx(proposer_raw)
    assert state.returns() == pytest.approx([proposer_raw - s, s - proposer_raw])


def test_intermediate_difficulty_is_not_a_preset_point() -> None:
    assert SearchQAGame(cache_dir="", preset="ssp").config.proposer_reward == (
        "adversarial"
    )


# ---- bad configurations -------------------------------------------------------------------


class _PlainPool:
    """A QuestionPool without noise_blocks."""

    def __len__(self) -> int:
        return 0

    def add(self, item) -> None: ...

    def draw(self, rng): ...

    def state_dict(self):
        return {}

    def load_state_dict(self, state) -> None: ...


@pytest.mark.parametrize(
    ("kwargs", "name", "words"),
    [
        (
            {"proposer_reward": "learnability"},
            "proposer_reward",
            "intermediate_difficulty",
        ),
        ({"noise_blocks": -1}, "noise_blocks", "-1"),
        ({"judge": "gpt"}, "judge", "Judge"),
        (
            {"judge": ScriptedJudge(), "verifier": Reader()},
            "judge",
            "got both",
        ),
        (
            {"preset": "ssp", "question_pool": _PlainPool()},
            "noise_blocks",
            "_PlainPool",
        ),
    ],
)
def test_bad_configs_are_refused_at_make(kwargs: dict, name: str, words: str) -> None:
    with pytest.raises(ConfigError, match=name) as err:
        selfplay_envs.make("search_qa_v0", cache_dir="", **kwargs)
    assert words in str(err.value)


def test_a_plain_pool_is_fine_without_noise() -> None:
    env = selfplay_envs.make(
        "search_qa_v0", cache_dir="", corpus_size=200, question_pool=_PlainPool()
    )
    env.reset(seed=0)
