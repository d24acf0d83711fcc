"""``selfplay corewar build`` compiles (or loads) every MARS kernel and says so."""

from __future__ import annotations

import pytest

from selfplay_agents.cli import main


def test_build_prebuilds_the_engine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corewar", "build"]) == 0
    err = capsys.readouterr().err
    assert "compiling the Core War engine" in err
    assert "the Core War engine is ready" in err
