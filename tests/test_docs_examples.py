"""Every ```python block in README.md and docs/ runs as written.

Blocks that need hardware or services the tests cannot provide are fenced as ```py
instead, which keeps them highlighted but out of this test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _examples():
    for page in PAGES:
        for n, block in enumerate(BLOCK.findall(page.read_text())):
            yield pytest.param(block, id=f"{page.relative_to(ROOT)}#{n}")


@pytest.mark.parametrize("code", list(_examples()))
def test_docs_example_runs(code: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples may write files
    try:
        exec(compile(code, "<docs example>", "exec"), {"__name__": "__docs__"})
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] in ("selfplay_envs", "agents"):
            raise  # our own module missing is a bug, never a skip
        pytest.skip(f"this example needs {e.name}: install the extra its page names")
