"""Item sources: what the civilians and the spy are given, and how it is drawn.

Four sources, one per ``items=`` value of the game:

* ``"scene"``: a procedural CLEVR-like scene; the spy's differs by ``num_edits`` edits.
* ``"chart"``: a bar or line chart of a small table; the spy's has one cell changed.
* ``"word"``: a pair from ``envs_assets/who_is_the_spy/word_pairs.tsv`` (text only).
* ``"folder"``: user pictures ``NAME_a.png`` (civilians) and ``NAME_b.png`` (spy).

A source draws an ``ItemPair`` from the episode's generator and renders an item to a
uint8 array. Rendering is a pure function of the item, so the state can render lazily
and cache per episode without touching the generator.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from selfplay_envs.games.who_is_the_spy import charts, scenes, words
from selfplay_envs.games.who_is_the_spy.facts import (
    ChartDescriber,
    Describer,
    SceneDescriber,
    WordDescriber,
)

__all__ = [
    "ItemKind",
    "ItemPair",
    "FolderImage",
    "ItemSource",
    "SceneSource",
    "ChartSource",
    "WordSource",
    "FolderSource",
    "folder_pairs",
    "item_from_dict",
    "describer_for",
]


class ItemKind(str, enum.Enum):
    """Which kind of item the players hold."""

    SCENE = "scene"
    CHART = "chart"
    WORD = "word"
    FOLDER = "folder"


@dataclasses.dataclass(frozen=True, kw_only=True)
class FolderImage:
    """One picture of a user-supplied pair."""

    name: str
    path: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form; the pair name is omitted (it may caption the picture)."""
        return {}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ItemPair:
    """The civilians' item, the spy's item (``None`` when blank) and their difference.

    Attributes:
        kind: The source kind.
        civilian: The item every civilian holds.
        spy: The spy's item, or ``None`` for a blank one.
        difference: JSON-friendly ground truth of what differs (the edit for scenes
            and charts, the two words, or the pair name for folders).
    """

    kind: ItemKind
    civilian: Any
    spy: Any | None
    difference: dict[str, Any]


class ItemSource:
    """Draws item pairs and renders items; subclasses implement one kind."""

    kind: ItemKind
    has_image: bool = True

    def sample(self, rng: np.random.Generator, *, blank_spy: bool) -> ItemPair:
        """Draw the civilians' item and the spy's."""
        raise NotImplementedError

    def render(self, item: Any, width: int, height: int) -> np.ndarray:
        """The picture of ``item`` (``None`` means the blank picture)."""
        raise NotImplementedError


class SceneSource(ItemSource):
    """CLEVR-like scenes; ``edits`` restricts the spy's edit kinds, ``num_edits`` is how
    many edits (of distinct objects) the spy's scene differs by."""

    kind = ItemKind.SCENE

    def __init__(
        self,
        *,
        min_objects: int,
        max_objects: int,
        edits: Sequence[str],
        num_edits: int = 1,
    ):
        unknown = [e for e in edits if e not in scenes.ALL_EDIT_KINDS]
        if unknown or not edits:
            raise ValueError(
                f"expected edits from {scenes.ALL_EDIT_KINDS}, got {tuple(edits)}"
            )
        if not 2 <= min_objects <= max_objects <= 10:
            raise ValueError(
                "expected 2 <= min_objects <= max_objects <= 10, "
                f"got min_objects={min_objects}, max_objects={max_objects}"
            )
        if not 1 <= num_edits <= min_objects:
            raise ValueError(
                f"expected 1 <= num_edits <= min_objects={min_objects}, got {num_edits}"
            )
        self.min_objects = min_objects
        self.max_objects = max_objects
        self.edits = tuple(edits)
        self.num_edits = num_edits

    def sample(self, rng: np.random.Generator, *, blank_spy: bool) -> ItemPair:
        """A scene, and the scene after the edits (always drawn, to keep the stream).

        ``difference["edits"]`` lists every edit, in the order applied (each one's
        ``objects`` index the scene the edits before it left); ``difference["edit"]``
        is the edit when there is exactly one, else ``None``.
        """
        scene = scenes.sample_scene(rng, self.min_objects, self.max_objects)
        spy, edits, befores = scenes.sample_edits(
            rng, scene, self.edits, self.num_edits
        )
        truth = [e.to_dict(b) for e, b in zip(edits, befores, strict=True)]
        if blank_spy:
            difference: dict[str, Any] = {"edit": None, "edits": []}
        else:
            difference = {"edit": truth[0] if len(truth) == 1 else None, "edits": truth}
        return ItemPair(
            kind=self.kind,
            civilian=scene,
            spy=None if blank_spy else spy,
            difference=difference,
        )

    def render(self, item: scenes.Scene | None, width: int, height: int) -> np.ndarray:
        """Pillow drawing of the scene."""
        if item is None:
            return scenes.blank_image(width, height)
        return scenes.render_scene(item, width, height)


class ChartSource(ItemSource):
    """Bar or line charts of a small table."""

    kind = ItemKind.CHART

    def __init__(self, *, chart_kinds: Sequence[str] = charts.CHART_KINDS):
        if not chart_kinds or any(k not in charts.CHART_KINDS for k in chart_kinds):
            raise ValueError(
                f"expected chart_kinds from {charts.CHART_KINDS}, got {tuple(chart_kinds)}"
            )
        self.chart_kinds = tuple(chart_kinds)

    def sample(self, rng: np.random.Generator, *, blank_spy: bool) -> ItemPair:
        """A table, and the table with one value or label changed."""
        table = charts.sample_chart(rng, self.chart_kinds)
        edit = charts.sample_chart_edit(rng, table)
        return ItemPair(
            kind=self.kind,
            civilian=table,
            spy=None if blank_spy else edit.apply(table),
            difference={"edit": None if blank_spy else edit.to_dict(table)},
        )

    def render(
        self, item: charts.ChartTable | None, width: int, height: int
    ) -> np.ndarray:
        """matplotlib drawing of the chart; a white page when blank."""
        if item is None:
            return np.full((height, width, 3), 255, dtype=np.uint8)
        return charts.render_chart(item, width, height)


class WordSource(ItemSource):
    """Word pairs; ``randomize_roles`` lets either word of a pair be the spy's."""

    kind = ItemKind.WORD
    has_image = False

    def __init__(self, *, path: str | Path | None = None, randomize_roles: bool = True):
        self.path = str(path or words.DEFAULT_WORD_PAIRS)
        self.pairs = words.load_word_pairs(self.path)
        self.randomize_roles = randomize_roles

    def sample(self, rng: np.random.Generator, *, blank_spy: bool) -> ItemPair:
        """A pair, in file order or swapped."""
        pair = self.pairs[int(rng.integers(len(self.pairs)))]
        swap = bool(rng.integers(2)) if self.randomize_roles else False
        civilian, spy = pair.cards(swap=swap)
        return ItemPair(
            kind=self.kind,
            civilian=civilian,
            spy=None if blank_spy else spy,
            difference={
                "civilian_word": civilian.word,
                "spy_word": None if blank_spy else spy.word,
            },
        )

    def render(self, item: Any, width: int, height: int) -> np.ndarray:
        """Words have no picture."""
        raise NotImplementedError("the word variant has no image")


def folder_pairs(folder: str | Path) -> list[tuple[str, str, str]]:
    """``(name, NAME_a.png, NAME_b.png)`` of every complete pair in ``folder``."""
    root = Path(folder).expanduser()
    names = sorted(p.name[: -len("_a.png")] for p in root.glob("*_a.png"))
    return [
        (n, str(root / f"{n}_a.png"), str(root / f"{n}_b.png"))
        for n in names
        if (root / f"{n}_b.png").is_file()
    ]


class FolderSource(ItemSource):
    """User pictures: ``NAME_a.png`` goes to the civilians, ``NAME_b.png`` to the spy."""

    kind = ItemKind.FOLDER

    def __init__(self, *, folder: str | Path):
        root = Path(folder).expanduser()
        self.pairs = folder_pairs(root)
        if not self.pairs:
            raise ValueError(
                f"expected a folder with NAME_a.png / NAME_b.png pairs, got {str(root)!r} "
                "with none"
            )

    def sample(self, rng: np.random.Generator, *, blank_spy: bool) -> ItemPair:
        """One pair, uniformly."""
        name, path_a, path_b = self.pairs[int(rng.integers(len(self.pairs)))]
        return ItemPair(
            kind=self.kind,
            civilian=FolderImage(name=name, path=path_a),
            spy=None if blank_spy else FolderImage(name=name, path=path_b),
            difference={"name": name},
        )

    def render(self, item: FolderImage | None, width: int, height: int) -> np.ndarray:
        """The picture, converted to RGB and resized to the env's image size."""
        if item is None:
            return np.full((height, width, 3), 128, dtype=np.uint8)
        from PIL import Image

        with Image.open(item.path) as image:
            image = image.convert("RGB")
            if image.size != (width, height):
                image = image.resize((width, height), Image.Resampling.LANCZOS)
            return np.asarray(image, dtype=np.uint8).copy()


def item_to_dict(item: Any) -> dict[str, Any] | None:
    """JSON-friendly view of an item for ``info`` (``None`` for a blank item)."""
    return None if item is None else item.to_dict()


def item_from_dict(kind: str | ItemKind, data: dict[str, Any] | None) -> Any:
    """Rebuild an item from ``info["item"]`` (what scripted players do)."""
    if data is None:
        return None
    kind = ItemKind(kind)
    if kind is ItemKind.SCENE:
        return scenes.Scene.from_dict(data)
    if kind is ItemKind.CHART:
        return charts.ChartTable.from_dict(data)
    if kind is ItemKind.WORD:
        return words.WordCard.from_dict(data)
    return None


def describer_for(
    kind: str | ItemKind, word_pairs: str | Path | None = None
) -> Describer | None:
    """The clue grammar of ``kind``; ``None`` for folders (no ground truth to check)."""
    kind = ItemKind(kind)
    if kind is ItemKind.SCENE:
        return SceneDescriber()
    if kind is ItemKind.CHART:
        return ChartDescriber()
    if kind is ItemKind.WORD:
        return WordDescriber(
            words.attribute_vocabulary(str(word_pairs or words.DEFAULT_WORD_PAIRS))
        )
    return None
