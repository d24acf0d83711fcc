"""Rules of who_is_the_spy_v0: turn order, the simultaneous vote, rewards, invalid moves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import selfplay_envs
from selfplay_envs.games.who_is_the_spy.rules import (
    ABSTAIN,
    INVALID_VOTE,
    RoleBaseline,
    clue_rewards,
    spy_caught,
    team_returns,
    vote_reward,
    votes_received,
)

ENV = "who_is_the_spy_v0"


def _spy_of(env: Any) -> int:
    return env.episode.state.spy


def _play_aec(
    env: Any, act: Callable[[str, dict[str, Any]], str]
) -> tuple[dict[str, float], dict[int, dict[str, Any]]]:
    """Step ``env`` to the end; ``act(agent, info)`` gives each move.

    Returns each agent's total reward and its final info, by seat.
    """
    totals = dict.fromkeys(env.possible_agents, 0.0)
    finals: dict[int, dict[str, Any]] = {}
    for agent in env.agent_iter(max_iter=500):
        _, reward, termination, truncation, info = env.last()
        totals[agent] += reward
        if termination or truncation:
            finals[int(agent.removeprefix("player_"))] = info
        env.step(None if termination or truncation else act(agent, info))
    return totals, finals


# ---- hand-computed reward formulas ----------------------------------------------------


def test_rewards_when_the_spy_is_caught() -> None:
    # 4 players, spy = seat 2. Seat 0 and 1 vote for the spy, seat 3 votes for seat 0.
    votes = {0: 2, 1: 2, 3: 0}
    received = votes_received(votes, 4)
    assert received == [1, 0, 2, 0]
    assert spy_caught(received, 2)
    assert team_returns(4, 2, caught=True) == pytest.approx([1 / 3, 1 / 3, -1.0, 1 / 3])
    # mean_c = 1/3, v_s - mean_c = 5/3
    clue = clue_rewards(received, 2, beta=0.1, lam=0.1)
    assert clue == pytest.approx([-1 / 90, 8 / 90, -1 / 6, 8 / 90])
    assert sum(clue) == pytest.approx(0.0)
    assert [vote_reward(votes[p], p, 2) for p in (0, 1, 3)] == [1.0, 1.0, -1.0]


def test_rewards_when_the_vote_is_tied() -> None:
    # spy = seat 1; seat 0 votes 1, seat 2 votes 0, seat 3 abstains: a 1-1 tie.
    votes = {0: 1, 2: 0, 3: ABSTAIN}
    received = votes_received(votes, 4)
    assert received == [1, 1, 0, 0]
    assert not spy_caught(received, 1)
    assert team_returns(4, 1, caught=False) == pytest.approx(
        [-1 / 3, 1.0, -1 / 3, -1 / 3]
    )
    # mean_c = 1/3, v_s - mean_c = 2/3
    clue = clue_rewards(received, 1, beta=0.1, lam=0.1)
    assert clue == pytest.approx([-4 / 90, -6 / 90, 5 / 90, 5 / 90])
    assert [vote_reward(votes[p], p, 1) for p in (0, 2, 3)] == [1.0, -1.0, -0.5]


def test_rewards_with_other_beta_and_lambda_and_five_players() -> None:
    # spy = 0, received [3, 1, 0, 0, 0]: mean_c = 1/4, gap = 11/4.
    clue = clue_rewards([3, 1, 0, 0, 0], 0, beta=0.4, lam=0.2)
    expected_civ_share = 0.4 / 4 * 11 / 4
    assert clue[0] == pytest.approx(-0.4 * 11 / 4)
    assert clue[1] == pytest.approx(expected_civ_share - 0.2 * 3 / 4)
    assert clue[2] == pytest.approx(expected_civ_share + 0.2 / 4)
    assert sum(clue) == pytest.approx(0.0)
    assert sum(team_returns(5, 0, caught=True)) == pytest.approx(0.0)


def test_no_votes_at_all_is_a_spy_win() -> None:
    received = votes_received({0: ABSTAIN, 1: INVALID_VOTE}, 3)
    assert received == [0, 0, 0]
    assert not spy_caught(received, 2)


def test_the_spys_own_vote_rewards() -> None:
    assert vote_reward(0, voter=2, spy=2) == 0.5
    assert vote_reward(ABSTAIN, voter=2, spy=2) == 0.2
    assert vote_reward(2, voter=2, spy=2) == -1.0
    assert vote_reward(INVALID_VOTE, voter=2, spy=2) == -1.0
    assert vote_reward(INVALID_VOTE, voter=0, spy=2) == -1.0


def test_role_baseline_is_an_exponential_moving_average() -> None:
    baseline = RoleBaseline(decay=0.9)
    baseline.update(-0.2, 0.05)
    assert (baseline.spy, baseline.civilian) == pytest.approx((-0.02, 0.005))
    baseline.update(0.1, -0.1)
    assert baseline.spy == pytest.approx(0.9 * -0.02 + 0.1 * 0.1)
    assert baseline.civilian == pytest.approx(0.9 * 0.005 + 0.1 * -0.1)
    assert baseline.games == 2


# ---- a full game through the AEC env ---------------------------------------------------


def _act_by_plan(
    env: Any, votes: dict[int, str]
) -> Callable[[str, dict[str, Any]], str]:
    def act(agent: str, info: dict[str, Any]) -> str:
        if info["phase"] == "clue":
            return f"\\boxed{{Clue {info['clue_round']} of {agent}.}}"
        return f"Let me think. \\boxed{{{votes[info['seat']]}}}"

    return act


def test_full_game_seat_order_simultaneous_vote_and_final_infos() -> None:
    env = selfplay_envs.make(ENV, image_size=32)
    env.reset(seed=1)
    spy = _spy_of(env)
    civilians = [p for p in range(4) if p != spy]
    order = []
    while env.infos[env.agent_selection]["phase"] == "clue":
        agent = env.agent_selection
        order.append(agent)
        env.step(f"\\boxed{{A clue from {agent}.}}")
    assert order == [f"player_{p}" for p in range(4)] * 2
    # the vote stage: every civilian acts, the spy does not
    info = env.infos[env.agent_selection]
    assert info["current_agents"] == [f"player_{p}" for p in civilians]
    assert info["legal_actions"] == ["1", "2", "3", "4", "N/A"]
    assert "legal_actions" not in env.infos[f"player_{spy}"]
    first, second, third = civilians
    env.step(f"\\boxed{{{spy + 1}}}")
    # the vote is buffered: nothing counted, nobody sees it, the first voter is done
    assert env.episode.state.votes == {}
    assert env.agent_selection == f"player_{second}"
    assert "->" not in env.observe(f"player_{second}")["text"]
    assert env.infos[f"player_{first}"]["acting"] is False
    env.step(f"\\boxed{{{spy + 1}}}")
    env.step("\\boxed{N/A}")
    assert all(env.terminations.values())
    final = env.infos[f"player_{spy}"]
    assert final["spy_caught"] is True and final["outcome"] == "loss"
    assert final["votes"][spy] is None
    assert final["votes"][third] == "N/A"
    assert final["votes_received"][spy] == 2
    assert env.rewards[f"player_{spy}"] == -1.0
    assert env.rewards[f"player_{first}"] == pytest.approx(1 / 3)
    assert sum(env.rewards.values()) == pytest.approx(0.0)
    assert env.infos[f"player_{third}"]["vote_reward"] == -0.5
    assert env.infos[f"player_{first}"]["vote_reward"] == 1.0
    checks = final["ground_truth"]["clue_checks"]
    assert len(checks) == 8 and not any(c["checkable"] for c in checks)


def test_shaped_terms_in_infos_match_the_formulas_and_the_baseline_carries() -> None:
    env = selfplay_envs.make(ENV, image_size=32)
    game = env.game
    for seed in (2, 3):
        env.reset(seed=seed)
        spy = _spy_of(env)
        civilians = [p for p in range(4) if p != spy]
        # first civilian votes for the next civilian, the others for the spy
        plan = {
            civilians[0]: str(civilians[1] + 1),
            civilians[1]: str(spy + 1),
            civilians[2]: str(spy + 1),
        }
        before = (game.baseline.spy, game.baseline.civilian)
        _, finals = _play_aec(env, _act_by_plan(env, plan))
        received = [0] * 4
        received[civilians[1]] += 1
        received[spy] += 2
        raw = clue_rewards(received, spy, 0.1, 0.1)
        for p in range(4):
            info = finals[p]
            base = before[0] if p == spy else before[1]
            assert info["clue_reward"] == pytest.approx(raw[p])
            assert info["clue_baseline"] == pytest.approx(base)
            assert info["clue_advantage"] == pytest.approx(raw[p] - base)
        civ_mean = sum(raw[p] for p in civilians) / 3
        assert game.baseline.spy == pytest.approx(0.9 * before[0] + 0.1 * raw[spy])
        assert game.baseline.civilian == pytest.approx(0.9 * before[1] + 0.1 * civ_mean)
    assert game.baseline.games == 2


def test_a_shared_baseline_object_is_used_across_envs() -> None:
    shared = RoleBaseline()
    envs = [selfplay_envs.make(ENV, image_size=32, baseline=shared) for _ in range(2)]
    for env in envs:
        env.reset(seed=0)
        _play_aec(env, _act_by_plan(env, {p: "N/A" for p in range(4)}))
    assert shared.games == 2


def test_spy_votes_option_adds_the_spy_to_the_vote() -> None:
    env = selfplay_envs.make(ENV, image_size=32, spy_votes=True)
    env.reset(seed=4)
    spy = _spy_of(env)
    other = (spy + 1) % 4
    _, finals = _play_aec(env, _act_by_plan(env, {p: str(other + 1) for p in range(4)}))
    info = finals[spy]
    assert info["votes"][spy] == str(other + 1)
    assert info["vote_reward"] == 0.5
    assert info["votes_received"][other] == 4
    assert info["spy_caught"] is False


# ---- invalid moves ---------------------------------------------------------------------


def _to_vote_stage(env: Any) -> None:
    while env.infos[env.agent_selection]["phase"] == "clue":
        env.step(f"\\boxed{{Something about {env.agent_selection}.}}")


@pytest.mark.parametrize("answer", ["\u00b3", "9" * 5000, "two", "1 or 2", "-1", ""])
def test_odd_votes_are_invalid_and_never_raise(answer: str) -> None:
    env = selfplay_envs.make(ENV, image_size=32)
    env.reset(seed=0)
    _to_vote_stage(env)
    result = env.episode.state.parse_action(0, f"\\boxed{{{answer}}}")
    assert not result.ok and result.reason is not None


def test_invalid_votes_are_explained_and_retried() -> None:
    env = selfplay_envs.make(ENV, image_size=32)
    env.reset(seed=6)
    _to_vote_stage(env)
    voter = env.agent_selection
    env.step("\\boxed{maybe the second one}")
    assert env.agent_selection == voter
    assert env.infos[voter]["invalid_reason"].startswith("unparseable")
    assert "Attempts left: 2" in env.observe(voter)["text"]
    env.step("\\boxed{9}")
    assert (
        env.infos[voter]["invalid_reason"]
        == "illegal: there is no player 9; vote 1-4 or N/A"
    )
    env.step("I vote for <answer>Player 2</answer>")
    assert env.infos[voter]["invalid_reason"] == ""
    assert env.agent_selection != voter
    assert env.infos[voter]["invalid_moves"] == 2
    assert env.infos[voter]["format_penalty"] == -2.0


def test_invalid_vote_under_penalty_counts_as_no_vote_and_minus_one() -> None:
    env = selfplay_envs.make(ENV, image_size=32, invalid_move={"mode": "penalty"})
    env.reset(seed=7)
    spy = _spy_of(env)
    _to_vote_stage(env)
    first = env.agent_selection
    env.step("\\boxed{the tall one}")  # invalid: becomes an invalid vote
    while env.agents and not env.terminations[env.agent_selection]:
        env.step(f"\\boxed{{{spy + 1}}}")
    info = env.infos[first]
    assert info["votes"][int(first[-1])] == "invalid"
    assert info["vote_reward"] == -1.0
    assert info["votes_received"][spy] == 2 and sum(info["votes_received"]) == 2
    assert info["spy_caught"] is True


def test_invalid_clue_under_penalty_plays_no_clue() -> None:
    env = selfplay_envs.make(ENV, image_size=32, invalid_move={"mode": "penalty"})
    env.reset(seed=8)
    env.step("a clue without a box")
    state = env.episode.state
    assert state.clues[0].text == "(no clue)"
    assert env.infos["player_0"]["invalid_reason"].startswith("no action found")


def test_invalid_vote_under_loss_loses_for_the_civilian_team() -> None:
    env = selfplay_envs.make(ENV, image_size=32, invalid_move={"mode": "loss"})
    env.reset(seed=9)
    spy = _spy_of(env)
    _to_vote_stage(env)
    offender = env.agent_selection
    env.step("\\boxed{0}")
    # The other voters are judged before the vote is settled; they vote validly.
    while not any(env.terminations.values()):
        assert env.agent_selection != offender
        env.step("\\boxed{N/A}")
    assert all(env.terminations.values())
    assert env.rewards[f"player_{spy}"] == 1.0
    assert sum(env.rewards.values()) == pytest.approx(0.0)
    assert env.infos[f"player_{spy}"]["forfeit"] is True


def test_invalid_clue_of_the_spy_under_loss_loses_for_the_spy() -> None:
    env = selfplay_envs.make(ENV, image_size=32, invalid_move={"mode": "loss"})
    env.reset(seed=10)
    spy = _spy_of(env)
    while env.agent_selection != f"player_{spy}":
        env.step("\\boxed{fine}")
    env.step("\\boxed{   }")
    assert env.rewards[f"player_{spy}"] == -1.0
    assert env.rewards[f"player_{(spy + 1) % 4}"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("There is a red cube.", "no action found"),
        ("\\boxed{" + "x" * 301 + "}", "illegal: the clue has 301 characters"),
        ("\\boxed{}", "unparseable: the clue is empty"),
    ],
)
def test_invalid_clues(text: str, reason: str) -> None:
    env = selfplay_envs.make(ENV, image_size=32)
    env.reset(seed=0)
    env.step(text)
    assert env.infos["player_0"]["invalid_reason"].startswith(reason)
    assert env.episode.state.clues == []


def test_clue_whitespace_is_collapsed_to_one_line() -> None:
    env = selfplay_envs.make(ENV, image_size=32)
    env.reset(seed=0)
    env.step("<answer>  The red\n cube   is big. </answer>")
    assert env.episode.state.clues[0].text == "The red cube is big."


def test_word_variant_rejects_a_clue_naming_your_word() -> None:
    env = selfplay_envs.make(ENV, items="word")
    env.reset(seed=0)
    word = env.infos["player_0"]["item"]["word"]
    env.step(f"\\boxed{{It is like a {word.upper()}s thing}}")
    assert (
        env.infos["player_0"]["invalid_reason"]
        == "illegal: the clue must not contain your word"
    )
    permissive = selfplay_envs.make(ENV, items="word", forbid_own_word=False)
    permissive.reset(seed=0)
    permissive.step(f"\\boxed{{It is a {word}}}")
    assert permissive.infos["player_0"]["invalid_reason"] == ""


@pytest.mark.parametrize(
    ("answer", "vote"),
    [
        ("3", 2),
        ("Player 1", 0),
        ("PLAYER 4.", 3),
        ("n/a", ABSTAIN),
        ("N/A", ABSTAIN),
        ("#2", 1),
    ],
)
def test_vote_parsing(answer: str, vote: int) -> None:
    env = selfplay_envs.make(ENV, image_size=32)
    env.reset(seed=0)
    _to_vote_stage(env)
    state = env.episode.state
    result = state.parse_action(0, f"\\boxed{{{answer}}}")
    assert result.ok and result.action == vote


# ---- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 9])
def test_player_count_bounds(n: int) -> None:
    with pytest.raises(ValueError, match=r"num_players: expected an int in \[3, 8\]"):
        selfplay_envs.make(ENV, num_players=n)


@pytest.mark.parametrize("n", [3, 8])
def test_every_player_count_plays_to_the_end(n: int) -> None:
    env = selfplay_envs.make(ENV, num_players=n, items="word")
    env.reset(seed=n)
    totals, _ = _play_aec(env, _act_by_plan(env, {p: "1" for p in range(n)}))
    assert env.agents == []
    assert sum(totals.values()) == pytest.approx(0.0)
    assert env.game.info.max_game_length == 2 * n + n - 1


def test_the_spy_seat_is_drawn_from_the_seed() -> None:
    game = selfplay_envs.make_game(ENV, items="word")
    seats = [game.new_initial_state(np.random.default_rng(s)).spy for s in range(60)]
    assert set(seats) == {0, 1, 2, 3}
    again = [game.new_initial_state(np.random.default_rng(s)).spy for s in range(60)]
    assert seats == again


def test_render_shows_the_hidden_state() -> None:
    env = selfplay_envs.make(ENV, image_size=32, render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert f"spy: Player {_spy_of(env) + 1}" in text and "difference" in text
