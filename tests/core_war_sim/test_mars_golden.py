"""Battle-for-battle equality with pMARS 0.9.4 on the golden battle list.

The oracle data lives in ``<repo>/../shared/corewar/golden`` (see its README): 449
battles with pMARS's ``-b -k`` output and the load files of every warrior.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from selfplay_envs.games.core_war.instructions import Warrior
from selfplay_envs.games.core_war.loadfile import parse_load_file
from selfplay_envs.games.core_war.mars import MarsSettings, battle

GOLDEN = Path(__file__).resolve().parents[2].parent / "shared" / "corewar" / "golden"
SKIP_REASON = (
    "../shared/corewar not found: pMARS golden data lives only in CI and dev checkouts"
)


def _records() -> list[dict]:
    path = GOLDEN / "battles_public.jsonl"
    if not path.exists():
        return []
    with path.open() as f:
        return [json.loads(line) for line in f]


RECORDS = _records()


@pytest.fixture(autouse=True)
def _need_golden() -> None:
    if not GOLDEN.exists():
        pytest.skip(SKIP_REASON)


@functools.cache
def load_warrior(path: str, tiny: bool, core_size: int) -> Warrior:
    folder = "assembled_tiny" if tiny else "assembled"
    text = (GOLDEN / folder / path.replace(".red", ".load")).read_text()
    return parse_load_file(text, core_size, name=path)


def settings_of(rec: dict) -> MarsSettings:
    return MarsSettings(
        core_size=rec["core_size"],
        max_cycles=rec["max_cycles"],
        max_processes=rec["max_processes"],
        max_length=rec["max_length"],
        min_distance=rec["min_distance"],
    )


def run_record(rec: dict):
    s = settings_of(rec)
    paths = rec.get("warriors") or [rec["w1"], rec["w2"]]
    warriors = [load_warrior(p, rec["kind"] == "tiny", s.core_size) for p in paths]
    return battle(
        warriors,
        rec["rounds"],
        s,
        fixed_position=rec["fixed_position"],
        permutate=bool(rec.get("permutate")),
    )


def _ids(recs: list[dict]) -> list[str]:
    return [
        f"{i}-{r['kind']}-{Path(r['w1']).stem}-{Path(r['w2']).stem}"
        for i, r in enumerate(recs)
    ]


def check(rec: dict) -> None:
    result = run_record(rec)
    if rec["kind"] == "melee":
        assert [list(r) for r in result.results] == rec["results"]
        assert list(result.scores) == rec["scores"]
    else:
        got = (result.wins[0], result.wins[1], result.ties[0])
        assert got == (rec["wins1"], rec["wins2"], rec["ties"])
        assert result.losses == (rec["wins2"], rec["wins1"])


FAST = [r for r in RECORDS if r["kind"] != "exhaustive"]
EXHAUSTIVE = [r for r in RECORDS if r["kind"] == "exhaustive"]


@pytest.mark.parametrize("rec", FAST, ids=_ids(FAST))
def test_golden_battle(rec: dict) -> None:
    check(rec)


@pytest.mark.slow
@pytest.mark.parametrize("rec", EXHAUSTIVE, ids=_ids(EXHAUSTIVE))
def test_golden_exhaustive(rec: dict) -> None:
    """pMARS ``-P``: every position x both start orders, 15602 rounds."""
    check(rec)


def test_golden_list_complete() -> None:
    """All 449 published battles are exercised (the parametrisations above)."""
    assert len(RECORDS) == 449
    assert len(FAST) + len(EXHAUSTIVE) == 449


def test_permutate_covers_every_pair_once() -> None:
    """-P with exactly 2 * positions rounds plays every (position, first) pair once."""
    s = MarsSettings(core_size=800, max_cycles=100, max_length=20, min_distance=20)
    imp = load_warrior("classic/imp.red", True, 800)
    positions = s.core_size - 2 * s.min_distance + 1
    result = battle([imp, imp], 2 * positions, s, seed=12345, permutate=True)
    pairs = {
        (int(p[1]), int(f)) for p, f in zip(result.positions, result.first, strict=True)
    }
    assert len(pairs) == 2 * positions
    assert min(p for p, _ in pairs) == s.min_distance
    assert max(p for p, _ in pairs) == s.core_size - s.min_distance
