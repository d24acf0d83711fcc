"""Where the data the games ship lives (warriors, repositories, corpora, word pairs).

The assets sit in the repository's top-level ``envs_assets/`` folder, beside the
packages, so an editable install (``pip install -e .``, as the README does) finds them
there. A wheel (``pip install .`` or ``pip install git+...``) installs the same files
under ``<prefix>/share/selfplay-envs/envs_assets`` (``[tool.setuptools.data-files]`` in
pyproject.toml). ``$SELFPLAY_ENVS_ASSETS`` points anywhere else.
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

__all__ = ["ASSETS_ENV", "assets_dir", "asset_path", "installed_assets_dirs"]

ASSETS_ENV = "SELFPLAY_ENVS_ASSETS"
_CHECKOUT = Path(__file__).resolve().parents[2] / "envs_assets"
_SHARE = Path("share", "selfplay-envs", "envs_assets")


def installed_assets_dirs() -> list[Path]:
    """Where a wheel install puts the assets: the data folder of the environment's
    install scheme, then of the user scheme (``pip install --user``)."""
    roots = [sysconfig.get_path("data")]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        roots.append(sysconfig.get_path("data", scheme=user_scheme))
    return [Path(root) / _SHARE for root in roots]


def assets_dir() -> Path:
    """``$SELFPLAY_ENVS_ASSETS`` if set, else the checkout's ``envs_assets``, else the
    folder a wheel installed (the checkout's path when none exists, for the error)."""
    root = os.environ.get(ASSETS_ENV)
    if root:
        return Path(root)
    if _CHECKOUT.is_dir():
        return _CHECKOUT
    for installed in installed_assets_dirs():
        if installed.is_dir():
            return installed
    return _CHECKOUT


def asset_path(*parts: str) -> Path:
    """Path of a shipped asset; raises ``FileNotFoundError`` saying how to fix it."""
    path = assets_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"expected the shipped asset {'/'.join(parts)} under {assets_dir()}, got "
            f"nothing there: install the package (pip install . or pip install -e .) "
            f"or set ${ASSETS_ENV} to a copy of the repository's envs_assets folder"
        )
    return path
