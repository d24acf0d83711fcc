"""``python -m selfplay_envs.test [ENV_ID ...]``: the conformance suite on each game.

Every registered game by default, those of installed packages (the
``selfplay_envs.games`` entry points) included, in each view it has (numeric only
with a finite action set), with its default config, its ``conformance_configs`` and every preset.
A game that cannot be built here is reported and skipped. Exits 1 when a check
fails.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

import selfplay_envs
from selfplay_envs.test.conformance import (
    check_env,
    conformance_configs,
    unavailable_reason,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``check_env`` on each env id; print one line per case."""
    parser = argparse.ArgumentParser(
        prog="python -m selfplay_envs.test", description=__doc__.split("\n")[0]
    )
    parser.add_argument("env_ids", nargs="*", help="default: every registered game")
    args = parser.parse_args(argv)
    failed = 0
    for env_id in args.env_ids or selfplay_envs.list_envs():
        reason = unavailable_reason(env_id)
        if reason:
            print(f"skip {env_id}: {reason}")
            continue
        game = selfplay_envs.make_game(env_id)
        for n, config in enumerate(conformance_configs(game)):
            info = selfplay_envs.make_game(env_id, **config).info
            views = ("text",) if info.num_actions is None else ("text", "numeric")
            for view in views:
                case = f"{env_id} {view}" + (f" config {config}" if n else "")
                try:
                    check_env(env_id, view=view, **config)
                except Exception:  # noqa: BLE001 - report every failing case
                    failed += 1
                    print(f"FAIL {case}")
                    traceback.print_exc()
                else:
                    print(f"ok {case}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
