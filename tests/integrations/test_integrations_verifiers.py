"""Our games as verifiers environments, run by verifiers' own eval runner and CLI.

The model is the tiny random-weight model served by ``selfplay_agents.serve`` on
loopback (started here, stopped afterwards); rewards are checked by replaying the
recorded moves through ``selfplay_envs.make``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import selfplay_envs
from selfplay_agents.integrations.seat import replay_moves

vf = pytest.importorskip(
    "verifiers.v1", reason="verifiers is not installed (the verifiers extra)"
)
pytest.importorskip("torch", reason="the agents extra (torch) is not installed")

from verifiers.v1.cli.eval.runner import run_eval  # noqa: E402
from verifiers.v1.configs.cli.eval import EvalConfig  # noqa: E402

from selfplay_agents.integrations import verifiers as sv  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
KEY_VAR = "SELFPLAY_TEST_NO_KEY"  # the local server takes any key


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from selfplay_agents.testing import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path) -> Iterator[str]:
    """``selfplay_agents.serve`` on a free loopback port; its base URL."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "selfplay_agents.serve",
            "--model",
            str(tiny_model_dir),
            "--port",
            "0",
            "--device",
            "cpu",
            "--max-model-len",
            "1024",
            "--served-model-name",
            "tiny",
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
            pytest.fail(f"expected the server to start, got {lines!r}")
        yield lines[0].split()[1]
    finally:
        process.terminate()
        process.wait(timeout=30)


def replay(env_id, seed, moves, config):
    return replay_moves(env_id, seed, [tuple(m) for m in moves], **config)


def evaluate(env: sv.SelfplayEnv, url: str, out: Path) -> list:
    os.environ.setdefault(KEY_VAR, "none")
    config = EvalConfig(
        env=env.config,
        model="tiny",
        client=vf.EvalClientConfig(base_url=url, api_key_var=KEY_VAR),
        sampling=vf.SamplingConfig(max_tokens=4, temperature=1.0),
        push=False,
        rich=None,
        output_dir=out,
    )
    return asyncio.run(run_eval(config))


def check_episode(episode, env_id: str, seat: str, config) -> None:
    assert episode.ok, episode.errors
    (trace,) = episode.traces
    info = trace.info
    # What the model wrote is exactly what our env was sent for the seat.
    replies = [n.message.content.strip() for n in trace.nodes if n.sampled]
    assert [text for agent, text in info["moves"] if agent == seat] == replies
    returns = replay(env_id, info["seed"], info["moves"], config)
    assert trace.rewards["game_return"].score == pytest.approx(returns[seat])
    assert trace.reward == pytest.approx(returns[seat])
    assert info["returns"] == pytest.approx(returns)
    assert info["outcome"] in {"win", "loss", "draw"}
    assert trace.metrics["finished"] == 1.0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env_id", "seat", "config"),
    [
        ("tic_tac_toe_v0", "player_1", {}),  # retries after invalid replies
        ("kuhn_poker_v0", "player_0", {"invalid_move": "penalty"}),  # fallback moves
    ],
)
def test_eval_runner_rewards_are_our_env_returns(
    server, tmp_path, env_id, seat, config
):
    env = sv.load_environment(env_id, seat=seat, num_seeds=3, **config)
    assert isinstance(env, sv.SelfplayEnv)
    episodes = evaluate(env, server, tmp_path)
    assert sorted(e.traces[0].info["seed"] for e in episodes) == [0, 1, 2]
    for episode in episodes:
        check_episode(episode, env_id, seat, config)
    # verifiers wrote the same traces to its run folder.
    (traces,) = tmp_path.glob("*/traces.jsonl")
    rows = [json.loads(line) for line in traces.read_text().splitlines()]
    assert len(rows) == 3


@pytest.mark.slow
def test_vf_eval_cli_runs_the_registered_taskset(server, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", KEY_VAR: "none"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "selfplay_agents.integrations.verifiers",
            sv.TASKSET_ID,
            "--env.taskset.game",
            "kuhn_poker_v0",
            "--env.taskset.num-seeds",
            "2",
            "--model",
            "tiny",
            "--client.base-url",
            server,
            "--client.api-key-var",
            KEY_VAR,
            "--sampling.max-tokens",
            "4",
            "--no-push",
            "--no-rich",
            "-o",
            str(tmp_path),
            "--run.name",
            "kuhn",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [
        json.loads(line)
        for line in (tmp_path / "kuhn" / "traces.jsonl").read_text().splitlines()
    ]
    assert len(rows) == 2
    for row in rows:
        (trace,) = row["traces"]
        returns = replay(
            "kuhn_poker_v0", trace["info"]["seed"], trace["info"]["moves"], {}
        )
        assert trace["rewards"]["game_return"]["score"] == returns["player_0"]


def test_rows_are_seeds_and_prompts_are_our_env_prompts():
    tasks = list(
        sv.load_environment("kuhn_poker_v0", num_seeds=4, first_seed=10).taskset
    )
    assert [t.data.info["seed"] for t in tasks] == [10, 11, 12, 13]
    for task in tasks:  # seat 0 opens the hand: its prompt is the env's first one
        game = selfplay_envs.make("kuhn_poker_v0", view="text", infos="full")
        game.reset(seed=task.data.info["seed"])
        assert task.data.prompt == game.observe("player_0")["text"]
    second = list(sv.load_environment("kuhn_poker_v0", seat=1, num_seeds=2).taskset)
    assert all(t.data.info["seat"] == "player_1" for t in second)
    assert all("You act second" in t.data.prompt for t in second)


def test_bad_config_is_refused_before_any_rollout():
    with pytest.raises(KeyError, match="nobody"):
        sv.load_environment("tic_tac_toe_v0", opponent="nobody")
    with pytest.raises(ValueError, match="player_7"):
        sv.load_environment("tic_tac_toe_v0", seat="player_7")
    with pytest.raises(ValueError, match="invalid_move"):
        sv.load_environment("tic_tac_toe_v0", invalid_move="shrug")


def test_verifiers_loaders_find_the_plugins_by_id():
    from verifiers.v1.utils.loaders import environment_class, taskset_class

    assert taskset_class(sv.TASKSET_ID) is sv.SelfplayTaskset
    assert environment_class(sv.TASKSET_ID) is sv.SelfplayEnv
    assert vf.default_harness_id(sv.TASKSET_ID) == sv.TASKSET_ID
