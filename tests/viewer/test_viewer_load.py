"""Reading every episode format the project writes, and the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selfplay_agents.viewer import load_episodes, main
from selfplay_agents.viewer.capture import capture

PLAY = {"env_id": "tic_tac_toe_v0", "seed": 3, "config": {}, "actions": ["4", "0", "8"]}


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_play_record(tmp_path: Path):
    (episode,) = load_episodes(_write(tmp_path / "play.jsonl", [PLAY]))
    assert (episode.env_id, episode.seed, episode.actions) == (
        "tic_tac_toe_v0",
        3,
        ["4", "0", "8"],
    )
    trace = capture(episode)
    assert [f["record"]["parsed"] for f in trace["frames"][1:]] == ["4", "0", "8"]
    assert trace["frames"][3]["infos"][0]["board"][8] == 0  # x played the third move
    assert "the recorded moves end before the game does" in trace["notes"]


def test_bench_results_keep_only_recorded_episodes(tmp_path: Path):
    rows = [
        {"key": "k0", "env_id": "tic_tac_toe_v0", "seed": 3, "a": "minimax", "b": "random",
         "episode": {**PLAY, "agents": {"player_0": "minimax", "player_1": "random"}}},
        {"key": "k1", "env_id": "tic_tac_toe_v0", "seed": 4, "a": "minimax", "b": "random"},
    ]  # fmt: skip
    (episode,) = load_episodes(_write(tmp_path / "results.jsonl", rows))
    assert (
        episode.agents["player_0"] == "minimax" and "minimax vs random" in episode.title
    )
    with pytest.raises(ValueError, match="1 bench games but no recorded episode"):
        load_episodes(_write(tmp_path / "bare.jsonl", rows[1:]))


def test_trajectories_with_and_without_a_seed(tmp_path: Path):
    def turn(episode_id, step, completion, seed):
        return {"episode_id": episode_id, "game_id": f"g{episode_id}", "env_id": "tic_tac_toe_v0",
                "step": step, "agent": f"player_{step % 2}", "completion": completion,
                "observation": f"prompt {step}", "seed": seed, "valid": True}  # fmt: skip

    rows = [turn(0, 1, "0", 5), turn(0, 0, "4", 5), turn(1, 0, "2", None)]
    first, second = load_episodes(_write(tmp_path / "traj.jsonl", rows))
    assert first.actions == ["4", "0"] and first.replayable
    assert any("no config" in n for n in first.notes)
    assert not second.replayable and any("no seed" in n for n in second.notes)
    trace = capture(second)  # shown from its recorded turns
    assert (
        trace["frames"][1]["action"] == "2"
        and trace["frames"][1]["obs"][0] == "prompt 0"
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [("not json\n", "line 1 is not JSON"), ('{"gold": 1}\n', "it holds no episode"), ("", "it holds no episode")],
)  # fmt: skip
def test_other_files_are_one_line_errors(tmp_path: Path, text: str, why: str):
    path = tmp_path / "x.jsonl"
    path.write_text(text)
    with pytest.raises(ValueError) as error:
        load_episodes(path)
    message = str(error.value)
    assert (
        "\n" not in message and why in message and "selfplay play --record" in message
    )


def test_main_writes_the_page(tmp_path: Path, capsys):
    source = _write(tmp_path / "play.jsonl", [PLAY])
    out = tmp_path / "out.html"
    assert main([str(source), "-o", str(out), "--no-open"]) == 0
    assert str(out) in capsys.readouterr().out
    html = out.read_text()
    assert (
        html.startswith("<!DOCTYPE html>")
        and "http://" not in html
        and "https://" not in html
    )
    assert main([str(tmp_path / "missing.jsonl"), "--no-open"]) == 2
    assert capsys.readouterr().err.startswith("viewer: cannot read")


def test_main_reads_a_bench_run_folder(tmp_path: Path):
    row = {
        "key": "k0",
        "env_id": "tic_tac_toe_v0",
        "seed": 3,
        "a": "x",
        "b": "y",
        "episode": PLAY,
    }
    _write(tmp_path / "results.jsonl", [row])
    assert main([str(tmp_path), "--no-open"]) == 0
    assert (tmp_path / "results.html").exists()
    assert main([str(tmp_path / "results.html"), "--no-open"]) == 2  # not episodes


def test_spy_words_show_the_word_and_attributes():
    from selfplay_agents.viewer.games import render
    from selfplay_agents.viewer.screenshots import play

    trace = capture(play("who_is_the_spy_v0", ("scripted",) * 4, {"items": "word"}))
    last = len(trace["frames"]) - 1
    infos = trace["frames"][last]["infos"]
    spy = next(p for p, i in enumerate(infos) if i["is_spy"])
    own = render(trace, last, spy, False)
    assert infos[spy]["item"]["word"] in own and "<img" not in own
    civilian = infos[(spy + 1) % len(infos)]["item"]["word"]
    assert civilian not in own.split("<h4>Clues")[0]  # the spy sees only its word
    assert civilian in render(trace, last, spy, True)
