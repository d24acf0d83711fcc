"""TorchRL: ``PettingZooWrapper`` over our plain numeric envs, masks, collection and
training, with no code of ours between TorchRL and ``selfplay_envs.make``.

TorchRL turns every info entry into a tensor, and the numeric view's infos hold only
fixed-shape numeric entries (``infos="numeric"``, its default). Everything else
(observation dicts with ``action_mask``, AEC turn order, terminal rewards) is used as
it is.
"""

from __future__ import annotations

import pytest

import selfplay_envs
from selfplay_agents.analysis.kuhn import INFO_STATES, evaluate, info_state_turn

torch = pytest.importorskip("torch", reason="the agents extra (torch) is not installed")
pytest.importorskip("torchrl", reason="the marl extra (torchrl) is not installed")

from tensordict.nn import TensorDictModule, TensorDictSequential  # noqa: E402
from torchrl.collectors import Collector  # noqa: E402
from torchrl.envs.libs.pettingzoo import PettingZooWrapper  # noqa: E402
from torchrl.envs.utils import check_env_specs  # noqa: E402
from torchrl.modules import MaskedCategorical, ProbabilisticActor  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore:PettingZoo in TorchRL is tested"),
    pytest.mark.filterwarnings("ignore:The env passed to Collector is missing"),
]
AGENTS = ("player_0", "player_1")


def torchrl_env(env_id: str, seed: int = 0) -> PettingZooWrapper:
    env = selfplay_envs.make(env_id, view="numeric")
    return PettingZooWrapper(env, use_mask=True, categorical_actions=True, seed=seed)


def masked_policy(net: torch.nn.Module) -> TensorDictSequential:
    """One network for both seats (self-play), sampling only legal actions."""
    actors = []
    for agent in AGENTS:
        module = TensorDictModule(
            net,
            in_keys=[(agent, "observation", "observation")],
            out_keys=[(agent, "logits")],
        )
        actors.append(
            ProbabilisticActor(
                module,
                in_keys={"logits": (agent, "logits"), "mask": (agent, "action_mask")},
                out_keys=[(agent, "action")],
                distribution_class=MaskedCategorical,
            )
        )
    return TensorDictSequential(*actors)


def check_batch(batch, num_actions: int) -> int:
    """Assert the AEC contract on a collected batch; return the finished episodes."""
    acting = torch.stack([batch[agent, "mask"].squeeze(-1) for agent in AGENTS], -1)
    assert (acting.sum(-1) == 1).all(), "exactly one seat acts at every step"
    for agent in AGENTS:
        moved = batch[agent, "mask"].squeeze(-1)
        action = batch[agent, "action"].squeeze(-1)[moved]
        legal = batch[agent, "action_mask"].squeeze(1)[moved]
        assert legal.shape[-1] == num_actions
        assert legal.gather(1, action[:, None]).all(), "every action was legal"
    done = batch["next", "done"].squeeze(-1)
    rewards = sum(batch["next", agent, "reward"].reshape(-1) for agent in AGENTS)
    assert torch.allclose(rewards, torch.zeros_like(rewards)), "zero-sum rewards"
    nonzero = torch.stack(
        [batch["next", agent, "reward"].reshape(-1) != 0 for agent in AGENTS]
    ).any(0)
    assert not (nonzero & ~done).any(), "rewards only at the end of a game"
    return int(done.sum())


@pytest.mark.parametrize(
    ("env_id", "num_actions"), [("tic_tac_toe_v0", 9), ("kuhn_poker_v0", 2)]
)
def test_torchrl_collects_masked_data(env_id: str, num_actions: int):
    env = torchrl_env(env_id)
    # TorchRL's check samples one more action after its rollout: a Kuhn hand ends
    # within 3 steps, and a finished episode's mask keeps a legal entry for it.
    check_env_specs(env, break_when_any_done="both")
    assert env.group_map == {"player_0": ["player_0"], "player_1": ["player_1"]}
    net = torch.nn.Linear(11, 2) if env_id == "kuhn_poker_v0" else _FlatLinear(18, 9)
    collector = Collector(
        env, masked_policy(net), frames_per_batch=60, total_frames=120
    )
    episodes = sum(check_batch(batch, num_actions) for batch in collector)
    collector.shutdown()
    assert episodes >= 120 // 9


class _FlatLinear(torch.nn.Module):
    """Linear layer over a flattened (3, 3, 2) board."""

    def __init__(self, inputs: int, outputs: int):
        super().__init__()
        self.linear = torch.nn.Linear(inputs, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(-3))


def kuhn_table(net: torch.nn.Module) -> dict[str, list[float]]:
    """The network's ``[P(pass), P(bet)]`` at the 12 information states."""
    table = {}
    for key in INFO_STATES:
        turn, _ = info_state_turn(key, view="numeric")
        observation = torch.as_tensor(turn.observation["observation"])
        with torch.no_grad():
            table[key] = torch.softmax(net(observation), -1).tolist()
    return table


def returns_to_go(batch) -> dict[str, torch.Tensor]:
    """Each seat's final return at every step; NaN after the batch's last finished game."""
    done = batch["next", "done"].reshape(-1)
    out = {}
    for agent in AGENTS:
        reward = batch["next", agent, "reward"].reshape(-1)
        value = torch.full_like(reward, float("nan"))
        running = float("nan")
        for t in reversed(range(len(reward))):
            if done[t]:
                running = 0.0
            running = running + float(reward[t])
            value[t] = running
        out[agent] = value
    return out


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_torchrl_kuhn_self_play_lowers_exploitability():
    """REINFORCE self-play on TorchRL-collected data, with an entropy bonus.

    Plain simultaneous policy gradient orbits the equilibrium of a zero-sum game; the
    entropy bonus makes it settle near it (see examples/kuhn_rae_selfplay.py).
    """
    torch.manual_seed(0)
    env = torchrl_env("kuhn_poker_v0", seed=0)
    net = torch.nn.Sequential(
        torch.nn.Linear(11, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2)
    )
    optimizer = torch.optim.SGD(net.parameters(), lr=1.0)
    collector = Collector(
        env, masked_policy(net), frames_per_batch=400, total_frames=400 * 10
    )
    before = evaluate(kuhn_table(net)).exploitability
    curve = []
    for batch in collector:
        returns = returns_to_go(batch)
        objective, decisions = 0.0, 0
        for agent in AGENTS:
            moved = batch[agent, "mask"].reshape(-1) & ~returns[agent].isnan()
            observation = batch[agent, "observation", "observation"].reshape(-1, 11)
            legal = batch[agent, "action_mask"].reshape(-1, 2)[moved]
            action = batch[agent, "action"].reshape(-1)[moved]
            logits = net(observation[moved]).masked_fill(~legal, float("-inf"))
            log_probs = torch.log_softmax(logits, -1)
            chosen = log_probs.gather(1, action[:, None]).squeeze(1)
            entropy = -(log_probs.exp() * log_probs.nan_to_num(neginf=0.0)).sum()
            objective = (
                objective + (returns[agent][moved] * chosen).sum() + 0.02 * entropy
            )
            decisions += int(moved.sum())
        optimizer.zero_grad()
        (-objective / decisions).backward()
        optimizer.step()  # the collector's policy holds this same network
        curve.append(evaluate(kuhn_table(net)).exploitability)
    collector.shutdown()
    print(f"TorchRL Kuhn exploitability {before:.3f} -> {[round(c, 3) for c in curve]}")
    assert before > 0.4, before
    assert curve[-1] < 0.2, (before, curve)
