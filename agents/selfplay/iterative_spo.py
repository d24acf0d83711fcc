"""Vision-Zero's Iterative Self-Play Policy Optimization: which stage trains now.

Vision-Zero (Wang et al., 2025) trains the Who-Is-the-Spy players in two stages that
alternate: the **clue** stage (the clue turns carry gradient) and the **decision**
stage (the vote turns do). Training only one stage at a time keeps the two rewards
from pulling against each other; switching keeps either side from running away.

``StageScheduler`` decides the stage from two signals of each training iteration's
decision stage: the civilians' vote accuracy and their N/A (abstain) rate. Both are
smoothed by an exponential moving average (weight ``rho`` on the old value; the first
observation starts it). The switches have hysteresis, so the stage does not flicker:

* in the **decision** stage, once the votes are good (accuracy EMA >= ``acc_up`` and
  N/A EMA <= ``na_down``), the players have learnt to decide: go to the clue stage;
* in the **clue** stage, once the clues make deciding hard (error EMA = 1 - accuracy
  EMA >= ``err_up``, or N/A EMA >= ``na_up``), go back to the decision stage;
* a stage lasts at least ``min_iterations`` and at most ``max_iterations``.

The defaults are the Table 5 values of a reimplementation of the paper: rho 0.95,
acc_up 0.9, err_up 0.4, na_up 0.5, na_down 0.1, min 5, max 20. Vision-Zero's released
code alternates the stages every iteration instead: ``cycle=1`` (any ``cycle=k``
switches every k iterations and ignores the signals).

The scheduler only decides: ``mark(rows)`` flags the exported trainer rows of the
other stage ``trainable=False`` (they stay in the batch, so the trainer can log them),
and ``decision_stats`` reads the two signals from finished episodes' final infos.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from selfplay_agents.export import TrainerRow

__all__ = [
    "CLUE",
    "DECISION",
    "StageThresholds",
    "StageScheduler",
    "decision_stats",
]

CLUE, DECISION = "clue", "decision"
#: The game phase whose turns each stage trains (``infos["phase"]`` of the spy game).
PHASE_OF_STAGE = {CLUE: "clue", DECISION: "vote"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class StageThresholds:
    """The scheduler's smoothing and hysteresis (see the module docstring)."""

    rho: float = 0.95
    acc_up: float = 0.9
    err_up: float = 0.4
    na_up: float = 0.5
    na_down: float = 0.1
    min_iterations: int = 5
    max_iterations: int = 20

    def __post_init__(self) -> None:
        if not 0.0 <= self.rho < 1.0:
            raise ValueError(f"expected 0 <= rho < 1, got {self.rho}")
        for name in ("acc_up", "err_up", "na_up", "na_down"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"expected 0 <= {name} <= 1, got {value}")
        if not 1 <= self.min_iterations <= self.max_iterations:
            raise ValueError(
                "expected 1 <= min_iterations <= max_iterations, got "
                f"{self.min_iterations} and {self.max_iterations}"
            )


class StageScheduler:
    """The stage of each iteration; feed it each iteration's decision statistics.

    Args:
        thresholds: Smoothing and hysteresis; the paper's defaults.
        cycle: Switch every ``cycle`` iterations regardless of the signals (the
            released code: 1); ``None`` uses the thresholds.
        start: The first stage.
    """

    def __init__(
        self,
        thresholds: StageThresholds | None = None,
        *,
        cycle: int | None = None,
        start: str = CLUE,
    ):
        if cycle is not None and cycle < 1:
            raise ValueError(f"expected cycle >= 1 or None, got {cycle}")
        if start not in PHASE_OF_STAGE:
            raise ValueError(
                f"expected start in {tuple(PHASE_OF_STAGE)}, got {start!r}"
            )
        self.thresholds = thresholds or StageThresholds()
        self.cycle = cycle
        self.stage = start
        self.iterations_in_stage = 0
        self.accuracy: float | None = None  # the EMAs; None before the first update
        self.na_rate: float | None = None
        self.history: list[dict[str, Any]] = []

    def update(self, accuracy: float, na_rate: float) -> str:
        """Fold one iteration's statistics in; return the next iteration's stage."""
        for name, value in (("accuracy", accuracy), ("na_rate", na_rate)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"expected 0 <= {name} <= 1, got {value}")
        self.accuracy = self._smooth(self.accuracy, accuracy)
        self.na_rate = self._smooth(self.na_rate, na_rate)
        self.iterations_in_stage += 1
        trained, switched = self.stage, self._should_switch()
        if switched:
            self.stage = CLUE if self.stage == DECISION else DECISION
            self.iterations_in_stage = 0
        self.history.append(
            {
                "stage": trained,
                "accuracy": accuracy,
                "na_rate": na_rate,
                "accuracy_ema": self.accuracy,
                "na_rate_ema": self.na_rate,
                "switched": switched,
            }
        )
        return self.stage

    def _smooth(self, old: float | None, value: float) -> float:
        rho = self.thresholds.rho
        return value if old is None else rho * old + (1 - rho) * value

    def _should_switch(self) -> bool:
        t, n = self.thresholds, self.iterations_in_stage
        if self.cycle is not None:
            return n >= self.cycle
        if n < t.min_iterations:
            return False
        if n >= t.max_iterations:
            return True
        assert self.accuracy is not None and self.na_rate is not None
        if self.stage == DECISION:  # the votes are learnt: train the clues
            return self.accuracy >= t.acc_up and self.na_rate <= t.na_down
        # the clues made deciding hard: train the votes
        return 1.0 - self.accuracy >= t.err_up or self.na_rate >= t.na_up

    def trains(self, phase: str) -> bool:
        """Whether a turn of game phase ``phase`` carries gradient in this stage."""
        return phase == PHASE_OF_STAGE[self.stage]

    def mark(self, rows: Sequence[TrainerRow]) -> list[TrainerRow]:
        """The rows with ``trainable`` set: only the current stage's phase trains."""
        return [
            dataclasses.replace(row, trainable=self.trains(row.phase)) for row in rows
        ]

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue (JSON-serialisable)."""
        return {
            "thresholds": dataclasses.asdict(self.thresholds),
            "cycle": self.cycle,
            "stage": self.stage,
            "iterations_in_stage": self.iterations_in_stage,
            "accuracy": self.accuracy,
            "na_rate": self.na_rate,
            "history": [dict(h) for h in self.history],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""
        self.thresholds = StageThresholds(**state["thresholds"])
        self.cycle = state["cycle"]
        self.stage = state["stage"]
        self.iterations_in_stage = state["iterations_in_stage"]
        self.accuracy = state["accuracy"]
        self.na_rate = state["na_rate"]
        self.history = [dict(h) for h in state["history"]]


def decision_stats(
    final_infos: Iterable[Mapping[str, Mapping[str, Any]]],
) -> tuple[float, float]:
    """(accuracy, N/A rate) of the civilians' votes over finished spy games.

    ``final_infos`` holds one mapping per game, agent -> its final info (the env's
    ``infos`` once the game is over: every seat's holds ``spy`` and ``votes``). A
    civilian's vote is correct when it names the spy; an invalid vote counts as wrong.
    Raises ``ValueError`` for a game that is not over, or when no civilian voted.
    """
    votes = correct = abstained = 0
    for infos in final_infos:
        info = next(iter(infos.values()), {})
        if "votes" not in info:  # not over, or ended by a forfeit before the vote
            raise ValueError(
                "expected the final infos of a finished spy game that reached the "
                f"vote, got one with {sorted(info)[:6]}"
            )
        spy = int(info["spy"])
        for seat, vote in enumerate(info["votes"]):
            if (
                seat == spy or vote is None
            ):  # the spy's vote, or a seat that did not vote
                continue
            votes += 1
            correct += vote == str(spy + 1)
            abstained += vote == "N/A"
    if not votes:
        raise ValueError("expected finished spy games with civilian votes, got none")
    return correct / votes, abstained / votes
