"""The README's main command (`make bench`): local hosts up, both modes deployed and
benched in turn, the report written, and the hosts destroyed whatever happened."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from runner.plan import PlanOptions, build_plan
from runner.runs import FAILURES, run_plan

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / "infra" / "local"


@dataclass
class Stack:
    """Which local stack the main job makes: the defaults (prefix abw, 198.18.0.0/24,
    Terraform's state in infra/local, inventory/local.yml), or one of its own, with
    everything (state, keys, inventory) in `folder`, so a test can run the main job
    without touching the default stack."""

    prefix: str = ""
    subnet: str = ""
    folder: Path | None = None

    @property
    def inventory(self) -> Path:
        """Where Terraform writes this stack's inventory."""
        return self.folder / "inventory.yml" if self.folder else ROOT / "inventory" / "local.yml"

    def env(self) -> dict[str, str]:
        """Terraform's environment (its own data folder for a stack of its own)."""
        env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
        if self.folder:
            env["TF_DATA_DIR"] = str(self.folder / "tfdata")
        return env

    def args(self, command: str) -> list[str]:
        """-state and -var flags for apply and destroy (none for the default stack)."""
        if command not in ("apply", "destroy"):
            return []
        out: list[str] = []
        if self.folder:
            out += [f"-state={self.folder / 'terraform.tfstate'}"]
            out += ["-var", f"state_dir={self.folder / 'state'}"]
            out += ["-var", f"inventory_path={self.inventory}"]
        if self.prefix:
            out += ["-var", f"name_prefix={self.prefix}"]
        if self.subnet:
            out += ["-var", f"subnet_cidr={self.subnet}"]
        return out


def terraform(*args: str, timeout: int = 600, stack: Stack | None = None) -> None:
    """Run terraform in infra/local; raise CalledProcessError on failure."""
    stack = stack or Stack()
    env = stack.env()
    subprocess.run(
        ["terraform", f"-chdir={LOCAL}", *args, *stack.args(args[0]), "-input=false", "-no-color"],
        check=True,
        timeout=timeout,
        stdout=sys.stderr,
        env=env,
    )


def _sigterm_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--preset", default="", help="runner preset (default, original, smoke)")
    parser.add_argument("--scenario", default="", help="comma list of users, io, plain")
    parser.add_argument("--concurrency", default="")
    parser.add_argument("--requests", default="")
    parser.add_argument("--repeat", type=int, default=0)
    parser.add_argument("--results", default=str(ROOT / "results"))
    parser.add_argument("--keep-hosts", action="store_true", help="do not destroy (debugging)")
    parser.add_argument("--name-prefix", default="", help="hosts' name prefix (default abw)")
    parser.add_argument("--subnet", default="", help="hosts' subnet (default 198.18.0.0/24)")
    parser.add_argument(
        "--stack-dir",
        default="",
        help="a private folder (mode 0700) for this stack's Terraform state, keys and "
        "inventory (default: infra/local's own state and inventory/local.yml)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Apply, compare, report, destroy; the exit code says whether everything ran."""
    args = _parser().parse_args(argv)
    stack = Stack(args.name_prefix, args.subnet, Path(args.stack_dir) if args.stack_dir else None)
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        plan = build_plan(
            PlanOptions(
                scenario=args.scenario,
                concurrency=args.concurrency,
                requests=args.requests,
                repeat=args.repeat,
                preset=args.preset,
                modes="asgi,wsgi",
                inventory=str(stack.inventory),
                results=args.results,
            )
        )
    except FAILURES as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        return 2
    code = 0
    try:
        terraform("init", "-upgrade=false", stack=stack)
        terraform("apply", "-auto-approve", stack=stack)
        run_dir = run_plan(plan)
        print(f"\nreport: {run_dir / 'report.md'}")
    except KeyboardInterrupt:
        print("make bench: interrupted; completed samples are kept", file=sys.stderr)
        code = 130
    except (*FAILURES, subprocess.SubprocessError) as exc:
        print(f"make bench: {exc}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # teardown must not be interrupted
        if not args.keep_hosts:
            code = _teardown(stack) or code
    return code


def _teardown(stack: Stack) -> int:
    """terraform destroy, then always the by-name sweep of this stack's prefix (a backstop
    for whatever an interrupted run left); 0 when the hosts are gone."""
    destroyed = True
    try:
        terraform("destroy", "-auto-approve", stack=stack)
    except (subprocess.SubprocessError, OSError) as exc:
        destroyed = False
        print(
            f"make bench: terraform destroy failed ({exc}); sweeping hosts by name", file=sys.stderr
        )
    sweep = subprocess.run(
        [str(LOCAL / "scripts" / "clean-hosts.sh"), stack.prefix or "abw"],
        check=False,
        env=os.environ.copy(),
        stdout=sys.stderr,
    )
    return 0 if sweep.returncode == 0 and destroyed else 1


if __name__ == "__main__":
    sys.exit(main())
