"""The transformers backend on a tiny local model: batching, padding, alignment."""

from __future__ import annotations

import numpy as np
import pytest

from selfplay_agents.inference import Message, Request, SamplingParams, make_backend
from selfplay_agents.inference.base import (
    FinishReason,
    Result,
    image_from_data_url,
    image_to_data_url,
)

torch = pytest.importorskip("torch", reason="the agents extra (torch) is not installed")

GREEDY = SamplingParams(max_tokens=12, temperature=0)
PROMPTS = [
    "hi",
    "You are playing tic-tac-toe as 'x'. Cells are numbered 0-8, row by row.",
    "0 | 1 | 2\n---------\n3 | x | 5\n---------\n6 | 7 | 8\nLegal moves: 0, 1, 2, 3, 5, 6, 7, 8.",
    "bet " * 40,
]


def chat(text: str, sampling: SamplingParams = GREEDY, **kwargs) -> Request:
    return Request(
        messages=[Message(role="user", content=text)], sampling=sampling, **kwargs
    )


def test_request_and_sampling_validation():
    with pytest.raises(ValueError, match="exactly one of messages or prompt"):
        Request()
    with pytest.raises(ValueError, match="exactly one of messages or prompt"):
        Request(prompt="a", messages=[Message(role="user", content="b")])
    with pytest.raises(ValueError, match="expected role"):
        Message(role="robot", content="x")
    with pytest.raises(ValueError, match="max_tokens >= 1"):
        SamplingParams(max_tokens=0)
    with pytest.raises(ValueError, match="at least one guided choice"):
        Request(prompt="a", choices=())
    with pytest.raises(KeyError, match="expected a backend in"):
        make_backend("nope")


def test_batch_and_singles_give_identical_greedy_outputs(tiny_backend):
    requests = [chat(p) for p in PROMPTS]
    lengths = {len(tiny_backend.encode(r)) for r in requests}
    assert len(lengths) == len(PROMPTS), "prompts must differ in length to test padding"
    batch = tiny_backend.generate(requests)
    singles = [tiny_backend.generate([r])[0] for r in requests]
    for together, alone in zip(batch, singles, strict=True):
        assert together.ok and alone.ok
        assert together.completion_token_ids == alone.completion_token_ids
        assert together.text == alone.text
        np.testing.assert_allclose(together.logprobs, alone.logprobs, atol=1e-4)
    # Different prompts really give different completions (the model reads the prompt).
    assert len({r.completion_token_ids for r in batch}) == len(PROMPTS)


def test_token_ids_and_logprobs_align_with_a_forward_pass(tiny_backend):
    results = tiny_backend.generate([chat(p) for p in PROMPTS])
    for prompt, result in zip(PROMPTS, results, strict=True):
        assert list(result.prompt_token_ids) == tiny_backend.encode(chat(prompt))
        assert len(result.logprobs) == len(result.completion_token_ids) > 0
        assert (
            tiny_backend.tokenizer.decode(
                result.completion_token_ids, skip_special_tokens=True
            )
            == result.text
        )
        ids = torch.tensor([result.prompt_token_ids + result.completion_token_ids])
        with torch.no_grad():
            logits = tiny_backend.model(input_ids=ids).logits[0].float()
        positions = range(len(result.prompt_token_ids) - 1, ids.shape[1] - 1)
        expected = [
            torch.log_softmax(logits[p], dim=-1)[ids[0, p + 1]].item()
            for p in positions
        ]
        np.testing.assert_allclose(result.logprobs, expected, atol=1e-4)


def test_prompt_ids_are_the_chat_template_tokens(tiny_backend):
    messages = [
        Message(role="system", content="rules"),
        Message(role="user", content="board"),
    ]
    result = tiny_backend.generate([Request(messages=messages, sampling=GREEDY)])[0]
    text = tiny_backend.tokenizer.apply_chat_template(
        [m.to_dict() for m in messages], tokenize=False, add_generation_prompt=True
    )
    assert text.endswith("<|im_start|>assistant\n")
    assert (
        list(result.prompt_token_ids)
        == tiny_backend.tokenizer(text, add_special_tokens=False)["input_ids"]
    )


def test_raw_prompt_skips_the_chat_template(tiny_backend):
    result = tiny_backend.generate([Request(prompt="x | o | 2", sampling=GREEDY)])[0]
    assert tiny_backend.tokenizer.decode(result.prompt_token_ids) == "x | o | 2"


def test_overlong_prompt_is_an_error_and_the_batch_still_runs(tiny_backend):
    long = chat("cell " * 600)
    results = tiny_backend.generate([chat("hi"), long, chat("bet")])
    assert results[0].ok and results[2].ok
    bad = results[1]
    assert not bad.ok and bad.finish_reason is FinishReason.ERROR
    assert "prompt too long" in bad.error
    # Not truncated: the full prompt length is reported and nothing was generated.
    assert len(bad.prompt_token_ids) == len(tiny_backend.encode(long)) > 512
    assert bad.completion_token_ids == () and bad.text == ""


def test_generation_is_capped_by_the_context_left(tiny_backend):
    base = len(tiny_backend.encode(chat("")))
    filler = "a" * (512 - base - 3)  # byte-level tokens: one per character here
    request = chat(filler, SamplingParams(max_tokens=50, temperature=0))
    room = 512 - len(tiny_backend.encode(request))
    assert 0 < room < 50
    result = tiny_backend.generate([request])[0]
    assert result.ok and len(result.completion_token_ids) <= room
    if len(result.completion_token_ids) == room:
        assert result.finish_reason is FinishReason.LENGTH


def test_max_tokens_gives_finish_reason_length(tiny_backend):
    result = tiny_backend.generate(
        [chat("hi", SamplingParams(max_tokens=5, temperature=0))]
    )[0]
    # The random model has not learned to stop: it runs to the limit.
    assert len(result.completion_token_ids) == 5
    assert result.finish_reason is FinishReason.LENGTH


def test_guided_choices_constrain_the_completion(tiny_backend):
    choices = ("\\boxed{4}", "\\boxed{7}", "pass")
    requests = [chat(p, choices=choices) for p in PROMPTS]
    requests.append(
        chat("hi", SamplingParams(max_tokens=12, temperature=1.0), choices=choices)
    )
    for result in tiny_backend.generate(requests):
        assert result.text in choices
        assert result.finish_reason is FinishReason.STOP
        assert result.completion_token_ids[-1] in tiny_backend.eos_token_ids


def test_seeded_sampling_reproduces_a_batch(tiny_backend):
    sampling = SamplingParams(max_tokens=10, temperature=1.0)
    batch = [chat(p, sampling, seed=i) for i, p in enumerate(PROMPTS)]
    state = torch.random.get_rng_state()
    first = tiny_backend.generate(batch)
    second = tiny_backend.generate(batch)
    assert [r.completion_token_ids for r in first] == [
        r.completion_token_ids for r in second
    ]
    # The caller's torch RNG is left as it was.
    assert torch.equal(state, torch.random.get_rng_state())
    other = tiny_backend.generate(
        [chat(p, sampling, seed=100 + i) for i, p in enumerate(PROMPTS)]
    )
    assert [r.completion_token_ids for r in other] != [
        r.completion_token_ids for r in first
    ]


def test_stop_strings_cut_the_text(tiny_backend):
    free = tiny_backend.generate([chat(PROMPTS[1])])[0].text
    stop = free[3:5]
    assert len(stop) == 2 and stop in free
    sampling = SamplingParams(max_tokens=12, temperature=0, stop=(stop,))
    result = tiny_backend.generate([chat(PROMPTS[1], sampling)])[0]
    assert result.text == free[: free.index(stop)]
    assert result.finish_reason is FinishReason.STOP
    assert len(result.completion_token_ids) < 12


def test_processed_logprobs_equal_raw_ones_when_greedy(tiny_model_dir, tiny_backend):
    from selfplay_agents.inference.transformers_backend import TransformersBackend

    processed = TransformersBackend(
        tiny_model_dir, device="cpu", logprobs_mode="processed", max_model_len=512
    )
    request = [chat(PROMPTS[2])]
    np.testing.assert_allclose(
        processed.generate(request)[0].logprobs,
        tiny_backend.generate(request)[0].logprobs,
        atol=1e-5,
    )


def test_images_are_refused_by_a_text_only_backend(tiny_backend):
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    request = Request(messages=[Message(role="user", content="look", images=(image,))])
    (result,) = tiny_backend.generate([request])
    assert not result.ok and "text-only" in result.error


def test_image_data_url_round_trip():
    image = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    url = image_to_data_url(image)
    assert url.startswith("data:image/png;base64,")
    np.testing.assert_array_equal(image_from_data_url(url), image)
    part = Message(role="user", content="what is this?", images=(image,)).to_openai()
    assert [p["type"] for p in part["content"]] == ["image_url", "text"]


def test_result_failure_record():
    failure = Result.failure("boom", [1, 2])
    assert not failure.ok and failure.prompt_token_ids == (1, 2)
    assert failure.finish_reason is FinishReason.ERROR
