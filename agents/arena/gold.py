"""Game-specific gold standards next to the ratings.

Ratings only rank the pool against itself; these numbers anchor it to something fixed:
exact exploitability for Kuhn poker, loss rate against perfect play for tic-tac-toe and
against MCTS with 100 and 1000 simulations for Connect Four (MARS's evaluation), exact
exploitability for Leduc hold'em and Liar's Dice (OpenSpiel's NashConv),
and the rates each game reports (score against the warrior pool, solve rate, exact
match) through ``info["metrics"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from selfplay_agents.arena.report import played
from selfplay_agents.arena.runner import finished

__all__ = ["gold_standards"]

KUHN_SAMPLES = 400
LEDUC_SAMPLES = 20  # per information state, for black-box policies (936 states)


def gold_standards(
    summary: dict[str, Any], records: Sequence[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Gold-standard numbers per game, for the agents of the run.

    Errored games are no results: they are left out, and a game whose every game
    errored gets no gold standard.
    """
    records = finished(records)
    summary = {env_id: summary[env_id] for env_id in played(summary)}
    gold: dict[str, dict[str, Any]] = {}
    if "tic_tac_toe_v0" in summary:
        gold["tic_tac_toe_v0"] = _loss_rate_vs(records, "tic_tac_toe_v0", "minimax")
    if "connect_four_v0" in summary:  # MARS evaluates against MCTS at these budgets
        gold["connect_four_v0"] = {
            **_loss_rate_vs(records, "connect_four_v0", "mcts100"),
            **_loss_rate_vs(records, "connect_four_v0", "mcts1000"),
        }
    for env_id, exploitability in _SOLVED_GAMES.items():
        if env_id in summary:
            gold[env_id] = _exploitability(
                env_id, summary[env_id]["agents"], exploitability
            )
    if "kuhn_poker_v0" in summary:
        gold["kuhn_poker_v0"] = _kuhn_exploitability(summary["kuhn_poker_v0"]["agents"])
    for env_id, game in summary.items():
        for spec, metrics in game["metrics"].items():
            for name, value in metrics.items():
                gold.setdefault(env_id, {})[f"{name} ({spec})"] = round(value, 4)
    return gold


def _loss_rate_vs(records, env_id: str, reference: str) -> dict[str, Any]:
    """Share of games each agent lost against ``reference``."""
    out = {}
    for r in records:
        if r["env_id"] != env_id or reference not in (r["a"], r["b"]):
            continue
        agent = r["b"] if r["a"] == reference else r["a"]
        lost = r["score_a"] == (1.0 if r["a"] == reference else 0.0)
        games, losses = out.get(agent, (0, 0))
        out[agent] = (games + 1, losses + int(lost))
    return {
        f"loss rate vs {reference} ({agent})": round(losses / games, 4)
        for agent, (games, losses) in sorted(out.items())
    }


def _leduc(policy: Any, exact: bool) -> float:
    from selfplay_agents.analysis.leduc import exploitability

    return exploitability(policy, samples=1 if exact else LEDUC_SAMPLES)


def _liars_dice(policy: Any, exact: bool) -> float | None:
    from selfplay_agents.analysis.liars_dice import exploitability

    # Exact only: a black-box policy's 24,576 information states are not sampled.
    return exploitability(policy) if exact else None


#: Games whose exploitability OpenSpiel computes exactly: env id -> how.
_SOLVED_GAMES = {"leduc_poker_v0": _leduc, "liars_dice_v0": _liars_dice}


def _exploitability(env_id: str, agents: Sequence[str], how: Any) -> dict[str, Any]:
    """Exploitability (NashConv / 2) of each agent of ``env_id`` that can be scored."""
    from selfplay_agents.arena.specs import build_policy

    out = {}
    for spec in agents:
        if spec.startswith("llm:"):
            continue
        policy = build_policy(spec, env_id, seed=0, config={})
        value = how(policy, hasattr(policy, "action_probabilities"))
        if value is not None:
            out[f"exploitability ({spec})"] = round(float(value), 6)
    return out


def _kuhn_exploitability(agents: Sequence[str]) -> dict[str, Any]:
    """Exploitability (NashConv / 2) of each agent's Kuhn strategy.

    Exact for policies that expose ``action_probabilities`` (Nash, CFR); others are
    asked ``KUHN_SAMPLES`` times per information state, so their figure is an estimate
    of their mixed strategy.
    """
    from selfplay_agents.analysis.kuhn import exploitability
    from selfplay_agents.arena.specs import build_policy

    out = {}
    for spec in agents:
        if spec.startswith("llm:"):
            continue  # querying an LLM on 12 states is possible but not free: opt-in
        policy = build_policy(spec, "kuhn_poker_v0", seed=0, config={})
        exact = hasattr(policy, "action_probabilities")
        value = exploitability(policy, samples=1 if exact else KUHN_SAMPLES)
        out[f"exploitability ({spec})"] = round(float(value), 4 if not exact else 6)
    return out
