"""The Digital Red Queen driver: rounds, MAP-Elites, early stop, archive, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

from selfplay_agents.selfplay import Resumable
from selfplay_agents.selfplay.red_queen import RedQueen, ScriptedMutator, Variation
from selfplay_envs.games.core_war.assembler import AssemblerSettings, assemble
from selfplay_envs.games.core_war.instructions import (
    Instruction,
    Mode,
    Modifier,
    Opcode,
)

# A tiny hill keeps each evaluation to a few thousand steps; T = 800 cycles.
HILL = {
    "core_size": 800,
    "max_cycles": 800,
    "max_length": 20,
    "min_distance": 20,
    "rounds": 2,
}
DIES = "dat #0, #0\n"
IMP = "mov.i $0, $1\n"
JUNK = "this is not redcode\n"


class Scripted:
    """A Variation that returns the given sources in turn and records its calls."""

    def __init__(self, new: list[str], child: str = IMP):
        self.queue, self.child, self.calls = list(new), child, []

    def new(self, rng: np.random.Generator) -> str:
        self.calls.append("new")
        return self.queue.pop(0) if len(self.queue) > 1 else self.queue[0]

    def mutate(self, parent: str, donor: str | None, rng: np.random.Generator) -> str:
        self.calls.append(("mutate", parent))
        return self.child


def _loop(variation, **kwargs) -> RedQueen:
    args = {"n_rounds": 1, "n_iters": 3, "n_init": 0, "fitness_threshold": 10.0}
    return RedQueen(variation, [DIES], **{**args, **kwargs}, **HILL)


def test_an_imp_against_a_dat_scores_the_whole_share() -> None:
    # Round 1: the imp runs (address 0, then 1 queued), the DAT dies in cycle 0, the
    # imp is alone for all T cycles: 2/T * T = 2. Round 2: the DAT moves first and
    # dies before the imp runs (mc 1). tsp 0, mc (2 + 1) / 2 = 1.5: cell (0, 0).
    elite = _loop(Scripted([IMP])).evaluate(IMP)
    assert elite is not None
    assert (elite.fitness, elite.tsp, elite.mc, elite.cell) == (2.0, 0.0, 1.5, (0, 0))
    # DAT against DAT: whoever moves first dies, and the first mover rotates, so each
    # is alone for all T cycles in one of the two rounds: (0 + 2) / 2.
    assert _loop(Scripted([IMP])).evaluate(DIES).fitness == 1.0
    assert _loop(Scripted([IMP])).evaluate(JUNK) is None


def test_a_round_stops_once_its_best_passes_the_threshold() -> None:
    # Iteration 0: 2 new warriors, then its own (3 evaluations, fitness 2 > 1.5);
    # iterations 1-4 are skipped.
    loop = _loop(Scripted([IMP]), n_iters=5, n_init=2, fitness_threshold=1.5)
    loop.run()
    assert loop.done and len(loop.history) == 3
    assert [c.fitness for c in loop.champions] == [2.0]


def test_an_empty_grid_asks_for_new_warriors_then_mutates_an_elite() -> None:
    variation = Scripted([JUNK, JUNK, IMP])
    loop = _loop(variation, n_iters=3, n_init=1, p_new=0.0)
    loop.run()
    assert variation.calls == ["new", "new", "new", ("mutate", IMP)]
    assert [h["valid"] for h in loop.history] == [False, False, True, True]
    # The mutation (an imp again) ties the elite, so it does not replace it.
    assert [h["placed"] for h in loop.history] == [False, False, True, False]


def test_each_champion_joins_the_melee_of_the_rounds_after_it() -> None:
    loop = _loop(Scripted([IMP, DIES]), n_rounds=2, n_iters=1, p_new=1.0)
    assert loop.opponents() == [DIES]
    loop.step()  # round 0: the imp, fitness 2, is its champion
    assert loop.round == 1 and loop.champions[0].source == IMP
    assert loop.opponents() == [DIES, IMP]
    # Round 1: a DAT in a 3-warrior melee. Battle round 1: it moves first and dies in
    # cycle 0 (share 0). Battle round 2: the opponents' DAT moves first and dies, which
    # shrinks pMARS's step counter (2400 -> 1599), the imp runs, and the learner's DAT
    # runs in cycle 800 - ceil(1598 / 2) = 1: alive in cycle 0 with the imp, 1/2 of
    # it. Fitness (0 + (3/T) * 1/2) / 2 with T = 800.
    loop.step()
    assert loop.history[-1]["fitness"] == pytest.approx((3 / 800 / 2) / 2)
    assert _loop(Scripted([IMP]), last_k=0).opponents() == [DIES]


def test_a_resumed_run_gives_identical_results() -> None:
    def make() -> RedQueen:
        mutator = ScriptedMutator(core_size=800, max_length=20, new_length=4)
        return RedQueen(
            mutator, [DIES, IMP], n_rounds=2, n_iters=5, n_init=2, seed=3, **HILL
        )

    whole = make()
    whole.run()
    first = make()
    first.run(steps=4)
    saved = json.loads(json.dumps(first.state_dict()))
    resumed = make()
    resumed.load_state_dict(saved)
    resumed.run()
    assert resumed.state_dict() == json.loads(json.dumps(whole.state_dict()))
    assert len(whole.champions) == 2 and len(whole.history) >= 4


def test_the_driver_and_the_mutator_meet_their_protocols() -> None:
    assert isinstance(_loop(Scripted([IMP])), Resumable)
    assert isinstance(ScriptedMutator(), Variation)


def _ins(op: Opcode, a: int) -> Instruction:
    return Instruction(
        opcode=op,
        modifier=Modifier.F,
        a_mode=Mode.DIRECT,
        a_number=a,
        b_mode=Mode.DIRECT,
        b_number=0,
    )


def test_insert_delete_and_crossover_change_the_code_as_asked() -> None:
    m = ScriptedMutator(core_size=800, max_length=4)
    a = [_ins(Opcode.MOV, 1), _ins(Opcode.ADD, 2), _ins(Opcode.JMP, 3)]
    b = [_ins(Opcode.SPL, 4), _ins(Opcode.DAT, 5)]
    new = _ins(Opcode.NOP, 9)
    assert m.insert(a, 1, new) == [a[0], new, a[1], a[2]]
    assert m.insert([*a, new], 0, new) == [*a, new]  # full at max_length 4
    assert m.delete(a, 1) == [a[0], a[2]] and m.delete(a[:1], 0) == a[:1]
    assert m.crossover(a, b, 2, 1) == [a[0], a[1], b[1]]
    assert m.crossover(a, b, 3, 0) == [*a, b[0]]  # cut at max_length


def test_every_scripted_warrior_assembles_under_the_hill() -> None:
    m = ScriptedMutator(core_size=800, max_length=20)
    settings = AssemblerSettings(core_size=800, max_length=20)
    rng = np.random.default_rng(0)
    source = m.new(rng)
    for _ in range(200):
        donor = m.new(rng)
        source = m.mutate(source, donor, rng)
        assert 1 <= len(assemble(source, settings)) <= 20
    # A parent that does not assemble gets a new warrior, never an exception.
    assert assemble(m.mutate(JUNK, None, rng), settings)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one initial opponent"):
        RedQueen(Scripted([IMP]), [])
    with pytest.raises(ValueError, match="p_new"):
        RedQueen(Scripted([IMP]), [DIES], p_new=2.0)


# ---- the LLM variation operator ------------------------------------------------------


class ReplyBackend:
    """An inference backend that answers every request with the next given reply and
    keeps the requests (prompt text, seed)."""

    def __init__(self, replies: list[str]):
        self.replies, self.requests = list(replies), []

    def generate(self, requests):
        from selfplay_agents.inference.base import Result

        self.requests += list(requests)
        return [Result(text=self.replies.pop(0)) for _ in requests]


class DownBackend:
    def generate(self, requests):
        raise ConnectionError("connection refused")


def test_redcode_block_takes_the_last_fenced_program() -> None:
    from selfplay_agents.selfplay.red_queen import redcode_block

    reply = "plan: ```redcode\nmov 0, 2\n``` no, better:\n```redcode\nmov.i $0, $1\n```"
    assert redcode_block(reply) == "mov.i $0, $1"
    assert redcode_block("```\ndat #0, #0\n```") == "dat #0, #0"
    assert redcode_block("mov.i $0, $1") == "mov.i $0, $1"  # no fence: the text


def test_llm_variation_prompts_carry_the_hill_and_the_parent() -> None:
    from selfplay_agents.selfplay.red_queen import LLMVariation

    backend = ReplyBackend(
        ["```redcode\n" + IMP + "```", "```redcode\n" + DIES + "```"]
    )
    variation = LLMVariation(backend, core_size=800, max_length=20)
    rng = np.random.default_rng(0)
    assert variation.new(rng) == IMP.strip()
    assert variation.mutate(IMP, None, rng) == DIES.strip()
    first, second = (r.messages[0].content for r in backend.requests)
    assert "core size 800" in first and "at most 20 instructions" in first
    assert IMP.strip() in second and "core size 800" in second
    # Each request is seeded from the driver's generator: a resumed run asks the same.
    seeds = [r.seed for r in backend.requests]
    again = np.random.default_rng(0)
    assert seeds == [int(again.integers(0, 2**31 - 1)) for _ in range(2)]


def test_llm_warriors_are_evaluated_and_junk_is_invalid_not_an_error() -> None:
    from selfplay_agents.selfplay.red_queen import LLMVariation

    backend = ReplyBackend(["```redcode\n" + IMP + "```", JUNK, "```\n" + IMP + "```"])
    loop = _loop(LLMVariation(backend, core_size=800, max_length=20), p_new=1.0)
    loop.run()
    assert [h["valid"] for h in loop.history] == [True, False, True]
    assert loop.champions[0].source == IMP.strip()
    assert loop.champions[0].fitness == 2.0  # the whole share: N = 2 times 1


def test_a_backend_outage_raises_and_scores_nothing() -> None:
    from selfplay_agents.selfplay.red_queen import LLMVariation
    from selfplay_envs.core.errors import InfrastructureError

    loop = _loop(LLMVariation(DownBackend()), p_new=1.0)
    with pytest.raises(InfrastructureError, match="connection refused"):
        loop.step()
    assert loop.history == []


def test_llm_variation_runs_on_the_tiny_local_model(tiny_backend) -> None:
    from selfplay_agents.inference.base import SamplingParams
    from selfplay_agents.selfplay.red_queen import LLMVariation

    # Random weights write no Redcode: the plumbing runs, every warrior is invalid.
    variation = LLMVariation(tiny_backend, sampling=SamplingParams(max_tokens=16))
    loop = _loop(variation, p_new=1.0, n_iters=2)
    loop.run()
    assert len(loop.history) == 2
    assert all(isinstance(h["valid"], bool) for h in loop.history)
