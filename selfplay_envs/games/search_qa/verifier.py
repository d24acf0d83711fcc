"""The RAG check: can the question be answered from the proposer's own documents?

SSP checks each question before any solver sees it: a verifier answers the question
with no search, reading only the passages the proposer retrieved plus distractor
passages, and must find the proposer's answer. A question that fails is invalid.

A verifier is any callable ``verifier(request) -> str``: the request carries the
question, the documents, and a ready-made prompt for a language model; the reply is
read like a solver's (the last ``<answer>...</answer>`` or ``\\boxed{...}``, else the
whole reply). SSP uses the training model itself; wrap yours as
``verifier=lambda request: my_model(request.prompt)``, or pass any ``agents`` policy
through ``selfplay_agents.opponents.search_qa.PolicyVerifier``.

With no model given, the game uses ``LexicalVerifier``, a scripted reader that needs no
network and no weights (see its docstring for exactly what it can and cannot do).

Every verdict of the game goes through a ``Judge``: ``rag_check`` (is the answer
derivable from the documents?) and ``answer_correct`` (does the solver's answer match
the reference?), each a ``Judgement`` with a reason. ``RuleJudge(reader)``, the default,
is the rule above: the reader answers, then exact match; answers are scored by exact
match. ``selfplay_agents.judge.LLMJudge`` asks a model, as SSP does. A judge that cannot judge
(backend down, timeout) raises ``JudgeError``: an outage is never scored.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from selfplay_envs.core.errors import InfrastructureError
from selfplay_envs.core.parsing import AnswerFormat, extract_answer
from selfplay_envs.games.search_qa.answers import exact_match, normalize_answer
from selfplay_envs.games.search_qa.search.corpus import Passage
from selfplay_envs.games.search_qa.search.tokenize import tokenize

__all__ = [
    "AnswerCheckRequest",
    "Judge",
    "JudgeError",
    "Judgement",
    "RagCheckRequest",
    "RuleJudge",
    "VerifierRequest",
    "Verifier",
    "LexicalVerifier",
    "FixedAnswerVerifier",
    "rag_prompt",
    "format_documents",
]

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclasses.dataclass(frozen=True, kw_only=True)
class VerifierRequest:
    """What the verifier sees: the question and the documents, in shown order."""

    question: str
    documents: tuple[Passage, ...]
    prompt: str


@runtime_checkable
class Verifier(Protocol):
    """Answers a question from documents alone; returns the reply text."""

    def __call__(self, request: VerifierRequest) -> str:
        """The verifier's reply (an ``<answer>`` tag or a bare answer)."""
        ...


def format_documents(passages: Sequence[Passage], *, max_chars: int = 0) -> str:
    """Search-R1's layout: ``Doc 1(Title: T) text`` one per line."""
    lines = []
    for i, p in enumerate(passages, start=1):
        text = p.text.replace("\n", " ")
        if max_chars and len(text) > max_chars:
            text = text[:max_chars].rstrip() + " ..."
        lines.append(f"Doc {i}(Title: {p.title}) {text}")
    return "\n".join(lines)


def rag_prompt(question: str, documents: Sequence[Passage]) -> str:
    """The verifier's prompt: documents, question, answer format."""
    return (
        "Answer the question using only the documents below. Some documents are "
        "unrelated to the question. Give a short answer (an entity or a phrase) "
        "as <answer>...</answer>, with no explanation.\n\n"
        f"Documents:\n{format_documents(documents)}\n\nQuestion: {question}\n"
    )


@dataclasses.dataclass(frozen=True)
class FixedAnswerVerifier:
    """Always gives the same reply (a scripted verifier for tests and baselines)."""

    reply: str

    def __call__(self, request: VerifierRequest) -> str:
        """The fixed reply, whatever the request."""
        del request  # Unused: the reply is fixed.
        return self.reply


@dataclasses.dataclass(frozen=True)
class LexicalVerifier:
    """A scripted reader: it follows entity links through the documents.

    Candidate answers are the titles of the documents. The reader finds the titles
    the question names (the anchors), then walks from an anchor's document to a title
    one of its sentences mentions, and on from that title's document, up to
    ``max_hops`` links. A path scores the question words its sentences cover, counted
    with multiplicity (a question that says "works for" twice needs two such
    sentences), and every link must cover a word the path had not covered yet. The
    best-scoring endpoint that the question does not name wins, shorter paths on ties.
    With no anchor it falls back to the title whose document best covers the question.

    It reads multi-hop questions whose wording follows the documents' wording (the
    scripted proposer's questions over the synthetic encyclopedia) and simple
    definition questions over FOLDOC. It cannot paraphrase or reason; for questions
    written by a model, pass a model as the verifier.
    """

    max_hops: int = 4

    def __call__(self, request: VerifierRequest) -> str:
        """The best candidate title, or ``""`` when no document has a title."""
        return self.read(request.question, request.documents)

    def read(self, question: str, documents: Sequence[Passage]) -> str:
        """Answer ``question`` from ``documents`` (see the class docstring)."""
        graph = _DocumentGraph(documents)
        if not graph.names:
            return ""
        q_norm = f" {normalize_answer(question)} "
        anchors = [n for n in graph.names if f" {n} " in q_norm]
        anchor_words = {w for n in anchors for w in tokenize(graph.display[n])}
        wanted = Counter(w for w in tokenize(question) if w not in anchor_words)
        best: tuple[int, int, int] | None = None
        answer = ""
        for name, covered, hops in graph.paths(anchors, wanted, self.max_hops):
            if f" {name} " in q_norm:
                continue
            key = (covered, -hops, -graph.order[name])
            if best is None or key > best:
                best, answer = key, graph.display[name]
        return answer or graph.best_title(set(wanted), q_norm)


class _DocumentGraph:
    """Titles, the sentences of their documents, and which titles each mentions."""

    def __init__(self, documents: Sequence[Passage]):
        self.display: dict[str, str] = {}
        self.order: dict[str, int] = {}
        self.sentences: dict[str, list[str]] = {}
        for doc in documents:
            name = normalize_answer(doc.title)
            if len(name) < 2:
                continue
            self.display.setdefault(name, doc.title)
            self.order.setdefault(name, len(self.order))
            self.sentences.setdefault(name, []).extend(
                s for s in _SENTENCE.split(doc.text) if s.strip()
            )
        self.names = list(self.display)
        self.links: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for name, sentences in self.sentences.items():
            for sentence in sentences:
                norm = f" {normalize_answer(sentence)} "
                words = frozenset(tokenize(sentence))
                for other in self.names:
                    if other != name and f" {other} " in norm:
                        self.links.setdefault(name, []).append((other, words))

    def paths(self, anchors: list[str], wanted: Counter[str], max_hops: int):
        """Yield ``(endpoint, covered words, hops)`` of every justified simple path."""
        stack = [(a, Counter(), 0, (a,)) for a in anchors]
        while stack:
            name, used, hops, seen = stack.pop()
            if hops:
                yield name, sum(used.values()), hops
            if hops == max_hops:
                continue
            for other, words in self.links.get(name, []):
                if other in seen:
                    continue
                gained = Counter(w for w in words if used[w] < wanted[w])
                if gained:  # a link that explains no further question word is a guess
                    stack.append((other, used + gained, hops + 1, seen + (other,)))

    def best_title(self, wanted: set[str], q_norm: str) -> str:
        """The title whose document covers most question words (no anchor found)."""
        best, answer = -1, ""
        for name in self.names:
            if f" {name} " in q_norm:
                continue
            words = set(tokenize(self.display[name]))
            for sentence in self.sentences[name]:
                words.update(tokenize(sentence))
            covered = len(words & wanted)
            if covered > best:
                best, answer = covered, self.display[name]
        return answer


# ---- judges: the RAG check and answer correctness as yes/no verdicts ----------------


class JudgeError(InfrastructureError):
    """A judge could not give a verdict: its backend is down, timed out or failed.

    An infrastructure failure, never a verdict: scoring it 0 would train on a judge
    outage. The arena records the game as errored with this message.
    """


@dataclasses.dataclass(frozen=True, kw_only=True)
class RagCheckRequest:
    """The RAG check: can ``question`` be answered as ``answer`` from ``documents``?

    ``documents`` are the proposer's passages and the noise, in shown order;
    ``question`` is the proposer's (model) text, ``answer`` the env's target.
    """

    question: str
    answer: str
    documents: tuple[Passage, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnswerCheckRequest:
    """Answer correctness: does ``answer`` (the solver's text) match ``reference``?"""

    question: str
    answer: str
    reference: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Judgement:
    """A verdict and why.

    Attributes:
        verdict: ``True`` for yes (derivable, or correct).
        reason: Why, in words (``"unparsable judge reply: ..."`` for a reply with no
            single well-formed verdict tag).
        answer: What a reading judge answered from the documents (RAG check), if any.
        reply: The judge's raw reply, if it has one.
    """

    verdict: bool
    reason: str = ""
    answer: str | None = None
    reply: str | None = None


@runtime_checkable
class Judge(Protocol):
    """The two judgements SSP makes, each a verdict with a reason.

    An implementation raises ``JudgeError`` when it cannot judge (infrastructure),
    and answers ``verdict=False`` with a reason when its own reply is unparsable.
    """

    def rag_check(self, request: RagCheckRequest) -> Judgement:
        """Is ``request.answer`` derivable from ``request.documents``?"""
        ...

    def answer_correct(self, request: AnswerCheckRequest) -> Judgement:
        """Does the solver's answer match the reference?"""
        ...


@dataclasses.dataclass(frozen=True)
class RuleJudge:
    """Today's judge, the default: a reader and normalised exact match.

    The RAG check asks ``reader`` (a ``Verifier``; ``LexicalVerifier()`` by default)
    to answer the question from the documents alone, never showing it the answer, and
    says yes when the reader's answer exactly matches the target (SSP's first step).
    Answer correctness is normalised exact match.
    """

    reader: Verifier = dataclasses.field(default_factory=LexicalVerifier)

    def rag_check(self, request: RagCheckRequest) -> Judgement:
        """The reader's answer (last tag, else the whole reply) vs the target."""
        prompt = rag_prompt(request.question, request.documents)
        reply = self.reader(
            VerifierRequest(
                question=request.question, documents=request.documents, prompt=prompt
            )
        )
        text = reply if isinstance(reply, str) else ""
        answer, _ = extract_answer(
            text, (AnswerFormat.ANSWER_TAG, AnswerFormat.BOXED, AnswerFormat.BARE)
        )
        answer = answer or ""
        if exact_match(answer, request.answer):
            return Judgement(verdict=True, answer=answer, reply=text)
        return Judgement(
            verdict=False,
            reason=f"rag: the verifier answered {answer[:80]!r}",
            answer=answer,
            reply=text,
        )

    def answer_correct(self, request: AnswerCheckRequest) -> Judgement:
        """Normalised exact match."""
        if exact_match(request.answer, request.reference):
            return Judgement(verdict=True)
        return Judgement(verdict=False, reason="no exact match")
