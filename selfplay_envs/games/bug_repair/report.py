"""The outcome of one test run, as the verdict runner reported it.

Built by ``verdict.run_verdict`` from the signed records of the run; the code under
test writes no part of it.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping

__all__ = ["Outcome", "TestReport"]


class Outcome(str, enum.Enum):
    """The result of one test case."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclasses.dataclass(frozen=True, kw_only=True)
class TestReport:
    """Outcomes of one test run, by test id (``classname::name``).

    Attributes:
        outcomes: Test id -> outcome.
        messages: Test id -> failure or error text (truncated), for failing tests.
        exit_code: The test command's exit code (``None`` if it never finished).
        timed_out: The run hit its time limit.
        error: Why there is no usable report ("" when there is one).
        tampering: What the verdict runner caught the code under test doing (a
            forged channel line, a patched builtin, a run cut short). A report with
            any tampering has no passing test.
        log: The tail of the run's output (stderr), shown as evidence only.
    """

    __test__ = False  # not a pytest test class, despite the name

    outcomes: Mapping[str, Outcome]
    messages: Mapping[str, str] = dataclasses.field(default_factory=dict)
    exit_code: int | None = None
    timed_out: bool = False
    error: str = ""
    tampering: tuple[str, ...] = ()
    log: str = ""

    def ids(self, outcome: Outcome) -> set[str]:
        """Ids of the tests with ``outcome``."""
        return {t for t, o in self.outcomes.items() if o is outcome}

    @property
    def passed(self) -> set[str]:
        """Ids of the passing tests (none when the run was tampered with)."""
        return set() if self.tampering else self.ids(Outcome.PASSED)

    @property
    def failing(self) -> set[str]:
        """Ids of the tests that failed or errored."""
        return self.ids(Outcome.FAILED) | self.ids(Outcome.ERROR)

    def not_passing(self, tests: Iterable[str]) -> set[str]:
        """Those of ``tests`` that did not pass here (missing ones included)."""
        passed = self.passed
        return {t for t in tests if t not in passed}

    def summary(self) -> str:
        """One line: counts per outcome, and the error if any."""
        counts = {o.value: len(self.ids(o)) for o in Outcome if self.ids(o)}
        text = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no tests ran"
        if self.timed_out:
            text += " (timed out)"
        if self.error:
            text += f" [{self.error}]"
        if self.tampering:
            text += " TAMPERING DETECTED: nothing counts as passed"
        return text

    def to_dict(self, *, max_ids: int = 200) -> dict[str, object]:
        """JSON-friendly evidence: counts, failing ids and their messages."""
        failing = sorted(self.failing)[:max_ids]
        return {
            "summary": self.summary(),
            "passed": len(self.passed),
            "failing": failing,
            "messages": {t: self.messages.get(t, "") for t in failing[:20]},
            "exit_code": self.exit_code,
            "timed_out": self.timed_out,
            "error": self.error,
            "tampering": list(self.tampering),
        }
