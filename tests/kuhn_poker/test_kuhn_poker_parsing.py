"""Kuhn poker text answers as language models write them."""

from __future__ import annotations

import pytest

import selfplay_envs
from selfplay_envs.games.kuhn_poker.rules import Action, KuhnPokerState

J, Q, K = 0, 1, 2

# (reply, expected action) for the opener holding a King, no bet pending.
OPENING_REPLIES = [
    pytest.param(
        "I hold the King, the best card, so betting extracts value from a Queen "
        "that calls.\n\n\\boxed{bet}",
        Action.BET,
        id="reasoning-then-boxed",
    ),
    pytest.param("[Bet]", Action.BET, id="textarena-bracket-capitalised"),
    pytest.param(
        "Options are [check] or [bet]. Checking could induce a bluff, so I'll go "
        "with [check]",
        Action.PASS,
        id="mentions-both-moves-last-wins",
    ),
    pytest.param(
        "<think>If I bet, a Jack folds; maybe \\boxed{check} to trap?</think>\n"
        "Value matters more here. <answer>bet</answer>",
        Action.BET,
        id="think-block-ignored",
    ),
    pytest.param("\\boxed{\\text{Bet}}", Action.BET, id="latex-text-in-box"),
    pytest.param(
        "**Final answer: \\boxed{check}**", Action.PASS, id="markdown-wrapped"
    ),
    pytest.param("Pass", Action.PASS, id="openspiel-name-bare"),
    pytest.param("check.", Action.PASS, id="bare-with-period"),
]

# (reply, expected action) for the opener holding a Queen after check-bet.
FACING_BET_REPLIES = [
    pytest.param(
        "The opponent bet after my check. Folding loses 1 chip, calling wins 2 "
        "against a Jack bluff. <answer>call</answer>",
        Action.BET,
        id="answer-tag-call",
    ),
    pytest.param(
        "I could fold or call. With a Queen I'll call.\n\\boxed{call}",
        Action.BET,
        id="mentions-fold-then-call",
    ),
    pytest.param("[Fold]", Action.PASS, id="bracket-fold"),
    pytest.param("\\boxed{bet}", Action.BET, id="bet-means-call-as-openspiel"),
    pytest.param("\\boxed{pass}", Action.PASS, id="pass-means-fold-as-openspiel"),
]


def _opening() -> KuhnPokerState:
    return KuhnPokerState([(K, J)])


def _facing_bet() -> KuhnPokerState:
    state = KuhnPokerState([(Q, K)])
    state.apply_action(0, Action.PASS)
    state.apply_action(1, Action.BET)
    return state


@pytest.mark.parametrize(("reply", "action"), OPENING_REPLIES)
def test_opening_replies(reply: str, action: Action) -> None:
    result = _opening().parse_action(0, reply)
    assert result.ok, result.message
    assert result.action == action


@pytest.mark.parametrize(("reply", "action"), FACING_BET_REPLIES)
def test_facing_bet_replies(reply: str, action: Action) -> None:
    result = _facing_bet().parse_action(0, reply)
    assert result.ok, result.message
    assert result.action == action


@pytest.mark.parametrize(
    ("facing", "reply", "reason"),
    [
        pytest.param(
            True,
            "Nobody can make me pay. \\boxed{check}",
            "illegal: cannot check while facing a bet; fold or call",
            id="check-facing-bet",
        ),
        pytest.param(
            False,
            "\\boxed{fold}",
            "illegal: cannot fold: no bet is pending; check or bet",
            id="fold-without-bet",
        ),
        pytest.param(
            False,
            "[call]",
            "illegal: cannot call: no bet is pending; check or bet",
            id="call-without-bet",
        ),
        pytest.param(
            True, "\\boxed{raise}", "unparseable: expected fold or call", id="raise"
        ),
        pytest.param(
            False,
            "I'll go ahead and bet here.",
            "unparseable: expected check or bet",
            id="chatty-bare-reply",
        ),
        pytest.param(False, "   ", "no action found", id="blank"),
    ],
)
def test_invalid_replies(facing: bool, reply: str, reason: str) -> None:
    state = _facing_bet() if facing else _opening()
    result = state.parse_action(0, reply)
    assert not result.ok
    assert result.message.startswith(reason)


def test_invalid_reply_in_the_env_warns_and_retries() -> None:
    env = selfplay_envs.make("kuhn_poker_v0")
    env.reset(seed=0)
    env.step("\\boxed{bet}")
    env.step("I check. \\boxed{check}")
    assert env.agent_selection == "player_1"
    info = env.infos["player_1"]
    assert info["invalid_reason"].startswith("illegal: cannot check while facing a bet")
    assert info["legal_actions"] == ["fold", "call"]
    assert "Attempts left" in env.observe("player_1")["text"]
    env.step("<answer>call</answer>")
    assert env.infos["player_0"]["last_move"]["parsed"] == "call"
    assert all(env.terminations.values())
    assert sorted(env.rewards.values()) == [-2.0, 2.0]  # a called bet: showdown for 2
