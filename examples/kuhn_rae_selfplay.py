"""Self-play REINFORCE on an N-hand Kuhn poker match: no baseline, a role-keyed
baseline, and SPIRAL's player-keyed baseline (RAE).

One softmax policy (one pair of logits per information state of a hand, read from
``info["info_state"]``) plays both seats of ``kuhn_poker_v0`` with ``num_hands=N``
through our ``BatchedEnv``; in the match each seat alternates between opener and
responder, and a decision's return is its seat's chips over the whole match. Each
update is a REINFORCE step on a batch of finished self-play matches, with one of three
advantages:

* ``none``: advantage = return. (One shared baseline would be zero: in zero-sum
  self-play the mean return over both seats is zero.)
* ``role``: return minus a moving-average baseline of the decision's game role
  (opener or responder), as ``selfplay_agents.export.role_advantages``: the old
  keying. In a match both seats play both roles, so each role's baseline averages
  both seats' returns, which sum to zero.
* ``player``: return minus the baseline of the acting player (seat), SPIRAL's RAE, as
  ``selfplay_agents.export.player_advantages``.

Both baselines are ``selfplay_agents.export.RoleBaseline`` (SPIRAL's decay 0.95): the
advantage uses the baseline as it stood before the batch, then each episode updates it
once per key, ``b <- 0.95 b + 0.05 R``, in the order the library uses. With
``--num-hands 1`` player_0 always opens, so the role and player keys coincide.

An entropy bonus on the 12 information states keeps the dynamics from cycling: plain
simultaneous policy gradient in a zero-sum game orbits the equilibrium, the regularised
game has a unique (quantal response) equilibrium close to Nash that the iterates reach.

Every variant uses the same seeds and hyper-parameters. Every few updates the
exact exploitability (per hand) of the current policy is computed with OpenSpiel's best
responses (``selfplay_agents.analysis.kuhn``); the curves go to a PNG and a JSON file.
docs/selfplay.md has the measured figures.

    python examples/kuhn_rae_selfplay.py          # 3 seeds x 3 variants, ~1 min of CPU
    python examples/kuhn_rae_selfplay.py --quick  # the CI size, 1 seed
    python examples/kuhn_rae_selfplay.py --num-hands 1  # one hand: the keys coincide
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import torch

from selfplay_agents.analysis.kuhn import INFO_STATES, evaluate
from selfplay_agents.export import RoleBaseline
from selfplay_envs.wrappers.batched import BatchedEnv

ENV_ID = "kuhn_poker_v0"
STATE_INDEX = {key: i for i, key in enumerate(INFO_STATES)}
PLAYERS = ("player_0", "player_1")
ROLES = ("opener", "responder")
#: The three advantages compared, and how the output names them.
VARIANTS = {
    "none": "no baseline",
    "role": "role-keyed baseline",
    "player": "player-keyed baseline (RAE)",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config:
    """Hyper-parameters of one run."""

    num_hands: int = 5
    updates: int = 300
    hands_per_update: int = 512
    num_envs: int = 128
    lr: float = 5.0
    lr_final: float = 0.5
    entropy: float = 0.02
    baseline_decay: float = 0.95
    average_decay: float = 0.95
    seed: int = 0
    eval_every: int = 10

    @property
    def episodes_per_update(self) -> int:
        """Matches per update: at least ``hands_per_update`` hands."""
        return -(-self.hands_per_update // self.num_hands)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Batch:
    """Decisions of a batch of finished episodes."""

    states: torch.Tensor  # (n,) information-state index
    masks: torch.Tensor  # (n, 2) legal actions
    actions: torch.Tensor  # (n,)
    players: torch.Tensor  # (n,) seat of the acting player
    roles: torch.Tensor  # (n,) 0 opener, 1 responder in the decision's hand
    returns: torch.Tensor  # (n,) final return of the acting seat
    episode_ids: torch.Tensor  # (n,) which episode of the batch, in finishing order
    episodes: int


class TabularPolicy(torch.nn.Module):
    """Softmax policy with one pair of logits per information state."""

    def __init__(self):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.zeros(len(INFO_STATES), 2))

    def forward(self, states: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        """Logits at information states ``states``, illegal actions at -inf."""
        return self.logits[states].masked_fill(~masks, float("-inf"))

    def table(self) -> dict[str, list[float]]:
        """``[P(pass), P(bet)]`` at each information state."""
        return _table(torch.softmax(self.logits.detach(), dim=-1))

    def entropy(self) -> torch.Tensor:
        """Summed entropy of the 12 information states' distributions."""
        log_probs = torch.log_softmax(self.logits, dim=-1)
        return -(log_probs.exp() * log_probs).sum()


class Collector:
    """Plays the policy against itself in a ``BatchedEnv``; gathers finished episodes."""

    def __init__(self, num_envs: int, seed: int, num_hands: int):
        self.env = BatchedEnv(ENV_ID, num_envs, view="numeric", num_hands=num_hands)
        self.observations, self.infos = self.env.reset(seed=seed)
        self.open: list[list[tuple[int, np.ndarray, int, int, int]]] = [
            [] for _ in range(num_envs)
        ]
        self.generator = torch.Generator().manual_seed(seed)
        self.checks = 20

    def collect(self, policy: TabularPolicy, episodes: int) -> Batch:
        """Step every game until at least ``episodes`` episodes have finished."""
        rows: list[tuple[int, np.ndarray, int, int, int, float, int]] = []
        done = 0
        while done < episodes:
            # OpenSpiel's information state of the hand: the card, then the betting.
            keys = info_state_keys(self.observations["observation"])
            if self.checks:  # the first steps: the tensor says what the infos say
                self.checks -= 1
                assert keys == [info["info_state"] for info in self.infos]
            states = [STATE_INDEX[key] for key in keys]
            mask = self.observations["action_mask"].astype(bool)
            with torch.no_grad():
                logits = policy(torch.tensor(states), torch.from_numpy(mask))
                probs = torch.softmax(logits, dim=-1)
            actions = torch.multinomial(probs, 1, generator=self.generator).squeeze(1)
            chosen = actions.tolist()
            for i, seat in enumerate(self.env.acting.tolist()):
                role = (len(keys[i]) - 1) % 2  # the opener acts at "" and "pb"
                self.open[i].append((states[i], mask[i], chosen[i], seat, role))
            step = self.env.step(actions.numpy())
            for i in np.flatnonzero(step.terminated | step.truncated).tolist():
                rewards = step.rewards[i].tolist()
                rows += [(*row, rewards[row[3]], done) for row in self.open[i]]
                self.open[i] = []
                done += 1
            self.observations, self.infos = step.observations, step.infos
        states, masks, actions, players, roles, returns, ids = zip(*rows, strict=True)
        return Batch(
            states=torch.tensor(states),
            masks=torch.from_numpy(np.stack(masks)),
            actions=torch.tensor(actions),
            players=torch.tensor(players),
            roles=torch.tensor(roles),
            returns=torch.tensor(returns, dtype=torch.float32),
            episode_ids=torch.tensor(ids),
            episodes=done,
        )


def info_state_keys(tensors: np.ndarray) -> list[str]:
    """OpenSpiel's information-state strings (``"2pb"``) of a batch of numeric
    observations: the card one-hot at 2-4, then a (pass, bet) pair per move at 5-10
    (reading infos instead costs most of the run)."""
    cards = tensors[:, 2:5].argmax(axis=1)
    pairs = tensors[:, 5:11].reshape(len(tensors), 3, 2)
    letters = np.where(
        pairs[:, :, 1] > 0.5, "b", np.where(pairs[:, :, 0] > 0.5, "p", "")
    )
    return [str(card) + "".join(row) for card, row in zip(cards, letters, strict=True)]


class KeyedBaseline:
    """SPIRAL's moving-average baseline, keyed by player or by game role.

    The values live in a ``selfplay_agents.export.RoleBaseline``, and the update follows
    ``player_advantages`` (``by="player"``) and ``role_advantages`` (``by="role"``):
    the advantage is the return minus the baseline before the batch; then, in the order
    the decisions were played, each episode updates the key of a (seat, key) pair the
    first time it appears, with that seat's return.
    """

    def __init__(self, decay: float, by: str):
        self.by = by
        self.names = PLAYERS if by == "player" else ROLES
        self.baseline = RoleBaseline(decay)

    def values(self) -> dict[str, float]:
        """The current baseline of each key."""
        return {name: self.baseline.value(ENV_ID, name) for name in self.names}

    def advantages(self, batch: Batch) -> torch.Tensor:
        """Return minus the baseline of the decision's key, then update the baselines."""
        keys = batch.players if self.by == "player" else batch.roles
        before = torch.tensor(list(self.values().values()))
        advantages = batch.returns - before[keys]
        seen: set[tuple[int, int, int]] = set()
        for episode, seat, key, value in zip(
            batch.episode_ids.tolist(),
            batch.players.tolist(),
            keys.tolist(),
            batch.returns.tolist(),
            strict=True,
        ):
            if (episode, seat, key) not in seen:
                seen.add((episode, seat, key))
                self.baseline.update(ENV_ID, self.names[key], value)
        return advantages


def train(config: Config, variant: str) -> dict[str, list[float]]:
    """One self-play run with advantage ``variant`` (a key of ``VARIANTS``); returns
    the exploitability curves, the baselines and player_0's mean return per update."""
    policy = TabularPolicy()
    optimizer = torch.optim.SGD(policy.parameters(), lr=config.lr)
    collector = Collector(config.num_envs, config.seed, config.num_hands)
    baselines = {
        by: KeyedBaseline(config.baseline_decay, by) for by in ("player", "role")
    }
    average = torch.softmax(policy.logits.detach(), dim=-1)
    curve: dict[str, list[float]] = {
        "episodes": [],
        "exploitability": [],
        "average_exploitability": [],
        **{f"{name}_baseline": [] for name in (*PLAYERS, *ROLES)},
        "player_0_return": [],  # mean over each update's matches
        # Per update, over decisions: mean square of the advantage, and of the
        # return (what a baseline would shrink to reduce the gradient's variance).
        "advantage_ms": [],
        "return_ms": [],
    }
    seen = 0
    for update in range(config.updates + 1):
        if update % config.eval_every == 0 or update == config.updates:
            curve["episodes"].append(seen)
            curve["exploitability"].append(evaluate(policy.table()).exploitability)
            curve["average_exploitability"].append(
                evaluate(_table(average)).exploitability
            )
            for baseline in baselines.values():
                for name, value in baseline.values().items():
                    curve[f"{name}_baseline"].append(value)
        if update == config.updates:
            break
        fraction = update / max(1, config.updates - 1)
        for group in optimizer.param_groups:  # linear decay damps the sampling noise
            group["lr"] = config.lr + fraction * (config.lr_final - config.lr)
        batch = collector.collect(policy, config.episodes_per_update)
        seen += batch.episodes
        curve["player_0_return"].append(_mean_return(batch, seat=0))
        # Both baselines are kept in every variant (to report them); only the
        # variant's own is subtracted.
        advantages = {by: b.advantages(batch) for by, b in baselines.items()}
        advantages["none"] = batch.returns
        curve["advantage_ms"].append(float((advantages[variant] ** 2).mean()))
        curve["return_ms"].append(float((batch.returns**2).mean()))
        log_probs = torch.log_softmax(policy(batch.states, batch.masks), dim=-1)
        chosen = log_probs.gather(1, batch.actions[:, None]).squeeze(1)
        # Sum over decisions, mean over hands: the gradient of the expected return
        # per hand, so that the step size does not grow with the match length.
        hands = batch.episodes * config.num_hands
        objective = (advantages[variant] * chosen).sum() / hands
        loss = -(objective + config.entropy * policy.entropy())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        # The iterates jitter around the equilibrium with the sampling noise; their
        # moving average sits closer to it.
        current = torch.softmax(policy.logits.detach(), dim=-1)
        average = config.average_decay * average + (1 - config.average_decay) * current
    return curve


def _mean_return(batch: Batch, seat: int) -> float:
    """Mean final return of ``seat`` over the batch's episodes."""
    first = torch.ones_like(batch.episode_ids, dtype=torch.bool)
    first[1:] = batch.episode_ids[1:] != batch.episode_ids[:-1]
    # Each episode's first decision is seat 0's (it opens hand 1): its return is
    # seat 0's; seat 1's is its negative (zero-sum).
    returns = batch.returns[first & (batch.players == 0)]
    return float(returns.mean()) * (1 if seat == 0 else -1)


def _table(probabilities: torch.Tensor) -> dict[str, list[float]]:
    return {key: probabilities[i].tolist() for i, key in enumerate(INFO_STATES)}


Curves = dict[str, list[dict[str, list[float]]]]  # variant -> one curve per seed


def plot(curves: Curves, num_hands: int, path: Path) -> None:
    """Moving-average exploitability against hands played: one colour per variant,
    a faint line per seed and a bold line for the mean over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    figure, axis = plt.subplots(figsize=(7, 4.5))
    colors = ("tab:blue", "tab:orange", "tab:green")
    for (variant, runs), color in zip(curves.items(), colors, strict=False):
        for run in runs:
            hands = [episodes * num_hands for episodes in run["episodes"]]
            axis.plot(hands, run["average_exploitability"], color=color, alpha=0.3)
        mean = np.mean([run["average_exploitability"] for run in runs], axis=0)
        hands = [episodes * num_hands for episodes in runs[0]["episodes"]]
        axis.plot(
            hands,
            mean,
            color=color,
            linewidth=2,
            label=f"{VARIANTS[variant]}, mean of {len(runs)} seed(s)",
        )
    axis.axhline(0.05, color="grey", linestyle="--", linewidth=0.8)
    axis.set_yscale("log")
    # Plain numbers on the log axis (0.05, not 5 x 10^-2).
    axis.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.2f"))
    axis.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%.2f"))
    axis.set_xlabel("hands played in self-play")
    axis.set_ylabel("exploitability per hand (NashConv / 2)")
    axis.set_title(
        f"Kuhn poker, {num_hands}-hand matches, self-play REINFORCE:\n"
        "moving average of the policy (faint: one seed each)"
    )
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> Curves:
    """Run the three variants on each seed, print the results, save the plot and the
    numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run for CI")
    parser.add_argument(
        "--num-hands",
        type=int,
        default=5,
        help="hands per match; each seat alternates opener and responder (default 5)",
    )
    parser.add_argument(
        "--seeds", type=int, default=None, help="seeds 0..n-1 (default 3; 1 --quick)"
    )
    parser.add_argument("--out", type=Path, default=Path("kuhn_rae_selfplay"))
    args = parser.parse_args(argv)
    config = Config(num_hands=args.num_hands)
    if args.quick:
        config = dataclasses.replace(
            config, updates=60, hands_per_update=128, num_envs=64
        )
    seeds = args.seeds or (1 if args.quick else 3)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    # player_0 opens hands 1, 3, ...: at Nash it plays one more hand as the opener
    # (value -1/18 a hand) than as the responder when the match has an odd length.
    nash = -(config.num_hands % 2) / 18
    print(
        f"{config.num_hands}-hand Kuhn matches, {seeds} seed(s); player_0's Nash "
        f"value {nash:+.3f} chips a match; baseline decay {config.baseline_decay}"
    )
    curves: Curves = {variant: [] for variant in VARIANTS}
    for seed in range(seeds):
        for variant, name in VARIANTS.items():
            start = time.perf_counter()
            curve = train(dataclasses.replace(config, seed=seed), variant)
            curves[variant].append(curve)
            seconds = time.perf_counter() - start
            tail = curve["player_0_return"][-max(1, config.updates // 5) :]
            ratio = sum(curve["advantage_ms"]) / sum(curve["return_ms"])
            print(
                f"seed {seed}, {name}: exploitability "
                f"{curve['exploitability'][0]:.3f} -> {curve['exploitability'][-1]:.4f}"
                f" (moving average {curve['average_exploitability'][-1]:.4f}) after "
                f"{curve['episodes'][-1] * config.num_hands} hands, {seconds:.0f} s; "
                f"mean square advantage / return {ratio:.4f}"
            )
            print(
                "  final baselines: player_0 "
                f"{curve['player_0_baseline'][-1]:+.3f}, player_1 "
                f"{curve['player_1_baseline'][-1]:+.3f}; opener "
                f"{curve['opener_baseline'][-1]:+.3f}, responder "
                f"{curve['responder_baseline'][-1]:+.3f}; player_0's mean return "
                f"over the last {len(tail)} updates {sum(tail) / len(tail):+.3f}"
            )
    print("moving-average exploitability at the end, over seeds:")
    for variant, runs in curves.items():
        final = [run["average_exploitability"][-1] for run in runs]
        print(
            f"  {VARIANTS[variant]}: mean {np.mean(final):.4f}, "
            f"range {min(final):.4f}-{max(final):.4f}"
        )
    plot(curves, config.num_hands, args.out / "exploitability.png")
    (args.out / "curves.json").write_text(json.dumps(curves, indent=1))
    print(f"plot: {args.out / 'exploitability.png'}")
    return curves


if __name__ == "__main__":
    main()
