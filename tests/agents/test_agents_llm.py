"""LLMPolicy: prompts, chat formatting, history, thinking, retries, images."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

import selfplay_envs
from selfplay_agents.inference import Message, Request, Result, SamplingParams
from selfplay_agents.llm import CallMeter, LLMPolicy, decide_many, strip_think
from selfplay_agents.policy import Turn
from selfplay_agents.prompts import PROMPTS, STYLE_INSTRUCTIONS, AnswerStyle

pytest.importorskip("torch", reason="the agents extra (torch) is not installed")

GREEDY = SamplingParams(max_tokens=8, temperature=0)


class ReplayBackend:
    """Answers each request with the next scripted text and keeps the requests.

    A stand-in for a model when a test needs exact replies (think blocks, a valid
    answer on the second try); the policy under test is real.
    """

    name = "replay"

    def __init__(self, texts: Sequence[str]):
        self.texts = list(texts)
        self.requests: list[Request] = []

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        self.requests.extend(requests)
        return [Result(text=self.texts.pop(0)) for _ in requests]


def first_turn(env_id: str = "tic_tac_toe_v0", **kwargs) -> Turn:
    env = selfplay_envs.make(env_id, view="text")
    env.reset(seed=0)
    agent = env.agent_selection
    return Turn(
        env_id=env_id,
        agent=agent,
        observation=env.observe(agent),
        info=env.infos[agent],
        **kwargs,
    )


@pytest.mark.parametrize("style", list(AnswerStyle))
def test_prompt_is_rules_then_observation_and_instruction(style):
    turn = first_turn()
    policy = LLMPolicy(ReplayBackend([]), style=style)
    system, user = policy.messages(turn)
    assert (
        system.role == "system" and system.content == PROMPTS["tic_tac_toe_v0"].system
    )
    assert user.role == "user"
    assert user.content.startswith(turn.observation["text"])
    assert user.content.endswith(STYLE_INSTRUCTIONS[style])


def test_unknown_game_gets_the_generic_template_and_merged_system():
    turn = Turn(
        env_id="made_up_game_v3",
        agent="player_0",
        observation={"text": "state"},
        info={},
    )
    policy = LLMPolicy(ReplayBackend([]), system_role=False)
    (user,) = policy.messages(turn)
    assert user.role == "user"
    assert user.content.startswith("You are playing made up game,")
    assert "\n\nstate\n\n" in user.content


def test_chat_goes_through_the_tokenizer_chat_template(tiny_backend):
    policy = LLMPolicy(tiny_backend, sampling=GREEDY)
    turn = first_turn()
    decision = policy.decide([turn])[0]
    rendered = tiny_backend.tokenizer.decode(decision.generation.prompt_token_ids)
    assert rendered.startswith("<|im_start|>system\nYou are playing tic-tac-toe")
    assert rendered.endswith("\\boxed{}.<|im_end|>\n<|im_start|>assistant\n")


def test_retries_on_output_without_an_answer_then_sends_the_last_reply(tiny_backend):
    # The random model never writes \boxed{...}: every sample fails the pre-check.
    turns = [first_turn(game_index=i) for i in range(3)]
    policy = LLMPolicy(
        tiny_backend, sampling=SamplingParams(max_tokens=6), retries=2, seed=0
    )
    meter = CallMeter()
    decisions = policy.decide(turns, meter)
    assert meter.calls == 3 and meter.requests == 9  # one batched call per round
    for decision in decisions:
        assert len(decision.rejected) == 2
        assert all(
            g.precheck == "no answer in the spiral format" for g in decision.rejected
        )
        assert decision.generation.precheck == "no answer in the spiral format"
        assert decision.action == decision.generation.text
        # Feedback: each retry's prompt holds the rejected reply and the reminder.
        lengths = [
            len(g.prompt_token_ids) for g in (*decision.rejected, decision.generation)
        ]
        assert lengths[0] < lengths[1] < lengths[2]
    # The env parses the text and rejects it with its own reason.
    env = selfplay_envs.make("tic_tac_toe_v0", view="text")
    env.reset(seed=0)
    env.step(decisions[0].action)
    assert env.infos["player_0"]["invalid_reason"].startswith(
        ("unparseable", "no action")
    )


def test_a_valid_answer_on_retry_is_sent():
    backend = ReplayBackend(
        ["I think the centre is best.", "<think>4?</think>\\boxed{4}"]
    )
    policy = LLMPolicy(backend, retries=3, retry_feedback=False)
    (decision,) = policy.decide([first_turn()])
    assert decision.action == "<think>4?</think>\\boxed{4}"
    assert [g.text for g in decision.rejected] == ["I think the centre is best."]
    # Without feedback the retry is a fresh sample of the same prompt, new seed.
    first, second = backend.requests
    assert [m.content for m in first.messages] == [m.content for m in second.messages]
    assert first.seed != second.seed


def test_backend_errors_are_not_retried(tiny_backend):
    turn = first_turn()
    long = Turn(**{**turn.__dict__, "observation": {"text": "cell " * 700}})
    policy = LLMPolicy(tiny_backend, sampling=GREEDY, retries=2)
    meter = CallMeter()
    (decision,) = policy.decide([long], meter)
    assert meter.calls == 1
    assert decision.action == "" and decision.rejected == ()
    assert "prompt too long" in decision.generation.error


@pytest.mark.parametrize(
    ("thinking", "kept"),
    [("strip", "\\boxed{4}"), ("keep", "<think>centre</think>\\boxed{4}")],
)
def test_full_history_per_seat_with_thinking(thinking, kept):
    backend = ReplayBackend(
        ["<think>centre</think>\\boxed{4}", "\\boxed{0}", "\\boxed{8}"]
    )
    policy = LLMPolicy(backend, history="full", thinking=thinking)
    env = selfplay_envs.make("tic_tac_toe_v0", view="text")
    env.reset(seed=0)

    def turn(episode: int = 0) -> Turn:
        agent = env.agent_selection
        return Turn(
            env_id="tic_tac_toe_v0",
            agent=agent,
            observation=env.observe(agent),
            info=env.infos[agent],
            episode=episode,
        )

    first = turn()
    env.step(policy.act([first])[0])  # x plays 4
    env.step(policy.act([turn()])[0])  # o plays 0: o's history is separate
    third = turn()
    messages = policy.messages(third)
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1].content == policy.messages(first)[1].content
    assert messages[2].content == kept
    # A new episode of the same game starts with no history.
    assert [
        m.role for m in policy.messages(Turn(**{**third.__dict__, "episode": 1}))
    ] == [
        "system",
        "user",
    ]
    last = LLMPolicy(backend, history="last")
    assert [m.role for m in last.messages(third)] == ["system", "user"]


def test_qwen3_style_template_drops_think_from_history(tiny_backend):
    from selfplay_agents.testing import QWEN3_LIKE_TEMPLATE

    messages = [
        {"role": "user", "content": "move?"},
        {"role": "assistant", "content": "<think>centre</think>\\boxed{4}"},
        {"role": "user", "content": "move again?"},
    ]
    tokenizer = tiny_backend.tokenizer
    qwen3 = tokenizer.apply_chat_template(
        messages,
        chat_template=QWEN3_LIKE_TEMPLATE,
        tokenize=False,
        add_generation_prompt=True,
    )
    chatml = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True
    )
    assert "<think>centre</think>" in chatml
    assert "<think>" not in qwen3 and "\\boxed{4}" in qwen3
    off = tokenizer.apply_chat_template(
        messages[:1],
        chat_template=QWEN3_LIKE_TEMPLATE,
        tokenize=False,
        add_generation_prompt=True,
        enable_thinking=False,
    )
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_chat_template_kwargs_reach_the_template(tiny_backend):
    policy = LLMPolicy(
        tiny_backend, sampling=GREEDY, chat_template_kwargs={"enable_thinking": False}
    )
    (decision,) = policy.decide([first_turn()])
    rendered = tiny_backend.tokenizer.decode(decision.generation.prompt_token_ids)
    assert rendered.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_strip_think():
    assert strip_think("<think>a\nb</think>\n\\boxed{1}") == "\\boxed{1}"
    assert strip_think("<think>never closed") == ""
    assert strip_think("no thinking") == "no thinking"


@pytest.mark.parametrize(
    ("style", "wrapped"),
    [("spiral", "\\boxed{4}"), ("mars", "<answer>4</answer>"), ("plain", "4")],
)
def test_guided_decoding_to_the_legal_moves(tiny_backend, style, wrapped):
    policy = LLMPolicy(
        tiny_backend, style=style, guided=True, sampling=GREEDY, retries=0
    )
    turn = first_turn()
    request = policy.request(turn, policy.messages(turn))
    assert wrapped in request.choices and len(request.choices) == 9
    (decision,) = policy.decide([turn])
    assert decision.action in request.choices and decision.generation.precheck == ""


def test_images_ride_on_the_current_user_message():
    image = np.full((8, 8, 3), 200, dtype=np.uint8)
    turn = Turn(
        env_id="who_is_the_spy_v0",
        agent="player_0",
        observation={"text": "Describe your image.", "image": image},
        info={},
    )
    backend = ReplayBackend(["\\boxed{a red ball}"])
    LLMPolicy(backend).act([turn])
    (request,) = backend.requests
    assert len(request.images) == 1 and request.images[0] is not None
    np.testing.assert_array_equal(request.images[0], image)
    parts = request.messages[-1].to_openai()["content"]
    assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,")
    text_only = LLMPolicy(ReplayBackend([]), images=False)
    assert text_only.messages(turn)[-1].images == ()


def test_policies_sharing_a_backend_share_each_call(tiny_backend):
    spiral = LLMPolicy(
        tiny_backend, name="a", style="spiral", guided=True, sampling=GREEDY
    )
    plain = LLMPolicy(
        tiny_backend, name="b", style="plain", guided=True, sampling=GREEDY
    )
    meter = CallMeter()
    turns = [first_turn(game_index=i) for i in range(4)]
    out_a, out_b = decide_many([(spiral, turns[:2]), (plain, turns[2:])], meter)
    assert meter.calls == 1 and meter.requests == 4
    assert all(d.policy == "a" and d.action.startswith("\\boxed{") for d in out_a)
    assert all(d.policy == "b" and d.action.isdigit() for d in out_b)


def test_policy_validates_arguments():
    with pytest.raises(ValueError, match="retries >= 0"):
        LLMPolicy(ReplayBackend([]), retries=-1)
    with pytest.raises(ValueError):
        LLMPolicy(ReplayBackend([]), style="haiku")
    turn = Turn(
        env_id="tic_tac_toe_v0",
        agent="player_0",
        observation={"observation": 1},
        info={},
    )
    with pytest.raises(ValueError, match="text-view observation"):
        LLMPolicy(ReplayBackend([])).messages(turn)


def test_message_records():
    message = Message(role="assistant", content="x")
    assert message.to_dict() == {"role": "assistant", "content": "x"}


def test_policy_from_the_arena_spec(tiny_model_dir):
    from selfplay_agents.arena.specs import build_policy
    from selfplay_agents.llm import policy_from_spec

    policy = build_policy(
        f"llm:transformers:{tiny_model_dir}", "tic_tac_toe_v0", seed=0, config={}
    )
    assert (
        isinstance(policy, LLMPolicy)
        and policy.name == f"llm:transformers:{tiny_model_dir}"
    )
    assert policy.backend.name == "transformers"
    remote = policy_from_spec("openai", "http://127.0.0.1:9/v1#tiny")
    assert (remote.backend.base_url, remote.backend.model) == (
        "http://127.0.0.1:9/v1",
        "tiny",
    )
    with pytest.raises(ValueError, match="BASE_URL#MODEL_NAME"):
        policy_from_spec("openai", "http://127.0.0.1:9/v1")
