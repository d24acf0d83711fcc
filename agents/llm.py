"""``LLMPolicy``: a language model behind any inference backend, playing any game.

For each pending turn the policy builds a chat (system prompt with the game's rules,
then the observation and the answer instruction), asks its backend for a completion and
returns the completion text as the action: the env's own parser extracts and checks the
move, so parsing is written once, in the game. The policy only pre-checks the text with
``extract_answer`` in the formats of its answer style and, when no answer is found,
samples again, up to ``retries`` times, all turns of a batch in one backend call per
round.

History, per seat of each game: ``"last"`` sends the current observation only;
``"full"`` replays the seat's earlier observations and replies of this episode as
user/assistant turns. Thinking: ``thinking="strip"`` removes ``<think>...</think>`` from
replies kept in history; ``"keep"`` keeps them. Qwen3's chat template removes the think
block of every assistant turn before the last user message by itself, so with Qwen3
``"keep"`` has no effect unless you swap in a template that keeps reasoning; pass
``chat_template_kwargs={"enable_thinking": False}`` to switch Qwen3's thinking off.

Images: an observation's ``"image"`` entry (one ``uint8`` array or a list of them, as
in the spy game) rides on the current user message for VLM backends (transformers with
a vision-language model, vllm, openai). With ``history="full"`` earlier turns replay
their text only: each prompt carries the current picture, which is the one a trainer
rebuilds from the hashes the adapter records (``TurnSample.images``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from selfplay_agents.inference.base import (
    InferenceBackend,
    Message,
    Request,
    Result,
    SamplingParams,
)
from selfplay_agents.policy import Turn
from selfplay_agents.prompts import (
    STYLE_FORMATS,
    STYLE_INSTRUCTIONS,
    STYLE_WRAPPERS,
    AnswerStyle,
    PromptTemplate,
    template_for,
)
from selfplay_envs.core.errors import InfrastructureError
from selfplay_envs.core.parsing import extract_answer

__all__ = [
    "CallMeter",
    "Decision",
    "Generation",
    "HistoryMode",
    "LLMPolicy",
    "ThinkingMode",
    "adecide_many",
    "decide_many",
    "policy_from_spec",
    "strip_think",
]

_THINK = re.compile(r"<think>.*?(?:</think>|$)\s*", re.DOTALL | re.IGNORECASE)


class HistoryMode(str, enum.Enum):
    """What a seat's prompt holds of its past turns."""

    FULL = "full"  # every earlier observation and reply of this episode
    LAST = "last"  # the current observation only


class ThinkingMode(str, enum.Enum):
    """What happens to ``<think>`` blocks of replies kept in history."""

    KEEP = "keep"
    STRIP = "strip"


def strip_think(text: str) -> str:
    """``text`` without ``<think>...</think>`` blocks (an unclosed one runs to the end)."""
    return _THINK.sub("", text).strip()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Generation:
    """One completion, as a trainer needs it.

    Attributes:
        text: The completion text.
        prompt_token_ids: Prompt tokens (chat template applied).
        completion_token_ids: Generated tokens.
        logprobs: Logprob of each generated token, or ``None``.
        finish_reason: ``"stop"``, ``"length"`` or ``"error"``.
        error: The backend's error, or ``None``.
        precheck: Why the policy rejected the text (``""`` when it passed).
    """

    text: str
    prompt_token_ids: tuple[int, ...] = ()
    completion_token_ids: tuple[int, ...] = ()
    logprobs: tuple[float, ...] | None = None
    finish_reason: str = "stop"
    error: str | None = None
    precheck: str = ""

    @classmethod
    def from_result(cls, result: Result, precheck: str) -> Generation:
        """Copy a backend ``Result`` and the policy's verdict."""
        return cls(
            text=result.text,
            prompt_token_ids=result.prompt_token_ids,
            completion_token_ids=result.completion_token_ids,
            logprobs=result.logprobs,
            finish_reason=result.finish_reason.value,
            error=result.error,
            precheck=precheck,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (lists, not tuples)."""
        return {
            "text": self.text,
            "prompt_token_ids": list(self.prompt_token_ids),
            "completion_token_ids": list(self.completion_token_ids),
            "logprobs": None if self.logprobs is None else list(self.logprobs),
            "finish_reason": self.finish_reason,
            "error": self.error,
            "precheck": self.precheck,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class Decision:
    """A policy's answer to one turn.

    Attributes:
        action: What goes to the env (text in the text view).
        policy: Name of the policy that decided.
        generation: The completion that became the action (``None`` for policies
            that are not language models).
        rejected: Earlier completions that failed the policy's pre-check, in order.
    """

    action: Any
    policy: str
    generation: Generation | None = None
    rejected: tuple[Generation, ...] = ()


@dataclasses.dataclass
class CallMeter:
    """Counts backend calls, requests, tokens and time (mutable, filled as calls run)."""

    calls: int = 0
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def record(self, results: Sequence[Result], seconds: float) -> None:
        """Add one backend call."""
        self.calls += 1
        self.requests += len(results)
        self.prompt_tokens += sum(len(r.prompt_token_ids) for r in results)
        self.completion_tokens += sum(len(r.completion_token_ids) for r in results)
        self.seconds += seconds


class LLMPolicy:
    """A language model as a ``Policy``: prompts, chat formatting, retries, history.

    Args:
        backend: Any ``InferenceBackend``.
        name: Name in records and tables.
        style: ``"spiral"`` (``\\boxed{}``), ``"mars"`` (``<answer></answer>``) or
            ``"plain"`` (the move alone).
        sampling: Sampling parameters of every request.
        history: ``"last"`` or ``"full"`` (per seat of each game, this episode).
        thinking: ``"strip"`` or ``"keep"`` ``<think>`` blocks in history.
        retries: Extra samples allowed per turn when the reply has no answer in the
            style's format; after that the last reply goes to the env as is.
        retry_feedback: Show the rejected reply and a reminder of the format in the
            retry prompt (otherwise the retry is a fresh sample of the same prompt).
        guided: Constrain decoding to the legal moves (in the style's wrapper) where
            the game lists them, on backends that support it.
        images: Send observation images (VLM backends).
        templates: Prompt templates by env id, overriding ``selfplay_agents.prompts.PROMPTS``.
        system_role: Send the rules as a system message; ``False`` puts them at the
            top of the first user message (for models without a system role).
        chat_template_kwargs: Extra chat-template variables, e.g.
            ``{"enable_thinking": False}``.
        seed: Seeds the per-request seeds.
    """

    def __init__(
        self,
        backend: InferenceBackend,
        *,
        name: str = "llm",
        style: AnswerStyle | str = AnswerStyle.SPIRAL,
        sampling: SamplingParams | None = None,
        history: HistoryMode | str = HistoryMode.LAST,
        thinking: ThinkingMode | str = ThinkingMode.STRIP,
        retries: int = 2,
        retry_feedback: bool = True,
        guided: bool = False,
        images: bool = True,
        templates: Mapping[str, PromptTemplate] | None = None,
        system_role: bool = True,
        chat_template_kwargs: Mapping[str, Any] | None = None,
        seed: int | None = None,
    ):
        if retries < 0:
            raise ValueError(f"expected retries >= 0, got {retries}")
        self.backend = backend
        self.name = name
        self.style = AnswerStyle(style)
        self.sampling = sampling or SamplingParams()
        self.history = HistoryMode(history)
        self.thinking = ThinkingMode(thinking)
        self.retries = retries
        self.retry_feedback = retry_feedback
        self.guided = guided
        self.images = images
        self.templates = dict(templates or {})
        self.system_role = system_role
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.rng = np.random.default_rng(seed)
        # (game_index, agent) -> (episode, [(user message, reply), ...])
        self._memory: dict[tuple[int, str], tuple[int, list[tuple[str, str]]]] = {}

    # ---- the Policy protocol --------------------------------------------------------

    def act(self, turns: Sequence[Turn]) -> list[Any]:
        """One action (completion text) per turn."""
        return [d.action for d in self.decide(turns)]

    def decide(
        self, turns: Sequence[Turn], meter: CallMeter | None = None
    ) -> list[Decision]:
        """Decisions with their generations, for trajectory records."""
        return decide_many([(self, turns)], meter)[0]

    async def adecide(
        self, turns: Sequence[Turn], meter: CallMeter | None = None
    ) -> list[Decision]:
        """Coroutine form of ``decide``."""
        return (await adecide_many([(self, turns)], meter))[0]

    def reset(self, game_index: int | None = None) -> None:
        """Forget the history of one game, or of all games."""
        if game_index is None:
            self._memory.clear()
            return
        for key in [k for k in self._memory if k[0] == game_index]:
            del self._memory[key]

    # ---- prompts --------------------------------------------------------------------

    def template(self, env_id: str) -> PromptTemplate:
        """The prompt template used for ``env_id``."""
        return self.templates.get(env_id) or template_for(env_id)

    def messages(self, turn: Turn) -> list[Message]:
        """The chat sent for ``turn``: rules, this seat's history, the observation."""
        template = self.template(turn.env_id)
        current = template.user_message(_observation_text(turn), self.style)
        past = self._past(turn) if self.history is HistoryMode.FULL else []
        chat: list[Message] = []
        for user, reply in past:
            chat += [
                Message(role="user", content=user),
                Message(role="assistant", content=reply),
            ]
        chat.append(Message(role="user", content=current, images=self.images_for(turn)))
        if self.system_role:
            return [Message(role="system", content=template.system), *chat]
        first = chat[0]
        merged = Message(
            role="user",
            content=f"{template.system}\n\n{first.content}",
            images=first.images,
        )
        return [merged, *chat[1:]]

    def _past(self, turn: Turn) -> list[tuple[str, str]]:
        episode, past = self._memory.get(
            (turn.game_index, turn.agent), (turn.episode, [])
        )
        return past if episode == turn.episode else []

    def images_for(self, turn: Turn) -> tuple[np.ndarray, ...]:
        """The images sent with ``turn``'s prompt (none when ``images=False``).

        Raises ``ValueError`` when the observation has pictures and the backend says
        it serves a text-only model (``accepts_images = False``): every turn would
        otherwise come back as an error and count as an invalid move.
        """
        if not self.images or "image" not in turn.observation:
            return ()
        if not getattr(self.backend, "accepts_images", True):
            raise ValueError(
                f"policy {self.name!r} sends {turn.env_id}'s pictures, but its "
                f"{self.backend.name} backend serves a text-only model: load a "
                "vision-language model, or pass LLMPolicy(images=False) (or the "
                "game's word items) to play on text"
            )
        image = turn.observation["image"]
        if isinstance(image, (list, tuple)):
            return tuple(np.asarray(i) for i in image)
        return (np.asarray(image),)

    def _remember(self, turn: Turn, user: str, reply: str) -> None:
        if self.history is not HistoryMode.FULL:
            return
        if self.thinking is ThinkingMode.STRIP:
            reply = strip_think(reply)
        key = (turn.game_index, turn.agent)
        episode, past = self._memory.get(key, (turn.episode, []))
        if episode != turn.episode:
            past = []
        self._memory[key] = (turn.episode, [*past, (user, reply)])

    def request(self, turn: Turn, messages: Sequence[Message]) -> Request:
        """The backend request for ``turn`` with the chat ``messages``."""
        choices = None
        legal = turn.info.get("legal_actions")
        if self.guided and legal:
            wrapper = STYLE_WRAPPERS[self.style]
            choices = tuple(wrapper.format(move=move) for move in legal)
        return Request(
            messages=tuple(messages),
            sampling=self.sampling,
            seed=int(self.rng.integers(0, 2**31 - 1)),
            choices=choices,
            chat_template_kwargs=self.chat_template_kwargs,
        )

    def precheck(self, result: Result) -> str:
        """Why the completion is not worth sending (``""`` when it is)."""
        if not result.ok:
            return f"backend error: {result.error}"
        answer, _ = extract_answer(result.text, STYLE_FORMATS[self.style])
        if answer is None:
            return f"no answer in the {self.style.value} format"
        return ""

    def feedback(self) -> str:
        """The reminder sent with a retry."""
        return (
            "Your reply did not contain an answer in the required format. "
            + STYLE_INSTRUCTIONS[self.style]
        )


# ---- the retry loop, shared by every policy on one backend --------------------------


@dataclasses.dataclass
class _Pending:
    policy: LLMPolicy
    turn: Turn
    messages: list[Message]
    user: str
    rejected: list[Generation] = dataclasses.field(default_factory=list)
    decision: Decision | None = None


class _DecideRun:
    """The rounds of one batched decision: request, check, retry the failures."""

    def __init__(self, jobs: Sequence[tuple[LLMPolicy, Sequence[Turn]]]):
        backends = {id(policy.backend) for policy, _ in jobs}
        if len(backends) > 1:
            raise ValueError(
                f"expected policies sharing one backend, got {len(backends)}"
            )
        self.backend = jobs[0][0].backend if jobs else None
        self.jobs: list[list[_Pending]] = []
        for policy, turns in jobs:
            items = []
            for turn in turns:
                messages = policy.messages(turn)
                items.append(_Pending(policy, turn, messages, messages[-1].content))
            self.jobs.append(items)

    def pending(self) -> list[_Pending]:
        return [item for items in self.jobs for item in items if item.decision is None]

    def requests(self, pending: Sequence[_Pending]) -> list[Request]:
        return [item.policy.request(item.turn, item.messages) for item in pending]

    def feed(self, pending: Sequence[_Pending], results: Sequence[Result]) -> None:
        if len(results) != len(pending):
            raise ValueError(f"expected {len(pending)} results, got {len(results)}")
        for result in results:
            if result.outage:  # never a move: the game must not score an outage
                raise InfrastructureError(
                    f"the {getattr(self.backend, 'name', type(self.backend).__name__)} "
                    f"backend failed: {result.error}; check that the model server "
                    "is up and that its URL, key and model name are right"
                )
        for item, result in zip(pending, results, strict=True):
            policy = item.policy
            verdict = policy.precheck(result)
            generation = Generation.from_result(result, verdict)
            retry = verdict and result.ok and len(item.rejected) < policy.retries
            if retry:
                item.rejected.append(generation)
                if policy.retry_feedback:
                    item.messages = [
                        *item.messages,
                        Message(role="assistant", content=result.text),
                        Message(role="user", content=policy.feedback()),
                    ]
                continue
            item.decision = Decision(
                action=result.text if result.ok else "",
                policy=policy.name,
                generation=generation,
                rejected=tuple(item.rejected),
            )
            policy._remember(item.turn, item.user, result.text)

    def decisions(self) -> list[list[Decision]]:
        return [[item.decision for item in items] for items in self.jobs]  # type: ignore[misc]


def decide_many(
    jobs: Sequence[tuple[LLMPolicy, Sequence[Turn]]], meter: CallMeter | None = None
) -> list[list[Decision]]:
    """Decide the turns of several policies that share a backend: one call per round.

    Args:
        jobs: ``(policy, turns)`` pairs; every policy must use the same backend.
        meter: Counts the backend calls.

    Returns:
        The decisions of each job, in order.
    """
    run = _DecideRun(jobs)
    while pending := run.pending():
        requests = run.requests(pending)
        start = time.perf_counter()
        results = run.backend.generate(requests)
        if meter is not None:
            meter.record(results, time.perf_counter() - start)
        run.feed(pending, results)
    return run.decisions()


async def adecide_many(
    jobs: Sequence[tuple[LLMPolicy, Sequence[Turn]]], meter: CallMeter | None = None
) -> list[list[Decision]]:
    """Coroutine form of ``decide_many``: native ``agenerate`` or a worker thread."""
    run = _DecideRun(jobs)
    while pending := run.pending():
        requests = run.requests(pending)
        start = time.perf_counter()
        agenerate = getattr(run.backend, "agenerate", None)
        if agenerate is not None:
            results = await agenerate(requests)
        else:
            results = await asyncio.to_thread(run.backend.generate, requests)
        if meter is not None:
            meter.record(results, time.perf_counter() - start)
        run.feed(pending, results)
    return run.decisions()


def policy_from_spec(backend: str, model: str, **kwargs: Any) -> LLMPolicy:
    """An ``LLMPolicy`` from the arena's ``"llm:BACKEND:MODEL"`` spec parts.

    Args:
        backend: ``"transformers"``, ``"vllm"`` or ``"openai"``.
        model: A model directory; for ``openai``, ``"BASE_URL#MODEL_NAME"``.
        **kwargs: ``LLMPolicy`` options (style, sampling, history...).
    """
    from selfplay_agents.inference import make_backend

    if backend == "openai":
        url, _, name = model.partition("#")
        if not name:
            raise ValueError(
                f"expected 'BASE_URL#MODEL_NAME' for openai, got {model!r}"
            )
        engine = make_backend("openai", url, name)
    else:
        engine = make_backend(backend, model)
    kwargs.setdefault("name", f"llm:{backend}:{model}")
    return LLMPolicy(engine, **kwargs)


def _observation_text(turn: Turn) -> str:
    text = turn.observation.get("text")
    if not isinstance(text, str):
        raise ValueError(
            f"expected a text-view observation with a 'text' entry for {turn.env_id}, "
            f"got keys {sorted(turn.observation)}"
        )
    return text
