"""agents: policies that play selfplay-envs games.

Scripted and optimal opponents, LLM policies, inference backends and the batch-inference
adapter. ``selfplay_envs`` never imports this package; this package imports it. Nothing
here imports torch, transformers, vllm or httpx until a backend is built.
"""

from selfplay_agents.adapter import (
    BatchInferenceAdapter,
    RunStats,
    Trajectory,
    TurnSample,
)
from selfplay_agents.inference import (
    Message,
    Request,
    Result,
    SamplingParams,
    make_backend,
)
from selfplay_agents.llm import Decision, Generation, LLMPolicy
from selfplay_agents.policy import Policy, RandomPolicy, Turn, policy_from_callable
from selfplay_agents.prompts import AnswerStyle, PromptTemplate

__all__ = [
    "AnswerStyle",
    "BatchInferenceAdapter",
    "Decision",
    "Generation",
    "LLMPolicy",
    "Message",
    "Policy",
    "PromptTemplate",
    "RandomPolicy",
    "Request",
    "Result",
    "RunStats",
    "SamplingParams",
    "Trajectory",
    "TurnSample",
    "Turn",
    "make_backend",
    "policy_from_callable",
]
