"""The shipped FOLDOC corpus, its licence files, and the conversion script."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import shutil
from pathlib import Path

import pytest

from selfplay_envs.games.search_qa.corpora import foldoc_path
from selfplay_envs.games.search_qa.search.corpus import read_jsonl

CORPORA = Path(__file__).resolve().parents[2] / "envs_assets" / "corpora"
SHIPPED_SHA256 = "f3e6d314811a48418b8a3c6edf026394f5f955f89266b0195d032e1d219b1ed2"
DICTD = Path("/usr/share/dictd")


def _build_module():
    spec = importlib.util.spec_from_file_location(
        "build_foldoc", CORPORA / "build_foldoc.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_corpus_is_small_complete_and_licensed() -> None:
    path = foldoc_path()
    assert path == CORPORA / "foldoc.jsonl.gz"
    assert path.stat().st_size < 10_000_000
    corpus = read_jsonl(path)
    assert len(corpus) == 15_582 and len(set(corpus.titles)) == 12_005
    assert max(len(t.split()) for t in corpus.texts) <= 150  # split into passages
    python = [p for p in corpus if p.title == "Python"]
    assert "Guido van Rossum" in python[0].text and "{" not in python[0].text
    assert (
        (CORPORA / "GFDL-1.2.txt")
        .read_text()
        .lstrip()
        .startswith("GNU Free Documentation License")
    )
    readme = (CORPORA / "README.md").read_text()
    assert "Denis Howe" in readme and "modified version" in readme


def _dictd_number(n: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    digits = ""
    while True:
        n, r = divmod(n, 64)
        digits = alphabet[r] + digits
        if not n:
            return digits


def test_conversion_cleans_markup_and_splits_entries(tmp_path: Path) -> None:
    entries = [
        "00-database-info\n   metadata, not a definition\n",
        "Python\npython language\n\n   <language> A language by Guido <guido@cwi.nl>.  See\n"
        "   {ABC} and {the home page\n   (http://python.org/)} or {(http://x.org/)}.\n\n   (2007-02-21)\n",
        "Long\n\n   " + "word " * 180 + ".\n",
    ]
    debian = "Dictionary.debian\n\n   appended by Debian\n\ndeveloper\n\n   <Debian> A member.\n"
    data = "\n".join(entries) + "\n" + debian
    offsets, index_lines, position = [], [], 0
    for entry in entries + [debian]:
        offsets.append((position, len(entry.encode())))
        position += len(entry.encode()) + 1
    for (offset, length), head in zip(
        offsets, ["00-database-info", "python", "long", "developer"], strict=True
    ):
        index_lines.append(f"{head}\t{_dictd_number(offset)}\t{_dictd_number(length)}")
    (tmp_path / "x.index").write_text("\n".join(index_lines) + "\n")
    with gzip.open(tmp_path / "x.dict.dz", "wb") as handle:
        handle.write(data.encode())
    passages, report = _build_module().convert(
        tmp_path / "x.index", tmp_path / "x.dict.dz"
    )
    assert report["left out: dictd metadata (00-database-*)"] == 1
    assert report["left out: Dictionary.debian"] == 1
    assert passages[0].title == "Python"
    assert passages[0].text == (
        "(Also: python language.) (language) A language by Guido guido@cwi.nl. "
        "See ABC and the home page or x.org."
    )
    long_parts = [p for p in passages if p.title == "Long"]
    assert len(long_parts) == 2 and [p.id for p in long_parts] == [
        "foldoc-00001-0",
        "foldoc-00001-1",
    ]


@pytest.mark.slow
@pytest.mark.skipif(
    not (DICTD / "foldoc.index").exists(), reason="needs `apt-get install dict-foldoc`"
)
def test_rebuild_reproduces_the_shipped_file(tmp_path: Path, monkeypatch) -> None:
    module = _build_module()
    out = tmp_path / "foldoc.jsonl.gz"
    monkeypatch.setattr("sys.argv", ["build_foldoc.py", "--out", str(out)])
    module.main()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == SHIPPED_SHA256
    shutil.rmtree(tmp_path)
