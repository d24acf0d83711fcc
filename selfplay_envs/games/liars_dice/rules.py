"""Liar's Dice rules: exactly OpenSpiel's ``liars_dice`` for two players.

Each player rolls ``dice_per_player`` dice with ``sides`` faces, seen only by their
owner. Player 0 bids first; a bid is "at least Q dice among all show face F", and every
bid must be higher than the one before in OpenSpiel's order, quantity first, then face
(its default ``bidding_rule="reset-face"``): bid id ``(Q - 1) * sides + (F - 1)``, so a
higher quantity with any face, or the same quantity with a higher face. Instead of
bidding, a player may call the last bid a lie (action id ``total dice * sides``; not as
the first move). Then all dice are shown and counted, **the highest face being wild**
(it counts as any face, as in OpenSpiel): if at least Q dice match the bid stands and
the caller loses (-1, the bidder +1), else the bidder loses.

Chance: every die is rolled up front from the ``Generator`` handed to
``LiarsDiceState.from_rng`` (player 0's dice, then player 1's, as OpenSpiel's chance
player rolls them); each player's dice are kept sorted, as OpenSpiel's are.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

import numpy as np

from selfplay_envs.core.game import State
from selfplay_envs.core.parsing import InvalidReason, ParseResult
from selfplay_envs.core.presets import (
    STRICT_SHAPE,
    PaperRules,
    parse_reply,
)

__all__ = [
    "LiarsDiceState",
    "faces_text",
    "num_actions",
    "prompt",
    "read_answer",
    "tensor_size",
    "words",
]

NUM_PLAYERS = 2
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"[a-z]+")
_LIAR_WORDS = frozenset(("liar", "call", "challenge", "doubt"))
_MAX_DIGITS = 6
_FIRST_BID = "It is your turn. Make the first bid, e.g. \\boxed{bid 1 3}."


def num_actions(dice_per_player: int, sides: int) -> int:
    """Every bid and the liar call."""
    return NUM_PLAYERS * dice_per_player * sides + 1


def tensor_size(dice_per_player: int, sides: int) -> int:
    """Player one-hot, own dice one-hot (a slot per die), one bit per action taken."""
    return NUM_PLAYERS + dice_per_player * sides + num_actions(dice_per_player, sides)


class _Words(NamedTuple):
    """The text of every action of one configuration, indexed by action id.

    Built once per (dice, sides) (``words``): the text view reads several of these on
    every move, and formatting them afresh cost more than the rest of the game's step
    (profiled; ``benchmarks/bench_liars_dice.py`` and ``docs/benchmarks.md`` measure it).
    """

    total_dice: int
    sides: int
    names: tuple[str, ...]  # "bid Q F", then "liar": the text a model answers with
    ids: dict[str, int]  # names -> action id
    spiel: tuple[str, ...]  # OpenSpiel's "Q-F", then "Liar"
    bids: tuple[tuple[int, int], ...]  # (quantity, face) of each bid id
    said: tuple[tuple[str, ...], tuple[str, ...]]  # "you bid Q x F", "opponent ..."
    raise_hint: tuple[str, ...]  # the acting player's prompt line, per standing bid
    header: tuple[str, str]  # the prompt's opening, as each player reads it


@functools.cache
def words(dice_per_player: int, sides: int) -> _Words:
    """Every action's text for this configuration (cached: a few kB each)."""
    liar = NUM_PLAYERS * dice_per_player * sides
    bids = tuple((a // sides + 1, a % sides + 1) for a in range(liar))
    names = (*(f"bid {q} {f}" for q, f in bids), "liar")
    said = tuple(
        (*(f"{who} bid {q} x {f}" for q, f in bids), f"{who} called liar")
        for who in ("you", "opponent")
    )
    raise_hint = tuple(
        f"It is your turn. Bid higher than {q} x {f} (e.g. \\boxed{{bid Q F}}) or "
        "call it: \\boxed{liar}."
        for q, f in bids
    )
    die = "die" if dice_per_player == 1 else "dice"
    opening = (
        f"You are playing Liar's Dice against one opponent. Each of you has "
        f"{dice_per_player} {die} with {sides} faces; you see only your own. A bid "
        f"claims that at least Q of all {liar // sides} dice show face F; {sides}s "
        "are wild and count as any face. Each bid must be higher than the last: more "
        "dice, or as many dice with a higher face. Instead of bidding you may call "
        "the last bid a lie: if fewer dice match than it claims the bidder loses, "
        "otherwise the caller loses.\n\n"
    )
    header = (
        f"{opening}You are player 0 (you bid first).",
        f"{opening}You are player 1 (you bid second).",
    )
    return _Words(
        total_dice=liar // sides,
        sides=sides,
        names=names,
        ids={name: a for a, name in enumerate(names)},
        spiel=(*(f"{q}-{f}" for q, f in bids), "Liar"),
        bids=bids,
        said=(said[0], said[1]),
        raise_hint=raise_hint,
        header=(header[0], header[1]),
    )


def read_answer(table: _Words, answer: str) -> ParseResult:
    """The action an extracted answer names, whatever the standing bid (the state
    then checks it is legal now), or why it names none."""
    action = table.ids.get(answer)  # the canonical "bid 3 4" or "liar"
    if action is not None:
        return ParseResult.legal(action, answer)
    numbers = _NUMBER.findall(answer)
    if not numbers:
        if set(_WORD.findall(answer.lower())) & _LIAR_WORDS:
            return ParseResult.legal(len(table.bids), answer)  # the call
    if len(numbers) != 2:
        detail = (
            "expected a bid of two numbers, quantity then face (bid 2 5), "
            f"or liar, got {answer[:40]!r}"
        )
        return ParseResult.invalid(InvalidReason.UNPARSEABLE, detail, answer)
    total_dice, sides = table.total_dice, table.sides
    # Longer numbers are out of range anyway, and int() of huge ones is slow.
    quantity, face = (int(n) if len(n) <= _MAX_DIGITS else 0 for n in numbers)
    if not (1 <= quantity <= total_dice and 1 <= face <= sides):
        detail = (
            f"expected a quantity in 1-{total_dice} and a face in 1-{sides}, "
            f"got {answer[:40]!r}"
        )
        return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer)
    return ParseResult.legal((quantity - 1) * sides + face - 1, answer)


@functools.cache
def faces_text(hand: tuple[int, ...]) -> str:
    """A hand as the prompt shows it: ``2, 5``."""
    return ", ".join(map(str, hand))


def prompt(
    table: _Words,
    player: int,
    hand: str,
    actions: list[int],
    status: str | None = None,
) -> str:
    """The text view of ``player`` (the scalar state and the vector rules both
    render through here).

    Args:
        table: ``words`` of the configuration.
        player: The seat that reads the prompt.
        hand: Its dice, as ``faces_text`` writes them.
        actions: The moves so far, player 0's first.
        status: The last line; by default whose turn it is (the game is on).
    """
    if not actions:
        bids = "none."
    else:
        said = table.said
        who = (said[player], said[1 - player])  # you on your moves, else opponent
        bids = ", ".join([who[i % 2][a] for i, a in enumerate(actions)]) + "."
    if status is None and len(actions) % NUM_PLAYERS != player:
        status = "It is your opponent's turn."
    elif status is None:
        status = table.raise_hint[actions[-1]] if actions else _FIRST_BID
    header = table.header[player]
    return f"{header}\nYour dice: {hand}.\nBids so far: {bids}\n\n{status}"


class LiarsDiceState(State):
    """One game of two-player Liar's Dice.

    Args:
        dice: Each player's dice, faces 1 to ``sides``.
        sides: Faces of a die; the highest is wild.
        rules: A paper preset's scoring points; by default the zero-sum rules.
    """

    def __init__(
        self,
        dice: tuple[tuple[int, ...], tuple[int, ...]],
        sides: int,
        rules: PaperRules | None = None,
    ) -> None:
        if len(dice) != NUM_PLAYERS or len(dice[0]) != len(dice[1]) or not dice[0]:
            raise ValueError(f"expected two equal, non-empty hands, got {dice!r}")
        hands = tuple(tuple(sorted(map(int, hand))) for hand in dice)
        if any(hand[0] < 1 or hand[-1] > sides for hand in hands):
            raise ValueError(f"expected faces in 1-{sides}, got {dice!r}")
        self.dice = hands
        self.sides = sides
        self.dice_per_player = len(self.dice[0])
        self.total_dice = NUM_PLAYERS * self.dice_per_player
        self.liar = self.total_dice * sides  # the action id of the call
        self.words = words(self.dice_per_player, sides)
        # Each hand as the prompt shows it ("2, 5") and OpenSpiel's string ("25").
        self.faces = tuple(faces_text(hand) for hand in self.dice)
        self.spiel_faces = tuple("".join(map(str, hand)) for hand in self.dice)
        self.rules = rules or PaperRules()
        self.formatted = [0, 0]  # replies in the strict format, per seat
        self.actions: list[int] = []  # bids, then the call

    @classmethod
    def from_rng(
        cls,
        rng: np.random.Generator,
        dice_per_player: int,
        sides: int,
        rules: PaperRules | None = None,
    ) -> LiarsDiceState:
        """Roll every die: player 0's, then player 1's."""
        rolls = rng.integers(1, sides + 1, size=(NUM_PLAYERS, dice_per_player))
        return cls((tuple(rolls[0].tolist()), tuple(rolls[1].tolist())), sides, rules)

    # ---- bids ---------------------------------------------------------------------

    def bid(self, action: int) -> tuple[int, int]:
        """(quantity, face) of a bid id."""
        return self.words.bids[action]

    def bid_id(self, quantity: int, face: int) -> int:
        """The id of the bid (quantity, face)."""
        return (quantity - 1) * self.sides + face - 1

    @property
    def last_bid(self) -> int:
        """The id of the standing bid, or -1 before the first one (only the last
        move can be the call)."""
        if not self.actions:
            return -1
        last = self.actions[-1]
        return last if last != self.liar else self.actions[-2]

    def count(self, face: int) -> int:
        """Dice of both players that show ``face`` or the wild highest face."""
        dice = self.dice[0] + self.dice[1]
        wild = dice.count(self.sides) if face != self.sides else 0
        return dice.count(face) + wild

    # ---- rules --------------------------------------------------------------------

    @property
    def num_players(self) -> int:
        """Two players."""
        return NUM_PLAYERS

    def role(self, player: int) -> str:
        """Player 0 bids first."""
        return "first bidder" if player == 0 else "second bidder"

    def current_players(self) -> list[int]:
        """The player whose turn it is; nobody once the bid was called."""
        return [] if self.is_terminal() else [len(self.actions) % NUM_PLAYERS]

    def is_terminal(self) -> bool:
        """The last bid was called a lie."""
        return bool(self.actions) and self.actions[-1] == self.liar

    def returns(self) -> list[float]:
        """+1 / -1: the caller wins if fewer dice match the bid than it claims."""
        if not self.is_terminal():
            return [0.0, 0.0]
        caller = (len(self.actions) - 1) % NUM_PLAYERS
        quantity, face = self.bid(self.actions[-2])
        loser = caller if self.count(face) >= quantity else 1 - caller
        return [-1.0 if p == loser else 1.0 for p in range(NUM_PLAYERS)]

    def forfeit_returns(self, loser: int) -> list[float]:
        """-1 for the offender (or a preset's returns), so an invalid move never pays."""
        offender, other = self.rules.invalid_returns or (-1.0, 1.0)
        return [offender if p == loser else other for p in range(NUM_PLAYERS)]

    def legal_actions(self, player: int) -> list[int]:
        """Every bid above the standing one, then the call (not as the first move)."""
        if self.is_terminal() or player != len(self.actions) % NUM_PLAYERS:
            return []
        actions = list(range(self.last_bid + 1, self.liar))
        if self.actions:
            actions.append(self.liar)
        return actions

    def legal_action_strings(self, player: int) -> list[str]:
        """``action_to_string`` of each legal action: a slice of the cached names."""
        if self.is_terminal() or player != len(self.actions) % NUM_PLAYERS:
            return []
        names = self.words.names
        if not self.actions:
            return list(names[: self.liar])
        return [*names[self.last_bid + 1 : self.liar], "liar"]

    def legal_mask(self, player: int, num_actions: int) -> np.ndarray:
        """The legal actions as a mask, built by slices."""
        mask = np.zeros(num_actions, dtype=np.int8)
        if self.is_terminal() or player != len(self.actions) % NUM_PLAYERS:
            return mask
        mask[self.last_bid + 1 : self.liar] = 1
        mask[self.liar] = 1 if self.actions else 0
        return mask

    def action_to_string(self, player: int, action: int) -> str:
        """``bid Q F`` or ``liar``."""
        del player  # The same words for both players.
        return self.words.names[action]

    def parse_action(self, player: int, text: str) -> ParseResult:
        """As ``State.parse_action``; under ``strict_format`` only the answer of a
        ``<think>...</think><answer>...</answer>`` reply counts."""
        return parse_reply(self, player, text)

    def example_actions(self, player: int) -> list[str]:
        """A few valid replies (the lowest bids and the top legal move), strict when
        asked."""
        legal = self.legal_actions(player)
        picks = [*legal[:3], *legal[3:][-1:]]
        moves = [self.action_to_string(player, a) for a in picks]
        if self.rules.strict_format:
            return [f"<think>I play {m}.</think><answer>{m}</answer>" for m in moves]
        return [f"\\boxed{{{m}}}" for m in moves]

    def parse_answer(self, player: int, answer: str) -> ParseResult:
        """Read a bid as two numbers, quantity then face (``bid 3 4``, ``3-4``,
        TextArena's ``Bid: 3, 4``), or the call (``liar``, ``call``)."""
        del player  # The adapter only asks the player to act.
        result = read_answer(self.words, answer)
        return result if not result.ok else self._check(result.action, answer)

    def _check(self, action: int, answer: str | None = None) -> ParseResult:
        if action == self.liar and not self.actions:
            detail = "cannot call liar: there is no bid yet"
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer or "")
        if action != self.liar and action <= self.last_bid:
            quantity, face = self.bid(self.last_bid)
            detail = (
                f"a bid must be above the standing bid {quantity} {face}: more dice, "
                "or as many with a higher face"
            )
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer or "")
        if answer is None:
            return ParseResult.legal(action)
        return ParseResult.legal(action, answer)

    def check_numeric(self, player: int, action: int) -> ParseResult:
        """Validate an action id: a bid id or the call."""
        del player  # The adapter only asks the player to act.
        if not 0 <= action <= self.liar:
            detail = f"expected an action id in 0-{self.liar}, got {action}"
            return ParseResult.invalid(InvalidReason.ILLEGAL, detail)
        return self._check(int(action))

    def apply_action(self, player: int, action: int) -> None:
        """Bid or call."""
        if (
            self.is_terminal()
            or player != len(self.actions) % NUM_PLAYERS
            or not (self.last_bid < action < self.liar or action == self.liar)
            or (action == self.liar and not self.actions)
        ):
            raise ValueError(
                f"expected a legal action of player {player}, got {action}"
            )
        self.actions.append(int(action))

    # ---- observations -------------------------------------------------------------

    def info_state_string(self, player: int) -> str:
        """OpenSpiel's information-state string: own faces, then the bids."""
        spiel = self.words.spiel
        return " ".join([self.spiel_faces[player], *[spiel[a] for a in self.actions]])

    def observation_tensor(self, player: int) -> np.ndarray:
        """OpenSpiel's information-state tensor: ``[0:2]`` player one-hot, then a
        ``sides`` one-hot per own die (sorted), then a bit per action taken."""
        tensor = np.zeros(tensor_size(self.dice_per_player, self.sides), np.float32)
        tensor[player] = 1.0
        for slot, face in enumerate(self.dice[player]):
            tensor[NUM_PLAYERS + slot * self.sides + face - 1] = 1.0
        base = NUM_PLAYERS + self.dice_per_player * self.sides
        for action in self.actions:
            tensor[base + action] = 1.0
        return tensor

    def observation_text(self, player: int) -> str:
        """The rules, own dice, the bids so far and whose turn it is; at the end the
        rival's dice and the count."""
        hand = self.faces[player]
        if self.is_terminal():
            quantity, face = self.bid(self.actions[-2])
            won = self.returns()[player] > 0
            result = (
                f"The game is over. Opponent's dice: {self.faces[1 - player]}. "
                f"{self.count(face)} dice match {quantity} x {face}. "
                f"You {'win' if won else 'lose'}."
            )
            return prompt(self.words, player, hand, self.actions, result)
        text = prompt(self.words, player, hand, self.actions)
        if self.rules.strict_format and player == len(self.actions) % NUM_PLAYERS:
            text += f"\nReply as {STRICT_SHAPE}, your move in the answer."
        return text

    def info(self, player: int) -> dict[str, object]:
        """Own dice, the bids and OpenSpiel's information-state string."""
        info: dict[str, object] = {
            "dice": list(self.dice[player]),
            "bids": [self.words.bids[a] for a in self.actions if a != self.liar],
            "info_state": self.info_state_string(player),
        }
        if self.rules.format_bonus:
            info["format_bonus"] = self.formatted[player] * self.rules.format_bonus
        return info

    def render(self) -> str:
        """Both players' dice and the bids."""
        bids = ", ".join(self.action_to_string(0, a) for a in self.actions) or "-"
        lines = [
            f"player_0 dice: {list(self.dice[0])}; player_1 dice: {list(self.dice[1])}",
            f"Moves: {bids}",
        ]
        if self.is_terminal():
            lines.append(f"Game over; returns {self.returns()}")
        else:
            lines.append(f"player_{self.current_players()[0]} to act")
        return "\n".join(lines)
