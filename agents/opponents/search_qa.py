"""Fixed players of ``search_qa_v0``: random ones for any corpus, scripted ones for the
synthetic encyclopedia, and an adapter that makes any policy the RAG-check verifier.

Each policy plays whichever seat it is given (``info["role"]``) and is stateless
between turns: it rebuilds its plan from ``turn.info`` (its own queries and the
passages they returned, with their ``facts`` on the synthetic corpus), so one object
can serve a batch of games. Nothing here re-parses the prompt text.

* ``RandomSearchQA``: searches random words of what it has seen, then writes a question
  of random evidence words, or answers a random title. Always well-formed moves.
* ``ScriptedSearchQA`` (synthetic corpus only):
  - as proposer, walks relations backwards from the target, one search per hop (the
    target first, then each entity that points to the last one), and writes the n-hop
    question that composes them, e.g. "...what is the city where the person who
    founded Varno Dynamics was born?". The relations are functions, so the answer is
    unique.
  - as solver, parses such a question into its anchor and relations and searches hop by
    hop ("<entity> <relation keywords>"), reading the fact from the retrieved
    passages. It is a deliberately imperfect reader: at each hop it takes the wrong
    entity with probability ``read_error``, and it sees only the top-k passages of each
    query; both compound with the hop count, so its success falls as hops rise.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from selfplay_agents.policy import Policy, Turn
from selfplay_envs.games.search_qa.search.corpus import Passage
from selfplay_envs.games.search_qa.synthetic import (
    RELATIONS,
    parse_question,
    question_for_chain,
)
from selfplay_envs.games.search_qa.verifier import LexicalVerifier, VerifierRequest

__all__ = ["RandomSearchQA", "ScriptedSearchQA", "PolicyVerifier"]

# Entity types by how many facts point to one of them, most first.
_EXTENDABLE = {"country": 0, "university": 1, "city": 2, "company": 3, "person": 4}
_FILLER = "which of these is described in the passages i read above today".split()


def _search(query: str) -> str:
    return f"<search>{query}</search>"


def _passages(info: dict[str, Any]) -> list[Passage]:
    return [
        Passage(id=p["id"], title=p["title"], text=p["text"])
        for p in info.get("evidence", [])
    ]


class RandomSearchQA:
    """Random but well-formed play in either seat, on any corpus.

    Args:
        seed: Seed of the policy's own generator.
        search_prob: Chance of searching again (while searches are left) instead of
            ending the turn sequence with a question or an answer.
    """

    name = "random"

    def __init__(self, seed: int | None = None, search_prob: float = 0.5):
        self.rng = np.random.default_rng(seed)
        self.search_prob = search_prob

    def act(self, turns: Sequence[Turn]) -> list[str]:
        """One move per turn."""
        return [self._one(turn.info) for turn in turns]

    def _one(self, info: dict[str, Any]) -> str:
        seen = info.get("target", "") or info.get("question", "") or ""
        words = seen.split() + [w for p in _passages(info) for w in p.text.split()]
        words = words or _FILLER
        searches_left = info.get("searches_left", 0)
        if searches_left > 0 and (
            not info.get("queries") or self.rng.random() < self.search_prob
        ):
            n = int(self.rng.integers(1, 4))
            return _search(" ".join(self.rng.choice(words, size=n)))
        if info.get("role") == "proposer":
            n = int(self.rng.integers(10, 25))
            return f"<question>{' '.join(self.rng.choice(words, size=n))}?</question>"
        titles = [p.title for p in _passages(info)] or words
        return f"<answer>{titles[int(self.rng.integers(len(titles)))]}</answer>"


class ScriptedSearchQA:
    """The scripted proposer and solver of the synthetic encyclopedia (module doc).

    Args:
        seed: Seed of the proposer's choices and the solver's reading errors.
        read_error: Chance that the solver reads the wrong entity at one hop.
        corpus: The game's corpus; only ``"synthetic"`` has the facts this needs.
    """

    name = "scripted"

    def __init__(
        self,
        seed: int | None = None,
        read_error: float = 0.1,
        corpus: str = "synthetic",
    ):
        if corpus != "synthetic":
            raise ValueError(
                f"expected corpus='synthetic' for the scripted players (they read its "
                f"facts), got {corpus!r}; use the 'random' opponent on other corpora"
            )
        if not 0.0 <= read_error <= 1.0:
            raise ValueError(f"expected 0 <= read_error <= 1, got {read_error}")
        self.seed = 0 if seed is None else int(seed)
        self.rng = np.random.default_rng(seed)
        self.read_error = read_error

    def act(self, turns: Sequence[Turn]) -> list[str]:
        """One move per turn, by role."""
        return [
            self.propose(t.info)
            if t.info.get("role") == "proposer"
            else self.solve(t.info)
            for t in turns
        ]

    # ---- proposer -----------------------------------------------------------------------

    def propose(self, info: dict[str, Any]) -> str:
        """Next proposer move: search the next entity of the chain, or ask."""
        target, queries = info["target"], info.get("queries", [])
        if not queries:
            return _search(target)
        facts = _facts(info)
        chain, relations, best = self._walk(target, queries, facts)
        hops_left = info["hops"] - len(relations)
        searches_left = info.get("searches_left", 0)
        if hops_left > 0 and searches_left > 0:
            step = self._next_step(
                facts, chain, relations, queries, info["hops"], searches_left
            )
            if step is not None:
                return _search(step)
        anchor_chain, links = best
        if not links:
            # Nothing points to the target in what the searches returned: a
            # well-formed but invalid question (the filters will reject it).
            return (
                f"<question>Which entity did my searches for {target} find?</question>"
            )
        return (
            f"<question>{question_for_chain(anchor_chain[-1], links[::-1])}</question>"
        )

    @staticmethod
    def _walk(target: str, queries: list[str], facts: list[list[str]]):
        """Replay the searches: the chain now, its relations, and the longest chain.

        A search for an entity that points at a chain member extends the chain from
        that member (a shallower one means the proposer backtracked); other searches
        (helpers like "X born city") leave it as is.
        """
        chain, relations = [target], []
        best: tuple[list[str], list[str]] = ([target], [])
        for query in queries[1:]:
            for i in range(len(chain) - 1, -1, -1):
                link = next(
                    (r for s, r, o in facts if s == query and o == chain[i]), None
                )
                if link is not None and query not in chain[: i + 1]:
                    chain, relations = chain[: i + 1] + [query], relations[:i] + [link]
                    if len(relations) > len(best[1]):
                        best = (chain[:], relations[:])
                    break
        return chain, relations, best

    def _next_step(
        self, facts, chain, relations, queries, hops, searches_left
    ) -> str | None:
        """The next search: extend the chain, look for more links, or backtrack."""
        queried = set(queries)
        hops_left = hops - len(relations)
        step = self._next_link(facts, chain, hops_left, queried)
        if step is not None:
            return step
        helper = self._helper_query(facts, chain, relations, queried)
        if helper is not None and searches_left > hops_left:
            return helper
        for level in range(len(chain) - 2, -1, -1):  # backtrack: another branch
            step = self._next_link(facts, chain[: level + 1], hops - level, queried)
            if step is not None:
                return step
        return None

    def _next_link(
        self, facts, chain: list[str], hops_left: int, queried: set[str]
    ) -> str | None:
        """An unsearched entity whose fact points at the chain's end, not leaking."""
        target = chain[0].casefold()
        options = sorted(
            {
                (s, r)
                for s, r, o in facts
                if o == chain[-1]
                and s not in chain
                and s not in queried
                and target not in s.casefold()
            }
        )
        if not options:
            return None
        if hops_left > 1:
            # Prefer subjects that many facts point to, so the walk can go on: a
            # country has cities, a university alumni; a book or film has nothing.
            rank = min(_EXTENDABLE.get(RELATIONS[r].subject, 9) for _, r in options)
            options = [
                o
                for o in options
                if _EXTENDABLE.get(RELATIONS[o[1]].subject, 9) == rank
            ]
        return options[int(self.rng.integers(len(options)))][0]

    def _helper_query(self, facts, chain, relations, queried: set[str]) -> str | None:
        """A query that brings up facts pointing at the chain's end, e.g. "X born city"."""
        end = chain[-1]
        if relations:
            end_type = RELATIONS[relations[-1]].subject
        else:
            end_type = next(
                (RELATIONS[r].subject for s, r, _ in facts if s == end), None
            )
        inbound = sorted(r.keywords for r in RELATIONS.values() if r.object == end_type)
        fresh = [f"{end} {k}" for k in inbound if f"{end} {k}" not in queried]
        return fresh[int(self.rng.integers(len(fresh)))] if fresh else None

    # ---- solver -------------------------------------------------------------------------

    def solve(self, info: dict[str, Any]) -> str:
        """Next solver move: search for the next hop, or answer."""
        question = info.get("question") or ""
        parsed = parse_question(question)
        queries = info.get("queries", [])
        if parsed is None:
            # Not a chain question: one search for it, then the best lexical reading.
            if not queries and info.get("searches_left", 0) > 0:
                return _search(question)
            passages = tuple(_passages(info))
            request = VerifierRequest(question=question, documents=passages, prompt="")
            return f"<answer>{LexicalVerifier()(request)}</answer>"
        anchor, relations = parsed
        facts = _facts(info)
        current = anchor
        for hop, relation in enumerate(relations):
            found = [o for s, r, o in facts if s == current and r == relation]
            if not found:
                for query in (f"{current} {RELATIONS[relation].keywords}", current):
                    if query not in queries and info.get("searches_left", 0) > 0:
                        return _search(query)
                return f"<answer>{current}</answer>"  # stuck: the best it has
            current = self._read(found[0], relation, facts, info, question, hop)
        return f"<answer>{current}</answer>"

    def _read(
        self, right: str, relation: str, facts, info, question: str, hop: int
    ) -> str:
        """The entity read at one hop: right, or with ``read_error`` a wrong one.

        The draw depends only on (seed, attempt, question, hop), so a misreading stays
        the same over the turns of one attempt and differs between attempts.
        """
        key = [
            self.seed,
            int(info.get("attempt", 0)),
            hop,
            zlib.crc32(question.encode()),
        ]
        rng = np.random.default_rng(key)
        if rng.random() >= self.read_error:
            return right
        wrong = sorted({o for _, r, o in facts if r == relation and o != right})
        wrong = wrong or sorted({o for _, _, o in facts if o != right})
        return wrong[int(rng.integers(len(wrong)))] if wrong else right


def _facts(info: dict[str, Any]) -> list[list[str]]:
    return [f for p in info.get("evidence", []) for f in p.get("facts", [])]


class PolicyVerifier:
    """Use any ``agents`` policy (an LLM) as the game's RAG-check verifier.

    ``SearchQAGame(verifier=PolicyVerifier(llm_policy))``: the policy gets one turn whose
    observation is the RAG prompt and whose info holds the question and documents, with
    ``role="verifier"``.
    """

    def __init__(self, policy: Policy, env_id: str = "search_qa_v0"):
        self.policy = policy
        self.env_id = env_id

    def __call__(self, request: VerifierRequest) -> str:
        """The policy's reply to the RAG prompt."""
        turn = Turn(
            env_id=self.env_id,
            agent="verifier",
            observation={"text": request.prompt},
            info={
                "role": "verifier",
                "question": request.question,
                "evidence": [p.to_dict() for p in request.documents],
            },
        )
        return str(self.policy.act([turn])[0])
