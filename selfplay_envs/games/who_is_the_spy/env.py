"""# Who Is the Spy?

| | |
|---|---|
| Creation | `selfplay_envs.make("who_is_the_spy_v0")`, `make_parallel(...)` for the vote stage |
| Agents | `player_0` ... `player_{n-1}`, n = 3-8 (default 4); one spy, drawn from the seed |
| Actions | text: `\\boxed{clue}` in the clue stage, `\\boxed{3}` or `\\boxed{N/A}` in the vote |
| Observation | `{"text": prompt, "image": uint8 (H, W, 3)}`; the word variant has no `"image"` |
| Views | text only (clues are free text) |
| Reference | Vision-Zero (self-play of VLMs on "Who Is the Spy?" over image pairs) |

Civilians all hold the same item; the spy holds a slightly different one (or, with
`spy_item="blank"`, a blank one). Each player knows its own role, not the others'. In
each of `clue_rounds` rounds (default 2) the players give a one-sentence clue in seat
order, and everyone sees every clue. Then the civilians (and the spy, with
`spy_votes=True`) vote at the same time for a seat or abstain. The civilians win when the
spy alone has the most votes; a tie, or no vote at all, is a spy win.

## Items
| `items=` | civilians get | the spy gets | ground truth in `info` |
|---|---|---|---|
| `"scene"` (default) | a CLEVR-like scene of 3-8 objects (Pillow) | the scene after one edit: swap two colours, change one attribute, remove or move one object | both scene graphs and the edit |
| `"chart"` | a bar or line chart of a small table (matplotlib, Agg) | the chart with one value or one label changed | both tables and the edit |
| `"word"` | a word from `envs_assets/who_is_the_spy/word_pairs.tsv` (364 pairs) | the paired word | both words |
| `"folder"` | `NAME_a.png` from `image_folder` | `NAME_b.png` | the pair name |

Pictures are `image_size=(448, 448)` (width, height) by default, rendered once per
episode (a 448x448 scene takes 3-15 ms, a chart 0.1-0.25 s with matplotlib) and are
deterministic in the seed.

## Observation
A `Dict` with `"text"`, a caption-free prompt (role, rules, every clue so far, and what to
do now), and `"image"`, the player's own picture as a `Box(0, 255, (H, W, 3), uint8)`.
The word variant has no `"image"` key; its prompt holds the word. Player k in the text
is agent `player_{k-1}`.

`info[agent]` adds: `phase` (`"clue"`, `"vote"`, `"done"`), `clue_round`, `seat`,
`is_spy`, `item_kind`, `item` (the player's own scene graph, table or word card, for
scripted players; never shown to models), `clues`, `voters`, and `legal_actions` (the
vote texts) for a voter in the vote stage (still there after an AEC voter's vote is
buffered; `acting` is then `False`).

## Action
Clues must be tagged (`\\boxed{...}` or `<answer>...</answer>`) so that reasoning never
leaks into the public clue; the last tag counts. A clue is one line of at most
`max_clue_chars` (300) characters; in the word variant it must not contain the player's
own word. A vote is a seat number `1`-`n` (`Player 3` also parses) or `N/A`; voting for
yourself is legal and counts as a wrong vote.

The vote stage is simultaneous: `current_players()` holds every voter. The Parallel env
takes all votes in one `step`; the AEC env asks the voters one by one and buffers the
votes, so no voter sees another's vote before voting.

## Rewards
The env reward is the team outcome, zero-sum, given when the votes are counted (with
`reward_mode="vision_zero"`, as under `preset="vision_zero"`, it is Vision-Zero's
`clue_reward + vote_reward` instead, which is not zero-sum; that preset also edits two
objects of the spy's scene, `num_edits=2`, `edits=("replace_object",)`, and makes the
invalid-move mode `penalty`: see the doc page's Vision-Zero preset):

| outcome | spy | each civilian (n_c of them) |
|---|---|---|
| the spy alone has the most votes | -1 | +1/n_c |
| otherwise | +1 | -1/n_c |

Vision-Zero's shaped terms are in the final `info[agent]`, never in the reward. With
v_s the votes the spy received, v_j those civilian j received and v̄_c the civilians'
mean:

| key | spy | civilian j |
|---|---|---|
| `clue_reward` | -β(v_s - v̄_c) | (β/n_c)(v_s - v̄_c) - λ(v_j - v̄_c) |
| `clue_baseline` | the spy baseline before this game | the civilian baseline before this game |
| `clue_advantage` | `clue_reward - clue_baseline` | same |
| `vote_reward` | +0.5 another seat, +0.2 N/A, -1 itself or invalid (only with `spy_votes`; else 0) | +1 the spy, -0.5 N/A, -1 anyone else or invalid |

β = λ = 0.1 by default (`beta=`, `lam=`); the clue terms sum to zero over the players.
The baseline is a per-role exponential moving average, `b <- 0.9 b + 0.1 r`
(`baseline_decay=`), of the spy's term and of the civilians' mean term, updated once per
finished game. It lives on the `Game` object, so it carries across the episodes of one
env (and across all the games of a `BatchedEnv`, which share one `Game`), is pickled with
the env, and is the same in two envs that played the same games. `reset(seed)` does not
reset it: the raw terms depend on the seed and moves only; the advantage also depends on
the games played before. Pass `baseline=RoleBaseline()` to share one across envs, or
read `game.baseline`.

The final `info` also holds `spy`, `votes` (per seat: `"3"`, `"N/A"`, `"invalid"`, or
`None` for a seat that did not vote), `votes_received`, `spy_caught`, and
`ground_truth`: both items, their difference, and `clue_checks`, which says for each
clue written in the checkable grammar (e.g. "There is a large red metal cube.") whether
it is true of the civilians' item and of the spy's.

## Invalid moves
An untagged clue is `no action found`; an empty clue is `unparseable`; a clue that is too
long or names the player's word is `illegal`. A vote that is not a seat or N/A is
`unparseable`; a seat out of range is `illegal`. The env's invalid-move policy decides
what follows: retry (default), loss (the offender's team loses: spy -1 or civilians
-1/n_c each), or penalty, which plays `(no clue)` for a clue and an invalid vote (no vote,
`vote_reward` -1) for a vote.
Every voter's vote is judged before a forfeit: voters who all run out of attempts in the
vote forfeit together, the mean of their single forfeits (two civilians: a civilian loss;
a civilian and the spy: a draw between the teams; see
[simultaneous moves](../concepts.md#simultaneous-moves-are-judged-together)).

## Version History
* v0: initial release.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from selfplay_envs.core.game import Game, GameInfo
from selfplay_envs.games.who_is_the_spy import charts
from selfplay_envs.games.who_is_the_spy.items import (
    ChartSource,
    FolderSource,
    ItemKind,
    ItemSource,
    SceneSource,
    WordSource,
    describer_for,
)
from selfplay_envs.games.who_is_the_spy.params import (
    MAX_PLAYERS,
    MIN_PLAYERS,
    PARAMETERS,
    resolve_preset,
)
from selfplay_envs.games.who_is_the_spy.rules import (
    VISION_ZERO,
    RoleBaseline,
    SpyRules,
    WhoIsTheSpyState,
)

__all__ = ["WhoIsTheSpyGame", "RoleBaseline", "MIN_PLAYERS", "MAX_PLAYERS"]


class WhoIsTheSpyGame(Game):
    """Who Is the Spy? on procedural scenes, charts, word pairs or your own image pairs.

    Args:
        num_players: Seats, 3-8.
        items: ``"scene"``, ``"chart"``, ``"word"`` or ``"folder"``.
        spy_item: ``"different"`` (a slightly different item) or ``"blank"``.
        clue_rounds: Clue rounds before the vote.
        spy_votes: Whether the spy votes too (off in Vision-Zero).
        image_size: ``(width, height)`` of the pictures, or one int for a square.
        min_objects: Fewest objects in a scene.
        max_objects: Most objects in a scene.
        edits: Edit kinds the spy's scene may differ by (``scenes.ALL_EDIT_KINDS``;
            ``None``: ``scenes.EDIT_KINDS``, or the preset's).
        num_edits: Edits of the spy's scene, each of a different object (``None``: 1,
            or the preset's).
        preset: ``"vision_zero"`` or ``None`` (each point, when not given).
        reward_mode: ``"team"`` (zero-sum outcome) or ``"vision_zero"`` (clue + vote
            terms); ``None``: ``"team"``, or the preset's.
        chart_kinds: ``"bar"`` and/or ``"line"``.
        word_pairs: Path of a word-pair TSV (default: the shipped file).
        randomize_word_roles: Let either word of a pair be the spy's.
        image_folder: Folder of ``NAME_a.png`` / ``NAME_b.png`` (for ``items="folder"``).
        max_clue_chars: Longest clue accepted.
        forbid_own_word: In the word variant, reject clues containing one's own word.
        beta: β of the clue-stage shaped term.
        lam: λ of the clue-stage shaped term.
        baseline_decay: Decay of the per-role moving-average baseline.
        baseline: A ``RoleBaseline`` to use (and share); a new one by default.
    """

    conformance_configs = (
        {"items": "word", "num_players": 6, "spy_votes": True},
        {"preset": "vision_zero", "image_size": 32, "spy_votes": True},
    )

    parameters = PARAMETERS
    # Scripted opponents (``Game.opponents``), imported by agents on first use.
    opponents = {
        "random": "selfplay_agents.opponents.who_is_the_spy:RandomSpyPlayer",
        "scripted": "selfplay_agents.opponents.who_is_the_spy:ScriptedSpyPlayer",
    }

    def __init__(
        self,
        *,
        num_players: int = 4,
        items: str = "scene",
        spy_item: str = "different",
        clue_rounds: int = 2,
        spy_votes: bool = False,
        image_size: int | Sequence[int] = (448, 448),
        min_objects: int = 3,
        max_objects: int = 8,
        edits: Sequence[str] | None = None,
        num_edits: int | None = None,
        preset: str | None = None,
        reward_mode: str | None = None,
        chart_kinds: Sequence[str] = charts.CHART_KINDS,
        word_pairs: str | Path | None = None,
        randomize_word_roles: bool = True,
        image_folder: str | Path | None = None,
        max_clue_chars: int = 300,
        forbid_own_word: bool = True,
        beta: float = 0.1,
        lam: float = 0.1,
        baseline_decay: float = 0.9,
        baseline: RoleBaseline | None = None,
    ):
        # Every argument has been checked against PARAMETERS (params.py).
        points = resolve_preset(
            {
                "preset": preset,
                "reward_mode": reward_mode,
                "num_edits": num_edits,
                "edits": edits,
            }
        )
        paper = points["reward_mode"] == VISION_ZERO
        # Vision-Zero plays on after a malformed reply (an invalid vote scores -1), as
        # the penalty mode does; an explicit invalid_move= wins.
        self.default_invalid_move = "penalty" if preset else None
        self.kind = ItemKind(items)
        self.blank_spy = spy_item == "blank"
        self.image_size = _image_size(image_size)
        self.rules = SpyRules(
            num_players=num_players,
            clue_rounds=clue_rounds,
            spy_votes=spy_votes,
            max_clue_chars=max_clue_chars,
            forbid_own_word=forbid_own_word,
            beta=beta,
            lam=lam,
            reward_mode=points["reward_mode"],
        )
        self.source = _source(
            self.kind,
            min_objects=min_objects,
            max_objects=max_objects,
            edits=points["edits"],
            num_edits=points["num_edits"],
            chart_kinds=chart_kinds,
            word_pairs=word_pairs,
            randomize_word_roles=randomize_word_roles,
            image_folder=image_folder,
        )
        self.describer = describer_for(self.kind, word_pairs)
        self.baseline = (
            baseline if baseline is not None else RoleBaseline(decay=baseline_decay)
        )
        voters = num_players if spy_votes else num_players - 1
        # |clue term| <= votes * max(beta, beta / n_c + lam); a vote term is in [-1, 1].
        bound = 1.0
        if paper:
            bound += voters * max(beta, beta / (num_players - 1) + lam)
        clue_chars = clue_rounds * num_players * (max_clue_chars + 32)
        self.info = GameInfo(
            name="who_is_the_spy_v0",
            num_players=num_players,
            max_game_length=clue_rounds * num_players + voters,
            num_actions=None,
            simultaneous=True,
            zero_sum=not paper,
            min_utility=-bound,
            max_utility=bound,
            max_text_length=max(16384, 4096 + clue_chars),
        )

    def new_initial_state(self, rng: np.random.Generator) -> WhoIsTheSpyState:
        """Draw the spy's seat, then the item pair (images are rendered on first use)."""
        spy = int(rng.integers(self.rules.num_players))
        items = self.source.sample(rng, blank_spy=self.blank_spy)
        return WhoIsTheSpyState(
            rules=self.rules,
            spy=spy,
            items=items,
            source=self.source,
            image_size=self.image_size,
            baseline=self.baseline,
            describer=self.describer,
        )

    def observation_extra_spaces(self) -> dict[str, Any]:
        """``"image"``: the player's picture; absent in the word variant."""
        if not self.source.has_image:
            return {}
        width, height = self.image_size
        return {
            "image": spaces.Box(
                low=0, high=255, shape=(height, width, 3), dtype=np.uint8
            )
        }


def _image_size(value: int | Sequence[int]) -> tuple[int, int]:
    size = (value, value) if isinstance(value, int) else tuple(value)
    if len(size) != 2 or not all(isinstance(v, int) and 16 <= v <= 4096 for v in size):
        raise ValueError(
            f"expected image_size (width, height) of ints in 16-4096, got {value!r}"
        )
    return int(size[0]), int(size[1])


def _source(kind: ItemKind, **config: Any) -> ItemSource:
    if kind is ItemKind.SCENE:
        return SceneSource(
            min_objects=config["min_objects"],
            max_objects=config["max_objects"],
            edits=config["edits"],
            num_edits=config["num_edits"],
        )
    if kind is ItemKind.CHART:
        return ChartSource(chart_kinds=config["chart_kinds"])
    if kind is ItemKind.WORD:
        return WordSource(
            path=config["word_pairs"], randomize_roles=config["randomize_word_roles"]
        )
    if config["image_folder"] is None:
        raise ValueError("expected image_folder for items='folder', got None")
    return FolderSource(folder=config["image_folder"])
