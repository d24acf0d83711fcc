"""N games stepped together: the env the batch-inference adapter drives.

Each game has one acting seat at a time (simultaneous phases are taken seat by seat, as
in the AEC form, and no seat sees another's pending move). ``step`` takes one action per
game for its acting seat: an int array in the numeric view, a list of strings in the
text view. Games that end are reset at once (auto-reset); their final returns arrive in
``rewards`` and their final infos in ``infos[i]["final_info"]``.

Two paths run the games, with the same results:

* the generic path holds one ``core.episode.Episode`` per game and loops over them;
  every game supports it, in both views;
* the vector path (games whose ``Game.vector_rules`` returns a
  ``core.vector.VectorRules``; in the text view, rules that render and parse text)
  steps all games with numpy operations and keeps the invalid-move policy,
  truncation and auto-reset as arrays. Its infos are built lazily, by replaying a
  game's moves through a scalar ``Episode`` when they are read, and equal the
  generic path's.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

from selfplay_envs.core.adapter import env_options
from selfplay_envs.core.episode import Episode, InvalidMoveMode, InvalidMovePolicy, View
from selfplay_envs.core.errors import InvalidActionError
from selfplay_envs.core.registry import make_game
from selfplay_envs.core.seeding import np_random
from selfplay_envs.core.vector import VectorRules

__all__ = ["BatchedEnv", "BatchStep"]

_INT64 = np.iinfo(np.int64)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BatchStep:
    """What ``BatchedEnv.step`` returns.

    Attributes:
        observations: The next acting seat's observation of each game: a dict of
            stacked arrays (numeric view) or a list of observation dicts (text view).
        rewards: ``(num_envs, num_players)`` rewards earned by every seat on this step.
        terminated: Games that ended by their rules on this step (then auto-reset).
        truncated: Games cut off by the attempt limit on this step (then auto-reset).
        infos: Infos of each game's next acting seat; ``final_info`` after an end. A
            list of dicts on the generic path, a lazy sequence of the same dicts on
            the vector path.
        acting: Seat index that acts next in each game.
    """

    observations: Any
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    infos: Sequence[dict[str, Any]]
    acting: np.ndarray


class BatchedEnv:
    """Hold ``num_envs`` games of ``env_id`` and step their acting seats together.

    When the game offers vectorised rules (``Game.vector_rules``, e.g. tic-tac-toe
    and Kuhn poker; in the text view, rules with ``has_text``) and ``fast=True``,
    every game is stepped at once with numpy (the vector path) instead of a Python
    loop over scalar episodes (the generic path). In the text view the vector path
    still renders and parses each game's text in Python, but each distinct prompt
    only once. Given the same seed and actions both paths return the same
    observations, masks, rewards, terminated and truncated flags, acting seats,
    ``episode_counts`` and infos. The differences:

    * Infos are a lazy sequence. ``infos[i]`` is built on first access by replaying
      game ``i``'s moves through a scalar ``Episode`` (its finished episode too, for
      ``final_info``), then cached; the dict equals the generic path's. Each game
      keeps its replay and advances it only when its infos are read, so steps whose
      infos are not read cost nothing, and reading every game's infos on every
      step costs about what the generic path does. Infos of an earlier step read
      after later steps are still that step's (they replay from the episode start).
    * ``episodes`` (the live scalar ``Episode`` objects) is empty.
    * An action of the wrong type (not an int in the numeric view, not a str in the
      text view) raises ``InvalidActionError`` before any game moves (the generic
      path has stepped the games before it when it raises).
    * In the text view, the observation after an invalid reply that gets a retry
      (its warning names the reason) comes from a scalar replay of that game.
    * The ``"penalty"`` invalid-move policy plays a random fallback move drawn from
      the game's Generator; it always runs on the generic path.

    ``fast`` tells which path runs.

    Game ``i`` is seeded with ``seed + i`` on both paths.

    Args:
        env_id: A registered env id.
        num_envs: Games held at once.
        view: ``"text"`` or ``"numeric"``.
        invalid_move: The invalid-move policy of every game.
        max_attempts: Attempts (valid or not) after which an episode is truncated;
            by default ``max_game_length * (max_retries + 2)``.
        fast: Use the vector path where it exists; ``False`` forces the generic one.
        **config: Game parameters.
    """

    def __init__(
        self,
        env_id: str,
        num_envs: int,
        *,
        view: str | View = View.TEXT,
        invalid_move: InvalidMovePolicy | None = None,
        max_attempts: int | None = None,
        fast: bool = True,
        **config: Any,
    ):
        if num_envs < 1:
            raise ValueError(f"expected num_envs >= 1, got {num_envs}")
        # make()'s options, checked as make() checks them (ConfigError).
        env_options(view, invalid_move, None, max_attempts)
        self.game = make_game(env_id, **config)
        view, invalid_move, _, max_attempts = env_options(
            view, invalid_move, None, max_attempts, self.game.default_invalid_move
        )
        self.env_id = env_id
        self.num_envs = num_envs
        self.view = view
        self.invalid_move = invalid_move
        self.num_players = self.game.info.num_players
        self.agents = [self.game.agent_name(p) for p in range(self.num_players)]
        if max_attempts is None:
            max_attempts = self.game.info.max_game_length * (
                self.invalid_move.max_retries + 2
            )
        self.max_attempts = max_attempts
        self.episodes: list[Episode] = []
        self._rngs: list[np.random.Generator] = []
        self.episode_counts = np.zeros(num_envs, dtype=np.int64)
        self._vector = self._vector_rules() if fast else None
        if self._vector is not None:
            self._init_vector_state()

    @property
    def fast(self) -> bool:
        """True when the games run on the vector path."""
        return self._vector is not None

    def _vector_rules(self) -> VectorRules | None:
        if self.invalid_move.mode is InvalidMoveMode.PENALTY:
            return None  # the fallback move draws from each game's Generator
        rules = self.game.vector_rules(self.num_envs)
        if rules is None or (self.view is View.TEXT and not rules.has_text):
            return None
        info = self.game.info
        expected = (self.num_envs, info.num_players, info.num_actions)
        got = (rules.num_envs, rules.num_players, rules.num_actions)
        if got != expected or rules.observation_shape != info.observation_shape:
            raise ValueError(
                "expected vector rules for (games, players, actions, observation) "
                f"{(*expected, info.observation_shape)}, "
                f"got {(*got, rules.observation_shape)}"
            )
        return rules

    # ---- lifecycle ------------------------------------------------------------------

    def reset(
        self, seed: int | Sequence[int] | None = None
    ) -> tuple[Any, Sequence[dict[str, Any]]]:
        """Start every game; game i is seeded with ``seed + i``, or with ``seed[i]``
        when one seed per game is given (GRPO: several games from one start)."""
        self._rngs = [np_random(s) for s in self._game_seeds(seed)]
        if self._vector is not None:
            return self._reset_vector()
        for episode in self.episodes:
            episode.state.close()
        self.episodes = [self._new_episode(i) for i in range(self.num_envs)]
        acting = self.acting
        infos = [ep.info(int(p)) for ep, p in zip(self.episodes, acting, strict=True)]
        return self._observations(acting), infos

    def _game_seeds(self, seed: int | Sequence[int] | None) -> list[int | None]:
        if seed is None or isinstance(seed, (int, np.integer)):
            return [
                None if seed is None else int(seed) + i for i in range(self.num_envs)
            ]
        seeds = [int(s) for s in seed]
        if len(seeds) != self.num_envs:
            raise ValueError(
                f"expected one seed per game ({self.num_envs}), got {len(seeds)}"
            )
        return seeds

    def _new_episode(self, i: int) -> Episode:
        state = self.game.new_initial_state(self._rngs[i])
        return Episode(
            self.game,
            state,
            self._rngs[i],
            self.view,
            self.invalid_move,
            self.max_attempts,
            self.agents,
        )

    @property
    def acting(self) -> np.ndarray:
        """The seat that acts next in each game."""
        if self._vector is not None:
            return self._vector.acting()
        return np.array([ep.acting()[0] for ep in self.episodes], dtype=np.int64)

    def action_masks(self) -> np.ndarray:
        """``(num_envs, num_actions)`` int8: the legal actions of each acting seat.

        The numeric view also has them in ``observations["action_mask"]``; in the
        text view they let a caller constrain or check a reply without reading infos.
        Games without a finite action set have no masks.
        """
        if self.game.info.num_actions is None:
            raise ValueError(f"{self.env_id} has no finite action set: no masks")
        if self._vector is not None:
            return self._vector.legal_mask()
        return np.stack(
            [
                ep.action_mask(int(p))
                for ep, p in zip(self.episodes, self.acting, strict=True)
            ]
        )

    def step(self, actions: Sequence[Any] | np.ndarray) -> BatchStep:
        """Play one action per game for its acting seat; auto-reset finished games."""
        if len(actions) != self.num_envs:
            raise ValueError(f"expected {self.num_envs} actions, got {len(actions)}")
        if self._vector is not None:
            return self._step_vector(actions)
        rewards = np.zeros((self.num_envs, self.num_players), dtype=np.float32)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        final_infos: dict[int, list[dict[str, Any]]] = {}
        for i, (episode, action) in enumerate(zip(self.episodes, actions, strict=True)):
            episode.submit(episode.acting()[0], action)
            if episode.done:
                rewards[i] = episode.returns()
                terminated[i] = episode.terminal
                truncated[i] = not episode.terminal
                final_infos[i] = [episode.info(p) for p in range(self.num_players)]
                self.episode_counts[i] += 1
                episode.state.close()  # final infos are built: free what it holds
                self.episodes[i] = self._new_episode(i)
        acting = self.acting
        infos = [ep.info(int(p)) for ep, p in zip(self.episodes, acting, strict=True)]
        for i, finals in final_infos.items():
            infos[i]["final_info"] = dict(zip(self.agents, finals, strict=True))
        return BatchStep(
            observations=self._observations(acting),
            rewards=rewards,
            terminated=terminated,
            truncated=truncated,
            infos=infos,
            acting=acting,
        )

    def _observations(self, acting: np.ndarray) -> Any:
        observations = [
            ep.observe(int(p)) for ep, p in zip(self.episodes, acting, strict=True)
        ]
        if self.view is View.TEXT:
            return observations
        return {
            key: np.stack([obs[key] for obs in observations])
            for key in ("observation", "action_mask")
        }

    # ---- the vector path ------------------------------------------------------------

    def _init_vector_state(self) -> None:
        n = self.num_envs
        self._retries = np.zeros(n, dtype=np.int64)  # of the acting seat
        self._any_retries = False
        self._attempts = np.zeros(n, dtype=np.int64)
        # The actions of the last max_attempts steps (no episode is longer), the step
        # at which each game's current episode began, and its chance key: enough to
        # replay it. ``_starts`` and ``_keys`` are replaced, never written in place,
        # so the lazy infos of earlier steps can keep them without a copy.
        self._history: collections.deque[np.ndarray] = collections.deque(
            maxlen=self.max_attempts
        )
        self._steps = 0  # never reset, so that a start step names one episode
        self._starts = np.zeros(n, dtype=np.int64)
        self._keys = np.zeros((n, 0), dtype=np.int64)
        # The scalar replay of the last episode whose infos were read, by game: read
        # again at a later step, it only plays the moves since.
        self._shadows: dict[int, _Shadow] = {}
        # Replays never draw: the only policy that draws (penalty) is not vectorised.
        self._replay_rng = np_random(0)

    def _reset_vector(self) -> tuple[Any, Sequence[dict[str, Any]]]:
        rules = self._vector
        assert rules is not None
        rules.seed(self._rngs)
        rules.reset(np.ones(self.num_envs, dtype=bool))
        self._retries[:] = 0
        self._any_retries = False
        self._attempts[:] = 0
        self._history.clear()
        self._shadows.clear()
        self._starts = np.full(self.num_envs, self._steps, dtype=np.int64)
        self._keys = rules.episode_keys()
        infos = self._lazy_infos(rules.acting(), finals=None)
        return self._vector_observations(), infos

    def _step_vector(self, actions: Sequence[Any] | np.ndarray) -> BatchStep:
        rules = self._vector
        assert rules is not None
        if self.view is View.TEXT:
            given = _text_actions(actions)
            # Judged as the scalar episode judges them: cut to max_text_length first
            # (the replays of ``given`` record the cut).
            limit = self.game.info.max_text_length
            actions = rules.parse_texts([text[:limit] for text in given])
        else:
            actions, given = _int_actions(actions, self.num_envs)
        acting = rules.acting()
        rewards, terminated, invalid = rules.step(actions)
        self._history.append(given)
        self._steps += 1
        self._attempts += 1
        if invalid.any():
            forfeit = self._forfeits(invalid)
            rewards[forfeit] = rules.forfeit_returns(acting[forfeit])
            terminated = terminated | forfeit
        elif self._any_retries:  # every mover played a valid move
            self._retries[:] = 0
            self._any_retries = False
        truncated = (self._attempts >= self.max_attempts) & ~terminated
        done = terminated | truncated
        finals = None
        if done.any():
            finals = _Snapshot(mask=done, keys=self._keys, starts=self._starts)
            rules.reset(done)
            games = np.flatnonzero(done)
            self.episode_counts[games] += 1
            self._attempts[games] = 0
            self._retries[games] = 0
            self._starts = np.where(done, self._steps, self._starts)
            self._keys = rules.episode_keys()
        acting = rules.acting()
        observations = self._vector_observations()
        if self.view is View.TEXT and invalid.any():
            self._add_warnings(observations, invalid & ~done, acting)
        return BatchStep(
            observations=observations,
            rewards=rewards,
            terminated=terminated,
            truncated=truncated,
            infos=self._lazy_infos(acting, finals),
            acting=acting,
        )

    def _forfeits(self, invalid: np.ndarray) -> np.ndarray:
        """Apply the invalid-move policy; return the games whose mover forfeits."""
        if self.invalid_move.mode is InvalidMoveMode.LOSS:
            return invalid
        retry = invalid & (self._retries < self.invalid_move.max_retries)
        # A retry counts up; a valid move clears the count (a forfeit ends the game).
        self._retries = (self._retries + 1) * retry
        self._any_retries = bool(retry.any())
        return invalid & ~retry

    def _add_warnings(
        self,
        observations: list[dict[str, Any]],
        retried: np.ndarray,
        acting: np.ndarray,
    ) -> None:
        """Give the games whose reply was invalid and retried the prompt with the
        warning, from a scalar replay (which also has the reason's exact words)."""
        moves = _Moves(history=tuple(self._history), steps=self._steps)
        for i in np.flatnonzero(retried).tolist():
            episode = self._episode_at(i, self._keys[i], int(self._starts[i]), moves)
            observations[i] = episode.observe(int(acting[i]))

    def _vector_observations(self) -> Any:
        assert self._vector is not None
        if self.view is View.TEXT:
            return [{"text": text} for text in self._vector.texts()]
        return {
            "observation": self._vector.observations(),
            "action_mask": self._vector.legal_mask(),
        }

    def _lazy_infos(self, acting: np.ndarray, finals: _Snapshot | None) -> _ReplayInfos:
        assert self._vector is not None
        current = _Snapshot(mask=None, keys=self._keys, starts=self._starts)
        moves = _Moves(history=tuple(self._history), steps=self._steps)
        # A copy: the caller may write into the ``acting`` array it is handed.
        return _ReplayInfos(self, acting.copy(), moves, current, finals)

    def _episode_at(
        self, i: int, key: np.ndarray, start: int, moves: _Moves
    ) -> Episode:
        """Game ``i``'s episode that began at step ``start``, replayed up to ``moves``.

        Reuses the game's shadow replay when it is this episode and not ahead.
        """
        shadow = self._shadows.get(i)
        if (
            shadow is not None
            and shadow.start == start
            and start + shadow.episode.attempts <= moves.steps
        ):
            episode = shadow.episode
        else:
            assert self._vector is not None
            episode = Episode(
                self.game,
                self._vector.initial_state(key),
                self._replay_rng,
                self.view,
                self.invalid_move,
                self.max_attempts,
            )
            if shadow is None or start > shadow.start:
                self._shadows[i] = _Shadow(start=start, episode=episode)
        for action in moves.of_game(i, start + episode.attempts):
            episode.submit(episode.acting()[0], action)
        return episode


@dataclasses.dataclass(kw_only=True)
class _Shadow:
    """A scalar replay of one game's episode, advanced as its infos are read."""

    start: int  # the step at which the episode began
    episode: Episode


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Moves:
    """The actions of the steps ``steps - len(history)`` to ``steps - 1``."""

    history: tuple[np.ndarray, ...]
    steps: int

    def of_game(self, i: int, first: int) -> list[Any]:
        """Game ``i``'s actions from step ``first`` to the last step."""
        offset = self.steps - len(self.history)
        return [self.history[k - offset][i] for k in range(first, self.steps)]


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Snapshot:
    """Which episode each game was in: its chance key and its first step."""

    mask: np.ndarray | None  # the games this snapshot is about (None: all)
    keys: np.ndarray
    starts: np.ndarray


class _ReplayInfos(Sequence[dict[str, Any]]):
    """The infos of one vector step, each built on first access by a replay."""

    def __init__(
        self,
        env: BatchedEnv,
        acting: np.ndarray,
        moves: _Moves,
        current: _Snapshot,
        finals: _Snapshot | None,
    ):
        self._env = env
        self._acting = acting
        self._moves = moves
        self._current = current
        self._finals = finals
        self._cache: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._acting)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = range(len(self))[index]  # normalises negatives, raises IndexError
        if i not in self._cache:
            self._cache[i] = self._build(i)
        return self._cache[i]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"<lazy infos of {len(self)} games>"

    def _build(self, i: int) -> dict[str, Any]:
        env, finals = self._env, self._finals
        final_info = None
        # The ended episode first: its shadow replay is then one move behind.
        if finals is not None and finals.mask is not None and finals.mask[i]:
            ended = env._episode_at(
                i, finals.keys[i], int(finals.starts[i]), self._moves
            )
            final_info = {agent: ended.info(p) for p, agent in enumerate(env.agents)}
        current = self._current
        episode = env._episode_at(
            i, current.keys[i], int(current.starts[i]), self._moves
        )
        info = episode.info(int(self._acting[i]))
        if final_info is not None:
            info["final_info"] = final_info
        return info


def _text_actions(actions: Sequence[Any] | np.ndarray) -> list[str]:
    """The replies as a list (kept for replays); ``InvalidActionError`` for a non-str,
    as the generic path raises."""
    replies = list(actions)
    for reply in replies:
        if not isinstance(reply, str):
            raise InvalidActionError(
                f"expected a str action in the text view, got {type(reply).__name__}"
            )
    return replies


def _int_actions(
    actions: Sequence[Any] | np.ndarray, num_envs: int
) -> tuple[np.ndarray, np.ndarray]:
    """One action per game as int64 (a copy), and the actions as given, for replays.

    Raises ``InvalidActionError`` for a non-int action, as the generic path does.
    """
    array = np.asarray(actions)
    if array.shape != (num_envs,):
        raise InvalidActionError(
            f"expected {num_envs} int actions, got an array of shape {array.shape}"
        )
    if array.dtype == object:
        for action in array:
            if not isinstance(action, (int, np.integer)) or isinstance(action, bool):
                raise InvalidActionError(
                    "expected an int action in the numeric view, "
                    f"got {type(action).__name__}"
                )
        # Python ints beyond int64 are off every action set: clip them for the
        # rules, and replay the ints as given so that infos quote them.
        clipped = [min(max(int(a), _INT64.min), _INT64.max) for a in array]
        return np.array(clipped, dtype=np.int64), array.copy()
    if array.dtype.kind not in "iu":
        raise InvalidActionError(
            f"expected int actions in the numeric view, got dtype {array.dtype}"
        )
    if array.dtype == np.uint64:  # the same clipping as above
        return np.minimum(array, _INT64.max).astype(np.int64), array.copy()
    ints = array.astype(np.int64)
    return ints, ints
