"""Self-play drivers: what each source paper does between episodes.

Each driver is a plain object with ``state_dict()`` / ``load_state_dict()`` so a killed
run resumes where it stopped. Drivers work with scripted policies and with
``agents.LLMPolicy`` alike, and stream trajectories with their advantages to a trainer.
Modules (imported on use, so nothing heavy loads here):

* ``selfplay_agents.selfplay.red_queen``: Digital Red Queen's rounds and MAP-Elites (Core War).
* ``selfplay_agents.selfplay.iterative_spo``: Vision-Zero's stage scheduler (Who-Is-the-Spy).
* ``selfplay_agents.selfplay.ssp``: Search Self-play's loop over the question pool (search QA).

Advantages (SPIRAL's RAE, MARS's turn-level, GRPO groups) live in ``selfplay_agents.export``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Resumable"]


@runtime_checkable
class Resumable(Protocol):
    """What every driver offers so a killed run can resume with identical results."""

    def state_dict(self) -> dict[str, Any]:
        """Everything the driver needs to continue: JSON-serialisable where possible."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""
        ...
