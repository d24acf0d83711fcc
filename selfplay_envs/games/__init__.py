"""The built-in games, one folder each. A new game is one folder and one line here."""

from __future__ import annotations

from selfplay_envs.core.registry import register

# env id -> "module:GameClass". Modules are imported on first ``make``, not here.
BUILTIN_GAMES: dict[str, str] = {
    "tic_tac_toe_v0": "selfplay_envs.games.tic_tac_toe.env:TicTacToeGame",
    "kuhn_poker_v0": "selfplay_envs.games.kuhn_poker.env:KuhnPokerGame",
    "leduc_poker_v0": "selfplay_envs.games.leduc_poker.env:LeducPokerGame",
    "liars_dice_v0": "selfplay_envs.games.liars_dice.env:LiarsDiceGame",
    "search_qa_v0": "selfplay_envs.games.search_qa.env:SearchQAGame",
    "who_is_the_spy_v0": "selfplay_envs.games.who_is_the_spy.env:WhoIsTheSpyGame",
    "negotiation_v0": "selfplay_envs.games.negotiation.env:NegotiationGame",
    "bug_repair_v0": "selfplay_envs.games.bug_repair.env:BugRepairGame",
    "core_war_v0": "selfplay_envs.games.core_war.env:CoreWarGame",
    "connect_four_v0": "selfplay_envs.games.connect_four.env:ConnectFourGame",
}


def register_builtin_games() -> None:
    """Register every built-in game (idempotent)."""
    for env_id, entry_point in BUILTIN_GAMES.items():
        register(env_id, entry_point, override=True)
