"""Liar's Dice players: a CFR+ average policy solved with OpenSpiel, cached on disk.

The player is a table from OpenSpiel's information-state string (``info["info_state"]``:
own faces, then the bids, e.g. ``"3 1-4 2-3"``, equal to ``pyspiel``'s) to the
probability of each legal action, solved by ``selfplay_agents.opponents.leduc_poker
.solve_cfr_plus`` on ``pyspiel.load_game("liars_dice(numdice=D,dice_sides=S)")`` on
first use and cached under the user cache. The tree doubles with every bid id, so only
games of at most ``MAX_SOLVED_BIDS`` bid ids are solved (1 die of 6 sides, 2 of 3, ...);
SPIRAL's 5 dice are out of reach of a full-tree solver.
"""

from __future__ import annotations

from selfplay_agents.opponents.leduc_poker import Table, TablePolicy, solve_cfr_plus

__all__ = ["DEFAULT_ITERATIONS", "MAX_SOLVED_BIDS", "cfr", "cfr_table", "game_string"]

#: Iterations of the default CFR+ player: exploitability about 0.0015, ~20 s to solve.
DEFAULT_ITERATIONS = 200
#: Bid ids (2 * dice_per_player * sides) of the largest game solved (2^12 bid sets).
MAX_SOLVED_BIDS = 12


def game_string(dice_per_player: int, sides: int) -> str:
    """OpenSpiel's name of the game with these parameters."""
    return f"liars_dice(numdice={dice_per_player},dice_sides={sides})"


def cfr_table(
    iterations: int = DEFAULT_ITERATIONS, dice_per_player: int = 1, sides: int = 6
) -> Table:
    """The CFR+ average policy after ``iterations`` iterations (solved once, cached)."""
    bids = 2 * dice_per_player * sides
    if bids > MAX_SOLVED_BIDS:
        raise ValueError(
            f"expected 2 * dice_per_player * sides <= {MAX_SOLVED_BIDS} for the CFR+ "
            f"player (the tree doubles with each bid), got {bids} for "
            f"dice_per_player={dice_per_player}, sides={sides}"
        )
    return solve_cfr_plus(game_string(dice_per_player, sides), iterations)


def cfr(
    seed: int | None = None,
    iterations: int = DEFAULT_ITERATIONS,
    dice_per_player: int | None = None,
    sides: int = 6,
) -> TablePolicy:
    """Factory for ``OPPONENTS``: the CFR+ player of the game's dice and sides."""
    dice = 1 if dice_per_player is None else dice_per_player
    return TablePolicy(cfr_table(iterations, dice, sides), name="cfr", seed=seed)
