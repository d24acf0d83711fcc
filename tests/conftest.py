"""Shared fixtures: where the reference data lives, and skips with reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared``: reference data present in CI and dev checkouts, not in user clones."""
    if not SHARED.is_dir():
        pytest.skip(
            "../shared not found: reference data lives only in CI and dev checkouts"
        )
    return SHARED
