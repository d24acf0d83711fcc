"""The text view: caption-free prompts from one player's side, and the full render.

Prompts never describe the picture: a vision-language model must look at the
``"image"`` entry of the observation. In the word variant the prompt holds the word.
Seats are shown 1-based ("Player 1"), as in Vision-Zero; Player k is agent
``player_{k-1}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from selfplay_envs.games.who_is_the_spy.items import ItemKind

if TYPE_CHECKING:
    from selfplay_envs.games.who_is_the_spy.rules import WhoIsTheSpyState

__all__ = ["observation_text", "render_state"]

_NOUN = {
    ItemKind.SCENE: "picture",
    ItemKind.CHART: "chart",
    ItemKind.WORD: "word",
    ItemKind.FOLDER: "picture",
}
_EXAMPLE = {
    ItemKind.SCENE: "The red cube is left of the small sphere.",
    ItemKind.CHART: "The tallest bar is the second one.",
    ItemKind.WORD: "It is something you can find in a kitchen.",
    ItemKind.FOLDER: "There is a tree on the left.",
}
_EDIT_WORDS = {
    "swap_colors": "two objects swapped colours",
    "change_attribute": "one object changed its colour, size, material or shape",
    "remove_object": "one object is missing",
    "move_object": "one object moved",
    "replace_object": "one object was replaced by another",
    "recolor_object": "one object changed its colour",
}
_COUNT = {1: "one detail", 2: "two details", 3: "three details"}


def _item_paragraph(state: WhoIsTheSpyState, player: int) -> str:
    kind = state.items.kind
    noun = _NOUN[kind]
    blank = state.items.spy is None
    if kind is ItemKind.WORD:
        lines = [
            "Every player was given a word. The civilians share the same word; the "
            + (
                "spy was given no word at all."
                if blank
                else "spy's word is different but related."
            )
        ]
        item = state.item_of(player)
        lines.append(
            f'Your word: "{item.word}".'
            if item is not None
            else "You were given no word."
        )
        lines.append("Never say your word in a clue.")
        return " ".join(lines)
    if blank:
        difference = "the spy was given a blank one"
    elif kind is ItemKind.SCENE:
        edits = getattr(state.source, "edits", tuple(_EDIT_WORDS))
        count = getattr(state.source, "num_edits", 1)
        details = _COUNT.get(count, f"{count} details")
        each = "" if count == 1 else "each of a different object: "
        difference = (
            f"the spy's differs in {details} ({each}"
            + "; or ".join(_EDIT_WORDS[e] for e in edits)
            + ")"
        )
    elif kind is ItemKind.CHART:
        difference = "in the spy's chart one value or one label is different"
    else:
        difference = "the spy's is slightly different"
    own = "Your " + noun + " is attached as an image."
    if blank and player == state.spy:
        own = f"Your {noun} is blank: you must guess what the others see."
    return (
        f"Every player was given a {noun}. The civilians' {noun}s are identical; "
        f"{difference}. {own}"
    )


def _rules_paragraph(state: WhoIsTheSpyState) -> str:
    n = state.num_players
    noun = _NOUN[state.items.kind]
    voters = "Everyone" if state.rules.spy_votes else "The civilians (not the spy)"
    rounds = state.rules.clue_rounds
    return "\n".join(
        [
            "How the game goes:",
            f"- Clue stage: {rounds} round{'s' if rounds > 1 else ''}. In each round, "
            f"Players 1 to {n} in turn give a one-sentence clue about their {noun}. "
            "Everyone sees every clue.",
            f"- Vote stage: {voters} vote at the same time for the player they think is "
            "the spy, or N/A to abstain. Votes stay secret until everyone has voted.",
            _outcome_line(state),
        ]
    )


def _outcome_line(state: WhoIsTheSpyState) -> str:
    if state.rules.reward_mode != "vision_zero":
        return "- The civilians win if the spy alone gets the most votes; otherwise the spy wins."
    # Vision-Zero's scoring, told to the players as its prompts tell them about N/A.
    return (
        "- Scoring: a vote for the spy scores +1, N/A -0.5 and a wrong vote -1. The "
        "more votes the spy gets, the more it loses; a civilian loses for votes it "
        "gets above the civilians' average."
    )


def _clue_lines(state: WhoIsTheSpyState) -> list[str]:
    if not state.clues:
        return ["Clues so far: none yet."]
    lines = ["Clues so far:"]
    for clue in state.clues:
        lines.append(f"  Round {clue.round}, Player {clue.player + 1}: {clue.text}")
    return lines


def _instruction(state: WhoIsTheSpyState, player: int) -> str:
    from selfplay_envs.games.who_is_the_spy.rules import Phase

    n = state.num_players
    if state.phase is Phase.CLUE:
        giver = state.current_players()[0]
        if giver != player:
            return f"Waiting for Player {giver + 1} to give a clue."
        noun = _NOUN[state.items.kind]
        return (
            f"It is your turn to give a clue (round {state.clue_round} of "
            f"{state.rules.clue_rounds}). Describe one feature of your {noun} in one "
            "sentence, different from the clues already given. Think first if you like, "
            "then put only the clue inside \\boxed{}, for example "
            f"\\boxed{{{_EXAMPLE[state.items.kind]}}}"
        )
    if state.phase is Phase.VOTE:
        if player not in state.voters:
            return "The others are voting; the spy does not vote."
        return (
            "It is time to vote: who is the spy? Answer with a player number from 1 to "
            f"{n}, or N/A if you are unsure (a wrong vote costs more than N/A). Put the "
            "answer inside \\boxed{}, for example \\boxed{3} or \\boxed{N/A}."
        )
    return _result_text(state)


def _result_text(state: WhoIsTheSpyState) -> str:
    votes = ", ".join(
        f"Player {p + 1} -> {state.action_to_string(p, v)}"
        for p, v in sorted(state.votes.items())
    )
    winner = "The civilians win." if state.returns()[state.spy] < 0 else "The spy wins."
    return f"The game is over. Votes: {votes}. The spy was Player {state.spy + 1}. {winner}"


def observation_text(state: WhoIsTheSpyState, player: int) -> str:
    """The prompt ``player`` sees now."""
    role = state.role(player)
    if role == "spy":
        role_line = "Your role: SPY. Your item is the odd one; the others do not know who you are."
    else:
        role_line = (
            "Your role: CIVILIAN. One other player is the spy; you do not know who."
        )
    parts = [
        f'You are Player {player + 1} of {state.num_players} in the game "Who Is the Spy?".',
        role_line,
        _item_paragraph(state, player),
        _rules_paragraph(state),
        "\n".join(_clue_lines(state)),
        _instruction(state, player),
    ]
    return "\n\n".join(parts)


def render_state(state: WhoIsTheSpyState) -> str:
    """All hidden information: the spy, both items, the difference, clues and votes."""
    lines = [
        f"Who Is the Spy? ({state.items.kind.value}, {state.num_players} players), "
        f"spy: Player {state.spy + 1}, phase: {state.phase.value}",
        f"difference: {state.items.difference}",
    ]
    for name, item in (("civilians", state.items.civilian), ("spy", state.items.spy)):
        lines.append(f"{name}' item: {_summary(item)}")
    lines += _clue_lines(state)
    if state.votes:
        lines.append(_result_text(state) if state.is_terminal() else "votes pending")
    return "\n".join(lines)


def _summary(item: object) -> str:
    if item is None:
        return "(blank)"
    objects = getattr(item, "objects", None)
    if objects is not None:
        return "; ".join(
            f"{o.describe()} at ({o.x:.2f}, {o.depth:.2f})" for o in objects
        )
    if hasattr(item, "values"):
        return f"{item.kind} chart {item.title!r}: " + ", ".join(  # type: ignore[attr-defined]
            f"{label}={value}"
            for label, value in zip(item.labels, item.values, strict=True)  # type: ignore[attr-defined]
        )
    if hasattr(item, "word"):
        return repr(item.word)  # type: ignore[attr-defined]
    return str(getattr(item, "name", item))
