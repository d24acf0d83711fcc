"""Mutation operators and the scripted players, through the real env and sandbox."""

from __future__ import annotations

import ast
from typing import Any

import pytest

import selfplay_envs
from selfplay_agents.opponents import list_opponents, make_opponent
from selfplay_agents.opponents.bug_repair import (
    MutationInjector,
    PatchSearchSolver,
    RandomBugRepairPlayer,
    ScriptedPlayer,
)
from selfplay_agents.policy import Turn
from selfplay_envs.games.bug_repair.mutations import (
    OPERATORS,
    apply_mutation,
    inverse_candidates,
    mutations,
    raw_mutations,
    remove_tests,
)
from selfplay_envs.games.bug_repair.repos import load_repo, shipped_repos

SOURCE = '''\
def f(items, n):
    """Docstring with 1 < 2 stays."""
    total = 0
    for i in range(len(items)):
        if items[i] < n:
            total = total + divmod(i, 2)[0]
        else:
            total -= 1
    flag = True
    return total - n, flag
'''


def _texts(source: str, found) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in found:
        out.setdefault(m.operator, []).append(apply_mutation(source, m))
    return out


def test_every_operator_applies() -> None:
    found = mutations("f.py", SOURCE)
    by_op = _texts(SOURCE, found)
    assert set(by_op) == set(OPERATORS)
    assert any("items[i] <= n" in t for t in by_op["flip_comparison"])
    assert any("total = 1" in t or "- 2" in t for t in by_op["off_by_one"])
    assert any("divmod(2, i)" in t for t in by_op["swap_args"])
    assert any("n - total" in t for t in by_op["swap_args"])
    assert any("else:" not in t for t in by_op["drop_branch"])
    assert any("flag = False" in t for t in by_op["change_constant"])
    for text in (t for texts in by_op.values() for t in texts):
        ast.parse(text)
        assert '"""Docstring with 1 < 2 stays."""' in text
    # Each mutation is one small edit: the rest of the file is unchanged.
    assert all(
        abs(len(apply_mutation(SOURCE, m).splitlines()) - 10) <= 4 for m in found
    )


@pytest.mark.parametrize(
    "operator", ["flip_comparison", "off_by_one", "swap_args", "change_constant"]
)
def test_inverse_candidates_undo_invertible_mutations(operator: str) -> None:
    for mutation in [m for m in mutations("f.py", SOURCE) if m.operator == operator]:
        broken = apply_mutation(SOURCE, mutation)
        repairs = inverse_candidates("f.py", broken, lines={mutation.line})
        assert SOURCE in {apply_mutation(broken, r) for r in repairs}, (
            mutation.description
        )


def test_mutations_on_every_shipped_repository() -> None:
    for spec in shipped_repos():
        repo = load_repo(spec)
        path = max(repo.source_files, key=lambda p: len(repo.files[p]))
        found = raw_mutations(path, repo.files[path].decode(), inverse=False)
        assert len({m.operator for m in found}) >= 4, spec.name


def test_remove_tests() -> None:
    source = "import pytest\n\n\n@pytest.mark.slow\ndef test_a():\n    pass\n\n\ndef test_b():\n    pass\n\n\nclass TestC:\n    def test_c(self):\n        pass\n\n    def test_d(self):\n        pass\n"
    out = remove_tests(source, {"test_a", "test_c"})
    assert "test_a" not in out and "slow" not in out and "test_c" not in out
    assert "def test_b" in out and "def test_d" in out
    ast.parse(out)


# ---- players in the env ------------------------------------------------------------


def _play(env, players: dict[str, Any], until=None) -> dict[str, dict[str, Any]]:
    """Play until the game ends (or ``until(env)``); returns the last infos seen."""
    final: dict[str, dict[str, Any]] = {}
    for agent in env.agent_iter(max_iter=500):
        observation, _, termination, truncation, info = env.last()
        final[agent] = info
        if termination or truncation:
            env.step(None)
            continue
        if until is not None and until(env):
            break
        turn = Turn(
            env_id="bug_repair_v0", agent=agent, observation=observation, info=info
        )
        action = players[agent].act([turn])[0]
        env.step(action)
        assert env.infos[agent]["invalid_reason"] == "", env.infos[agent][
            "invalid_reason"
        ]
    return final


def test_opponents_are_registered() -> None:
    names = {
        "random",
        "mutation_injector",
        "removal_injector",
        "patch_search_solver",
        "scripted",
    }
    assert set(list_opponents("bug_repair_v0")) == names
    for name in names:
        player = make_opponent("bug_repair_v0", name, seed=3)
        assert player.name == name


def test_random_player_makes_only_valid_moves(need_bwrap: None) -> None:
    env = selfplay_envs.make("bug_repair_v0", repos=["intervals"], solver_attempts=1)
    env.reset(seed=1)
    final = _play(
        env,
        {a: RandomBugRepairPlayer(seed=i) for i, a in enumerate(env.possible_agents)},
    )
    info = final["player_0"]
    # Its artifact is well formed but no test catches it: check 4.
    assert "4_bug_breaks_tests" in info["artifact_invalid_reason"]
    assert info["returns"] == {"player_0": -1.0, "player_1": 1.0}


@pytest.mark.slow
@pytest.mark.parametrize("name", [spec.name for spec in shipped_repos()])
def test_mutation_injector_makes_valid_artifacts(need_bwrap: None, name: str) -> None:
    env = selfplay_envs.make("bug_repair_v0", repos=[name], solver_attempts=1)
    env.reset(seed=7)
    injector = MutationInjector(seed=7)
    _play(env, {"player_0": injector}, until=lambda e: e.agent_selection == "player_1")
    state = env.episode.state
    try:
        assert state.invalid_artifact == ""
        assert state.validation is not None and state.validation.valid
        assert state.phase.value == "solve"
        assert (
            1
            <= len(state.validation.failing_tests)
            <= 0.4 * len(state.validation.target_tests) + 1
        )
    finally:
        state.release()


def test_removal_injector_makes_a_valid_artifact_that_only_removes_code(
    need_bwrap: None,
) -> None:
    env = selfplay_envs.make("bug_repair_v0", repos=["intervals"], solver_attempts=1)
    env.reset(seed=7)
    injector = make_opponent("bug_repair_v0", "removal_injector", seed=7)
    _play(env, {"player_0": injector}, until=lambda e: e.agent_selection == "player_1")
    state = env.episode.state
    try:
        assert state.invalid_artifact == "", state.invalid_artifact
        assert state.validation is not None and state.validation.valid
        added = [
            line[1:].strip()
            for line in state.artifact.bug_patch.splitlines()
            if line.startswith("+") and not line.startswith("+++")
        ]
        removed = [
            line
            for line in state.artifact.bug_patch.splitlines()
            if line.startswith("-") and not line.startswith("---")
        ]
        assert len(removed) > len(added)  # code went away
        # A body or a branch removed: any added line is only its stand-in.
        assert all(
            a in ("", "pass", "return None", "raise NotImplementedError") for a in added
        ), added
    finally:
        state.release()


@pytest.mark.slow
def test_scripted_players_play_a_whole_episode(need_bwrap: None) -> None:
    env = selfplay_envs.make("bug_repair_v0", repos=["intervals"], solver_attempts=1)
    env.reset(seed=0)
    final = _play(
        env, {a: ScriptedPlayer(seed=i) for i, a in enumerate(env.possible_agents)}
    )
    info = final["player_1"]
    assert info["valid_artifact"]
    result = info["attempt_results"][0]
    # Seeded mutations: this one is a flipped comparison the search undoes.
    assert result["solved"], result
    assert result["report"]["changed_files"] == ["intervals/intervalset.py"]
    assert info["returns"] == {"player_0": -1.0, "player_1": 1.0}
    assert info["ssr_injector_reward"] == pytest.approx(-0.8)


def test_weak_roles_are_valid_moves(need_bwrap: None) -> None:
    # The patch-search player as injector submits a harmless artifact (-1) ...
    env = selfplay_envs.make("bug_repair_v0", repos=["minicalc"], solver_attempts=1)
    env.reset(seed=0)
    final = _play(
        env,
        {"player_0": PatchSearchSolver(seed=0), "player_1": MutationInjector(seed=0)},
    )
    assert final["player_0"]["returns"]["player_0"] == -1.0
