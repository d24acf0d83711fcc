"""Chart pairs: a small table drawn as a bar or line chart, and the spy's one-cell edit.

The table has 4-6 labelled integer values (distinct, so "highest" and "higher than" are
never ties). The spy's copy changes one value or one label. matplotlib is imported only
inside ``render_chart`` and draws through its Agg canvas directly (no pyplot, no global
backend switch), so text-only users never load it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

__all__ = [
    "CHART_KINDS",
    "CHART_EDIT_KINDS",
    "TOPICS",
    "ALL_LABELS",
    "ChartTable",
    "ChartEdit",
    "sample_chart",
    "sample_chart_edit",
    "render_chart",
]

CHART_KINDS = ("bar", "line")
CHART_EDIT_KINDS = ("value", "label")
_MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# title -> label pool; ordered pools (months, days) keep a run of consecutive labels
TOPICS: dict[str, tuple[tuple[str, ...], bool]] = {
    "Rainfall per month (mm)": (_MONTHS, True),
    "Books borrowed per month": (_MONTHS, True),
    "Visitors per day": (_DAYS, True),
    "Cups of coffee sold per day": (_DAYS, True),
    "Boxes of fruit sold": (
        (
            "apple",
            "banana",
            "cherry",
            "grape",
            "lemon",
            "mango",
            "orange",
            "peach",
            "pear",
            "plum",
        ),
        False,
    ),
    "Pets seen at the clinic": (
        (
            "cat",
            "dog",
            "rabbit",
            "parrot",
            "hamster",
            "turtle",
            "ferret",
            "goat",
            "horse",
        ),
        False,
    ),
    "Bikes rented per city": (
        (
            "Oslo",
            "Lima",
            "Cairo",
            "Delhi",
            "Tokyo",
            "Paris",
            "Quito",
            "Seoul",
            "Rome",
            "Accra",
        ),
        False,
    ),
    "Favourite colour votes": (
        (
            "red",
            "blue",
            "green",
            "yellow",
            "purple",
            "orange",
            "pink",
            "brown",
            "black",
        ),
        False,
    ),
}
ALL_LABELS: tuple[str, ...] = tuple(
    sorted({label for pool, _ in TOPICS.values() for label in pool})
)
_MIN_VALUE, _MAX_VALUE = 2, 30
_MIN_VALUE_CHANGE = 3  # a changed value moves by at least this much, to be visible


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChartTable:
    """The data behind one chart."""

    kind: str  # "bar" | "line"
    title: str
    labels: tuple[str, ...]
    values: tuple[int, ...]

    def value_of(self, label: str) -> int | None:
        """The value of ``label``, or None when the chart has no such label."""
        for name, value in zip(self.labels, self.values, strict=True):
            if name.lower() == label.lower():
                return value
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (what scripted players read from ``info``)."""
        return {
            "kind": self.kind,
            "title": self.title,
            "labels": list(self.labels),
            "values": list(self.values),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChartTable:
        """Inverse of ``to_dict``."""
        return cls(
            kind=data["kind"],
            title=data["title"],
            labels=tuple(data["labels"]),
            values=tuple(int(v) for v in data["values"]),
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChartEdit:
    """The spy's change: one value or one label at ``index``."""

    kind: str  # "value" | "label"
    index: int
    old: Any
    new: Any

    def apply(self, table: ChartTable) -> ChartTable:
        """The table with this edit applied (the spy's chart)."""
        if self.kind == "value":
            values = list(table.values)
            values[self.index] = self.new
            return dataclasses.replace(table, values=tuple(values))
        labels = list(table.labels)
        labels[self.index] = self.new
        return dataclasses.replace(table, labels=tuple(labels))

    def to_dict(self, table: ChartTable) -> dict[str, Any]:
        """JSON-friendly ground truth, with a readable sentence."""
        if self.kind == "value":
            text = f"the value of {table.labels[self.index]} changed from {self.old} to {self.new}"
        else:
            text = f"the label {self.old} became {self.new}"
        return {
            "kind": self.kind,
            "index": self.index,
            "old": self.old,
            "new": self.new,
            "description": text,
        }


def sample_chart(
    rng: np.random.Generator, kinds: tuple[str, ...] = CHART_KINDS
) -> ChartTable:
    """Draw a topic, 4-6 labels and distinct values."""
    titles = tuple(TOPICS)
    title = titles[int(rng.integers(len(titles)))]
    pool, ordered = TOPICS[title]
    count = int(rng.integers(4, 7))
    if ordered:
        start = int(rng.integers(len(pool) - count + 1))
        labels = pool[start : start + count]
    else:
        labels = tuple(
            pool[int(i)] for i in rng.choice(len(pool), size=count, replace=False)
        )
    values = rng.choice(
        np.arange(_MIN_VALUE, _MAX_VALUE + 1), size=count, replace=False
    )
    return ChartTable(
        kind=kinds[int(rng.integers(len(kinds)))],
        title=title,
        labels=tuple(labels),
        values=tuple(int(v) for v in values),
    )


def sample_chart_edit(
    rng: np.random.Generator,
    table: ChartTable,
    kinds: tuple[str, ...] = CHART_EDIT_KINDS,
) -> ChartEdit:
    """Change one value (keeping values distinct) or one label (to an unused one)."""
    kind = kinds[int(rng.integers(len(kinds)))]
    index = int(rng.integers(len(table.labels)))
    if kind == "label":
        pool, _ = TOPICS[table.title]
        unused = [label for label in pool if label not in table.labels]
        new_label = unused[int(rng.integers(len(unused)))]
        return ChartEdit(
            kind="label", index=index, old=table.labels[index], new=new_label
        )
    old = table.values[index]
    choices = [
        v
        for v in range(_MIN_VALUE, _MAX_VALUE + 1)
        if abs(v - old) >= _MIN_VALUE_CHANGE and v not in table.values
    ]
    return ChartEdit(
        kind="value", index=index, old=old, new=choices[int(rng.integers(len(choices)))]
    )


def render_chart(table: ChartTable, width: int, height: int) -> np.ndarray:
    """Draw ``table`` with matplotlib's Agg canvas as a ``(height, width, 3)`` array."""
    # Imported here: only the chart variant pays matplotlib's import time.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dpi = 100
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = np.arange(len(table.labels))
    if table.kind == "bar":
        axes.bar(positions, table.values, color="#4C72B0")
    else:
        axes.plot(positions, table.values, marker="o", color="#C44E52", linewidth=2)
    for x, value in zip(positions, table.values, strict=True):
        axes.annotate(
            str(value),
            (x, value),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
            fontsize=9,
        )
    axes.set_xticks(positions, table.labels)
    axes.set_xlim(-0.6, len(table.labels) - 0.4)  # room for the end labels of a line
    axes.set_ylim(0, _MAX_VALUE + 4)
    axes.set_title(table.title, fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    # Fixed pixel margins: tight_layout would cost more than the drawing itself.
    figure.subplots_adjust(
        left=min(0.3, 36 / width),
        right=1 - min(0.1, 8 / width),
        bottom=min(0.3, 28 / height),
        top=1 - min(0.3, 26 / height),
    )
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return rgba[..., :3].copy()
