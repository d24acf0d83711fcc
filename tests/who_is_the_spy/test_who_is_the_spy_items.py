"""Item generators of who_is_the_spy_v0: determinism, the declared edit, assets, folders."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

import selfplay_envs
from selfplay_envs.games.who_is_the_spy import charts, scenes, words
from selfplay_envs.games.who_is_the_spy.items import (
    ChartSource,
    SceneSource,
    WordSource,
)

SEEDS = range(40)


def _scene_pair(seed: int, kinds: tuple[str, ...] = scenes.EDIT_KINDS):
    rng = np.random.default_rng(seed)
    scene = scenes.sample_scene(rng, 3, 8)
    return scene, scenes.sample_edit(rng, scene, kinds)


# ---- scenes ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 7, 123])
def test_scene_and_image_are_deterministic_in_the_seed(seed: int) -> None:
    source = SceneSource(min_objects=3, max_objects=8, edits=scenes.EDIT_KINDS)
    first = source.sample(np.random.default_rng(seed), blank_spy=False)
    second = source.sample(np.random.default_rng(seed), blank_spy=False)
    assert first == second
    image_a = source.render(first.civilian, 96, 80)
    image_b = source.render(second.civilian, 96, 80)
    assert image_a.shape == (80, 96, 3) and image_a.dtype == np.uint8
    assert np.array_equal(image_a, image_b)
    other = source.sample(np.random.default_rng(seed + 1000), blank_spy=False)
    assert other.civilian != first.civilian


def test_scenes_respect_object_counts_and_spacing() -> None:
    for seed in SEEDS:
        scene, _ = _scene_pair(seed)
        assert 3 <= len(scene.objects) <= 8
        for a, b in zip(scene.objects, scene.objects[1:], strict=False):
            assert (a.x, a.depth) != (b.x, b.depth)
        for obj in scene.objects:
            assert obj.shape in scenes.SHAPES and obj.color in scenes.COLORS
            assert 0.0 <= obj.x <= 1.0 and 0.0 <= obj.depth <= 1.0


def _changed_fields(a: scenes.SceneObject, b: scenes.SceneObject) -> set[str]:
    return {
        f.name
        for f in dataclasses.fields(a)
        if getattr(a, f.name) != getattr(b, f.name)
    }


@pytest.mark.parametrize("kind", scenes.EDIT_KINDS)
def test_spy_scene_differs_by_exactly_the_declared_edit(kind: str) -> None:
    for seed in SEEDS:
        scene, edit = _scene_pair(seed, (kind,))
        spy = edit.apply(scene)
        assert edit.kind == kind
        if kind == "remove_object":
            (index,) = edit.objects
            assert spy.objects == scene.objects[:index] + scene.objects[index + 1 :]
            assert edit.old == (scene.objects[index].describe(),)
            continue
        assert len(spy.objects) == len(scene.objects)
        changed = {
            i: _changed_fields(a, b)
            for i, (a, b) in enumerate(zip(scene.objects, spy.objects, strict=True))
        }
        changed = {i: fields for i, fields in changed.items() if fields}
        assert set(changed) == set(edit.objects), (seed, edit)
        if kind == "swap_colors":
            i, j = edit.objects
            assert changed == {i: {"color"}, j: {"color"}}
            assert (spy.objects[i].color, spy.objects[j].color) == (
                scene.objects[j].color,
                scene.objects[i].color,
            )
            assert scene.objects[i].color != scene.objects[j].color
        elif kind == "move_object":
            (i,) = edit.objects
            assert changed[i] <= {"x", "depth"}
            old, new = scene.objects[i], spy.objects[i]
            assert np.hypot(old.x - new.x, old.depth - new.depth) >= 0.25
            assert edit.new == ((new.x, new.depth),)
        else:
            (i,) = edit.objects
            assert changed[i] == {edit.attribute}
            assert getattr(spy.objects[i], edit.attribute) == edit.new[0]
            assert getattr(scene.objects[i], edit.attribute) == edit.old[0]


def test_the_edit_is_visible_in_the_pictures() -> None:
    for seed in range(12):
        scene, edit = _scene_pair(seed)
        civilian = scenes.render_scene(scene, 128, 128)
        spy = scenes.render_scene(edit.apply(scene), 128, 128)
        assert not np.array_equal(civilian, spy), edit.describe(scene)


def test_the_edit_is_reported_as_ground_truth_in_info() -> None:
    env = selfplay_envs.make_parallel("who_is_the_spy_v0", image_size=64)
    env.reset(seed=5)
    state = env.episode.state
    truth = state.ground_truth()
    edit = truth["difference"]["edit"]
    assert edit["kind"] in scenes.EDIT_KINDS and edit["description"]
    civilian = scenes.Scene.from_dict(truth["civilian_item"])
    spy = scenes.Scene.from_dict(truth["spy_item"])
    rebuilt = scenes.SceneEdit(
        kind=edit["kind"],
        objects=tuple(edit["objects"]),
        attribute=edit["attribute"],
        old=tuple(tuple(v) if isinstance(v, list) else v for v in edit["old"]),
        new=tuple(tuple(v) if isinstance(v, list) else v for v in edit["new"]),
    )
    assert rebuilt.apply(civilian) == spy


def test_blank_spy_gets_the_empty_studio() -> None:
    env = selfplay_envs.make_parallel(
        "who_is_the_spy_v0", spy_item="blank", image_size=64
    )
    observations, infos = env.reset(seed=3)
    spy = next(a for a, i in infos.items() if i["is_spy"])
    assert infos[spy]["item"] is None
    assert np.array_equal(observations[spy]["image"], scenes.blank_image(64, 64))
    assert "blank" in observations[spy]["text"]


# ---- charts ----------------------------------------------------------------------------


def test_chart_pairs_are_deterministic_and_differ_in_one_cell() -> None:
    source = ChartSource()
    for seed in SEEDS:
        pair = source.sample(np.random.default_rng(seed), blank_spy=False)
        assert pair == source.sample(np.random.default_rng(seed), blank_spy=False)
        civilian, spy, edit = pair.civilian, pair.spy, pair.difference["edit"]
        assert 4 <= len(civilian.labels) <= 6
        assert len(set(civilian.values)) == len(civilian.values)
        cells = [
            (k, i)
            for k, (a, b) in (
                ("label", (civilian.labels, spy.labels)),
                ("value", (civilian.values, spy.values)),
            )
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            if x != y
        ]
        assert cells == [(edit["kind"], edit["index"])]
        if edit["kind"] == "value":
            assert abs(edit["new"] - edit["old"]) >= 3
            assert len(set(spy.values)) == len(spy.values)
        else:
            assert edit["new"] not in civilian.labels


def test_chart_rendering_is_deterministic_and_sized() -> None:
    table = charts.sample_chart(np.random.default_rng(1))
    edit = charts.sample_chart_edit(np.random.default_rng(2), table)
    first = charts.render_chart(table, 200, 150)
    assert first.shape == (150, 200, 3) and first.dtype == np.uint8
    assert np.array_equal(first, charts.render_chart(table, 200, 150))
    assert not np.array_equal(first, charts.render_chart(edit.apply(table), 200, 150))


# ---- words -----------------------------------------------------------------------------


def test_shipped_word_pairs_are_many_distinct_and_consistent() -> None:
    pairs = words.load_word_pairs()
    assert len(pairs) >= 300
    assert len({(p.civilian.lower(), p.spy.lower()) for p in pairs}) == len(pairs)
    for pair in pairs:
        assert pair.civilian and pair.spy and pair.civilian != pair.spy
        assert pair.shared and pair.civilian_only and pair.spy_only
        # a predicate true of one word only must not also be listed for the other
        assert not set(pair.civilian_only) & set(pair.spy_only)
        assert not (set(pair.civilian_only) | set(pair.spy_only)) & set(pair.shared)


def test_word_cards_hide_which_predicates_are_shared() -> None:
    pair = words.load_word_pairs()[0]
    civilian, spy = pair.cards()
    assert list(civilian.attributes) == sorted(civilian.attributes)
    assert set(civilian.attributes) & set(spy.attributes) == set(pair.shared)
    swapped = pair.cards(swap=True)
    assert swapped == (spy, civilian)


def test_word_draws_are_deterministic() -> None:
    source = WordSource()
    draws = [
        source.sample(np.random.default_rng(s), blank_spy=False) for s in (4, 4, 5)
    ]
    assert draws[0] == draws[1]
    assert draws[0].civilian.word != draws[0].spy.word


def test_word_file_errors_are_clear(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="expected the word-pair file"):
        words.load_word_pairs(tmp_path / "missing.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected the header"):
        words.load_word_pairs(bad)


# ---- user folders and sizes ------------------------------------------------------------


def _write_pair(
    folder, name: str, colour_a: tuple[int, int, int], colour_b: tuple[int, int, int]
):
    Image.new("RGB", (40, 30), colour_a).save(folder / f"{name}_a.png")
    Image.new("RGBA", (40, 30), (*colour_b, 255)).save(folder / f"{name}_b.png")


def test_folder_pairs_go_to_civilians_and_spy_resized(tmp_path) -> None:
    _write_pair(tmp_path, "kitchen", (200, 10, 10), (10, 200, 10))
    _write_pair(tmp_path, "street", (10, 10, 200), (200, 200, 10))
    (tmp_path / "lonely_a.png").write_bytes((tmp_path / "kitchen_a.png").read_bytes())
    env = selfplay_envs.make_parallel(
        "who_is_the_spy_v0",
        items="folder",
        image_folder=str(tmp_path),
        image_size=(64, 48),
    )
    seen = set()
    for seed in range(8):
        observations, infos = env.reset(seed=seed)
        name = env.episode.state.items.difference["name"]
        seen.add(name)
        expected = {
            "kitchen": ((200, 10, 10), (10, 200, 10)),
            "street": ((10, 10, 200), (200, 200, 10)),
        }
        for agent, obs in observations.items():
            assert obs["image"].shape == (48, 64, 3)
            colour = expected[name][1 if infos[agent]["is_spy"] else 0]
            assert tuple(obs["image"][24, 32]) == colour
    assert seen == {"kitchen", "street"}


def test_a_folder_under_home_is_read_as_make_checked_it(tmp_path, monkeypatch) -> None:
    # make() accepted "~/pics" while the game read the literal "~": one listing now.
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "pics").mkdir()
    _write_pair(tmp_path / "pics", "kitchen", (200, 10, 10), (10, 200, 10))
    env = selfplay_envs.make("who_is_the_spy_v0", items="folder", image_folder="~/pics")
    env.reset(seed=0)
    assert env.episode.state.items.difference["name"] == "kitchen"


def test_folder_without_pairs_is_rejected(tmp_path) -> None:
    with pytest.raises(ValueError, match="NAME_a.png / NAME_b.png"):
        selfplay_envs.make(
            "who_is_the_spy_v0", items="folder", image_folder=str(tmp_path)
        )


def test_image_size_sets_the_observation_space() -> None:
    env = selfplay_envs.make("who_is_the_spy_v0", image_size=(120, 90))
    env.reset(seed=0)
    space = env.observation_space("player_0")["image"]
    assert space.shape == (90, 120, 3) and space.dtype == np.uint8
    assert env.observe("player_0")["image"].shape == (90, 120, 3)
    assert space.contains(env.observe("player_0")["image"])


def test_word_variant_has_no_image_key() -> None:
    env = selfplay_envs.make("who_is_the_spy_v0", items="word")
    env.reset(seed=0)
    assert set(env.observation_space("player_0").spaces) == {"text"}
    observation = env.observe("player_0")
    assert set(observation) == {"text"}
    word = env.infos["player_0"]["item"]["word"]
    assert f'Your word: "{word}"' in observation["text"]


def test_prompt_is_caption_free() -> None:
    env = selfplay_envs.make("who_is_the_spy_v0", image_size=64)
    env.reset(seed=11)
    scene = env.episode.state.items.civilian
    text = env.observe("player_0")["text"].lower()
    for obj in scene.objects:
        assert obj.describe() not in text
