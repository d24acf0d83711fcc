"""Bad configurations, and what ``make()`` does with each: the prober's cases.

Each case is one bad configuration of one env. The probe builds it with ``make()``
and sorts the outcome:

* ``clear``: ``make()`` raised a ``ValueError`` or ``TypeError`` whose message names
  the parameter and shows the value (and, for a parameter with choices, lists them);
* ``enum without choices``: as clear, but the choices are not listed;
* ``confusing``: ``make()`` raised something else, or a message that does not name the
  parameter or the value;
* ``accepted, fails later``: ``make()`` returned; ``reset()`` or the first step
  raised (cases marked ``heavy`` are not reset: they would allocate gigabytes);
* ``accepted silently``: ``make()``, ``reset()`` and a first step all went through.

It only imports ``selfplay_envs``, so it also runs against an older checkout
(``PYTHONPATH=/path/to/old python benchmarks/probe_configs.py``) for a before/after
count. Everything it writes (corpora, folders, caches) lies in a temporary directory.

    python benchmarks/probe_configs.py [--json out.json] [--verbose]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

CATEGORIES = (
    "clear",
    "enum without choices",
    "confusing",
    "accepted, fails later",
    "accepted silently",
)


@dataclasses.dataclass
class Case:
    """One bad configuration: ``make(env_id, **config)`` must refuse ``param``."""

    env_id: str
    config: dict[str, Any]
    param: str  # the parameter the message must name
    value: Any = None  # the value it must show; default: config[param]
    choices: tuple[str, ...] = ()  # the choices it must list, for a choice parameter
    heavy: bool = False  # accepted, it would allocate gigabytes at reset: never reset
    note: str = ""

    @property
    def shown(self) -> Any:
        return self.config[self.param] if self.value is None else self.value


VIEWS = ("text", "numeric")
MODES = ("retry", "loss", "penalty")


def cases(tmp: Path) -> list[Case]:
    """Every case; files and folders the cases need are made under ``tmp``."""
    empty = tmp / "empty.jsonl"
    empty.write_text("")
    blank = tmp / "blank.jsonl"
    blank.write_text("\n\n")
    empty_repo = tmp / "empty_repo"
    empty_repo.mkdir()
    pictures = tmp / "pictures"
    pictures.mkdir()
    from PIL import Image

    for side in "ab":
        Image.new("RGB", (32, 32), (200, 10, 10)).save(pictures / f"pair_{side}.png")
    deep_cache = tmp / "nonexistent" / "deep" / "cache"
    ttt, kuhn, neg, spy, sqa, bug, cw = (
        "tic_tac_toe_v0",
        "kuhn_poker_v0",
        "negotiation_v0",
        "who_is_the_spy_v0",
        "search_qa_v0",
        "bug_repair_v0",
        "core_war_v0",
    )
    return [
        # make()'s own options
        Case(ttt, {"view": "txt"}, "view", choices=VIEWS),
        Case(ttt, {"view": 1}, "view", choices=VIEWS),
        Case(kuhn, {"view": "Numeric"}, "view", choices=VIEWS),
        Case(sqa, {"view": "numeric"}, "view", note="a text-only game"),
        Case(ttt, {"invalid_move": "lose"}, "invalid_move", choices=MODES),
        Case(ttt, {"invalid_move": 3}, "invalid_move"),
        Case(ttt, {"invalid_move": {"mode": "lose"}}, "mode", "lose", MODES),
        Case(ttt, {"invalid_move": {"max_retries": -1}}, "max_retries", -1),
        Case(ttt, {"invalid_move": {"max_retries": "2"}}, "max_retries", "2"),
        Case(ttt, {"invalid_move": {"format_penalty": "x"}}, "format_penalty", "x"),
        Case(ttt, {"invalid_move": {"max_retry": 1}}, "max_retry", "max_retry"),
        Case(ttt, {"max_attempts": -1}, "max_attempts"),
        Case(ttt, {"max_attempts": 0}, "max_attempts"),
        Case(ttt, {"max_attempts": "5"}, "max_attempts"),
        Case(ttt, {"max_attempts": 2.5}, "max_attempts"),
        Case(
            ttt, {"render_mode": "rgb_array"}, "render_mode", choices=("ansi", "human")
        ),
        # tic-tac-toe
        Case(ttt, {"bogus_key": 1}, "bogus_key", "bogus_key"),
        Case(ttt, {"size": 4}, "size", "size"),
        # Kuhn poker
        Case(kuhn, {"num_hands": 0}, "num_hands"),
        Case(kuhn, {"num_hands": -3}, "num_hands"),
        Case(kuhn, {"num_hands": "3"}, "num_hands"),
        Case(kuhn, {"num_hands": 2.5}, "num_hands"),
        Case(kuhn, {"num_hands": True}, "num_hands"),
        Case(kuhn, {"num_hands": 10**9}, "num_hands", heavy=True),
        Case(kuhn, {"reward": "score"}, "reward", choices=("chips", "match")),
        Case(kuhn, {"reward": 1}, "reward", choices=("chips", "match")),
        Case(kuhn, {"num_hand": 3}, "num_hand", "num_hand"),
        # negotiation
        Case(neg, {"num_turns": "ten"}, "num_turns"),
        Case(neg, {"num_turns": 11}, "num_turns"),
        Case(neg, {"num_turns": 0}, "num_turns"),
        Case(neg, {"num_turns": 2.0}, "num_turns"),
        Case(neg, {"preset": "catan"}, "preset", choices=("spiral", "textarena")),
        Case(neg, {"value_bounds": (5, 1)}, "value_bounds"),
        Case(neg, {"value_spread": 1.5}, "value_spread"),
        Case(neg, {"value_spread": "0.2"}, "value_spread"),
        Case(neg, {"max_offer_units": 0}, "max_offer_units"),
        Case(neg, {"max_offer_units": 10**6}, "max_offer_units", heavy=True),
        Case(neg, {"min_units": 5, "max_units": 2}, "min_units", 5),
        Case(neg, {"resources": ["Wood"]}, "resources"),
        Case(neg, {"resources": "WoodGold"}, "resources"),
        Case(neg, {"values": [[1, 2]]}, "values"),
        Case(neg, {"base_values": [1.5, 2]}, "base_values"),
        Case(neg, {"public_inventories": "yes"}, "public_inventories"),
        Case(neg, {"max_message_chars": -1}, "max_message_chars"),
        Case(neg, {"num_turn": 10}, "num_turn", "num_turn"),
        # Who Is the Spy?
        Case(spy, {"num_players": 4.5}, "num_players"),
        Case(spy, {"num_players": 2}, "num_players"),
        Case(spy, {"num_players": "4"}, "num_players"),
        Case(
            spy,
            {"items": "scenes"},
            "items",
            choices=("scene", "chart", "word", "folder"),
        ),
        Case(spy, {"items": "folder"}, "image_folder", "None"),
        Case(spy, {"image_folder": str(pictures)}, "image_folder"),
        Case(spy, {"spy_item": "empty"}, "spy_item", choices=("different", "blank")),
        Case(spy, {"clue_rounds": 0}, "clue_rounds"),
        Case(spy, {"image_size": (10, 10)}, "image_size"),
        Case(spy, {"image_size": "448"}, "image_size"),
        Case(spy, {"min_objects": 6, "max_objects": 4}, "min_objects", 6),
        Case(spy, {"edits": ["swap"]}, "edits"),
        Case(spy, {"chart_kinds": [], "items": "chart"}, "chart_kinds"),
        Case(spy, {"word_pairs": str(tmp / "none.tsv"), "items": "word"}, "word_pairs"),
        Case(spy, {"max_clue_chars": 0}, "max_clue_chars"),
        Case(spy, {"beta": "0.1"}, "beta"),
        Case(spy, {"baseline_decay": 1.0}, "baseline_decay"),
        Case(spy, {"spy_votes": "no"}, "spy_votes"),
        Case(spy, {"baseline": 3}, "baseline"),
        # search QA
        Case(sqa, {"corpus": ""}, "corpus"),
        Case(sqa, {"corpus": str(empty)}, "corpus"),
        Case(sqa, {"corpus": str(blank)}, "corpus"),
        Case(sqa, {"corpus": str(tmp / "missing.jsonl")}, "corpus"),
        Case(sqa, {"corpus_size": -5}, "corpus_size"),
        Case(sqa, {"corpus_size": "2000"}, "corpus_size"),
        Case(sqa, {"retriever_url": "localhost:8000"}, "retriever_url"),
        Case(sqa, {"retriever_url": 5}, "retriever_url"),
        Case(sqa, {"cache_dir": str(deep_cache)}, "cache_dir"),
        Case(sqa, {"solver_attempts": "2"}, "solver_attempts"),
        Case(sqa, {"solver_attempts": 0}, "solver_attempts"),
        Case(sqa, {"hops": (3, 1)}, "hops"),
        Case(sqa, {"hops": 0}, "hops"),
        Case(sqa, {"top_k": 0}, "top_k"),
        Case(sqa, {"top_kk": 3}, "top_kk", "top_kk"),
        Case(sqa, {"answers": []}, "answers"),
        Case(sqa, {"rag_check": "yes"}, "rag_check"),
        Case(sqa, {"invalid_penalty": "x"}, "invalid_penalty"),
        Case(sqa, {"max_question_chars": 0}, "max_question_chars"),
        # bug repair
        Case(bug, {"repos": [str(empty_repo)]}, "repos", note="an empty repository"),
        Case(bug, {"repos": "nope"}, "repos"),
        Case(bug, {"repos": []}, "repos"),
        Case(bug, {"test_timeout": 0}, "test_timeout"),
        Case(bug, {"command_timeout": -1}, "command_timeout"),
        Case(bug, {"alpha": "x"}, "alpha"),
        Case(bug, {"max_output_chars": -1}, "max_output_chars"),
        Case(bug, {"test_command": "rm -rf /"}, "test_command"),
        Case(bug, {"extra_env": {"PATH": 1}}, "extra_env"),
        Case(bug, {"min_passing_tests": -1}, "min_passing_tests"),
        Case(bug, {"solver_attempts": "2"}, "solver_attempts"),
        Case(
            bug, {"reward_mode": "zero-sum"}, "reward_mode", choices=("zero_sum", "ssr")
        ),
        Case(bug, {"sandbox": "vm"}, "sandbox", choices=("local", "docker")),
        Case(bug, {"memory_mb": 0}, "memory_mb"),
        Case(bug, {"max_observation_chars": 10**6}, "max_observation_chars"),
        # Core War
        Case(cw, {"rounds": 0}, "rounds"),
        Case(cw, {"rounds": "20"}, "rounds"),
        Case(cw, {"mode": "koth"}, "mode", choices=("versus", "red_queen")),
        Case(cw, {"num_players": 1}, "num_players"),
        Case(cw, {"reward": "score"}, "reward"),
        Case(cw, {"open_information": 1}, "open_information"),
        Case(cw, {"max_cycles": -5}, "max_cycles"),
        Case(cw, {"archive": ["x.red"]}, "archive"),
        Case(cw, {"preset": "huge"}, "preset", choices=("koth94", "tiny")),
        Case(cw, {"core_size": 10**6}, "core_size"),
    ]


def _shown(value: Any) -> list[str]:
    """Ways a message may show ``value``."""
    forms = {repr(value), str(value)}
    if isinstance(value, tuple):
        forms.add(repr(list(value)))
    return [f for f in forms if f]


def classify(case: Case) -> tuple[str, str]:
    """The category of ``case`` and the message or the exception seen."""
    import selfplay_envs

    try:
        env = selfplay_envs.make(case.env_id, **case.config)
    except Exception as err:  # noqa: BLE001 - sorting every outcome is the point
        message = f"{type(err).__name__}: {err}"
        text = str(err)
        named = case.param in text and any(s in text for s in _shown(case.shown))
        if not isinstance(err, (ValueError, TypeError)) or not named:
            return "confusing", message
        if case.choices and not all(c in text for c in case.choices):
            return "enum without choices", message
        return "clear", message
    if case.heavy:
        return "accepted, fails later", "accepted; reset not run (would allocate GiBs)"
    try:
        env.reset(seed=0)
        agent = env.agent_selection
        env.step(None if agent in env.terminations and env.terminations[agent] else "x")
    except Exception as err:  # noqa: BLE001
        return "accepted, fails later", f"{type(err).__name__}: {str(err)[:200]}"
    finally:
        with contextlib.suppress(Exception):
            env.close()
    return "accepted silently", "accepted"


def main(argv: list[str] | None = None) -> int:
    """Run every case; print the counts (and each case with ``--verbose``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write every outcome here")
    parser.add_argument("--verbose", action="store_true", help="print every case")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        os.environ["SELFPLAY_ENVS_CACHE"] = str(tmp / "cache")
        results = []
        for case in cases(tmp):
            category, message = classify(case)
            results.append(
                {
                    "env_id": case.env_id,
                    "config": repr(case.config).replace(str(tmp), "$TMP"),
                    "category": category,
                    "message": message.replace(str(tmp), "$TMP")[:300],
                }
            )
            if args.verbose:
                print(f"[{category}] {case.env_id} {results[-1]['config']}")
                print(f"    {results[-1]['message']}")
        created = (tmp / "nonexistent").exists()
    counts = collections.Counter(r["category"] for r in results)
    print(f"{len(results)} bad configurations")
    for category in CATEGORIES:
        print(f"  {category}: {counts.get(category, 0)}")
    print(f"  the deep cache_dir tree was created: {created}")
    if args.json:
        args.json.write_text(json.dumps({"counts": counts, "cases": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
