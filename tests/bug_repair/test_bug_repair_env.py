"""The env end to end on a tiny real repository: phases, tools, rewards, resources."""

from __future__ import annotations

import json
import pickle
import subprocess
from pathlib import Path
from typing import Any

import pytest

import selfplay_envs
from selfplay_envs.games.bug_repair.patches import make_patch
from selfplay_envs.games.bug_repair.repos import RepoSpec, load_repo
from selfplay_envs.games.bug_repair.rules import ssr_injector_reward
from selfplay_envs.games.bug_repair.sandbox import SandboxUnavailable

pytestmark = pytest.mark.usefixtures("need_bwrap")


def _env(repo: RepoSpec, **config: Any):
    env = selfplay_envs.make("bug_repair_v0", repos=[repo], **config)
    env.reset(seed=0)
    return env


def _step(env, text: str) -> dict[str, Any]:
    agent = env.agent_selection
    env.step(text)
    return env.infos.get(agent, {})


def _artifact(repo: RepoSpec) -> str:
    files = load_repo(repo).files
    source = files["tiny.py"].decode()
    tests = files["test_tiny.py"].decode()
    start = tests.index("def test_clamp_high(")
    end = tests.index("\ndef ", start) + 1
    artifact = {
        "bug_patch": make_patch(
            {"tiny.py": files["tiny.py"]},
            {
                "tiny.py": source.replace(
                    "        return hi", "        return lo"
                ).encode()
            },
        ),
        "weaken_patch": make_patch(
            {"test_tiny.py": files["test_tiny.py"]},
            {"test_tiny.py": (tests[:start] + tests[end:]).encode()},
        ),
        "test_files": ["test_tiny.py", "test_tiny_util.py"],
    }
    return f'<tool name="submit">{json.dumps(artifact)}</tool>'


def _finish(env) -> dict[str, dict[str, Any]]:
    """Step the dead agents out; return the final infos."""
    final = dict(env.infos)
    for _ in env.agent_iter():
        env.step(None)
    return final


def test_reset_is_cheap_and_lazy(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo)
    state = env.episode.state
    assert state._workspace is None and state._sandbox is None
    text = env.observe("player_0")["text"]
    assert "INJECTOR" in text and "tiny.py" in text and '<tool name="shell">' in text
    assert env.infos["player_0"]["source_files"] == ["tiny.py", "tiny_util.py"]
    assert env.infos["player_0"]["test_files"] == ["test_tiny.py", "test_tiny_util.py"]
    assert (
        "waiting" in env.observe("player_1")["text"].lower()
        or "wait" in env.observe("player_1")["text"]
    )


def test_junk_is_an_invalid_move_and_three_forfeit(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo)
    info = _step(env, "I think I should break something.")
    assert info["invalid_reason"].startswith("no action found")
    assert "invalid" in env.observe("player_0")["text"]
    _step(env, '<tool name="teleport"/>')
    _step(env, '<tool name="read_file" path="../../etc/passwd"/>')
    assert env.episode.forfeit == [-1.0, 1.0]
    final = _finish(env)
    assert final["player_0"]["artifact_invalid_reason"].startswith("forfeit")
    assert env.episode.state._workspace is None  # no tool ever ran


def test_tools_in_the_injectors_working_copy(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo)
    info = _step(
        env,
        '<tool name="shell">git log --oneline | wc -l && python -m pytest -q 2>&1 | tail -1</tool>',
    )
    assert info["tool_result"]["exit_code"] == 0
    assert info["tool_result"]["stdout"].startswith("2\n")
    assert "8 passed" in info["tool_result"]["stdout"]
    info = _step(
        env, '<tool name="write_file" path="notes/plan.txt">\nbreak clamp\n</tool>'
    )
    assert info["tool_result"]["ok"]
    info = _step(env, '<tool name="read_file" path="notes/plan.txt"/>')
    assert info["tool_result"]["content"] == "break clamp\n"
    info = _step(
        env,
        '<tool name="apply_patch">\n--- a/tiny.py\n+++ b/tiny.py\n@@ -1 +1 @@\n-"""Tiny arithmetic helpers."""\n+"""Changed."""\n</tool>',
    )
    assert info["tool_result"]["changed"] == ["tiny.py"]
    info = _step(
        env,
        '<tool name="apply_patch">\n--- a/tiny.py\n+++ b/tiny.py\n@@ -1 +1 @@\n-nope\n+x\n</tool>',
    )
    assert (
        not info["tool_result"]["ok"]
        and "does not apply" in info["tool_result"]["output"]
    )
    text = env.observe("player_0")["text"]
    assert "## Call 5" in text and "does not apply" in text and "Turn 6 of 30" in text
    env.episode.state.release()


def test_timeouts_are_reported_in_the_observation(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo, command_timeout=2)
    info = _step(env, "<tool name=\"shell\">python -c 'while True: pass'</tool>")
    assert info["tool_result"]["timed_out"]
    assert "TIMED OUT" in env.observe("player_0")["text"]
    info = _step(env, '<tool name="shell">yes</tool>')
    assert "too much output" in env.observe("player_0")["text"]
    env.episode.state.release()


def test_full_episode_solved(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo, solver_attempts=1)
    _step(env, _artifact(tiny_repo))
    assert env.agent_selection == "player_1"
    info = env.infos["player_1"]
    assert "+def test_clamp_high" in info["spec_patch"]
    text = env.observe("player_1")["text"]
    assert (
        "SOLVER" in text and "+def test_clamp_high" in text and "return lo" not in text
    )
    info = _step(
        env,
        '<tool name="shell">ls -a; git log 2>&1 | head -1; python -m pytest -q 2>&1 | tail -1</tool>',
    )
    out = info["tool_result"]["stdout"]
    assert ".git" not in out.split() and "7 passed" in out  # weakened, no history
    original = load_repo(tiny_repo).files["tiny.py"].decode()
    _step(env, f'<tool name="write_file" path="tiny.py">\n{original}</tool>')
    _step(env, '<tool name="submit"/>')
    final = _finish(env)
    assert final["player_1"]["returns"] == {"player_0": -1.0, "player_1": 1.0}
    assert final["player_1"]["solve_rate"] == 1.0
    assert final["player_0"]["ssr_injector_reward"] == pytest.approx(-0.8)
    assert final["player_0"]["validation"]["valid"]
    assert final["player_0"]["attempt_results"][0]["report"]["changed_files"] == [
        "tiny.py"
    ]


def test_edits_to_tests_are_discarded_when_scoring(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo, solver_attempts=1)
    _step(env, _artifact(tiny_repo))
    # "Fix" the tests instead of the code: the oracle files are restored anyway.
    _step(
        env,
        '<tool name="write_file" path="test_tiny.py">\ndef test_nothing():\n    pass\n</tool>',
    )
    _step(env, '<tool name="write_file" path="conftest.py">\nimport pytest\n</tool>')
    _step(env, '<tool name="submit"/>')
    final = _finish(env)
    result = final["player_1"]["attempt_results"][0]
    assert not result["solved"]
    assert result["report"]["still_failing"] == ["test_tiny.py::test_clamp_high"]
    assert final["player_1"]["returns"] == {"player_0": 1.0, "player_1": -1.0}


@pytest.mark.parametrize(
    ("mode", "expected"), [("zero_sum", [0.0, 0.0]), ("ssr", [0.1, 0.0])]
)
def test_two_attempts_half_solved(
    tiny_repo: RepoSpec, mode: str, expected: list[float]
) -> None:
    env = _env(tiny_repo, solver_attempts=2, reward_mode=mode)
    _step(env, _artifact(tiny_repo))
    original = load_repo(tiny_repo).files["tiny.py"].decode()
    _step(env, f'<tool name="write_file" path="tiny.py">\n{original}</tool>')
    _step(env, '<tool name="submit"/>')
    assert env.infos["player_1"]["attempt"] == 1
    text = env.observe("player_1")["text"]
    assert "attempt 2 of 2" in text and "## Call" not in text  # a fresh attempt
    _step(env, '<tool name="submit"/>')  # gives up
    final = _finish(env)
    returns = final["player_0"]["returns"]
    assert [returns["player_0"], returns["player_1"]] == pytest.approx(expected)
    assert final["player_0"]["solver_rewards"] == [1.0, -1.0]
    assert final["player_0"]["ssr_injector_reward"] == pytest.approx(
        ssr_injector_reward(0.5, 0.8)
    )


def test_solver_turn_budget_scores_the_attempt(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo, solver_attempts=1, solver_max_turns=2)
    _step(env, _artifact(tiny_repo))
    _step(env, '<tool name="shell">true</tool>')
    _step(env, '<tool name="shell">true</tool>')
    final = _finish(env)
    assert final["player_1"]["attempt_results"][0]["ended_by"] == "turn budget"


def test_injector_turn_budget_is_an_invalid_artifact(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo, injector_max_turns=2)
    _step(env, '<tool name="read_file" path="tiny.py"/>')
    _step(env, '<tool name="read_file" path="tiny.py"/>')
    final = _finish(env)
    assert (
        "no submission within 2 turns" in final["player_0"]["artifact_invalid_reason"]
    )
    assert final["player_0"]["returns"] == {"player_0": -1.0, "player_1": 1.0}


def test_invalid_artifact_names_the_check(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo)
    text = _artifact(tiny_repo).replace('"test_tiny_util.py"]', '"test_missing.py"]')
    _step(env, text)
    final = _finish(env)
    assert "1_test_files_exist" in final["player_0"]["artifact_invalid_reason"]
    assert final["player_0"]["returns"]["player_0"] == -1.0


def test_submit_without_artifact_is_an_invalid_move(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo)
    info = _step(env, '<tool name="submit"/>')
    assert "submit needs bug_patch, weaken_patch, test_files" in info["invalid_reason"]


def test_pickled_env_continues_on_its_own_copy(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo)
    _step(env, '<tool name="write_file" path="mine.txt">\noriginal\n</tool>')
    clone = pickle.loads(pickle.dumps(env))
    _step(env, '<tool name="write_file" path="mine.txt">\nchanged\n</tool>')
    info = _step(clone, '<tool name="read_file" path="mine.txt"/>')
    assert info["tool_result"]["content"] == "original\n"
    info = _step(clone, '<tool name="shell">cat mine.txt</tool>')
    assert info["tool_result"]["stdout"] == "original\n"
    env.episode.state.release()
    clone.episode.state.release()


def test_resources_are_released_and_the_repo_untouched(tiny_repo: RepoSpec) -> None:
    source = Path(tiny_repo.source)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True
    ).stdout
    env = _env(tiny_repo, solver_attempts=1)
    _step(
        env,
        '<tool name="shell">echo vandal > tiny.py; git commit -qam vandal; rm -rf .git</tool>',
    )
    workdir = env.episode.state._workspace.path
    assert workdir.exists()
    _step(env, _artifact(tiny_repo))
    _step(env, '<tool name="submit"/>')
    assert not workdir.exists()
    assert env.episode.state._workspace is None and env.episode.state._sandbox is None
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=source, capture_output=True, text=True
    ).stdout
    assert status == ""
    assert (
        subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True
        ).stdout
        == head
    )


def test_docker_episode_removes_its_container(tiny_repo: RepoSpec) -> None:
    try:
        env = _env(tiny_repo, sandbox="docker", solver_attempts=1)
    except SandboxUnavailable as err:
        pytest.skip(f"docker sandbox unavailable here: {err}")
    import docker

    info = _step(env, '<tool name="shell">cat /proc/net/dev | grep -c :; id -u</tool>')
    assert info["tool_result"]["stdout"].split()[0] == "1"  # only lo
    container = env.episode.state._sandbox.container_id
    _step(env, _artifact(tiny_repo))
    assert env.episode.state._sandbox.container_id == container  # reused by the checks
    _step(env, '<tool name="submit"/>')
    with pytest.raises(docker.errors.NotFound):
        docker.from_env().containers.get(container)


def test_unknown_sandbox_is_a_programmer_error(tiny_repo: RepoSpec) -> None:
    with pytest.raises(ValueError, match="sandbox: expected one of 'local', 'docker'"):
        selfplay_envs.make("bug_repair_v0", repos=[tiny_repo], sandbox="vm")


def test_a_fake_pytest_module_cannot_forge_the_score(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo, solver_attempts=1)
    _step(env, _artifact(tiny_repo))
    ids = [
        "clamp_inside",
        "clamp_low",
        "clamp_high",
        "clamp_edges",
        "mean",
        "mean_empty",
        "span",
    ]
    cases = "".join(f'<testcase classname="test_tiny" name="test_{i}"/>' for i in ids)
    cases += '<testcase classname="test_tiny_util" name="test_shout"/>'
    fake = (
        "import sys\n"
        "for arg in sys.argv:\n"
        "    if arg.startswith('--junitxml='):\n"
        f"        open(arg.split('=', 1)[1], 'w').write('<testsuites><testsuite>{cases}</testsuite></testsuites>')\n"
    )
    # It works in the solver's own copy (python -m pytest picks up ./pytest.py) ...
    _step(env, f'<tool name="write_file" path="pytest.py">\n{fake}</tool>')
    info = _step(
        env,
        '<tool name="shell">python -m pytest --junitxml=r.xml; grep -o test_clamp_high r.xml</tool>',
    )
    assert (
        info["tool_result"]["stdout"].strip() == "test_clamp_high"
    )  # a weakened-away test
    # ... but files the solver adds are not part of what is scored.
    _step(env, '<tool name="submit"/>')
    final = _finish(env)
    result = final["player_1"]["attempt_results"][0]
    assert not result["solved"]
    assert "test_tiny.py::test_clamp_high" in result["report"]["still_failing"]
