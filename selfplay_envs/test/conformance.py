"""Checks every registered env must pass, in every view.

``check_env`` runs PettingZoo's ``api_test``, ``parallel_api_test`` and ``seed_test``
and adds ours: zero-sum returns at game end, the ``GameInfo`` kept (its ``roles`` at
reset, ``simultaneous``, returns within ``[min_utility, max_utility]``),
pickle-and-replay, RNG-state determinism as in Gymnasium's ``env_checker``, and
PettingZoo's own conversions (``aec_to_parallel``, ``parallel_to_aec``,
``OrderEnforcingWrapper``): each converted env passes PettingZoo's API test and a full
random game, or, for ``aec_to_parallel`` of an env that declares
``metadata["is_parallelizable"] = False``, is refused up front by PettingZoo itself.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
from pettingzoo.test import api_test, parallel_api_test, seed_test
from pettingzoo.utils.conversions import aec_to_parallel, parallel_to_aec
from pettingzoo.utils.env import AECEnv, ParallelEnv
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from selfplay_envs.core.game import GameInfo
from selfplay_envs.core.registry import make, make_parallel

__all__ = [
    "check_env",
    "check_conversions",
    "check_game_info_at_reset",
    "check_random_play",
    "check_parallel_random_play",
    "check_pickle_replay",
    "check_rng_determinism",
    "conformance_configs",
]


def _random_action(
    env: AECEnv | ParallelEnv,
    agent: str,
    rng: np.random.Generator,
    info: dict[str, Any] | None = None,
) -> Any:
    """A seeded random action: a masked index, or junk text that is sometimes legal.

    ``env`` may be wrapped or converted: the episode is read from ``env.unwrapped``.
    """
    info = env.infos[agent] if info is None else info
    mask = info.get("action_mask")
    if mask is None and _numeric(env):  # infos="numeric" leaves the mask out
        mask = env.unwrapped.episode.action_mask(env.possible_agents.index(agent))
    if mask is not None:
        legal = np.flatnonzero(mask)
        return int(rng.choice(legal)) if len(legal) else 0
    episode = env.unwrapped.episode
    replies = episode.state.example_actions(env.possible_agents.index(agent))
    if replies and rng.random() < 0.8:
        return f"My move: {replies[int(rng.integers(len(replies)))]}"
    return "".join(
        rng.choice(list("abc [0-9]{}\\boxed"), size=int(rng.integers(1, 12)))
    )


def _numeric(env: AECEnv | ParallelEnv) -> bool:
    """Whether ``env`` (wrapped or converted) is one of ours in the numeric view."""
    view = getattr(env.unwrapped, "view", None)
    return getattr(view, "value", view) == "numeric"


def _game_info(env: AECEnv | ParallelEnv) -> GameInfo | None:
    """The ``GameInfo`` of the game under ``env`` (wrapped or converted), if any."""
    game = getattr(env.unwrapped, "game", None)
    return getattr(game, "info", None)


def check_game_info_at_reset(env: AECEnv) -> None:
    """``GameInfo.roles``, when declared, has one entry per seat, each seat's role
    (``infos[agent]["role"]``, from ``State.role``) at the start of an episode."""
    info = _game_info(env)
    if info is None or info.roles is None:
        return
    assert len(info.roles) == info.num_players == len(env.possible_agents), (
        f"GameInfo.roles {info.roles} has not one role per seat "
        f"({info.num_players} seats)"
    )
    # From State.role, which infos[agent]["role"] reports where infos are full.
    state = env.unwrapped.episode.state
    roles = tuple(state.role(p) for p in range(len(env.possible_agents)))
    for agent, role in zip(env.possible_agents, roles, strict=True):
        reported = env.infos[agent].get("role", role)
        assert reported == role, f"infos[{agent!r}]['role'] {reported!r} != {role!r}"
    assert roles == tuple(info.roles), (
        f"GameInfo.roles {info.roles} differ from the seats' roles at reset {roles}"
    )


def _check_simultaneous(env: AECEnv | ParallelEnv, info: GameInfo | None) -> None:
    """A game that declares ``simultaneous=False`` never has several seats to act."""
    if info is None or info.simultaneous:
        return
    episode = getattr(env.unwrapped, "episode", None)
    if episode is None or getattr(episode, "terminal", False):
        return
    acting = episode.state.current_players()
    assert len(acting) <= 1, (
        f"{info.name} declares GameInfo.simultaneous=False, but seats {acting} act "
        "at once"
    )


def _check_returns(
    env: AECEnv | ParallelEnv,
    info: GameInfo | None,
    totals: dict[str, float],
    truncated: bool,
) -> None:
    """An episode's returns sum to zero (where the env is zero-sum) and, unless it was
    truncated, each seat's lies in ``[min_utility, max_utility]``."""
    if env.metadata.get("zero_sum", True):
        total = sum(totals.values())
        assert abs(total) < 1e-6, f"returns {totals} do not sum to zero"
    if truncated or info is None:
        return
    low, high = info.min_utility, info.max_utility
    outside = {a: r for a, r in totals.items() if not low - 1e-9 <= r <= high + 1e-9}
    assert not outside, (
        f"returns {outside} of {info.name} lie outside GameInfo's "
        f"[min_utility, max_utility] = [{low}, {high}]"
    )


def check_random_play(
    env_fn: Callable[[], AECEnv], *, episodes: int = 5, seed: int = 0
) -> list[dict[str, float]]:
    """Play random episodes; each must end, with zero-sum returns if terminal.

    The ``GameInfo`` is checked as they go: its ``roles`` at reset, no two seats
    acting at once unless ``simultaneous``, and every return of a terminated episode
    within ``[min_utility, max_utility]``.
    """
    rng = np.random.default_rng(seed)
    all_returns = []
    for episode in range(episodes):
        env = env_fn()
        env.reset(seed=seed + episode)
        info = _game_info(env)
        check_game_info_at_reset(env)
        totals = dict.fromkeys(env.possible_agents, 0.0)
        truncated = False
        steps = 0
        for agent in env.agent_iter(max_iter=100_000):
            _, reward, termination, truncation, _ = env.last()
            totals[agent] += reward
            truncated = truncated or (truncation and not termination)
            _check_simultaneous(env, info)
            action = (
                None if termination or truncation else _random_action(env, agent, rng)
            )
            env.step(action)
            steps += 1
        assert not env.agents, f"episode {episode} did not end within 100000 steps"
        _check_returns(env, info, totals, truncated)
        all_returns.append(totals)
    return all_returns


def check_parallel_random_play(
    env_fn: Callable[[], ParallelEnv], *, episodes: int = 5, seed: int = 0
) -> list[dict[str, float]]:
    """As ``check_random_play``, through the Parallel API: every live agent sends an
    action each step; each episode must end, with zero-sum returns if terminal."""
    rng = np.random.default_rng(seed)
    all_returns = []
    for episode in range(episodes):
        env = env_fn()
        _, infos = env.reset(seed=seed + episode)
        info = _game_info(env)
        totals = dict.fromkeys(env.possible_agents, 0.0)
        truncated = False
        for _ in range(100_000):
            if not env.agents:
                break
            _check_simultaneous(env, info)
            actions = {a: _random_action(env, a, rng, infos[a]) for a in env.agents}
            _, rewards, terminations, truncations, infos = env.step(actions)
            for agent, reward in rewards.items():
                totals[agent] += reward
            truncated = truncated or any(
                truncations.get(a) and not terminations.get(a) for a in truncations
            )
        assert not env.agents, f"episode {episode} did not end within 100000 steps"
        _check_returns(env, info, totals, truncated)
        all_returns.append(totals)
    return all_returns


def check_conversions(
    env_id: str,
    view: str = "text",
    num_cycles: int = 200,
    *,
    invalid_move: Any = None,
    **config: Any,
) -> dict[str, bool]:
    """PettingZoo's conversions of ``env_id`` in ``view``: each passes PettingZoo's API
    test and a full random game, or is refused up front with PettingZoo's own error.

    ``parallel_to_aec`` (of ``make_parallel``) and ``OrderEnforcingWrapper`` (of
    ``make``) must always work. ``aec_to_parallel`` (of ``make``) must work exactly when
    the env declares ``metadata["is_parallelizable"]``, and be refused by PettingZoo
    at once otherwise, never fail in the middle of a game. Returns whether each
    conversion was accepted.
    """
    kwargs = {"view": view, "invalid_move": invalid_move, **config}

    def aec_fn() -> AECEnv:
        return make(env_id, **kwargs)

    def parallel_fn() -> ParallelEnv:
        return make_parallel(env_id, **kwargs)

    def ordered_fn() -> AECEnv:
        return OrderEnforcingWrapper(aec_fn())

    def from_parallel_fn() -> AECEnv:
        return parallel_to_aec(parallel_fn())

    def to_parallel_fn() -> ParallelEnv:
        return aec_to_parallel(aec_fn())

    for converted in (ordered_fn, from_parallel_fn):
        api_test(converted(), num_cycles=num_cycles)
        check_random_play(converted)
    declared = bool(aec_fn().metadata.get("is_parallelizable", False))
    assert parallel_fn().metadata.get("is_parallelizable", False) == declared
    if declared:
        parallel_api_test(to_parallel_fn(), num_cycles=num_cycles)
        check_parallel_random_play(to_parallel_fn)
    else:
        try:
            to_parallel_fn()
        except AssertionError as e:  # PettingZoo's own refusal, before any step
            assert "is_parallelizable" in str(e), f"unexpected refusal: {e}"
        else:
            raise AssertionError(
                f"aec_to_parallel accepted {env_id} ({view}), which declares "
                "is_parallelizable=False"
            )
    return {
        "OrderEnforcingWrapper": True,
        "parallel_to_aec": True,
        "aec_to_parallel": declared,
    }


def _play_recorded(env: AECEnv, actions: list[Any]) -> list[Any]:
    observations = []
    for action in actions:
        env.step(action)
        if env.agents:
            observations.append(env.observe(env.agent_selection))
    return observations


def check_pickle_replay(env_fn: Callable[[], AECEnv], *, seed: int = 42) -> None:
    """A pickled env replays the same moves to the same observations."""
    env = env_fn()
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    actions = []
    for agent in env.agent_iter(max_iter=6):
        _, _, termination, truncation, _ = env.last()
        if termination or truncation:
            break
        actions.append(_random_action(env, agent, rng))
        env.step(actions[-1])
    env = env_fn()
    env.reset(seed=seed)
    clone = pickle.loads(pickle.dumps(env))
    first, second = _play_recorded(env, actions), _play_recorded(clone, actions)
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=False):
        assert _equal(a, b), "pickled env diverged from the original"


def check_rng_determinism(env_fn: Callable[[], AECEnv]) -> None:
    """Same seed, same first observation and RNG state; another seed, another state."""
    env_a, env_b = env_fn(), env_fn()
    env_a.reset(seed=123)
    env_b.reset(seed=123)
    agent = env_a.agent_selection
    assert _equal(env_a.observe(agent), env_b.observe(agent))
    state_a = env_a._rng.bit_generator.state  # noqa: SLF001 - the adapter's own RNG
    assert state_a == env_b._rng.bit_generator.state  # noqa: SLF001
    env_b.reset(seed=456)
    assert state_a != env_b._rng.bit_generator.state  # noqa: SLF001


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def conformance_configs(game: Any) -> list[dict[str, Any]]:
    """The configs the suite runs on ``game``: the default, the game's
    ``conformance_configs``, and ``{"preset": name}`` for every preset none of those
    names, so that a new preset cannot go untested."""
    configs: list[dict[str, Any]] = [{}, *game.conformance_configs]
    params = type(game).parameters
    if params is not None and "preset" in params:
        preset = params.params["preset"]
        named = {preset.default} | {config.get("preset") for config in configs}
        configs += [{"preset": p} for p in preset.kind.choices if p not in named]
    return configs


def unavailable_reason(env_id: str, **config: Any) -> str | None:
    """Why ``env_id`` cannot be built on this machine (e.g. no sandbox), or None."""
    from selfplay_envs.core.errors import Error
    from selfplay_envs.core.registry import make_game

    try:
        make_game(env_id, **config)
    except Error as e:
        return f"{env_id} cannot run on this machine: {e}"
    return None


def check_env(
    env_id: str, view: str = "text", num_cycles: int = 200, **config: Any
) -> None:
    """Run the whole conformance suite on ``env_id`` in ``view``."""

    def env_fn() -> AECEnv:
        return make(env_id, view=view, **config)

    api_test(env_fn(), num_cycles=num_cycles)
    parallel_api_test(make_parallel(env_id, view=view, **config), num_cycles=num_cycles)
    seed_test(env_fn, num_cycles=num_cycles)
    check_random_play(env_fn)
    check_parallel_random_play(lambda: make_parallel(env_id, view=view, **config))
    check_pickle_replay(env_fn)
    check_rng_determinism(env_fn)
    # The default policy retries, which no AEC cycle can hold; ``loss`` never asks a
    # seat twice, so a game of simultaneous moves converts to Parallel under it.
    for invalid_move in (None, {"mode": "loss"}):
        check_conversions(
            env_id, view, num_cycles=num_cycles, invalid_move=invalid_move, **config
        )
