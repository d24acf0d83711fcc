"""Tiny local models for tests, examples and benchmarks: no download, seconds to build.

``build_tiny_model(path, seed)`` writes a Hugging Face model directory: a byte-level BPE
tokenizer trained on the spot with ``tokenizers`` on a few hundred generated game lines,
a ChatML chat template, and a small Qwen2 (or Llama) causal LM with random weights. It
produces garbage, so tests built on it check plumbing (batching, padding, token and
logprob alignment, invalid output), never play. The weights use a wide initialisation
so that the greedy output depends on the whole prompt: a padding bug changes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from selfplay_agents.inference.transformers_backend import import_torch_transformers

__all__ = ["CHATML_TEMPLATE", "QWEN3_LIKE_TEMPLATE", "build_tiny_model", "tiny_corpus"]

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
THINK_TOKENS = ("<think>", "</think>")

# ChatML, as Qwen2: every message kept verbatim. ``enable_thinking=False`` pre-fills an
# empty think block, as Qwen3's template does.
CHATML_TEMPLATE = (
    "{%- for m in messages -%}"
    "{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false -%}"
    "{{ '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif -%}"
    "{%- endif -%}"
)

# Qwen3's rule for history: assistant turns before the last user message lose their
# ``<think>`` block (the template keeps only the text after ``</think>``).
QWEN3_LIKE_TEMPLATE = (
    "{%- set ns = namespace(last_user=-1) -%}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'user' -%}{%- set ns.last_user = loop.index0 -%}{%- endif -%}"
    "{%- endfor -%}"
    "{%- for m in messages -%}"
    "{%- set content = m['content'] -%}"
    "{%- if m['role'] == 'assistant' and loop.index0 < ns.last_user "
    "and '</think>' in content -%}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') -%}"
    "{%- endif -%}"
    "{{ '<|im_start|>' + m['role'] + '\\n' + content + '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{ '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false -%}"
    "{{ '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif -%}"
    "{%- endif -%}"
)

_WORDS = (
    "you are playing tic-tac-toe kuhn poker negotiation game move cell row column "
    "legal moves turn board wins draw bet check call fold pass offer accept reject "
    "player opponent think step by step final answer reason valid action the a is "
    "your it to of and in with put within"
).split()


def tiny_corpus(rng: np.random.Generator, lines: int = 400) -> list[str]:
    """Game-like lines (rules, boards, moves, answer formats) to train the tokenizer on.

    The prompt texts of ``selfplay_agents.prompts`` are in it, so prompts tokenize compactly.
    """
    from selfplay_agents.prompts import PROMPTS, STYLE_INSTRUCTIONS

    corpus = [t.system for t in PROMPTS.values()] + list(STYLE_INSTRUCTIONS.values())
    corpus += [
        "You are playing tic-tac-toe as 'x'.",
        "Cells are numbered 0-8, row by row; a number marks an empty cell.",
        "It is your turn ('o'). Legal moves: 0, 1, 2, 3, 5, 6, 7, 8.",
        "Your last move was invalid (unparseable: expected a cell 0-8). Attempts left: 2.",
    ]
    for _ in range(lines):
        words = rng.choice(_WORDS, size=int(rng.integers(4, 14)))
        cell = int(rng.integers(0, 9))
        board = " | ".join(str(c) if rng.random() < 0.6 else "x" for c in range(3))
        answer = rng.choice(
            [f"\\boxed{{{cell}}}", f"<answer>{cell}</answer>", f"[{cell}]"]
        )
        corpus.append(f"{' '.join(words)}\n{board}\n---------\n{answer}")
    return corpus


def build_tiny_model(
    path: str | Path,
    seed: int = 0,
    *,
    arch: str = "qwen2",
    hidden_size: int = 64,
    num_layers: int = 2,
    vocab_size: int = 512,
    max_position_embeddings: int = 1024,
    chat_template: str = CHATML_TEMPLATE,
    init_range: float = 0.2,
) -> Path:
    """Write a random-weight causal LM with a freshly trained tokenizer to ``path``.

    Args:
        path: Output directory (created).
        seed: Seeds the corpus and the weights; the same seed gives the same model.
        arch: ``"qwen2"`` or ``"llama"``.
        hidden_size: Model width (4 attention heads, 2 key-value heads).
        num_layers: Decoder layers.
        vocab_size: Target BPE vocabulary size, special tokens included.
        max_position_embeddings: Context length.
        chat_template: Jinja chat template saved with the tokenizer.
        init_range: Standard deviation of the random weights.

    Returns:
        ``path`` as a ``Path``, loadable with ``from_pretrained``.
    """
    torch, transformers = import_torch_transformers()
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(np.random.default_rng(seed), vocab_size, chat_template)
    config = _config(
        transformers,
        arch,
        len(tokenizer),
        hidden_size,
        num_layers,
        max_position_embeddings,
        init_range,
        tokenizer,
    )
    model_class = {
        "qwen2": transformers.Qwen2ForCausalLM,
        "llama": transformers.LlamaForCausalLM,
    }[arch]
    # Weight init draws from torch's global RNG: fork it so callers keep their state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_class(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _train_tokenizer(
    rng: np.random.Generator, vocab_size: int, chat_template: str
) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AddedToken, PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(tiny_corpus(rng), trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
    )
    # Think tags are added tokens but not special ones, as in Qwen3: decoding with
    # ``skip_special_tokens=True`` keeps them.
    tokenizer.add_tokens(
        [AddedToken(t, special=False, normalized=False) for t in THINK_TOKENS]
    )
    tokenizer.chat_template = chat_template
    return tokenizer


def _config(
    transformers: Any,
    arch: str,
    vocab: int,
    hidden: int,
    layers: int,
    positions: int,
    init_range: float,
    tokenizer: Any,
) -> Any:
    if arch not in ("qwen2", "llama"):
        raise ValueError(f"expected arch 'qwen2' or 'llama', got {arch!r}")
    config_class = (
        transformers.Qwen2Config if arch == "qwen2" else transformers.LlamaConfig
    )
    return config_class(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=positions,
        initializer_range=init_range,
        tie_word_embeddings=False,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


# ---- a tiny vision-language model ---------------------------------------------------

IMAGE_TOKEN = "<image>"

# ChatML with image parts, as LLaVA-style processors expect: a message's ``content`` is
# a string, or a list of ``{"type": "image"}`` and ``{"type": "text", "text": ...}``
# parts; each image part becomes one ``<image>`` placeholder that the processor expands
# into the image's patch tokens.
VLM_CHAT_TEMPLATE = (
    "{%- for m in messages -%}"
    "{{ '<|im_start|>' + m['role'] + '\\n' }}"
    "{%- if m['content'] is string -%}{{ m['content'] }}"
    "{%- else -%}{%- for part in m['content'] -%}"
    "{%- if part['type'] == 'image' -%}{{ '<image>\\n' }}"
    "{%- elif part['type'] == 'text' -%}{{ part['text'] }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{ '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)


def build_tiny_vlm(
    path: str | Path,
    seed: int = 0,
    *,
    image_size: int = 56,
    patch_size: int = 14,
    hidden_size: int = 64,
    num_layers: int = 2,
    vision_hidden_size: int = 32,
    vision_layers: int = 2,
    vocab_size: int = 512,
    max_position_embeddings: int = 4096,
    init_range: float = 0.2,
) -> Path:
    """Write a random-weight LLaVA model (CLIP vision tower, Qwen2 text model) to ``path``.

    LLaVA because its processor needs only Pillow: in transformers 5.25 the Qwen2-VL
    processor also builds a video processor, which needs torchvision. The processor is
    built here from a tokenizer trained on the spot (``<image>`` added as a special
    token) and a ``CLIPImageProcessorPil`` that resizes and crops every picture to
    ``image_size`` square, so an image is ``(image_size / patch_size) ** 2`` tokens (16
    by default) and any input size works. Nothing is downloaded. Load it with
    ``AutoProcessor`` and ``AutoModelForImageTextToText``, or pass the path to
    ``TransformersBackend``.

    Args:
        path: Output directory (created).
        seed: Seeds the corpus and the weights; the same seed gives the same model.
        image_size: Side of the square the processor resizes pictures to.
        patch_size: Vision patch side; ``image_size`` must be a multiple of it.
        hidden_size: Text model width (4 attention heads, 2 key-value heads).
        num_layers: Text decoder layers.
        vision_hidden_size: Vision tower width (2 heads).
        vision_layers: Vision tower layers.
        vocab_size: Target BPE vocabulary size, special tokens included.
        max_position_embeddings: Text context length (long enough for the spy
            game's prompts, about 1k tokens with this tokenizer).
        init_range: Standard deviation of the random weights.

    Returns:
        ``path`` as a ``Path``.
    """
    torch, transformers = import_torch_transformers()
    if image_size % patch_size:
        raise ValueError(
            f"expected image_size a multiple of patch_size={patch_size}, "
            f"got {image_size}"
        )
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(
        np.random.default_rng(seed), vocab_size, VLM_CHAT_TEMPLATE
    )
    tokenizer.add_special_tokens({"additional_special_tokens": [IMAGE_TOKEN]})
    image_processor = transformers.CLIPImageProcessorPil(
        size={"shortest_edge": image_size},
        crop_size={"height": image_size, "width": image_size},
    )
    # "default" drops the CLS token of the vision tower's output; the processor counts
    # it (num_additional_image_tokens=1) before dropping it, as LLaVA-1.5 does.
    processor = transformers.LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=patch_size,
        vision_feature_select_strategy="default",
        chat_template=VLM_CHAT_TEMPLATE,
        image_token=IMAGE_TOKEN,
        num_additional_image_tokens=1,
    )
    config = _vlm_config(
        transformers,
        tokenizer,
        image_size=image_size,
        patch_size=patch_size,
        hidden=hidden_size,
        layers=num_layers,
        vision_hidden=vision_hidden_size,
        vision_layers=vision_layers,
        positions=max_position_embeddings,
        init_range=init_range,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.LlavaForConditionalGeneration(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def _vlm_config(
    transformers: Any,
    tokenizer: Any,
    *,
    image_size: int,
    patch_size: int,
    hidden: int,
    layers: int,
    vision_hidden: int,
    vision_layers: int,
    positions: int,
    init_range: float,
) -> Any:
    text = {
        "model_type": "qwen2",
        "vocab_size": len(tokenizer),
        "hidden_size": hidden,
        "intermediate_size": 2 * hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": positions,
        "initializer_range": init_range,
        "tie_word_embeddings": False,
        "bos_token_id": None,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    vision = {
        "model_type": "clip_vision_model",
        "hidden_size": vision_hidden,
        "intermediate_size": 2 * vision_hidden,
        "num_hidden_layers": vision_layers,
        "num_attention_heads": 2,
        "image_size": image_size,
        "patch_size": patch_size,
        "projection_dim": vision_hidden,
        "initializer_range": init_range,
    }
    return transformers.LlavaConfig(
        text_config=text,
        vision_config=vision,
        image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        image_seq_length=(image_size // patch_size) ** 2,
        vision_feature_select_strategy="default",
        # The last layer, so that every vision weight shapes the image features.
        vision_feature_layer=-1,
        tie_word_embeddings=False,
    )


__all__ += ["IMAGE_TOKEN", "VLM_CHAT_TEMPLATE", "build_tiny_vlm"]
