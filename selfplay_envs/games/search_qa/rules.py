"""Search self-play rules (after SSP): a proposer writes a question, a solver searches.

Seat 0 is the proposer, seat 1 the solver. An episode has two phases:

1. **Propose.** The proposer is given a target answer (an entity of the corpus) and a
   hop budget. Each turn it either searches, ``<search>query</search>`` (the top-k
   passages come back in ``<information>``), or ends with ``<question>...</question>``.
   The question is then checked, inside the env: the validity filters, then the RAG
   check (``verifier.py``). An invalid question ends the episode.
2. **Solve.** The solver makes ``solver_attempts`` independent attempts at a valid
   question. Each attempt is a fresh context: up to ``max_solver_searches`` searches,
   ended by ``<answer>...</answer>``, judged correct by the judge (normalised exact
   match by default, ``verifier.RuleJudge``; an LLM judge, ``selfplay_agents.judge.LLMJudge``).

Rewards follow SSP: the solver's raw reward is its success rate ``s`` (mean judged
correctness over the attempts) and the proposer's is ``1 - s`` (``proposer_reward=
"adversarial"``, SSP's default) or ``4 s (1 - s)`` (``"intermediate_difficulty"``, SSP's
alternative: 0 for a question always or never solved, 1 at ``s = 1/2``), or
``-invalid_penalty`` for an invalid question (0 by default, as in SSP). The env's
returns are the zero-sum form, each seat's raw reward minus the other's: proposer
``p - s``, solver ``s - p`` (``1 - 2s`` / ``2s - 1`` under the adversarial reward); an
invalid question is the proposer's loss, -1 / +1. The raw rewards travel in
``info["ssp_reward"]``.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from selfplay_envs.core.game import State
from selfplay_envs.core.parsing import InvalidReason, ParseResult
from selfplay_envs.games.search_qa.answers import (
    contains_answer,
    exact_match,
    f1_score,
    normalize_answer,
)
from selfplay_envs.games.search_qa.corpora import SearchBackend
from selfplay_envs.games.search_qa.pool import NoisePool, PooledQuestion, QuestionPool
from selfplay_envs.games.search_qa.search.corpus import Passage
from selfplay_envs.games.search_qa.verifier import (
    AnswerCheckRequest,
    Judge,
    RagCheckRequest,
    format_documents,
)

__all__ = [
    "PROPOSER",
    "SOLVER",
    "ROLES",
    "MoveKind",
    "Move",
    "SearchQAConfig",
    "Validity",
    "SearchQAState",
    "check_filters",
]

PROPOSER, SOLVER = 0, 1
ROLES = ("proposer", "solver")
# Opening and closing tags, matched one by one: a single regex with a lazy body and a
# back-reference rescans the rest of the reply from every unclosed tag (quadratic).
_TAG_TOKEN = re.compile(r"<(/?)(search|question|answer)>", re.IGNORECASE)
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_MAX_QUERY_CHARS = 1000
PROPOSER_REWARDS = ("adversarial", "intermediate_difficulty")


def proposer_reward(s: float, kind: str = "adversarial") -> float:
    """SSP's raw proposer reward for a valid question the solver solved at rate ``s``.

    ``"adversarial"``: ``1 - s``. ``"intermediate_difficulty"``: ``4 s (1 - s)``, the
    released SSP code's form with its defaults (left 0, right 1): 0 for a question
    always or never solved, 1 at ``s = 1/2``.
    """
    if kind == "intermediate_difficulty":
        return 4.0 * s * (1.0 - s) if 0.0 < s < 1.0 else 0.0
    return 1.0 - s


class MoveKind(str, enum.Enum):
    """What a turn does."""

    SEARCH = "search"
    QUESTION = "question"
    ANSWER = "answer"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Move:
    """A parsed turn: a search query, the proposer's question or the solver's answer."""

    kind: MoveKind
    text: str
    #: Complete ``<answer>`` tags in the reply (SSP's anti-spam rule reads it).
    answer_tags: int = dataclasses.field(default=0, compare=False)

    def __str__(self) -> str:
        return f"<{self.kind.value}>{self.text}</{self.kind.value}>"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SearchQAConfig:
    """Every rule parameter of the game (the env's keyword arguments).

    Attributes:
        hops: Hop budget given to the proposer: an int, or ``(low, high)`` drawn
            uniformly per episode.
        top_k: Passages returned per search.
        max_proposer_searches: Searches the proposer may make before its question.
        max_solver_searches: Searches per solver attempt before its answer.
        solver_attempts: Independent solver attempts per valid question (SSP's k).
        min_distinct_searches: Distinct queries a question must rest on.
        min_question_chars: Shortest valid question, in characters.
        max_question_chars: Longest valid question, in characters.
        min_question_words: Fewest words in a valid question.
        num_distractors: Distractor passages added to the RAG check's documents.
        rag_check: Run the RAG check at all (the filters always run).
        invalid_penalty: SSP's raw proposer reward for an invalid question is
            ``-invalid_penalty``.
        passage_chars: Passages are cut to this many characters in prompts (0: never).
        invalid_return: The proposer's return for an invalid question (the solver's
            is minus it); SSP's preset makes it 0.
        max_answer_tags: A solver reply with more ``<answer>`` tags scores its exact
            match divided by ``spam_divisor`` (``None``: no limit).
        spam_divisor: See ``max_answer_tags``.
        distinct_searches_only: Only distinct queries (normalised) use a context's
            search budget; a repeated one is refused as illegal.
        noise_blocks: With a ``NoisePool`` question pool, the RAG check mixes in this
            many retrieved blocks of other trajectories instead of the distractors
            (0: distractors only; so does a pool with no eligible block yet).
        proposer_reward: ``"adversarial"`` (``1 - s``) or
            ``"intermediate_difficulty"`` (``4 s (1 - s)``).
    """

    hops: int | tuple[int, int] = (1, 3)
    top_k: int = 3
    max_proposer_searches: int = 5
    max_solver_searches: int = 10
    solver_attempts: int = 4
    min_distinct_searches: int = 2
    min_question_chars: int = 10
    max_question_chars: int = 1000
    min_question_words: int = 10
    num_distractors: int = 4
    rag_check: bool = True
    invalid_penalty: float = 0.0
    passage_chars: int = 1200
    invalid_return: float = -1.0
    max_answer_tags: int | None = None
    spam_divisor: float = 4.0
    distinct_searches_only: bool = False
    noise_blocks: int = 0
    proposer_reward: str = "adversarial"

    def __post_init__(self) -> None:
        # An int is a fixed budget; a (low, high) pair (or list, from JSON) a range.
        hops = (
            tuple(self.hops)
            if isinstance(self.hops, (tuple, list))
            else (self.hops,) * 2
        )
        if len(hops) != 2 or not 1 <= hops[0] <= hops[1]:
            raise ValueError(
                f"expected hops >= 1 or (low, high) with 1 <= low <= high, got {self.hops}"
            )
        object.__setattr__(self, "hops", (int(hops[0]), int(hops[1])))
        for name in ("top_k", "solver_attempts", "max_question_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"expected {name} >= 1, got {getattr(self, name)}")
        if self.proposer_reward not in PROPOSER_REWARDS:
            raise ValueError(
                f"expected proposer_reward in {PROPOSER_REWARDS}, "
                f"got {self.proposer_reward!r}"
            )
        for name in (
            "max_proposer_searches",
            "max_solver_searches",
            "num_distractors",
            "noise_blocks",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"expected {name} >= 0, got {getattr(self, name)}")

    @property
    def max_game_length(self) -> int:
        """Most moves in one episode (every search budget spent)."""
        return (
            self.max_proposer_searches
            + 1
            + self.solver_attempts * (self.max_solver_searches + 1)
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SearchTurn:
    """One search: the query and the passages it returned."""

    query: str
    hits: tuple[Passage, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Validity:
    """The verdict on a question: which filters failed, and the RAG check."""

    failures: tuple[str, ...]
    rag_answer: str | None = None
    rag_documents: tuple[str, ...] = ()
    #: Where the RAG check's noise came from: ``"pool"`` (other trajectories'
    #: blocks), ``"distractors"`` (searches for random answers), or ``None`` (no check).
    rag_noise: str | None = None
    #: The judge's reason for its RAG verdict (``""`` for a plain yes).
    rag_reason: str = ""

    @property
    def valid(self) -> bool:
        """True when no filter failed and the RAG check (if run) found the answer."""
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form for infos."""
        return {
            "valid": self.valid,
            "failures": list(self.failures),
            "rag_answer": self.rag_answer,
            "rag_documents": list(self.rag_documents),
            "rag_noise": self.rag_noise,
            "rag_reason": self.rag_reason,
        }


@dataclasses.dataclass(kw_only=True)
class Attempt:
    """One solver attempt: its searches, then its answer and scores."""

    searches: list[SearchTurn] = dataclasses.field(default_factory=list)
    answer: str | None = None
    exact_match: float = 0.0
    f1: float = 0.0
    answer_tags: int = 0
    spam: bool = False
    #: The judge's verdict, and the attempt's score: 1 or 0, divided by
    #: ``spam_divisor`` for an over-tagged reply (the default judge's verdict is
    #: exact match, so then ``score == exact_match``).
    correct: bool = False
    score: float = 0.0
    judge_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form for infos."""
        return {
            "answer": self.answer,
            "correct": self.correct,
            "score": self.score,
            "judge_reason": self.judge_reason,
            "exact_match": self.exact_match,
            "f1": self.f1,
            "answer_tags": self.answer_tags,
            "spam": self.spam,
            "queries": [s.query for s in self.searches],
        }


def check_filters(
    question: str,
    answer: str,
    queries: Sequence[str],
    evidence: Sequence[Passage],
    config: SearchQAConfig,
) -> list[str]:
    """SSP's rule-based filters; returns the reasons a question fails (empty: passes).

    Args:
        question: The proposer's question.
        answer: The target answer.
        queries: The proposer's search queries, in order.
        evidence: Every passage those searches returned.
        config: Thresholds.
    """
    failures = []
    n_chars, n_words = len(question.strip()), len(question.split())
    if not config.min_question_chars <= n_chars <= config.max_question_chars:
        failures.append(
            f"length: expected {config.min_question_chars}-{config.max_question_chars} "
            f"characters, got {n_chars}"
        )
    if n_words < config.min_question_words:
        failures.append(
            f"words: expected at least {config.min_question_words} words, got {n_words}"
        )
    if contains_answer(question, answer):
        failures.append("leak: the question contains the answer")
    distinct = len({normalize_answer(q) for q in queries if normalize_answer(q)})
    if distinct < config.min_distinct_searches:
        failures.append(
            f"searches: expected at least {config.min_distinct_searches} distinct "
            f"searches, got {distinct}"
        )
    if not any(contains_answer(f"{p.title}\n{p.text}", answer) for p in evidence):
        failures.append("evidence: the answer appears in no retrieved passage")
    return failures


def _tags(text: str) -> list[tuple[MoveKind, str]]:
    """Every ``<kind>body</kind>`` in ``text``, paired as the regex
    ``<(search|question|answer)>(.*?)</\\1>`` would pair them, in one pass.

    The leftmost opening tag pairs with the first closing tag of its kind after it
    (any case); the scan resumes after that closing tag. An opening tag that is never
    closed pairs with nothing, and the next opening tag is tried.
    """
    tokens = [
        (m.start(), m.end(), bool(m.group(1)), m.group(2).lower())
        for m in _TAG_TOKEN.finditer(text)
    ]
    # The closing tags of each kind, in order, and a pointer to the first one not
    # yet passed: opening tags are visited in order, so each pointer only advances.
    closes: dict[str, list[tuple[int, int]]] = {}
    for start, end, closing, kind in tokens:
        if closing:
            closes.setdefault(kind, []).append((start, end))
    pointer = dict.fromkeys(closes, 0)
    tags = []
    resume = 0
    for start, end, closing, kind in tokens:
        if closing or start < resume or kind not in closes:
            continue
        ends, i = closes[kind], pointer[kind]
        while i < len(ends) and ends[i][0] < end:
            i += 1
        pointer[kind] = i
        if i < len(ends):
            tags.append((MoveKind(kind), text[end : ends[i][0]]))
            resume = ends[i][1]
    return tags


class SearchQAState(State):
    """One question: its proposal, its validity, and the solver's attempts."""

    def __init__(
        self,
        *,
        config: SearchQAConfig,
        backend: SearchBackend,
        judge: Judge,
        target: str,
        hops: int,
        rng: np.random.Generator,
        question_pool: QuestionPool | None = None,
    ):
        self.config = config
        self.question_pool = question_pool
        # A stored valid question the solver is given instead of an invalid one.
        self.served: PooledQuestion | None = None
        self.backend = backend
        self.judge = judge
        self.target = target
        self.hops = hops
        self.rng = rng  # distractors and document order of the RAG check
        self.proposer_searches: list[SearchTurn] = []
        self.question: str | None = None
        self.validity: Validity | None = None
        self.attempts: list[Attempt] = []

    # ---- who acts -------------------------------------------------------------------

    @property
    def num_players(self) -> int:
        """Proposer and solver."""
        return 2

    def role(self, player: int) -> str:
        """``"proposer"`` or ``"solver"``."""
        return ROLES[player]

    @property
    def phase(self) -> str:
        """``"propose"``, ``"solve"`` or ``"done"``."""
        if self.validity is None:
            return "propose"
        if (self.validity.valid or self.served) and not self._solved():
            return "solve"
        return "done"

    def _solved(self) -> bool:
        return len(self.attempts) == self.config.solver_attempts and (
            self.attempts[-1].answer is not None
        )

    def current_players(self) -> list[int]:
        """The proposer while proposing, the solver while solving, nobody after."""
        return {"propose": [PROPOSER], "solve": [SOLVER], "done": []}[self.phase]

    def is_terminal(self) -> bool:
        """An invalid question, or every solver attempt answered."""
        return self.phase == "done"

    def success_rate(self) -> float:
        """Mean score (judged correctness) over the solver's answered attempts."""
        scores = [a.score for a in self.attempts if a.answer is not None]
        return float(np.mean(scores)) if scores else 0.0

    def ssp_rewards(self) -> dict[str, float | None]:
        """SSP's raw rewards (solver ``s``, proposer ``proposer_reward(s)``)."""
        if not self.is_terminal():
            return {"proposer": None, "solver": None}
        assert self.validity is not None
        if not self.validity.valid:
            solver = self.success_rate() if self.served else None
            return {"proposer": -self.config.invalid_penalty, "solver": solver}
        s = self.success_rate()
        return {
            "proposer": proposer_reward(s, self.config.proposer_reward),
            "solver": s,
        }

    def returns(self) -> list[float]:
        """Zero-sum: proposer ``p - s``, solver ``s - p`` with ``p`` the proposer's raw
        reward (``1 - 2s`` / ``2s - 1`` when adversarial); an invalid question
        ``invalid_return`` / minus it (-1 / +1, or 0 / 0 under SSP), even when the
        solver was served a pooled question (its score is in ``ssp_reward``)."""
        if not self.is_terminal():
            return [0.0, 0.0]
        assert self.validity is not None
        if not self.validity.valid:
            r = float(self.config.invalid_return)
            return [r, 0.0 - r]  # 0.0 - 0.0 is 0.0, where -r would give -0.0
        s = self.success_rate()
        p = proposer_reward(s, self.config.proposer_reward)
        return [p - s, s - p]

    # ---- actions --------------------------------------------------------------------

    def searches_left(self, player: int) -> int:
        """Searches ``player`` may still make in its current context."""
        if player == PROPOSER:
            return self.config.max_proposer_searches - len(self.proposer_searches)
        attempt = self._current_attempt()
        used = len(attempt.searches) if attempt else 0
        return self.config.max_solver_searches - used

    def action_to_string(self, player: int, action: Move) -> str:
        """The tagged text of a move."""
        del player  # Same text for both seats.
        return str(action)

    def parse_action(self, player: int, text: str) -> ParseResult:
        """The last ``<search>`` / ``<question>`` (proposer) / ``<answer>`` (solver) tag."""
        allowed = (
            MoveKind.SEARCH,
            MoveKind.QUESTION if player == PROPOSER else MoveKind.ANSWER,
        )
        visible = _THINK.sub(" ", text)
        tags = [(kind, body) for kind, body in _tags(visible) if kind in allowed]
        expected = " or ".join(f"<{k.value}>...</{k.value}>" for k in allowed)
        if not tags:
            return ParseResult.invalid(
                InvalidReason.NO_ACTION_TAG, f"expected {expected}"
            )
        kind, content = tags[-1]
        content = content.strip()
        answer_tags = sum(k is MoveKind.ANSWER for k, _ in tags)
        if not content and kind is MoveKind.SEARCH:
            return ParseResult.invalid(InvalidReason.UNPARSABLE, "empty <search> query")
        if kind is MoveKind.SEARCH and len(content) > _MAX_QUERY_CHARS:
            return ParseResult.invalid(
                InvalidReason.UNPARSABLE,
                f"expected a query of at most {_MAX_QUERY_CHARS} characters, got {len(content)}",
            )
        if kind is MoveKind.SEARCH and self._repeated(player, content):
            return ParseResult.invalid(
                InvalidReason.ILLEGAL,
                f"repeated query {content[:80]!r}: already searched in this context "
                "(its passages are above); only distinct queries may be searched",
            )
        if kind is MoveKind.SEARCH and self.searches_left(player) <= 0:
            final = "question" if player == PROPOSER else "answer"
            return ParseResult.invalid(
                InvalidReason.ILLEGAL, f"no searches left; give your <{final}>"
            )
        move = Move(kind=kind, text=content, answer_tags=answer_tags)
        return ParseResult.legal(move, content)

    def _repeated(self, player: int, query: str) -> bool:
        """Under ``distinct_searches_only``: ``query`` was searched in this context."""
        if not self.config.distinct_searches_only:
            return False
        if player == PROPOSER:
            searches = self.proposer_searches
        else:
            attempt = self._current_attempt()
            searches = attempt.searches if attempt else []
        key = normalize_answer(query) or query
        return any((normalize_answer(t.query) or t.query) == key for t in searches)

    def fallback_action(self, player: int, rng: np.random.Generator) -> Move:
        """The pass: an empty question (invalid) or an empty answer (wrong)."""
        del rng  # The pass is deterministic.
        kind = MoveKind.QUESTION if player == PROPOSER else MoveKind.ANSWER
        return Move(kind=kind, text="")

    def apply_action(self, player: int, action: Move) -> None:
        """Run a search, check a question, or score an answer."""
        if action.kind is MoveKind.SEARCH:
            turn = SearchTurn(query=action.text, hits=self._search(action.text))
            if player == PROPOSER:
                self.proposer_searches.append(turn)
            else:
                self._attempt().searches.append(turn)
        elif action.kind is MoveKind.QUESTION:
            self.question = action.text
            self.validity = self._validate(action.text)
            self._use_pool()
        else:
            target = self.solver_target()
            attempt = self._attempt()
            attempt.answer = action.text
            attempt.exact_match = exact_match(action.text, target)
            attempt.f1 = f1_score(action.text, target)
            attempt.answer_tags = action.answer_tags
            judgement = self.judge.answer_correct(
                AnswerCheckRequest(
                    question=self.solver_question() or "",
                    answer=action.text,
                    reference=target,
                )
            )
            attempt.correct = bool(judgement.verdict)
            attempt.score = 1.0 if attempt.correct else 0.0
            attempt.judge_reason = judgement.reason
            limit = self.config.max_answer_tags
            if limit is not None and action.answer_tags > limit:
                # SSP's anti-spam rule: many answers in one reply score a fraction.
                attempt.spam = True
                attempt.exact_match /= self.config.spam_divisor
                attempt.score /= self.config.spam_divisor

    def _use_pool(self) -> None:
        """Store a valid question; replace an invalid one by a stored one."""
        pool = self.question_pool
        if pool is None or self.validity is None:
            return
        if self.validity.valid:
            block = tuple(self.evidence())
            pool.add(
                PooledQuestion(
                    question=self.question or "",
                    answer=self.target,
                    evidence=tuple(p.id for p in block),
                    block=block,  # RAG noise for later trajectories
                )
            )
        elif len(pool):
            self.served = pool.draw(self.rng)

    def solver_question(self) -> str | None:
        """The question the solver answers: the proposer's, or a served one."""
        return self.served.question if self.served else self.question

    def solver_target(self) -> str:
        """The answer the solver is scored against."""
        return self.served.answer if self.served else self.target

    def _attempt(self) -> Attempt:
        if not self.attempts or self.attempts[-1].answer is not None:
            self.attempts.append(Attempt())
        return self.attempts[-1]

    def _search(self, query: str) -> tuple[Passage, ...]:
        hits = self.backend.retriever.search_batch([query], self.config.top_k)[0]
        return tuple(h.passage for h in hits)

    # ---- the question's validity -------------------------------------------------------

    def evidence(self) -> list[Passage]:
        """Distinct passages the proposer retrieved, in retrieval order."""
        seen: dict[str, Passage] = {}
        for turn in self.proposer_searches:
            for p in turn.hits:
                seen.setdefault(p.id, p)
        return list(seen.values())

    def _validate(self, question: str) -> Validity:
        evidence = self.evidence()
        queries = [t.query for t in self.proposer_searches]
        failures = check_filters(question, self.target, queries, evidence, self.config)
        if failures or not self.config.rag_check:
            return Validity(failures=tuple(failures))
        noise, source = self._noise({p.id for p in evidence})
        documents = evidence + noise
        documents = [documents[i] for i in self.rng.permutation(len(documents))]
        judgement = self.judge.rag_check(
            RagCheckRequest(
                question=question, answer=self.target, documents=tuple(documents)
            )
        )
        if not judgement.verdict:
            reason = judgement.reason or "the judge said no"
            failures.append(reason if reason.startswith("rag:") else f"rag: {reason}")
        return Validity(
            failures=tuple(failures),
            rag_answer=judgement.answer,
            rag_documents=tuple(p.id for p in documents),
            rag_noise=source,
            rag_reason=judgement.reason,
        )

    def _noise(self, evidence_ids: set[str]) -> tuple[list[Passage], str]:
        """SSP's noise, blocks of other trajectories from the pool, when asked for and
        the pool has one; else today's single-passage distractors."""
        pool = self.question_pool
        k = self.config.noise_blocks
        if k > 0 and isinstance(pool, NoisePool):
            blocks = pool.noise_blocks(k, self.rng, frozenset(evidence_ids))
            if blocks:
                return [p for block in blocks for p in block], "pool"
        return self._distractors(set(evidence_ids)), "distractors"

    def _distractors(self, exclude: set[str]) -> list[Passage]:
        """Top passages of searches for random other answers, none of the evidence.

        Searching random pool entries works the same for a local index and a remote
        server, and gives real, on-topic-looking passages rather than noise.
        """
        pool = self.backend.answer_pool()
        found: list[Passage] = []
        tries = 0
        while (
            len(found) < self.config.num_distractors
            and tries < 4 * self.config.num_distractors
        ):
            tries += 1
            name = pool[int(self.rng.integers(len(pool)))]
            if normalize_answer(name) == normalize_answer(self.target):
                continue
            for p in self._search(name):
                if p.id not in exclude and not contains_answer(p.text, self.target):
                    exclude.add(p.id)
                    found.append(p)
                    break
        return found

    # ---- observations -----------------------------------------------------------------

    def _history(self, searches: Sequence[SearchTurn]) -> str:
        blocks = []
        for turn in searches:
            docs = format_documents(turn.hits, max_chars=self.config.passage_chars)
            blocks.append(
                f"<search>{turn.query}</search>\n<information>{docs or 'No results.'}"
                "</information>"
            )
        return "\n\n".join(blocks)

    def observation_text(self, player: int) -> str:
        """The whole context of ``player``'s current task, history included."""
        if self.is_terminal():
            return self._summary(player)
        if player == PROPOSER:
            if self.phase == "propose":
                return self._proposer_prompt()
            return "Your question was accepted; the solver is answering it."
        if self.phase == "propose":
            return "The proposer is writing a question. Wait for your turn."
        return self._solver_prompt()

    def _proposer_prompt(self) -> str:
        c = self.config
        hop_word = "hop" if self.hops == 1 else "hops"
        prompt = (
            "You are the proposer in a search game. Write a question whose answer is "
            f"exactly: {self.target}\n"
            f"The question should need {self.hops} {hop_word} of search to answer: "
            "chain facts you find so that a solver must search step by step.\n\n"
            "Search the corpus with <search>query</search>; the top "
            f"{c.top_k} passages come back between <information> and </information>. "
            f"Searches left: {self.searches_left(PROPOSER)}.\n"
            "When ready, give the question as <question>...</question>. It must be "
            f"{c.min_question_chars}-{c.max_question_chars} characters and at least "
            f"{c.min_question_words} words long, must not contain the answer, must rest "
            f"on at least {c.min_distinct_searches} different searches, and its answer "
            "must appear in the passages you retrieved. A reader given only your "
            "passages (and some unrelated ones) must be able to answer it. You score "
            "when a valid question defeats the solver."
        )
        history = self._history(self.proposer_searches)
        return f"{prompt}\n\n{history}" if history else prompt

    def _solver_prompt(self) -> str:
        c = self.config
        attempt = self._current_attempt()
        searches = attempt.searches if attempt else []
        prompt = (
            "Answer the given question. You may search the corpus up to "
            f"{c.max_solver_searches} times by writing <search>query</search>; the top "
            f"{c.top_k} passages come back between <information> and </information>. "
            f"Searches left: {self.searches_left(SOLVER)}. When you know the answer, "
            "give it as <answer>...</answer>, short (an entity or a phrase), with no "
            f"explanation.\nQuestion: {self.solver_question()}"
        )
        history = self._history(searches)
        return f"{prompt}\n\n{history}" if history else prompt

    def _current_attempt(self) -> Attempt | None:
        if self.attempts and self.attempts[-1].answer is None:
            return self.attempts[-1]
        return None

    def attempt_index(self) -> int:
        """0-based index of the attempt the solver is on (or just finished)."""
        if self._current_attempt() is not None:
            return len(self.attempts) - 1
        return min(len(self.attempts), self.config.solver_attempts - 1)

    def _summary(self, player: int) -> str:
        assert self.validity is not None
        lines = [
            f"The game is over. Answer: {self.target}.",
            f"Question: {self.question!r}.",
        ]
        if not self.validity.valid:
            lines.append(
                "The question was invalid: " + "; ".join(self.validity.failures) + "."
            )
        else:
            lines.append(
                f"The solver answered {len(self.attempts)} time(s); success rate "
                f"{self.success_rate():.2f}."
            )
        lines.append(f"Your return: {self.returns()[player]:+.2f}.")
        return "\n".join(lines)

    def render(self) -> str:
        """Everything: target, searches, question, verdict, attempts."""
        lines = [f"target: {self.target} (hops {self.hops}); phase: {self.phase}"]
        for turn in self.proposer_searches:
            lines.append(
                f"  proposer <search>{turn.query}</search> -> {[p.title for p in turn.hits]}"
            )
        if self.question is not None:
            lines.append(f"  question: {self.question}")
        if self.validity is not None:
            lines.append(f"  validity: {self.validity.to_dict()}")
        for i, attempt in enumerate(self.attempts):
            lines.append(f"  attempt {i}: {attempt.to_dict()}")
        return "\n".join(lines)

    # ---- infos ------------------------------------------------------------------------

    def _passages(self, passages: Sequence[Passage]) -> list[dict[str, Any]]:
        out = []
        for p in passages:
            item: dict[str, Any] = p.to_dict()
            facts = self.backend.facts(p.id)
            if facts is not None:
                item["facts"] = [list(f) for f in facts]
            out.append(item)
        return out

    def info(self, player: int) -> dict[str, Any]:
        """The structured view of ``player`` (only what it may know), and the verdicts."""
        info: dict[str, Any] = {
            "phase": self.phase,
            "searches_left": self.searches_left(player),
        }
        if player == PROPOSER:
            info |= {
                "target": self.target,
                "hops": self.hops,
                "queries": [t.query for t in self.proposer_searches],
                "evidence": self._passages(self.evidence()),
            }
            if self.validity is not None:
                info |= {"question": self.question, "validity": self.validity.to_dict()}
        elif self.phase != "propose":
            attempt = self._current_attempt()
            searches = attempt.searches if attempt else []
            info |= {
                "question": self.solver_question(),
                "attempt": self.attempt_index(),
                "attempts": self.config.solver_attempts,
                "queries": [t.query for t in searches],
                "evidence": self._passages(
                    list({p.id: p for t in searches for p in t.hits}.values())
                ),
            }
        if self.is_terminal():
            assert self.validity is not None
            info |= {
                "target": self.target,
                "hops": self.hops,
                "question": self.question,
                "validity": self.validity.to_dict(),
                "solver_attempts": [a.to_dict() for a in self.attempts],
                "success_rate": self.success_rate(),
                "mean_f1": float(np.mean([a.f1 for a in self.attempts]))
                if self.attempts
                else 0.0,
                "ssp_reward": self.ssp_rewards(),
                # The pooled question the solver got instead of an invalid one.
                "served_from_pool": self.served.to_dict(block=False)
                if self.served
                else None,
            }
            # What the arena averages per agent: the solver's exact match, and
            # whether the proposer's question was valid.
            info["metrics"] = (
                {"question_valid": float(self.validity.valid)}
                if player == PROPOSER
                else {"exact_match": self.success_rate(), "f1": info["mean_f1"]}
            )
        return info
