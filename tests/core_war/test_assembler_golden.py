"""Golden tests: the assembler reproduces pMARS 0.9.4's load files byte for byte.

The oracle data lives in ``../shared/corewar`` (see its ``golden/README.md``): one
``pmars -A`` load file per corpus warrior under standard ('94nop) settings, and one per
warrior that pMARS accepts under tiny-hill settings. A warrior missing from the tiny
manifest was rejected by pMARS under those settings, so it must raise here too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selfplay_envs.games.core_war.assembler import (
    AssemblerSettings,
    RedcodeError,
    assemble,
    to_load_file,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "corewar"
GOLDEN = SHARED / "golden"
WARRIORS = SHARED / "warriors"
SKIP_REASON = (
    "../shared/corewar not found: golden data is only in CI and the dev checkout"
)

# `pmars -A file` loads one warrior, so WARRIORS (and the W/S registers) is 1 there.
STANDARD = AssemblerSettings(warriors=1)
TINY = AssemblerSettings(
    core_size=800,
    max_cycles=8000,
    max_processes=800,
    max_length=20,
    min_distance=20,
    warriors=1,
)


def _manifest(folder: str) -> list[dict]:
    path = GOLDEN / folder / "manifest.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _params(records: list[dict]) -> list:
    if not records:
        return [
            pytest.param(None, id="no-golden-data", marks=pytest.mark.skip(SKIP_REASON))
        ]
    return [pytest.param(record, id=record["warrior"]) for record in records]


def _source(warrior: str) -> str:
    # pMARS reads bytes; latin-1 maps each byte to one character, losslessly.
    return (WARRIORS / warrior).read_bytes().decode("latin-1")


def _check(record: dict, folder: str, settings: AssemblerSettings) -> None:
    source = _source(record["warrior"])
    if record["rc"] != 0:
        with pytest.raises(RedcodeError):
            assemble(source, settings)
        return
    expected = (GOLDEN / folder / record["load"]).read_bytes().decode("latin-1")
    warrior = assemble(source, settings)
    assert to_load_file(warrior, settings.core_size) == expected
    assert len(warrior) == record["instructions"]
    assert warrior.start == record["org"]


@pytest.mark.parametrize("record", _params(_manifest("assembled")))
def test_standard_load_file_matches_pmars(record: dict) -> None:
    _check(record, "assembled", STANDARD)


@pytest.mark.parametrize("record", _params(_manifest("assembled_tiny")))
def test_tiny_load_file_matches_pmars(record: dict) -> None:
    _check(record, "assembled_tiny", TINY)


def _rejected_under_tiny() -> list[dict]:
    accepted = {record["warrior"] for record in _manifest("assembled_tiny")}
    return [r for r in _manifest("assembled") if r["warrior"] not in accepted]


@pytest.mark.parametrize("record", _params(_rejected_under_tiny()))
def test_warriors_pmars_rejects_under_tiny_settings_raise(record: dict) -> None:
    with pytest.raises(RedcodeError) as info:
        assemble(_source(record["warrior"]), TINY)
    messages = " ".join(issue.message for issue in info.value.errors)
    assert "Too many instructions" in messages or "Assertion" in messages
