"""Search Self-play's outer loop: rounds of search QA episodes over one question pool.

Search Self-play (SSP, Lu et al., 2025) trains one model as both the proposer (it
writes a question whose answer it found by searching) and the solver (it answers the
question by searching). What makes the loop work sits between episodes, in the
question pool (``selfplay_envs.games.search_qa.pool``):

* each valid question is stored with its answer, its evidence and its trajectory's
  retrieved block;
* when a proposed question is invalid (it fails the filters or the RAG check), the
  proposer scores 0 and the solver is served a stored valid question instead, so the
  solver's batch stays full;
* the RAG check's noise is drawn from the blocks of *other* trajectories in the pool.

``SSPLoop`` plays a round of ``episodes_per_round`` episodes at a time through the
``BatchInferenceAdapter`` (scripted policies or ``LLMPolicy`` alike), with the env's
SSP preset and the pool attached, and reports what each round did: valid questions,
refills, the solver's score. ``state_dict()`` holds the round counter, the pool and
the history, so a killed run resumes with identical results; policies that carry
their own random state are rebuilt each round from a seed (pass a factory).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from selfplay_agents.adapter import BatchInferenceAdapter, Trajectory
from selfplay_agents.policy import Policy
from selfplay_envs.games.search_qa.pool import FifoQuestionPool

__all__ = ["SSPRound", "SSPLoop"]

ENV_ID = "search_qa_v0"

PolicySpec = Policy | Mapping[str | int, Policy]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SSPRound:
    """What one round did (``trajectories`` are not kept in ``SSPLoop.history``)."""

    round: int
    episodes: int
    valid_questions: int
    refills: int
    solver_score: float  # mean SSP solver reward over episodes the solver played
    pool_size: int
    trajectories: tuple[Trajectory, ...] = ()

    def summary(self) -> dict[str, Any]:
        """The round without its trajectories (JSON-friendly)."""
        data = dataclasses.asdict(self)
        del data["trajectories"]
        return data


class SSPLoop:
    """Rounds of SSP episodes sharing one question pool.

    Args:
        policies: The policies (one for both seats in self-play, or a mapping as
            ``BatchInferenceAdapter`` takes), or a factory ``seed -> policies`` called
            at the start of each round, for policies with random state of their own.
        episodes_per_round: Episodes played at once in a round.
        pool: The question pool (default: a ``FifoQuestionPool`` of 256).
        seed: Round ``r``'s episodes are seeded from ``seed + r * episodes_per_round``.
        **config: Parameters of ``search_qa_v0``; ``preset`` defaults to ``"ssp"``.
    """

    def __init__(
        self,
        policies: PolicySpec | Callable[[int], PolicySpec],
        *,
        episodes_per_round: int = 16,
        pool: FifoQuestionPool | None = None,
        seed: int = 0,
        **config: Any,
    ):
        if episodes_per_round < 1:
            raise ValueError(
                f"expected episodes_per_round >= 1, got {episodes_per_round}"
            )
        if "question_pool" in config:
            raise ValueError("expected the pool as pool=, got question_pool= in config")
        self.policies = policies
        self.episodes_per_round = episodes_per_round
        self.pool = pool if pool is not None else FifoQuestionPool()
        self.seed = seed
        self.config = {"preset": "ssp", **config}
        self.round = 0
        self.history: list[dict[str, Any]] = []

    def run_round(self) -> SSPRound:
        """Play one round; the pool fills with its valid questions."""
        first_seed = self.seed + self.round * self.episodes_per_round
        adapter = BatchInferenceAdapter(
            ENV_ID,
            self._policies(first_seed),
            num_envs=self.episodes_per_round,
            seed=first_seed,
            question_pool=self.pool,
            **self.config,
        )
        trajectories = adapter.run(self.episodes_per_round).trajectories
        result = _summarise(self.round, trajectories, len(self.pool))
        self.history.append(result.summary())
        self.round += 1
        return result

    def run(self, rounds: int) -> list[SSPRound]:
        """Play ``rounds`` rounds."""
        return [self.run_round() for _ in range(rounds)]

    def _policies(self, seed: int) -> PolicySpec:
        if callable(self.policies) and not isinstance(self.policies, (Policy, Mapping)):
            return self.policies(seed)
        return self.policies

    def state_dict(self) -> dict[str, Any]:
        """Round counter, pool and history (JSON-friendly)."""
        return {
            "round": self.round,
            "seed": self.seed,
            "episodes_per_round": self.episodes_per_round,
            "pool": self.pool.state_dict(),
            "history": [dict(h) for h in self.history],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""
        self.round = int(state["round"])
        self.seed = int(state["seed"])
        self.episodes_per_round = int(state["episodes_per_round"])
        self.pool.load_state_dict(state["pool"])
        self.history = [dict(h) for h in state["history"]]


def _summarise(
    round_index: int, trajectories: list[Trajectory], pool_size: int
) -> SSPRound:
    valid = refills = 0
    scores = []
    for trajectory in trajectories:
        info = next(iter(trajectory.final_infos.values()))
        valid += bool(info["validity"]["valid"])
        refills += info["served_from_pool"] is not None
        solver = info["ssp_reward"]["solver"]
        if solver is not None:  # None: an invalid question and nothing to serve
            scores.append(float(solver))
    return SSPRound(
        round=round_index,
        episodes=len(trajectories),
        valid_questions=valid,
        refills=refills,
        solver_score=sum(scores) / len(scores) if scores else 0.0,
        pool_size=pool_size,
        trajectories=tuple(trajectories),
    )
