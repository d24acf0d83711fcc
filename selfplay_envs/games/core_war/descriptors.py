"""DRQ's behaviour descriptors and the MAP-Elites grid they index.

Digital Red Queen (Kumar et al. 2026; ``src/drq.py`` of SakanaAI/drq) keeps one elite
per cell of a 6 x 6 grid over two descriptors of a warrior's battle, both averaged
over the battle's rounds (``mars.battle(..., track_behaviour=True)`` counts them):

* ``tsp``, total spawned processes: the SPLs that added a process (the initial
  process is not counted, so a warrior that never splits has 0);
* ``mc``, memory coverage: the distinct addresses that were ever in the warrior's
  process queue (the addresses it executed, plus those still queued at the end).

Bin ``k`` of an axis holds the values below its ``k``-th edge and at least the one
before; the last bin is unbounded, as DRQ's ``[..., np.inf]``.
"""

from __future__ import annotations

import bisect
import math

__all__ = ["MC_EDGES", "TSP_EDGES", "drq_cell", "mc_bin", "tsp_bin"]

#: DRQ's upper edges (exclusive) of the tsp bins: <1, <10, <100, <1000, <10000, more.
TSP_EDGES = (1, 10, 100, 1000, 10000)
#: DRQ's upper edges (exclusive) of the mc bins: <10, <100, <500, <1000, <4000, more.
MC_EDGES = (10, 100, 500, 1000, 4000)


def _bin(value: float, edges: tuple[int, ...], name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number {name}, got {value!r}")
    if math.isnan(value) or value < 0:
        raise ValueError(f"expected a non-negative {name}, got {value!r}")
    # bisect_right: a value equal to an edge belongs to the next bin (DRQ's `<`).
    return bisect.bisect_right(edges, value)


def tsp_bin(tsp: float) -> int:
    """The tsp bin, 0 (no process spawned) to 5 (10000 or more)."""
    return _bin(tsp, TSP_EDGES, "tsp")


def mc_bin(mc: float) -> int:
    """The mc bin, 0 (under 10 addresses) to 5 (4000 or more)."""
    return _bin(mc, MC_EDGES, "mc")


def drq_cell(tsp: float, mc: float) -> tuple[int, int]:
    """The MAP-Elites cell ``(tsp bin, mc bin)`` of DRQ's default axes ``tsp,mc``."""
    return tsp_bin(tsp), mc_bin(mc)
