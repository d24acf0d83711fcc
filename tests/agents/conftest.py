"""Fixtures of the agents tests: one tiny random model, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Qwen2-architecture model with random weights and a freshly trained tokenizer."""
    pytest.importorskip("torch", reason="the agents extra (torch) is not installed")
    pytest.importorskip("transformers", reason="the agents extra is not installed")
    import torch

    from selfplay_agents.testing import build_tiny_model

    # One thread: on a busy 2-core machine OpenMP's spinning threads make the tiny
    # model's matmuls tens of times slower than a single thread.
    torch.set_num_threads(1)

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)


@pytest.fixture(scope="session")
def tiny_backend(tiny_model_dir: Path):
    """The transformers backend on CPU over the tiny model (context 512 tokens)."""
    from selfplay_agents.inference.transformers_backend import TransformersBackend

    return TransformersBackend(tiny_model_dir, device="cpu", max_model_len=512)
