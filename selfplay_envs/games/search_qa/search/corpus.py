"""Corpora of passages: the JSONL format, strict reading, and content hashes.

A corpus file holds one JSON object per line, ``{"id": ..., "title": ..., "text": ...}``
(Search-R1's ``{"id": ..., "contents": "\\"Title\\"\\ntext"}`` lines are read too), plain
or gzip-compressed (``.gz``). Reading is strict: a line that is not such an object stops
the load with ``CorpusFormatError`` naming the file and the line number. Nothing is
skipped silently, not even a blank line.

Passages are stored column-wise (three lists of ``str``) so that a corpus of millions of
passages costs three lists, not millions of objects.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from selfplay_envs.core.errors import Error

__all__ = [
    "Passage",
    "Corpus",
    "CorpusFormatError",
    "read_jsonl",
    "write_jsonl",
    "file_hash",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Passage:
    """One retrievable passage: a stable id, the title of its article, its text."""

    id: str
    title: str
    text: str

    def to_dict(self) -> dict[str, str]:
        """JSON-friendly form (the corpus line format)."""
        return {"id": self.id, "title": self.title, "text": self.text}


class CorpusFormatError(Error, ValueError):
    """A corpus file has a line that is not a passage; the message names the line."""

    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path}, line {line}: {message}")
        self.path = path
        self.line = line


class Corpus(Sequence[Passage]):
    """An ordered, immutable collection of passages with a content hash.

    Args:
        ids: Passage ids, unique.
        titles: Article titles, one per passage.
        texts: Passage texts, one per passage.
        name: A short label for reports (``"foldoc"``, a file name).
        content_hash: The hash that keys index caches; computed from the passages
            when not given (files pass the hash of their bytes, which is cheaper).
    """

    def __init__(
        self,
        ids: list[str],
        titles: list[str],
        texts: list[str],
        *,
        name: str = "corpus",
        content_hash: str | None = None,
    ):
        if not len(ids) == len(titles) == len(texts):
            raise ValueError(
                f"expected ids, titles and texts of one length, got "
                f"{len(ids)}, {len(titles)}, {len(texts)}"
            )
        self.ids = ids
        self.titles = titles
        self.texts = texts
        self.name = name
        self._hash = content_hash
        self._position: dict[str, int] | None = None

    @classmethod
    def from_passages(
        cls, passages: Iterable[Passage], *, name: str = "corpus"
    ) -> Corpus:
        """Build a corpus from ``Passage`` records; duplicate ids raise ``ValueError``."""
        items = list(passages)
        corpus = cls(
            [p.id for p in items],
            [p.title for p in items],
            [p.text for p in items],
            name=name,
        )
        corpus.index_of(items[0].id if items else "")  # validates uniqueness
        return corpus

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> Passage:  # type: ignore[override]
        return Passage(id=self.ids[i], title=self.titles[i], text=self.texts[i])

    def __iter__(self) -> Iterator[Passage]:
        for i in range(len(self.ids)):
            yield self[i]

    def index_of(self, passage_id: str) -> int | None:
        """Position of the passage with ``passage_id``, or ``None``."""
        if self._position is None:
            position = {pid: i for i, pid in enumerate(self.ids)}
            if len(position) != len(self.ids):
                seen: set[str] = set()
                dup = next(p for p in self.ids if p in seen or seen.add(p))
                raise ValueError(f"expected unique passage ids, got {dup!r} twice")
            self._position = position
        return self._position.get(passage_id)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the passages (ids, titles, texts): the key of index caches."""
        if self._hash is None:
            digest = hashlib.sha256()
            for pid, title, text in zip(self.ids, self.titles, self.texts, strict=True):
                digest.update(f"{pid}\x1f{title}\x1f{text}\x1e".encode())
            self._hash = digest.hexdigest()
        return self._hash

    def search_text(self, i: int) -> str:
        """The text the index sees for passage ``i``: title and text together."""
        return f"{self.titles[i]}\n{self.texts[i]}"


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _field(obj: dict[str, Any], key: str, where: tuple[str, int]) -> str:
    value = obj.get(key)
    if key == "id" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        got = "missing" if key not in obj else f"{type(value).__name__} {value!r:.40}"
        raise CorpusFormatError(*where, f"expected a string {key!r}, got {got}")
    return value


def _parse_line(line: str, where: tuple[str, int]) -> tuple[str, str, str]:
    if not line.strip():
        raise CorpusFormatError(*where, "expected a JSON object, got a blank line")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise CorpusFormatError(
            *where, f"expected a JSON object, got invalid JSON ({e.msg})"
        ) from e
    if not isinstance(obj, dict):
        raise CorpusFormatError(
            *where, f"expected a JSON object, got {type(obj).__name__}"
        )
    pid = _field(obj, "id", where)
    if "contents" in obj and "text" not in obj:
        # Search-R1 / FlashRAG line: the title is the first line, in quotes.
        contents = _field(obj, "contents", where)
        title, _, text = contents.partition("\n")
        return pid, title.strip().strip('"'), text
    return pid, _field(obj, "title", where), _field(obj, "text", where)


def read_jsonl(path: str | Path, *, name: str | None = None) -> Corpus:
    """Read a JSONL corpus strictly; any bad line raises ``CorpusFormatError``.

    Args:
        path: A ``.jsonl`` file, or ``.jsonl.gz``.
        name: Label of the corpus; the file name by default.

    Raises:
        CorpusFormatError: A line is blank, not JSON, not an object, lacks a string
            ``id``/``title``/``text`` (or ``contents``), or repeats an earlier id.
    """
    path = Path(path)
    ids: list[str] = []
    titles: list[str] = []
    texts: list[str] = []
    first_line: dict[str, int] = {}
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            where = (str(path), number)
            pid, title, text = _parse_line(line, where)
            if pid in first_line:
                raise CorpusFormatError(
                    *where,
                    f"expected a unique id, got {pid!r} (first on line {first_line[pid]})",
                )
            first_line[pid] = number
            ids.append(pid)
            titles.append(title)
            texts.append(text)
    corpus = Corpus(
        ids, titles, texts, name=name or path.name, content_hash=file_hash(path)
    )
    corpus._position = {pid: n - 1 for pid, n in first_line.items()}
    return corpus


def write_jsonl(passages: Iterable[Passage] | Corpus, path: str | Path) -> Path:
    """Write passages as JSONL (gzip when the name ends in ``.gz``), reproducibly."""
    path = Path(path)
    lines = (json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in passages)
    with open(path, "wb") as raw:
        if path.suffix != ".gz":
            raw.writelines(line.encode() for line in lines)
            return path
        # mtime=0 and no file name keep the compressed bytes, and the hash, reproducible.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle:
            handle.writelines(line.encode() for line in lines)
    return path
