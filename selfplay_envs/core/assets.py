"""Where the data the games ship lives (warriors, repositories, corpora, word pairs).

The assets sit in the repository's top-level ``envs_assets/`` folder, beside the
packages, so an editable install (``pip install -e .``, as the README does) finds them
there. ``$SELFPLAY_ENVS_ASSETS`` points anywhere else, e.g. a copy next to a wheel
install.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ASSETS_ENV", "assets_dir", "asset_path"]

ASSETS_ENV = "SELFPLAY_ENVS_ASSETS"


def assets_dir() -> Path:
    """``$SELFPLAY_ENVS_ASSETS`` if set, else the checkout's ``envs_assets``."""
    root = os.environ.get(ASSETS_ENV)
    return Path(root) if root else Path(__file__).resolve().parents[2] / "envs_assets"


def asset_path(*parts: str) -> Path:
    """Path of a shipped asset; raises ``FileNotFoundError`` saying how to fix it."""
    path = assets_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"expected the shipped asset {'/'.join(parts)} under {assets_dir()}, got "
            f"nothing there: install from a checkout (pip install -e .) or set "
            f"${ASSETS_ENV} to a copy of the repository's envs_assets folder"
        )
    return path
