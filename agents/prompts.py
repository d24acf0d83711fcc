"""Prompt templates: one per game, in one table, plus a generic fallback.

A prompt is a system message with the game's rules, then a user message with the
observation text and the answer instruction of the chosen ``AnswerStyle``. Rules texts
are short summaries; the observation (written by each game) carries the state and, for
finite games, the legal moves. A game missing from ``PROMPTS`` gets
``generic_template(env_id)``: a neutral system prompt and the observation as is.
"""

from __future__ import annotations

import dataclasses
import enum

from selfplay_envs.core.parsing import AnswerFormat

__all__ = [
    "AnswerStyle",
    "PromptTemplate",
    "PROMPTS",
    "STYLE_FORMATS",
    "STYLE_INSTRUCTIONS",
    "generic_template",
    "template_for",
]


class AnswerStyle(str, enum.Enum):
    """What the model is told to answer with."""

    SPIRAL = "spiral"  # reason, then \boxed{move} (SPIRAL, Vision-Zero)
    MARS = "mars"  # reason, then <answer>move</answer> (MARS)
    PLAIN = "plain"  # the move alone


STYLE_INSTRUCTIONS: dict[AnswerStyle, str] = {
    AnswerStyle.SPIRAL: (
        "Please reason step by step, and put your final answer within \\boxed{}."
    ),
    AnswerStyle.MARS: (
        "Think about your move first, then give your final answer inside "
        "<answer></answer> tags."
    ),
    AnswerStyle.PLAIN: "Reply with your move only, nothing else.",
}

# The formats the policy's pre-check accepts for each style (the env accepts more).
STYLE_FORMATS: dict[AnswerStyle, tuple[AnswerFormat, ...]] = {
    AnswerStyle.SPIRAL: (AnswerFormat.BOXED,),
    AnswerStyle.MARS: (AnswerFormat.ANSWER_TAG,),
    AnswerStyle.PLAIN: (AnswerFormat.BARE,),
}

# What a well-formed answer looks like in each style (for retry feedback and guided
# decoding to the legal moves).
STYLE_WRAPPERS: dict[AnswerStyle, str] = {
    AnswerStyle.SPIRAL: "\\boxed{{{move}}}",
    AnswerStyle.MARS: "<answer>{move}</answer>",
    AnswerStyle.PLAIN: "{move}",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class PromptTemplate:
    """A game's prompt.

    Attributes:
        system: The rules, sent as the system message.
        user: Format of the user message; ``{observation}`` and ``{instruction}``.
    """

    system: str
    user: str = "{observation}\n\n{instruction}"

    def user_message(self, observation: str, style: AnswerStyle) -> str:
        """The user message for one observation."""
        return self.user.format(
            observation=observation, instruction=STYLE_INSTRUCTIONS[AnswerStyle(style)]
        )


_ZERO_SUM = "Make valid moves and play to win; your opponents play to win too."

PROMPTS: dict[str, PromptTemplate] = {
    "tic_tac_toe_v0": PromptTemplate(
        system=(
            "You are playing tic-tac-toe, a two-player zero-sum game on a 3x3 grid. "
            "Players take turns marking an empty cell; 'x' moves first. Three marks in "
            "a row, column or diagonal win; a full board is a draw. Cells are numbered "
            "0-8 row by row. Answer with the number of an empty cell. " + _ZERO_SUM
        )
    ),
    "kuhn_poker_v0": PromptTemplate(
        system=(
            "You are playing Kuhn poker, a two-player zero-sum card game with a "
            "three-card deck (J < Q < K). Each player antes 1 chip and gets one private "
            "card. Players may check or bet 1 chip; facing a bet, call or fold. The "
            "higher card wins the pot at showdown; a fold loses it. Answer with one "
            "legal action from the observation. " + _ZERO_SUM
        )
    ),
    "connect_four_v0": PromptTemplate(
        system=(
            "You are playing Connect Four, a two-player zero-sum game on a grid of "
            "columns (6 rows by 7 columns unless the observation says otherwise). "
            "Players take turns dropping a piece into a column; it falls to the lowest "
            "empty cell. 'x' moves first. Four of your pieces in a row, column or "
            "diagonal win; a full board is a draw. Columns are numbered from 0 on the "
            "left. Answer with the number of a column that is not full. " + _ZERO_SUM
        )
    ),
    "leduc_poker_v0": PromptTemplate(
        system=(
            "You are playing Leduc hold'em, a two-player zero-sum poker game with a "
            "six-card deck (J J Q Q K K). Each player antes 1 chip and gets one private "
            "card. There are two betting rounds, with one public card shown after the "
            "first; a raise is 2 chips in round 1 and 4 in round 2, at most 2 raises "
            "a round. A private card that pairs the public card wins at showdown, "
            "otherwise the higher card; a fold loses the pot. Answer with one word: "
            "fold, call or raise (check means call when nothing is owed, bet means "
            "raise when the round has no raise yet). " + _ZERO_SUM
        )
    ),
    "liars_dice_v0": PromptTemplate(
        system=(
            "You are playing Liar's Dice, a two-player zero-sum game of bluffing. Each "
            "player rolls dice that only they can see; the highest face is wild. A bid "
            "claims that at least Q of all the dice show face F, and each bid must be "
            "higher than the last: more dice, or as many dice with a higher face. "
            "Instead of bidding you may call the last bid a lie: if fewer dice match "
            "than it claims the bidder loses, otherwise the caller loses. Answer with "
            "a bid as 'bid Q F' (for example 'bid 2 5': at least two 5s) or with "
            "'liar' to call. " + _ZERO_SUM
        )
    ),
    "negotiation_v0": PromptTemplate(
        system=(
            "You are trading resources with another player. Each of you has private "
            "values for the resources; you gain when the value of your inventory "
            "rises. You may talk, make offers, and accept or reject offers, in the "
            "format the observation shows. The game is zero-sum: your gain is scored "
            "against the other player's. " + _ZERO_SUM
        )
    ),
    "who_is_the_spy_v0": PromptTemplate(
        system=(
            "You are playing Who-Is-the-Spy. Every player gets a secret item (an image "
            "or a word); the civilians share one, the spy's differs slightly. In clue "
            "rounds each player describes their item without giving it away; then "
            "everyone votes for the player they think is the spy. Civilians win by "
            "finding the spy; the spy wins by staying hidden. Follow the observation's "
            "instructions for clues and votes."
        )
    ),
    "core_war_v0": PromptTemplate(
        system=(
            "You are writing a Core War warrior in Redcode (ICWS'94). Warriors run in "
            "a shared circular memory; a warrior whose processes all die loses. Submit "
            "a complete Redcode program as your answer, following the observation's "
            "limits on length and instructions. " + _ZERO_SUM
        )
    ),
    "bug_repair_v0": PromptTemplate(
        system=(
            "You take part in a bug-injection versus bug-repair game on a real code "
            "repository. The injector submits a patch that breaks a test while keeping "
            "the code plausible; the solver submits a patch that makes every test pass "
            "again. Use the tools the observation lists and answer in its format."
        )
    ),
    "search_qa_v0": PromptTemplate(
        system=(
            "You take part in a question-answering game with a search engine. The "
            "proposer writes a question whose answer is in the documents; the solver "
            "searches and answers it. Use the tools the observation lists and answer in "
            "its format."
        )
    ),
}


def generic_template(env_id: str) -> PromptTemplate:
    """A neutral prompt for a game with no template: the observation does the work."""
    name = env_id.rsplit("_v", 1)[0].replace("_", " ")
    return PromptTemplate(
        system=(
            f"You are playing {name}, a multi-player zero-sum game. The observation "
            f"describes the game and your situation. {_ZERO_SUM}"
        )
    )


def template_for(env_id: str) -> PromptTemplate:
    """The template of ``env_id``, or the generic one."""
    return PROMPTS.get(env_id) or generic_template(env_id)
