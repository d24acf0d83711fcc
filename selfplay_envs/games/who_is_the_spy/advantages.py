"""Vision-Zero's decision-stage advantages: GRPO-style normalisation of the vote terms.

Vision-Zero trains the clue stage with its per-role baseline (``info["clue_advantage"]``)
and the decision stage as GRPO does: each vote's reward minus its group's mean, over
the group's standard deviation. Its released trainer groups the decision samples of
one game (the same pictures and clues) and uses the population standard deviation
with ``eps = 1e-8``, only centring a group whose deviation is (nearly) zero. Here a
group is every vote, of one role, in the episodes that share a key: pass the episode
seed to group the votes of one game and of its replays (GRPO's G episodes per seed).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

__all__ = ["EPS", "group_normalize", "decision_advantages"]

EPS = 1e-8  # the released trainer's epsilon


def group_normalize(
    rewards: Sequence[float], groups: Sequence[Hashable], eps: float = EPS
) -> list[float]:
    """``(r - mean) / (std + eps)`` within each group (population std).

    A group whose std is at most ``eps`` (one reward, or equal ones) is only centred,
    so its rewards become zeros rather than blowing up.
    """
    if len(rewards) != len(groups):
        raise ValueError(
            f"expected one group per reward, got {len(rewards)} rewards and "
            f"{len(groups)} groups"
        )
    members: dict[Hashable, list[float]] = defaultdict(list)
    for reward, group in zip(rewards, groups, strict=True):
        members[group].append(float(reward))
    stats = {}
    for group, values in members.items():
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        stats[group] = (mean, std + eps if std > eps else 1.0)
    return [
        (float(r) - stats[g][0]) / stats[g][1]
        for r, g in zip(rewards, groups, strict=True)
    ]


def decision_advantages(
    games: Sequence[tuple[Hashable, Mapping[str, Mapping[str, Any]]]],
    eps: float = EPS,
) -> list[dict[str, float]]:
    """Each voter's normalised ``vote_reward``, per finished game.

    Args:
        games: ``(key, final_infos)`` per game: a group key (the seed, say) and the
            final ``infos`` of every agent (they hold ``seat``, ``is_spy``, ``votes``
            and ``vote_reward``).
        eps: Added to each group's std.

    Returns:
        Per game, ``{agent: advantage}`` for the agents that voted. Votes are grouped
        by ``(key, role)``: the spy's own votes (``spy_votes=True``) have other
        rewards and are normalised among themselves.
    """
    where, rewards, groups = [], [], []
    for index, (key, infos) in enumerate(games):
        for agent, info in infos.items():
            if info["votes"][info["seat"]] is None:
                continue  # a seat that did not vote has no decision-stage sample
            where.append((index, agent))
            rewards.append(float(info["vote_reward"]))
            groups.append((key, "spy" if info["is_spy"] else "civilian"))
    result: list[dict[str, float]] = [{} for _ in games]
    for (index, agent), value in zip(
        where, group_normalize(rewards, groups, eps), strict=True
    ):
        result[index][agent] = value
    return result
