"""Vision-language policies end to end on the tiny local VLM (LLaVA, random weights).

Every check here fails if images are dropped on the way: the pixel inputs, the prompt
tokens and the logprobs must all depend on the picture. The model is built on the spot
(``selfplay_agents.testing.build_tiny_vlm``); nothing is downloaded. A tiny random Qwen2-VL
repeats the batching and logprob checks with variable image grids and M-RoPE.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import types
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from selfplay_agents.inference import Message, Request, Result, SamplingParams
from selfplay_agents.inference.base import FinishReason, image_hash

pytest.importorskip("torch", reason="the agents extra (torch) is not installed")
pytest.importorskip("transformers", reason="the agents extra is not installed")

import torch  # noqa: E402

from selfplay_agents.inference.transformers_backend import TransformersBackend  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
GREEDY = SamplingParams(max_tokens=8, temperature=0)
CONTEXT = 2048
SPY = "who_is_the_spy_v0"


def picture(seed: int, height: int = 56, width: int = 56) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


def ask(image: np.ndarray | None, text: str = "describe your picture") -> Request:
    images = () if image is None else (image,)
    return Request(
        messages=(
            Message(role="system", content="you are playing a game"),
            Message(role="user", content=text, images=images),
        ),
        sampling=GREEDY,
    )


@pytest.fixture(scope="module")
def vlm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from selfplay_agents.testing import build_tiny_vlm

    torch.set_num_threads(1)
    return build_tiny_vlm(tmp_path_factory.mktemp("vlm") / "model", seed=0)


@pytest.fixture(scope="module")
def vlm(vlm_dir: Path) -> TransformersBackend:
    return TransformersBackend(vlm_dir, device="cpu", max_model_len=CONTEXT)


def forward_logprobs(backend: TransformersBackend, request: Request, result: Result):
    """Logprob of each completion token from one forward pass over prompt+completion."""
    _, extras = backend.prepare(request)
    ids = list(result.prompt_token_ids) + list(result.completion_token_ids)
    if "mm_token_type_ids" in extras:  # Qwen2-VL: the completion is text (type 0)
        completion = torch.zeros(
            (1, len(result.completion_token_ids)), dtype=torch.long
        )
        extras["mm_token_type_ids"] = torch.cat(
            [extras["mm_token_type_ids"], completion], dim=1
        )
    with torch.inference_mode():
        logits = backend.model(input_ids=torch.tensor([ids]), **extras).logits[0]
    start = len(result.prompt_token_ids)
    steps = torch.log_softmax(logits[start - 1 : len(ids) - 1].float(), dim=-1)
    targets = torch.tensor(result.completion_token_ids)
    return steps.gather(1, targets[:, None])[:, 0].numpy()


# ---- the transformers backend -------------------------------------------------------


def test_the_model_is_a_vlm_with_its_own_processor(vlm):
    assert type(vlm.model).__name__ == "LlavaForConditionalGeneration"
    assert type(vlm.processor).__name__ == "LlavaProcessor"
    ids, extras = vlm.prepare(ask(picture(0)))
    image_token = vlm.model.config.image_token_index
    assert ids.count(image_token) == 16  # (56 / 14) ** 2 patches
    assert tuple(extras["pixel_values"].shape) == (1, 3, 56, 56)
    text_ids, text_extras = vlm.prepare(ask(None))
    assert image_token not in text_ids and text_extras == {}


def test_two_images_give_different_pixels_and_logprobs(vlm):
    first, second = ask(picture(1)), ask(picture(2))
    pixels = [vlm.prepare(r)[1]["pixel_values"] for r in (first, second)]
    assert not torch.equal(pixels[0], pixels[1])
    a, b = vlm.generate([first, second])
    assert a.ok and b.ok and a.prompt_token_ids == b.prompt_token_ids
    # Score a's completion under each picture: only the picture differs.
    under_a = forward_logprobs(vlm, first, a)
    under_b = forward_logprobs(vlm, second, a)
    assert np.abs(under_a - under_b).max() > 1e-3
    # A black picture (all zeros) changes them too.
    blank = ask(np.zeros((56, 56, 3), np.uint8))
    assert np.abs(under_a - forward_logprobs(vlm, blank, a)).max() > 1e-3


def test_placeholder_tokens_are_never_generated(vlm):
    """A model that wants the image token still never emits it: a completion holding
    one would break the forward pass a trainer runs over prompt plus completion."""
    image_token = vlm.model.config.image_token_index
    assert image_token in vlm.placeholder_token_ids

    def favour_the_image_token(module, inputs, output):
        output[..., image_token] += 1e4
        return output

    hook = vlm.model.lm_head.register_forward_hook(favour_the_image_token)
    try:
        (result,) = vlm.generate([ask(picture(5))])
    finally:
        hook.remove()
    assert result.ok, result.error
    assert result.completion_token_ids
    assert image_token not in result.completion_token_ids
    # Raw logprobs are the model's own distribution, which still favours it.
    assert max(result.logprobs) < -1e3


def test_a_batch_matches_singles(vlm):
    requests = [
        ask(picture(3)),
        ask(picture(4, 448, 448), "a longer prompt: describe one detail of it"),
        ask(None, "no picture this time"),
        ask(picture(5, 30, 80)),  # any size: the processor resizes and crops
        Request(
            messages=(
                Message(role="user", content="two", images=(picture(6), picture(7))),
            ),
            sampling=GREEDY,
        ),
    ]
    batch = vlm.generate(requests)
    singles = [vlm.generate([r])[0] for r in requests]
    for together, alone in zip(batch, singles, strict=True):
        assert together.ok, together.error
        assert together.prompt_token_ids == alone.prompt_token_ids
        assert together.completion_token_ids == alone.completion_token_ids
        np.testing.assert_allclose(together.logprobs, alone.logprobs, atol=1e-4)
    assert batch[4].prompt_token_ids.count(vlm.model.config.image_token_index) == 32


def test_logprobs_match_a_forward_pass(vlm):
    request = ask(picture(8))
    (result,) = vlm.generate([request])
    assert len(result.logprobs) == len(result.completion_token_ids) > 0
    np.testing.assert_allclose(
        result.logprobs, forward_logprobs(vlm, request, result), atol=1e-4
    )


def test_image_tokens_count_against_the_context(vlm):
    text_only = ask(None, "short")
    room = len(vlm.encode(text_only)) + 4  # text fits; its 16 image tokens do not
    small = TransformersBackend(
        vlm.model, processor=vlm.processor, device="cpu", max_model_len=room
    )
    with_image = ask(picture(9), "short")
    fits, too_long = small.generate([text_only, with_image])
    assert fits.ok
    assert not too_long.ok and too_long.finish_reason is FinishReason.ERROR
    assert too_long.error.startswith("prompt too long")
    # Reported with every prompt token, none cut.
    assert len(too_long.prompt_token_ids) == len(vlm.encode(with_image)) > room


def test_a_model_without_processor_rejects_images(vlm):
    text_backend = TransformersBackend(vlm.model, tokenizer=vlm.tokenizer, device="cpu")
    (result,) = text_backend.generate([ask(picture(0))])
    assert not result.ok and "no image processor" in result.error


# ---- the same checks on Qwen2-VL (variable image grids, M-RoPE) -------------------


def qwen2_vl_processor(tokenizer, image_processor, template):
    """Qwen2-VL's processor class, with or without torchvision.

    In transformers 5.25 its constructor also wants a video processor, which needs
    torchvision; without it the instance is assembled by hand (the image path of
    ``__call__`` never touches the video processor).
    """
    import transformers

    try:
        return transformers.Qwen2VLProcessor(
            image_processor=image_processor, tokenizer=tokenizer, chat_template=template
        )
    except (AttributeError, TypeError, ValueError):
        processor = object.__new__(transformers.Qwen2VLProcessor)
        processor.image_processor = image_processor
        processor.tokenizer = tokenizer
        processor.video_processor = None
        processor.chat_template = template
        processor.image_token, processor.video_token = "<|image_pad|>", "<|video_pad|>"
        processor.image_token_id = tokenizer.convert_tokens_to_ids("<|image_pad|>")
        processor.video_token_id = tokenizer.convert_tokens_to_ids("<|video_pad|>")
        return processor


@pytest.fixture(scope="module")
def qwen_vl() -> TransformersBackend:
    """A tiny random Qwen2-VL: pictures keep their aspect, 4-16 image tokens each."""
    import transformers

    from selfplay_agents.testing import VLM_CHAT_TEMPLATE, _train_tokenizer

    vision = ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")
    template = VLM_CHAT_TEMPLATE.replace(
        "<image>\\n", "<|vision_start|><|image_pad|><|vision_end|>"
    )
    tokenizer = _train_tokenizer(np.random.default_rng(0), 512, template)
    tokenizer.add_special_tokens({"additional_special_tokens": list(vision)})
    image_processor = transformers.Qwen2VLImageProcessorPil(
        size={"shortest_edge": 56 * 56, "longest_edge": 112 * 112}
    )
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in vision}
    text = {
        "vocab_size": len(tokenizer),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": CONTEXT,
        "initializer_range": 0.2,
        # M-RoPE: the head's 8 rotary pairs split over time, height and width.
        "rope_parameters": {
            "rope_type": "default",
            "mrope_section": [2, 3, 3],
            "rope_theta": 10000.0,
        },
        "bos_token_id": None,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    config = transformers.Qwen2VLConfig(
        text_config=text,
        vision_config={
            "depth": 1,
            "embed_dim": 32,
            "hidden_size": 64,
            "num_heads": 2,
            "mlp_ratio": 2,
            "initializer_range": 0.2,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = transformers.Qwen2VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    processor = qwen2_vl_processor(tokenizer, image_processor, template)
    return TransformersBackend(
        model, processor=processor, device="cpu", max_model_len=CONTEXT
    )


def test_qwen2_vl_batches_variable_grids_like_singles(qwen_vl):
    image_token = qwen_vl.model.config.image_token_id
    requests = [
        ask(picture(40)),  # 56x56: a 4x4 patch grid, 4 tokens
        ask(picture(41, 112, 56), "a longer prompt: describe one detail of it"),
        ask(None, "no picture"),
        ask(picture(42, 112, 112)),  # 16 tokens
    ]
    batch = qwen_vl.generate(requests)
    singles = [qwen_vl.generate([r])[0] for r in requests]
    counts = [r.prompt_token_ids.count(image_token) for r in batch]
    assert counts == [4, 8, 0, 16]
    for together, alone, request in zip(batch, singles, requests, strict=True):
        assert together.ok, together.error
        assert together.completion_token_ids == alone.completion_token_ids
        np.testing.assert_allclose(together.logprobs, alone.logprobs, atol=1e-4)
        np.testing.assert_allclose(
            together.logprobs,
            forward_logprobs(qwen_vl, request, together),
            atol=1e-4,
        )
    # The picture matters: score the first completion under another picture.
    other = forward_logprobs(qwen_vl, ask(picture(43)), batch[0])
    assert np.abs(other - np.asarray(batch[0].logprobs)).max() > 1e-3


# ---- the OpenAI-compatible server ---------------------------------------------------


@pytest.fixture(scope="module")
def server(vlm_dir: Path) -> Iterator[str]:
    """``python -m selfplay_agents.serve`` on the tiny VLM, offline, on a free loopback port."""
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "selfplay_agents.serve",
            "--model",
            str(vlm_dir),
            "--port",
            "0",
            "--device",
            "cpu",
            "--max-model-len",
            str(CONTEXT),
            "--served-model-name",
            "tiny-vlm",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()))
    reader.start()
    reader.join(timeout=120)
    try:
        if not lines or not lines[0].startswith("serving "):
            pytest.fail(f"expected the VLM server to start, got {lines!r}")
        yield lines[0].split()[1]
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_server_answers_image_requests_like_the_local_backend(server, vlm):
    pytest.importorskip("httpx", reason="httpx (agents extra) is not installed")
    from selfplay_agents.inference.openai_backend import OpenAIBackend

    client = OpenAIBackend(server, "tiny-vlm", max_retries=1, backoff=0.01)
    requests = [
        ask(picture(10)),
        ask(picture(11)),
        ask(picture(12, 448, 448), "a longer prompt: describe one detail of it"),
        ask(None, "no picture"),
    ]
    remote = client.generate(requests)
    local = vlm.generate(requests)
    for r, loc in zip(remote, local, strict=True):
        assert r.ok, r.error
        assert r.text == loc.text
        assert r.prompt_token_ids == loc.prompt_token_ids
        assert r.completion_token_ids == loc.completion_token_ids
        np.testing.assert_allclose(r.logprobs, loc.logprobs, atol=1e-4)
    image_token = vlm.model.config.image_token_index
    assert remote[0].prompt_token_ids.count(image_token) == 16
    # The pictures reached the model: same text, different logprobs.
    assert remote[0].prompt_token_ids == remote[1].prompt_token_ids
    if remote[0].completion_token_ids == remote[1].completion_token_ids:
        assert np.abs(np.subtract(remote[0].logprobs, remote[1].logprobs)).max() > 1e-3
    # An over-long image prompt is the server's 400, not a retry or a move.
    (too_long,) = client.generate([ask(picture(13), "cell " * (CONTEXT - 30))])
    assert not too_long.ok and too_long.error.startswith("HTTP 400: prompt too long")


@pytest.mark.slow
def test_server_answers_bad_image_parts_400(server):
    import urllib.error
    import urllib.request

    def post(content) -> tuple[int, dict]:
        body = {"model": "tiny-vlm", "messages": [{"role": "user", "content": content}]}
        request = urllib.request.Request(
            server + "/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    not_data = [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]
    status, body = post(not_data)
    assert status == 400 and "data:image" in body["error"]["message"]
    status, body = post(["just a string part"])
    assert status == 400 and "content parts" in body["error"]["message"]


# ---- LLMPolicy on the spy game, image mode ------------------------------------------


class SpyReplay:
    """Wraps a backend: keeps every request; optionally answers a valid clue or vote.

    With ``scripted=True`` it replies ``\\boxed{...}`` itself (a clue, or a vote for
    player 2), so the test can check parsing; otherwise the wrapped model answers.
    """

    name = "spy-replay"

    def __init__(self, inner=None, scripted: bool = False):
        self.inner = inner
        self.scripted = scripted
        self.requests: list[Request] = []
        self.tokenizer = getattr(inner, "tokenizer", None)

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        self.requests.extend(requests)
        if not self.scripted:
            return self.inner.generate(requests)
        replies = []
        for request in requests:
            voting = "\\boxed{N/A}" in request.messages[-1].content  # vote prompts
            text = (
                "\\boxed{2}" if voting else f"\\boxed{{A clue {len(self.requests)}.}}"
            )
            replies.append(Result(text=text))
        return replies


def spy_adapter(backend, **kwargs):
    from selfplay_agents.adapter import BatchInferenceAdapter
    from selfplay_agents.llm import LLMPolicy
    from selfplay_agents.opponents.who_is_the_spy import ScriptedSpyPlayer

    policy = LLMPolicy(backend, name="vlm", sampling=SamplingParams(max_tokens=12))
    return BatchInferenceAdapter(
        SPY,
        {0: policy, 1: policy, "*": ScriptedSpyPlayer(seed=0)},
        num_envs=2,
        seed=0,
        image_size=56,
        **kwargs,
    )


def test_spy_prompts_carry_each_players_picture_and_parse_as_text(tmp_path):
    backend = SpyReplay(scripted=True)
    path = tmp_path / "turns.jsonl"
    run = spy_adapter(backend, trajectory_path=path).run(num_episodes=4)
    llm_turns = [t for tr in run.trajectories for t in tr.turns if t.policy == "vlm"]
    assert {t.phase for t in llm_turns} == {"clue", "vote"}
    assert all(t.valid for t in llm_turns), [t.invalid_reason for t in llm_turns]
    # Votes are counted at the end: the final infos hold what each seat's vote parsed to.
    for trajectory in run.trajectories:
        votes = trajectory.final_infos["player_0"]["votes"]
        voters = {t.seat for t in trajectory.turns if t.phase == "vote"}
        assert all(votes[seat] == "2" for seat in voters & {0, 1})
    # Every request carries one picture; the adapter records its hash per turn.
    assert all(
        len(r.images) == 1 and r.images[0].shape == (56, 56, 3)
        for r in backend.requests
    )
    sent = {image_hash(r.images[0]) for r in backend.requests}
    assert all(len(t.images) == 1 and t.images[0] in sent for t in llm_turns)
    scripted = [t for tr in run.trajectories for t in tr.turns if t.policy != "vlm"]
    assert scripted and all(t.images == [] for t in scripted)
    # Seats 0 and 1 see the same picture, unless one of them is the spy (in some game).
    spy_seated = 0
    for trajectory in run.trajectories:
        seen = {t.agent: t.images[0] for t in trajectory.turns if t.images}
        spies = {a for a, final in trajectory.final_infos.items() if final["is_spy"]}
        spy_seated += bool(spies & set(seen))
        assert len(set(seen.values())) == (2 if spies & set(seen) else 1)
    assert 0 < spy_seated < len(run.trajectories)
    # The hashes survive the turn log and the trainer rows.
    from selfplay_agents.export import (
        read_jsonl,
        rows_from_turn_log,
        trainer_rows,
        write_jsonl,
    )

    rows = trainer_rows(run.trajectories)
    assert rows and all(len(row.images) == 1 for row in rows)
    assert [r.images for r in rows_from_turn_log(path)] == [r.images for r in rows]
    back = list(read_jsonl(write_jsonl(rows, tmp_path / "rows.jsonl")))
    assert [r.images for r in back] == [r.images for r in rows]
    if importlib.util.find_spec("pyarrow") is not None:
        from selfplay_agents.export import read_parquet, write_parquet

        parquet = read_parquet(write_parquet(rows, tmp_path / "rows.parquet"))
        assert [r.images for r in parquet] == [r.images for r in rows]


def test_async_mode_records_the_pictures_too():
    import asyncio

    backend = SpyReplay(scripted=True)
    run = asyncio.run(spy_adapter(backend).arun(num_episodes=2))
    llm_turns = [t for tr in run.trajectories for t in tr.turns if t.policy == "vlm"]
    sent = {image_hash(r.images[0]) for r in backend.requests}
    assert llm_turns and all(
        len(t.images) == 1 and t.images[0] in sent for t in llm_turns
    )


def test_spy_game_on_the_tiny_vlm_records_tokens_logprobs_and_pictures(vlm):
    backend = SpyReplay(vlm)
    run = spy_adapter(backend).run(num_episodes=2)
    llm_turns = [t for tr in run.trajectories for t in tr.turns if t.policy == "vlm"]
    assert llm_turns
    image_token = vlm.model.config.image_token_index
    for turn in llm_turns:
        assert turn.error is None
        assert turn.prompt_token_ids.count(image_token) == 16
        assert len(turn.logprobs) == len(turn.completion_token_ids) > 0
        assert len(turn.images) == 1
    # The recorded hashes name the pictures the model got.
    assert {t.images[0] for t in llm_turns} <= {
        image_hash(r.images[0]) for r in backend.requests
    }
    json.dumps([t.to_dict() for t in llm_turns])  # JSON-friendly


def test_pictures_for_a_text_model_are_a_setup_error_not_a_move(vlm):
    from selfplay_agents.llm import LLMPolicy
    from selfplay_agents.policy import Turn

    text_backend = TransformersBackend(vlm.model, tokenizer=vlm.tokenizer, device="cpu")
    assert vlm.accepts_images and not text_backend.accepts_images
    turn = Turn(
        env_id=SPY,
        agent="player_0",
        observation={"text": "Give a clue.", "image": picture(0)},
        info={},
    )
    with pytest.raises(ValueError, match="text-only model: load a vision-language"):
        LLMPolicy(text_backend).act([turn])
    (reply,) = LLMPolicy(text_backend, images=False, retries=0).act([turn])
    assert isinstance(reply, str)


# ---- vLLM's multimodal input format -------------------------------------------------


class FakeV1Engine:
    """vLLM's V1 ``LLMEngine`` as the backend tells it apart: by its module."""

    __module__ = "vllm.v1.engine.llm_engine"


class FakeLLM:
    """Stands in for ``vllm.LLM``: records what ``generate`` got, answers one token.

    ``hf_config`` is the served model's config (``model_config.hf_config``); ``v1``
    picks a V1 or a V0 engine.
    """

    def __init__(self, tokenizer, hf_config=None, *, v1=True, vocab_size=None):
        self.tokenizer = tokenizer
        self.prompts: list = []
        self.params: list = []
        self.llm_engine = FakeV1Engine() if v1 else types.SimpleNamespace()
        self.llm_engine.model_config = types.SimpleNamespace(
            max_model_len=CONTEXT, hf_config=hf_config
        )
        if vocab_size is not None:
            self.llm_engine.model_config.get_vocab_size = lambda: vocab_size

    def get_tokenizer(self):
        return self.tokenizer

    def generate(self, prompts, params, use_tqdm=False):
        self.prompts.extend(prompts)
        self.params.extend(params)
        step = types.SimpleNamespace(
            token_ids=[7],
            text="x",
            finish_reason="stop",
            logprobs=[{7: types.SimpleNamespace(logprob=-0.5)}],
        )
        return [
            types.SimpleNamespace(outputs=[step], prompt_token_ids=[1, 2])
            for _ in prompts
        ]


def test_vllm_backend_sends_images_in_the_multimodal_format(vlm, monkeypatch):
    from selfplay_agents.inference import vllm_backend

    fake_vllm = types.SimpleNamespace(SamplingParams=lambda **kw: kw)
    monkeypatch.setattr(vllm_backend, "_import_vllm", lambda: fake_vllm)
    llm = FakeLLM(vlm.tokenizer)
    backend = vllm_backend.VLLMBackend(llm)
    one, two = picture(20), picture(21)
    results = backend.generate(
        [
            ask(one),
            Request(
                messages=(Message(role="user", content="two", images=(one, two)),),
                sampling=GREEDY,
            ),
        ]
    )
    assert all(r.ok and r.logprobs == (-0.5,) for r in results)
    first, second = llm.prompts
    assert first["prompt"].count("<image>") == 1
    assert np.array_equal(np.asarray(first["multi_modal_data"]["image"]), one)
    assert second["prompt"].count("<image>") == 2
    assert [np.asarray(i).tolist() for i in second["multi_modal_data"]["image"]] == [
        one.tolist(),
        two.tolist(),
    ]


def fake_vllm_backend(monkeypatch, llm):
    from selfplay_agents.inference import vllm_backend

    fake_vllm = types.SimpleNamespace(SamplingParams=lambda **kw: kw)
    monkeypatch.setattr(vllm_backend, "_import_vllm", lambda: fake_vllm)
    return vllm_backend.VLLMBackend(llm)


def test_vllm_backend_never_samples_placeholders(vlm, monkeypatch):
    """Every request to a VLM, with or without a picture, bans its placeholder tokens
    through V1's logit_bias (-inf); a text-only model gets no ban."""
    image_token = vlm.model.config.image_token_index
    llm = FakeLLM(vlm.tokenizer, vlm.model.config, vocab_size=image_token + 1)
    backend = fake_vllm_backend(monkeypatch, llm)
    assert backend.v1_engine
    assert backend.placeholder_token_ids == vlm.placeholder_token_ids == (image_token,)
    results = backend.generate([ask(picture(40)), ask(None)])
    assert all(r.ok for r in results)
    assert len(llm.params) == 2  # the image row and the text row
    for params in llm.params:
        assert params["logit_bias"] == {image_token: float("-inf")}
        assert "logits_processors" not in params  # V1 refuses them
    assert llm.params[0]["logit_bias"] is not llm.params[1]["logit_bias"]

    text_config = vlm.model.config.get_text_config()
    assert getattr(text_config, "image_token_index", None) is None  # a Qwen2 config
    text_llm = FakeLLM(vlm.tokenizer, text_config)
    text_backend = fake_vllm_backend(monkeypatch, text_llm)
    assert text_backend.placeholder_token_ids == ()
    (result,) = text_backend.generate([ask(None)])
    assert result.ok
    (params,) = text_llm.params
    assert "logit_bias" not in params and "logits_processors" not in params


def test_vllm_backend_v0_engine_masks_placeholders(vlm, monkeypatch):
    """V0 clamps logit_bias to [-100, 100]: a per-request logits processor sets -inf."""
    import pickle

    image_token = vlm.model.config.image_token_index
    llm = FakeLLM(vlm.tokenizer, vlm.model.config, v1=False)
    backend = fake_vllm_backend(monkeypatch, llm)
    assert not backend.v1_engine
    backend.generate([ask(picture(41)), ask(None)])
    for params in llm.params:
        assert "logit_bias" not in params
        (processor,) = params["logits_processors"]
        processor = pickle.loads(pickle.dumps(processor))  # V0 may ship it to workers
        logits = torch.arange(image_token + 8, dtype=torch.float32)
        out = processor([1, 2], logits.clone())
        assert out[image_token] == float("-inf")
        keep = torch.ones_like(logits, dtype=torch.bool)
        keep[image_token] = False
        assert torch.equal(out[keep], logits[keep])


def test_vllm_backend_drops_placeholders_past_the_vocabulary(vlm, monkeypatch):
    """vLLM refuses a logit_bias id outside the vocabulary; such an id is never sampled
    anyway, so it is left out."""
    image_token = vlm.model.config.image_token_index
    llm = FakeLLM(vlm.tokenizer, vlm.model.config, vocab_size=image_token)
    backend = fake_vllm_backend(monkeypatch, llm)
    assert backend.placeholder_token_ids == ()
    backend.generate([ask(None)])
    assert "logit_bias" not in llm.params[0]


@pytest.mark.skipif(
    not torch.cuda.is_available()
    or __import__("importlib").util.find_spec("vllm") is None,
    reason='needs a CUDA GPU and vLLM: pip install "selfplay-envs[vllm]"',
)
def test_vllm_engine_sees_the_picture(vlm_dir):
    from selfplay_agents.inference.vllm_backend import VLLMBackend

    backend = VLLMBackend(
        vlm_dir, max_model_len=CONTEXT, gpu_memory_utilization=0.3, enforce_eager=True
    )
    a, b = backend.generate([ask(picture(30)), ask(picture(31))])
    assert a.ok and b.ok, (a.error, b.error)
    assert a.prompt_token_ids == b.prompt_token_ids
    assert a.completion_token_ids != b.completion_token_ids or a.logprobs != b.logprobs
    # The real SamplingParams carry the placeholder ban the engine accepted above.
    image_token = backend.llm.llm_engine.model_config.hf_config.image_token_index
    assert backend.placeholder_token_ids == (image_token,)
    params = backend._sampling(ask(None), None)
    if backend.v1_engine:
        assert params.logit_bias == {image_token: float("-inf")}
    else:
        assert params.logits_processors
    assert image_token not in a.completion_token_ids + b.completion_token_ids
