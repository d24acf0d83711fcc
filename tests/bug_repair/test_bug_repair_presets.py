"""The SSR preset of bug_repair_v0, check 5's two rules, removal bugs and higher-order
bugs, on the tiny real repository of conftest.py (tests run in bubblewrap).

Expected values are computed by hand: with alpha = 0.8 the SSR injector reward is
-0.8 at s = 0 and s = 1, 1 - 1.8 * 0.5 = 0.1 at s = 0.5 and 1 - 1.8 * 0.25 = 0.55 at
s = 0.25; the solver's return is the mean of +-1 per attempt, 2s - 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import selfplay_envs
from selfplay_envs.core.config import ConfigError
from selfplay_envs.games.bug_repair.artifact import (
    BugArtifact,
    Check,
    ValidationConfig,
    WeakeningCheck,
    combine_artifacts,
    validate_artifact,
)
from selfplay_envs.games.bug_repair.env import BugRepairGame
from selfplay_envs.games.bug_repair.mutations import (
    MODES,
    apply_mutation,
    mutations,
    removal_artifact,
)
from selfplay_envs.games.bug_repair.params import resolve_preset
from selfplay_envs.games.bug_repair.patches import make_patch
from selfplay_envs.games.bug_repair.repos import RepoSpec, load_repo
from selfplay_envs.games.bug_repair.rules import BugRepairState, RewardMode

pytestmark = pytest.mark.usefixtures("need_bwrap")

TESTS = ("test_tiny.py", "test_tiny_util.py")
COMMAND = "python -m pytest -q"
CLAMP_TESTS = {
    "test_tiny.py::test_clamp_inside",
    "test_tiny.py::test_clamp_low",
    "test_tiny.py::test_clamp_high",
    "test_tiny.py::test_clamp_edges",
}


# ---- building artifacts by hand ---------------------------------------------------------


def _edit(files: dict[str, bytes], path: str, *pairs: tuple[str, str]) -> str:
    text = files[path].decode()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return make_patch({path: files[path]}, {path: text.encode()})


def _drop_tests(files: dict[str, bytes], path: str, *names: str) -> str:
    text = files[path].decode()
    for name in names:
        start = text.index(f"def {name}(")
        end = text.find("\ndef ", start + 1) + 1 or len(text)
        text = text[:start] + text[end:]
    return make_patch({path: files[path]}, {path: text.encode()})


def _artifact(bug: str, weak: str) -> BugArtifact:
    return BugArtifact(
        bug_patch=bug, weaken_patch=weak, test_files=TESTS, test_command=COMMAND
    )


CLAMP_BUG = ("        return hi", "        return lo")  # breaks test_clamp_high
MEAN_BUG = ("/ len(values)", "/ (len(values) + 1)")  # breaks test_mean


@pytest.fixture
def state(tiny_repo: RepoSpec) -> Iterator[BugRepairState]:
    game = BugRepairGame(repos=[tiny_repo])
    state = game.new_initial_state(np.random.default_rng(0))
    yield state
    state.release()


def _validate(state: BugRepairState, artifact: BugArtifact, rule: WeakeningCheck):
    config = ValidationConfig(weakening_check=rule)
    return validate_artifact(artifact, state.repo.files, state.run_tests, config)


def _failed(validation) -> Check:
    assert not validation.valid
    return next(c.check for c in validation.checks if not c.passed)


# ---- the preset and its points -------------------------------------------------------


def test_preset_sets_each_point_and_an_explicit_value_wins(tiny_repo) -> None:
    today = BugRepairGame(repos=[tiny_repo]).config
    assert today.reward_mode is RewardMode.ZERO_SUM and today.alpha == 0.8
    assert today.validation.weakening_check is WeakeningCheck.ALL_PASS
    game = BugRepairGame(repos=[tiny_repo], preset="ssr")
    assert game.config.reward_mode is RewardMode.SSR and game.config.alpha == 0.8
    assert game.config.validation.weakening_check is WeakeningCheck.SOME_PASS
    assert game.info.zero_sum is False
    mixed = BugRepairGame(
        repos=[tiny_repo], preset="ssr", alpha=0.5, weakening_check="all_pass"
    ).config
    assert mixed.reward_mode is RewardMode.SSR and mixed.alpha == 0.5
    assert mixed.validation.weakening_check is WeakeningCheck.ALL_PASS
    assert resolve_preset({"preset": None, "alpha": None}) == {
        "alpha": 0.8,
        "reward_mode": "zero_sum",
        "weakening_check": "all_pass",
    }


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("preset", "spiral", "'ssr'"),
        ("weakening_check", "most", "'all_pass', 'some_pass'"),
        ("reward_mode", "ssp", "'zero_sum', 'ssr'"),
        ("alpha", 1.5, "1"),
    ],
)
def test_bad_values_are_refused_at_make(name: str, value: Any, accepted: str) -> None:
    with pytest.raises(ConfigError) as info:
        selfplay_envs.make("bug_repair_v0", repos=["intervals"], **{name: value})
    message = str(info.value)
    assert info.value.param == name
    assert f"parameter {name}" in message and repr(value) in message, message
    assert accepted in message, message


# ---- check 5: all_pass vs some_pass -----------------------------------------------------


def test_check_5_rules_disagree_when_the_weakening_hides_only_some(
    state: BugRepairState,
) -> None:
    files = state.repo.files
    # The bug breaks test_clamp_high and test_mean; the weakening hides one of them.
    artifact = _artifact(
        _edit(files, "tiny.py", CLAMP_BUG, MEAN_BUG),
        _drop_tests(files, "test_tiny.py", "test_clamp_high"),
    )
    strict = _validate(state, artifact, WeakeningCheck.ALL_PASS)
    assert _failed(strict) is Check.WEAKENING_HIDES_BUG
    assert "tests still fail after weakening: ['test_tiny.py::test_mean']" in (
        strict.reason
    )
    ssr = _validate(state, artifact, WeakeningCheck.SOME_PASS)
    assert ssr.valid, ssr.reason
    assert ssr.failing_tests == {
        "test_tiny.py::test_clamp_high",
        "test_tiny.py::test_mean",
    }
    detail = ssr.checks[4].detail
    assert detail.startswith("the weakening hides 1 of 2 failing tests"), detail


def test_check_5_rules_agree_when_the_weakening_hides_none(
    state: BugRepairState,
) -> None:
    files = state.repo.files
    artifact = _artifact(
        _edit(files, "tiny.py", CLAMP_BUG),
        _drop_tests(files, "test_tiny.py", "test_span"),  # the wrong test
    )
    for rule in WeakeningCheck:
        validation = _validate(state, artifact, rule)
        assert _failed(validation) is Check.WEAKENING_HIDES_BUG, rule
    assert "no test the bug broke stops failing" in validation.reason


def test_check_5_some_pass_refuses_a_weakening_that_breaks_other_tests(
    state: BugRepairState,
) -> None:
    files = state.repo.files
    # Hides test_clamp_high, but breaks test_span, which the bug left alone.
    weak = _edit(
        files,
        "test_tiny.py",
        ("    assert clamp(12, 0, 10) == 10\n", "    pass\n"),
        ("== 6", "== 7"),
    )
    artifact = _artifact(_edit(files, "tiny.py", CLAMP_BUG), weak)
    validation = _validate(state, artifact, WeakeningCheck.SOME_PASS)
    assert _failed(validation) is Check.WEAKENING_HIDES_BUG
    assert "did not fail with the bug: ['test_tiny.py::test_span']" in (
        validation.reason
    )


# ---- rewards through the env's returns ----------------------------------------------


def _env(repo: RepoSpec, **config: Any):
    env = selfplay_envs.make("bug_repair_v0", repos=[repo], **config)
    env.reset(seed=0)
    return env


def _submit(env, repo: RepoSpec) -> None:
    files = load_repo(repo).files
    artifact = _artifact(
        _edit(files, "tiny.py", CLAMP_BUG),
        _drop_tests(files, "test_tiny.py", "test_clamp_high"),
    ).to_dict()
    env.step(f'<tool name="submit">{json.dumps(artifact)}</tool>')


def _play(env, repo: RepoSpec, solved: int, attempts: int) -> dict[str, float]:
    """Submit the clamp bug; the first ``solved`` attempts fix it, the rest give up."""
    _submit(env, repo)
    assert env.agent_selection == "player_1", env.infos["player_0"]
    original = load_repo(repo).files["tiny.py"].decode()
    for attempt in range(attempts):
        if attempt < solved:
            env.step(f'<tool name="write_file" path="tiny.py">\n{original}</tool>')
        env.step('<tool name="submit"/>')
    final = dict(env.infos)
    for _ in env.agent_iter():
        env.step(None)
    assert final["player_0"]["solver_rewards"] == [1.0] * solved + [-1.0] * (
        attempts - solved
    )
    return final["player_0"]["returns"]


@pytest.mark.parametrize(
    ("attempts", "solved", "injector", "solver"),
    [
        (2, 0, -0.8, -1.0),  # s = 0: -alpha
        (2, 2, -0.8, 1.0),  # s = 1: -alpha
        (2, 1, 0.1, 0.0),  # s = 0.5: 1 - 1.8 * 0.5
        (4, 1, 0.55, -0.5),  # s = 0.25: 1 - 1.8 * 0.25; solver (1 - 3) / 4
    ],
)
def test_ssr_returns_on_played_episodes(
    tiny_repo: RepoSpec, attempts: int, solved: int, injector: float, solver: float
) -> None:
    env = _env(tiny_repo, preset="ssr", solver_attempts=attempts)
    returns = _play(env, tiny_repo, solved, attempts)
    assert returns["player_0"] == pytest.approx(injector)
    assert returns["player_1"] == pytest.approx(solver)


def test_zero_sum_default_and_explicit_alpha_on_the_same_episode(
    tiny_repo: RepoSpec,
) -> None:
    returns = _play(_env(tiny_repo, solver_attempts=4), tiny_repo, 1, 4)
    assert returns == pytest.approx({"player_0": 0.5, "player_1": -0.5})
    env = _env(tiny_repo, preset="ssr", alpha=0.5, solver_attempts=4)
    returns = _play(env, tiny_repo, 1, 4)
    assert returns["player_0"] == pytest.approx(0.625)  # 1 - 1.5 * 0.25


def test_invalid_artifact_under_ssr_scores_minus_one_and_zero(
    tiny_repo: RepoSpec,
) -> None:
    env = _env(tiny_repo, preset="ssr")
    files = load_repo(tiny_repo).files
    artifact = _artifact(_edit(files, "tiny.py", CLAMP_BUG), "").to_dict()
    artifact["test_files"] = ["test_missing.py"]
    artifact["weaken_patch"] = _drop_tests(files, "test_tiny.py", "test_clamp_high")
    env.step(f'<tool name="submit">{json.dumps(artifact)}</tool>')
    assert "1_test_files_exist" in env.infos["player_0"]["artifact_invalid_reason"]
    assert env.rewards == {"player_0": -1.0, "player_1": 0.0}


def test_ssr_prompt_states_check_5_and_the_reward(tiny_repo: RepoSpec) -> None:
    env = _env(tiny_repo, preset="ssr")
    text = env.observe("player_0")["text"]
    assert env.infos["player_0"]["checks"]["weakening_check"] == "some_pass"
    assert "at least one test the bug broke no longer fails" in text
    assert "1 - 1.8*s, but -0.8" in text
    assert "no test fails" in _env(tiny_repo).observe("player_0")["text"]


def test_preset_episode_accepts_an_artifact_only_some_pass_allows(
    tiny_repo: RepoSpec,
) -> None:
    files = load_repo(tiny_repo).files
    artifact = _artifact(
        _edit(files, "tiny.py", CLAMP_BUG, MEAN_BUG),
        _drop_tests(files, "test_tiny.py", "test_clamp_high"),
    ).to_dict()
    call = f'<tool name="submit">{json.dumps(artifact)}</tool>'
    ssr = _env(tiny_repo, preset="ssr", solver_attempts=1)
    ssr.step(call)
    assert ssr.agent_selection == "player_1"  # valid: the solver plays
    ssr.episode.state.release()
    today = _env(tiny_repo, solver_attempts=1)
    today.step(call)
    reason = today.infos["player_0"]["artifact_invalid_reason"]
    assert "5_weakening_hides_bug" in reason and "test_mean" in reason


# ---- removal-style bugs -------------------------------------------------------------------


def test_removal_mode_deletes_code_and_edit_mode_does_not(tiny_files) -> None:
    source = tiny_files["tiny.py"]
    removal = mutations("tiny.py", source, mode="removal")
    assert {m.operator for m in removal} == set(MODES["removal"])
    emptied = apply_mutation(source, removal[0])
    assert "def clamp(x, lo, hi):\n    return None\n\n\ndef mean" in emptied
    assert "if x < lo" not in emptied and "raise ValueError" in emptied
    assert "remove_body" not in {m.operator for m in mutations("tiny.py", source)}
    with pytest.raises(ValueError, match="'deletion'"):
        mutations("tiny.py", source, mode="deletion")


def test_removal_artifact_is_valid_and_its_bug_removes_code(
    state: BugRepairState,
) -> None:
    repo = state.repo
    artifact = removal_artifact(
        repo.files, repo.source_files, repo.test_files, COMMAND, state.run_tests
    )
    assert artifact is not None
    removed = [
        line
        for line in artifact.bug_patch.splitlines()
        if line.startswith("-") and not line.startswith("---")
    ]
    added = [
        line
        for line in artifact.bug_patch.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    assert removed == [
        "-    if x < lo:",
        "-        return lo",
        "-    if x > hi:",
        "-        return hi",
        "-    return x",
    ]
    assert added == ["+    return None"]
    validation = _validate(state, artifact, WeakeningCheck.ALL_PASS)
    assert validation.valid, validation.reason
    assert validation.failing_tests == CLAMP_TESTS
    assert b"def test_clamp" not in validation.solver_tree["test_tiny.py"]


# ---- higher-order bugs ------------------------------------------------------------------


def _clamp_artifact(files: dict[str, bytes]) -> BugArtifact:
    return _artifact(
        _edit(files, "tiny.py", CLAMP_BUG),
        _drop_tests(files, "test_tiny.py", "test_clamp_high"),
    )


def _shout_artifact(files: dict[str, bytes]) -> BugArtifact:
    return _artifact(
        _edit(files, "tiny_util.py", ('"!"', '"?"')),
        _edit(files, "test_tiny_util.py", ('== "HI!"', '.startswith("HI")')),
    )


def _combine(state: BugRepairState, first: BugArtifact, second: BugArtifact):
    return combine_artifacts(
        first, second, state.repo.files, state.run_tests, ValidationConfig()
    )


def test_two_valid_bugs_combine_into_a_valid_higher_order_bug(
    state: BugRepairState,
) -> None:
    files = state.repo.files
    combined = _combine(state, _clamp_artifact(files), _shout_artifact(files))
    assert combined.valid, combined.reason
    assert combined.reason == ""
    validation = combined.validation
    assert validation.failing_tests == {
        "test_tiny.py::test_clamp_high",
        "test_tiny_util.py::test_shout",
    }
    assert b"return lo" in validation.buggy["tiny.py"]
    assert b'"?"' in validation.buggy["tiny_util.py"]
    # Check 6 ran on both files: each alone fixes one of the two failures.
    assert {"revert:tiny.py", "revert:tiny_util.py"} <= set(validation.reports)
    assert "+def test_clamp_high" in validation.spec_patch
    assert '+    assert shout("hi") == "HI!"' in validation.spec_patch


def test_conflicting_bug_patches_are_refused_with_a_reason(
    state: BugRepairState,
) -> None:
    files = state.repo.files
    same_line = _artifact(
        _edit(files, "tiny.py", ("        return hi", "        return x")),
        _drop_tests(files, "test_tiny.py", "test_clamp_high"),
    )
    assert _validate(state, same_line, WeakeningCheck.ALL_PASS).valid
    combined = _combine(state, _clamp_artifact(files), same_line)
    assert not combined.valid and combined.artifact is None
    assert combined.reason.startswith("the bug patches conflict:"), combined.reason


def test_an_invalid_component_is_refused_before_combining(
    state: BugRepairState,
) -> None:
    files = state.repo.files
    wrong = _artifact(
        _edit(files, "tiny.py", MEAN_BUG),
        _drop_tests(files, "test_tiny.py", "test_span"),
    )
    combined = _combine(state, _clamp_artifact(files), wrong)
    assert combined.validation is None
    assert combined.reason.startswith("component 2 is invalid: check 5_"), (
        combined.reason
    )
