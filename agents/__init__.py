"""agents: policies that play selfplay-envs games.

Scripted and optimal opponents, LLM policies, inference backends and the batch-inference
adapter. ``selfplay_envs`` never imports this package; this package imports it.
"""

from agents.policy import Policy, RandomPolicy, Turn, policy_from_callable

__all__ = ["Policy", "RandomPolicy", "Turn", "policy_from_callable"]
