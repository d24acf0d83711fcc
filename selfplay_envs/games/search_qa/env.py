"""# Search QA (search self-play)

| | |
|---|---|
| Creation | `selfplay_envs.make("search_qa_v0", corpus="synthetic" \\| "foldoc" \\| path, ...)` |
| Agents | `player_0` (proposer), `player_1` (solver) |
| Actions | text only: `<search>query</search>`, then `<question>...</question>` (proposer) or `<answer>...</answer>` (solver) |
| Observation | `{"text": prompt}`: the task, then every `<search>` of the current context and its `<information>` |
| Reference | Search Self-play (SSP, Lu et al. 2025); Search-R1's search tags and retrieval protocol |

A proposer is given a target answer and writes a question about it, searching a corpus
as it goes; a solver must find the answer by searching the same corpus. The proposer
wins when its valid questions defeat the solver. Searching is a real BM25 engine in the
process (or any Search-R1 retrieval server), so every observation is a real tool result.

## Corpora
* `"synthetic"` (default): an invented encyclopedia of people, cities, countries,
  companies, universities, books and films (`synthetic.py`); `corpus_size` entities
  (about 1.4 passages each), `corpus_seed`. Every fact is known, so scripted players
  exist (`selfplay_agents.opponents.search_qa`).
* `"foldoc"`: FOLDOC, about 12k computing entries (15.6k passages, GFDL), shipped in
  `envs_assets/corpora/foldoc.jsonl.gz`.
* a path to your own JSONL corpus, one `{"id", "title", "text"}` per line.

Indexes are built once and cached on disk under the corpus's content hash
(`cache_dir`, default `~/.cache/selfplay_envs/search` or `$SELFPLAY_ENVS_CACHE`;
`cache_dir=""` keeps them in memory). `retriever_url="http://host:port"` sends searches
to a server speaking Search-R1's `POST /retrieve` instead (the local corpus still
supplies target answers).

## Observation
The acting seat's whole context as text: instructions, its target (proposer) or the
question (solver), searches left, then each `<search>` it made in this context followed
by `<information>Doc 1(Title: ...) ...</information>`, Search-R1's layout. Each solver
attempt starts a fresh context. The idle seat sees a one-line wait message.

`infos[agent]` adds the structured view: `phase`, `searches_left`, the proposer's
`target`, `hops`, `queries` and `evidence` (passages as dicts; on the synthetic corpus
each carries the `facts` it states as `[subject, relation, object]`); the solver's
`question`, `attempt`, `queries`, `evidence`; after the question, `validity`
(`valid`, `failures`, `rag_answer`, `rag_documents`) for the proposer; at the end, for
both: `target`, `validity`, `solver_attempts` (answer, `exact_match`, `f1`, queries),
`success_rate`, `mean_f1` and `ssp_reward`.

## Action
The last well-formed tag of the reply counts; text inside `<think>` is ignored. The
proposer may search `max_proposer_searches` times, then must give `<question>`; each
solver attempt may search `max_solver_searches` times, then must give `<answer>`.
Each search returns the top `top_k` passages.

## Validity of a question
In order: 10-1000 characters and at least 10 words; does not contain the answer
(normalised, whole words); rests on at least 2 distinct searches; the answer appears in
a passage the proposer retrieved; and the RAG check: the judge, shown only the
proposer's passages plus noise in random order, finds the target. The noise is
`num_distractors` distractor passages (top hits of searches for other random answers),
or with `noise_blocks` (`ssp`: 4) and a `question_pool`, that many retrieved blocks of
other trajectories. The default judge (`verifier.RuleJudge`) has `verifier` answer from
the documents, then exact match; `judge=selfplay_agents.judge.LLMJudge(backend)` asks a model. The default
verifier is the scripted `LexicalVerifier` (no model, no network), which follows entity
links through the documents; for model-written questions pass your model, e.g.
`verifier=lambda request: model(request.prompt)`. All thresholds are parameters.

## Rewards
`s` is the solver's success rate: the mean judged correctness (normalised exact match
by default) over `solver_attempts` attempts (F1 is reported in infos, not rewarded).
`proposer_reward="intermediate_difficulty"` makes the proposer's raw reward
`p = 4 s (1 - s)` instead of `1 - s`; the returns are then `p - s` / `s - p`.

| outcome | proposer | solver | SSP raw reward (`info["ssp_reward"]`) |
|---|---|---|---|
| valid question, success rate `s` | `1 - 2s` | `2s - 1` | proposer `1 - s`, solver `s` |
| invalid question | -1 | +1 | proposer `-invalid_penalty` (0), solver none |

SSP's raw rewards sum to 1 on a valid question; the returns are the zero-sum form (each
seat's raw reward minus the other's), so the game is zero-sum as the suite requires.
An invalid question counts like a question every solver attempt answers, as in SSP.

## Invalid moves
No allowed tag is `no action found`; an empty or over-long query is `unparseable`; a
search with none left is `illegal: no searches left`. The env's invalid-move policy
decides what follows (retry by default). Under the penalty policy the fallback is an
empty question (invalid, so the proposer loses) or an empty answer (scores 0).

## Version History
* v0: initial release.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from selfplay_envs.core.game import Game, GameInfo
from selfplay_envs.core.seeding import child_seed
from selfplay_envs.games.search_qa.corpora import (
    BackendSpec,
    SearchBackend,
    get_backend,
)
from selfplay_envs.games.search_qa.params import PARAMETERS, resolve_preset
from selfplay_envs.games.search_qa.pool import QuestionPool
from selfplay_envs.games.search_qa.rules import ROLES, SearchQAConfig, SearchQAState
from selfplay_envs.games.search_qa.verifier import (
    Judge,
    LexicalVerifier,
    RuleJudge,
    Verifier,
)

__all__ = ["SearchQAGame"]

# Long enough for the longest context: 10 searches of 3 passages of 1200 characters.
_MAX_TEXT = 1 << 17


class SearchQAGame(Game):
    """Search self-play over a corpus; see the module docstring for every parameter.

    Args:
        corpus: ``"synthetic"``, ``"foldoc"`` or the path of a JSONL corpus.
        corpus_size: Entities in the synthetic encyclopedia.
        corpus_seed: Seed of the synthetic encyclopedia.
        retriever_url: Search a Search-R1 retrieval server instead of the local index.
        cache_dir: Index cache directory; ``None`` for the default, ``""`` for none.
        answers: Target answers to draw from; by default the corpus's entities.
        verifier: The RAG check's reader, ``request -> reply``; default
            ``LexicalVerifier()``.
        judge: The RAG check and answer correctness (``verifier.Judge``); default
            ``RuleJudge(reader=verifier)``: the reader, then exact match.
        question_pool: Stores valid questions and their blocks (see ``pool.py``).
        **rules: Any field of ``SearchQAConfig`` (``hops``, ``top_k``,
            ``solver_attempts``, the filter thresholds, ...).
    """

    parameters = PARAMETERS
    # Scripted opponents (``Game.opponents``), imported by agents on first use.
    opponents = {
        "random": "selfplay_agents.opponents.search_qa:RandomSearchQA",
        "scripted": "selfplay_agents.opponents.search_qa:ScriptedSearchQA",
    }
    conformance_configs = ({"preset": "ssp", "corpus_size": 200, "cache_dir": ""},)

    def __init__(
        self,
        *,
        corpus: str = "synthetic",
        corpus_size: int = 2000,
        corpus_seed: int = 0,
        retriever_url: str | None = None,
        cache_dir: str | None = None,
        answers: Sequence[str] | None = None,
        verifier: Verifier | None = None,
        judge: Judge | None = None,
        question_pool: QuestionPool | None = None,
        **rules: Any,
    ):
        # Every argument has been checked against PARAMETERS (params.py).
        self.config = SearchQAConfig(**resolve_preset(rules))
        self.question_pool = question_pool
        self.spec = BackendSpec(
            corpus=str(corpus),
            corpus_size=corpus_size,
            corpus_seed=corpus_seed,
            retriever_url=retriever_url,
            cache_dir=None if cache_dir is None else str(cache_dir),
        )
        if answers is not None and not answers:
            raise ValueError("expected a non-empty answers list, got an empty one")
        self.answers = tuple(answers) if answers is not None else None
        self.verifier = verifier if verifier is not None else LexicalVerifier()
        self.judge = judge if judge is not None else RuleJudge(reader=self.verifier)
        self.info = GameInfo(
            name="search_qa_v0",
            num_players=2,
            max_game_length=self.config.max_game_length,
            max_text_length=_MAX_TEXT,
            roles=ROLES,
        )

    @property
    def backend(self) -> SearchBackend:
        """The corpus and retriever, shared by every game of this process with the spec."""
        return get_backend(self.spec)

    def new_initial_state(self, rng: np.random.Generator) -> SearchQAState:
        """Draw a target answer and a hop budget; the RAG check gets its own stream."""
        backend = self.backend
        pool = self.answers or backend.answer_pool()
        if not pool:
            raise ValueError(
                f"expected a corpus with titles usable as answers (2-60 characters), "
                f"got none in {backend.corpus.name!r}: pass answers=[...]"
            )
        target = pool[int(rng.integers(len(pool)))]
        low, high = self.config.hops  # type: ignore[misc]
        hops = int(rng.integers(low, high + 1))
        return SearchQAState(
            config=self.config,
            backend=backend,
            judge=self.judge,
            target=target,
            hops=hops,
            rng=np.random.default_rng(child_seed(rng)),
            question_pool=self.question_pool,
        )
