"""The generic adapter: invalid-move policies, infos, records, truncation, errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import selfplay_envs
from selfplay_envs.core.episode import TurnRecord
from selfplay_envs.core.errors import (
    ConfigError,
    InvalidActionError,
    ResetNeeded,
    UnknownEnvError,
)


def _play(env, moves):
    for move in moves:
        env.step(move)


def test_retry_policy_warns_privately_then_forfeits() -> None:
    env = selfplay_envs.make(
        "tic_tac_toe_v0", invalid_move={"mode": "retry", "max_retries": 2}
    )
    env.reset(seed=0)
    env.step("\\boxed{4}")
    env.step("\\boxed{4}")  # o plays a taken cell
    assert env.agent_selection == "player_1"
    assert "illegal: cell 4 is taken" in env.observe("player_1")["text"]
    assert "invalid" not in env.observe("player_0")["text"]
    assert env.infos["player_1"]["invalid_reason"] == "illegal: cell 4 is taken"
    env.step("no idea")
    assert env.infos["player_1"]["invalid_reason"].startswith("unparseable")
    env.step("still no idea")  # third invalid attempt: forfeit
    assert all(env.terminations.values())
    assert env.rewards == {"player_0": 1.0, "player_1": -1.0}
    assert env.infos["player_1"]["outcome"] == "loss"
    assert env.infos["player_1"]["invalid_moves"] == 3
    assert env.infos["player_1"]["format_penalty"] == -3.0
    assert env.infos["player_0"]["format_penalty"] == 0.0


def test_loss_policy_forfeits_at_once() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0", invalid_move={"mode": "loss"})
    env.reset(seed=0)
    env.step("nonsense")
    assert env.rewards == {"player_0": -1.0, "player_1": 1.0}
    assert env.infos["player_0"]["forfeit"] is True


def test_penalty_policy_plays_a_fallback_and_keeps_zero_sum() -> None:
    env = selfplay_envs.make(
        "tic_tac_toe_v0", invalid_move={"mode": "penalty", "format_penalty": -0.5}
    )
    env.reset(seed=3)
    env.step("garbage")
    assert env.agent_selection == "player_1"  # the game went on
    record = env.infos["player_0"]["last_move"]
    assert record["fallback"] is True and not record["valid"]
    assert env.infos["player_0"]["format_penalty"] == -0.5
    for _agent in env.agent_iter():
        _, _, term, trunc, info = env.last()
        env.step(None if term or trunc else "junk")
    # Every move was junk, yet the outcome is a normal zero-sum result.
    assert sum(env._cumulative_rewards.values()) == 0.0


def test_episode_records_carry_roles_for_advantage_estimation() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0")
    env.reset(seed=0)
    _play(env, ["0", "3", "1", "bad", "4", "2"])  # x wins on the top row
    info = env.infos["player_0"]
    assert info["outcome"] == "win"
    assert info["returns"] == {"player_0": 1.0, "player_1": -1.0}
    episode = info["episode"]
    assert [r["role"] for r in episode] == ["x", "o", "x", "o", "o", "x"]
    assert [r["valid"] for r in episode] == [True, True, True, False, True, True]
    assert [r["turn"] for r in episode] == [0, 1, 2, 3, 3, 4]
    # each is its record with every field, in order (to_dict is spelt out for speed)
    records = env.unwrapped.episode.records
    assert [list(r.items()) for r in episode] == [
        list(r._asdict().items()) for r in records
    ]


def test_numeric_view_illegal_index_is_an_invalid_move() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0", view="numeric", infos="full")
    env.reset(seed=0)
    env.step(4)
    env.step(np.int64(4))
    assert env.infos["player_1"]["invalid_reason"] == "illegal: cell 4 is taken"
    env.step(99)
    assert env.infos["player_1"]["invalid_reason"].startswith("illegal: cell 99 is off")
    mask = env.observe("player_1")["action_mask"]
    assert mask.dtype == np.int8 and mask[4] == 0 and mask.sum() == 8
    assert env.observe("player_0")["action_mask"].sum() == 0  # idle seat


def test_wrong_action_type_is_a_programmer_error() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0", view="numeric", infos="full")
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="expected an int action"):
        env.step("4")
    text_env = selfplay_envs.make("tic_tac_toe_v0")
    text_env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="expected a str action"):
        text_env.step(4)


def test_truncation_bounds_every_episode() -> None:
    env = selfplay_envs.make(
        "tic_tac_toe_v0", max_attempts=3, invalid_move={"max_retries": 10}
    )
    env.reset(seed=0)
    _play(env, ["x", "y", "z"])
    assert all(env.truncations.values()) and not any(env.terminations.values())
    assert env.infos["player_0"]["outcome"] == "truncated"
    assert env.rewards == {"player_0": 0.0, "player_1": 0.0}


def test_use_before_reset_and_unknown_ids_raise_clearly() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0")
    with pytest.raises(ResetNeeded, match="expected reset"):
        env.observe("player_0")
    with pytest.raises(UnknownEnvError, match="did you mean"):
        selfplay_envs.make("tic_tac_toe_v1")
    with pytest.raises(ValueError, match="render_mode"):
        selfplay_envs.make("tic_tac_toe_v0", render_mode="rgb_array")


def test_render_modes() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0", render_mode="ansi")
    env.reset(seed=0)
    env.step("4")
    assert env.render().splitlines()[2] == ". | x | ."


def test_env_pickles_mid_episode() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0")
    env.reset(seed=0)
    env.step("4")
    clone = pickle.loads(pickle.dumps(env))
    assert clone.observe("player_1") == env.observe("player_1")


def test_registered_with_pettingzoo_registry() -> None:
    registration = pytest.importorskip("pettingzoo.env_registry.registration")
    env = registration.make("aec", "selfplay/tic_tac_toe_v0")
    env.reset(seed=0)
    assert env.agent_selection == "player_0"


def test_lazy_infos_are_those_of_the_last_step_and_last_shares_them() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0")
    env.reset(seed=0)
    env.step("[4]")
    info = env.last()[4]  # built alone, for the selected agent
    assert info is env.infos["player_1"]
    assert set(env.infos) == {"player_0", "player_1"}
    assert info["legal_actions"] == ["0", "1", "2", "3", "5", "6", "7", "8"]
    assert env.infos["player_0"]["last_move"]["action"] == "[4]"  # its own raw text
    # the rival sees every field but the raw text
    assert info["last_move"] == {
        k: v for k, v in env.infos["player_0"]["last_move"].items() if k != "action"
    }
    assert set(info["last_move"]) == set(TurnRecord._fields) - {"action"}
    env.step("[0]")
    assert env.infos["player_1"]["acting"] is False  # rebuilt after the step
    assert env.infos["player_0"]["legal_actions"] == ["1", "2", "3", "5", "6", "7", "8"]
    env.infos = {"player_0": {"set": 1}, "player_1": {}}  # wrappers may assign them
    assert env.last()[4] == {"set": 1}


def test_dead_steps_remove_lazy_infos_one_agent_at_a_time() -> None:
    env = selfplay_envs.make("tic_tac_toe_v0")
    env.reset(seed=0)
    _play(env, ["[0]", "[3]", "[1]", "[4]", "[2]"])  # x completes the top row
    assert env.last()[4]["outcome"] == "win"
    env.step(None)
    assert list(env.infos) == ["player_1"]
    assert env.last()[4]["outcome"] == "loss"
    env.step(None)
    assert env.infos == {} and env.agents == []


@pytest.mark.parametrize(
    "env_id", ["tic_tac_toe_v0", "kuhn_poker_v0", "negotiation_v0"]
)
def test_numeric_view_infos_hold_only_the_fixed_shape_entries(env_id) -> None:
    from selfplay_envs.core.adapter import NUMERIC_INFO_KEYS

    env = selfplay_envs.make(env_id, view="numeric")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    seen = []
    for _agent in env.agent_iter():
        observation, _, terminated, truncated, info = env.last()
        seen.append(info)
        assert set(info) == set(NUMERIC_INFO_KEYS), sorted(info)
        assert all(isinstance(v, (int, float, bool, np.number)) for v in info.values())
        if terminated or truncated:
            # Nothing follows the end: the mask has a legal entry for samplers.
            assert observation["action_mask"].all()
            env.step(None)
        else:
            env.step(int(rng.choice(np.flatnonzero(observation["action_mask"]))))
    assert len(seen) > 2
    full = selfplay_envs.make(env_id, view="numeric", infos="full")
    full.reset(seed=0)
    assert "role" in full.infos["player_0"] and "legal_actions" in full.last()[-1]
    text = selfplay_envs.make(env_id)  # the text view's infos stay full
    text.reset(seed=0)
    assert "role" in text.infos["player_0"]


def test_infos_option_is_checked_at_make() -> None:
    with pytest.raises(
        ConfigError, match=r"infos: expected one of 'full', 'numeric'.*got 'all'"
    ):
        selfplay_envs.make("tic_tac_toe_v0", infos="all")
    env = selfplay_envs.make_parallel("kuhn_poker_v0", view="numeric")
    _, infos = env.reset(seed=0)
    assert set(infos["player_0"]) == {
        "turn",
        "acting",
        "invalid_moves",
        "format_penalty",
    }
