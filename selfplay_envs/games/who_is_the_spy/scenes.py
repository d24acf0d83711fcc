"""CLEVR-like procedural scenes: scene graphs, the spy's edit, and a Pillow renderer.

A scene is 3-8 objects on a ground plane, each with a shape, colour, size, material
and position, as in CLEVR. Positions are normalised ground coordinates: ``x`` runs from
the left edge (0) to the right edge (1) and ``depth`` from the front (0, near the
camera, low in the image) to the back (1). The spy's scene is the civilians' scene with
one ``SceneEdit`` applied (or several, of distinct objects: ``sample_edits``); the edits
are returned as ground truth.

Everything here is a pure function of a ``numpy.random.Generator`` and the scene, so the
same seed gives the same scene and the same pixels.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "SHAPES",
    "COLORS",
    "SIZES",
    "MATERIALS",
    "EDIT_KINDS",
    "ALL_EDIT_KINDS",
    "SceneObject",
    "Scene",
    "SceneEdit",
    "sample_scene",
    "sample_edit",
    "sample_edits",
    "render_scene",
    "blank_image",
]

SHAPES = ("cube", "sphere", "cylinder")
# CLEVR's eight colours and their RGB values.
COLORS: dict[str, tuple[int, int, int]] = {
    "gray": (87, 87, 87),
    "red": (173, 35, 35),
    "blue": (42, 75, 215),
    "green": (29, 105, 20),
    "brown": (129, 74, 25),
    "purple": (129, 38, 192),
    "cyan": (41, 208, 208),
    "yellow": (255, 238, 51),
}
SIZES = ("small", "large")
MATERIALS = ("rubber", "metal")
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "size": SIZES,
    "color": tuple(COLORS),
    "material": MATERIALS,
    "shape": SHAPES,
}
EDIT_KINDS = ("swap_colors", "change_attribute", "remove_object", "move_object")
# Vision-Zero's edits (its v1 data replaces two objects); not in the default mix, so
# the default scenes stay what they were.
ALL_EDIT_KINDS = (*EDIT_KINDS, "replace_object", "recolor_object")

_RADIUS = {"small": 0.07, "large": 0.1}  # ground-plane footprint, for spacing
_GAP = 0.02  # extra clearance between footprints
_MIN_MOVE = 0.25  # a moved object travels at least this far on the ground
_SUPERSAMPLE = 2  # draw at 2x and downsample: cheap anti-aliasing


@dataclasses.dataclass(frozen=True, kw_only=True)
class SceneObject:
    """One object of a scene."""

    shape: str
    color: str
    size: str
    material: str
    x: float  # 0 = left edge, 1 = right edge
    depth: float  # 0 = front (near the camera), 1 = back

    def attributes(self) -> dict[str, str]:
        """The four categorical attributes."""
        return {
            "size": self.size,
            "color": self.color,
            "material": self.material,
            "shape": self.shape,
        }

    def describe(self) -> str:
        """``"large red metal cube"``."""
        return f"{self.size} {self.color} {self.material} {self.shape}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "shape": self.shape,
            "color": self.color,
            "size": self.size,
            "material": self.material,
            "x": self.x,
            "depth": self.depth,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class Scene:
    """A scene graph: objects in no particular order."""

    objects: tuple[SceneObject, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (what scripted players read from ``info``)."""
        return {"objects": [o.to_dict() for o in self.objects]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scene:
        """Inverse of ``to_dict``."""
        return cls(objects=tuple(SceneObject(**o) for o in data["objects"]))


@dataclasses.dataclass(frozen=True, kw_only=True)
class SceneEdit:
    """The difference between the civilians' scene and the spy's.

    Attributes:
        kind: One of ``EDIT_KINDS``.
        objects: Indices (in the civilians' scene) of the objects touched.
        attribute: The attribute changed (``"color"`` for a swap, ``"position"`` for a
            move, ``None`` for a removal).
        old: Value(s) before the edit, one per touched object.
        new: Value(s) after the edit, one per touched object (empty for a removal).
    """

    kind: str
    objects: tuple[int, ...]
    attribute: str | None
    old: tuple[Any, ...]
    new: tuple[Any, ...]

    def apply(self, scene: Scene) -> Scene:
        """The scene with this edit applied (the spy's scene)."""
        objs = list(scene.objects)
        if self.kind == "remove_object":
            del objs[self.objects[0]]
        elif self.kind == "replace_object":
            shape, color, material = self.new[0]
            objs[self.objects[0]] = dataclasses.replace(
                objs[self.objects[0]], shape=shape, color=color, material=material
            )
        elif self.kind == "move_object":
            x, depth = self.new[0]
            objs[self.objects[0]] = dataclasses.replace(
                objs[self.objects[0]], x=x, depth=depth
            )
        else:
            for index, value in zip(self.objects, self.new, strict=True):
                objs[index] = dataclasses.replace(
                    objs[index], **{self.attribute: value}
                )
        return Scene(objects=tuple(objs))

    def describe(self, scene: Scene) -> str:
        """A sentence naming the edit, e.g. ``"the small red cube became blue"``."""
        names = [scene.objects[i].describe() for i in self.objects]
        if self.kind == "swap_colors":
            return f"the {names[0]} and the {names[1]} swapped colours"
        if self.kind == "change_attribute":
            return f"the {names[0]} changed {self.attribute} to {self.new[0]}"
        if self.kind == "remove_object":
            return f"the {names[0]} was removed"
        if self.kind == "replace_object":
            shape, color, material = self.new[0]
            size = scene.objects[self.objects[0]].size
            return f"the {names[0]} was replaced by a {size} {color} {material} {shape}"
        if self.kind == "recolor_object":
            return f"the {names[0]} became {self.new[0]}"
        return f"the {names[0]} moved"

    def to_dict(self, scene: Scene) -> dict[str, Any]:
        """JSON-friendly ground truth, with a readable sentence."""
        return {
            "kind": self.kind,
            "objects": list(self.objects),
            "attribute": self.attribute,
            "old": [list(v) if isinstance(v, tuple) else v for v in self.old],
            "new": [list(v) if isinstance(v, tuple) else v for v in self.new],
            "description": self.describe(scene),
        }


# ---- sampling ------------------------------------------------------------------------


def sample_scene(rng: np.random.Generator, min_objects: int, max_objects: int) -> Scene:
    """Draw a scene of ``min_objects``-``max_objects`` non-overlapping objects."""
    count = int(rng.integers(min_objects, max_objects + 1))
    objects: list[SceneObject] = []
    while len(objects) < count:
        size = SIZES[int(rng.integers(len(SIZES)))]
        position = _free_position(rng, objects, size)
        if position is None:  # crowded: start over (rare with at most 8 objects)
            objects = []
            continue
        objects.append(
            SceneObject(
                shape=SHAPES[int(rng.integers(len(SHAPES)))],
                color=tuple(COLORS)[int(rng.integers(len(COLORS)))],
                size=size,
                material=MATERIALS[int(rng.integers(len(MATERIALS)))],
                x=position[0],
                depth=position[1],
            )
        )
    return Scene(objects=tuple(objects))


def _free_position(
    rng: np.random.Generator,
    others: Sequence[SceneObject],
    size: str,
    *,
    far_from: tuple[float, float] | None = None,
) -> tuple[float, float] | None:
    """A ground position clear of ``others`` (and far from ``far_from``), or None."""
    radius = _RADIUS[size]
    for _ in range(200):
        x = round(float(rng.uniform(0.08, 0.92)), 3)
        depth = round(float(rng.uniform(0.05, 0.9)), 3)
        if (
            far_from is not None
            and np.hypot(x - far_from[0], depth - far_from[1]) < _MIN_MOVE
        ):
            continue
        if all(
            np.hypot(x - o.x, depth - o.depth) >= radius + _RADIUS[o.size] + _GAP
            for o in others
        ):
            return x, depth
    return None


def sample_edit(
    rng: np.random.Generator,
    scene: Scene,
    kinds: Sequence[str] = EDIT_KINDS,
    *,
    allowed: Sequence[int] | None = None,
    reserve: int = 0,
) -> SceneEdit:
    """Draw one edit of a kind in ``kinds`` that is possible on ``scene``.

    ``allowed``: the indices it may touch (default: all); ``reserve``: how many of them
    must stay untouched for later edits (a swap touches two). With the defaults the
    draws are those of a single edit.
    """
    pool = list(range(len(scene.objects))) if allowed is None else list(allowed)
    order = [kinds[int(i)] for i in rng.permutation(len(kinds))]
    for kind in order:
        edit = _EDIT_SAMPLERS[kind](rng, scene, pool, reserve)
        if edit is not None:
            return edit
    # change_attribute is always possible; reached only when it was excluded.
    return _change_attribute(rng, scene, pool, reserve)


def sample_edits(
    rng: np.random.Generator, scene: Scene, kinds: Sequence[str], count: int
) -> tuple[Scene, list[SceneEdit], list[Scene]]:
    """Draw ``count`` edits of distinct objects, each applied to the scene the ones
    before left: the spy's scene, the edits, and the scene each edit was applied to.

    Needs ``count <= len(scene.objects)``. One edit draws exactly what ``sample_edit``
    does.
    """
    current = scene
    origin = list(range(len(scene.objects)))  # civilians' index of each current object
    touched: set[int] = set()
    edits, befores = [], []
    for k in range(count):
        allowed = [i for i, o in enumerate(origin) if o not in touched]
        edit = sample_edit(rng, current, kinds, allowed=allowed, reserve=count - 1 - k)
        touched.update(origin[i] for i in edit.objects)
        if edit.kind == "remove_object":
            del origin[edit.objects[0]]
        edits.append(edit)
        befores.append(current)
        current = edit.apply(current)
    return current, edits, befores


def _pick(rng: np.random.Generator, pool: Sequence[int]) -> int:
    return pool[int(rng.integers(len(pool)))]


def _swap_colors(
    rng: np.random.Generator, scene: Scene, pool: Sequence[int], reserve: int
) -> SceneEdit | None:
    if len(pool) < 2 + reserve:
        return None
    pairs = [
        (i, j)
        for a, i in enumerate(pool)
        for j in pool[a + 1 :]
        if scene.objects[i].color != scene.objects[j].color
    ]
    if not pairs:
        return None
    i, j = pairs[int(rng.integers(len(pairs)))]
    a, b = scene.objects[i].color, scene.objects[j].color
    return SceneEdit(
        kind="swap_colors", objects=(i, j), attribute="color", old=(a, b), new=(b, a)
    )


def _change_attribute(
    rng: np.random.Generator, scene: Scene, pool: Sequence[int], reserve: int
) -> SceneEdit:
    del reserve  # Touches one object, and the caller leaves enough of them.
    index = _pick(rng, pool)
    attribute = tuple(ATTRIBUTES)[int(rng.integers(len(ATTRIBUTES)))]
    old = scene.objects[index].attributes()[attribute]
    choices = [v for v in ATTRIBUTES[attribute] if v != old]
    new = choices[int(rng.integers(len(choices)))]
    if attribute == "size" and new == "large":
        # Growing may make the object overlap a neighbour; shrinking never does.
        obj = scene.objects[index]
        others = [o for k, o in enumerate(scene.objects) if k != index]
        if any(
            np.hypot(obj.x - o.x, obj.depth - o.depth)
            < _RADIUS["large"] + _RADIUS[o.size] + _GAP
            for o in others
        ):
            attribute, old = "color", obj.color
            new = [c for c in COLORS if c != old][int(rng.integers(len(COLORS) - 1))]
    return SceneEdit(
        kind="change_attribute",
        objects=(index,),
        attribute=attribute,
        old=(old,),
        new=(new,),
    )


def _remove_object(
    rng: np.random.Generator, scene: Scene, pool: Sequence[int], reserve: int
) -> SceneEdit | None:
    del reserve
    if len(scene.objects) < 2:
        return None
    index = _pick(rng, pool)
    obj = scene.objects[index]
    return SceneEdit(
        kind="remove_object",
        objects=(index,),
        attribute=None,
        old=(obj.describe(),),
        new=(),
    )


def _move_object(
    rng: np.random.Generator, scene: Scene, pool: Sequence[int], reserve: int
) -> SceneEdit | None:
    del reserve
    index = _pick(rng, pool)
    obj = scene.objects[index]
    others = [o for k, o in enumerate(scene.objects) if k != index]
    position = _free_position(rng, others, obj.size, far_from=(obj.x, obj.depth))
    if position is None:
        return None
    return SceneEdit(
        kind="move_object",
        objects=(index,),
        attribute="position",
        old=((obj.x, obj.depth),),
        new=(position,),
    )


def _replace_object(
    rng: np.random.Generator, scene: Scene, pool: Sequence[int], reserve: int
) -> SceneEdit:
    """Another object in the same place: a new shape and colour (and any material);
    the size stays, so it cannot overlap a neighbour."""
    del reserve
    index = _pick(rng, pool)
    obj = scene.objects[index]
    shapes = [v for v in SHAPES if v != obj.shape]
    colors = [v for v in COLORS if v != obj.color]
    new = (
        shapes[int(rng.integers(len(shapes)))],
        colors[int(rng.integers(len(colors)))],
        MATERIALS[int(rng.integers(len(MATERIALS)))],
    )
    return SceneEdit(
        kind="replace_object",
        objects=(index,),
        attribute="object",
        old=((obj.shape, obj.color, obj.material),),
        new=(new,),
    )


def _recolor_object(
    rng: np.random.Generator, scene: Scene, pool: Sequence[int], reserve: int
) -> SceneEdit:
    del reserve
    index = _pick(rng, pool)
    old = scene.objects[index].color
    colors = [v for v in COLORS if v != old]
    return SceneEdit(
        kind="recolor_object",
        objects=(index,),
        attribute="color",
        old=(old,),
        new=(colors[int(rng.integers(len(colors)))],),
    )


_EDIT_SAMPLERS = {
    "swap_colors": _swap_colors,
    "change_attribute": _change_attribute,
    "remove_object": _remove_object,
    "move_object": _move_object,
    "replace_object": _replace_object,
    "recolor_object": _recolor_object,
}


# ---- rendering -----------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _background(width: int, height: int) -> np.ndarray:
    """CLEVR's grey studio: a light wall fading into a darker floor."""
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    shade = 200 - 60 * rows  # lighter at the top
    image = np.repeat(shade, width, axis=1)
    out = np.stack([image, image, image + 4], axis=-1).clip(0, 255).astype(np.uint8)
    out.setflags(write=False)
    return out


def blank_image(width: int, height: int) -> np.ndarray:
    """The spy's blank picture: the empty studio."""
    return _background(width, height).copy()


def render_scene(scene: Scene, width: int, height: int) -> np.ndarray:
    """Draw ``scene`` as a ``(height, width, 3)`` uint8 array."""
    from PIL import Image, ImageDraw

    big_w, big_h = width * _SUPERSAMPLE, height * _SUPERSAMPLE
    image = Image.fromarray(_background(big_w, big_h))
    draw = ImageDraw.Draw(image)
    for obj in sorted(scene.objects, key=lambda o: -o.depth):  # far objects first
        _draw_object(draw, obj, big_w, big_h)
    image = image.reduce(_SUPERSAMPLE)
    return np.asarray(image, dtype=np.uint8).copy()


def _project(obj: SceneObject, width: int, height: int) -> tuple[float, float, float]:
    """Screen position of the object's base and its radius in pixels (simple perspective)."""
    scale = 1.0 - 0.4 * obj.depth
    sx = width * (0.5 + (obj.x - 0.5) * 0.9 * (1.0 - 0.2 * obj.depth))
    sy = height * (0.92 - 0.55 * obj.depth)
    radius = (0.11 if obj.size == "large" else 0.07) * width * scale
    return sx, sy, radius


def _tint(rgb: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    """Lighten (factor > 1) or darken (factor < 1) a colour."""
    if factor >= 1:
        return tuple(int(c + (255 - c) * (factor - 1)) for c in rgb)  # type: ignore[return-value]
    return tuple(int(c * factor) for c in rgb)  # type: ignore[return-value]


def _draw_object(draw: Any, obj: SceneObject, width: int, height: int) -> None:
    sx, sy, r = _project(obj, width, height)
    base = COLORS[obj.color]
    metal = obj.material == "metal"
    # soft shadow on the floor
    draw.ellipse(
        [sx - r * 1.1, sy - r * 0.25, sx + r * 1.3, sy + r * 0.3], fill=(120, 120, 124)
    )
    if obj.shape == "sphere":
        _draw_sphere(draw, sx, sy - r, r, base, metal)
    elif obj.shape == "cube":
        _draw_cube(draw, sx, sy, r, base, metal)
    else:
        _draw_cylinder(draw, sx, sy, r, base, metal)


def _draw_sphere(
    draw: Any, cx: float, cy: float, r: float, base: Any, metal: bool
) -> None:
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_tint(base, 0.55))
    steps = 6
    for k in range(1, steps + 1):
        # concentric discs drifting to the upper left give a lit, rounded look
        f = 1 - k / (steps + 1)
        rr = r * f
        ox, oy = cx - (r - rr) * 0.35, cy - (r - rr) * 0.35
        shade = (
            _tint(base, 0.55 + 0.45 * k / steps)
            if not metal
            else _tint(base, 0.5 + 0.6 * k / steps)
        )
        draw.ellipse([ox - rr, oy - rr, ox + rr, oy + rr], fill=shade)
    if metal:
        hr = r * 0.22
        hx, hy = cx - r * 0.35, cy - r * 0.4
        draw.ellipse(
            [hx - hr, hy - hr * 0.7, hx + hr, hy + hr * 0.7], fill=(250, 250, 250)
        )


def _draw_cube(
    draw: Any, cx: float, by: float, r: float, base: Any, metal: bool
) -> None:
    s = r * 1.6  # edge length on screen
    d = s * 0.35  # depth offset of the top and side faces
    left, right, bottom, top = cx - s / 2 - d / 3, cx + s / 2 - d / 3, by, by - s
    front = [(left, top), (right, top), (right, bottom), (left, bottom)]
    upper = [(left, top), (left + d, top - d), (right + d, top - d), (right, top)]
    side = [
        (right, top),
        (right + d, top - d),
        (right + d, bottom - d),
        (right, bottom),
    ]
    draw.polygon(side, fill=_tint(base, 0.5 if not metal else 0.35))
    draw.polygon(upper, fill=_tint(base, 1.35 if not metal else 1.6))
    draw.polygon(front, fill=_tint(base, 0.85))
    if metal:
        draw.line(
            [(left + s * 0.12, top + s * 0.15), (left + s * 0.45, top + s * 0.15)],
            fill=(245, 245, 245),
            width=max(2, int(s * 0.06)),
        )


def _draw_cylinder(
    draw: Any, cx: float, by: float, r: float, base: Any, metal: bool
) -> None:
    h = r * 1.7
    e = r * 0.35  # half-height of the elliptical caps
    draw.ellipse([cx - r, by - e, cx + r, by + e], fill=_tint(base, 0.6))
    draw.rectangle([cx - r, by - h, cx + r, by], fill=_tint(base, 0.8))
    draw.rectangle([cx - r, by - h, cx - r * 0.55, by], fill=_tint(base, 0.95))
    draw.rectangle([cx + r * 0.55, by - h, cx + r, by], fill=_tint(base, 0.6))
    draw.ellipse(
        [cx - r, by - h - e, cx + r, by - h + e],
        fill=_tint(base, 1.3 if not metal else 1.55),
    )
    if metal:
        draw.rectangle(
            [cx - r * 0.4, by - h * 0.85, cx - r * 0.28, by - h * 0.1],
            fill=(245, 245, 245),
        )
