"""TextArena glue: our text-view envs behind TextArena's env interface.

Code written for TextArena (SPIRAL's rollout loop, UnstableBaselines' actors) drives an
env through four calls, with integer player ids::

    env.reset(num_players=2, seed=0)
    player_id, observation = env.get_observation()
    done, info = env.step(action)
    rewards, game_info = env.close()

``textarena_env(env_id, **config)`` (alias ``make``) returns such an env around
``selfplay_envs.make(env_id, **config)``, and TextArena's own wrappers
(``LLMObservationWrapper``, ``ActionFormattingWrapper``, ...) stack on top of it.

What maps to what:

- player ``i`` is our agent ``possible_agents[i]`` (``"player_i"``);
- ``get_observation()`` returns, as TextArena's base envs do, the list of messages
  ``(from_id, message, ObservationType)`` the player has not seen yet: one message, from
  the game (``GAME_ID``), holding our env's whole text prompt for this turn (typed
  ``PROMPT`` the first time a player observes, ``GAME_BOARD`` after). So
  ``LLMObservationWrapper`` gives the player's prompts so far, the current one last,
  and ``SingleTurnObservationWrapper`` gives exactly the current prompt;
- the action is the model's text, parsed by our env; an invalid move follows our env's
  invalid-move policy (its warning is in the next prompt), and ``step`` reports it in
  ``info`` as ``{"invalid_move": True, "reason": ...}`` (a valid move gives ``{}``);
- ``close()`` returns the episode's returns by player id and, per player, TextArena's
  ``game_info`` entries: ``role``, ``invalid_move`` (this player forfeited by invalid
  moves), ``turn_count`` (its moves that counted) and ``reason``; plus our ``outcome``.

Requires ``textarena`` (the ``textarena`` extra; tested with 0.7.4).
"""

from __future__ import annotations

from typing import Any

from selfplay_envs.core.errors import DependencyNotInstalled

try:
    import textarena as ta
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise DependencyNotInstalled.for_extra("textarena", "textarena") from e

import selfplay_envs

__all__ = ["TextArenaEnv", "TextArenaState", "make", "textarena_env"]


class TextArenaState:
    """The attributes of ``ta.State`` that TextArena's wrappers and loops read.

    Attributes:
        num_players: The game's player count.
        current_player_id: The player to act (an int).
        role_mapping: Player id to display name, with ``GAME_ID`` -> ``"GAME"``
            (``LLMObservationWrapper`` names senders from it).
        turn: Moves that counted so far (a retried invalid move does not count).
        done: Whether the episode is over.
        rewards: ``None`` until the end, then the returns by player id.
        game_info: Per player id: ``role``, ``invalid_move``, ``turn_count`` and, at
            the end, ``reason`` and ``outcome``.
        step_info: What the last ``step`` returned.
        game_state: Our env's current infos, by player id (read-only).
    """

    def __init__(self, num_players: int, roles: dict[int, str]):
        self.num_players = num_players
        self.current_player_id = 0
        self.role_mapping: dict[int, str] = {
            pid: f"Player {pid}" for pid in range(num_players)
        }
        self.role_mapping[ta.GAME_ID] = "GAME"
        self.turn = 0
        self.done = False
        self.rewards: dict[int, float] | None = None
        self.game_info: dict[int, dict[str, Any]] = {
            pid: {
                "role": roles.get(pid, f"Player {pid}"),
                "invalid_move": False,
                "turn_count": 0,
            }
            for pid in range(num_players)
        }
        self.step_info: dict[str, Any] = {}
        self.game_state: dict[int, dict[str, Any]] = {}


class TextArenaEnv(ta.Env):
    """One of our games with TextArena's ``reset``/``get_observation``/``step``/``close``.

    Args:
        env_id: One of ``selfplay_envs.list_envs()``.
        **config: The game's parameters, passed to ``selfplay_envs.make`` (always the
            text view).
    """

    def __init__(self, env_id: str, **config: Any):
        view = config.pop("view", "text")
        if view != "text":
            raise ValueError(
                f"TextArena envs exchange text: expected view='text', got {view!r}"
            )
        self.env_id = env_id
        self.config = dict(config)
        self.env = selfplay_envs.make(env_id, view="text", **config)
        self.agents: list[str] = list(self.env.possible_agents)
        self.num_players = len(self.agents)
        self.state: TextArenaState | None = None
        self._seen: set[int] = set()
        self._returns: dict[str, float] = {}
        self._infos: dict[str, dict[str, Any]] = {}

    # -- TextArena's interface -------------------------------------------------------

    def reset(self, num_players: int, seed: int | None = None) -> None:
        """Start an episode; ``num_players`` must be the game's player count."""
        if num_players != self.num_players:
            raise ValueError(
                f"{self.env_id} is a {self.num_players}-player game: expected "
                f"num_players={self.num_players}, got {num_players}"
            )
        self.env.reset(seed=seed)
        self._seen = set()
        self._returns = dict.fromkeys(self.agents, 0.0)
        self._infos = {}
        infos = self.env.infos
        roles = {
            pid: str(infos[agent].get("role", f"Player {pid}"))
            for pid, agent in enumerate(self.agents)
            if agent in infos
        }
        self.state = TextArenaState(self.num_players, roles)
        self._sync()

    def get_observation(self) -> tuple[int, list[tuple[int, str, Any]]]:
        """The player to act and its unseen messages: one, our env's current prompt."""
        state = self._require_state()
        pid = state.current_player_id
        if state.done:
            return pid, []
        kind = (
            ta.ObservationType.GAME_BOARD
            if pid in self._seen
            else ta.ObservationType.PROMPT
        )
        self._seen.add(pid)
        prompt = self.env.observe(self.agents[pid])["text"]
        return pid, [(ta.GAME_ID, prompt, kind)]

    def step(self, action: str) -> tuple[bool, dict[str, Any]]:
        """Play ``action`` (model text) for the current player: ``(done, info)``."""
        state = self._require_state()
        if state.done:
            return True, {}
        agent = self.agents[state.current_player_id]
        self.env.step(action)
        self._collect_rewards()
        records = self._records()
        record = records[-1] if records else None
        info: dict[str, Any] = {}
        if record is not None and record.agent == agent:
            if record.valid or record.fallback:
                state.turn += 1
                state.game_info[state.current_player_id]["turn_count"] += 1
            if not record.valid:
                info = {"invalid_move": True, "reason": record.reason}
        self._skip_finished_agents()
        self._sync()
        state.step_info = info
        return state.done, info

    def close(self) -> tuple[dict[int, float], dict[int, dict[str, Any]]]:
        """The returns by player id and TextArena's per-player ``game_info``."""
        state = self._require_state()
        rewards = state.rewards
        if rewards is None:  # closed mid-episode: what was earned so far
            rewards = {pid: self._returns[a] for pid, a in enumerate(self.agents)}
        return rewards, state.game_info

    # -- helpers -----------------------------------------------------------------------

    def _require_state(self) -> TextArenaState:
        if self.state is None:
            raise RuntimeError("call reset(num_players, seed) before using the env")
        return self.state

    def _records(self) -> list[Any]:
        """Our episode's attempted moves (``TurnRecord``s), valid or not."""
        return self.env.unwrapped.episode.records

    def _collect_rewards(self) -> None:
        for agent, reward in self.env.rewards.items():
            self._returns[agent] = self._returns.get(agent, 0.0) + float(reward)

    def _finished(self, agent: str) -> bool:
        return bool(self.env.terminations[agent] or self.env.truncations[agent])

    def _skip_finished_agents(self) -> None:
        # PettingZoo asks a finished agent for a ``None`` step before removing it;
        # TextArena has no such step, so take it here, keeping the agent's last infos.
        while self.env.agents and not all(map(self._finished, self.env.agents)):
            agent = self.env.agent_selection
            if not self._finished(agent):
                return
            self._infos[agent] = dict(self.env.infos[agent])
            self.env.step(None)
            self._collect_rewards()

    def _sync(self) -> None:
        state = self._require_state()
        live = self.env.agents
        infos = self.env.infos
        self._infos.update({agent: infos[agent] for agent in live})
        state.game_state = {
            pid: self._infos[agent]
            for pid, agent in enumerate(self.agents)
            if agent in self._infos
        }
        if live and not all(map(self._finished, live)):
            state.current_player_id = self.agents.index(self.env.agent_selection)
            return
        self._finish()

    def _finish(self) -> None:
        state = self._require_state()
        state.done = True
        # Every seat's final infos share returns and forfeit; a seat removed early
        # (PettingZoo's dead step) keeps the infos it had then, without them.
        first = next((i for i in self._infos.values() if "returns" in i), {})
        returns = first.get("returns") or self._returns
        state.rewards = {
            pid: float(returns.get(agent, 0.0)) for pid, agent in enumerate(self.agents)
        }
        last_record: dict[str, Any] = {}
        for record in self._records():
            last_record[record.agent] = record
        # A forfeit ends the game on the offenders' last replies, all invalid.
        forfeit = bool(first.get("forfeit"))
        offenders = [
            pid
            for pid, agent in enumerate(self.agents)
            if forfeit
            and agent in last_record
            and not last_record[agent].valid
            and not last_record[agent].fallback
        ]
        reason = _reason(
            self._infos, self.agents, state.rewards, offenders, last_record
        )
        for pid, agent in enumerate(self.agents):
            entry = state.game_info[pid]
            entry["invalid_move"] = pid in offenders
            entry["reason"] = reason
            entry["outcome"] = self._infos.get(agent, {}).get("outcome", "")


def _reason(
    infos: dict[str, dict[str, Any]],
    agents: list[str],
    rewards: dict[int, float],
    offenders: list[int],
    last_record: dict[str, Any],
) -> str:
    """One sentence on how the game ended, as TextArena's ``game_info`` carries."""
    if offenders:
        why = "; ".join(
            f"Player {pid}: {last_record[agents[pid]].reason}" for pid in offenders
        )
        return f"Invalid move: {why}"
    outcomes = {
        pid: infos.get(a, {}).get("outcome", "") for pid, a in enumerate(agents)
    }
    if "truncated" in outcomes.values():
        return "The game was truncated: the attempt limit was reached."
    winners = [pid for pid, outcome in outcomes.items() if outcome == "win"]
    if winners:
        names = " and ".join(f"Player {pid}" for pid in winners)
        return f"{names} won (returns {rewards})."
    return f"The game is a draw (returns {rewards})."


def textarena_env(env_id: str, **config: Any) -> TextArenaEnv:
    """``env_id`` with ``config`` as a TextArena env; wrap it as TextArena's are."""
    return TextArenaEnv(env_id, **config)


make = textarena_env
