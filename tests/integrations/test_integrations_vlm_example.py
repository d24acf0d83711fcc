"""``examples/vlm_spy_selfplay.py --quick`` runs offline and leaves rebuildable records.

It runs as a fresh process with ``HF_HUB_OFFLINE=1``, so building and loading the tiny
VLM (model, tokenizer, processor) is checked to need no network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch", reason="the agents extra (torch) is not installed")
pytest.importorskip("transformers", reason="the agents extra is not installed")

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_vlm_spy_example_quick(tmp_path: Path):
    from PIL import Image

    from selfplay_agents.export import read_jsonl
    from selfplay_agents.inference.base import image_hash

    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [
            sys.executable,
            "examples/vlm_spy_selfplay.py",
            "--quick",
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["episodes"] == 2 and summary["model_turns"] > 0
    assert summary["adapter"]["overhead_s"] >= 0
    timing = summary["vlm_batch_vs_single"]
    assert timing["batch_requests_per_s"] > 0 and timing["single_requests_per_s"] > 0
    rows = list(read_jsonl(tmp_path / "rows.jsonl"))
    assert rows and all(row.policy == "tiny-vlm" for row in rows)
    # Every row names its picture; the saved PNG decodes to the same hash.
    for row in rows:
        assert len(row.images) == 1
        path = tmp_path / "images" / f"{row.images[0].split(':')[1]}.png"
        with Image.open(path) as image:
            assert image_hash(np.asarray(image.convert("RGB"))) == row.images[0]
        assert len(row.completion_ids) == len(row.logprobs) > 0
