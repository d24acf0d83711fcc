"""Our games through GEM's own registry and wrappers, with scripted move strings."""

from __future__ import annotations

import pytest

import selfplay_envs
from selfplay_agents.integrations.seat import replay_moves

gem = pytest.importorskip("gem", reason="gem-llm is not installed (the gem extra)")

from gem.wrappers.wrapper_factory import get_wrapper_fns  # noqa: E402

from selfplay_agents.integrations import gem as sg  # noqa: E402


def replay(env_id, seed, moves, config):
    return replay_moves(env_id, seed, [tuple(m) for m in moves], **config)


@pytest.mark.parametrize(
    ("env_id", "seat", "script"),
    [
        ("tic_tac_toe_v0", "player_0", ["no!", "4", "0", "8", "2", "6", "1"]),
        ("kuhn_poker_v0", "player_1", ["??", "call", "check", "fold", "bet"]),
    ],
)
def test_gem_make_and_wrappers_play_our_games(env_id, seat, script):
    env = gem.make(f"selfplay:{env_id}", seat=seat, opponent="random")
    for wrapper in get_wrapper_fns("concat,episode_tracking"):
        env = wrapper(env)
    prompt, info = env.reset(seed=5)
    assert isinstance(prompt, str) and prompt
    total, done, invalid = 0.0, False, 0
    for text in script * 3:
        legal = info.get("legal_actions") or []
        # Nonsense goes as it is; a scripted move that is not legal now becomes the
        # first legal one.
        move = text if text in legal or not text.isalnum() else legal[0]
        prompt, reward, terminated, truncated, info = env.step(move)
        total += reward
        invalid += int(info["invalid_move"])
        if terminated or truncated:
            done = True
            break
    assert done
    assert invalid >= 1  # the scripted nonsense was an invalid move, not an exception
    seat_env = env.unwrapped.seat
    returns = replay(env_id, 5, seat_env.moves, {})
    assert total == pytest.approx(returns[seat])
    assert info["returns"] == pytest.approx(returns)


def test_registration_covers_every_game_and_refuses_bad_config():
    assert {f"selfplay:{e}" for e in selfplay_envs.list_envs()} <= set(
        gem.envs.registration.ENV_REGISTRY
    )
    assert sg.register_all() == []
    with pytest.raises(KeyError, match="nobody"):
        gem.make("selfplay:tic_tac_toe_v0", opponent="nobody")
