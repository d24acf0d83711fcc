"""Our games behind a real OpenEnv server on loopback, driven by OpenEnv's clients.

Each server is ``python -m selfplay_agents.integrations.openenv`` in a subprocess; the
games go through OpenEnv's ``EnvClient`` machinery (our typed subclass, and OpenEnv's
own ``GenericEnvClient``) over its WebSocket session, with scripted moves. Every
reward is checked against a replay of the session's moves through
``selfplay_envs.make``.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import selfplay_envs
from selfplay_agents.integrations.seat import replay_moves

pytest.importorskip(
    "openenv", reason="openenv-core is not installed (the openenv extra)"
)

import httpx  # noqa: E402
from openenv.core import GenericEnvClient  # noqa: E402

from selfplay_agents.integrations import openenv as so  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MODULE = "selfplay_agents.integrations.openenv"
KUHN_CONFIG = {"invalid_move": "loss"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", MODULE, *args]


class Server:
    """``python -m selfplay_agents.integrations.openenv --port <free> *args``."""

    def __init__(self, tmp_path: Path, *args: str):
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = tmp_path / f"server-{port}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                _command("--port", str(port), *args),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def wait_healthy(self, timeout: float = 180) -> str:
        """The URL, once ``GET /health`` answers (importing openenv takes a while)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited: {self.log.read_text()}")
            try:
                if httpx.get(
                    f"{self.url}/health", timeout=2, trust_env=False
                ).is_success:
                    return self.url
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server never became healthy: {self.log.read_text()}")
            time.sleep(0.25)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One server per configuration the tests play, started together for the module."""
    tmp = tmp_path_factory.mktemp("openenv")
    configs = {
        # The env's default invalid-move policy: retries, then a loss.
        "ttt": ("--env", "tic_tac_toe_v0", "--seat", "player_0"),
        # A make() option through --config: the first invalid move loses.
        "kuhn_loss": (
            "--env",
            "kuhn_poker_v0",
            "--seat",
            "1",
            "--opponent",
            "random",
            "--config",
            json.dumps(KUHN_CONFIG),
        ),
    }
    started: dict[str, Server] = {}
    try:
        for name, args in configs.items():
            started[name] = Server(tmp, *args)
        yield {name: server.wait_healthy() for name, server in started.items()}
    finally:
        for server in started.values():
            server.stop()


def _pick(text: str, legal: list[str] | None) -> str:
    """Nonsense goes as it is; a scripted move not legal now becomes the first legal."""
    if not text.isalnum() or not legal or text in legal:
        return text
    return legal[0]


@pytest.mark.parametrize(
    ("server", "env_id", "seat", "seed", "script", "config"),
    [
        # Nonsense first: an invalid move, retried under the default policy.
        ("ttt", "tic_tac_toe_v0", "player_0", 5, ["no!", "4", "0", "8", "2", "6"], {}),
        ("kuhn_loss", "kuhn_poker_v0", "player_1", 3, ["call", "bet"], KUHN_CONFIG),
    ],
)
def test_full_games_through_the_openenv_client_score_our_env_returns(
    servers, server, env_id, seat, seed, script, config
):
    with so.SelfplayEnvClient(base_url=servers[server]).sync() as client:
        result = client.reset(seed=seed)
        observation = result.observation
        assert observation.seat == seat and observation.prompt and not result.done
        total, invalid = 0.0, []
        for text in script * 3:
            result = client.step(_pick(text, observation.legal_moves))
            observation = result.observation
            total += result.reward
            if observation.invalid_move:
                invalid.append(observation.reason)
            if result.done:
                break
        assert result.done
        # Scripted nonsense is an invalid move with a reason, never an error.
        assert len(invalid) == sum(not t.isalnum() for t in script[: len(invalid)])
        assert all(invalid)
        state = client.state()
    assert state.env_id == env_id and state.seat == seat and state.seed == seed
    assert state.config == config
    assert state.done and state.invalid_moves == len(invalid)
    returns = replay_moves(env_id, seed, [tuple(m) for m in state.moves], **config)
    assert total == pytest.approx(returns[seat])
    assert observation.episode_return == pytest.approx(returns[seat])
    assert observation.returns == pytest.approx(returns)
    assert observation.outcome in {"win", "loss", "draw"}


def test_an_invalid_move_is_reported_and_the_game_goes_on(servers):
    with so.SelfplayEnvClient(base_url=servers["ttt"]).sync() as client:
        first = client.reset(seed=1).observation
        assert first.legal_moves == [str(i) for i in range(9)]
        result = client.step(so.MoveAction(move="the middle, please"))
        observation = result.observation
        assert observation.invalid_move and not result.done and result.reward == 0.0
        assert "unparseable" in observation.reason
        assert "invalid" in observation.prompt  # the env's warning, for the model
        assert observation.legal_moves == first.legal_moves  # nothing was played
        result = client.step("4")  # the same session plays on
        assert not result.observation.invalid_move
        assert "4" not in result.observation.legal_moves


def test_the_invalid_move_policy_is_the_envs_own(servers):
    """Served with ``--config '{"invalid_move": "loss"}'``: the first one forfeits."""
    with so.SelfplayEnvClient(base_url=servers["kuhn_loss"]).sync() as client:
        client.reset(seed=2)
        result = client.step("???")
        state = client.state()
    assert result.done and result.observation.invalid_move
    assert result.observation.reason and result.observation.outcome == "loss"
    moves = [tuple(m) for m in state.moves]
    returns = replay_moves("kuhn_poker_v0", 2, moves, **KUHN_CONFIG)
    assert result.reward == pytest.approx(returns["player_1"]) and result.reward < 0


def test_openenvs_generic_client_plays_without_our_classes(servers):
    with GenericEnvClient(base_url=servers["ttt"]).sync() as client:
        result = client.reset(seed=7)
        total = 0.0
        while not result.done:
            result = client.step({"move": result.observation["legal_moves"][-1]})
            total += result.reward
        state = client.state()
    returns = replay_moves("tic_tac_toe_v0", 7, [tuple(m) for m in state["moves"]])
    assert total == pytest.approx(returns["player_0"])
    assert result.observation["returns"] == pytest.approx(returns)


def test_api_misuse_is_an_error_and_the_server_stays_up(servers):
    with so.SelfplayEnvClient(base_url=servers["kuhn_loss"]).sync() as client:
        with pytest.raises(RuntimeError, match="reset before step"):
            client.step("4")
        client.reset(seed=0)
        assert client.step("?").done
        with pytest.raises(RuntimeError, match="the game is over"):
            client.step("4")
        with pytest.raises(RuntimeError, match="expected reset options"):
            client.reset(seed=0, board="x")
        assert not client.reset(seed=0).done  # the session survived all of it


def test_sessions_are_separate_games(servers):
    url = servers["ttt"]
    with (
        so.SelfplayEnvClient(base_url=url).sync() as a,
        so.SelfplayEnvClient(base_url=url).sync() as b,
    ):
        a.reset(seed=11)
        b.reset(seed=11)
        a.step("0")
        assert b.state().moves == [] and len(a.state().moves) >= 1


def test_the_http_description_endpoints(servers):
    url = servers["kuhn_loss"]
    schema = httpx.get(f"{url}/schema", trust_env=False).json()
    assert "move" in schema["action"]["properties"]
    assert {"prompt", "legal_moves", "invalid_move"} <= set(
        schema["observation"]["properties"]
    )
    metadata = httpx.get(f"{url}/metadata", trust_env=False).json()
    assert metadata["name"] == "selfplay:kuhn_poker_v0"


@pytest.mark.parametrize("env_id", selfplay_envs.list_envs())
def test_every_game_makes_json_observations_and_state(env_id):
    """In-process: what a server would send for a reset and a nonsense move."""
    env = so.SelfplayEnvironment(env_id)
    first = env.reset(seed=0)
    assert first.prompt and not first.done and first.seat == "player_0"
    after = env.step(so.MoveAction(move="???"))
    for message in (first, after, env.state):
        message.model_validate_json(message.model_dump_json())  # survives the wire
    assert env.state.moves[0] == ("player_0", "???")
    if after.invalid_move:
        assert after.reason


def test_the_trl_env_plays_a_game_through_its_tool(servers):
    with so.SelfplayTrlEnv(base_url=servers["ttt"]) as env:
        prompt = env.reset(seed=4, prompt=[{"role": "user", "content": "Play."}])
        assert "tic-tac-toe" in prompt and env.get_reward() == 0.0
        reply = env.play_move("nonsense")
        assert "invalid" in reply
        for _ in range(9):
            reply = env.play_move(env._observation.legal_moves[0])
            if reply.startswith("The game is over"):
                break
        assert reply.startswith("The game is over")
        with pytest.raises(ValueError, match="game is over"):
            env.play_move("4")
        moves = env._client.state().moves
    returns = replay_moves("tic_tac_toe_v0", 4, [tuple(m) for m in moves])
    assert env.get_reward() == pytest.approx(returns["player_0"])


def test_the_trl_env_offers_exactly_one_tool_with_a_schema():
    import inspect

    transformers_utils = pytest.importorskip(
        "transformers.utils", reason="transformers renders TRL's tool schemas"
    )
    # What GRPOTrainer collects: public functions of the class but reset/get_reward.
    names = [
        name
        for name, _ in inspect.getmembers(so.SelfplayTrlEnv, inspect.isfunction)
        if not name.startswith("_")
    ]
    assert sorted(names) == ["get_reward", "play_move", "reset"]
    schema = transformers_utils.get_json_schema(so.SelfplayTrlEnv.play_move)
    assert schema["function"]["name"] == "play_move"
    assert schema["function"]["parameters"]["required"] == ["move"]


@pytest.mark.slow
def test_trls_grpo_trainer_takes_it_as_environment_factory(servers, tmp_path):
    """One GRPO step on a tiny random model: TRL probes the class, resets one game per
    rollout with the dataset row (its ``seed``) and scores it with ``get_reward``."""
    trl = pytest.importorskip("trl", reason="the trainers extra is not installed")
    datasets = pytest.importorskip("datasets", reason="the trainers extra")
    transformers = pytest.importorskip("transformers", reason="the agents extra")
    from selfplay_agents.testing import build_tiny_model

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    # A chat template TRL knows how to parse tool calls from (it ships it).
    template = Path(trl.__file__).parent / "chat_templates" / "qwen3.jinja"
    path = build_tiny_model(
        tmp_path / "model", seed=0, chat_template=template.read_text()
    )
    seeds: list[int] = []

    class Recording(so.SelfplayTrlEnv):
        def reset(self, seed=None, **row):
            seeds.append(seed)
            return super().reset(seed=seed, **row)

    config = trl.GRPOConfig(
        output_dir=str(tmp_path / "trainer"),
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=8,
        max_steps=1,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        bf16=False,
        save_strategy="no",
        seed=0,
        chat_template_kwargs={"enable_thinking": False},
    )
    trainer = trl.GRPOTrainer(
        model=transformers.AutoModelForCausalLM.from_pretrained(path),
        processing_class=transformers.AutoTokenizer.from_pretrained(path),
        args=config,
        train_dataset=datasets.Dataset.from_dict(
            {
                "prompt": [[{"role": "user", "content": "Play."}]] * 4,
                "seed": [0, 1, 2, 3],
            }
        ),
        environment_factory=functools.partial(Recording, base_url=servers["ttt"]),
    )
    trainer.train()
    assert sorted(set(seeds)) <= [0, 1, 2, 3] and len(seeds) == 4
    logged = trainer.state.log_history[0]
    # The env is TRL's reward source (its column is named after the class).
    assert "rewards/Recording/mean" in logged
    assert [t.__name__ for t in trainer.tools] == ["play_move"]


# ---- the command -----------------------------------------------------------------------


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(*args), capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def test_the_command_refuses_an_unknown_env_id_in_one_line():
    result = _run("--env", "tic_tac_toe", "--port", str(_free_port()))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "'tic_tac_toe'" in lines[0] and "tic_tac_toe_v0" in lines[0]
    assert "kuhn_poker_v0" in lines[0]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--opponent", "nobody"), "nobody"),
        (("--seat", "player_7"), "player_7"),
        (("--config", '{"bogus": 1}'), "bogus"),
        (("--config", "not json"), "--config"),
        (("--config", "[1]"), "JSON object"),
        (("--max-sessions", "0"), "--max-sessions"),
    ],
)
def test_the_command_refuses_bad_config_naming_it(args, named, capsys):
    # The command's own main(), in-process: a subprocess each would re-import openenv.
    with pytest.raises(SystemExit) as exit_info:
        so.main(["--env", "tic_tac_toe_v0", "--port", str(_free_port()), *args])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], lines
