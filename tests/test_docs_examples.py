"""Every ```python block in README.md and docs/ runs as written.

Blocks that need hardware or services the tests cannot provide are fenced as ```py
instead, which keeps them highlighted but out of this test.

Each block runs in a fresh namespace named ``__docs__``. A block that reads
``__name__`` (to register a game it defines by ``f"{__name__}:GameClass"``, as a file
of a real package would) runs as a module in ``sys.modules`` while it runs, so its
classes import and pickle by reference; the others do not, so that cloudpickle (Ray)
still ships their classes by value. What a block registers is forgotten afterwards,
so no other test sees it.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from selfplay_envs.core import registry
from selfplay_envs.core.errors import DependencyNotInstalled

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
    module = types.ModuleType("__docs__")
    if "__name__" in code:
        monkeypatch.setitem(sys.modules, "__docs__", module)
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    try:
        exec(compile(code, "<docs example>", "exec"), module.__dict__)
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] in ("selfplay_envs", "selfplay_agents"):
            raise  # our own module missing is a bug, never a skip
        pytest.skip(f"this example needs {e.name}: install the extra its page names")
    except DependencyNotInstalled as e:
        # Our adapter names the missing package and its extra itself.
        pytest.skip(f"this example's extra is not installed: {e}")
