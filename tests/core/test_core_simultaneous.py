"""Simultaneous moves are judged fairly: every seat's reply counts, in both forms.

Run on every simultaneous env and config (``GameInfo.simultaneous`` over the default
and ``conformance_configs``): seats that run out of invalid moves in the same
simultaneous move forfeit together (``State.joint_forfeit_returns``: the mean of their
single forfeits), never seat 0 alone, and the AEC form settles the move exactly as the
Parallel form does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from envs import env_params

import selfplay_envs
from selfplay_envs.core.game import State

JUNK = "I will not answer that."
SEED = 3


def _simultaneous_cases() -> list:
    cases = []
    for param in env_params():
        if param.marks:
            continue
        env_id = param.values[0]
        game = selfplay_envs.make_game(env_id)
        for n, config in enumerate(({}, *game.conformance_configs)):
            if selfplay_envs.make_game(env_id, **config).info.simultaneous:
                cases.append(pytest.param(env_id, config, id=f"{env_id}-config{n}"))
    return cases


CASES = _simultaneous_cases()


def test_the_simultaneous_envs_are_found() -> None:
    assert {c.values[0] for c in CASES} >= {"core_war_v0", "who_is_the_spy_v0"}


def _valid_reply(state: State, player: int, step: int) -> str:
    """A reply ``player`` may send now (example replies, a clue or an abstention)."""
    candidates = [
        *state.example_actions(player)[:1],
        f"\\boxed{{Clue {step} about it.}}",
        "\\boxed{N/A}",
    ]
    for text in candidates:
        if state.parse_action(player, text).reason is None:
            return text
    raise AssertionError(f"no valid reply found for seat {player}")


Chooser = Callable[[State, int, int, bool], str]


def _chooser(offenders: Callable[[list[int]], list[int]]) -> Chooser:
    """Valid replies, except junk from ``offenders(seats)`` in the first joint move."""
    chosen: dict[str, list[int]] = {}

    def choose(state: State, player: int, step: int, first_joint: bool) -> str:
        if first_joint:
            seats = state.current_players()
            bad = chosen.setdefault("bad", offenders(seats))
            if player in bad:
                return JUNK
        return _valid_reply(state, player, step)

    return choose


def _drive(env: Any, choose: Chooser, agent: str, step: int, first: list) -> str:
    """``choose``'s reply for ``agent``; ``first`` holds the turn of the first joint
    move once it begins."""
    episode = env.episode
    state = episode.state
    if len(state.current_players()) > 1 and not first:
        first.append(episode.move_index)
    in_first = bool(first) and episode.move_index == first[0]
    return choose(state, env.possible_agents.index(agent), step, in_first)


def play_parallel(env_id: str, config: dict, choose: Chooser, **kwargs: Any) -> Any:
    env = selfplay_envs.make_parallel(env_id, **config, **kwargs)
    env.reset(seed=SEED)
    step, first = 0, []
    while env.agents:
        env.step({a: _drive(env, choose, a, step, first) for a in env.agents})
        step += 1
    return env


def play_aec(env_id: str, config: dict, choose: Chooser, **kwargs: Any) -> Any:
    env = selfplay_envs.make(env_id, **config, **kwargs)
    env.reset(seed=SEED)
    step, first = 0, []
    for agent in env.agent_iter():
        _, _, termination, truncation, _ = env.last()
        if termination or truncation:
            env.step(None)
            continue
        env.step(_drive(env, choose, agent, step, first))
        step += 1
    return env


def _expected(state: State, losers: list[int]) -> list[float]:
    """The documented rule, spelled out: the mean of each loser's single forfeit."""
    rows = [state.forfeit_returns(p) for p in losers]
    return [sum(r[i] for r in rows) / len(rows) for i in range(len(rows[0]))]


@pytest.mark.parametrize(("env_id", "config"), CASES)
@pytest.mark.parametrize("play", [play_parallel, play_aec], ids=["parallel", "aec"])
def test_every_seat_out_of_moves_in_one_step_forfeits_together(
    env_id: str, config: dict, play: Callable
) -> None:
    env = play(
        env_id, config, _chooser(lambda seats: seats), invalid_move={"mode": "loss"}
    )
    episode = env.episode
    seats = sorted({r.player for r in episode.records if not r.valid})
    assert len(seats) > 1
    # Every seat's reply of the simultaneous move was judged, not only seat 0's.
    joint_records = [r for r in episode.records if r.turn == episode.move_index]
    assert sorted(r.player for r in joint_records) == seats
    assert not any(r.valid for r in joint_records)
    returns = episode.returns()
    assert episode.forfeit is not None and episode.terminal
    assert returns == pytest.approx(_expected(episode.state, seats))
    assert sum(returns) == pytest.approx(0.0)
    offenders = {returns[p] for p in seats}
    assert len(offenders) == 1 or env_id == "who_is_the_spy_v0"  # teams differ
    if len(seats) == 2 and episode.num_players == 2:
        assert returns == [0.0, 0.0]
        final = episode.info(0)
        assert final["outcome"] == "draw" and final["forfeit"] is True


@pytest.mark.parametrize(("env_id", "config"), CASES)
def test_aec_and_parallel_settle_the_move_alike(env_id: str, config: dict) -> None:
    """Some seats run out after their retries, the others move: same outcome, same
    replies judged, in both forms."""
    policy = {"mode": "retry", "max_retries": 2}
    results = []
    for play in (play_parallel, play_aec):
        env = play(
            env_id, config, _chooser(lambda seats: seats[::2]), invalid_move=policy
        )
        episode = env.episode
        invalid = sorted(r.player for r in episode.records if not r.valid)
        results.append((episode.returns(), invalid))
    (parallel_returns, parallel_invalid), (aec_returns, aec_invalid) = results
    assert parallel_returns == pytest.approx(aec_returns)
    assert parallel_invalid == aec_invalid
    offenders = sorted(set(parallel_invalid))
    assert parallel_invalid == sorted(offenders * 3)  # three replies each, all judged
    env = play_parallel(
        env_id, config, _chooser(lambda seats: seats[::2]), invalid_move=policy
    )
    expected = _expected(env.episode.state, offenders)
    assert env.episode.returns() == pytest.approx(expected)


def test_two_seats_out_of_moves_draw_in_the_parallel_form() -> None:
    env = selfplay_envs.make_parallel("core_war_v0", invalid_move={"mode": "loss"})
    env.reset(seed=0)
    _, rewards, terminations, _, infos = env.step({"player_0": JUNK, "player_1": JUNK})
    assert rewards == {"player_0": 0.0, "player_1": 0.0}
    assert all(terminations.values())
    assert [(r["agent"], r["valid"]) for r in infos["player_1"]["episode"]] == [
        ("player_0", False),
        ("player_1", False),
    ]
    assert infos["player_0"]["outcome"] == infos["player_1"]["outcome"] == "draw"


def test_a_seat_out_of_moves_waits_for_the_others_then_forfeits_alone() -> None:
    env = selfplay_envs.make("core_war_v0", invalid_move={"mode": "loss"})
    env.reset(seed=0)
    env.step(JUNK)
    assert env.agents == ["player_0", "player_1"] and not any(env.terminations.values())
    assert env.agent_selection == "player_1"
    env.step(env.episode.state.example_actions(1)[0])
    assert all(env.terminations.values())
    assert env.rewards == {"player_0": -1.0, "player_1": 1.0}


def test_three_seats_two_out_share_the_loss() -> None:
    env = selfplay_envs.make_parallel(
        "core_war_v0", num_players=3, num_submissions=2, invalid_move={"mode": "loss"}
    )
    env.reset(seed=0)
    warrior = env.episode.state.example_actions(1)[0]
    _, rewards, _, _, _ = env.step(
        {"player_0": JUNK, "player_1": warrior, "player_2": JUNK}
    )
    # k = 2 of n = 3 seats out: each -(n-k)/(k(n-1)) = -1/4, the other 1/(n-1) = 1/2.
    assert rewards == {"player_0": -0.25, "player_1": 0.5, "player_2": -0.25}


def test_every_seat_out_is_a_draw_for_any_number_of_seats() -> None:
    env = selfplay_envs.make_parallel(
        "core_war_v0", num_players=3, num_submissions=2, invalid_move={"mode": "loss"}
    )
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step(dict.fromkeys(env.agents, JUNK))
    assert rewards == dict.fromkeys(env.possible_agents, 0.0)
    assert infos["player_2"]["outcome"] == "draw"


def test_truncation_waits_until_every_seat_of_the_move_is_judged() -> None:
    env = selfplay_envs.make_parallel(
        "core_war_v0", max_attempts=1, invalid_move={"mode": "retry", "max_retries": 5}
    )
    env.reset(seed=0)
    env.step({"player_0": JUNK, "player_1": JUNK})
    assert [r.player for r in env.episode.records] == [0, 1]
    assert env.episode.truncated and not env.agents


def test_settling_a_move_past_the_limit_takes_at_most_every_seats_allowance() -> None:
    """A seat that keeps replying badly runs out and forfeits: the episode stops
    within one allowance (``max_retries`` + 1 replies) per seat past the limit."""
    retries = 3
    env = selfplay_envs.make_parallel(
        "core_war_v0",
        max_attempts=1,
        invalid_move={"mode": "retry", "max_retries": retries},
    )
    env.reset(seed=0)
    imp = ";redcode\nMOV 0, 1\nEND"
    while env.agents:
        env.step({a: imp if a == "player_0" else JUNK for a in env.agents})
    assert len(env.episode.records) <= 1 + 2 * (retries + 1)
    assert not env.episode.truncated
    assert env.episode.returns()[0] > env.episode.returns()[1]
