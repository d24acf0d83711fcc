"""A vision-language policy plays Who-Is-the-Spy on pictures, on CPU, end to end.

A tiny LLaVA model with random weights (``selfplay_agents.testing.build_tiny_vlm``, built on the
spot, nothing downloaded) takes seats 1 and 2 of ``who_is_the_spy_v0`` on procedural
scene pairs; scripted players (``ScriptedSpyPlayer``) take the others. The games run
through the ``BatchInferenceAdapter`` and the ``transformers`` backend, which feeds each
player's own picture to the model through the model's processor. The run writes:

* ``turns.jsonl``: the adapter's turn log (token ids, logprobs, and ``images``, the
  hash of the picture each prompt carried);
* ``rows.jsonl``: trainer rows (``selfplay_agents.export``) of the model's turns;
* ``images/<hash>.png``: every picture the model saw, named by its hash, so a trainer
  can rebuild the exact inputs of each row (``selfplay_agents.inference.base.image_hash`` of
  the decoded PNG is the name again);
* ``summary.json``: outcomes, the adapter's throughput and overhead, and the measured
  VLM requests/s of one batched call against the same requests one by one.

This shows the plumbing, not learning: the model is random, so its clues and votes are
mostly invalid and the scripted players win. Nothing is trained.

    python examples/vlm_spy_selfplay.py              # 16 games, about 10 s on 2 cores
    python examples/vlm_spy_selfplay.py --quick      # the CI size
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from selfplay_agents.adapter import BatchInferenceAdapter
from selfplay_agents.export import trainer_rows, write_jsonl
from selfplay_agents.inference.base import Request, Result, SamplingParams, image_hash
from selfplay_agents.inference.transformers_backend import TransformersBackend
from selfplay_agents.llm import LLMPolicy
from selfplay_agents.opponents.who_is_the_spy import ScriptedSpyPlayer
from selfplay_agents.testing import build_tiny_vlm
from selfplay_envs.core.episode import InvalidMovePolicy

ENV_ID = "who_is_the_spy_v0"


class PictureStore:
    """Wraps a backend: saves each picture it is sent as ``images/<hash>.png``.

    It also keeps the requests, for the batch-against-singles measurement.
    """

    def __init__(self, backend: TransformersBackend, folder: Path):
        self.backend = backend
        self.name = backend.name
        self.max_concurrent_batches = backend.max_concurrent_batches
        self.tokenizer = backend.tokenizer
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.requests: list[Request] = []

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        from PIL import Image

        for request in requests:
            for image in request.images:
                path = self.folder / f"{image_hash(image).split(':')[1]}.png"
                if not path.exists():
                    Image.fromarray(image).save(path)
        self.requests.extend(requests)
        return self.backend.generate(requests)


def batch_against_singles(
    backend: TransformersBackend, requests: Sequence[Request], rounds: int
) -> dict[str, float]:
    """Requests/s of one batched call and of the same requests one by one.

    Alternating rounds in one run, so both see the same machine load; greedy, so both
    generate the same tokens.
    """
    greedy = SamplingParams(max_tokens=16, temperature=0)
    requests = [
        Request(messages=r.messages, sampling=greedy, seed=r.seed) for r in requests
    ]
    batch_s = singles_s = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        backend.generate(requests)
        batch_s += time.perf_counter() - start
        start = time.perf_counter()
        for request in requests:
            backend.generate([request])
        singles_s += time.perf_counter() - start
    batched = rounds * len(requests) / batch_s
    single = rounds * len(requests) / singles_s
    return {
        "requests": len(requests),
        "rounds": rounds,
        "batch_requests_per_s": batched,
        "single_requests_per_s": single,
        "batch_over_single": batched / single,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/vlm_spy"))
    parser.add_argument("--model", type=Path, default=None, help="a VLM directory")
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4, help="timing rounds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="the CI size")
    args = parser.parse_args(argv)
    if args.quick:
        args.episodes, args.num_envs, args.rounds = 2, 2, 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    turns_path = out / "turns.jsonl"
    turns_path.unlink(missing_ok=True)  # the adapter appends

    model_dir = args.model or build_tiny_vlm(out / "model", seed=args.seed)
    backend = TransformersBackend(model_dir, device="cpu", max_model_len=4096)
    store = PictureStore(backend, out / "images")
    # Few tokens and no retries: a random model rarely answers in the format anyway.
    policy = LLMPolicy(
        store,
        name="tiny-vlm",
        sampling=SamplingParams(max_tokens=24, temperature=1.0),
        retries=0,
        seed=args.seed,
    )
    adapter = BatchInferenceAdapter(
        ENV_ID,
        {0: policy, 1: policy, "*": ScriptedSpyPlayer(seed=args.seed)},
        num_envs=args.num_envs,
        seed=args.seed,
        # Penalty: an invalid clue or vote is played as "(no clue)" / no vote and the
        # game goes on, so every game reaches the vote with the model's turns in it.
        invalid_move=InvalidMovePolicy(mode="penalty"),
        trajectory_path=turns_path,
        items="scene",
        image_size=56,
    )
    run = adapter.run(num_episodes=args.episodes)
    rows = trainer_rows(run.trajectories, policies=["tiny-vlm"])
    write_jsonl(rows, out / "rows.jsonl")

    timing_requests = store.requests[: args.num_envs * 2]
    summary: dict[str, Any] = {
        "note": "plumbing only: a random-weight model, nothing is trained",
        "episodes": len(run.trajectories),
        "model_turns": len(rows),
        "valid_model_turns": sum(row.valid for row in rows),
        "phases": sorted({row.phase for row in rows}),
        "pictures": len(list((out / "images").glob("*.png"))),
        "spy_wins": sum(
            t.outcomes[next(a for a, f in t.final_infos.items() if f["is_spy"])]
            == "win"
            for t in run.trajectories
        ),
        "adapter": {
            key: run.stats.to_dict()[key]
            for key in (
                "wall_s",
                "backend_s",
                "env_s",
                "scripted_s",
                "overhead_s",
                "overhead_fraction",
                "requests",
                "backend_calls",
                "mean_batch_size",
                "requests_per_s",
            )
        },
        "vlm_batch_vs_single": batch_against_singles(
            backend, timing_requests, args.rounds
        ),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    import torch

    # One thread: on a small shared machine OpenMP's spinning threads slow tiny models.
    torch.set_num_threads(1)
    main()
