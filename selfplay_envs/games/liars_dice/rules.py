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

import re

import numpy as np

from selfplay_envs.core.game import State
from selfplay_envs.core.parsing import InvalidReason, ParseResult
from selfplay_envs.core.presets import (
    STRICT_SHAPE,
    PaperRules,
    parse_reply,
)

__all__ = ["LiarsDiceState", "num_actions", "tensor_size"]

NUM_PLAYERS = 2
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"[a-z]+")
_LIAR_WORDS = frozenset(("liar", "call", "challenge", "doubt"))
_MAX_DIGITS = 6  # longer numbers are out of range anyway; int() of huge ones is slow


def num_actions(dice_per_player: int, sides: int) -> int:
    """Every bid and the liar call."""
    return NUM_PLAYERS * dice_per_player * sides + 1


def tensor_size(dice_per_player: int, sides: int) -> int:
    """Player one-hot, own dice one-hot (a slot per die), one bit per action taken."""
    return NUM_PLAYERS + dice_per_player * sides + num_actions(dice_per_player, sides)


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
        if any(not 1 <= int(d) <= sides for hand in dice for d in hand):
            raise ValueError(f"expected faces in 1-{sides}, got {dice!r}")
        self.dice = tuple(tuple(sorted(int(d) for d in hand)) for hand in dice)
        self.sides = sides
        self.dice_per_player = len(self.dice[0])
        self.total_dice = NUM_PLAYERS * self.dice_per_player
        self.liar = self.total_dice * sides  # the action id of the call
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
        return action // self.sides + 1, action % self.sides + 1

    def bid_id(self, quantity: int, face: int) -> int:
        """The id of the bid (quantity, face)."""
        return (quantity - 1) * self.sides + face - 1

    @property
    def last_bid(self) -> int:
        """The id of the standing bid, or -1 before the first one."""
        bids = [a for a in self.actions if a != self.liar]
        return bids[-1] if bids else -1

    def count(self, face: int) -> int:
        """Dice of both players that show ``face`` or the wild highest face."""
        return sum(d == face or d == self.sides for hand in self.dice for d in hand)

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
        if action == self.liar:
            return "liar"
        quantity, face = self.bid(action)
        return f"bid {quantity} {face}"

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
        numbers = _NUMBER.findall(answer)
        if not numbers:
            words = set(_WORD.findall(answer.lower()))
            if words & _LIAR_WORDS:
                return self._check(self.liar, answer)
        if len(numbers) != 2:
            detail = (
                "expected a bid of two numbers, quantity then face (bid 2 5), "
                f"or liar, got {answer[:40]!r}"
            )
            return ParseResult.invalid(InvalidReason.UNPARSEABLE, detail, answer)
        if max(len(n) for n in numbers) > _MAX_DIGITS:
            return self._out_of_range(answer)
        quantity, face = int(numbers[0]), int(numbers[1])
        if not (1 <= quantity <= self.total_dice and 1 <= face <= self.sides):
            return self._out_of_range(answer)
        return self._check(self.bid_id(quantity, face), answer)

    def _out_of_range(self, answer: str) -> ParseResult:
        detail = (
            f"expected a quantity in 1-{self.total_dice} and a face in "
            f"1-{self.sides}, got {answer[:40]!r}"
        )
        return ParseResult.invalid(InvalidReason.ILLEGAL, detail, answer)

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
        if action not in self.legal_actions(player):
            raise ValueError(
                f"expected a legal action of player {player}, got {action}"
            )
        self.actions.append(int(action))

    # ---- observations -------------------------------------------------------------

    def info_state_string(self, player: int) -> str:
        """OpenSpiel's information-state string: own faces, then the bids."""
        moves = [
            "Liar" if a == self.liar else "{}-{}".format(*self.bid(a))
            for a in self.actions
        ]
        return " ".join(["".join(str(d) for d in self.dice[player]), *moves])

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
        """The rules, own dice, the bids so far and whose turn it is."""
        lines = [
            f"You are playing Liar's Dice against one opponent. Each of you has "
            f"{self.dice_per_player} {'die' if self.dice_per_player == 1 else 'dice'} with {self.sides} faces; you see only your "
            f"own. A bid claims that at least Q of all {self.total_dice} dice show "
            f"face F; {self.sides}s are wild and count as any face. Each bid must be "
            "higher than the last: more dice, or as many dice with a higher face. "
            "Instead of bidding you may call the last bid a lie: if fewer dice match "
            "than it claims the bidder loses, otherwise the caller loses.",
            "",
            f"You are player {player} ({'you bid first' if player == 0 else 'you bid second'}).",
            f"Your dice: {', '.join(str(d) for d in self.dice[player])}.",
            f"Bids so far: {self._bids_text(player)}",
        ]
        lines += ["", self._status(player)]
        return "\n".join(lines)

    def _bids_text(self, player: int) -> str:
        if not self.actions:
            return "none."
        words = []
        for i, action in enumerate(self.actions):
            who = "you" if i % NUM_PLAYERS == player else "opponent"
            if action == self.liar:
                words.append(f"{who} called liar")
            else:
                quantity, face = self.bid(action)
                words.append(f"{who} bid {quantity} x {face}")
        return ", ".join(words) + "."

    def _status(self, player: int) -> str:
        if self.is_terminal():
            quantity, face = self.bid(self.actions[-2])
            theirs = ", ".join(str(d) for d in self.dice[1 - player])
            won = self.returns()[player] > 0
            return (
                f"The game is over. Opponent's dice: {theirs}. {self.count(face)} dice "
                f"match {quantity} x {face}. You {'win' if won else 'lose'}."
            )
        if player != self.current_players()[0]:
            return "It is your opponent's turn."
        if self.actions:
            quantity, face = self.bid(self.last_bid)
            status = (
                f"It is your turn. Bid higher than {quantity} x {face} (e.g. "
                "\\boxed{bid Q F}) or call it: \\boxed{liar}."
            )
        else:
            status = "It is your turn. Make the first bid, e.g. \\boxed{bid 1 3}."
        if self.rules.strict_format:
            status += f"\nReply as {STRICT_SHAPE}, your move in the answer."
        return status

    def info(self, player: int) -> dict[str, object]:
        """Own dice, the bids and OpenSpiel's information-state string."""
        info: dict[str, object] = {
            "dice": list(self.dice[player]),
            "bids": [self.bid(a) for a in self.actions if a != self.liar],
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
