"""The declared parameters of ``search_qa_v0`` (see ``selfplay_envs.core.config``).

They are checked before anything is read or built: a corpus path must be an existing,
non-empty JSONL file whose first line is a passage, ``cache_dir``'s parent must exist
(only the last level is ever created), and ``retriever_url`` must be an http(s) URL
(it is not contacted before the first search).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Any

from selfplay_envs.core.config import (
    Bool,
    Choice,
    Float,
    Func,
    Instance,
    Int,
    OneOf,
    Pair,
    Param,
    Params,
    PathArg,
    Rule,
    Seq,
    Str,
    Url,
    Where,
)
from selfplay_envs.games.search_qa.pool import NoisePool, QuestionPool
from selfplay_envs.games.search_qa.rules import PROPOSER_REWARDS
from selfplay_envs.games.search_qa.search.corpus import (
    CorpusFormatError,
    _open_text,
    _parse_line,
)
from selfplay_envs.games.search_qa.verifier import Judge

__all__ = ["PARAMETERS", "MAX_CORPUS_SIZE", "MAX_HOPS", "PRESETS", "resolve_preset"]

#: The points of each preset; each is also a plain parameter, and a point given
#: explicitly wins over the preset's value.
PRESETS: dict[str, dict[str, Any]] = {
    # Search Self-play (Lu et al. 2025): an invalid question scores 0 (a penalty
    # collapsed training), k = 5 solver attempts, a reply with more than 10 answer
    # tags scores a quarter, only distinct queries use the search budget, and with a
    # question pool the RAG check mixes in 4 blocks of other trajectories.
    "ssp": {
        "invalid_return": 0.0,
        "solver_attempts": 5,
        "max_answer_tags": 10,
        "distinct_searches_only": True,
        "noise_blocks": 4,
    },
}

#: Today's value of each preset point (the parameter's ``None``).
_PLAIN = {
    "invalid_return": -1.0,
    "solver_attempts": 4,
    "max_answer_tags": None,
    "distinct_searches_only": False,
    "noise_blocks": 0,
}


def resolve_preset(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` without ``preset``: each unset point from the preset, else today's."""
    rules = dict(config)
    preset = PRESETS.get(rules.pop("preset", None) or "", {})
    for name, plain in _PLAIN.items():
        if rules.get(name) is None:
            rules[name] = preset.get(name, plain)
    return rules


#: Entities of the largest synthetic encyclopedia (built in memory, then indexed).
MAX_CORPUS_SIZE = 200_000
MAX_HOPS = 10
_FIRST_LINE = 1 << 20  # characters of a corpus's first line that are checked


def _first_passage(path: Any) -> str | None:
    """The file's first line is a passage, as ``read_jsonl`` reads it."""
    where = Path(path).expanduser()
    try:
        with _open_text(where) as handle:
            line = handle.readline(_FIRST_LINE)
    except (OSError, EOFError, UnicodeDecodeError, zlib.error, gzip.BadGzipFile) as err:
        return f"it cannot be read as a UTF-8 JSONL file: {err}"
    if len(line) == _FIRST_LINE and not line.endswith("\n"):
        return None  # a very long first line: read_jsonl will judge it
    try:
        _parse_line(line, (str(where), 1))
    except CorpusFormatError as err:
        return str(err)
    return None


def _judge_or_verifier(given: Any) -> str | None:
    """A judge replaces the default one, which is the only reader of ``verifier``."""
    if given.get("judge") is not None and given.get("verifier") is not None:
        return (
            "expected judge or verifier, got both (a judge makes its own RAG check; "
            "wrap the reader as RuleJudge(reader=verifier))"
        )
    return None


def _noise_pool(config: Any) -> str | None:
    """Asked-for noise must have a pool that can supply it, rather than be ignored."""
    pool = config.get("question_pool")
    if pool is None or isinstance(pool, NoisePool):
        return None
    k = resolve_preset(config)["noise_blocks"]
    if k:
        return (
            f"expected a question_pool with noise_blocks() (a pool.NoisePool) for "
            f"noise_blocks={k}, got {type(pool).__name__}; pass noise_blocks=0"
        )
    return None


_CORPUS_FILE = Where(PathArg("file", nonempty=True), _first_passage)

_MIN_HOP = Int(1, MAX_HOPS)


PARAMETERS = Params(
    Param(
        "corpus",
        OneOf(
            Choice("synthetic", "foldoc"),
            _CORPUS_FILE,
            desc="'synthetic', 'foldoc' or the path of an existing, non-empty JSONL "
            "corpus (.jsonl or .jsonl.gz)",
        ),
        "synthetic",
        "what is searched (see Corpora)",
    ),
    Param(
        "corpus_size",
        Int(50, MAX_CORPUS_SIZE),
        2000,
        "entities of the synthetic encyclopedia",
    ),
    Param("corpus_seed", Int(0, 2**63 - 1), 0, "seed of the synthetic encyclopedia"),
    Param(
        "retriever_url",
        Url(),
        None,
        "search a Search-R1 retrieval server instead of the local index",
    ),
    Param(
        "cache_dir",
        OneOf(
            Choice("", desc="'' (no cache)"),
            PathArg(parent_exists=True),
        ),
        None,
        "index cache; `None`: `$SELFPLAY_ENVS_CACHE/search` or "
        '`~/.cache/selfplay_envs/search`; `""`: none (in memory)',
    ),
    Param(
        "answers",
        Seq(Str(max_len=200), min_len=1),
        None,
        "target answers to draw from",
        shown_default="the corpus's entities",
    ),
    Param(
        "verifier",
        Func(),
        None,
        "the RAG check's reader, `request -> reply` (read by the default judge)",
        shown_default="LexicalVerifier()",
    ),
    Param(
        "judge",
        Instance(Judge),
        None,
        "the RAG check and answer correctness, each a verdict "
        "(`verifier.Judge`; an LLM judge: `selfplay_agents.judge.LLMJudge`)",
        shown_default="RuleJudge(verifier): the reader, then exact match",
    ),
    Param(
        "hops",
        OneOf(_MIN_HOP, Pair(_MIN_HOP)),
        (1, 3),
        "hop budget: an int or a `(low, high)` range drawn per episode",
    ),
    Param("top_k", Int(1, 10), 3, "passages per search"),
    Param(
        "max_proposer_searches",
        Int(0, 20),
        5,
        "searches of the proposer before its question",
    ),
    Param(
        "max_solver_searches",
        Int(0, 20),
        10,
        "searches of each solver attempt before its answer",
    ),
    Param(
        "preset",
        Choice(*PRESETS),
        None,
        "`ssp`: Search Self-play's rules (each point below, when not given); "
        "`None`: today's rules",
    ),
    Param(
        "solver_attempts",
        Int(1, 64),
        None,
        "solver attempts per valid question (SSP's k)",
        shown_default="4 (`ssp`: 5)",
    ),
    Param(
        "min_distinct_searches",
        Int(0, 20),
        2,
        "distinct searches a question must rest on",
    ),
    Param(
        "min_question_chars", Int(0, 10_000), 10, "shortest valid question (characters)"
    ),
    Param(
        "max_question_chars",
        Int(1, 10_000),
        1000,
        "longest valid question (characters)",
    ),
    Param("min_question_words", Int(0, 1000), 10, "fewest words in a valid question"),
    Param("num_distractors", Int(0, 50), 4, "distractor passages in the RAG check"),
    Param("rag_check", Bool(), True, "run the RAG check (the filters always run)"),
    Param(
        "invalid_penalty",
        Float(0, 1),
        0.0,
        "SSP raw reward of an invalid question is `-invalid_penalty`",
    ),
    Param(
        "invalid_return",
        Float(-1, 0),
        None,
        "the proposer's return for an invalid question (the solver's is minus it)",
        shown_default="-1 (`ssp`: 0)",
    ),
    Param(
        "max_answer_tags",
        Int(1, 10_000),
        None,
        "a solver reply with more answer tags scores `1 / spam_divisor` of its "
        "exact match; `None`: no limit",
        shown_default="None (`ssp`: 10)",
    ),
    Param(
        "spam_divisor",
        Float(1, 1000),
        4.0,
        "what an over-tagged reply's score is divided by (with `max_answer_tags`)",
    ),
    Param(
        "distinct_searches_only",
        Bool(),
        None,
        "only distinct queries use a context's search budget; a repeated query is "
        "refused (illegal) and costs nothing",
        shown_default="False (`ssp`: True)",
    ),
    Param(
        "question_pool",
        Instance(QuestionPool),
        None,
        "valid questions are stored here; an invalid question is replaced by a "
        "stored one for the solver (`pool.FifoQuestionPool`)",
    ),
    Param(
        "noise_blocks",
        Int(0, 50),
        None,
        "with a `question_pool` that is a `pool.NoisePool`, the RAG check mixes in "
        "this many retrieved blocks of other trajectories instead of the distractors "
        "(the distractors remain while the pool has none)",
        shown_default="0 (`ssp`: 4)",
    ),
    Param(
        "proposer_reward",
        Choice(*PROPOSER_REWARDS),
        "adversarial",
        "SSP's raw proposer reward for a valid question solved at rate `s`: "
        "`1 - s`, or `4 s (1 - s)` (0 when always or never solved)",
    ),
    Param(
        "passage_chars",
        Int(0, 5000),
        1200,
        "passages are cut to this length in prompts (0: never)",
    ),
    rules=(
        Rule.low_high("hops", "`hops` as a range has `low <= high`"),
        Rule.at_most("min_question_chars", "max_question_chars"),
        Rule(
            ("judge", "verifier"),
            lambda config, given: _judge_or_verifier(given),
            "`judge` and `verifier` are not both given (the default judge reads "
            "with `verifier`)",
        ),
        Rule(
            ("noise_blocks", "question_pool"),
            lambda config, given: _noise_pool(config),
            "RAG noise (`noise_blocks` > 0, `ssp`'s 4) with a `question_pool` needs a "
            "`pool.NoisePool`",
        ),
    ),
    game="search_qa_v0",
)
