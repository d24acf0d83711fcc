"""Prompt templates of Connect Four, Leduc hold'em and Liar's Dice: the rules text each
sends, and answers in the format it documents, parsed by the real env."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

import selfplay_envs
from selfplay_agents.inference import Request, Result
from selfplay_agents.llm import LLMPolicy
from selfplay_agents.policy import Turn
from selfplay_agents.prompts import PROMPTS, AnswerStyle, generic_template

NEW_GAMES = ("connect_four_v0", "leduc_poker_v0", "liars_dice_v0")

# A reply in each style around a move (what a model following the prompt writes).
REPLIES = {
    AnswerStyle.SPIRAL: "Let me think about it. So my move is \\boxed{{{move}}}",
    AnswerStyle.MARS: "<think>Weighing it up.</think><answer>{move}</answer>",
    AnswerStyle.PLAIN: "{move}",
}


class FixedBackend:
    """Answers every request with one text (the model's side of the exchange)."""

    name = "fixed"

    def __init__(self, text: str):
        self.text = text

    def generate(self, requests: Sequence[Request]) -> list[Result]:
        return [Result(text=self.text) for _ in requests]


def _turn(env) -> Turn:
    agent = env.agent_selection
    return Turn(
        env_id=env.metadata["name"],
        agent=agent,
        observation=env.observe(agent),
        info=env.infos[agent],
    )


def _play(env, move: str, style: AnswerStyle) -> dict:
    """One move through an LLMPolicy whose model answers ``move`` in ``style``;
    returns the mover's infos after the env judged it."""
    agent = env.agent_selection
    policy = LLMPolicy(FixedBackend(REPLIES[style].format(move=move)), style=style)
    system, user = policy.messages(_turn(env))
    assert system.content == PROMPTS[env.metadata["name"]].system
    assert user.content.startswith(env.observe(agent)["text"])
    (decision,) = policy.decide([_turn(env)])
    assert decision.generation.precheck == ""  # the policy took the reply
    env.step(decision.action)
    return env.infos[agent]


@pytest.mark.parametrize("env_id", NEW_GAMES)
def test_new_games_have_their_own_rules_text(env_id: str) -> None:
    system = PROMPTS[env_id].system
    assert system != generic_template(env_id).system
    assert "zero-sum" in system


# (env id, moves from the start, each with the canonical text the env records).
SCRIPTS = {
    "connect_four_v0": [("3", "3"), ("3", "3"), ("0", "0")],
    # check = call when nothing is owed, bet = raise in a round with no raise yet
    "leduc_poker_v0": [("check", "call"), ("bet", "raise"), ("raise", "raise")],
    # the prompt's own example bid, a higher one, then the call
    "liars_dice_v0": [("bid 2 5", "bid 2 5"), ("bid 2 6", "bid 2 6"), ("liar", "liar")],
}


@pytest.mark.parametrize("style", list(AnswerStyle))
@pytest.mark.parametrize("env_id", NEW_GAMES)
def test_answers_in_the_documented_format_are_legal_moves(
    env_id: str, style: AnswerStyle
) -> None:
    env = selfplay_envs.make(env_id, view="text")
    env.reset(seed=0)
    for move, parsed in SCRIPTS[env_id]:
        info = _play(env, move, style)
        assert info["invalid_reason"] == "", (move, info["invalid_reason"])
        assert info["last_move"]["parsed"] == parsed
    if env_id == "liars_dice_v0":
        assert all(env.terminations.values())  # the call ended the game


@pytest.mark.parametrize(
    ("env_id", "move", "words"),
    [
        ("connect_four_v0", "9", "off the board"),
        ("leduc_poker_v0", "fold", "cannot fold"),
        ("liars_dice_v0", "liar", "no bid yet"),
        ("liars_dice_v0", "bid 3 5", "quantity in 1-2"),
    ],
)
def test_answers_the_rules_forbid_are_invalid_with_the_env_reason(
    env_id: str, move: str, words: str
) -> None:
    env = selfplay_envs.make(env_id, view="text")
    env.reset(seed=0)
    info = _play(env, move, AnswerStyle.SPIRAL)
    assert info["invalid_reason"].startswith("illegal")
    assert words in info["invalid_reason"]
