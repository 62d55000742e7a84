"""How long a mode switch inside a comparison takes (goal: <= 3 s).

On hosts deployed side by side (`ansible-playbook playbooks/deploy.yml -e mode=asgi
-e side_by_side=true`), switches the mode N times with runner.modeswitch (SIGSTOP /
SIGCONT on the app host, then a health check from the load generator that must answer
in the new mode) and prints each switch's seconds and their min / median / max. Not a
test: it asserts nothing.

    .venv/bin/python -m benchmarks.switchtime --inventory inventory/local.yml --switches 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

from runner.inventory import InventoryError, load_inventory
from runner.modeswitch import ModeSwitchError, switch_mode
from runner.remote import RemoteError, connect


def main(argv: list[str] | None = None) -> int:
    """Entry point: N switches, alternating, then back to asgi."""
    parser = argparse.ArgumentParser(prog="benchmarks.switchtime", description=__doc__)
    parser.add_argument("--inventory", default="inventory/local.yml")
    parser.add_argument("--switches", type=int, default=10)
    args = parser.parse_args(argv)
    if args.switches < 1:
        parser.error("--switches must be at least 1")
    try:
        inventory = load_inventory(args.inventory)
        app, lg = connect(inventory.app), connect(inventory.loadgens[0])
    except (InventoryError, RemoteError) as exc:
        print(f"switchtime: {exc}", file=sys.stderr)
        return 2
    seconds = []
    try:
        for i in range(args.switches):
            mode = "wsgi" if i % 2 == 0 else "asgi"
            switched = switch_mode(app, lg, mode)
            seconds.append(switched.seconds)
            print(f"switch {i + 1}: to {mode} in {switched.seconds:.3f} s", flush=True)
        switch_mode(app, lg, "asgi")
    except (ModeSwitchError, RemoteError) as exc:
        print(f"switchtime: {exc}", file=sys.stderr)
        return 2
    finally:
        app.close()
        lg.close()
    figure = {
        "switches": len(seconds),
        "min_s": round(min(seconds), 3),
        "median_s": round(statistics.median(seconds), 3),
        "max_s": round(max(seconds), 3),
        "goal": "<= 3 s",
    }
    print(json.dumps(figure))
    return 0


if __name__ == "__main__":
    sys.exit(main())
