"""Fuzz every env with adversarial and random replies: exceptions, hangs, zero sums.

Each env gets ``--replies`` replies (default 100,000), split evenly between its AEC
and its Parallel form, episode by episode. A reply is drawn from
``selfplay_envs.test.adversarial.random_reply`` (random characters, random code
points, a mixture of the tag fragments the parsers look for, or one of the
adversarial families: unclosed tags, fences, bracket runs, nested ``\\boxed{}``,
NULs and control characters, one character repeated, ...), or, one time in
``--valid-every``, a well-formed move (the state's ``example_actions``, else a tag
the game reads), so that games also reach their natural ends; one reply in
``--long-every`` is a family longer than the env's ``max_text_length`` (up to twice
it), so the cut is exercised too. Each episode draws its invalid-move policy (retry,
loss or penalty) and its seed.

Counted per env and form:

* **exceptions**: any exception out of ``reset`` or ``step`` (grouped by type and
  message; the first traceback of each is kept). The env is then reset.
* **hangs**: steps that took more than ``--hang-seconds`` of wall-clock time.
* **non-zero-sum episodes**: for games whose ``GameInfo.zero_sum`` is set, finished
  episodes whose returns do not sum to zero.

``bug_repair_v0`` runs its tools in a sandbox (a shell command takes about 0.4 s and
a reset about 0.2 s), so it is fuzzed on its parse path only: its replies go through
``env.step`` like everyone's, under a retry policy that never forfeits, and a reply
that would be a valid tool call (checked with the tool-call parser first) is counted
as ``skipped_valid`` and not sent; the env is reset every ``--bug-repair-episode``
replies. Its episodes never end, so it has no zero-sum count.

Usage::

    python benchmarks/bench_fuzz.py --replies 100000 --out bench_fuzz.json
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import math
import platform
import sys
import time
import traceback
from typing import Any

import numpy as np

import selfplay_envs
from selfplay_envs.test import unavailable_reason
from selfplay_envs.test.adversarial import FAMILIES, random_reply

APIS = ("aec", "parallel")
MODES = ("retry", "loss", "penalty")
PARSE_ONLY = ("bug_repair_v0",)
# Well-formed moves for games whose states list no example replies.
WELL_FORMED = (
    "<search>capital city</search>",
    "<question>Which city is the capital of the country that borders the"
    " sea to its west?</question>",
    "<answer>Paris</answer>",
    "\\boxed{It has four legs.}",
    "\\boxed{1}",
    "\\boxed{N/A}",
    "[Accept]",
    "[Pass]",
    "\\boxed{4}",
    "\\boxed{bet}",
)


@dataclasses.dataclass(kw_only=True)
class Tally:
    """What one env's form did with its replies."""

    env_id: str
    api: str
    replies: int = 0
    steps: int = 0
    episodes: int = 0
    finished: int = 0  # episodes that reached their end (terminated or truncated)
    truncated_replies: int = 0
    skipped_valid: int = 0
    exceptions: int = 0
    hangs: int = 0
    non_zero_sum: int = 0
    zero_sum_checked: bool = False
    seconds: float = 0.0  # wall-clock time of the steps
    cpu_seconds: float = 0.0
    elapsed_seconds: float = 0.0  # the whole run of this form, replies drawn included
    max_step_seconds: float = 0.0
    errors: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    hang_examples: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    sum_examples: list[list[float]] = dataclasses.field(default_factory=list)
    step_times: list[float] = dataclasses.field(default_factory=list, repr=False)

    def error(self, err: BaseException) -> None:
        """Count an exception, grouped by type and message."""
        self.exceptions += 1
        key = f"{type(err).__name__}: {str(err)[:200]}"
        entry = self.errors.setdefault(
            key, {"count": 0, "traceback": traceback.format_exc(limit=8)}
        )
        entry["count"] += 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, with step-time percentiles."""
        out = dataclasses.asdict(self)
        times = np.asarray(out.pop("step_times") or [0.0])
        out["step_ms"] = {
            "mean": float(times.mean() * 1e3),
            "p99": float(np.percentile(times, 99) * 1e3),
            "max": float(times.max() * 1e3),
        }
        return out


class Fuzzer:
    """Plays one env's form with fuzzed replies until its share is sent."""

    def __init__(self, env_id: str, api: str, args: argparse.Namespace, seed: int):
        self.env_id = env_id
        self.api = api
        self.args = args
        self.rng = np.random.default_rng(seed)
        self.parse_only = env_id in PARSE_ONLY
        self.tally = Tally(env_id=env_id, api=api)
        self.env: Any = None
        info = selfplay_envs.make_game(env_id).info
        self.limit = info.max_text_length
        self.zero_sum = info.zero_sum
        self.tally.zero_sum_checked = self.zero_sum and not self.parse_only
        self._since_reset = 0

    # ---- replies ------------------------------------------------------------------

    def reply(self, player: int) -> str:
        """One fuzzed reply for ``player``."""
        rng, args = self.rng, self.args
        if args.long_every and rng.integers(args.long_every) == 0:
            names = sorted(FAMILIES)
            name = names[int(rng.integers(len(names)))]
            return FAMILIES[name](int(rng.integers(self.limit, 2 * self.limit + 1)))
        if args.valid_every and rng.integers(args.valid_every) == 0:
            examples = self.env.episode.state.example_actions(player) or WELL_FORMED
            return examples[int(rng.integers(len(examples)))]
        return random_reply(rng, args.max_chars)

    # ---- episodes -----------------------------------------------------------------

    def _new_env(self) -> None:
        maker = selfplay_envs.make if self.api == "aec" else selfplay_envs.make_parallel
        if self.parse_only:
            policy = {"mode": "retry", "max_retries": 10**9}
            self.env = maker(self.env_id, invalid_move=policy, max_attempts=10**9)
        else:
            mode = MODES[int(self.rng.integers(len(MODES)))]
            self.env = maker(self.env_id, invalid_move={"mode": mode})

    def _reset(self) -> bool:
        """A new episode (a new env when the policy is redrawn); False on an error."""
        tally = self.tally
        try:
            if self.env is None or not self.parse_only:
                if self.env is not None:
                    self.env.close()
                self._new_env()
            self.env.reset(seed=int(self.rng.integers(2**31)))
        except Exception as err:  # noqa: BLE001 - counting them is the point
            tally.error(err)
            self.env = None
            return False
        tally.episodes += 1
        self._since_reset = 0
        return True

    def _timed(self, call, *arg) -> Any:
        tally = self.tally
        wall, cpu = time.perf_counter(), time.process_time()
        result = call(*arg)
        wall = time.perf_counter() - wall
        tally.cpu_seconds += time.process_time() - cpu
        tally.seconds += wall
        tally.steps += 1
        tally.step_times.append(wall)
        tally.max_step_seconds = max(tally.max_step_seconds, wall)
        if wall > self.args.hang_seconds:
            tally.hangs += 1
            if len(tally.hang_examples) < 10:
                tally.hang_examples.append({"seconds": wall, "reply": self._last[:80]})
        return result

    def _check_end(self) -> None:
        episode = self.env.episode
        self.tally.finished += 1
        if self.tally.zero_sum_checked:
            returns = episode.returns()
            if not math.isclose(sum(returns), 0.0, abs_tol=1e-9):
                self.tally.non_zero_sum += 1
                if len(self.tally.sum_examples) < 10:
                    self.tally.sum_examples.append(list(returns))

    def _count_cut(self, text: str) -> None:
        if len(text) > self.limit:
            self.tally.truncated_replies += 1

    def _skip(self, player: int, text: str) -> bool:
        """Parse-only envs: a reply that would run a tool is not sent."""
        if not self.parse_only:
            return False
        if self.env.episode.state.parse_action(player, text[: self.limit]).ok:
            self.tally.skipped_valid += 1
            return True
        return False

    def run(self, budget: int, progress) -> Tally:
        """Send ``budget`` replies; ``progress(n)`` is told of each ``n`` sent."""
        tally = self.tally
        while tally.replies + tally.skipped_valid < budget:
            if self.env is None or self.env.episode is None or self._needs_reset():
                if not self._reset():
                    continue
            before = tally.replies + tally.skipped_valid
            try:
                if self.api == "aec":
                    self._aec_step()
                else:
                    self._parallel_step()
            except Exception as err:  # noqa: BLE001 - counting them is the point
                tally.error(err)
                self.env = None
            progress(tally.replies + tally.skipped_valid - before)
        return tally

    def _needs_reset(self) -> bool:
        if self.parse_only and self._since_reset >= self.args.bug_repair_episode:
            return True
        return self.env.episode.done

    def _aec_step(self) -> None:
        env = self.env
        episode = env.episode
        player = episode.acting()[0]
        text = self._last = self.reply(player)
        self._since_reset += 1
        if self._skip(player, text):
            return
        self._count_cut(text)
        self.tally.replies += 1
        self._timed(env.step, text)
        if episode.done:
            self._check_end()

    def _parallel_step(self) -> None:
        env = self.env
        episode = env.episode
        actions = {}
        for agent in env.agents:
            player = env.possible_agents.index(agent)
            text = self._last = self.reply(player)
            self._since_reset += 1
            if player in episode.acting() and self._skip(player, text):
                continue
            actions[agent] = text
        acting = [env.possible_agents[p] for p in episode.acting()]
        sent = [a for a in acting if a in actions]
        if not sent:
            return
        for agent in sent:
            self._count_cut(actions[agent])
        self.tally.replies += len(sent)
        self._timed(env.step, actions)
        if episode.done:
            self._check_end()


def fuzz(args: argparse.Namespace) -> list[Tally]:
    """Fuzz every selected env in both forms, with a progress bar."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    env_ids = args.envs.split(",") if args.envs else selfplay_envs.list_envs()
    tallies: list[Tally] = []
    columns = (
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, disable=args.quiet) as progress:
        for e, env_id in enumerate(env_ids):
            reason = unavailable_reason(env_id)
            if reason:
                print(f"{env_id}: skipped ({reason})", file=sys.stderr)
                continue
            for a, api in enumerate(APIS):
                budget = args.replies // 2 + (args.replies % 2 if a == 0 else 0)
                task = progress.add_task(f"{env_id} {api}", total=budget)
                fuzzer = Fuzzer(env_id, api, args, seed=args.seed + 1000 * e + a)
                started = time.perf_counter()
                tally = fuzzer.run(budget, lambda n, t=task: progress.advance(t, n))
                tally.elapsed_seconds = time.perf_counter() - started
                if fuzzer.env is not None:
                    fuzzer.env.close()
                tallies.append(tally)
    return tallies


def to_markdown(tallies: list[Tally], args: argparse.Namespace) -> str:
    """One table row per env and form."""
    rows = [
        "| env | form | replies | episodes (ended) | exceptions | hangs "
        f"(> {args.hang_seconds:g} s) | non-zero-sum | cut | max step | time |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in tallies:
        sums = str(t.non_zero_sum) if t.zero_sum_checked else "n/a"
        replies = f"{t.replies:,}"
        if t.skipped_valid:
            replies += f" (+{t.skipped_valid:,} valid, not sent)"
        rows.append(
            f"| {t.env_id} | {t.api} | {replies} | {t.episodes:,} ({t.finished:,}) "
            f"| {t.exceptions} | {t.hangs} | {sums} | {t.truncated_replies:,} "
            f"| {t.max_step_seconds * 1e3:.0f} ms | {t.elapsed_seconds:.0f} s |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer, print the table, write JSON to ``--out``; 1 on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--replies",
        type=int,
        default=100_000,
        help="replies per env (half to the AEC form, half to the Parallel form)",
    )
    parser.add_argument("--envs", default="", help="comma-separated ids (all)")
    parser.add_argument("--max-chars", type=int, default=4096, help="random replies")
    parser.add_argument("--valid-every", type=int, default=4, help="0: never")
    parser.add_argument("--long-every", type=int, default=200, help="0: never")
    parser.add_argument("--hang-seconds", type=float, default=2.0)
    parser.add_argument("--bug-repair-episode", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    tallies = fuzz(args)
    elapsed = time.perf_counter() - start
    table = to_markdown(tallies, args)
    sys.stdout.write(table + "\n")
    failures = sum(t.exceptions + t.hangs + t.non_zero_sum for t in tallies)
    errors = collections.Counter()
    for t in tallies:
        for key, entry in t.errors.items():
            errors[f"{t.env_id} {t.api}: {key}"] += entry["count"]
    for key, count in errors.most_common(20):
        sys.stdout.write(f"{count:6d} x {key}\n")
    if args.out:
        payload = {
            "config": vars(args),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "elapsed_seconds": elapsed,
            "results": [t.to_dict() for t in tallies],
            "failures": failures,
            "markdown": table,
        }
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
