"""The Vision-Zero preset of who_is_the_spy_v0: each point with hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

import selfplay_envs
from selfplay_envs.core.config import ConfigError
from selfplay_envs.games.who_is_the_spy import scenes
from selfplay_envs.games.who_is_the_spy.env import WhoIsTheSpyGame
from selfplay_envs.games.who_is_the_spy.items import SceneSource
from selfplay_envs.games.who_is_the_spy.rules import ABSTAIN

ENV = "who_is_the_spy_v0"
SEEDS = range(20)


def _state(game: WhoIsTheSpyGame, spy: int, seed: int = 0):
    """A fresh episode whose spy sits at ``spy`` (the seed only draws the items)."""
    state = game.new_initial_state(np.random.default_rng(seed))
    state.spy = spy
    return state


def _play(state, votes: dict[int, int]) -> None:
    """Two rounds of scripted clues, then the votes (0-based seats or ABSTAIN)."""
    for turn in range(state.rules.clue_rounds * state.num_players):
        state.apply_action(turn % state.num_players, "There is a cube.")
    state.apply_joint_action(votes)


# ---- point 1: the paper's rewards are the returns ---------------------------------


def test_vision_zero_returns_are_the_clue_term_plus_the_vote_term() -> None:
    # spy = seat 1; seat 0 and seat 3 vote for it, seat 2 votes for seat 3.
    # received = [0, 2, 0, 1]; civilians' mean 1/3; gap v_s - mean = 5/3.
    # clue: spy -0.1 * 5/3 = -1/6; civilian share 0.1/3 * 5/3 = 1/18;
    #   seats 0, 2: 1/18 - 0.1 * (0 - 1/3) = 4/45; seat 3: 1/18 - 0.1 * (2/3) = -1/90
    # vote: seat 0 +1, seat 2 -1, seat 3 +1, spy 0 (does not vote)
    state = _state(WhoIsTheSpyGame(preset="vision_zero", image_size=32), spy=1)
    _play(state, {0: 1, 2: 3, 3: 1})
    assert state.returns() == pytest.approx([49 / 45, -1 / 6, -41 / 45, 89 / 90])
    # today's return of the same episode: the spy alone has the most votes
    today = _state(WhoIsTheSpyGame(image_size=32), spy=1)
    _play(today, {0: 1, 2: 3, 3: 1})
    assert today.returns() == pytest.approx([1 / 3, -1.0, 1 / 3, 1 / 3])


def test_abstaining_and_the_spys_own_vote_under_vision_zero() -> None:
    # spy = seat 0 votes for seat 2 (+0.5); seat 1 and 3 vote spy (+1), seat 2 N/A (-0.5)
    # received = [2, 0, 1, 0]; mean 1/3; gap 5/3; spy clue -1/6; share 1/18
    # seats 1, 3: 1/18 + 1/30 = 4/45; seat 2: 1/18 - 1/15 = -1/90
    game = WhoIsTheSpyGame(preset="vision_zero", spy_votes=True, image_size=32)
    state = _state(game, spy=0)
    _play(state, {0: 2, 1: 0, 2: ABSTAIN, 3: 0})
    expected = [0.5 - 1 / 6, 1 + 4 / 45, -0.5 - 1 / 90, 1 + 4 / 45]
    assert state.returns() == pytest.approx(expected)
    assert sum(state.returns()) != pytest.approx(0.0)


def test_the_preset_is_not_zero_sum_and_the_default_is() -> None:
    assert selfplay_envs.make(ENV, image_size=32).metadata["zero_sum"] is True
    paper = selfplay_envs.make(ENV, preset="vision_zero", image_size=32)
    assert paper.metadata["zero_sum"] is False
    # 3 civilian votes, each clue term at most max(0.1, 0.1/3 + 0.1) per vote, plus 1
    assert paper.unwrapped.game.info.max_utility == pytest.approx(1.4)
    assert paper.unwrapped.game.info.min_utility == pytest.approx(-1.4)


def test_a_point_given_wins_over_the_preset() -> None:
    team = WhoIsTheSpyGame(preset="vision_zero", reward_mode="team", image_size=32)
    assert team.rules.reward_mode == "team" and team.info.zero_sum
    assert team.source.num_edits == 2
    one = WhoIsTheSpyGame(preset="vision_zero", num_edits=1, image_size=32)
    assert one.source.num_edits == 1 and one.source.edits == ("replace_object",)
    alone = WhoIsTheSpyGame(reward_mode="vision_zero", image_size=32)
    assert alone.source.num_edits == 1 and alone.source.edits == scenes.EDIT_KINDS
    assert alone.default_invalid_move is None


def test_the_preset_plays_on_after_an_invalid_vote_which_scores_minus_one() -> None:
    env = selfplay_envs.make(ENV, preset="vision_zero", image_size=32)
    env.reset(seed=4)
    spy = env.unwrapped.episode.state.spy
    civilians = [p for p in range(4) if p != spy]
    for _ in range(8):
        env.step("\\boxed{There is a cube.}")
    replies = {
        civilians[0]: f"\\boxed{{{spy + 1}}}",
        civilians[1]: f"\\boxed{{{spy + 1}}}",
        civilians[2]: "\\boxed{maybe the second one}",
    }
    for agent in env.agent_iter():
        if env.terminations[agent]:
            break
        env.step(replies[int(agent.split("_")[1])])
    assert all(env.terminations.values())
    # received: spy 2, civilians 0; gap 2; spy clue -0.2; civilians 0.2/3 each
    # the invalid vote counts for no one and scores -1
    final = env.infos[f"player_{civilians[2]}"]
    assert final["votes"][civilians[2]] == "invalid"
    totals = {p: env.unwrapped.episode.state.returns()[p] for p in range(4)}
    assert totals[spy] == pytest.approx(-0.2)
    assert totals[civilians[0]] == pytest.approx(1 + 0.2 / 3)
    assert totals[civilians[2]] == pytest.approx(-1 + 0.2 / 3)


# ---- point 2: two-object edits ----------------------------------------------------


def _two_edit_source(kinds=("replace_object", "recolor_object", "move_object")):
    return SceneSource(min_objects=3, max_objects=8, edits=kinds, num_edits=2)


def test_two_edits_change_exactly_two_objects_deterministically() -> None:
    source = _two_edit_source()
    for seed in SEEDS:
        pair = source.sample(np.random.default_rng(seed), blank_spy=False)
        assert pair == source.sample(np.random.default_rng(seed), blank_spy=False)
        civilian, spy = pair.civilian.objects, pair.spy.objects
        assert len(civilian) == len(spy)
        changed = [
            i for i, (a, b) in enumerate(zip(civilian, spy, strict=True)) if a != b
        ]
        assert len(changed) == 2, seed
        truth = pair.difference["edits"]
        assert pair.difference["edit"] is None
        assert sorted(i for e in truth for i in e["objects"]) == changed
        for edit in truth:
            assert edit["kind"] in ("replace_object", "recolor_object", "move_object")
            assert edit["description"]


def test_a_replaced_object_keeps_its_place_and_size_but_not_its_shape_or_colour() -> (
    None
):
    source = _two_edit_source(("replace_object",))
    for seed in SEEDS:
        pair = source.sample(np.random.default_rng(seed), blank_spy=False)
        for edit in pair.difference["edits"]:
            (i,) = edit["objects"]
            old, new = pair.civilian.objects[i], pair.spy.objects[i]
            assert (old.x, old.depth, old.size) == (new.x, new.depth, new.size)
            assert old.shape != new.shape and old.color != new.color
            assert edit["new"] == [[new.shape, new.color, new.material]]
            assert f"replaced by a {new.size} {new.color}" in edit["description"]


def test_edits_replayed_in_order_rebuild_the_spys_scene() -> None:
    source = SceneSource(
        min_objects=3, max_objects=8, edits=scenes.ALL_EDIT_KINDS, num_edits=3
    )
    for seed in SEEDS:
        pair = source.sample(np.random.default_rng(seed), blank_spy=False)
        scene = pair.civilian
        for edit in pair.difference["edits"]:
            scene = scenes.SceneEdit(
                kind=edit["kind"],
                objects=tuple(edit["objects"]),
                attribute=edit["attribute"],
                old=tuple(tuple(v) if isinstance(v, list) else v for v in edit["old"]),
                new=tuple(tuple(v) if isinstance(v, list) else v for v in edit["new"]),
            ).apply(scene)
        assert scene == pair.spy, seed


def test_one_edit_draws_what_it_drew_before() -> None:
    # the default stream: the scene, then sample_edit on it (as before num_edits)
    source = SceneSource(min_objects=3, max_objects=8, edits=scenes.EDIT_KINDS)
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        scene = scenes.sample_scene(rng, 3, 8)
        edit = scenes.sample_edit(rng, scene, scenes.EDIT_KINDS)
        pair = source.sample(np.random.default_rng(seed), blank_spy=False)
        assert pair.spy == edit.apply(scene)
        assert pair.difference["edits"] == [pair.difference["edit"]]
        assert pair.difference["edit"] == edit.to_dict(scene)


def test_the_preset_replaces_two_objects_and_says_so() -> None:
    env = selfplay_envs.make_parallel(ENV, preset="vision_zero", image_size=64)
    observations, _ = env.reset(seed=3)
    truth = env.episode.state.ground_truth()["difference"]
    assert [e["kind"] for e in truth["edits"]] == ["replace_object"] * 2
    text = observations["player_0"]["text"]
    assert "two details" in text and "N/A -0.5" in text
    plain, _ = selfplay_envs.make_parallel(ENV, image_size=64).reset(seed=3)
    assert "one detail" in plain["player_0"]["text"]
    assert "N/A -0.5" not in plain["player_0"]["text"]


# ---- point 3: the spy's image ---------------------------------------------------


@pytest.mark.parametrize("spy_item", ["different", "blank"])
def test_the_spys_image_is_the_edited_scene_or_blank(spy_item: str) -> None:
    env = selfplay_envs.make_parallel(
        ENV, preset="vision_zero", spy_item=spy_item, image_size=64
    )
    observations, infos = env.reset(seed=5)
    state = env.episode.state
    spy = f"player_{state.spy}"
    civilian = next(a for a in env.agents if a != spy)
    if spy_item == "blank":
        expected = scenes.blank_image(64, 64)
        assert infos[spy]["item"] is None
    else:
        expected = scenes.render_scene(state.items.spy, 64, 64)
        assert not np.array_equal(
            observations[spy]["image"], observations[civilian]["image"]
        )
    assert np.array_equal(observations[spy]["image"], expected)
    assert np.array_equal(
        observations[civilian]["image"],
        scenes.render_scene(state.items.civilian, 64, 64),
    )


# ---- bad values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "name"),
    [
        ({"preset": "spiral"}, "preset"),
        ({"reward_mode": "zero_sum"}, "reward_mode"),
        ({"num_edits": 0}, "num_edits"),
        ({"num_edits": 4}, "num_edits"),  # more than min_objects=3
        ({"num_edits": 2, "items": "word"}, "num_edits"),
        ({"edits": ["teleport"]}, "edits"),
    ],
)
def test_bad_values_are_refused_at_make(config: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        selfplay_envs.make(ENV, **config)


def test_the_preset_with_other_items_ignores_num_edits() -> None:
    game = WhoIsTheSpyGame(preset="vision_zero", items="word")
    assert game.rules.reward_mode == "vision_zero"
