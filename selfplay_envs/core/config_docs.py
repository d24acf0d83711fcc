"""The doc pages' parameter tables, generated from the games' declarations.

``python -m selfplay_envs.core.config_docs --docs`` prints every table, ``--write``
puts them in the pages (between the markers below), ``--check`` exits 1 when a page
differs. ``tests/core/test_core_config.py`` checks the pages, so they cannot drift
from the code.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from selfplay_envs.core.config import Params

__all__ = ["DOCS_BEGIN", "DOCS_END", "docs_tables", "page_block", "write_docs", "main"]

#: The markers around a generated table in a doc page.
DOCS_BEGIN = (
    "<!-- parameters: generated from the declarations by "
    "`python -m selfplay_envs.core.config_docs --write`; do not edit -->"
)
DOCS_END = "<!-- end of generated parameters -->"
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _game_params() -> Iterable[tuple[str, Params]]:
    import selfplay_envs

    for env_id in selfplay_envs.list_envs():
        spec = selfplay_envs.spec(env_id)
        # This project's pages table its own games; a plug-in documents its own.
        if not spec.entry_point.startswith("selfplay_envs.games."):
            continue
        game = spec.load()
        params = getattr(game, "parameters", None)
        if params is not None:
            yield env_id, params


def docs_tables() -> dict[str, str]:
    """The generated block of each doc page: ``{page path relative to docs: text}``.

    ``games/<name>.md`` gets its game's table (the env id without ``_vN``) and
    ``concepts.md`` the options of ``make`` itself.
    """
    from selfplay_envs.core.adapter import ENV_OPTIONS
    from selfplay_envs.core.episode import INVALID_MOVE_OPTIONS

    blocks = {}
    for env_id, params in _game_params():
        name = re.sub(r"_v\d+$", "", env_id)
        blocks[f"games/{name}.md"] = params.table() + (
            "\nEvery game also takes `make()`'s own options (`view`, `invalid_move`, "
            "`render_mode`, `max_attempts`): see "
            "[the options of make()](../concepts.md#the-options-of-make).\n"
        )
    blocks["concepts.md"] = (
        ENV_OPTIONS.table()
        + "\n`invalid_move` as a dict (or `InvalidMovePolicy(...)`) takes these fields:"
        + "\n\n"
        + INVALID_MOVE_OPTIONS.table()
    )
    return blocks


def _block_span(text: str) -> tuple[int, int] | None:
    """Where the generated block lies: from the end of DOCS_BEGIN to DOCS_END."""
    begin, end = text.find(DOCS_BEGIN), text.find(DOCS_END)
    if begin < 0 or end < begin:
        return None
    return begin + len(DOCS_BEGIN), end


def _replace_block(text: str, block: str, where: str) -> str:
    span = _block_span(text)
    if span is None:
        raise ValueError(f"expected the markers of a generated table in {where}")
    return text[: span[0]] + "\n" + block + text[span[1] :]


def page_block(text: str) -> str | None:
    """The generated block a page holds now, or ``None`` without markers."""
    span = _block_span(text)
    return None if span is None else text[span[0] + 1 : span[1]]


def write_docs(docs: Path | None = None) -> list[Path]:
    """Put the generated tables in the doc pages; returns the pages changed."""
    docs = docs or DOCS
    changed = []
    for relative, block in docs_tables().items():
        page = docs / relative
        text = page.read_text()
        new = _replace_block(text, block, str(page))
        if new != text:
            page.write_text(new)
            changed.append(page)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m selfplay_envs.core.config_docs --docs | --write | --check``."""
    import argparse

    parser = argparse.ArgumentParser(
        description="The parameter tables of the doc pages, from the declarations."
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--docs", action="store_true", help="print every table")
    group.add_argument("--write", action="store_true", help="update docs/ in place")
    group.add_argument("--check", action="store_true", help="exit 1 if a page differs")
    args = parser.parse_args(argv)
    if args.docs:
        for relative, block in docs_tables().items():
            print(f"## docs/{relative}\n\n{block}")
        return 0
    if args.write:
        for page in write_docs():
            print(f"updated {page}")
        return 0
    stale = [
        relative
        for relative, block in docs_tables().items()
        if page_block((DOCS / relative).read_text()) != block
    ]
    for relative in stale:
        print(f"docs/{relative}: the parameters table differs; run --write")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
