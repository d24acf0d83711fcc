"""Fixed players of search_qa: random on every corpus, scripted on the synthetic one."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

import selfplay_envs
from selfplay_agents.opponents import list_opponents, make_opponent
from selfplay_agents.opponents.search_qa import (
    PolicyVerifier,
    RandomSearchQA,
    ScriptedSearchQA,
)
from selfplay_agents.policy import Turn, policy_from_callable
from selfplay_envs.games.search_qa.env import SearchQAGame
from selfplay_envs.games.search_qa.synthetic import parse_question

ENV_ID = "search_qa_v0"


def _play(game: SearchQAGame, proposer, solver, seed: int):
    """One episode on the rules object; every move must parse."""
    state = game.new_initial_state(np.random.default_rng(seed))
    while not state.is_terminal():
        player = state.current_players()[0]
        info = dict(state.info(player), role=state.role(player))
        turn = Turn(env_id=ENV_ID, agent=f"player_{player}", observation={}, info=info)
        text = (proposer if player == 0 else solver).act([turn])[0]
        result = state.parse_action(player, text)
        assert result.ok, f"{text!r}: {result.message}"
        state.apply_action(player, result.action)
    return state


def test_opponents_are_registered() -> None:
    assert list_opponents(ENV_ID) == ["random", "scripted"]
    assert isinstance(make_opponent(ENV_ID, "random", seed=1), RandomSearchQA)
    with pytest.raises(ValueError, match="expected corpus='synthetic'"):
        make_opponent(ENV_ID, "scripted", seed=1, corpus="foldoc")


@pytest.fixture(scope="module")
def foldoc_game(tmp_path_factory) -> SearchQAGame:
    return SearchQAGame(corpus="foldoc", cache_dir=str(tmp_path_factory.mktemp("idx")))


@pytest.mark.parametrize(
    "corpus", ["synthetic", pytest.param("foldoc", marks=pytest.mark.slow)]
)
def test_random_players_make_only_valid_moves(
    corpus: str, foldoc_game, tmp_path: Path
) -> None:
    game = (
        foldoc_game
        if corpus == "foldoc"
        else SearchQAGame(cache_dir="", corpus_size=500)
    )
    outcomes = []
    for seed in range(6):
        state = _play(
            game, RandomSearchQA(seed=seed), RandomSearchQA(seed=seed + 100), seed
        )
        outcomes.append(state.validity.valid)
        assert sum(state.returns()) == 0.0
    assert not all(outcomes)  # random questions are mostly invalid, as they should be


def test_random_solver_answers_with_titles_it_saw() -> None:
    game = SearchQAGame(
        cache_dir="", corpus_size=500, rag_check=False, solver_attempts=3
    )
    state = _play(
        game, ScriptedSearchQA(seed=0), RandomSearchQA(seed=1, search_prob=0.9), 2
    )
    assert state.validity.valid and len(state.attempts) == 3
    titles = set(state.backend.corpus.titles)
    assert all(a.answer in titles for a in state.attempts)


def test_scripted_pair_plays_valid_multi_hop_questions() -> None:
    game = SearchQAGame(cache_dir="", hops=2, max_proposer_searches=8)
    proposer, solver = (
        ScriptedSearchQA(seed=0),
        ScriptedSearchQA(seed=1, read_error=0.0),
    )
    for seed in range(8):
        state = _play(game, proposer, solver, seed)
        assert state.validity.valid, state.validity.failures
        anchor, chain = parse_question(state.question)
        assert state.backend.kb.resolve_chain(anchor, chain) == state.target
        # A perfect reader finds every answer: retrieval at top-3 never misses here.
        assert state.success_rate() == 1.0


@pytest.mark.slow
def test_scripted_solver_success_falls_as_hops_rise() -> None:
    success: dict[int, list[float]] = defaultdict(list)
    for hops in (1, 2, 3, 4):
        game = SearchQAGame(cache_dir="", hops=hops, max_proposer_searches=8)
        for seed in range(25):
            proposer = ScriptedSearchQA(seed=seed)
            solver = ScriptedSearchQA(seed=seed + 1000, read_error=0.1)
            state = _play(game, proposer, solver, seed)
            assert state.validity.valid
            realised = len(parse_question(state.question)[1])  # the walk may end early
            success[realised].append(state.success_rate())
    means = [float(np.mean(success[h])) for h in sorted(success)]
    assert sorted(success) == [1, 2, 3, 4]
    assert all(len(success[h]) >= 5 for h in success)
    assert all(a > b for a, b in zip(means, means[1:], strict=False)), means
    assert means[0] > 0.85 and means[-1] < 0.7, means


def test_policy_verifier_puts_any_policy_in_the_rag_check() -> None:
    seen = []

    def reader(observation, info):
        seen.append((observation["text"], info))
        return f"<answer>{info['evidence'][0]['title']}</answer>"

    verifier = PolicyVerifier(policy_from_callable(reader))
    game = SearchQAGame(
        cache_dir="", corpus_size=300, verifier=verifier, num_distractors=0
    )
    state = _play(game, ScriptedSearchQA(seed=0), ScriptedSearchQA(seed=1), 0)
    ((prompt, info),) = seen
    assert info["role"] == "verifier" and info["question"] == state.question
    assert prompt.startswith("Answer the question using only the documents below.")
    assert state.validity.rag_answer == info["evidence"][0]["title"]


def test_scripted_players_through_the_aec_env() -> None:
    env = selfplay_envs.make(
        ENV_ID, cache_dir="", corpus_size=800, hops=1, solver_attempts=2
    )
    players = {
        "player_0": make_opponent(ENV_ID, "scripted", seed=0),
        "player_1": make_opponent(ENV_ID, "scripted", seed=1, read_error=0.0),
    }
    env.reset(seed=4)
    final = {}
    for agent in env.agent_iter():
        observation, _, termination, truncation, info = env.last()
        if termination or truncation:
            final[agent] = (info, env._cumulative_rewards[agent])  # noqa: SLF001
            env.step(None)
            continue
        assert "<search>" in observation["text"]
        turn = Turn(env_id=ENV_ID, agent=agent, observation=observation, info=info)
        env.step(players[agent].act([turn])[0])
    info, reward = final["player_1"]
    assert info["validity"]["valid"] and info["success_rate"] == 1.0
    assert reward == 1.0 and final["player_0"][1] == -1.0
    assert info["ssp_reward"] == {"proposer": 0.0, "solver": 1.0}
    assert [a["exact_match"] for a in info["solver_attempts"]] == [1.0, 1.0]
    assert all(record["valid"] for record in info["episode"])
