"""Convert FOLDOC from the Debian package ``dict-foldoc`` into our passage corpus.

Usage (as root on Debian or Ubuntu)::

    apt-get update && apt-get install -y dict-foldoc
    python envs_assets/corpora/build_foldoc.py            # writes foldoc.jsonl.gz here

The package holds FOLDOC in the dictd format: ``foldoc.index`` maps each headword to
the byte offset and length (in dictd's base-64 digits) of its entry in
``foldoc.dict.dz`` (gzip-readable). We read every distinct entry once, in file order,
and leave out only:

* the ``00-database-*`` entries, which are dictd metadata, not definitions;
* the ``Dictionary.debian`` block the Debian maintainers appended (a handful of
  entries under a different licence, plus the dictionary's own blurb).

The script prints how many entries each rule left out; nothing else is dropped.

Each entry becomes plain text: cross-references ``{like this}`` lose their braces,
``{label (url)}`` keeps its label, a bare link ``{(http://a.org/)}`` becomes
``a.org``, the subject tags
``<language>`` become ``(language)``, e-mail addresses lose their angle brackets, and
the trailing ``(YYYY-MM-DD)`` revision dates go. The aliases listed under a headword
open its first passage as ``(Also: a, b.)``. Paragraphs are kept. Entries longer
than about 100 words (the passage size of DPR's Wikipedia split, which Search-R1 and
SSP retrieve from) are split at paragraph, then sentence, boundaries into passages
``foldoc-NNNNN-P`` titled by the headword.

FOLDOC is (c) Denis Howe and contributors, under the GNU Free Documentation License,
version 1.1 or later; this converted version carries the same licence (see README.md
and GFDL-1.2.txt beside this script).
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from selfplay_envs.games.search_qa.search.corpus import Passage, write_jsonl  # noqa: E402

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_DATE = re.compile(r"^\s*\(\d{4}-?\d{2}-\d{2}\)\s*$")
_LINK_ONLY = re.compile(r"\{\s*\((?:https?://)?([^{}]*?)/?\)\s*\}")
_LABELLED = re.compile(
    r"\{([^{}]*?)\s*\((?:https?|ftp|news|mailto|telnet|gopher)[^{}]*\)\s*\}"
)
_XREF = re.compile(r"\{([^{}]*)\}")
_EMAIL = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
_TAG = re.compile(r"<([^<>\n@]{1,60})>")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z{(\"])")

TARGET_WORDS = 100
MAX_WORDS = 150


def dictd_number(digits: str) -> int:
    """Decode dictd's base-64 numbers (most significant digit first)."""
    value = 0
    for ch in digits:
        value = value * 64 + _B64.index(ch)
    return value


def read_entries(
    index_path: Path, dict_path: Path
) -> tuple[list[tuple[int, str]], dict]:
    """Every distinct entry as ``(offset, text)``, in file order, and skip counts."""
    data = gzip.open(dict_path, "rb").read()
    cutoff = data.find(b"\nDictionary.debian")
    blocks: dict[tuple[int, int], str] = {}
    for line in index_path.read_text(encoding="utf-8").splitlines():
        headword, offset, length = line.split("\t")
        blocks.setdefault((dictd_number(offset), dictd_number(length)), headword)
    entries, skipped = [], {"dictd metadata (00-database-*)": 0, "Dictionary.debian": 0}
    for (offset, length), headword in sorted(blocks.items()):
        if headword.startswith("00-database"):
            skipped["dictd metadata (00-database-*)"] += 1
        elif cutoff >= 0 and offset > cutoff:
            skipped["Dictionary.debian"] += 1
        else:
            entries.append((offset, data[offset : offset + length].decode("utf-8")))
    return entries, skipped


def clean(text: str) -> str:
    """FOLDOC markup to plain text (see the module docstring)."""
    text = _LINK_ONLY.sub(r"\1", text)
    text = _LABELLED.sub(r"\1", text)
    for _ in range(3):  # a few entries nest references
        text = _XREF.sub(r"\1", text)
    text = _EMAIL.sub(r"\1", text)
    text = _TAG.sub(r"(\1)", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def paragraphs(body_lines: list[str]) -> list[str]:
    """Body lines grouped into cleaned paragraphs, dates dropped."""
    paras, current = [], []
    for line in body_lines + [None]:
        joined = " ".join(current)
        if line is not None and line.strip() and not _DATE.match(line):
            current.append(line.strip())
        elif line is not None and joined.count("{") > joined.count("}"):
            continue  # a cross-reference broken by a blank line in the source
        elif current:
            para = clean(joined)
            if para:
                paras.append(para)
            current = []
    return paras


def split_passages(paras: list[str]) -> list[str]:
    """Greedy packing of paragraphs (sentences of long ones) into ~100 words."""
    pieces: list[str] = []
    for para in paras:
        if len(para.split()) <= MAX_WORDS:
            pieces.append(para)
            continue
        for sentence in _SENTENCE_END.split(para):
            words = sentence.split()
            # A list or table with no sentence ends is cut at word boundaries.
            for start in range(0, len(words), TARGET_WORDS):
                pieces.append(" ".join(words[start : start + TARGET_WORDS]))
    passages, current, words = [], [], 0
    for piece in pieces:
        n = len(piece.split())
        if current and words + n > TARGET_WORDS:
            passages.append("\n".join(current))
            current, words = [], 0
        current.append(piece)
        words += n
    if current:
        passages.append("\n".join(current))
    return passages


def convert(index_path: Path, dict_path: Path) -> tuple[list[Passage], dict]:
    """All passages of FOLDOC and a report of what was left out."""
    entries, skipped = read_entries(index_path, dict_path)
    passages: list[Passage] = []
    empty = 0
    for number, (_, text) in enumerate(entries):
        lines = text.split("\n")
        while lines and not lines[0].strip():
            lines.pop(0)
        # The headword, then its aliases, one per line, up to the first blank line.
        blank = next(
            (i for i, line in enumerate(lines) if not line.strip()), len(lines)
        )
        title, aliases = lines[0].strip(), [a.strip() for a in lines[1:blank]]
        paras = paragraphs(lines[blank:])
        if aliases and paras:
            paras[0] = f"(Also: {', '.join(aliases)}.) {paras[0]}"
        body = split_passages(paras)
        if not body:
            # An entry with a headword only still says the term exists.
            empty += 1
            body = [title]
        for part, passage in enumerate(body):
            passages.append(
                Passage(id=f"foldoc-{number:05d}-{part}", title=title, text=passage)
            )
    report = {
        "entries": len(entries),
        "passages": len(passages),
        "headword only": empty,
    }
    return passages, report | {f"left out: {k}": v for k, v in skipped.items()}


def main() -> None:
    """Build ``foldoc.jsonl.gz`` from the installed ``dict-foldoc`` package."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--index", type=Path, default=Path("/usr/share/dictd/foldoc.index")
    )
    parser.add_argument(
        "--dict", type=Path, default=Path("/usr/share/dictd/foldoc.dict.dz")
    )
    parser.add_argument("--out", type=Path, default=HERE / "foldoc.jsonl.gz")
    args = parser.parse_args()
    passages, report = convert(args.index, args.dict)
    write_jsonl(passages, args.out)
    for key, value in report.items():
        print(f"{key}: {value}")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
