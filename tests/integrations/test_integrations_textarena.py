"""TextArena: a SPIRAL-style rollout loop runs unchanged on our envs.

The loop below is TextArena's documented usage (``LLMObservationWrapper`` on the env,
``reset(num_players, seed)``, ``get_observation``/``step`` until done, then ``close``).
It runs on a real TextArena game too, so the loop is TextArena's own, not one made to
fit our wrapper. Every result on our envs is checked against our env itself, replayed
with the same seed and the same replies.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

import selfplay_envs
from selfplay_agents.opponents import make_opponent
from selfplay_agents.policy import Turn

ta = pytest.importorskip(
    "textarena", reason="textarena is not installed (the textarena or trainers extra)"
)

from selfplay_agents.integrations.textarena import TextArenaEnv, make, textarena_env  # noqa: E402

Reply = Callable[[int, str], str]


def rollout(env, reply: Reply, seed: int, wrap: bool = True, num_players: int = 2):
    """SPIRAL's loop, as TextArena documents it: what each player saw and sent."""
    if wrap:
        env = ta.wrappers.LLMObservationWrapper(env)
    env.reset(num_players=num_players, seed=seed)
    moves, infos = [], []
    done = False
    while not done:
        player_id, observation = env.get_observation()
        action = reply(player_id, observation)
        done, info = env.step(action=action)
        moves.append((player_id, observation, action))
        infos.append(info)
    rewards, game_info = env.close()
    return moves, infos, rewards, game_info


def replay(env_id: str, seed: int, actions: list[tuple[int, str]], **config):
    """Our env on its own: the prompt before each reply, then the final infos."""
    env = selfplay_envs.make(env_id, **config)
    env.reset(seed=seed)
    prompts = []
    for player_id, action in actions:
        while env.terminations[env.agent_selection]:  # PettingZoo's dead steps
            env.step(None)
        assert env.agent_selection == f"player_{player_id}"
        prompts.append(env.observe(env.agent_selection)["text"])
        env.step(action)
    assert all(env.terminations[a] or env.truncations[a] for a in env.agents)
    return prompts, {agent: dict(env.infos[agent]) for agent in env.agents}


def opponent_replies(env_id: str, base: TextArenaEnv, names: tuple[str, ...], seed):
    """Our scripted opponents, one per seat, acting on the turn the wrapper holds."""
    policies = [
        make_opponent(env_id, name, seed=seed + i) for i, name in enumerate(names)
    ]

    def reply(player_id: int, observation: str) -> str:
        turn = Turn(
            env_id=env_id,
            agent=f"player_{player_id}",
            observation={"text": base.env.observe(f"player_{player_id}")["text"]},
            info=base.state.game_state[player_id],
        )
        return policies[player_id].act([turn])[0]

    return reply


GAMES = [
    ("tic_tac_toe_v0", ("minimax", "random")),
    ("tic_tac_toe_v0", ("random", "random")),
    ("kuhn_poker_v0", ("cfr", "random")),
    ("kuhn_poker_v0", ("nash", "nash")),
    ("negotiation_v0", ("greedy", "random")),
    ("negotiation_v0", ("stubborn", "greedy")),
]


@pytest.mark.parametrize(("env_id", "names"), GAMES, ids=lambda v: str(v))
@pytest.mark.parametrize("seed", [0, 7])
def test_spiral_loop_gets_our_env_rewards(env_id: str, names, seed: int) -> None:
    base = make(env_id)
    moves, infos, rewards, game_info = rollout(
        base, opponent_replies(env_id, base, names, seed), seed
    )
    prompts, final = replay(env_id, seed, [(pid, action) for pid, _, action in moves])

    returns = final["player_0"]["returns"]
    assert rewards == {0: returns["player_0"], 1: returns["player_1"]}
    assert sum(rewards.values()) == pytest.approx(0.0)  # zero-sum
    # LLMObservationWrapper's string ends with our env's prompt for that turn.
    for (_, observation, _), prompt in zip(moves, prompts, strict=True):
        assert observation.endswith(f"[GAME] {prompt}")
    assert all(info == {} for info in infos)  # scripted replies are valid
    for pid in (0, 1):
        agent = f"player_{pid}"
        assert game_info[pid]["role"] == final[agent]["role"]
        assert game_info[pid]["invalid_move"] is False
        assert game_info[pid]["outcome"] == final[agent]["outcome"]
        assert game_info[pid]["turn_count"] == sum(p == pid for p, _, _ in moves)
        assert isinstance(game_info[pid]["reason"], str) and game_info[pid]["reason"]


def test_a_four_player_game_runs_through_the_same_loop() -> None:
    env_id = "who_is_the_spy_v0"
    base = make(env_id)
    assert base.num_players == 4
    names = ("random", "scripted", "random", "scripted")
    reply = opponent_replies(env_id, base, names, seed=3)
    moves, _, rewards, game_info = rollout(base, reply, seed=3, num_players=4)
    _, final = replay(env_id, 3, [(pid, action) for pid, _, action in moves])
    returns = next(iter(final.values()))["returns"]
    assert rewards == {pid: returns[f"player_{pid}"] for pid in range(4)}
    assert sorted(game_info) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="who_is_the_spy_v0 is a 4-player game"):
        base.reset(num_players=2)


def test_the_loop_is_textaranas_own_on_a_textarena_game() -> None:
    """The same ``rollout`` plays TextArena's TicTacToe; our env reports alike."""

    def first_available(player_id: int, observation: str) -> str:
        return re.findall(r"Available Moves: '(\[\d\])'", observation)[-1]

    moves, _, ta_rewards, ta_info = rollout(
        ta.make("TicTacToe-v0-raw"), first_available, seed=0
    )
    assert moves and set(ta_rewards) == {0, 1}

    def first_legal(player_id: int, observation: str) -> str:
        return re.findall(r"Legal moves: (\d)", observation)[-1]

    ours = ta.wrappers.ActionFormattingWrapper(make("tic_tac_toe_v0"))
    _, _, rewards, game_info = rollout(ours, first_legal, seed=0)
    assert set(rewards) == set(ta_rewards)
    for pid in (0, 1):
        assert set(ta_info[pid]) <= set(game_info[pid])
        for key, value in ta_info[pid].items():
            assert type(game_info[pid][key]) is type(value), key


def test_textarenas_default_wrappers_stack_on_ours() -> None:
    """``ta.make``'s default stack (LLMObservationWrapper, ActionFormattingWrapper)."""
    base = textarena_env("tic_tac_toe_v0")
    assert isinstance(base, ta.Env)
    env = ta.wrappers.ActionFormattingWrapper(ta.wrappers.LLMObservationWrapper(base))
    with pytest.raises(ValueError, match="Double-wrapping"):
        ta.wrappers.LLMObservationWrapper(env)
    replies = ["4", "0", "1", "7", "2", "6", "3", "5", "8"]
    moves, _, rewards, _ = rollout(env, lambda pid, obs: replies.pop(0), 3, wrap=False)
    # ActionFormattingWrapper sent "[4]", which our env parses as cell 4.
    sent = [(pid, f"[{action}]") for pid, _, action in moves]
    _, final = replay("tic_tac_toe_v0", 3, sent)
    assert rewards == {0: final["player_0"]["returns"]["player_0"]} | {
        1: final["player_1"]["returns"]["player_1"]
    }
    assert base.state.turn == len(moves)


def test_single_turn_wrapper_gives_exactly_our_prompt() -> None:
    env = ta.wrappers.SingleTurnObservationWrapper(make("kuhn_poker_v0"))
    env.reset(num_players=2, seed=5)
    ours = selfplay_envs.make("kuhn_poker_v0")
    ours.reset(seed=5)
    player_id, observation = env.get_observation()
    assert player_id == 0
    assert observation == ours.observe("player_0")["text"]


@pytest.mark.parametrize(
    ("config", "replies", "allowed"),
    [
        ({}, ["4", "zz", "yy", "xx"], 3),  # retry: two retries, the third forfeits
        ({"invalid_move": {"mode": "loss"}}, ["4", "zz"], 1),
    ],
    ids=["retry", "loss"],
)
def test_an_invalid_move_is_reported_as_textarena_does(
    config: dict, replies: list[str], allowed: int
) -> None:
    base = make("tic_tac_toe_v0", **config)
    queue = list(replies)
    moves, infos, rewards, game_info = rollout(base, lambda pid, obs: queue.pop(0), 1)
    prompts, final = replay(
        "tic_tac_toe_v0", 1, [(p, a) for p, _, a in moves], **config
    )

    assert [pid for pid, _, _ in moves] == [0] + [1] * allowed
    reasons = [r["reason"] for r in final["player_1"]["episode"] if not r["valid"]]
    assert len(reasons) == allowed
    assert infos[0] == {}
    assert infos[1:] == [{"invalid_move": True, "reason": r} for r in reasons]
    # Retried moves come back with our env's warning in the next prompt.
    for (_, observation, _), prompt in zip(moves[2:], prompts[2:], strict=True):
        assert observation.endswith(prompt) and "Your last move was invalid" in prompt
    assert rewards == {0: 1.0, 1: -1.0}
    assert rewards == {0: final["player_0"]["returns"]["player_0"]} | {
        1: final["player_0"]["returns"]["player_1"]
    }
    assert final["player_1"]["forfeit"] is True
    assert game_info[1]["invalid_move"] is True
    assert game_info[0]["invalid_move"] is False
    assert reasons[-1] in game_info[0]["reason"] == game_info[1]["reason"]
    assert game_info[0]["turn_count"] == 1 and game_info[1]["turn_count"] == 0

    # TextArena's own TicTacToe reports its forfeit with the same keys and shapes.
    ta_queue = ["[4]", "zz", "yy"]
    _, _, ta_rewards, ta_info = rollout(
        ta.make("TicTacToe-v0-raw"), lambda pid, obs: ta_queue.pop(0), 1
    )
    assert ta_rewards == {0: 1, 1: -1}
    assert ta_info[1]["invalid_move"] is True and ta_info[0]["invalid_move"] is False
    for pid in (0, 1):
        assert set(ta_info[pid]) <= set(game_info[pid])


def test_a_penalty_fallback_counts_as_a_turn_and_is_reported() -> None:
    config = {"invalid_move": {"mode": "penalty"}}
    base = make("tic_tac_toe_v0", **config)
    queue = ["4", "nonsense"]
    env = ta.wrappers.LLMObservationWrapper(base)
    env.reset(num_players=2, seed=2)
    for _ in queue[:]:
        env.get_observation()
        done, info = env.step(queue.pop(0))
    assert not done
    assert info["invalid_move"] is True and info["reason"].startswith("unparseable")
    assert base.state.current_player_id == 0  # the fallback was played for player 1
    assert base.state.game_info[1]["turn_count"] == 1


def test_num_players_must_be_the_games() -> None:
    env = make("kuhn_poker_v0")
    with pytest.raises(ValueError, match="kuhn_poker_v0 is a 2-player game") as e:
        env.reset(num_players=3, seed=0)
    assert "num_players=2" in str(e.value) and "got 3" in str(e.value)
    with pytest.raises(ValueError, match="view='text'"):
        make("kuhn_poker_v0", view="numeric")
    with pytest.raises(RuntimeError, match="reset"):
        make("kuhn_poker_v0").get_observation()


def test_a_finished_game_stays_finished() -> None:
    base = make("kuhn_poker_v0")
    env = ta.wrappers.LLMObservationWrapper(base)
    env.reset(num_players=2, seed=0)
    done = False
    while not done:
        player_id, _ = env.get_observation()
        done, _ = env.step("[fold]" if player_id else "[bet]")
    rewards, _ = env.close()
    assert env.step("[bet]") == (True, {})
    assert env.close()[0] == rewards
    assert base.state.done and base.state.rewards == rewards
