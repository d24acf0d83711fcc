"""core_war_v0 in versus mode: battles, rewards, invalid warriors, views, evidence."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import selfplay_envs
from selfplay_envs.games.core_war import mars
from selfplay_envs.games.core_war.assembler import assemble, to_load_file
from selfplay_envs.games.core_war.rules import (
    BattleSummary,
    versus_rewards,
    warriors_dir,
)

ROOT = Path(__file__).resolve().parents[2]


def _source(stem: str) -> str:
    return (warriors_dir() / f"{stem}.red").read_text()


def _play(env_kwargs: dict, replies: dict[str, str], seed: int = 7):
    env = selfplay_envs.make_parallel("core_war_v0", **env_kwargs)
    env.reset(seed=seed)
    return env, env.step(replies)


def _mars_battle(sources: list[str], seed: int, rounds: int = 20):
    from selfplay_envs.games.core_war import mars

    warriors = [assemble(s) for s in sources]
    return mars.battle(warriors, rounds, seed=seed, track_survival=True)


def test_battle_matches_the_mars_and_rewards_follow_the_points() -> None:
    env, (_, rewards, terms, _, infos) = _play(
        {}, {"player_0": _source("dwarf"), "player_1": _source("imp")}
    )
    assert all(terms.values())
    battle = infos["player_0"]["battles"][0]["battles"][0]
    direct = _mars_battle([_source("dwarf"), _source("imp")], battle["seed"])
    assert (battle["wins"], battle["ties"], battle["losses"], battle["scores"]) == (
        list(direct.wins),
        list(direct.ties),
        list(direct.losses),
        list(direct.scores),
    )
    # The seed comes from the env's RNG: the placements recorded are the MARS's.
    assert [r["positions"] for r in battle["round_log"]] == direct.positions.tolist()
    # Dwarf never loses to Imp and kills it in some rounds: more points, a win.
    assert battle["wins"][0] > 0 and battle["wins"][1] == 0
    assert rewards == {"player_0": 1.0, "player_1": -1.0}
    assert infos["player_0"]["outcome"] == "win"


ORG_OUTSIDE = ";redcode\nORG 5\nJMP 0\nEND"


def test_a_start_outside_the_warrior_plays_as_in_pmars_in_both_apis() -> None:
    # pMARS only warns ("bad offset") and starts the process at load address + 5:
    # an empty cell here, so the warrior dies on its first cycle, every round.
    replies = {"player_0": ORG_OUTSIDE, "player_1": _source("imp")}
    env, (_, rewards, terms, _, infos) = _play({"rounds": 4}, replies)
    assert all(terms.values()) and infos["player_0"]["invalid_moves"] == 0
    assert rewards == {"player_0": -1.0, "player_1": 1.0}
    battle = infos["player_0"]["battles"][0]["battles"][0]
    assert battle["losses"][0] == 4 and battle["wins"][1] == 4
    assert "ORG          5" in infos["player_0"]["load_files"]["player_0"][0]
    aec = selfplay_envs.make("core_war_v0", rounds=4)
    aec.reset(seed=7)
    for agent in aec.agent_iter():
        _, _, done, cut, _ = aec.last()
        aec.step(None if done or cut else replies[agent])
    assert aec.episode.returns() == [-1.0, 1.0]


@pytest.mark.parametrize("reward", ["outcome", "score_share", "survival"])
def test_rewards_are_zero_sum_and_match_their_formula(reward: str) -> None:
    env, (_, rewards, _, _, infos) = _play(
        {"reward": reward, "rounds": 10},
        {"player_0": _source("mice"), "player_1": _source("dwarf")},
    )
    assert sum(rewards.values()) == pytest.approx(0.0, abs=1e-9)
    battle = infos["player_0"]["battles"][0]["battles"][0]
    s0, s1 = battle["scores"]
    if reward == "score_share":
        assert rewards["player_0"] == pytest.approx((s0 - s1) / (s0 + s1))
    elif reward == "survival":
        assert rewards["player_0"] == pytest.approx(battle["survival"][0] - 1.0)
    else:
        assert rewards["player_0"] == (1.0 if s0 > s1 else -1.0 if s0 < s1 else 0.0)


def _summary(scores: tuple[int, ...]) -> BattleSummary:
    n = len(scores)
    return BattleSummary(
        warriors=tuple(f"player_{k}" for k in range(n)),
        seed=1,
        rounds=10,
        wins=(0,) * n,
        ties=(0,) * n,
        losses=(0,) * n,
        scores=scores,
        results=((0,) * (n + 1),) * n,
        survival=(1.0,) * n,
        steps=0,
        round_log=(),
    )


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ((30, 10), [1.0, -1.0]),
        ((10, 10), [0.0, 0.0]),
        ((40, 40, 0), [0.5, 0.5, -1.0]),
        ((40, 8, 8), [1.0, -0.5, -0.5]),
    ],
)
def test_outcome_rewards_for_two_and_three_warriors(scores, expected) -> None:
    assert versus_rewards(_summary(scores), "outcome") == expected


def test_score_share_for_three_warriors() -> None:
    rewards = versus_rewards(_summary((60, 20, 0)), "score_share")
    assert rewards == pytest.approx([(3 * 0.75 - 1) / 2, (3 * 0.25 - 1) / 2, -0.5])
    assert sum(rewards) == pytest.approx(0.0)


def test_three_player_melee_matches_pmars_results_layout() -> None:
    names = ("dwarf", "mice", "imp")
    env, (_, rewards, _, _, infos) = _play(
        {"num_players": 3, "rounds": 6},
        {f"player_{k}": _source(n) for k, n in enumerate(names)},
    )
    battle = infos["player_2"]["battles"][0]["battles"][0]
    direct = _mars_battle([_source(n) for n in names], battle["seed"], rounds=6)
    assert battle["results"] == [list(r) for r in direct.results]
    assert all(sum(row) == 6 for row in battle["results"])
    assert sum(rewards.values()) == pytest.approx(0.0)


def test_invalid_warrior_reason_lists_the_assembler_errors_then_retry_works() -> None:
    env = selfplay_envs.make("core_war_v0", rounds=2)
    env.reset(seed=0)
    broken = "```redcode\nstart mov.i bomb, @bomb\n        jmp start\n        add\n```"
    env.step(broken)
    info = env.infos["player_0"]
    reason = info["invalid_reason"]
    assert reason.startswith("unparseable: the warrior does not assemble:")
    # Lines count from the first line inside the fence, and each error quotes it.
    assert "line 3, col 9: Syntax error  [add]" in reason
    assert "line 1, col 13: Undefined label or symbol: 'bomb'" in reason
    assert env.agent_selection == "player_0" and info["acting"]
    assert "Attempts left: 2" in env.observe("player_0")["text"]
    env.step(_source("imp"))
    assert env.agent_selection == "player_1"
    assert env.infos["player_0"]["invalid_moves"] == 1


def test_no_redcode_and_forfeit_after_retries() -> None:
    env = selfplay_envs.make("core_war_v0", invalid_move={"max_retries": 1})
    env.reset(seed=0)
    env.step("")  # nothing at all
    assert env.infos["player_0"]["invalid_reason"].startswith("no action found")
    env.step("I would rather not write a warrior today.")
    # Out of moves, but the other seat is judged before the move is settled.
    assert not any(env.terminations.values())
    assert env.agent_selection == "player_1"
    env.step(_source("imp"))
    assert all(env.terminations.values())
    assert env.rewards == {"player_0": -1.0, "player_1": 1.0}
    assert "metrics" not in env.infos["player_0"]  # no battle was fought


def test_penalty_policy_plays_a_warrior_that_dies_at_once() -> None:
    env = selfplay_envs.make_parallel(
        "core_war_v0", rounds=4, invalid_move={"mode": "penalty"}
    )
    env.reset(seed=3)
    _, rewards, _, _, infos = env.step({"player_0": "junk", "player_1": _source("imp")})
    battle = infos["player_0"]["battles"][0]["battles"][0]
    assert battle["losses"][0] == 4 and battle["wins"][1] == 4
    assert rewards == {"player_0": -1.0, "player_1": 1.0}
    assert infos["player_0"]["format_penalty"] == -1.0


LLM_REPLY = """<think>Maybe a plain imp?
```redcode
mov.i $0, $1
```
No, a stone is better.</think>
A dwarf bombs every fourth cell, so it kills imps now and then.

```redcode
;redcode-94
;name Pebble
step equ 4
loop add.ab #step, bomb
     mov.i bomb, @bomb
     jmp loop
bomb dat #0, #0
     end loop
```

This should do well. Let me know how it goes!"""


def test_prose_fences_and_think_blocks_around_the_warrior() -> None:
    env, (_, _, _, _, infos) = _play(
        {"rounds": 2}, {"player_0": LLM_REPLY, "player_1": "mov 0, 1"}
    )
    sub = infos["player_0"]["battles"][0]
    assert sub["rewards"] is not None
    assert infos["player_0"]["sources"][0].startswith(";redcode-94\n;name Pebble")
    pebble = infos["player_0"]["load_files"]["player_0"][0]
    assert pebble.count("\n") == 6  # ORG, four instructions, END
    assert infos["player_1"]["load_files"]["player_1"][0].splitlines()[1].split() == [
        "MOV.I",
        "$",
        "0,",
        "$",
        "1",
    ]


def test_opponent_warriors_stay_secret_until_the_battle() -> None:
    env = selfplay_envs.make("core_war_v0", rounds=2)
    env.reset(seed=5)
    env.step(_source("vampire"))
    seen = env.infos["player_1"]
    text = env.observe("player_1")["text"]
    load = to_load_file(assemble(_source("vampire")))
    # The submission is buffered until every seat has moved: the others see only that
    # player_0 moved, not what (the core hides pending simultaneous moves).
    assert seen["last_move"]["parsed"] is None and seen["last_move"]["valid"]
    assert "action" not in seen["last_move"]
    assert "JMP" not in json.dumps(seen) and "Nosferatu" not in text
    env.step(_source("imp"))
    final = env.infos["player_1"]
    assert final["load_files"]["player_0"] == [load]
    assert "Nosferatu" not in env.observe("player_1")["text"]  # closed game: no names


def test_open_information_shows_the_last_warriors_of_the_others() -> None:
    replies = {"player_0": _source("dwarf"), "player_1": _source("mice")}
    for open_information in (False, True):
        env = selfplay_envs.make_parallel(
            "core_war_v0",
            rounds=2,
            num_submissions=2,
            open_information=open_information,
        )
        observations, _ = env.reset(seed=1)
        assert "last warrior" not in observations["player_0"]["text"]
        observations, rewards, terms, _, infos = env.step(replies)
        assert not any(terms.values()) and set(rewards.values()) == {0.0}
        text = observations["player_0"]["text"]
        assert "Last battle (submission 1)" in text and "Submission 2 of 2" in text
        assert ("player_1's last warrior" in text) is open_information
        assert ("Mice" in text) is open_information
        assert "Your last warrior:" in text and ";name Dwarf" in text


def test_two_submissions_return_the_mean_reward_and_reveal_at_the_end() -> None:
    env = selfplay_envs.make_parallel("core_war_v0", rounds=4, num_submissions=2)
    env.reset(seed=11)
    first = {"player_0": _source("dwarf"), "player_1": _source("imp_gate")}
    second = {"player_0": _source("imp"), "player_1": _source("imp_gate")}
    env.step(first)
    _, rewards, terms, _, infos = env.step(second)
    assert all(terms.values())
    per_submission = [s["rewards"][0] for s in infos["player_0"]["battles"]]
    assert len(per_submission) == 2 and per_submission[1] == -1.0  # the gate eats imps
    assert rewards["player_0"] == pytest.approx(sum(per_submission) / 2)
    assert len(infos["player_1"]["load_files"]["player_0"]) == 2
    metrics = infos["player_0"]["metrics"]
    assert set(metrics) == {"score", "win_rate", "tie_rate", "loss_rate", "survival"}
    json.dumps(infos["player_0"])  # the evidence is plain JSON


def test_same_seed_same_battle_other_seed_other_placements() -> None:
    replies = {"player_0": _source("stone_sweeper"), "player_1": _source("silk")}
    logs = []
    for seed in (4, 4, 5):
        _, (_, _, _, _, infos) = _play({"rounds": 3}, replies, seed=seed)
        logs.append(infos["player_0"]["battles"][0]["battles"][0])
    assert logs[0] == logs[1]
    assert logs[0]["round_log"] != logs[2]["round_log"]


def test_pickled_env_after_a_battle_replays_the_same() -> None:
    env = selfplay_envs.make_parallel("core_war_v0", rounds=2, num_submissions=2)
    env.reset(seed=2)
    env.step({"player_0": _source("dwarf"), "player_1": _source("silk")})
    clone = pickle.loads(pickle.dumps(env))
    replies = {"player_0": _source("comparator"), "player_1": _source("mice")}
    assert env.step(replies)[1] == clone.step(replies)[1]
    assert env.episode.state.render() == clone.episode.state.render()


def test_bad_parameters_raise_with_expected_and_got() -> None:
    cases = [
        (
            {"mode": "koth"},
            "mode: expected one of 'versus', 'red_queen', or None, got 'koth'",
        ),
        ({"num_players": 1}, "expected num_players in [2, 36]"),
        ({"rounds": 0}, "rounds: expected an int in [1, 1000], or None, got 0"),
        ({"reward": "score"}, "expected reward in"),
        ({"min_distance": 50}, "expected min_distance >= max_length"),
        ({"num_players": 5, "core_size": 400}, "expected core_size >= warriors"),
        ({"archive": ["x.red"]}, "expected archive only with mode='red_queen'"),
        (
            {"preset": "huge"},
            "preset: expected one of 'koth94', 'tiny', 'drq', got 'huge'",
        ),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message.replace("[", r"\[")):
            selfplay_envs.make_game("core_war_v0", **kwargs)


def test_making_and_rejecting_warriors_never_imports_numba() -> None:
    code = (
        "import sys, selfplay_envs\n"
        "env = selfplay_envs.make('core_war_v0')\n"
        "env.reset(seed=0)\n"
        "env.step('```redcode\\nadd\\n```')\n"
        "env.step('mov 0, 1')\n"
        "assert 'numba' not in sys.modules, 'numba imported'\n"
        "env.step('mov 0, 1')\n"  # both warriors in: the battle needs the MARS
        "assert 'numba' in sys.modules\n"
    )
    env = {**os.environ, mars.ENGINE_VARIABLE: "numba"}  # the C engine needs none
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=ROOT, timeout=300, env=env
    )


def test_example_replies_assemble_and_render_shows_the_load_files() -> None:
    env = selfplay_envs.make("core_war_v0", rounds=2, render_mode="ansi")
    env.reset(seed=0)
    state = env.episode.state
    replies = state.example_actions(0)
    assert len(replies) >= 3
    for reply in replies:
        assert state.parse_action(0, f"My move: {reply}").ok
    assert env.render().endswith("No battle yet.")
    env.step(replies[1])
    env.step(replies[2])
    picture = env.render()
    assert "== submission 1" in picture and "ADD.AB #     4, $     3" in picture
    assert "rewards: 1.0000, -1.0000" in picture  # the lone DAT dies at once
