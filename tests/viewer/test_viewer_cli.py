"""`selfplay view`: the CLI hands every option to the viewer."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfplay_agents.cli import main


def test_selfplay_view_writes_the_page_of_a_recorded_bench(
    tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    argv = ["bench", "--env", "tic_tac_toe_v0", "--games", "2", "--workers", "1"]
    assert main([*argv, "--record", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["view", str(out), "--no-open", "-o", str(tmp_path / "v.html")]) == 0
    assert "wrote" in capsys.readouterr().out
    page = (tmp_path / "v.html").read_text()
    assert "tic_tac_toe_v0" in page and "<script" in page


def test_selfplay_view_help_and_errors(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["view", "--help"])
    assert exit_.value.code == 0
    assert "usage: selfplay view" in capsys.readouterr().out
    (tmp_path / "summary.json").write_text("{}")
    assert main(["view", str(tmp_path / "summary.json"), "--no-open"]) == 2
    assert "expected" in capsys.readouterr().err
